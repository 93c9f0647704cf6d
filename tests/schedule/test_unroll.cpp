#include "lower_test_util.h"
#include "workloads.h"

namespace rctune::schedule {
namespace {

using testing::loop_of;
using testing::matmul;
using testing::run_trace;

TEST(Unroll, SmallLoop) {
  State s = run_trace(matmul(), "split(C, i, [None, 4])\nunroll(C, i.1)\n");
  EXPECT_EQ(loop_of(s, "C", "i.1").kind, ir::ForKind::Unrolled);
  expect_last_step(s, "unroll(C, i.1)");
}

TEST(Unroll, ReductionLoopIsAllowed) {
  State s = unroll(State(testing::conv2d()), "Y", "r");
  EXPECT_EQ(s.trace().size(), 1u);
  expect_trace_roundtrip(s);
}

TEST(Unroll, LoopOfPlacedStageIsNotLimitedByFullExtent) {
  State s = run_trace(matmul(128, 128, 32),
                      "cache_write(C, local)\nsplit(C, i, [None, 8])\ncompute_at(C.local, C, i.0)\n"
                      "unroll(C.local, i)\n");
  expect_valid_schedule(s);
}

TEST(Unroll, RejectsLongLoopOfRootStage) {
  EXPECT_SCHEDULE_ERROR("has 128 iterations", unroll(State(matmul(128, 48, 32)), "C", "i"));
}

TEST(Unroll, RejectsAnnotatedLoop) {
  State s = parallel(State(matmul()), "C", "i");
  EXPECT_SCHEDULE_ERROR("already parallel", unroll(s, "C", "i"));
}

TEST(Unroll, RejectsReplacedLoop) {
  State s = split(State(matmul()), "C", "k", {kInferredFactor, 4});
  EXPECT_SCHEDULE_ERROR("no longer exists", unroll(s, "C", "k"));
}

}  // namespace
}  // namespace rctune::schedule
