// Tests of what the chat client (rctune/llm/client.h) does with a hostile endpoint: bodies past
// the size limit (plain and gzip-inflated), bodies nested too deep, the API key echoed back,
// control characters in the key, and malformed token usage.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "llm/fake_openai_server.h"
#include "rctune/llm/client.h"
#include "runlog/runlog_test_util.h"

namespace rctune::llm {
namespace {

namespace fs = std::filesystem;
using testing::FakeOpenAiServer;
using testing::FakeResponse;

constexpr const char* kKey = "sk-limits-5ecret-0417";

using runlog::testing::TempDir;

Endpoint endpoint_for(const std::string& base_url) { return testing::fake_endpoint(base_url, 30, 2, 0.01); }

// The endpoint of `server` whose API key the client reads from RCTUNE_LIMITS_KEY.
Endpoint keyed_endpoint(const FakeOpenAiServer& server) {
  Endpoint e = endpoint_for(server.base_url());
  e.api_key_env = "RCTUNE_LIMITS_KEY";
  return e;
}

ChatRequest request(const std::string& text) {
  ChatRequest r;
  r.messages = {{"user", text}};
  return r;
}

std::string all_files(const fs::path& dir) {
  std::string text;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    text += ss.str();
  }
  return text;
}

TEST(ChatClientLimits, ABodyOverTheLimitFailsWithoutRetryAndTheNextRequestWorks) {
  FakeOpenAiServer server;
  server.push(FakeResponse::streamed(size_t{400} << 20, "[", /*chunked=*/true));
  server.push(FakeResponse::answer("fine"));
  ChatClient client(endpoint_for(server.base_url()));
  const ChatResponse big = client.complete(request("a"));
  EXPECT_FALSE(big.ok);
  EXPECT_NE(big.error.find("response too large"), std::string::npos) << big.error;
  EXPECT_EQ(big.attempts, 1) << "the same request would get the same answer";
  const ChatResponse next = client.complete(request("b"));
  ASSERT_TRUE(next.ok) << next.error;
  EXPECT_EQ(next.choices.front(), "fine");
}

TEST(ChatClientLimits, ADeclaredLengthOverTheLimitFailsAtOnce) {
  FakeOpenAiServer server;
  server.push(FakeResponse::streamed(size_t{400} << 20, "["));
  ClientOptions o;
  o.max_response_bytes = 1 << 20;
  ChatClient client(endpoint_for(server.base_url()), o);
  const ChatResponse r = client.complete(request("a"));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("response too large (over 1048576 bytes"), std::string::npos) << r.error;
}

// The client runs in a child process so that its peak memory can be read (ru_maxrss).
TEST(ChatClientLimits, AGzipBombIsCutAtTheLimitWithBoundedMemory) {
  FakeOpenAiServer server;
  server.push(FakeResponse::gzip_bomb(2048));  // 2 MB on the wire, 2 GiB inflated
  const std::string url = server.base_url();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ChatClient client(endpoint_for(url));
    const ChatResponse r = client.complete(request("a"));
    _exit(!r.ok && r.error.find("response too large") != std::string::npos ? 0 : 3);
  }
  int status = 0;
  rusage usage{};
  ASSERT_EQ(wait4(pid, &status, 0, &usage), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "the client crashed";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "not refused as too large";
  EXPECT_LT(usage.ru_maxrss, 512 * 1024) << "peak memory (KiB) of the client";
}

TEST(ChatClientLimits, ABodyNestedTooDeepIsRefusedNotFollowed) {
  FakeOpenAiServer server;
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  server.push(FakeResponse::raw(R"({"choices":[{"message":{"content":"x"},"finish_reason":)" + deep + "}]}"));
  ChatClient client(endpoint_for(server.base_url()));
  const ChatResponse r = client.complete(request("a"));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("nested deeper than"), std::string::npos) << r.error.substr(0, 300);
}

TEST(ChatClientLimits, TheKeyEchoedInAnAnswerIsRedactedFromTheAnswerAndTheCache) {
  setenv("RCTUNE_LIMITS_KEY", kKey, 1);
  TempDir dir;
  FakeOpenAiServer server;
  server.set_handler([](const testing::RecordedRequest& r) {
    return FakeResponse::answer("you sent: " + r.header("Authorization"));
  });
  ClientOptions o;
  o.cache_dir = dir.path().string();
  ChatClient client(keyed_endpoint(server), o);
  const ChatResponse r = client.complete(request("a"));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(server.requests().at(0).header("Authorization"), std::string("Bearer ") + kKey);
  EXPECT_EQ(r.choices.front().find(kKey), std::string::npos) << r.choices.front();
  EXPECT_NE(r.choices.front().find("[redacted]"), std::string::npos);
  EXPECT_EQ(all_files(dir.path()).find(kKey), std::string::npos) << "the key reached the response cache";
  unsetenv("RCTUNE_LIMITS_KEY");
}

TEST(ChatClientLimits, TheKeyEchoedInAnErrorBodyIsRedactedEvenWhereTheSnippetWouldCutIt) {
  setenv("RCTUNE_LIMITS_KEY", kKey, 1);
  FakeOpenAiServer server;
  // The key straddles the 200-character cut of the error's body snippet.
  server.set_handler([](const testing::RecordedRequest& r) {
    return FakeResponse::raw(std::string(190, 'x') + r.header("Authorization"), 401);
  });
  ChatClient client(keyed_endpoint(server));
  const ChatResponse r = client.complete(request("a"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.find(std::string(kKey).substr(0, 6)), std::string::npos) << r.error;
  unsetenv("RCTUNE_LIMITS_KEY");
}

TEST(ChatClientLimits, AKeyWithALineBreakIsRefusedAndNothingIsSent) {
  setenv("RCTUNE_LIMITS_KEY", "sk-abc\r\nX-Injected: yes", 1);
  FakeOpenAiServer server;
  server.push(FakeResponse::answer("never"));
  ChatClient client(keyed_endpoint(server));
  const ChatResponse r = client.complete(request("a"));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("control character (CR)"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("Injected"), std::string::npos) << r.error;
  EXPECT_EQ(server.request_count(), 0u);
  unsetenv("RCTUNE_LIMITS_KEY");
}

TEST(ChatClientLimits, AHeaderValueWithALineBreakIsRefused) {
  FakeOpenAiServer server;
  server.push(FakeResponse::answer("never"));
  Endpoint e = endpoint_for(server.base_url());
  e.headers["X-Team"] = "a\r\nX-Injected: yes";
  ChatClient client(e);
  const ChatResponse r = client.complete(request("a"));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("inject a header"), std::string::npos) << r.error;
  EXPECT_EQ(server.request_count(), 0u);
}

TEST(ChatClientLimits, MalformedUsageIsCountedAsUnknown) {
  const std::vector<nlohmann::json> usages = {
      {{"prompt_tokens", -5}, {"completion_tokens", 10}},
      {{"prompt_tokens", nullptr}, {"completion_tokens", 10}},
      {{"prompt_tokens", 1.5}, {"completion_tokens", 10}},
      {{"prompt_tokens", 1e300}, {"completion_tokens", 10}},
      {{"prompt_tokens", 10}, {"completion_tokens", "many"}},
      {{"prompt_tokens", 10}, {"completion_tokens", 18446744073709551615ull}},
      "lots"};
  for (const nlohmann::json& usage : usages) {
    FakeOpenAiServer server;
    server.push(FakeResponse::with_usage("fine", usage));
    Endpoint e = endpoint_for(server.base_url());
    e.price_prompt = 1;
    e.price_completion = 1;
    ChatClient client(e);
    const ChatResponse r = client.complete(request("a"));
    ASSERT_TRUE(r.ok) << usage.dump() << ": " << r.error;
    EXPECT_FALSE(r.usage_known) << usage.dump();
    EXPECT_EQ(r.prompt_tokens, 0) << usage.dump();
    EXPECT_EQ(r.completion_tokens, 0) << usage.dump();
    EXPECT_EQ(r.cost_usd, 0) << usage.dump();
  }
}

TEST(ChatClientLimits, RedactionCoversTheKeyAsJsonEscapesIt) {
  EXPECT_EQ(redact_secret("a sk/x\"y b", "sk/x\"y"), "a [redacted] b");
  EXPECT_EQ(redact_secret(R"(a sk\/x\"y b)", "sk/x\"y"), "a [redacted] b");
  EXPECT_EQ(redact_secret(R"(a sk/x\"y b)", "sk/x\"y"), "a [redacted] b");
  EXPECT_EQ(redact_secret("nothing", ""), "nothing");
}

}  // namespace
}  // namespace rctune::llm
