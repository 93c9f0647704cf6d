#include "lower_test_util.h"
#include "workloads.h"

namespace rctune::schedule {
namespace {

using testing::matmul;
using testing::run_trace;

TEST(CacheRead, AddsCopyStageAndRewritesReader) {
  State s = cache_read(State(matmul()), "B", ir::MemScope::Local, {"C"});
  const ir::Workload& w = s.workload();
  ASSERT_EQ(w.stages.size(), 2u);
  EXPECT_EQ(w.stages[0].output, "B.local");
  EXPECT_EQ(ir::to_string(w.stages[0].body), "B[ax0, ax1]");
  EXPECT_EQ(ir::to_string(w.stages[1].body), "A[i, k] * B.local[k, j]");
  EXPECT_EQ(w.find_tensor("B.local")->shape, (std::vector<int64_t>{32, 48}));
  EXPECT_EQ(s.stage("B.local")->scope, ir::MemScope::Local);
  EXPECT_EQ(s.stage("B.local")->leaf_names(), (std::vector<std::string>{"ax0", "ax1"}));
  EXPECT_EQ(to_text(s.trace().back()), "cache_read(B, local, C)");
  EXPECT_EQ(w.validate(), "");
  expect_trace_roundtrip(s);
}

TEST(CacheRead, NoReadersMeansAllReadersAndCanonicalTextNamesThem) {
  State s = cache_read(State(testing::softmax()), "X", ir::MemScope::Heap, {});
  EXPECT_EQ(to_text(s.trace().back()), "cache_read(X, heap, M, E)");
  EXPECT_EQ(s.workload().stage_index("X.heap"), 0);
  expect_trace_roundtrip(s);
}

TEST(CacheRead, OnlyNamedReadersAreRewritten) {
  State s = cache_read(State(testing::softmax()), "E", ir::MemScope::Local, {"Y"});
  const ir::Workload& w = s.workload();
  EXPECT_EQ(ir::to_string(w.find_stage("S")->body), "E[i, j]");
  EXPECT_NE(ir::to_string(w.find_stage("Y")->body).find("E.local"), std::string::npos);
  EXPECT_LT(w.stage_index("S"), w.stage_index("E.local"));
  EXPECT_LT(w.stage_index("E.local"), w.stage_index("Y"));
  expect_trace_roundtrip(s);
}

TEST(CacheRead, PaddedConvolutionInput) {
  State s = cache_read(State(testing::conv2d()), "X", ir::MemScope::Local, {"Y"});
  EXPECT_EQ(s.stage("X.local")->leaf_names(), (std::vector<std::string>{"ax0", "ax1", "ax2", "ax3"}));
  expect_trace_roundtrip(s);
}

TEST(CacheRead, ReaderCanBeCacheWriteStage) {
  State s = run_trace(matmul(), "cache_write(C, local)\ncache_read(B, local, C.local)\n");
  EXPECT_EQ(s.workload().stage_index("B.local"), 0);
  expect_trace_roundtrip(s);
}

TEST(CacheRead, RejectsStageThatDoesNotRead) {
  EXPECT_SCHEDULE_ERROR("stage Y does not read X; readers of X: M, E",
                        cache_read(State(testing::softmax()), "X", ir::MemScope::Local, {"Y"}));
}

TEST(CacheRead, RejectsUnknownTensorAndDuplicate) {
  EXPECT_SCHEDULE_ERROR("no tensor named 'Q'", cache_read(State(matmul()), "Q", ir::MemScope::Local, {"C"}));
  State s = cache_read(State(matmul()), "B", ir::MemScope::Local, {"C"});
  EXPECT_SCHEDULE_ERROR("B.local already exists", cache_read(s, "B", ir::MemScope::Local, {}));
}

TEST(CacheRead, RejectsUnreadOutput) {
  EXPECT_SCHEDULE_ERROR("no stage reads C", cache_read(State(matmul()), "C", ir::MemScope::Local, {}));
}

}  // namespace
}  // namespace rctune::schedule
