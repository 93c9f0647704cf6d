#include "lower_test_util.h"
#include "workloads.h"

namespace rctune::schedule {
namespace {

using testing::run_trace;

TEST(ComputeInline, ElementwiseIntermediate) {
  State s = compute_inline(State(testing::dense_gelu()), "D");
  EXPECT_EQ(s.stage("D")->attach.kind, Attach::Kind::Inline);
  expect_last_step(s, "compute_inline(D)");
}

TEST(ComputeInline, SoftmaxExp) {
  State s = compute_inline(State(testing::softmax()), "E");
  expect_valid_schedule(s);
}

TEST(ComputeInline, CacheReadStage) {
  State s = run_trace(testing::matmul(), "cache_read(A, local, C)\ncompute_inline(A.local)\n");
  EXPECT_EQ(s.stage("A.local")->attach.kind, Attach::Kind::Inline);
  expect_trace_roundtrip(s);
}

TEST(ComputeInline, RejectsOutput) {
  EXPECT_SCHEDULE_ERROR("Y is an output", compute_inline(State(testing::dense_gelu()), "Y"));
}

TEST(ComputeInline, RejectsReduction) {
  EXPECT_SCHEDULE_ERROR("has a reduction (max=)", compute_inline(State(testing::softmax()), "M"));
}

TEST(ComputeInline, RejectsTwice) {
  State s = compute_inline(State(testing::dense_gelu()), "D");
  EXPECT_SCHEDULE_ERROR("already inlined", compute_inline(s, "D"));
}

TEST(ComputeInline, RejectsScheduledOrPlacedStage) {
  State s = split(State(testing::dense_gelu()), "D", "i", {kInferredFactor, 4});
  EXPECT_SCHEDULE_ERROR("have been transformed", compute_inline(s, "D"));
  State t = run_trace(testing::dense_gelu(), "reverse_compute_at(D, C, i)\n");
  EXPECT_SCHEDULE_ERROR("an inlined stage has no placement", compute_inline(t, "D"));
}

TEST(ComputeInline, RejectsStageWithStagesPlacedInside) {
  State s = run_trace(testing::dense_gelu(), "compute_at(C, D, i)\n");
  EXPECT_SCHEDULE_ERROR("C is placed at a loop of D", compute_inline(s, "D"));
}

}  // namespace
}  // namespace rctune::schedule
