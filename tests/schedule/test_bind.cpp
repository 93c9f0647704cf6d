#include "lower_test_util.h"
#include "workloads.h"

namespace rctune::schedule {
namespace {

using testing::loop_of;
using testing::matmul;
using testing::run_trace;

TEST(Bind, LeagueTeamVector) {
  State s = run_trace(matmul(), "reorder(C, k, j)\nbind(C, i, league)\nbind(C, j, vector)\n");
  EXPECT_EQ(loop_of(s, "C", "i").bind, ir::BindLevel::League);
  EXPECT_EQ(loop_of(s, "C", "j").bind, ir::BindLevel::Vector);
  expect_last_step(s, "bind(C, j, vector)");
}

TEST(Bind, TeamInsideLeague) {
  State s = run_trace(testing::batch_matmul(), "bind(C, b, league)\nbind(C, i, team)\n");
  expect_valid_schedule(s);
}

TEST(Bind, CacheReadStageBoundToTeamInsideLeagueLoop) {
  State s = run_trace(matmul(),
                      "cache_read(B, shared, C)\nsplit(C, j, [None, 16])\nreorder(C, j.0, i)\n"
                      "bind(C, j.0, league)\ncompute_at(B.shared, C, j.0)\nbind(B.shared, ax0, team)\n");
  expect_valid_schedule(s);
}

TEST(Bind, RejectsReductionLoop) {
  EXPECT_SCHEDULE_ERROR("reduction axis", bind(State(matmul()), "C", "k", ir::BindLevel::League));
}

TEST(Bind, RejectsTeamWithoutLeague) {
  EXPECT_SCHEDULE_ERROR("no enclosing loop is bound to league",
                        bind(State(matmul()), "C", "i", ir::BindLevel::Team));
}

TEST(Bind, RejectsTwoLeagueLoops) {
  State s = bind(State(matmul()), "C", "i", ir::BindLevel::League);
  EXPECT_SCHEDULE_ERROR("each level can be bound once", bind(s, "C", "j", ir::BindLevel::League));
}

TEST(Bind, RejectsLeagueInsideTeam) {
  State s = run_trace(testing::batch_matmul(), "bind(C, b, league)\nbind(C, i, team)\n");
  EXPECT_SCHEDULE_ERROR("bound to team but no enclosing loop is bound to league",
                        reorder(s, "C", {"i", "b"}));
}

TEST(Bind, RejectsInsideParallel) {
  State s = parallel(State(matmul()), "C", "i");
  EXPECT_SCHEDULE_ERROR("parallel and bind cannot be nested", bind(s, "C", "j", ir::BindLevel::League));
}

TEST(Bind, TextParserRejectsUnknownLevel) {
  EXPECT_THROW(run_trace(matmul(), "bind(C, i, block)\n"), TraceParseError);
}

}  // namespace
}  // namespace rctune::schedule
