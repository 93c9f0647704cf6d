// Tests of answer_batched (rctune/llm/request_batcher.h) against the fake OpenAI-compatible server:
// merging identical requests, sharing out their choices, tokens and cost, sending distinct requests
// together, several models, and the batch's counts.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "llm/fake_openai_server.h"
#include "rctune/llm/request_batcher.h"

namespace rctune::llm {
namespace {

namespace fs = std::filesystem;
using testing::FakeOpenAiServer;
using testing::FakeResponse;
using testing::RecordedRequest;

Endpoint endpoint_for(const std::string& base_url, const std::string& model = "test-model") {
  Endpoint e = testing::fake_endpoint(base_url, 10, 0, 0.01);
  e.model = model;
  return e;
}

PendingRequest pending(int requester, const std::string& prompt, int n = 1, uint64_t sample_index = 0,
                       size_t model = 0) {
  PendingRequest p;
  p.requester = requester;
  p.model = model;
  p.request.messages = {{"system", "You tune kernels."}, {"user", prompt}};
  p.request.n = n;
  p.request.sample_index = sample_index;
  return p;
}

// The "n" a recorded request asked for (the client omits it when 1).
int n_of(const RecordedRequest& r) { return r.json.contains("n") ? r.json["n"].get<int>() : 1; }
std::string prompt_of(const RecordedRequest& r) {
  return r.json["messages"][1]["content"].get<std::string>();
}

// Answers as many choices as asked ("<prompt> #k"), or `choices` when given, after `delay_ms`.
FakeOpenAiServer::Handler echo_n(int delay_ms = 0, int choices = -1) {
  return [=](const RecordedRequest& r) {
    std::vector<std::string> contents;
    const int count = choices >= 0 ? choices : n_of(r);
    for (int k = 0; k < count; ++k) contents.push_back(prompt_of(r) + " #" + std::to_string(k));
    return FakeResponse::answers(contents).after_ms(delay_ms);
  };
}

std::vector<ChatClient> clients_for(const std::vector<std::string>& base_urls, ClientOptions options = {}) {
  std::vector<ChatClient> clients;
  for (size_t i = 0; i < base_urls.size(); ++i)
    clients.emplace_back(endpoint_for(base_urls[i], "model-" + std::to_string(i)), options);
  return clients;
}

// A fake server that answers each request with its prompt numbered n times ("p #0", "p #1", ...),
// and a client of it.
class RequestBatcherOfAnEchoServer : public ::testing::Test {
 protected:
  RequestBatcherOfAnEchoServer() { server.set_handler(echo_n()); }

  FakeOpenAiServer server;
  std::vector<ChatClient> clients = clients_for({server.base_url()});
};

// The choices of each answer, in order.
using Choices = std::vector<std::vector<std::string>>;
Choices choices_of(const std::vector<ChatResponse>& answers) {
  Choices choices;
  for (const ChatResponse& a : answers) choices.push_back(a.choices);
  return choices;
}

TEST_F(RequestBatcherOfAnEchoServer, IdenticalRequestsAreSentOnceAskingForTheSumOfTheirN) {
  const auto answers = answer_batched(
      clients, {pending(0, "tune matmul"), pending(1, "tune matmul"), pending(2, "tune matmul")});
  ASSERT_EQ(server.request_count(), 1u);
  EXPECT_EQ(n_of(server.requests()[0]), 3);
  ASSERT_EQ(answers.size(), 3u);
  std::set<std::string> seen;
  for (const auto& a : answers) {
    ASSERT_TRUE(a.ok) << a.error;
    ASSERT_EQ(a.choices.size(), 1u);
    seen.insert(a.choices[0]);
  }
  EXPECT_EQ(seen.size(), 3u);  // each requester got a different completion
}

TEST_F(RequestBatcherOfAnEchoServer, ChoicesAreSharedOutInRequestOrder) {
  const auto answers = answer_batched(clients, {pending(0, "p", 2), pending(1, "p", 1), pending(2, "p", 3)});
  ASSERT_EQ(server.request_count(), 1u);
  EXPECT_EQ(n_of(server.requests()[0]), 6);
  EXPECT_EQ(choices_of(answers), (Choices{{"p #0", "p #1"}, {"p #2"}, {"p #3", "p #4", "p #5"}}));
  EXPECT_EQ(answers[0].finish_reasons.size(), 2u);
  EXPECT_EQ(answers[1].finish_reasons.size(), 1u);
  EXPECT_EQ(answers[2].finish_reasons.size(), 3u);
}

TEST(RequestBatcher, MergedRequestTakesTheSmallestSampleIndex) {
  const fs::path dir = fs::temp_directory_path() / ("rctune-batcher-cache-" + std::to_string(getpid()));
  fs::remove_all(dir);
  FakeOpenAiServer server;
  server.set_handler(echo_n());
  ClientOptions options;
  options.cache_dir = dir.string();
  auto clients = clients_for({server.base_url()}, options);
  const auto answers = answer_batched(clients, {pending(0, "p", 1, 7), pending(1, "p", 2, 3)});
  ASSERT_TRUE(answers[0].ok) << answers[0].error;
  // The merged request (n = 3, sample_index = 3) is now in the cache under its own key.
  ChatRequest merged = pending(0, "p", 3, 3).request;
  const ChatResponse again = clients[0].complete(merged);
  EXPECT_TRUE(again.from_cache);
  EXPECT_EQ(server.request_count(), 1u);
  fs::remove_all(dir);
}

TEST(RequestBatcher, DistinctRequestsAreInFlightTogether) {
  FakeOpenAiServer server;
  server.set_handler(echo_n(/*delay_ms=*/300));
  auto clients = clients_for({server.base_url()});
  const auto answers = answer_batched(clients, {pending(0, "a"), pending(1, "b"), pending(2, "c")});
  EXPECT_EQ(server.request_count(), 3u);
  EXPECT_GE(server.max_in_flight(), 2);  // they overlapped
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(choices_of(answers), (Choices{{"a #0"}, {"b #0"}, {"c #0"}}));
}

TEST_F(RequestBatcherOfAnEchoServer, MixedBatchMergesOnlyIdenticalRequests) {
  const auto answers = answer_batched(
      clients, {pending(0, "a"), pending(1, "b"), pending(2, "a"), pending(3, "c"), pending(4, "b")});
  ASSERT_EQ(server.request_count(), 3u);
  std::multiset<std::pair<std::string, int>> sent;
  for (const auto& r : server.requests()) sent.insert({prompt_of(r), n_of(r)});
  EXPECT_EQ(sent, (std::multiset<std::pair<std::string, int>>{{"a", 2}, {"b", 2}, {"c", 1}}));
  ASSERT_EQ(answers.size(), 5u);
  EXPECT_EQ(choices_of(answers), (Choices{{"a #0"}, {"b #0"}, {"a #1"}, {"c #0"}, {"b #1"}}));
}

TEST_F(RequestBatcherOfAnEchoServer, DifferentSystemMessagesAreNotMerged) {
  PendingRequest other = pending(1, "p");
  other.request.messages[0].content = "You tune GPU kernels.";
  answer_batched(clients, {pending(0, "p"), other});
  EXPECT_EQ(server.request_count(), 2u);
}

TEST(RequestBatcher, TokensAndCostAreSplitInProportionToN) {
  FakeOpenAiServer server;
  server.push(FakeResponse::answers({"x0", "x1", "x2"}, /*prompt_tokens=*/100, /*completion_tokens=*/51));
  Endpoint e = endpoint_for(server.base_url());
  e.price_prompt = 2.0;
  e.price_completion = 10.0;
  std::vector<ChatClient> clients;
  clients.emplace_back(e);
  const auto answers = answer_batched(clients, {pending(0, "p", 1), pending(1, "p", 2)});
  ASSERT_TRUE(answers[0].ok && answers[1].ok);
  // 100 * 2/3 = 66 (rounded down) to the second, the remaining 34 to the first; 51 * 2/3 = 34.
  EXPECT_EQ(answers[1].prompt_tokens, 66);
  EXPECT_EQ(answers[0].prompt_tokens, 34);
  EXPECT_EQ(answers[1].completion_tokens, 34);
  EXPECT_EQ(answers[0].completion_tokens, 17);
  const double cost = 100 * 2.0 / 1e6 + 51 * 10.0 / 1e6;
  EXPECT_NEAR(answers[0].cost_usd + answers[1].cost_usd, cost, 1e-15);
  EXPECT_NEAR(answers[1].cost_usd, cost * 2 / 3, 1e-15);
}

TEST_F(RequestBatcherOfAnEchoServer, LatencyAttemptsAndStatusAreCopiedToEveryRequester) {
  const auto answers = answer_batched(clients, {pending(0, "p"), pending(1, "p")});
  for (const auto& a : answers) {
    EXPECT_EQ(a.http_status, 200);
    EXPECT_EQ(a.attempts, 1);
    EXPECT_FALSE(a.from_cache);
  }
  EXPECT_EQ(answers[0].latency_s, answers[1].latency_s);
}

TEST(RequestBatcher, RequesterLeftWithoutChoicesGetsAnError) {
  FakeOpenAiServer server;
  server.set_handler(echo_n(0, /*choices=*/2));  // fewer than the 3 asked
  auto clients = clients_for({server.base_url()});
  const auto answers = answer_batched(clients, {pending(0, "p"), pending(1, "p"), pending(2, "p")});
  ASSERT_TRUE(answers[0].ok) << answers[0].error;
  ASSERT_TRUE(answers[1].ok) << answers[1].error;
  EXPECT_EQ(answers[0].choices, (std::vector<std::string>{"p #0"}));
  EXPECT_EQ(answers[1].choices, (std::vector<std::string>{"p #1"}));
  EXPECT_FALSE(answers[2].ok);
  EXPECT_TRUE(answers[2].choices.empty());
  EXPECT_EQ(answers[2].error, "the endpoint returned 2 of 3 completions");
}

TEST(RequestBatcher, RequesterWithPartOfItsShareKeepsIt) {
  FakeOpenAiServer server;
  server.set_handler(echo_n(0, /*choices=*/3));  // fewer than the 4 asked
  auto clients = clients_for({server.base_url()});
  const auto answers = answer_batched(clients, {pending(0, "p", 2), pending(1, "p", 2)});
  ASSERT_TRUE(answers[1].ok) << answers[1].error;
  EXPECT_EQ(answers[0].choices, (std::vector<std::string>{"p #0", "p #1"}));
  EXPECT_EQ(answers[1].choices, (std::vector<std::string>{"p #2"}));
  EXPECT_EQ(answers[1].finish_reasons.size(), 1u);
}

TEST(RequestBatcher, FailedRequestGivesEveryRequesterItsError) {
  FakeOpenAiServer server;
  server.push(FakeResponse::error(400, "context too long"));
  auto clients = clients_for({server.base_url()});
  const auto answers = answer_batched(clients, {pending(0, "p"), pending(1, "p")});
  ASSERT_EQ(server.request_count(), 1u);
  for (const auto& a : answers) {
    EXPECT_FALSE(a.ok);
    EXPECT_EQ(a.http_status, 400);
    EXPECT_NE(a.error.find("context too long"), std::string::npos) << a.error;
    EXPECT_TRUE(a.choices.empty());
  }
}

TEST(RequestBatcher, TwoModelsGoEachToItsEndpoint) {
  FakeOpenAiServer cheap, strong;
  cheap.set_handler(echo_n());
  strong.set_handler(echo_n());
  auto clients = clients_for({cheap.base_url(), strong.base_url()});
  const auto answers =
      answer_batched(clients, {pending(0, "p", 1, 0, /*model=*/0), pending(1, "p", 1, 0, /*model=*/1),
                               pending(2, "q", 1, 0, /*model=*/1)});
  ASSERT_EQ(cheap.request_count(), 1u);
  ASSERT_EQ(strong.request_count(), 2u);  // the same prompt to another model is not merged
  EXPECT_EQ(cheap.requests()[0].json["model"], "model-0");
  EXPECT_EQ(strong.requests()[0].json["model"], "model-1");
  for (const auto& a : answers) EXPECT_TRUE(a.ok) << a.error;
  EXPECT_EQ(answers[2].choices, (std::vector<std::string>{"q #0"}));
}

TEST_F(RequestBatcherOfAnEchoServer, StatsCountRequestsSentAndMerged) {
  BatchStats stats;
  answer_batched(clients, {pending(0, "a"), pending(1, "a"), pending(2, "b"), pending(3, "a")}, &stats);
  EXPECT_EQ(stats.requests, 4);
  EXPECT_EQ(stats.http_requests, 2);
  EXPECT_EQ(stats.merged, 2);
  BatchStats total;
  total += stats;
  total += stats;
  EXPECT_EQ(total.requests, 8);
  EXPECT_EQ(total.http_requests, 4);
  EXPECT_EQ(total.merged, 4);
}

TEST_F(RequestBatcherOfAnEchoServer, RequestWithInvalidNIsNotMergedAndReported) {
  BatchStats stats;
  const auto answers = answer_batched(clients, {pending(0, "p", 1), pending(1, "p", 0)}, &stats);
  ASSERT_TRUE(answers[0].ok) << answers[0].error;
  EXPECT_EQ(answers[0].choices.size(), 1u);
  EXPECT_FALSE(answers[1].ok);
  EXPECT_NE(answers[1].error.find("n must be at least 1"), std::string::npos) << answers[1].error;
  EXPECT_EQ(stats.merged, 0);
}

TEST_F(RequestBatcherOfAnEchoServer, EmptyBatchSendsNothing) {
  BatchStats stats;
  stats.requests = 99;
  EXPECT_TRUE(answer_batched(clients, {}, &stats).empty());
  EXPECT_EQ(server.request_count(), 0u);
  EXPECT_EQ(stats.requests, 0);
  EXPECT_EQ(stats.http_requests, 0);
}

TEST_F(RequestBatcherOfAnEchoServer, ModelWithoutAClientThrowsBeforeSendingAnything) {
  try {
    answer_batched(clients, {pending(0, "p"), pending(5, "p", 1, 0, /*model=*/2)});
    FAIL() << "expected std::out_of_range";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("model 2"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.request_count(), 0u);
}

}  // namespace
}  // namespace rctune::llm
