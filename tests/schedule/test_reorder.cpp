#include "lower_test_util.h"
#include "workloads.h"

namespace rctune::schedule {
namespace {

using testing::matmul;
using testing::run_trace;

TEST(Reorder, NamedLoopsTakeTheirPositionsInGivenOrder) {
  State s = reorder(State(matmul()), "C", {"k", "i"});
  EXPECT_EQ(s.stage("C")->leaf_names(), (std::vector<std::string>{"k", "j", "i"}));
  expect_last_step(s, "reorder(C, k, i)");
}

TEST(Reorder, FullTileOrder) {
  State s = run_trace(matmul(),
                      "split(C, i, [None, 8])\nsplit(C, j, [None, 8])\nreorder(C, i.0, j.0, k, i.1, j.1)\n");
  EXPECT_EQ(s.stage("C")->leaf_names(), (std::vector<std::string>{"i.0", "j.0", "k", "i.1", "j.1"}));
  expect_trace_roundtrip(s);
}

TEST(Reorder, ConvolutionLoops) {
  State s = reorder(State(testing::conv2d()), "Y", {"c", "r", "s", "w"});
  EXPECT_EQ(s.stage("Y")->leaf_names(), (std::vector<std::string>{"n", "k", "h", "c", "r", "s", "w"}));
  expect_trace_roundtrip(s);
}

TEST(Reorder, RejectsRepeatedLoop) {
  EXPECT_SCHEDULE_ERROR("named twice", reorder(State(matmul()), "C", {"i", "i"}));
}

TEST(Reorder, RejectsUnknownOrReplacedLoop) {
  State s = split(State(matmul()), "C", "i", {kInferredFactor, 8});
  EXPECT_SCHEDULE_ERROR("no longer exists", reorder(s, "C", {"j", "i"}));
  EXPECT_SCHEDULE_ERROR("no loop named 'q'", reorder(s, "C", {"j", "q"}));
}

TEST(Reorder, RejectsMovingVectorizedLoopOutward) {
  State s = vectorize(reorder(State(matmul()), "C", {"k", "j"}), "C", "j");
  EXPECT_EQ(s.stage("C")->leaf_names(), (std::vector<std::string>{"i", "k", "j"}));
  EXPECT_SCHEDULE_ERROR("vectorized but is not the innermost loop", reorder(s, "C", {"j", "i"}));
}

TEST(Reorder, RejectsReductionLoopOutsideDecomposedInit) {
  State s = decompose_reduction(State(matmul()), "C", "j");
  EXPECT_SCHEDULE_ERROR("would move outside loop j", reorder(s, "C", {"k", "j"}));
}

TEST(Reorder, RejectsPlacementBecomingInvalid) {
  // C.local read by C is placed at j; B.local (read by C.local) placed at i: reordering j outside i would
  // compute C.local before its input.
  State s = run_trace(matmul(),
                      "cache_write(C, local)\ncache_read(B, local, C.local)\ncompute_at(C.local, C, j)\n"
                      "compute_at(B.local, C, i)\n");
  EXPECT_SCHEDULE_ERROR("outside loop i", reorder(s, "C", {"j", "i"}));
}

}  // namespace
}  // namespace rctune::schedule
