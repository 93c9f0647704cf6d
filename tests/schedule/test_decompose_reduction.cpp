#include "lower_test_util.h"
#include "workloads.h"

namespace rctune::schedule {
namespace {

using testing::matmul;
using testing::run_trace;

TEST(DecomposeReduction, SetsInitBefore) {
  State s = run_trace(matmul(), "split(C, k, [None, 8])\nreorder(C, k.0, i)\ndecompose_reduction(C, k.0)\n");
  EXPECT_EQ(s.stage("C")->init_before, "k.0");
  expect_last_step(s, "decompose_reduction(C, k.0)");
}

TEST(DecomposeReduction, SpatialLoopAboveReduction) {
  State s = decompose_reduction(State(testing::conv2d()), "Y", "h");
  EXPECT_EQ(s.stage("Y")->init_before, "h");
  expect_trace_roundtrip(s);
}

TEST(DecomposeReduction, CacheWriteStage) {
  State s = run_trace(matmul(), "cache_write(C, local)\ndecompose_reduction(C.local, i)\n");
  EXPECT_EQ(s.stage("C.local")->init_before, "i");
  expect_trace_roundtrip(s);
}

TEST(DecomposeReduction, RejectsLoopInsideReduction) {
  State s = run_trace(matmul(), "split(C, k, [None, 8])\nreorder(C, k.0, i)\n");
  EXPECT_SCHEDULE_ERROR("is inside reduction loop k.0", decompose_reduction(s, "C", "k.1"));
  EXPECT_SCHEDULE_ERROR("is inside reduction loop k.0", decompose_reduction(s, "C", "j"));
}

TEST(DecomposeReduction, RejectsStageWithoutReduction) {
  EXPECT_SCHEDULE_ERROR("no reduction", decompose_reduction(State(testing::softmax()), "E", "i"));
}

TEST(DecomposeReduction, RejectsFusingInitLoopAsInner) {
  State s = decompose_reduction(State(matmul()), "C", "j");
  EXPECT_SCHEDULE_ERROR("not the outermost loop fused", fuse(s, "C", {"i", "j"}));
}

}  // namespace
}  // namespace rctune::schedule
