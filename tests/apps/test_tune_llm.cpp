// `rctune tune` with `proposer: llm` end to end: the real binary talks to a fake OpenAI-compatible
// server on a loopback port, records every call in the trace, keeps the API key out of every file
// it writes, and `rctune llm-check` shows one exchange.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../runlog/runlog_test_util.h"
#include "cli_runner.h"
#include "llm/fake_openai_server.h"
#include "llm/split_tweaker.h"
#include "rctune/runlog/runlog.h"

namespace rctune::testing {
namespace {

using llm::testing::FakeOpenAiServer;
using runlog::testing::TempDir;

constexpr const char* kSecret = "sk-test-5ecret-value-0417";

std::string write_config(const TempDir& dir, const std::string& url, int budget) {
  const std::string path = dir.file("llm.yaml");
  std::ofstream(path)
      << "seed: 2\nbudget: " << budget << "\nproposer: llm\nout: " << dir.file("run.h5")
      << "\ntasks:\n  - workload: matmul:M=64,N=64,K=64\n"
         "measure:\n  min_time: 0.01\n"
      << "llm:\n  cache_dir: llm-cache\n  models:\n    - name: fake\n      url: " << url
      << "\n      model: fake-model\n      api_key_env: RCTUNE_TEST_API_KEY\n"
         "      price_prompt: 1.0\n      price_completion: 2.0\n      timeout: 10\n      max_retries: 1\n";
  return path;
}

// Every file under `dir` whose bytes contain `needle`.
std::vector<std::string> files_containing(const std::filesystem::path& dir, const std::string& needle) {
  std::vector<std::string> hits;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().find(needle) != std::string::npos) hits.push_back(e.path().string());
  }
  return hits;
}

class TuneLlm : public ::testing::Test {
 protected:
  void SetUp() override { setenv("RCTUNE_TEST_API_KEY", kSecret, 1); }
  void TearDown() override { unsetenv("RCTUNE_TEST_API_KEY"); }
};

TEST_F(TuneLlm, TunesWithAModelRecordsItsCallsAndNeverWritesTheKey) {
  TempDir dir;
  FakeOpenAiServer server;
  llm::testing::serve_split_tweaker(server);
  const CliResult r = run_rctune("tune " + write_config(dir, server.base_url(), 8) + " > " +
                                 dir.file("tune.log") + " 2>&1; cat " + dir.file("tune.log"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_GT(server.request_count(), 0u);
  EXPECT_EQ(server.requests().front().header("Authorization"), std::string("Bearer ") + kSecret);

  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  EXPECT_EQ(run.info.proposer, "llm");
  const runlog::TaskLog& t = run.tasks.at(0);
  ASSERT_FALSE(t.llm_calls.empty());
  int ok = 0;
  for (const auto& c : t.llm_calls) {
    EXPECT_EQ(c.model, "fake");
    ok += c.ok ? 1 : 0;
    if (c.ok && !c.from_cache) {
      EXPECT_GT(c.cost_usd, 0);
    }
  }
  EXPECT_GT(ok, 0);
  int from_llm = 0;
  for (const auto& s : t.samples) from_llm += s.proposer == "llm" ? 1 : 0;
  EXPECT_GT(from_llm, 0) << r.output;

  EXPECT_TRUE(files_containing(dir.path(), kSecret).empty()) << "the API key was written to a file";
  const CliResult report = run_rctune("report " + dir.file("run.h5"));
  EXPECT_EQ(report.exit_code, 0) << report.output;
  EXPECT_NE(report.output.find("fake"), std::string::npos) << report.output;
  EXPECT_EQ(report.output.find(kSecret), std::string::npos);
}

TEST_F(TuneLlm, CommandLineEndpointReplacesTheConfigs) {
  TempDir dir;
  FakeOpenAiServer server;
  llm::testing::serve_split_tweaker(server);
  const std::string config = write_config(dir, FakeOpenAiServer::refused_base_url(), 4);
  const CliResult r =
      run_rctune("tune " + config + " --quiet --llm-url " + server.base_url() + " --llm-model other-model");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_GT(server.request_count(), 0u);
  EXPECT_EQ(server.requests().front().json.value("model", ""), "other-model");
}

TEST_F(TuneLlm, AnUnsetKeyVariableFallsBackAndSaysWhich) {
  unsetenv("RCTUNE_TEST_API_KEY");
  TempDir dir;
  FakeOpenAiServer server;
  llm::testing::serve_split_tweaker(server);
  const CliResult r = run_rctune("tune " + write_config(dir, server.base_url(), 4) + " --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(server.request_count(), 0u) << "no request without the key";
  const runlog::TaskLog t = runlog::read_run_log(dir.file("run.h5")).tasks.at(0);
  ASSERT_FALSE(t.llm_calls.empty());
  EXPECT_TRUE(t.llm_calls[0].fallback);
  EXPECT_NE(t.llm_calls[0].error.find("RCTUNE_TEST_API_KEY"), std::string::npos) << t.llm_calls[0].error;
}

TEST_F(TuneLlm, LlmCheckShowsTheAnswerTheParsedProposalsAndTheirValidity) {
  TempDir dir;
  FakeOpenAiServer server;
  llm::testing::serve_split_tweaker(server);
  const CliResult r = run_rctune("llm-check " + write_config(dir, server.base_url(), 4));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(server.request_count(), 1u);
  EXPECT_NE(r.output.find("latency"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("vectorize(NoSuchStage, i)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("illegal"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("legal"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(kSecret), std::string::npos);
}

TEST_F(TuneLlm, LlmCheckAgainstNoServerFailsWithTheReason) {
  TempDir dir;
  const CliResult r = run_rctune("llm-check " + write_config(dir, FakeOpenAiServer::refused_base_url(), 4));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("127.0.0.1"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace rctune::testing
