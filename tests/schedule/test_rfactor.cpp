#include <memory>
#include <ostream>
#include <string>

#include "lower_test_util.h"
#include "rctune/schedule/primitives.h"
#include "workloads.h"

namespace rctune::schedule {
namespace {

using testing::matmul;
using testing::run_trace;
namespace lt = lowertest;

// The state `trace` reaches from `w`, after checking that it computes what `w` computes and that its
// trace round-trips.
State rfactored(const std::shared_ptr<const ir::Workload>& w, const std::string& trace) {
  State s = lt::scheduled(w, trace);
  EXPECT_TRUE(lt::matches_reference(s)) << trace;
  expect_trace_roundtrip(s);
  return s;
}

// ---------------------------------------------------------------- accepted

TEST(Rfactor, SplitSumBecomesRfStagePlusReductionOverNewAxis) {
  State s = run_trace(testing::softmax(32, 64), "split(S, j, [None, 16])\nrfactor(S, j.1)\n");
  const ir::Workload& w = s.workload();
  ASSERT_EQ(w.stage_index("S.rf") + 1, w.stage_index("S"));
  const ir::Stage& rf = *w.find_stage("S.rf");
  ASSERT_EQ(rf.axes.size(), 2u);
  EXPECT_EQ(rf.axes[1].name, "j_1");
  EXPECT_EQ(rf.axes[1].extent, 16);
  ASSERT_EQ(rf.reduce_axes.size(), 1u);
  EXPECT_EQ(rf.reduce_axes[0].name, "j_0");
  EXPECT_EQ(rf.reduce_axes[0].extent, 4);
  EXPECT_EQ(rf.op, ir::ReduceOp::Sum);
  EXPECT_EQ(ir::to_string(rf.body), "E[i, j_0 * 16 + j_1]");
  const ir::Stage& red = *w.find_stage("S");
  EXPECT_EQ(red.op, ir::ReduceOp::Sum);
  ASSERT_EQ(red.reduce_axes.size(), 1u);
  EXPECT_EQ(red.reduce_axes[0].name, "j_1");
  EXPECT_EQ(ir::to_string(red.body), "S.rf[i, j_1]");
  expect_intermediate_tensor(w, "S.rf", {32, 16});
  EXPECT_EQ(w.validate(), "");
  expect_trace_roundtrip(s);
}

TEST(Rfactor, NewStagesHaveDefaultLoopsAndRfIsLocal) {
  State s = run_trace(testing::softmax(32, 64), "split(S, j, [None, 16])\nrfactor(S, j.1)\n");
  EXPECT_EQ(s.stage("S.rf")->leaf_names(), (std::vector<std::string>{"i", "j_1", "j_0"}));
  EXPECT_EQ(s.stage("S.rf")->scope, ir::MemScope::Local);
  EXPECT_EQ(s.stage("S")->leaf_names(), (std::vector<std::string>{"i", "j_1"}));
  expect_last_step(s, "rfactor(S, j.1)");
}

TEST(Rfactor, SumMatchesReference) { rfactored(lt::softmax(), "split(S, j, [None, 5])\nrfactor(S, j.1)\n"); }

TEST(Rfactor, MaxMatchesReference) {
  State s = rfactored(lt::softmax(), "split(M, j, [None, 5])\nrfactor(M, j.1)\n");
  EXPECT_EQ(s.workload().find_stage("M.rf")->op, ir::ReduceOp::Max);
}

TEST(Rfactor, NonDividingSplitContributesIdentity) {
  // 10 = 3 * 4 - 2: the last two iterations of j.0 = 2 are outside the row.
  for (const char* st : {"S", "M"}) {
    State s =
        rfactored(lt::softmax(), std::string("split(") + st + ", j, [None, 4])\nrfactor(" + st + ", j.1)\n");
    const ir::Stage& rf = *s.workload().find_stage(std::string(st) + ".rf");
    EXPECT_NE(ir::to_string(rf.body).find("j_0 * 4 + j_1 < 10"), std::string::npos) << ir::to_string(rf.body);
  }
}

TEST(Rfactor, OuterPartOfSplit) {
  State s = rfactored(lt::softmax(), "split(S, j, [None, 5])\nrfactor(S, j.0)\n");
  const ir::Stage& rf = *s.workload().find_stage("S.rf");
  EXPECT_EQ(rf.axes.back().name, "j_0");
  EXPECT_EQ(rf.reduce_axes[0].name, "j_1");
}

TEST(Rfactor, MiddlePartOfNestedSplits) {
  State s = rfactored(testing::softmax(6, 16),
                      "split(S, j, [None, 4])\nsplit(S, j.1, [None, 2])\nrfactor(S, j.1.0)\n");
  const ir::Stage& rf = *s.workload().find_stage("S.rf");
  EXPECT_EQ(rf.axes.back().name, "j_1_0");
  ASSERT_EQ(rf.reduce_axes.size(), 2u);
  EXPECT_EQ(rf.reduce_axes[0].name, "j_0");
  EXPECT_EQ(rf.reduce_axes[1].name, "j_1_1");
}

TEST(Rfactor, UnsplitAxisGivesPlainRfStage) {
  State s = rfactored(lt::softmax(), "rfactor(S, j)\n");
  EXPECT_EQ(s.workload().find_stage("S.rf")->op, ir::ReduceOp::None);
}

TEST(Rfactor, MatmulKeepsSpatialAxesAndPartialSumsOverK) {
  State s = rfactored(lt::matmul(8, 6, 12), "split(C, k, [None, 4])\nrfactor(C, k.1)\n");
  const ir::Stage& rf = *s.workload().find_stage("C.rf");
  ASSERT_EQ(rf.axes.size(), 3u);
  EXPECT_EQ(rf.axes[2].name, "k_1");
}

TEST(Rfactor, ConvolutionKeepsOtherReductionAxes) {
  State s = rfactored(lt::conv2d(), "split(Y, c, [None, 2])\nrfactor(Y, c.1)\n");
  const ir::Stage& rf = *s.workload().find_stage("Y.rf");
  EXPECT_EQ(rf.reduce_axes.size(), 3u);
}

TEST(Rfactor, VectorizedSoftmaxChainMatchesReference) {
  const std::string trace =
      "split(M, j, [None, 4])\n"
      "rfactor(M, j.1)\n"
      "reorder(M.rf, i, j_0, j_1)\n"
      "vectorize(M.rf, j_1)\n"
      "compute_at(M.rf, M, i)\n"
      "split(S, j, [None, 4])\n"
      "rfactor(S, j.1)\n"
      "reorder(S.rf, i, j_0, j_1)\n"
      "vectorize(S.rf, j_1)\n"
      "compute_at(S.rf, S, i)\n"
      "compute_inline(E)\n"
      "compute_at(S, Y, i)\n"
      "compute_at(M, Y, i)\n"
      "split(Y, j, [None, 4])\n"
      "vectorize(Y, j.1)\n"
      "parallel(Y, i)\n";
  State s = rfactored(lt::softmax(), trace);
  EXPECT_EQ(check_state(s), "");
}

// ---------------------------------------------------------------- rejected

TEST(Rfactor, RejectsStageWithoutReduction) {
  EXPECT_SCHEDULE_ERROR("has no reduction", rfactor(State(testing::softmax()), "E", "j"));
}

TEST(Rfactor, RejectsSpatialLoop) {
  State s = run_trace(testing::softmax(), "split(S, i, [None, 4])\n");
  EXPECT_SCHEDULE_ERROR("iterates over a spatial axis", rfactor(s, "S", "i.1"));
}

TEST(Rfactor, RejectsLoopThatIsNotCurrent) {
  State s = run_trace(testing::softmax(), "split(S, j, [None, 4])\n");
  EXPECT_SCHEDULE_ERROR("no longer exists", rfactor(s, "S", "j"));
  EXPECT_SCHEDULE_ERROR("no loop named 'q'", rfactor(s, "S", "q"));
  EXPECT_SCHEDULE_ERROR("no stage named 'Z'", rfactor(s, "Z", "j"));
}

// A stage whose schedule rfactor refuses: each row is one old test, naming what the refusal says.
struct RfactorRefusal {
  const char* name;                                   // the test's name
  std::shared_ptr<const ir::Workload> (*workload)();  // the workload scheduled
  const char* trace;                                  // the schedule before rfactor
  const char* stage;                                  // rfactor's stage
  const char* loop;                                   // and loop
  const char* error;                                  // part of the ScheduleError's message
};

void PrintTo(const RfactorRefusal& c, std::ostream* os) { *os << c.name << ":\n" << c.trace; }

const RfactorRefusal kRfactorRefusals[] = {
    {"RejectsFusedLoops", [] { return matmul(); }, "fuse(C, i, j)\nsplit(C, k, [None, 4])\n", "C", "k.1",
     "has fused loops (i.j)"},
    {"RejectsSplitOfAnotherAxis", [] { return matmul(); }, "split(C, i, [None, 8])\nsplit(C, k, [None, 4])\n",
     "C", "k.1", "loop i of stage C has been split"},
    {"RejectsReorderedStage", [] { return testing::softmax(); },
     "split(S, j, [None, 4])\nreorder(S, j.1, j.0)\n", "S", "j.1", "have been reordered"},
    {"RejectsAnnotatedLoop", [] { return testing::softmax(); }, "split(S, j, [None, 4])\nparallel(S, i)\n",
     "S", "j.1", "loop i of stage S is parallel"},
    {"RejectsPlacedStage", [] { return testing::softmax(); }, "split(S, j, [None, 4])\ncompute_at(S, Y, i)\n",
     "S", "j.1", "is placed at loop i of Y"},
    {"RejectsStageWithStagePlacedAtItsLoops", [] { return matmul(); },
     "cache_read(A, local, C)\ncompute_at(A.local, C, i)\n", "C", "k", "A.local is placed at a loop of C"},
    {"RejectsDecomposedReduction", [] { return matmul(); },
     "split(C, k, [None, 4])\ndecompose_reduction(C, i)\n", "C", "k.1", "has been decomposed"},
    {"RejectsSecondRfStage", [] { return testing::softmax(); },
     "split(S, j, [None, 16])\nrfactor(S, j.1)\nsplit(S, j_1, [None, 4])\n", "S", "j_1.1",
     "S.rf already exists"},
    {"RejectsNameClash",
     [] { return testing::parse("X: f32[4, 8, 2]\nS: f32[4]\nS[i] += X[i, j, j_1]\n", "clash"); },
     "split(S, j, [None, 4])\n", "S", "j.1", "already has an index variable named j_1"},
};

class RfactorRefuses : public ::testing::TestWithParam<RfactorRefusal> {};

TEST_P(RfactorRefuses, AScheduleItCannotFactor) {
  const RfactorRefusal& c = GetParam();
  State s = run_trace(c.workload(), c.trace);
  EXPECT_SCHEDULE_ERROR(c.error, rfactor(s, c.stage, c.loop));
}

INSTANTIATE_TEST_SUITE_P(Rfactor, RfactorRefuses, ::testing::ValuesIn(kRfactorRefusals),
                         [](const ::testing::TestParamInfo<RfactorRefusal>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace rctune::schedule
