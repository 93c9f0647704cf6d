// Helpers for the lowering and primitive tests: schedules edited by hand (independent of the
// primitives), a numerical check of a lowered state against the workload's reference evaluation,
// and the check every positive primitive test makes that a state's trace replays to it.
#pragma once

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rctune/ir/interpreter.h"
#include "rctune/ir/parser.h"
#include "rctune/ir/stmt.h"
#include "rctune/schedule/lower.h"
#include "rctune/schedule/primitives.h"
#include "rctune/schedule/state.h"
#include "rctune/schedule/trace.h"
#include "workloads.h"

namespace rctune::schedule::lowertest {

using testing::matmul;
using testing::parse;

// The shared schedule-test workloads (workloads.h), at the smaller sizes the interpreter runs fast.
inline std::shared_ptr<const ir::Workload> batch_matmul() { return testing::batch_matmul(3, 8, 10, 6); }
inline std::shared_ptr<const ir::Workload> conv2d() { return testing::conv2d(3, 17, 4); }
inline std::shared_ptr<const ir::Workload> softmax() { return testing::softmax(6, 10); }
inline std::shared_ptr<const ir::Workload> dense_gelu() { return testing::dense_gelu(12, 9, 7); }

// The state reached by applying a trace (the primitives) to the unscheduled workload.
inline State scheduled(const std::shared_ptr<const ir::Workload>& w, const std::string& trace) {
  return apply_trace(State(w), trace);
}

inline int loop_index(const StageSchedule& s, const std::string& name) {
  int l = s.find_loop(name);
  EXPECT_GE(l, 0) << "no loop " << name;
  return l;
}

inline int leaf_pos(const StageSchedule& s, int loop) {
  for (size_t p = 0; p < s.leaves.size(); ++p)
    if (s.leaves[p] == loop) return static_cast<int>(p);
  return -1;
}

// split(loop, [None, f1, ...]): children loop.0 .. loop.n replace the loop in the leaf order.
inline void split(StageSchedule& s, const std::string& loop, const std::vector<int64_t>& inner) {
  int parent = loop_index(s, loop);
  Relation r;
  r.kind = Relation::Kind::Split;
  r.split.parent = parent;
  r.split.inner_factors = inner;
  std::vector<int> kids;
  for (size_t c = 0; c <= inner.size(); ++c) {
    LoopVar v = s.loops[static_cast<size_t>(parent)];
    v.name = loop + "." + std::to_string(c);
    v.kind = ir::ForKind::Serial;
    v.bind = ir::BindLevel::None;
    s.loops.push_back(v);
    kids.push_back(static_cast<int>(s.loops.size()) - 1);
  }
  r.split.children = kids;
  s.relations.push_back(r);
  int p = leaf_pos(s, parent);
  s.leaves.erase(s.leaves.begin() + p);
  s.leaves.insert(s.leaves.begin() + p, kids.begin(), kids.end());
}

// fuse(a, b, ...): adjacent leaves, outermost first; the child is named "a.b...".
inline void fuse(StageSchedule& s, const std::vector<std::string>& loops) {
  Relation r;
  r.kind = Relation::Kind::Fuse;
  LoopVar v;
  std::string name;
  for (const auto& l : loops) {
    int i = loop_index(s, l);
    r.fuse.parents.push_back(i);
    v.reduce = v.reduce || s.loops[static_cast<size_t>(i)].reduce;
    name += (name.empty() ? "" : ".") + l;
  }
  v.name = name;
  s.loops.push_back(v);
  r.fuse.child = static_cast<int>(s.loops.size()) - 1;
  s.relations.push_back(r);
  int p = leaf_pos(s, r.fuse.parents[0]);
  s.leaves.erase(s.leaves.begin() + p, s.leaves.begin() + p + static_cast<long>(loops.size()));
  s.leaves.insert(s.leaves.begin() + p, r.fuse.child);
}

// The complete new leaf order.
inline void reorder(StageSchedule& s, const std::vector<std::string>& order) {
  ASSERT_EQ(order.size(), s.leaves.size());
  std::vector<int> leaves;
  for (const auto& n : order) leaves.push_back(loop_index(s, n));
  s.leaves = leaves;
}

inline void set_kind(StageSchedule& s, const std::string& loop, ir::ForKind k) {
  s.loops[static_cast<size_t>(loop_index(s, loop))].kind = k;
}

inline StageSchedule stage_of(const State& st, const std::string& name) {
  const StageSchedule* s = st.stage(name);
  EXPECT_NE(s, nullptr) << "no stage " << name;
  return s ? *s : StageSchedule{};
}

// Interprets `f` and compares every output with evaluate_workload on `w`, its workload as defined,
// on the same random inputs (from `seed`); a failure's message ends with `context`.
inline ::testing::AssertionResult lowered_matches_reference(const ir::LoweredFunc& f, const ir::Workload& w,
                                                            unsigned seed, const std::string& context) {
  if (f.params.size() != w.tensors.size())
    return ::testing::AssertionFailure() << "params differ from the workload's tensors\n" << context;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<std::vector<double>> bufs;
  for (const auto& t : w.tensors) {
    std::vector<double> b(static_cast<size_t>(t.num_elements()));
    for (auto& x : b) x = dist(rng);
    bufs.push_back(b);
  }
  auto ref = bufs;
  try {
    ir::interpret(f, bufs);
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "interpreter: " << e.what() << "\n" << context;
  }
  ir::evaluate_workload(w, ref);
  for (size_t t = 0; t < w.tensors.size(); ++t) {
    if (w.role(w.tensors[t].name) != ir::TensorRole::Output) continue;
    for (size_t i = 0; i < ref[t].size(); ++i) {
      double a = bufs[t][i], b = ref[t][i];
      if (!(std::fabs(a - b) <= 1e-9 * (1.0 + std::fabs(b))))
        return ::testing::AssertionFailure()
               << w.tensors[t].name << "[" << i << "] = " << a << ", reference " << b << "\n"
               << context;
    }
  }
  return ::testing::AssertionSuccess();
}

// Lowers the state, interprets it and compares every output with evaluate_workload on the workload
// as defined, on the same random inputs.
inline ::testing::AssertionResult matches_reference(const State& st, unsigned seed = 1) {
  ir::LoweredFunc f;
  try {
    f = lower(st);
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "lower threw: " << e.what();
  }
  if (std::getenv("RCTUNE_LOWER_DUMP")) std::cout << ir::to_string(f) << "\n";
  auto original = st.original_workload_ptr() ? st.original_workload_ptr() : st.workload_ptr();
  return lowered_matches_reference(f, *original, seed, ir::to_string(f));
}

}  // namespace rctune::schedule::lowertest

namespace rctune::schedule {

// TVM's verify_trace_roundtrip: the state's trace, printed, parsed and replayed on the unscheduled
// workload, gives the same schedule (same_schedule) and the same lowered program (structural
// hash), and so does replay().
inline void expect_trace_roundtrip(const State& state) {
  const std::string text = to_text(state.trace());
  SCOPED_TRACE("trace:\n" + text);
  std::vector<ParsedStep> parsed;
  ASSERT_NO_THROW(parsed = parse_trace(text));
  EXPECT_EQ(parsed.size(), state.trace().size());
  EXPECT_EQ(to_text(parsed), text);
  auto unscheduled = state.original_workload_ptr() ? state.original_workload_ptr() : state.workload_ptr();
  State replayed;
  ASSERT_NO_THROW(replayed = apply_trace(State(unscheduled), text));
  EXPECT_TRUE(same_schedule(replayed, state));
  EXPECT_EQ(structural_hash(replayed), structural_hash(state));
  EXPECT_TRUE(same_schedule(replay(state), state));
}

// The state's last step prints as `step`, and its whole trace round-trips.
inline void expect_last_step(const State& state, const std::string& step) {
  ASSERT_FALSE(state.trace().empty());
  EXPECT_EQ(to_text(state.trace().back()), step);
  expect_trace_roundtrip(state);
}

// `w` holds `name` as an intermediate tensor (one a primitive added) of shape `shape`.
inline void expect_intermediate_tensor(const ir::Workload& w, const std::string& name,
                                       const std::vector<int64_t>& shape) {
  ASSERT_NE(w.find_tensor(name), nullptr) << name;
  EXPECT_EQ(w.find_tensor(name)->shape, shape) << name;
  EXPECT_EQ(w.role(name), ir::TensorRole::Intermediate) << name;
}

// The state is one a schedule can reach (check_state), and its trace round-trips.
inline void expect_valid_schedule(const State& state) {
  EXPECT_EQ(check_state(state), "");
  expect_trace_roundtrip(state);
}

}  // namespace rctune::schedule
