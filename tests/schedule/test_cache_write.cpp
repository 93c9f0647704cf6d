#include "lower_test_util.h"
#include "workloads.h"

namespace rctune::schedule {
namespace {

using testing::matmul;
using testing::run_trace;

TEST(CacheWrite, AddsComputeStageAndTurnsStageIntoCopy) {
  State s = cache_write(State(matmul()), "C", ir::MemScope::Local);
  const ir::Workload& w = s.workload();
  ASSERT_EQ(w.stages.size(), 2u);
  EXPECT_EQ(w.stages[0].output, "C.local");
  EXPECT_EQ(w.stages[0].op, ir::ReduceOp::Sum);
  EXPECT_EQ(w.stages[0].reduce_axes.size(), 1u);
  EXPECT_EQ(w.stages[1].output, "C");
  EXPECT_EQ(w.stages[1].op, ir::ReduceOp::None);
  EXPECT_TRUE(w.stages[1].reduce_axes.empty());
  EXPECT_EQ(ir::to_string(w.stages[1].body), "C.local[i, j]");
  expect_intermediate_tensor(w, "C.local", {64, 48});
  EXPECT_EQ(w.validate(), "");
  expect_trace_roundtrip(s);
}

TEST(CacheWrite, NewStageHasScopeAndDefaultLoops) {
  State s = cache_write(State(matmul()), "C", ir::MemScope::Local);
  ASSERT_EQ(s.stages().size(), 2u);
  EXPECT_EQ(s.stages()[0]->stage, "C.local");
  EXPECT_EQ(s.stages()[0]->scope, ir::MemScope::Local);
  EXPECT_EQ(s.stages()[0]->leaf_names(), (std::vector<std::string>{"i", "j", "k"}));
  EXPECT_EQ(s.stages()[1]->leaf_names(), (std::vector<std::string>{"i", "j"}));
  expect_last_step(s, "cache_write(C, local)");
}

TEST(CacheWrite, IntermediateElementwiseStage) {
  State s = cache_write(State(testing::dense_gelu()), "D", ir::MemScope::Heap);
  EXPECT_EQ(s.workload().stage_index("D.heap"), 1);
  EXPECT_EQ(s.workload().stage_index("D"), 2);
  EXPECT_EQ(s.workload().validate(), "");
  expect_trace_roundtrip(s);
}

TEST(CacheWrite, ConvolutionOutput) {
  State s = cache_write(State(testing::conv2d()), "Y", ir::MemScope::Local);
  EXPECT_EQ(s.workload().find_stage("Y.local")->reduce_axes.size(), 3u);
  expect_trace_roundtrip(s);
}

TEST(CacheWrite, RejectsScheduledStage) {
  State s = split(State(matmul()), "C", "i", {kInferredFactor, 8});
  EXPECT_SCHEDULE_ERROR("already scheduled (its loops have been split",
                        cache_write(s, "C", ir::MemScope::Local));
}

TEST(CacheWrite, RejectsStageWithPlacedStages) {
  State s = run_trace(matmul(), "cache_read(A, local, C)\ncompute_at(A.local, C, i)\n");
  EXPECT_SCHEDULE_ERROR("A.local is placed at one of its loops", cache_write(s, "C", ir::MemScope::Local));
}

TEST(CacheWrite, RejectsTwiceSameScope) {
  State s = cache_write(State(matmul()), "C", ir::MemScope::Local);
  EXPECT_SCHEDULE_ERROR("C.local already exists", cache_write(s, "C", ir::MemScope::Local));
}

TEST(CacheWrite, RejectsInputAndGlobalScope) {
  EXPECT_SCHEDULE_ERROR("input tensor", cache_write(State(matmul()), "A", ir::MemScope::Local));
  EXPECT_SCHEDULE_ERROR("local, shared or heap", cache_write(State(matmul()), "C", ir::MemScope::Global));
}

}  // namespace
}  // namespace rctune::schedule
