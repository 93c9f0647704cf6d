// Lowering: from a schedule state to the loop-nest IR that the printer shows and codegen compiles.
#pragma once

#include <cstdint>
#include <string>

#include "rctune/ir/stmt.h"
#include "rctune/schedule/state.h"

namespace rctune::schedule {

// Builds the loop nest of a scheduled workload:
//  - each stage's leaf loops in order, with their kinds and bindings; root axes are rebuilt from
//    the leaves through the split and fuse relations; a split whose factors do not divide guards
//    the body;
//  - stages attached with compute_at / reverse_compute_at are placed inside the chosen loop, over
//    the region inferred from the consumer's (producer's) accesses, with their buffer shrunk to
//    that region (Allocate at the attach point, indices rebased);
//  - inlined stages are substituted into their consumers;
//  - reductions get their initialisation before the outermost reduction loop or where
//    decompose_reduction put it;
//  - reads that may leave the shape of the buffer they read (padding) become
//    Select(in_bounds, load, 0); a stage without a reduction placed with compute_at (a cache_read
//    copy) covers its readers' whole region, writing 0 outside its tensor's shape, so reads of it
//    inside that region need no Select.
// Throws ScheduleError when the state cannot be lowered (for example an attach loop that no longer
// exists).
ir::LoweredFunc lower(const State& state);

// Structural hash of the lowered program: equal programs reached by different traces hash equal.
uint64_t structural_hash(const State& state);
// The same hash of an already lowered program.
uint64_t structural_hash(ir::LoweredFunc lowered);

}  // namespace rctune::schedule
