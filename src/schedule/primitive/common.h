// Helpers shared by the primitive implementations (internal to the schedule module).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rctune/ir/text.h"
#include "rctune/schedule/primitives.h"
#include "rctune/schedule/state.h"

namespace rctune::schedule::detail {

// join(items, sep = ", "): rctune/ir/text.h.
using ir::join;
// A bind level as the schedule language writes it: ir::bind_level_name, and "none" for None.
const char* level_text(ir::BindLevel b);

// Looks things up or throws PrimitiveError(call, reason).
const StageSchedule& get_stage(const State& s, const std::string& call, const std::string& stage);
const ir::Stage& get_ir_stage(const State& s, const std::string& call, const std::string& stage);
int get_loop(const StageSchedule& st, const std::string& call, const std::string& loop);  // any loop
int get_leaf(const StageSchedule& st, const std::string& call, const std::string& loop);  // a leaf
// The leaf `loop` of a stage that is not inlined, to be annotated: refused when already annotated,
// and when it iterates over a reduction axis unless `spatial_only` is empty (the reason then
// reads "loop k iterates over a reduction axis; <spatial_only>").
int leaf_to_annotate(const StageSchedule& st, const std::string& call, const std::string& loop,
                     const std::string& spatial_only);

[[noreturn]] void fail(const std::string& call, const std::string& reason);

// The start of a primitive that changes one stage: its step, the step's text (the `call` its errors
// name) and the schedule of the stage its first argument names (get_stage: an error when none).
struct StageCall {
  Step step;
  std::string call;
  const StageSchedule& st;
};
StageCall begin_stage_call(const State& s, Step step);

// Root extents of a stage: axes then reduce axes.
std::vector<int64_t> root_extents(const ir::Stage& st);
int64_t extent_of(const State& s, const StageSchedule& st, int loop);

// Stages placed (compute_at / reverse_compute_at) at a loop of `stage` (or at any loop when loop
// is empty).
std::vector<std::string> attached_at(const State& s, const std::string& stage, const std::string& loop);

// Describes annotations of a loop for messages: "parallel", "vectorized", "bound to team", ...
std::string annotation_text(const LoopVar& l);
bool annotated(const LoopVar& l);

// Checks a stage's placement (attach point exists, readers inside, no cycle); empty when fine.
std::string check_attach(const State& s, const StageSchedule& st);

// compute_at (kind At) / reverse_compute_at (kind ReverseAt): places `stage` at `loop` of `target`.
State place_stage(const State& s, const std::string& stage, const std::string& target,
                  const std::string& loop, Attach::Kind kind);

// Checks the whole state's invariants and appends the step; a violation is reported as the
// primitive's error, the call being the step's text.
State finish(const State& s, const Step& step);

// finish() of a step that marks loop `loop` of stage `st` parallel, vectorized or unrolled.
State finish_loop_kind(const State& s, const StageSchedule& st, int loop, ir::ForKind kind, const Step& step);

// finish() of a step that splits `stage` in two (cache_write, rfactor): a new stage `inserted`,
// computing the new tensor `tensor` in scope `inserted_scope`, goes before the stage (and its tensor
// before the stage's), and the stage becomes `replacement`, in scope `replacement_scope`. Both get
// default schedules.
State finish_stage_split(const State& s, const std::string& stage, const ir::Tensor& tensor,
                         const ir::Stage& inserted, ir::MemScope inserted_scope, const ir::Stage& replacement,
                         ir::MemScope replacement_scope, const Step& step);

}  // namespace rctune::schedule::detail
