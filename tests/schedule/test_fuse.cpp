#include "lower_test_util.h"
#include "workloads.h"

namespace rctune::schedule {
namespace {

using testing::loop_of;
using testing::matmul;
using testing::run_trace;

TEST(Fuse, JoinsNamesWithDots) {
  State s = run_trace(matmul(),
                      "split(C, i, [None, 8])\nsplit(C, j, [None, 8])\nreorder(C, i.0, j.0, i.1, j.1)\n"
                      "fuse(C, i.0, j.0)\n");
  EXPECT_EQ(s.stage("C")->leaf_names(), (std::vector<std::string>{"i.0.j.0", "i.1", "j.1", "k"}));
  EXPECT_EQ(s.loop_extent("C", "i.0.j.0"), 48);
  expect_last_step(s, "fuse(C, i.0, j.0)");
}

TEST(Fuse, ThreeLoopsOfBatchMatmul) {
  State s = fuse(State(testing::batch_matmul()), "C", {"b", "i", "j"});
  EXPECT_EQ(s.stage("C")->leaf_names(), (std::vector<std::string>{"b.i.j", "k"}));
  EXPECT_EQ(s.loop_extent("C", "b.i.j"), 4 * 32 * 40);
  expect_trace_roundtrip(s);
}

TEST(Fuse, ReductionLoops) {
  State s = fuse(State(testing::conv2d()), "Y", {"r", "s"});
  EXPECT_TRUE(loop_of(s, "Y", "r.s").reduce);
  expect_trace_roundtrip(s);
}

TEST(Fuse, RejectsNonAdjacentLoops) {
  EXPECT_SCHEDULE_ERROR("must be adjacent", fuse(State(testing::batch_matmul()), "C", {"b", "j"}));
}

TEST(Fuse, RejectsWrongOrder) {
  EXPECT_SCHEDULE_ERROR("outermost first", fuse(State(matmul()), "C", {"j", "i"}));
}

TEST(Fuse, RejectsSpatialWithReduction) {
  EXPECT_SCHEDULE_ERROR("spatial loops with spatial loops", fuse(State(matmul()), "C", {"j", "k"}));
}

TEST(Fuse, RejectsSingleLoopAndAnnotatedLoops) {
  EXPECT_SCHEDULE_ERROR("at least two", fuse(State(matmul()), "C", {"i"}));
  EXPECT_SCHEDULE_ERROR("loop i is parallel", fuse(parallel(State(matmul()), "C", "i"), "C", {"i", "j"}));
}

TEST(Fuse, MovesStagePlacedAtInnermostLoop) {
  State s = run_trace(matmul(), "cache_write(C, local)\ncompute_at(C.local, C, j)\nfuse(C, i, j)\n");
  EXPECT_EQ(s.stage("C.local")->attach.loop, "i.j");
  expect_trace_roundtrip(s);
}

TEST(Fuse, RejectsStagePlacedAtOuterLoop) {
  State s = run_trace(matmul(), "cache_write(C, local)\ncompute_at(C.local, C, i)\n");
  EXPECT_SCHEDULE_ERROR("not the innermost loop fused", fuse(s, "C", {"i", "j"}));
}

}  // namespace
}  // namespace rctune::schedule
