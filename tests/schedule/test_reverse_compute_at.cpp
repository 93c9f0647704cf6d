#include "lower_test_util.h"
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
  expect_last_step(s, "reverse_compute_at(C, C.local, i.0)");
}

TEST(ReverseComputeAt, ElementwiseEpilogue) {
  State s = run_trace(testing::dense_gelu(), "reverse_compute_at(D, C, i)\nreverse_compute_at(Y, D, j)\n");
  EXPECT_EQ(enclosing_loops(s, "Y").size(), 3u);  // C.i, D.i, D.j
  expect_trace_roundtrip(s);
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

TEST(ReverseComputeAt, RejectsStageThatReadsSomethingComputedLater) {
  // Y = E / S: inside E's loop nest, S (computed after E) is not available yet.
  EXPECT_SCHEDULE_ERROR("Y reads S, which with these placements is computed after Y",
                        reverse_compute_at(State(testing::softmax()), "Y", "E", "i"));
}

TEST(ReverseComputeAt, RejectsReductionLoopOfProducer) {
  // S's loop j is a reduction: after one iteration of it S is not complete.
  EXPECT_SCHEDULE_ERROR(
      "loop j of S iterates over a reduction axis; Y placed at loop j of S would read S before",
      reverse_compute_at(State(testing::softmax()), "Y", "S", "j"));
  auto w = testing::dense_gelu();
  EXPECT_SCHEDULE_ERROR("loop k of C iterates over a reduction axis",
                        reverse_compute_at(reorder(State(w), "C", {"k", "i"}), "D", "C", "j"));
}

TEST(ReverseComputeAt, ChainMayNotReadTheOuterProducer) {
  // Z = D + C placed after D, inside C's loops: only D (placed directly at C's loop) may read C there.
  auto w = testing::parse(
      "A: f32[8, 8]\nB: f32[8, 8]\nC: f32[8, 8]\nD: f32[8, 8]\nZ: f32[8, 8]\nC[i, j] += A[i, k] * B[k, j]\n"
      "D[i, j] = C[i, j] * 2.0\nZ[i, j] = D[i, j] + C[i, j]\noutputs: Z\n",
      "chain");
  State s = run_trace(w, "reverse_compute_at(D, C, i)\n");
  EXPECT_SCHEDULE_ERROR("Z reads C inside the loops that compute C, where C is only partly computed",
                        reverse_compute_at(s, "Z", "D", "j"));
}

TEST(ReverseComputeAt, StagesPlacedInsideMoveAlongAndAreChecked) {
  // S is computed inside Y; placing Y inside E's loops would make S read E there.
  State s = run_trace(testing::softmax(), "compute_at(S, Y, i)\n");
  EXPECT_SCHEDULE_ERROR("S reads E inside the loops that compute E", reverse_compute_at(s, "Y", "E", "i"));
  // Without S inside, Y would read S before S is computed.
  EXPECT_SCHEDULE_ERROR("Y reads S, which with these placements is computed after Y",
                        reverse_compute_at(State(testing::softmax()), "Y", "E", "i"));
}

TEST(ReverseComputeAt, BroadcastReadOfFewerDimensions) {
  // Y[i, j] = E[i, j] / S[i]: S is read with axis i only.
  State s = reverse_compute_at(State(testing::softmax()), "Y", "S", "i");
  EXPECT_EQ(s.stage("Y")->attach.kind, Attach::Kind::ReverseAt);
  expect_trace_roundtrip(s);
}

}  // namespace
}  // namespace rctune::schedule
