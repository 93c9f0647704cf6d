// Root-parallel search (dist/): what a strategy learns from the other ranks of its group. MCTS
// takes results measured elsewhere without handing their programs out again, puts the best among
// them under its root, keeps its own root statistics apart from its peers', and the tuner
// exchanges with its channel every sync_every samples.
#include <gtest/gtest.h>

#include <set>

#include "rctune/ir/operators.h"
#include "rctune/search/mcts.h"
#include "rctune/search/tuner.h"
#include "strategy_test_util.h"

namespace rctune::search {
namespace {

using testing::StrategyFixture;

constexpr const char* kMatmul = "matmul:M=64,N=64,K=64";

MeasureResult ok(double gflops) {
  MeasureResult r;
  r.gflops = gflops;
  r.median_s = 1e-3;
  return r;
}

// Programs of another "rank": the first batch of an MCTS with another seed.
std::vector<Candidate> peer_programs(const StrategyFixture& f, int n) {
  auto peer = make_mcts_search(f.context(99));
  return peer->next_batch(n);
}

TEST(MctsObserve, ObservedProgramsAreNeverHandedOut) {
  StrategyFixture f(kMatmul);
  auto mcts = make_mcts_search(f.context(1));
  const std::vector<Candidate> seen = peer_programs(f, 6);
  mcts->observe(seen, std::vector<MeasureResult>(seen.size(), ok(5)));
  std::set<uint64_t> observed;
  for (const Candidate& c : seen) observed.insert(c.hash);
  SyntheticEvaluator eval([](const Candidate&) { return 1.0; });
  for (int r = 0; r < 6; ++r) {
    std::vector<Candidate> cs = mcts->next_batch(4);
    for (const Candidate& c : cs) EXPECT_FALSE(observed.count(c.hash)) << "measured elsewhere:\n" << c.trace;
    mcts->tell(cs, eval.measure(cs));
  }
}

TEST(MctsObserve, BestObservedProgramBecomesAChildOfTheRoot) {
  StrategyFixture f(kMatmul);
  auto mcts = make_mcts_search(f.context(2));
  const std::vector<Candidate> seen = peer_programs(f, 3);
  ASSERT_EQ(seen.size(), 3u);
  mcts->observe(seen, {ok(10), ok(50), ok(20)});
  bool found = false;
  for (const runlog::TreeNode& n : mcts->tree()) {
    if (n.structural_hash != seen[1].hash) continue;
    found = true;
    EXPECT_EQ(n.parent, 0);
    EXPECT_EQ(n.visits, 1) << "its result was backpropagated";
    EXPECT_DOUBLE_EQ(n.best_gflops, 50);
  }
  EXPECT_TRUE(found);
  EXPECT_DOUBLE_EQ(mcts->tree()[0].best_gflops, 50);
  // The others are remembered, not added.
  for (const runlog::TreeNode& n : mcts->tree()) {
    EXPECT_NE(n.structural_hash, seen[0].hash);
    EXPECT_NE(n.structural_hash, seen[2].hash);
  }
}

TEST(MctsObserve, ObservedResultOfAWaitingNodeIsTakenInsteadOfMeasuring) {
  StrategyFixture f(kMatmul);
  // Two strategies with the same seed grow the same root children: b learns a's results for
  // programs it has in its tree but has not handed out.
  auto a = make_mcts_search(f.context(3));
  auto b = make_mcts_search(f.context(3));
  std::vector<Candidate> mine = b->next_batch(1);
  ASSERT_EQ(mine.size(), 1u);
  std::vector<Candidate> theirs;
  for (const Candidate& c : a->next_batch(3))
    if (c.hash != mine[0].hash) theirs.push_back(c);
  ASSERT_FALSE(theirs.empty());
  const size_t nodes_before = b->tree().size();
  b->observe(theirs, std::vector<MeasureResult>(theirs.size(), ok(7)));
  EXPECT_EQ(b->tree().size(), nodes_before) << "they were in the tree already";
  for (const runlog::TreeNode& n : b->tree())
    for (const Candidate& t : theirs)
      if (n.structural_hash == t.hash) {
        EXPECT_DOUBLE_EQ(n.best_gflops, 7) << "marked measured";
        EXPECT_EQ(n.visits, 2) << "rollout and the observed result";
      }
  for (const Candidate& c : b->next_batch(8))
    for (const Candidate& t : theirs) EXPECT_NE(c.hash, t.hash) << "handed out although measured elsewhere";
}

// An MCTS over the matmul of `f` (seed `seed`) told its first batch of `n` programs, each measured
// at 1 + (its hash modulo `spread`) GFLOP/s.
std::unique_ptr<SearchStrategy> mcts_after_one_batch(const StrategyFixture& f, uint64_t seed, int n,
                                                     uint64_t spread) {
  auto mcts = make_mcts_search(f.context(seed));
  SyntheticEvaluator eval(
      [spread](const Candidate& c) { return 1.0 + static_cast<double>(c.hash % spread); });
  const std::vector<Candidate> cs = mcts->next_batch(n);
  mcts->tell(cs, eval.measure(cs));
  return mcts;
}

TEST(MctsRootStatistics, AreTheRootAndItsChildrenWithTheirOwnVisits) {
  StrategyFixture f(kMatmul);
  auto mcts = mcts_after_one_batch(f, 4, 4, 7);
  const std::vector<RootStatistic> stats = mcts->root_statistics();
  const std::vector<runlog::TreeNode> tree = mcts->tree();
  size_t children = 0;
  for (const runlog::TreeNode& n : tree) children += n.parent == 0 ? 1 : 0;
  ASSERT_EQ(stats.size(), children + 1);
  EXPECT_EQ(stats[0].hash, tree[0].structural_hash);
  EXPECT_EQ(stats[0].visits, tree[0].visits);
  for (size_t i = 1; i < stats.size(); ++i) {
    bool found = false;
    for (const runlog::TreeNode& n : tree)
      if (n.parent == 0 && n.structural_hash == stats[i].hash) {
        found = true;
        EXPECT_EQ(n.visits, stats[i].visits);
        EXPECT_DOUBLE_EQ(n.value, stats[i].value);
      }
    EXPECT_TRUE(found);
  }
}

TEST(MctsRootStatistics, PeerStatisticsSteerSelectionButStayOutOfOwnStatistics) {
  StrategyFixture f(kMatmul);
  auto mcts = mcts_after_one_batch(f, 5, 3, 13);
  // The peers have explored every root child but one a thousand times and found nothing: the
  // next expansions all go below the one left. The own statistics do not change.
  const std::vector<RootStatistic> own = mcts->root_statistics();
  ASSERT_GE(own.size(), 3u);
  const uint64_t left = own.back().hash;
  std::vector<RootStatistic> peers{{own[0].hash, 5000, 0}};
  for (size_t i = 1; i + 1 < own.size(); ++i) peers.push_back({own[i].hash, 1000, 0});
  mcts->set_peer_statistics(peers);
  const std::vector<RootStatistic> after = mcts->root_statistics();
  ASSERT_EQ(after.size(), own.size());
  for (size_t i = 0; i < own.size(); ++i) EXPECT_EQ(after[i].visits, own[i].visits);

  const size_t nodes_before = mcts->tree().size();
  mcts->next_batch(2);
  const std::vector<runlog::TreeNode> tree = mcts->tree();
  int64_t left_id = -1;
  for (const runlog::TreeNode& n : tree)
    if (n.parent == 0 && n.structural_hash == left) left_id = n.id;
  ASSERT_GE(left_id, 0);
  int below = 0;
  for (size_t i = nodes_before; i < tree.size(); ++i) {
    if (tree[i].parent == 0) continue;  // the root widening with a new sample
    int64_t cur = tree[i].id;
    while (tree[static_cast<size_t>(cur)].parent != 0) cur = tree[static_cast<size_t>(cur)].parent;
    EXPECT_EQ(cur, left_id) << "node " << tree[i].id << " grew below a child the peers found worthless";
    ++below;
  }
  EXPECT_GT(below, 0);
}

TEST(MctsClaims, LikelyPicksAreWhatTheNextBatchHandsOut) {
  StrategyFixture f(kMatmul);
  MctsOptions o;
  o.epsilon = 0;  // no random picks
  auto mcts = make_mcts_search(f.context(6), o);
  const std::vector<uint64_t> picks = mcts->likely_picks(3);
  ASSERT_EQ(picks.size(), 3u);
  const size_t nodes = mcts->tree().size();
  std::vector<uint64_t> handed;
  for (const Candidate& c : mcts->next_batch(3)) handed.push_back(c.hash);
  EXPECT_EQ(handed, picks);
  EXPECT_EQ(mcts->tree().size(), nodes) << "likely_picks grew the tree as next_batch would";
}

TEST(MctsClaims, ClaimedProgramsAreLeftToThePeerUntilItsResultArrives) {
  StrategyFixture f(kMatmul);
  MctsOptions o;
  o.epsilon = 0;
  auto mcts = make_mcts_search(f.context(7), o);
  const std::vector<uint64_t> picks = mcts->likely_picks(2);
  ASSERT_EQ(picks.size(), 2u);
  mcts->set_claimed(picks);
  for (const Candidate& c : mcts->next_batch(4)) {
    EXPECT_NE(c.hash, picks[0]);
    EXPECT_NE(c.hash, picks[1]);
  }
  // The peer measures them (a twin with the same seed hands out the same programs) and its
  // results fill the nodes in.
  auto peer = make_mcts_search(f.context(7), o);
  const std::vector<Candidate> theirs = peer->next_batch(2);
  ASSERT_EQ(theirs.size(), 2u);
  ASSERT_EQ(theirs[0].hash, picks[0]);
  mcts->observe(theirs, {ok(42), ok(41)});
  for (const runlog::TreeNode& n : mcts->tree())
    if (n.structural_hash == picks[0]) {
      EXPECT_DOUBLE_EQ(n.best_gflops, 42);
    }
}

// A channel that records what the tuner sends and plays a peer that measured some programs.
class FakeChannel : public TaskChannel {
 public:
  explicit FakeChannel(std::vector<runlog::SampleRecord> news) : news_(std::move(news)) {}
  void samples(const std::vector<runlog::SampleRecord>& rows) override {
    rows_.insert(rows_.end(), rows.begin(), rows.end());
  }
  void best(const runlog::BestSchedule& b, uint64_t hash) override { bests_.emplace_back(b, hash); }
  void tree(const std::vector<runlog::TreeNode>& nodes) override { tree_ = nodes; }
  int64_t sync_every() const override { return 6; }
  PeerNews exchange(const std::vector<RootStatistic>& mine, const std::vector<uint64_t>& picks) override {
    exchanges_.push_back(static_cast<int64_t>(rows_.size()));
    EXPECT_FALSE(mine.empty());
    EXPECT_FALSE(picks.empty());
    PeerNews n;
    if (exchanges_.size() == 2) n.measured = news_;
    return n;
  }
  std::vector<runlog::SampleRecord> rows_;
  std::vector<std::pair<runlog::BestSchedule, uint64_t>> bests_;
  std::vector<runlog::TreeNode> tree_;
  std::vector<int64_t> exchanges_;  // samples recorded when each exchange happened

 private:
  std::vector<runlog::SampleRecord> news_;
};

TEST(TuneTaskChannel, ExchangesEverySyncEverySamplesAndNeverMeasuresWhatPeersMeasured) {
  auto w = std::make_shared<const ir::Workload>(ir::make_operator(kMatmul));
  // The peer's samples: the first programs a differently seeded search would measure.
  StrategyFixture f(kMatmul);
  std::vector<runlog::SampleRecord> news;
  for (const Candidate& c : peer_programs(f, 12)) {
    runlog::SampleRecord s;
    s.index = static_cast<int64_t>(news.size());
    s.trace = c.trace;
    s.structural_hash = c.hash;
    s.gflops = 3;
    s.median_s = 1e-3;
    news.push_back(s);
  }
  FakeChannel channel(news);
  TuneOptions o;
  o.budget = 24;
  o.seed = 11;
  TaskRecording rec;
  rec.channel = &channel;
  SyntheticEvaluator eval([](const Candidate& c) { return 1.0 + static_cast<double>(c.hash % 31); });
  const TaskOutcome out = tune_task(w, "t", 1.0, eval, o, rec);
  EXPECT_EQ(out.samples, 24);
  EXPECT_EQ(out.observed, 12);
  ASSERT_EQ(channel.exchanges_.size(), 4u)
      << "before the first round, after 6, 12 and 18 samples (not at the end)";
  EXPECT_EQ(channel.exchanges_[0], 0);
  EXPECT_EQ(channel.exchanges_[1], 6);
  std::set<uint64_t> peer;
  for (const auto& s : news) peer.insert(s.structural_hash);
  int measured = 0;
  for (const auto& s : channel.rows_) {
    if (s.status == runlog::SampleStatus::Illegal) continue;
    if (measured++ >= 6) {
      EXPECT_FALSE(peer.count(s.structural_hash)) << "measured after the peer shared it";
    }
  }
  EXPECT_EQ(measured, 24);
  EXPECT_FALSE(channel.tree_.empty());
  ASSERT_FALSE(channel.bests_.empty());
  EXPECT_NE(channel.bests_.back().second, 0u) << "the best comes with its program's hash";
}

}  // namespace
}  // namespace rctune::search
