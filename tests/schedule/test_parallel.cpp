#include "lower_test_util.h"
#include "workloads.h"

namespace rctune::schedule {
namespace {

using testing::loop_of;
using testing::matmul;
using testing::run_trace;

TEST(Parallel, MarksLoop) {
  State s = parallel(State(matmul()), "C", "i");
  EXPECT_EQ(loop_of(s, "C", "i").kind, ir::ForKind::Parallel);
  expect_last_step(s, "parallel(C, i)");
}

TEST(Parallel, AdjacentParallelLoopsOfOneStage) {
  State s = parallel(parallel(State(testing::batch_matmul()), "C", "b"), "C", "i");
  expect_valid_schedule(s);
}

TEST(Parallel, SeveralRootStages) {
  State s = run_trace(testing::softmax(), "parallel(M, i)\nparallel(E, i)\nparallel(S, i)\nparallel(Y, i)\n");
  EXPECT_EQ(s.trace().size(), 4u);
  expect_trace_roundtrip(s);
}

TEST(Parallel, RejectsReductionLoop) {
  EXPECT_SCHEDULE_ERROR("parallel(C, k): loop k iterates over a reduction axis",
                        parallel(State(matmul()), "C", "k"));
}

TEST(Parallel, RejectsAlreadyAnnotated) {
  State s = parallel(State(matmul()), "C", "i");
  EXPECT_SCHEDULE_ERROR("already parallel", parallel(s, "C", "i"));
}

TEST(Parallel, RejectsNonAdjacentParallelLoops) {
  State s = parallel(State(testing::batch_matmul()), "C", "b");
  EXPECT_SCHEDULE_ERROR("nested parallel loops must be adjacent", parallel(s, "C", "j"));
}

TEST(Parallel, RejectsParallelInsideParallelOfConsumer) {
  State s = run_trace(matmul(), "cache_write(C, local)\nparallel(C, i)\ncompute_at(C.local, C, i)\n");
  EXPECT_SCHEDULE_ERROR("nested parallel loops must be adjacent loops of one stage",
                        parallel(s, "C.local", "j"));
}

TEST(Parallel, RejectsMixingWithBind) {
  State s = bind(State(matmul()), "C", "i", ir::BindLevel::League);
  EXPECT_SCHEDULE_ERROR("parallel and bind cannot be nested", parallel(s, "C", "j"));
}

TEST(Parallel, RejectsInlinedStage) {
  State s = compute_inline(State(testing::softmax()), "E");
  EXPECT_SCHEDULE_ERROR("inlined", parallel(s, "E", "i"));
}

}  // namespace
}  // namespace rctune::schedule
