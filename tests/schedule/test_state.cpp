#include "workloads.h"

namespace rctune::schedule {
namespace {

using testing::conv2d;
using testing::matmul;
using testing::softmax;

TEST(State, DefaultScheduleHasSpatialThenReduceLoopsInOrder) {
  State s(matmul());
  const StageSchedule* c = s.stage("C");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->leaf_names(), (std::vector<std::string>{"i", "j", "k"}));
  EXPECT_FALSE(c->loops[0].reduce);
  EXPECT_TRUE(c->loops[2].reduce);
  EXPECT_EQ(c->attach.kind, Attach::Kind::Root);
  EXPECT_TRUE(c->relations.empty());
  EXPECT_TRUE(s.trace().empty());
}

TEST(State, OneSchedulePerStageInWorkloadOrder) {
  State s(softmax());
  ASSERT_EQ(s.stages().size(), 4u);
  EXPECT_EQ(s.stages()[0]->stage, "M");
  EXPECT_EQ(s.stages()[3]->stage, "Y");
  EXPECT_EQ(s.stage("nope"), nullptr);
}

TEST(State, LoopExtentOfRootAxes) {
  State s(conv2d());
  EXPECT_EQ(s.loop_extent("Y", "k"), 16);
  EXPECT_EQ(s.loop_extent("Y", "h"), 8);
  EXPECT_EQ(s.loop_extent("Y", "c"), 8);
  EXPECT_EQ(s.loop_extent("Y", "r"), 3);
}

TEST(State, LoopExtentsFollowSplitAndFuse) {
  State s = testing::run_trace(matmul(64, 48, 32), "split(C, i, [None, 4, 2])\nfuse(C, i.2, j)\n");
  EXPECT_EQ(s.loop_extent("C", "i.0"), 8);
  EXPECT_EQ(s.loop_extent("C", "i.1"), 4);
  EXPECT_EQ(s.loop_extent("C", "i.2"), 2);
  EXPECT_EQ(s.loop_extent("C", "i.2.j"), 96);
}

TEST(State, LoopExtentOfNonDividingSplitRoundsUp) {
  State s = split(State(matmul(64, 48, 32)), "C", "j", {kInferredFactor, 10});
  EXPECT_EQ(s.loop_extent("C", "j.0"), 5);
  EXPECT_EQ(s.loop_extent("C", "j.1"), 10);
}

TEST(State, LoopExtentOfUnknownLoopThrows) {
  State s(matmul());
  EXPECT_THROW(s.loop_extent("C", "x"), ScheduleError);
  EXPECT_THROW(s.loop_extent("Q", "i"), ScheduleError);
}

TEST(State, PrimitivesLeaveTheirArgumentUnchanged) {
  State s(matmul());
  State t = split(s, "C", "i", {kInferredFactor, 8});
  EXPECT_EQ(s.stage("C")->leaf_names(), (std::vector<std::string>{"i", "j", "k"}));
  EXPECT_TRUE(s.trace().empty());
  EXPECT_EQ(t.trace().size(), 1u);
}

TEST(State, TraceHoldsTypedSteps) {
  const State s = split(State(matmul()), "C", "i", {4, 16});
  ASSERT_EQ(s.trace().size(), 1u);
  const Step& step = s.trace().back();
  EXPECT_EQ(step.primitive, Primitive::Split);
  EXPECT_EQ(step.name(0), "C");
  EXPECT_EQ(step.name(1), "i");
  EXPECT_EQ(step.factors(2), (std::vector<int64_t>{kInferredFactor, 16}));  // the outer factor is inferred
  EXPECT_EQ(to_text(step), "split(C, i, [None, 16])");
}

TEST(State, CopiesShareUnchangedStages) {
  State s(softmax());
  State t = parallel(s, "Y", "i");
  EXPECT_EQ(s.stages()[0].get(), t.stages()[0].get());
  EXPECT_NE(s.stages()[3].get(), t.stages()[3].get());
  EXPECT_EQ(s.workload_ptr().get(), t.workload_ptr().get());
}

TEST(State, SameScheduleComparesStructure) {
  State a = parallel(State(matmul()), "C", "i");
  State b = parallel(State(matmul()), "C", "i");
  State c = parallel(State(matmul()), "C", "j");
  EXPECT_TRUE(same_schedule(a, b));
  EXPECT_FALSE(same_schedule(a, c));
}

TEST(State, OriginalWorkloadSurvivesCacheStages) {
  auto w = matmul();
  State s = cache_write(State(w), "C", ir::MemScope::Local);
  EXPECT_EQ(s.original_workload_ptr().get(), w.get());
  EXPECT_NE(s.workload_ptr().get(), w.get());
}

TEST(State, CheckStateAcceptsReachableStates) {
  State s = testing::run_trace(
      matmul(), "cache_write(C, local)\nsplit(C, i, [None, 8])\ncompute_at(C.local, C, i.0)\n");
  EXPECT_EQ(check_state(s), "");
}

TEST(State, EnclosingLoopsFollowPlacement) {
  State s = testing::run_trace(matmul(),
                               "cache_write(C, local)\nsplit(C, i, [None, 8])\nsplit(C, j, [None, 8])\n"
                               "reorder(C, i.0, j.0, i.1)\ncompute_at(C.local, C, j.0)\n");
  const auto loops = enclosing_loops(s, "C.local");
  ASSERT_EQ(loops.size(), 2u);
  EXPECT_EQ(loops[0].loop, "i.0");
  EXPECT_EQ(loops[1].loop, "j.0");
  EXPECT_TRUE(enclosing_loops(s, "C").empty());
}

}  // namespace
}  // namespace rctune::schedule
