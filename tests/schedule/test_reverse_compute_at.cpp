#include "workloads.h"

namespace rctune::schedule {
namespace {

using testing::matmul;
using testing::run_trace;

TEST(ReverseComputeAt, WriteBackAfterTile) {
  State s = run_trace(
      matmul(), "cache_write(C, local)\nsplit(C.local, i, [None, 8])\nreverse_compute_at(C, C.local, i.0)\n");
  const Attach& a = s.stage("C")->attach;
  EXPECT_EQ(a.kind, Attach::Kind::ReverseAt);
  EXPECT_EQ(a.stage, "C.local");
  EXPECT_EQ(a.loop, "i.0");
  EXPECT_EQ(s.trace().back().text, "reverse_compute_at(C, C.local, i.0)");
}

TEST(ReverseComputeAt, ElementwiseEpilogue) {
  State s = run_trace(testing::dense_gelu(), "reverse_compute_at(D, C, i)\nreverse_compute_at(Y, D, j)\n");
  EXPECT_EQ(enclosing_loops(s, "Y").size(), 3u);  // C.i, D.i, D.j
}

TEST(ReverseComputeAt, RejectsStageWithReduction) {
  EXPECT_SCHEDULE_ERROR("has a reduction", reverse_compute_at(State(testing::softmax()), "S", "E", "i"));
}

TEST(ReverseComputeAt, RejectsStageThatDoesNotRead) {
  EXPECT_SCHEDULE_ERROR("Y does not read C", reverse_compute_at(State(testing::dense_gelu()), "Y", "C", "i"));
}

TEST(ReverseComputeAt, RejectsCycle) {
  State s = run_trace(testing::dense_gelu(), "compute_at(C, D, i)\n");
  EXPECT_SCHEDULE_ERROR("cycle", reverse_compute_at(s, "D", "C", "i"));
}

TEST(ReverseComputeAt, RejectsVectorizedLoop) {
  State s = run_trace(testing::dense_gelu(), "vectorize(D, j)\n");
  EXPECT_SCHEDULE_ERROR("a vector loop cannot contain other stages", reverse_compute_at(s, "Y", "D", "j"));
}

TEST(ReverseComputeAt, RejectsReadThatIsNotElementwise) {
  auto w = testing::parse(
      "X: f32[16, 16]\nT: f32[16, 16]\nY: f32[16, 16]\nT[i, j] = X[i, j] * 2.0\nY[i, j] = T[j, i] + T[i, j]\n"
      "outputs: Y\n",
      "transpose");
  EXPECT_SCHEDULE_ERROR("Y reads T both as T[j, i] and T[i, j]", reverse_compute_at(State(w), "Y", "T", "i"));
  auto shifted = testing::parse(
      "X: f32[16]\nT: f32[16]\nY: f32[16]\nT[i] = X[i] * 2.0\nY[i] = T[i + 1]\noutputs: Y\n", "shift");
  EXPECT_SCHEDULE_ERROR("Y reads T[i + 1]", reverse_compute_at(State(shifted), "Y", "T", "i"));
}

TEST(ReverseComputeAt, BroadcastReadOfFewerDimensions) {
  // Y[i, j] = E[i, j] / S[i]: S is read with axis i only.
  State s = reverse_compute_at(State(testing::softmax()), "Y", "S", "i");
  EXPECT_EQ(s.stage("Y")->attach.kind, Attach::Kind::ReverseAt);
}

}  // namespace
}  // namespace rctune::schedule
