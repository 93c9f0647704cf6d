// Schedule primitives. Each takes a state and returns a new one (the argument is never changed),
// checks that the transformation is legal and throws PrimitiveError (a ScheduleError) saying what
// and why when it is not, and appends its step (rctune/schedule/step.h) to the trace, whose text
// form is e.g. "split(C, i, [None, 8])". The text language and the rules are documented in
// docs/schedule-language.md; rctune/schedule/trace.h parses and replays it.
//
// Naming: stages are named after the tensor they compute. split(S, x, [f0, f1, ..., fn]) creates the
// loops "x.0" (outermost) ... "x.n"; fuse(S, a, b, ...) creates "a.b..." (the names joined by '.',
// e.g. "i.0.j.0"). cache_write(S, local) creates the stage "S.local", cache_read(T, shared, ...)
// the stage "T.shared"; cache_read stages have the loops "ax0", "ax1", ... (one per dimension).
//
// Stages attached (compute_at / reverse_compute_at) at a loop that is later split move to the
// innermost new loop, and to the fused loop when their loop is the innermost one fused (the region
// computed per iteration stays the same); fusing a loop that is not the innermost fused one while
// a stage is attached at it is an error. decompose_reduction's loop follows the outermost new loop
// of a split and the fused loop when it is the outermost one fused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rctune/ir/stmt.h"
#include "rctune/schedule/error.h"
#include "rctune/schedule/state.h"

namespace rctune::schedule {

// The error a primitive throws: what() is "<call>: <reason>", e.g.
// "vectorize(C, k): loop k iterates over a reduction axis; only spatial loops can be vectorized".
class PrimitiveError : public ScheduleError {
 public:
  PrimitiveError(std::string call, std::string reason)
      : ScheduleError(call + ": " + reason), call_(std::move(call)), reason_(std::move(reason)) {}
  const std::string& call() const { return call_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string call_;
  std::string reason_;
};

// unroll refuses loops of root-placed stages with more iterations than this.
inline constexpr int64_t kMaxUnrollExtent = 64;

State split(const State& s, const std::string& stage, const std::string& loop,
            const std::vector<int64_t>& factors);
State reorder(const State& s, const std::string& stage, const std::vector<std::string>& loops);
State fuse(const State& s, const std::string& stage, const std::vector<std::string>& loops);
State parallel(const State& s, const std::string& stage, const std::string& loop);
State vectorize(const State& s, const std::string& stage, const std::string& loop);
State unroll(const State& s, const std::string& stage, const std::string& loop);
// level: League, Team or Vector.
State bind(const State& s, const std::string& stage, const std::string& loop, ir::BindLevel level);
// scope: Local, Shared or Heap. Creates stage "<stage>.<scope>".
State cache_write(const State& s, const std::string& stage, ir::MemScope scope);
// scope: Local, Shared or Heap. Creates stage "<tensor>.<scope>"; readers empty means every stage
// that reads the tensor.
State cache_read(const State& s, const std::string& tensor, ir::MemScope scope,
                 const std::vector<std::string>& readers);
State compute_at(const State& s, const std::string& stage, const std::string& consumer,
                 const std::string& loop);
State reverse_compute_at(const State& s, const std::string& stage, const std::string& producer,
                         const std::string& loop);
State compute_inline(const State& s, const std::string& stage);
State decompose_reduction(const State& s, const std::string& stage, const std::string& loop);
// Factors the part of the reduction that `loop` (a leaf split from one reduction axis) iterates over
// into a new spatial axis of a new stage "<stage>.rf" (scope local), computing partial reductions;
// the stage then reduces over that axis only: S[i] op= S.rf[i, l]. The new axis and the other loops
// split from the same reduction axis become index variables of S.rf named like the loops with '.'
// replaced by '_' (j.1 -> j_1, j.0 -> j_0).
State rfactor(const State& s, const std::string& stage, const std::string& loop);
// The index-variable name rfactor gives a loop: '.' replaced by '_'.
std::string rfactor_axis_name(const std::string& loop);

// Loop names created by split and fuse.
std::string split_loop_name(const std::string& parent, int index);
std::string fused_loop_name(const std::vector<std::string>& parents);

// Names used in the text form: "local", "shared", "heap", "global"; "league", "team", "vector".
// parse_* throw ScheduleError for an unknown name.
ir::MemScope parse_mem_scope(const std::string& name);
ir::BindLevel parse_bind_level(const std::string& name);

// Stages whose body reads `tensor` directly, in workload order.
std::vector<std::string> readers_of(const ir::Workload& w, const std::string& tensor);

// The loops that enclose a stage's own loop nest from outside, outermost first, following
// compute_at / reverse_compute_at placements: pairs (stage, loop name). Empty for root stages.
struct EnclosingLoop {
  std::string stage;
  std::string loop;
};
std::vector<EnclosingLoop> enclosing_loops(const State& s, const std::string& stage);

// Checks the invariants every state reachable through the primitives keeps (placements refer to
// existing leaf loops of readers, parallel/bind/vectorize nesting rules). Returns an empty string
// when valid, else the first violation.
std::string check_state(const State& s);

}  // namespace rctune::schedule
