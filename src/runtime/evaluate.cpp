#include "rctune/runtime/evaluate.h"

#include <memory>

#include "rctune/schedule/lower.h"
#include "rctune/schedule/trace.h"

namespace rctune::runtime {

ScheduledProgram build_program(const ir::Workload& w, const std::string& trace_text,
                               const codegen::Target& target) {
  ScheduledProgram c;
  c.workload = std::make_shared<const ir::Workload>(w);
  c.state = schedule::apply_trace(schedule::State(c.workload), trace_text);
  c.lowered = schedule::lower(c.state);
  c.kernel = codegen::generate_kernel(c.lowered, target);
  return c;
}

Measurement evaluate(Measurer& m, const ir::Workload& w, const ir::LoweredFunc& lowered,
                     const codegen::KernelSource& kernel, const MeasureOptions& opts) {
  // The kernel takes the workload's own tensors; buffers that scheduling created (cache stages)
  // live inside the kernel.
  bool same_params = lowered.params.size() == w.tensors.size();
  for (size_t i = 0; same_params && i < w.tensors.size(); ++i)
    same_params = lowered.params[i].name == w.tensors[i].name;
  if (!same_params) {
    Measurement bad;
    bad.status = Status::CompileError;
    bad.message = "internal error: the lowered kernel's parameters differ from the workload's tensors";
    return bad;
  }
  codegen::KernelSource ref = codegen::generate_reference(w);
  return measure_workload(m, w, kernel.code, ref.code, opts,
                          kernel.uses_kokkos ? SourceKind::Kokkos : SourceKind::Plain);
}

}  // namespace rctune::runtime
