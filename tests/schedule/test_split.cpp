#include "lower_test_util.h"
#include "workloads.h"

namespace rctune::schedule {
namespace {

using testing::loop_of;
using testing::matmul;

TEST(Split, CreatesNamedLoopsInPlace) {
  State s = split(State(matmul()), "C", "j", {kInferredFactor, 8});
  EXPECT_EQ(s.stage("C")->leaf_names(), (std::vector<std::string>{"i", "j.0", "j.1", "k"}));
  EXPECT_EQ(s.loop_extent("C", "j.0"), 6);
  expect_last_step(s, "split(C, j, [None, 8])");
}

TEST(Split, SeveralFactors) {
  State s = split(State(matmul(64, 48, 32)), "C", "i", {kInferredFactor, 4, 2});
  EXPECT_EQ(s.stage("C")->leaf_names(), (std::vector<std::string>{"i.0", "i.1", "i.2", "j", "k"}));
  EXPECT_EQ(s.loop_extent("C", "i.0"), 8);
  expect_trace_roundtrip(s);
}

TEST(Split, ReductionLoopChildrenAreReductions) {
  State s = split(State(matmul()), "C", "k", {kInferredFactor, 4});
  EXPECT_TRUE(loop_of(s, "C", "k.0").reduce);
  EXPECT_TRUE(loop_of(s, "C", "k.1").reduce);
  expect_trace_roundtrip(s);
}

TEST(Split, ExplicitOuterFactorIsCanonicalisedToNone) {
  State s = split(State(matmul(64, 48, 32)), "C", "i", {8, 8});
  expect_last_step(s, "split(C, i, [None, 8])");
}

TEST(Split, NonDividingFactorIsAccepted) {
  State s = split(State(testing::conv2d()), "Y", "h", {kInferredFactor, 3});
  EXPECT_EQ(s.loop_extent("Y", "h.0"), 3);
  expect_trace_roundtrip(s);
}

TEST(Split, SplittingASplitLoopNamesNest) {
  State s = split(split(State(matmul()), "C", "i", {kInferredFactor, 16}), "C", "i.1", {kInferredFactor, 4});
  EXPECT_EQ(s.stage("C")->leaf_names(), (std::vector<std::string>{"i.0", "i.1.0", "i.1.1", "j", "k"}));
  expect_trace_roundtrip(s);
}

TEST(Split, RejectsLoopThatNoLongerExists) {
  State s = split(State(matmul()), "C", "i", {kInferredFactor, 8});
  EXPECT_SCHEDULE_ERROR("no longer exists (it was split into i.0, i.1)",
                        split(s, "C", "i", {kInferredFactor, 2}));
}

TEST(Split, RejectsUnknownStageAndLoop) {
  EXPECT_SCHEDULE_ERROR("no stage named 'D'", split(State(matmul()), "D", "i", {kInferredFactor, 2}));
  EXPECT_SCHEDULE_ERROR("input tensor", split(State(matmul()), "A", "i", {kInferredFactor, 2}));
  EXPECT_SCHEDULE_ERROR("has no loop named 'x'", split(State(matmul()), "C", "x", {kInferredFactor, 2}));
}

TEST(Split, RejectsBadFactors) {
  State s(matmul(64, 48, 32));
  EXPECT_SCHEDULE_ERROR("at least two factors", split(s, "C", "i", {8}));
  EXPECT_SCHEDULE_ERROR("not a positive integer", split(s, "C", "i", {kInferredFactor, 0}));
  EXPECT_SCHEDULE_ERROR("only the first", split(s, "C", "i", {4, kInferredFactor}));
  EXPECT_SCHEDULE_ERROR("only 64 iterations", split(s, "C", "i", {kInferredFactor, 128}));
  EXPECT_SCHEDULE_ERROR("write None as the first factor", split(s, "C", "i", {3, 8}));
}

TEST(Split, RejectsAnnotatedLoop) {
  State s = parallel(State(matmul()), "C", "i");
  EXPECT_SCHEDULE_ERROR("split(C, i, [None, 8]): loop i is parallel",
                        split(s, "C", "i", {kInferredFactor, 8}));
}

TEST(Split, MovesStagesPlacedAtTheLoopToItsInnermostPart) {
  State s = testing::run_trace(matmul(),
                               "cache_write(C, local)\ncompute_at(C.local, C, i)\nsplit(C, i, [None, 8])\n");
  EXPECT_EQ(s.stage("C.local")->attach.loop, "i.1");
  expect_trace_roundtrip(s);
}

TEST(Split, DecomposedInitFollowsOutermostPart) {
  State s = testing::run_trace(matmul(), "decompose_reduction(C, j)\nsplit(C, j, [None, 8])\n");
  EXPECT_EQ(s.stage("C")->init_before, "j.0");
  expect_trace_roundtrip(s);
}

}  // namespace
}  // namespace rctune::schedule
