// Tests of the OpenAI-compatible chat client (rctune/llm/client.h) against the fake server:
// parsing, retries, Retry-After, timeouts, connection errors, concurrency, the API key's handling
// and the response cache (hits, misses, offline replay).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "llm/fake_openai_server.h"
#include "rctune/llm/client.h"
#include "runlog/runlog_test_util.h"
#include "support/contains.h"
#include "support/file_text.h"

namespace rctune::llm {
namespace {

using rctune::test_support::expect_contains_all;
using rctune::test_support::file_text;

namespace fs = std::filesystem;
using testing::FakeOpenAiServer;
using testing::FakeResponse;

using runlog::testing::TempDir;

// A client's options that cache its answers in `cache`.
ClientOptions cached_in(const TempDir& cache) {
  ClientOptions options;
  options.cache_dir = cache.path().string();
  return options;
}

Endpoint endpoint_for(const std::string& base_url) {
  Endpoint e = testing::fake_endpoint(base_url, 10, 2, 0.02);
  e.temperature = 0.5;
  e.max_tokens = 256;
  return e;
}

ChatRequest request(const std::string& text, uint64_t sample_index = 0, int n = 1) {
  ChatRequest r;
  r.messages = {{"system", "You tune kernels."}, {"user", text}};
  r.n = n;
  r.sample_index = sample_index;
  return r;
}

// What a client of `e` that may retry `max_retries` times gets for one request.
ChatResponse ask_with_retries(Endpoint e, int max_retries) {
  e.max_retries = max_retries;
  return ChatClient(e).complete(request("tune"));
}

// Expects `r` to have failed after `attempts` attempts, the last one answered with HTTP `status` (0:
// no answer), with an error that names each of `parts`.
void expect_failure(const ChatResponse& r, int attempts, int status,
                    std::initializer_list<std::string_view> parts) {
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.attempts, attempts);
  EXPECT_EQ(r.http_status, status);
  expect_contains_all(r.error, parts);
}

std::vector<std::string> json_files(const fs::path& dir) {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) files.push_back(entry.path().string());
  return files;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

TEST(ChatClient, GoodAnswerIsParsedWithTokensAndCost) {
  FakeOpenAiServer server;
  server.push(FakeResponse::answer("split the loop", 1000, 500));
  Endpoint e = endpoint_for(server.base_url());
  e.price_prompt = 2.0;       // USD per million prompt tokens
  e.price_completion = 10.0;  // USD per million completion tokens
  ChatClient client(e);
  const ChatResponse r = client.complete(request("tune matmul"));
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.choices.size(), 1u);
  EXPECT_EQ(r.choices[0], "split the loop");
  ASSERT_EQ(r.finish_reasons.size(), 1u);
  EXPECT_EQ(r.finish_reasons[0], "stop");
  EXPECT_EQ(r.prompt_tokens, 1000);
  EXPECT_EQ(r.completion_tokens, 500);
  EXPECT_NEAR(r.cost_usd, 1000 * 2.0 / 1e6 + 500 * 10.0 / 1e6, 1e-12);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.http_status, 200);
  EXPECT_FALSE(r.from_cache);
  EXPECT_GT(r.latency_s, 0);
}

TEST(ChatClient, RequestFollowsTheChatCompletionsFormat) {
  FakeOpenAiServer server;
  server.push(FakeResponse::answer("ok"));
  ChatClient client(endpoint_for(server.base_url() + "/"));  // a trailing slash is tolerated
  ASSERT_TRUE(client.complete(request("tune matmul")).ok);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& rec = requests[0];
  EXPECT_EQ(rec.method, "POST");
  EXPECT_EQ(rec.path, "/v1/chat/completions");
  EXPECT_NE(rec.header("Content-Type").find("application/json"), std::string::npos);
  ASSERT_TRUE(rec.json.is_object()) << rec.body;
  EXPECT_EQ(rec.json["model"], "test-model");
  EXPECT_DOUBLE_EQ(rec.json["temperature"].get<double>(), 0.5);
  EXPECT_EQ(rec.json["max_tokens"], 256);
  EXPECT_FALSE(rec.json.contains("n"));  // omitted when 1: some servers reject it
  ASSERT_EQ(rec.json["messages"].size(), 2u);
  EXPECT_EQ(rec.json["messages"][0]["role"], "system");
  EXPECT_EQ(rec.json["messages"][1]["role"], "user");
  EXPECT_EQ(rec.json["messages"][1]["content"], "tune matmul");
  EXPECT_TRUE(rec.header("Authorization").empty());  // no api_key_env: no key sent
}

TEST(ChatClient, ExtraHeadersAreSent) {
  FakeOpenAiServer server;
  server.push(FakeResponse::answer("ok"));
  Endpoint e = endpoint_for(server.base_url());
  e.headers = {{"X-Project", "rctune"}, {"HTTP-Referer", "https://example.org"}};
  ChatClient client(e);
  ASSERT_TRUE(client.complete(request("x")).ok);
  EXPECT_EQ(server.requests().at(0).header("X-Project"), "rctune");
  EXPECT_EQ(server.requests().at(0).header("HTTP-Referer"), "https://example.org");
}

TEST(ChatClient, SeveralChoicesWhenNIsAboveOne) {
  FakeOpenAiServer server;
  server.push(FakeResponse::answers({"first", "second", "third"}));
  ChatClient client(endpoint_for(server.base_url()));
  const ChatResponse r = client.complete(request("tune", 0, 3));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.choices, (std::vector<std::string>{"first", "second", "third"}));
  EXPECT_EQ(r.finish_reasons.size(), 3u);
  EXPECT_EQ(server.requests().at(0).json["n"], 3);
}

TEST(ChatClient, TruncatedAnswerReportsFinishReasonLength) {
  FakeOpenAiServer server;
  server.push(FakeResponse::truncated("```json\n{\"proposals\": [{\"action\": \"3: spl"));
  ChatClient client(endpoint_for(server.base_url()));
  const ChatResponse r = client.complete(request("tune"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.finish_reasons.at(0), "length");
  EXPECT_EQ(r.choices.at(0), "```json\n{\"proposals\": [{\"action\": \"3: spl");
}

// Expects a client whose request the server first answers with `first` to try again and get the
// second answer.
void expect_answered_at_the_second_attempt(const FakeResponse& first) {
  FakeOpenAiServer server;
  server.push(first);
  server.push(FakeResponse::answer("second try"));
  const ChatResponse r = ChatClient(endpoint_for(server.base_url())).complete(request("tune"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.choices.at(0), "second try");
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(server.request_count(), 2u);
}

TEST(ChatClient, ServerErrorIsRetriedUntilSuccess) {
  expect_answered_at_the_second_attempt(FakeResponse::error(500, "internal error"));
}

TEST(ChatClient, ServerErrorsExhaustTheRetries) {
  FakeOpenAiServer server;
  server.push(FakeResponse::error(503, "overloaded"), 3);
  // The error names the body's start.
  expect_failure(ask_with_retries(endpoint_for(server.base_url()), 2), 3, 503,
                 {"HTTP 503", "3 attempts", "overloaded"});
  EXPECT_EQ(server.request_count(), 3u);
}

TEST(ChatClient, RateLimitHonoursRetryAfter) {
  FakeOpenAiServer server;
  server.push(FakeResponse::error(429, "rate limited", "1"));
  server.push(FakeResponse::answer("after the wait"));
  Endpoint e = endpoint_for(server.base_url());
  e.backoff_s = 0.01;  // far shorter than the server's Retry-After
  ChatClient client(e);
  const auto start = std::chrono::steady_clock::now();
  const ChatResponse r = client.complete(request("tune"));
  const double elapsed = seconds_since(start);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_GE(elapsed, 1.0);
  EXPECT_GE(r.latency_s, 1.0);
}

TEST(ChatClient, ClientErrorIsNotRetried) {
  FakeOpenAiServer server;
  server.push(FakeResponse::error(400, "unknown field 'foo'"));
  server.push(FakeResponse::answer("must not be reached"));
  expect_failure(ask_with_retries(endpoint_for(server.base_url()), 3), 1, 400,
                 {"HTTP 400", "unknown field", server.base_url() + "/chat/completions"});
  EXPECT_EQ(server.request_count(), 1u);
}

TEST(ChatClient, TimeoutIsRetriedThenReported) {
  FakeOpenAiServer server;
  server.push(FakeResponse::answer("too late").after_ms(5000), 2);
  Endpoint e = endpoint_for(server.base_url());
  e.timeout_s = 0.2;
  e.backoff_s = 0.05;
  expect_failure(ask_with_retries(e, 1), 2, 0, {"timeout", "0.2 s", "2 attempts"});
}

TEST(ChatClient, ConnectionRefusedGivesAClearError) {
  const std::string url = FakeOpenAiServer::refused_base_url();
  Endpoint e = endpoint_for(url);
  e.backoff_s = 0.01;
  expect_failure(ask_with_retries(e, 1), 2, 0, {"cannot connect", url + "/chat/completions"});
}

TEST(ChatClient, DroppedConnectionIsRetried) {
  expect_answered_at_the_second_attempt(FakeResponse::dropped());
}

TEST(ChatClient, MalformedBodyIsAClearErrorAndNotRetried) {
  FakeOpenAiServer server;
  server.push(FakeResponse::raw("{\"choices\": [ this is not json"));
  ChatClient client(endpoint_for(server.base_url()));
  const ChatResponse r = client.complete(request("tune"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_NE(r.error.find("malformed response (not JSON)"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("this is not json"), std::string::npos) << r.error;  // the body's start
}

TEST(ChatClient, BodyWithoutChoicesIsAClearError) {
  FakeOpenAiServer server;
  server.push(FakeResponse::raw(R"({"object": "chat.completion", "usage": {"prompt_tokens": 3}})"));
  ChatClient client(endpoint_for(server.base_url()));
  const ChatResponse r = client.complete(request("tune"));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("no \"choices\""), std::string::npos) << r.error;
}

TEST(ChatClient, ConcurrencyLimitBoundsRequestsInFlight) {
  FakeOpenAiServer server;
  // Echo each prompt slowly, so that requests overlap and answers can be matched to requests.
  server.set_handler([](const testing::RecordedRequest& rec) {
    return FakeResponse::answer("echo: " + rec.json["messages"][1]["content"].get<std::string>())
        .after_ms(300);
  });
  ClientOptions options;
  options.concurrency = 3;
  ChatClient client(endpoint_for(server.base_url()), options);
  std::vector<ChatRequest> requests;
  for (int i = 0; i < 6; ++i) requests.push_back(request("prompt " + std::to_string(i)));
  const auto responses = client.complete(requests);
  ASSERT_EQ(responses.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(responses[i].ok) << responses[i].error;
    EXPECT_EQ(responses[i].choices.at(0), "echo: prompt " + std::to_string(i));  // answers in request order
  }
  EXPECT_EQ(server.request_count(), 6u);
  EXPECT_LE(server.max_in_flight(), 3);
  EXPECT_GE(server.max_in_flight(), 2);  // they did overlap
}

// ---- the API key ----

constexpr const char* kKeyVar = "RCTUNE_TEST_LLM_API_KEY";
constexpr const char* kSecret = "sk-test-5ecret-a1b2c3d4e5f6";

TEST(ChatClient, ApiKeyIsSentButNeverWritten) {
  TempDir cache;
  ASSERT_EQ(setenv(kKeyVar, kSecret, 1), 0);
  FakeOpenAiServer server;
  server.push(FakeResponse::answer("good"));
  // Servers that echo the credentials back in an error body exist: the key must not reach the error.
  server.set_handler([](const testing::RecordedRequest& rec) {
    return FakeResponse::error(401, "invalid key: " + rec.header("Authorization"));
  });
  Endpoint e = endpoint_for(server.base_url());
  e.api_key_env = kKeyVar;
  ChatClient client(e, cached_in(cache));

  const ChatResponse good = client.complete(request("first"));
  ASSERT_TRUE(good.ok) << good.error;
  EXPECT_EQ(server.requests().at(0).header("Authorization"), std::string("Bearer ") + kSecret);

  const ChatResponse bad = client.complete(request("second"));
  ASSERT_FALSE(bad.ok);
  EXPECT_NE(bad.error.find("HTTP 401"), std::string::npos) << bad.error;
  EXPECT_EQ(bad.error.find(kSecret), std::string::npos) << bad.error;

  const auto files = json_files(cache.path());
  ASSERT_EQ(files.size(), 1u);  // the good answer, cached
  for (const auto& f : files) EXPECT_EQ(file_text(f).find(kSecret), std::string::npos) << f;
  unsetenv(kKeyVar);
}

TEST(ChatClient, UnsetApiKeyVariableIsNamedNotSent) {
  unsetenv("RCTUNE_TEST_LLM_UNSET_KEY");
  FakeOpenAiServer server;
  server.push(FakeResponse::answer("must not be reached"));
  Endpoint e = endpoint_for(server.base_url());
  e.api_key_env = "RCTUNE_TEST_LLM_UNSET_KEY";
  ChatClient client(e);
  const ChatResponse r = client.complete(request("tune"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.attempts, 0);
  EXPECT_NE(r.error.find("RCTUNE_TEST_LLM_UNSET_KEY"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("not set"), std::string::npos) << r.error;
  EXPECT_EQ(server.request_count(), 0u);
}

TEST(ChatClient, CredentialsInTheUrlAreNotShownInErrors) {
  FakeOpenAiServer server;
  server.push(FakeResponse::error(400, "bad request"));
  const std::string url = "http://someone:hunter2@127.0.0.1:" + std::to_string(server.port()) + "/v1";
  ChatClient client(endpoint_for(url));
  const ChatResponse r = client.complete(request("tune"));
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.find("hunter2"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("http://127.0.0.1:" + std::to_string(server.port()) + "/v1/chat/completions"),
            std::string::npos)
      << r.error;
}

// ---- the response cache ----

// A fake server and a fresh response cache.
class ChatClientCache : public ::testing::Test {
 protected:
  // A client of the server that caches its answers in the cache (and reads only the cache when
  // `offline`); the server answers with `answers`, in order.
  ChatClient cached_client(std::initializer_list<FakeResponse> answers, bool offline = false) {
    for (const FakeResponse& a : answers) server.push(a);
    ClientOptions options = cached_in(cache);
    options.offline = offline;
    return ChatClient(endpoint_for(server.base_url()), options);
  }

  TempDir cache;
  FakeOpenAiServer server;
};

TEST_F(ChatClientCache, RepeatedRequestIsACacheHitWithoutTheServer) {
  server.push(FakeResponse::answer("cached answer", 120, 30));
  Endpoint e = endpoint_for(server.base_url());
  e.price_prompt = 1.0;
  ChatClient client(e, cached_in(cache));
  const ChatResponse first = client.complete(request("tune"));
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_FALSE(first.from_cache);
  EXPECT_TRUE(fs::exists(cache.path() / (client.cache_key(request("tune")) + ".json")));

  const ChatResponse again = client.complete(request("tune"));
  ASSERT_TRUE(again.ok) << again.error;
  EXPECT_TRUE(again.from_cache);
  EXPECT_EQ(again.choices, first.choices);
  EXPECT_EQ(again.finish_reasons, first.finish_reasons);
  EXPECT_EQ(again.attempts, 0);
  EXPECT_EQ(again.latency_s, 0);
  EXPECT_EQ(again.cost_usd, 0);
  EXPECT_EQ(again.prompt_tokens, 120);  // kept for reporting
  EXPECT_EQ(again.completion_tokens, 30);
  EXPECT_EQ(server.request_count(), 1u);
}

TEST_F(ChatClientCache, DifferentSampleIndexMissesTheCache) {
  ChatClient client =
      cached_client({FakeResponse::answer("sample zero"), FakeResponse::answer("sample one")});
  ASSERT_TRUE(client.complete(request("tune", 0)).ok);
  const ChatResponse second = client.complete(request("tune", 1));
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_FALSE(second.from_cache);
  EXPECT_EQ(second.choices.at(0), "sample one");
  EXPECT_EQ(server.request_count(), 2u);
}

TEST_F(ChatClientCache, FailedAnswersAreNotCached) {
  ChatClient client = cached_client({FakeResponse::error(400, "no"), FakeResponse::raw("not json")});
  EXPECT_FALSE(client.complete(request("a")).ok);
  EXPECT_FALSE(client.complete(request("b")).ok);
  EXPECT_TRUE(json_files(cache.path()).empty());
}

TEST(ChatClient, CacheKeyIgnoresTheUrlHeadersAndKeyButNotTheSampling) {
  Endpoint a = endpoint_for("http://127.0.0.1:1/v1");
  Endpoint b = endpoint_for("http://other-host:8000/v1");
  b.headers = {{"X-Extra", "1"}};
  b.api_key_env = "SOME_KEY";
  b.name = "renamed";
  const ChatRequest r = request("tune");
  EXPECT_EQ(ChatClient(a).cache_key(r), ChatClient(b).cache_key(r));

  Endpoint hotter = a;
  hotter.temperature = 0.9;
  Endpoint other_model = a;
  other_model.model = "other-model";
  Endpoint longer = a;
  longer.max_tokens = 512;
  const std::string key = ChatClient(a).cache_key(r);
  EXPECT_NE(ChatClient(hotter).cache_key(r), key);
  EXPECT_NE(ChatClient(other_model).cache_key(r), key);
  EXPECT_NE(ChatClient(longer).cache_key(r), key);
  EXPECT_NE(ChatClient(a).cache_key(request("tune", 0, 2)), key);
  EXPECT_NE(ChatClient(a).cache_key(request("tune", 1)), key);
  ChatRequest other_role = r;
  other_role.messages[0].role = "user";
  EXPECT_NE(ChatClient(a).cache_key(other_role), key);
}

TEST(ChatClient, OfflineReplaysFromTheCacheWithTheServerStopped) {
  TempDir cache;
  ClientOptions options = cached_in(cache);
  ChatResponse live;
  {
    FakeOpenAiServer server;
    server.push(FakeResponse::answers({"one", "two"}, 10, 20));
    ChatClient client(endpoint_for(server.base_url()), options);
    live = client.complete(request("tune", 7, 2));
    ASSERT_TRUE(live.ok) << live.error;
    server.stop();
  }
  options.offline = true;
  // Another URL (nobody listens there): the cache is keyed without it, and offline sends nothing.
  ChatClient replay(endpoint_for(FakeOpenAiServer::refused_base_url()), options);
  const ChatResponse r = replay.complete(request("tune", 7, 2));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.from_cache);
  EXPECT_EQ(r.choices, live.choices);
  EXPECT_EQ(r.completion_tokens, 20);
}

TEST_F(ChatClientCache, OfflineMissIsAnError) {
  ChatClient client = cached_client({FakeResponse::answer("must not be reached")}, /*offline=*/true);
  const ChatResponse r = client.complete(request("never asked"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "not in the response cache (offline)");
  EXPECT_EQ(r.attempts, 0);
  EXPECT_EQ(server.request_count(), 0u);
}

TEST_F(ChatClientCache, BatchMixesCacheHitsAndRequests) {
  ChatClient client = cached_client({FakeResponse::answer("a"), FakeResponse::answer("b")});
  ASSERT_TRUE(client.complete(request("first")).ok);
  const auto responses = client.complete({request("first"), request("second")});
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_TRUE(responses[0].from_cache);
  EXPECT_EQ(responses[0].choices.at(0), "a");
  ASSERT_TRUE(responses[1].ok) << responses[1].error;
  EXPECT_FALSE(responses[1].from_cache);
  EXPECT_EQ(responses[1].choices.at(0), "b");
  EXPECT_EQ(server.request_count(), 2u);
}

TEST(ChatClient, InvalidOptionsAreRejected) {
  ClientOptions options;
  options.concurrency = 0;
  EXPECT_THROW(ChatClient(endpoint_for("http://127.0.0.1:1/v1"), options), std::invalid_argument);
}

}  // namespace
}  // namespace rctune::llm
