// What travels between ranks: records and message bodies survive the JSON round trip exactly
// (NaN included), and the in-process mailbox keeps order.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <thread>

#include "rctune/dist/codec.h"
#include "rctune/dist/mailbox.h"
#include "rctune/dist/protocol.h"
#include "runlog/runlog_test_util.h"

namespace rctune::dist {
namespace {

runlog::SampleRecord sample() {
  runlog::SampleRecord s;
  s.index = 41;
  s.wall_time = 12.5;
  s.rank = 3;
  s.strategy = "mcts";
  s.proposer = "heuristic";
  s.node = 17;
  s.parent_node = 4;
  s.trace = "split(C, i, [None, 8])\nvectorize(C, i.1)\n";
  s.rationale = "tile \"i\" \xff for the registers";  // quotes and a byte that is not UTF-8
  s.structural_hash = 0xfedcba9876543210ull;
  s.status = runlog::SampleStatus::WrongResult;
  s.error = "max error 3e-2";
  s.cached = true;
  s.median_s = 1.25e-4;
  s.min_s = 1.2e-4;
  s.max_s = 1.5e-4;
  s.iqr_s = 2e-6;
  s.gflops = runlog::kNaN;
  s.predicted = 0.75;
  s.compile_s = 0.9;
  return s;
}

TEST(DistCodec, SampleRoundTripsExactlyWithNaN) {
  runlog::SampleRecord s = sample();
  runlog::SampleRecord back = sample_from_json(nlohmann::json::parse(dump(to_json(s))));
  s.rationale = back.rationale;  // the invalid byte is replaced, the rest kept
  EXPECT_EQ(back, s);
  EXPECT_NE(back.rationale.find("tile \"i\""), std::string::npos);
  EXPECT_TRUE(std::isnan(back.gflops));
}

TEST(DistCodec, TreeNodeBestAndStatisticsRoundTrip) {
  runlog::TreeNode n;
  n.id = 5;
  n.parent = 2;
  n.action = "3: split(C, j, [None, 16])";
  n.visits = 9;
  n.value = 4.5;
  n.best_gflops = runlog::kNaN;
  n.sample = 7;
  n.structural_hash = ~0ull;
  EXPECT_EQ(tree_node_from_json(nlohmann::json::parse(dump(to_json(n)))), n);

  runlog::BestSchedule b;
  b.sample = 3;
  b.wall_time = 1.5;
  b.trace = "parallel(C, i)\n";
  b.program = "for i ...";
  b.gflops = 101.5;
  b.median_s = 2e-3;
  b.speedup = 88;
  const runlog::BestSchedule bb = best_from_json(nlohmann::json::parse(dump(to_json(b))));
  EXPECT_EQ(bb.trace, b.trace);
  EXPECT_EQ(bb.program, b.program);
  EXPECT_DOUBLE_EQ(bb.gflops, b.gflops);
  EXPECT_EQ(bb.sample, b.sample);

  for (int32_t rank : {1, 2}) {  // a rank of no pinned core, and one on a host whose name is not ASCII
    const runlog::RankStats r = runlog::testing::make_rank_stats(rank, 3);
    EXPECT_EQ(rank_stats_from_json(nlohmann::json::parse(dump(to_json(r)))), r);
  }
}

TEST(DistCodec, LlmCallRoundTripsExactly) {
  runlog::LlmCallRecord c;
  c.index = 7;
  c.wall_time = 3.25;
  c.rank = 2;
  c.node = 11;
  c.model = "qwen-7b";
  c.prompt_tokens = 1200;
  c.completion_tokens = 90;
  c.latency_s = 1.5;
  c.cost_usd = 0.002;
  c.ok = true;
  c.from_cache = true;
  c.fallback = true;
  c.proposals = 4;
  c.legal = 3;
  c.error = "no legal proposal";
  EXPECT_EQ(llm_call_from_json(nlohmann::json::parse(dump(to_json(c)))), c);
}

TEST(DistCodec, ARecordWithAFieldOfAnotherTypeIsRefused) {
  nlohmann::json j = to_json(runlog::LlmCallRecord{});
  j["ok"] = 1;
  EXPECT_THROW(llm_call_from_json(j), nlohmann::json::exception);
  j = to_json(sample());
  j["trace"] = 5;
  EXPECT_THROW(sample_from_json(j), nlohmann::json::exception);
  j = to_json(sample());
  j["status"] = "exploded";
  EXPECT_THROW(sample_from_json(j), nlohmann::json::exception);
  EXPECT_THROW(sample_from_json(nlohmann::json::array()), nlohmann::json::exception);
}

TEST(DistCodec, AnIntegerOutsideItsFieldsRangeIsRefused) {
  nlohmann::json j = to_json(runlog::LlmCallRecord{});
  j["proposals"] = int64_t{1} << 40;  // an int32 field
  EXPECT_THROW(llm_call_from_json(j), nlohmann::json::exception);
  j = to_json(sample());
  j["structural_hash"] = -1;  // an unsigned field
  EXPECT_THROW(sample_from_json(j), nlohmann::json::exception);
  j = to_json(sample());
  j["index"] = 1.5;
  EXPECT_THROW(sample_from_json(j), nlohmann::json::exception);
}

TEST(DistCodec, AMissingFieldIsRefused) {
  nlohmann::json j = to_json(runlog::RankStats{});
  j.erase("merge_s");
  EXPECT_THROW(rank_stats_from_json(j), nlohmann::json::exception);
}

TEST(DistProtocol, AssignmentCarriesTheRecordedSamples) {
  Assignment a;
  a.task = 2;
  a.share = 17;
  a.measure_baselines = true;
  a.reference_gflops = 1.5;
  a.observed = {sample(), sample()};
  const Assignment b = assignment_from_body(to_body(a));
  EXPECT_EQ(b.task, 2);
  EXPECT_EQ(b.share, 17);
  EXPECT_TRUE(b.measure_baselines);
  EXPECT_DOUBLE_EQ(b.reference_gflops, 1.5);
  ASSERT_EQ(b.observed.size(), 2u);
  EXPECT_EQ(b.observed[1].structural_hash, sample().structural_hash);
  EXPECT_EQ(assignment_from_body(to_body(Assignment{})).task, -1) << "no task: the end";
}

TEST(DistProtocol, AssignmentCarriesTheDatabasesSeeds) {
  Assignment a;
  a.task = 0;
  a.seeds = {{"split(C, i, [None, 8])\n", "database", "recorded on this machine: 12.0 GFLOP/s"},
             {"vectorize(C, j)\n", "database", "best schedule of the neighbour matmul:M=8,N=8,K=8"}};
  const Assignment b = assignment_from_body(to_body(a));
  ASSERT_EQ(b.seeds.size(), 2u);
  EXPECT_EQ(b.seeds[0].trace, a.seeds[0].trace);
  EXPECT_EQ(b.seeds[1].proposer, "database");
  EXPECT_EQ(b.seeds[1].rationale, a.seeds[1].rationale);
}

TEST(DistProtocol, SyncAndPeerNewsRoundTrip) {
  const SyncRequest req = sync_from_body(sync_body(4, {{1, 10, 2.5}, {2, 3, 0.5}}, {~0ull, 5}));
  EXPECT_EQ(req.task, 4);
  ASSERT_EQ(req.root.size(), 2u);
  EXPECT_EQ(req.root[1].hash, 2u);
  EXPECT_EQ(req.root[1].visits, 3);
  EXPECT_EQ(req.picks, (std::vector<uint64_t>{~0ull, 5}));
  search::PeerNews n;
  n.measured = {sample()};
  n.root = {{9, 1, 1}};
  n.claimed = {7, 8};
  const search::PeerNews m = peer_news_from_body(to_body(n));
  EXPECT_EQ(m.claimed, (std::vector<uint64_t>{7, 8}));
  ASSERT_EQ(m.measured.size(), 1u);
  EXPECT_EQ(m.measured[0].index, 41);
  ASSERT_EQ(m.root.size(), 1u);
  EXPECT_EQ(m.root[0].hash, 9u);
}

TEST(DistProtocol, TaskReportCarriesTheTreeAndCounts) {
  TaskReport r;
  r.task = 1;
  r.tree.resize(3);
  r.tree[2].parent = 0;
  r.samples = 12;
  r.failures = 2;
  r.illegal = 1;
  r.observed = 5;
  r.proposer_failures.illegal = 7;
  r.proposer_failures.unparsable = 3;
  r.proposer_failures.internal = 1;
  r.proposer_failures.first_internal = "expand: std::out_of_range: vector";
  const TaskReport back = task_report_from_body(to_body(r));
  EXPECT_EQ(back.tree.size(), 3u);
  EXPECT_EQ(back.samples, 12);
  EXPECT_EQ(back.failures, 2);
  EXPECT_EQ(back.illegal, 1);
  EXPECT_EQ(back.observed, 5);
  EXPECT_EQ(back.proposer_failures.illegal, 7);
  EXPECT_EQ(back.proposer_failures.unparsable, 3);
  EXPECT_EQ(back.proposer_failures.internal, 1);
  EXPECT_EQ(back.proposer_failures.first_internal, "expand: std::out_of_range: vector");
}

TEST(DistMailbox, LocalMailboxKeepsOrderBetweenThreads) {
  MessageQueue to_hub, to_member;
  LocalMailbox member(to_hub, to_member);
  std::thread hub([&] {
    for (int i = 0; i < 100; ++i) {
      Message m = to_hub.pop();
      EXPECT_EQ(m.body, std::to_string(i));
      to_member.push({MessageType::SyncReply, 0, m.body});
    }
  });
  for (int i = 0; i < 100; ++i) {
    member.send({MessageType::Sync, 0, std::to_string(i)});
    EXPECT_EQ(member.receive().body, std::to_string(i));
  }
  hub.join();
  EXPECT_FALSE(to_hub.try_pop().has_value());
  EXPECT_FALSE(to_member.pop_for(0.001).has_value());
}

TEST(DistMailbox, PackedMessageStartsWithItsType) {
  const std::string bytes = pack_message({MessageType::Samples, 3, "{}"});
  ASSERT_EQ(bytes.size(), sizeof(int32_t) + 2);
  int32_t type = 0;
  std::memcpy(&type, bytes.data(), sizeof type);
  EXPECT_EQ(type, static_cast<int32_t>(MessageType::Samples));
  EXPECT_EQ(bytes.substr(sizeof type), "{}");
}

}  // namespace
}  // namespace rctune::dist
