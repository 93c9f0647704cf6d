#include "lower_test_util.h"
#include "workloads.h"

namespace rctune::schedule {
namespace {

using testing::loop_of;
using testing::matmul;
using testing::run_trace;

TEST(Vectorize, InnermostSpatialLoop) {
  State s = run_trace(matmul(), "reorder(C, k, j)\nvectorize(C, j)\n");
  EXPECT_EQ(loop_of(s, "C", "j").kind, ir::ForKind::Vectorized);
  expect_last_step(s, "vectorize(C, j)");
}

TEST(Vectorize, ElementwiseStage) {
  State s = vectorize(State(testing::softmax()), "Y", "j");
  EXPECT_EQ(s.trace().size(), 1u);
  expect_trace_roundtrip(s);
}

TEST(Vectorize, RegisterTileOfCacheStage) {
  State s = run_trace(matmul(),
                      "cache_write(C, local)\nsplit(C, i, [None, 8])\nsplit(C, j, [None, 16])\n"
                      "reorder(C, i.0, j.0, i.1, j.1)\ncompute_at(C.local, C, j.0)\n"
                      "reorder(C.local, k, i, j)\nvectorize(C.local, j)\n");
  expect_valid_schedule(s);
}

TEST(Vectorize, RejectsReductionLoop) {
  EXPECT_SCHEDULE_ERROR(
      "vectorize(C, k): loop k iterates over a reduction axis; only spatial loops can be vectorized",
      vectorize(State(matmul()), "C", "k"));
}

TEST(Vectorize, RejectsLoopThatIsNotInnermost) {
  EXPECT_SCHEDULE_ERROR("not the innermost loop of C (that is k)", vectorize(State(matmul()), "C", "j"));
}

TEST(Vectorize, RejectsBoundLoop) {
  State s = run_trace(matmul(), "reorder(C, k, j)\nbind(C, i, league)\nbind(C, j, vector)\n");
  EXPECT_SCHEDULE_ERROR("already bound to vector", vectorize(s, "C", "j"));
}

TEST(Vectorize, RejectsLoopWithPlacedStage) {
  State s = run_trace(matmul(), "cache_write(C, local)\ncompute_at(C.local, C, j)\n");
  EXPECT_SCHEDULE_ERROR("cannot contain other stages", vectorize(s, "C", "j"));
}

TEST(Vectorize, RejectsSplittingAfterwards) {
  State s = run_trace(matmul(), "reorder(C, k, j)\nvectorize(C, j)\n");
  EXPECT_SCHEDULE_ERROR("split loops before annotating them", split(s, "C", "j", {kInferredFactor, 8}));
}

}  // namespace
}  // namespace rctune::schedule
