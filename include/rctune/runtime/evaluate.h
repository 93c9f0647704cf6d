// One scheduled program, end to end: workload + schedule text -> scheduled state -> loop nest ->
// Kokkos source -> compiled, checked against the reference, timed. The command line and the
// benchmarks build a ScheduledProgram from text; the search holds its own candidates
// (rctune/search/candidate.h) and calls evaluate() on their lowered program and generated source.
#pragma once

#include <memory>
#include <string>

#include "rctune/codegen/kokkos.h"
#include "rctune/ir/stmt.h"
#include "rctune/runtime/measure.h"
#include "rctune/schedule/state.h"

namespace rctune::runtime {

// What a schedule text builds: the scheduled state, its loop nest and its generated source.
struct ScheduledProgram {
  std::shared_ptr<const ir::Workload> workload;  // as defined, before any schedule step
  schedule::State state;
  ir::LoweredFunc lowered;
  codegen::KernelSource kernel;
};

// Applies the trace text to the unscheduled workload, lowers it and generates its source. Throws
// ScheduleError (bad trace step) with the step number and the reason.
ScheduledProgram build_program(const ir::Workload& w, const std::string& trace_text,
                               const codegen::Target& target = {});

// Compiles, checks and times the generated source `kernel` of `lowered`, a schedule of workload
// `w` (the unscheduled workload, whose tensors are the kernel's parameters). Never throws for a
// kernel's own failures: they come back as the measurement's status.
Measurement evaluate(Measurer& m, const ir::Workload& w, const ir::LoweredFunc& lowered,
                     const codegen::KernelSource& kernel, const MeasureOptions& opts = {});
inline Measurement evaluate(Measurer& m, const ScheduledProgram& p, const MeasureOptions& opts = {}) {
  return evaluate(m, *p.workload, p.lowered, p.kernel, opts);
}

}  // namespace rctune::runtime
