#include "lower_test_util.h"
#include "workloads.h"

namespace rctune::schedule {
namespace {

using testing::matmul;
using testing::run_trace;

TEST(ComputeAt, RegisterTile) {
  State s = run_trace(matmul(),
                      "cache_write(C, local)\nsplit(C, i, [None, 8])\nsplit(C, j, [None, 16])\n"
                      "reorder(C, i.0, j.0, i.1, j.1)\ncompute_at(C.local, C, j.0)\n");
  const Attach& a = s.stage("C.local")->attach;
  EXPECT_EQ(a.kind, Attach::Kind::At);
  EXPECT_EQ(a.stage, "C");
  EXPECT_EQ(a.loop, "j.0");
  expect_last_step(s, "compute_at(C.local, C, j.0)");
}

TEST(ComputeAt, IntermediateOfSoftmax) {
  State s = run_trace(testing::softmax(), "compute_at(M, E, i)\n");
  EXPECT_EQ(s.stage("M")->attach.loop, "i");
  expect_trace_roundtrip(s);
}

TEST(ComputeAt, PackingAtOuterStageWhoseInnerStageReads) {
  State s = run_trace(matmul(),
                      "cache_write(C, local)\ncache_read(B, local, C.local)\nsplit(C, j, [None, 16])\n"
                      "reorder(C, j.0, i)\ncompute_at(C.local, C, i)\ncompute_at(B.local, C, j.0)\n");
  expect_valid_schedule(s);
}

TEST(ComputeAt, NestedPlacement) {
  State s = run_trace(matmul(),
                      "cache_write(C, local)\ncache_read(B, local, C.local)\ncompute_at(C.local, C, j)\n"
                      "split(C.local, k, [None, 8])\ncompute_at(B.local, C.local, k.0)\n");
  const auto loops = enclosing_loops(s, "B.local");
  ASSERT_EQ(loops.size(), 5u);
  EXPECT_EQ(loops.back().loop, "k.0");
  expect_trace_roundtrip(s);
}

TEST(ComputeAt, RejectsOutput) {
  State s(testing::dense_gelu());
  EXPECT_SCHEDULE_ERROR("Y is an output", compute_at(s, "Y", "D", "i"));
}

TEST(ComputeAt, RejectsConsumerThatDoesNotRead) {
  EXPECT_SCHEDULE_ERROR("S does not read M; readers of M: E",
                        compute_at(State(testing::softmax()), "M", "S", "i"));
  EXPECT_SCHEDULE_ERROR("Y does not read C", compute_at(State(testing::dense_gelu()), "C", "Y", "i"));
}

TEST(ComputeAt, RejectsLoopThatIsNotALeafOrMissing) {
  State s = run_trace(matmul(), "cache_write(C, local)\nsplit(C, i, [None, 8])\n");
  EXPECT_SCHEDULE_ERROR("no longer exists", compute_at(s, "C.local", "C", "i"));
  EXPECT_SCHEDULE_ERROR("has no loop named 'k'", compute_at(s, "C.local", "C", "k"));
}

TEST(ComputeAt, RejectsOtherReaderOutsideTheLoop) {
  // E is read by S and Y; S is at the root.
  EXPECT_SCHEDULE_ERROR("stage S also reads E and is not computed inside loop i of Y",
                        compute_at(State(testing::softmax()), "E", "Y", "i"));
}

TEST(ComputeAt, RejectsCycle) {
  State s = run_trace(testing::dense_gelu(), "compute_at(C, D, j)\n");
  EXPECT_SCHEDULE_ERROR("would form a cycle", compute_at(s, "D", "C", "i"));
  EXPECT_SCHEDULE_ERROR("inside itself", compute_at(s, "C", "C", "i"));
}

TEST(ComputeAt, RejectsPlacingIntoItsProducer) {
  // Y is placed inside S (reverse_compute_at); S cannot then go inside E, which S reads.
  State s = run_trace(testing::softmax(), "reverse_compute_at(Y, S, i)\n");
  EXPECT_SCHEDULE_ERROR("E does not read S", compute_at(s, "S", "E", "j"));
}

TEST(ComputeAt, RejectsVectorizedLoop) {
  State s = run_trace(testing::dense_gelu(), "vectorize(D, j)\n");
  EXPECT_SCHEDULE_ERROR("a vector loop cannot contain other stages", compute_at(s, "C", "D", "j"));
}

TEST(ComputeAt, ThroughInlinedReader) {
  // D is inlined into Y, so Y is C's reader.
  State s = run_trace(testing::dense_gelu(), "compute_inline(D)\ncompute_at(C, Y, j)\n");
  EXPECT_EQ(s.stage("C")->attach.stage, "Y");
  expect_trace_roundtrip(s);
}

}  // namespace
}  // namespace rctune::schedule
