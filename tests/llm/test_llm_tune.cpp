// The LLM proposer inside a real tuning loop: MCTS expands nodes with a (fake) model's proposals
// over HTTP, and the same run replayed from the response cache with the server stopped makes the
// same decisions.
#include <gtest/gtest.h>

#include <filesystem>

#include "fake_openai_server.h"
#include "rctune/ir/operators.h"
#include "rctune/llm/llm_proposer.h"
#include "rctune/search/evaluator.h"
#include "rctune/search/tuner.h"
#include "split_tweaker.h"

namespace rctune::llm {
namespace {

using testing::FakeOpenAiServer;

double by_hash(const search::Candidate& c) { return 1.0 + static_cast<double>(c.hash % 89); }

struct RunResult {
  std::vector<std::string> traces;  // every record's trace, in order
  std::vector<std::string> proposers;
  std::vector<ModelStats> stats;
};

RunResult run(const std::string& base_url, const std::string& cache_dir) {
  auto w = std::make_shared<const ir::Workload>(ir::make_operator("matmul:M=64,N=64,K=64"));
  LlmOptions o;
  Endpoint e = testing::fake_endpoint(base_url, 5, 0, Endpoint{}.backoff_s);  // never retries
  e.name = "fake";
  e.model = "fake-model";
  o.models.push_back(e);
  o.client.cache_dir = cache_dir;
  auto heuristic = search::make_proposer("heuristic", nullptr);
  LlmProposer proposer(o, heuristic.get());
  search::SyntheticEvaluator eval(by_hash);
  search::TuneOptions t;
  t.proposer = "llm";
  t.budget = 18;
  t.seed = 4;
  const search::TaskOutcome out = search::tune_task(w, "mm", 0, eval, t, {}, {}, &proposer);
  RunResult r;
  for (const auto& s : out.records) {
    r.traces.push_back(s.trace);
    r.proposers.push_back(s.proposer);
  }
  r.stats = proposer.stats();
  return r;
}

TEST(LlmTune, ModelProposalsExpandTheTreeAndAReplayFromTheCacheDecidesTheSame) {
  const std::string cache = (std::filesystem::temp_directory_path() / "rctune-llm-tune-cache").string();
  std::filesystem::remove_all(cache);
  RunResult live;
  {
    FakeOpenAiServer server;
    testing::serve_split_tweaker(server);
    live = run(server.base_url(), cache);
    EXPECT_GT(server.request_count(), 0u);
  }
  int from_llm = 0;
  for (const std::string& p : live.proposers) from_llm += p == "llm" ? 1 : 0;
  EXPECT_GT(from_llm, 0) << "some measured programs came from the model's proposals";
  ASSERT_EQ(live.stats.size(), 1u);
  EXPECT_GT(live.stats[0].calls, 0);

  // The server is gone: every answer comes from the cache, and the decisions are the same.
  const RunResult replay = run(FakeOpenAiServer::refused_base_url(), cache);
  EXPECT_EQ(replay.traces, live.traces);
  EXPECT_EQ(replay.proposers, live.proposers);
  ASSERT_EQ(replay.stats.size(), 1u);
  EXPECT_EQ(replay.stats[0].cache_hits, replay.stats[0].calls);
  EXPECT_EQ(replay.stats[0].failures, 0);
  std::filesystem::remove_all(cache);
}

TEST(LlmTune, AnUnreachableModelFallsBackToTheHeuristicAndTheRunCompletes) {
  const std::string cache = (std::filesystem::temp_directory_path() / "rctune-llm-tune-cache2").string();
  std::filesystem::remove_all(cache);
  const RunResult r = run(FakeOpenAiServer::refused_base_url(), cache);
  EXPECT_EQ(r.traces.size(), 18u);
  ASSERT_EQ(r.stats.size(), 1u);
  EXPECT_GT(r.stats[0].fallbacks, 0);
  EXPECT_EQ(r.stats[0].fallbacks, r.stats[0].calls);
  std::filesystem::remove_all(cache);
}

}  // namespace
}  // namespace rctune::llm
