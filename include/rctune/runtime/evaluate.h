// One candidate, end to end: workload + schedule text -> scheduled state -> loop nest -> Kokkos
// source -> compiled, checked against the reference, timed. Shared by the command line, the
// benchmarks and the search (rctune/search/runtime_evaluator.h).
#pragma once

#include <memory>
#include <string>

#include "rctune/codegen/kokkos.h"
#include "rctune/ir/stmt.h"
#include "rctune/runtime/measure.h"
#include "rctune/schedule/state.h"

namespace rctune::runtime {

struct Candidate {
  std::shared_ptr<const ir::Workload> workload;  // as defined, before any schedule step
  schedule::State state;
  ir::LoweredFunc lowered;
  codegen::KernelSource kernel;
};

// Applies the trace text to the unscheduled workload and lowers it. Throws ScheduleError (bad
// trace step) with the step number and the reason.
Candidate build_candidate(const ir::Workload& w, const std::string& trace_text,
                          const codegen::Target& target = {});

// Compiles, checks and times a candidate. Never throws for a kernel's own failures: they come
// back as the measurement's status.
Measurement evaluate(Measurer& m, const Candidate& c, const MeasureOptions& opts = {});

}  // namespace rctune::runtime
