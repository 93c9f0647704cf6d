// Tests of the text form of LLM requests and answers between ranks (rctune/llm/wire.h): exact
// round trips (doubles, 64-bit integers, any bytes) and clear errors for malformed text.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "rctune/llm/wire.h"

namespace rctune::llm {
namespace {

using namespace std::string_literals;

ChatRequest sample_request() {
  ChatRequest r;
  r.messages = {{"system", "You tune kernels.\n\"quoted\" \\ tab\t"}, {"user", "tune matmul: é ü 漢字 🚀"}};
  r.n = 4;
  r.sample_index = std::numeric_limits<uint64_t>::max();
  return r;
}

ChatResponse sample_response() {
  ChatResponse r;
  r.ok = true;
  r.error = "";
  r.http_status = 200;
  r.choices = {"```json\n{\"proposals\": []}\n```", "", "second\0with a NUL"s};
  r.finish_reasons = {"stop", "length", "stop"};
  r.prompt_tokens = std::numeric_limits<int64_t>::max();
  r.completion_tokens = -1;
  r.latency_s = 0.1 + 0.2;  // not exactly representable in few digits
  r.cost_usd = 1.0 / 3.0;
  r.attempts = 3;
  r.from_cache = true;
  return r;
}

void expect_same(const ChatRequest& a, const ChatRequest& b) {
  ASSERT_EQ(a.messages.size(), b.messages.size());
  for (size_t i = 0; i < a.messages.size(); ++i) {
    EXPECT_EQ(a.messages[i].role, b.messages[i].role);
    EXPECT_EQ(a.messages[i].content, b.messages[i].content);
  }
  EXPECT_EQ(a.n, b.n);
  EXPECT_EQ(a.sample_index, b.sample_index);
}

void expect_same(const ChatResponse& a, const ChatResponse& b) {
  EXPECT_EQ(a.ok, b.ok);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.http_status, b.http_status);
  EXPECT_EQ(a.choices, b.choices);
  EXPECT_EQ(a.finish_reasons, b.finish_reasons);
  EXPECT_EQ(a.prompt_tokens, b.prompt_tokens);
  EXPECT_EQ(a.completion_tokens, b.completion_tokens);
  EXPECT_EQ(a.latency_s, b.latency_s);  // bit-exact, not near
  EXPECT_EQ(a.cost_usd, b.cost_usd);
  EXPECT_EQ(a.attempts, b.attempts);
  EXPECT_EQ(a.from_cache, b.from_cache);
}

TEST(Wire, RequestsRoundTripExactly) {
  ChatRequest second;
  second.messages = {{"user", ""}};
  const std::vector<ChatRequest> requests = {sample_request(), second, ChatRequest{}};
  const auto [model, back] = requests_from_wire(to_wire(7, requests));
  EXPECT_EQ(model, 7u);
  ASSERT_EQ(back.size(), requests.size());
  for (size_t i = 0; i < requests.size(); ++i) expect_same(back[i], requests[i]);
}

TEST(Wire, NoRequestsRoundTrip) {
  const auto [model, back] = requests_from_wire(to_wire(0, {}));
  EXPECT_EQ(model, 0u);
  EXPECT_TRUE(back.empty());
}

TEST(Wire, ResponsesRoundTripExactly) {
  ChatResponse failed;
  failed.error = "HTTP 500 after 5 attempts: overloaded";
  failed.http_status = 500;
  failed.attempts = 5;
  failed.latency_s = 12.345678901234567;
  const std::vector<ChatResponse> responses = {sample_response(), failed, ChatResponse{}};
  const auto back = responses_from_wire(to_wire(responses));
  ASSERT_EQ(back.size(), responses.size());
  for (size_t i = 0; i < responses.size(); ++i) expect_same(back[i], responses[i]);
}

TEST(Wire, SpecialDoublesRoundTrip) {
  ChatResponse r;
  r.latency_s = std::numeric_limits<double>::infinity();
  r.cost_usd = std::numeric_limits<double>::quiet_NaN();
  ChatResponse s;
  s.latency_s = -std::numeric_limits<double>::infinity();
  s.cost_usd = std::numeric_limits<double>::denorm_min();
  ChatResponse t;
  t.latency_s = -0.0;
  t.cost_usd = std::numeric_limits<double>::max();
  const auto back = responses_from_wire(to_wire({r, s, t}));
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0].latency_s, std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(back[0].cost_usd));
  EXPECT_EQ(back[1].latency_s, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(back[1].cost_usd, std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(back[2].latency_s, 0.0);
  EXPECT_TRUE(std::signbit(back[2].latency_s));
  EXPECT_EQ(back[2].cost_usd, std::numeric_limits<double>::max());
}

TEST(Wire, InvalidUtf8InAnAnswerSurvivesExactly) {
  ChatResponse r = sample_response();
  const std::string bad =
      "ok \xff\xfe then \xc3 cut, overlong \xc0\xaf, surrogate \xed\xa0\x80, end \xe2\x82"s;
  r.choices = {bad, "valid"};
  r.error = "\x80";
  std::string text;
  ASSERT_NO_THROW(text = to_wire({r}));
  const auto back = responses_from_wire(text);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].choices, (std::vector<std::string>{bad, "valid"}));
  EXPECT_EQ(back[0].error, "\x80");
}

TEST(Wire, InvalidUtf8InAPromptSurvivesExactly) {
  ChatRequest r = sample_request();
  r.messages[1].content = "code \xfa\xfb\xfc";
  r.messages[0].role = "\xff";
  const auto [model, back] = requests_from_wire(to_wire(1, {r}));
  ASSERT_EQ(back.size(), 1u);
  expect_same(back[0], r);
}

TEST(Wire, TextIsPlainJsonWithValidUtf8) {
  ChatResponse r;
  r.choices = {"\xff", "é"};
  const std::string text = to_wire({r});
  // The text is one line of JSON that any parser takes (the invalid bytes travel hex-encoded).
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_EQ(text.find('\xff'), std::string::npos);
}

// The message of the std::runtime_error that parsing `text` throws ("" if none).
template <typename F>
std::string error_of(F&& parse) {
  try {
    parse();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(Wire, TextThatIsNotJsonThrowsSayingSo) {
  const std::string e = error_of([] { responses_from_wire("{\"responses\": [ truncated"); });
  EXPECT_NE(e.find("not JSON"), std::string::npos) << e;
  EXPECT_NE(error_of([] { requests_from_wire(""); }).find("not JSON"), std::string::npos);
}

TEST(Wire, WrongFormatThrowsNamingBoth) {
  const std::string e = error_of([] { requests_from_wire(to_wire(std::vector<ChatResponse>{})); });
  EXPECT_NE(e.find("rctune-llm-requests-1"), std::string::npos) << e;
  EXPECT_NE(e.find("rctune-llm-responses-1"), std::string::npos) << e;
  const std::string f = error_of([] { responses_from_wire("[1, 2]"); });
  EXPECT_NE(f.find("expected an object"), std::string::npos) << f;
}

TEST(Wire, MissingFieldThrowsNamingItAndWhere) {
  std::string text = to_wire({ChatResponse{}, ChatResponse{}});
  const auto pos = text.rfind("\"attempts\"");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, 10, "\"attempt_s\"");
  const std::string e = error_of([&] { responses_from_wire(text); });
  EXPECT_NE(e.find("responses[1]"), std::string::npos) << e;
  EXPECT_NE(e.find("missing field \"attempts\""), std::string::npos) << e;
}

TEST(Wire, MistypedFieldThrowsNamingIt) {
  const std::string text =
      R"({"format": "rctune-llm-requests-1", "model": 0, "requests": [{"messages": [{"role": "user", "content": 3}], "n": 1, "sample_index": 0}]})";
  const std::string e = error_of([&] { requests_from_wire(text); });
  EXPECT_NE(e.find("requests[0].messages[0].content"), std::string::npos) << e;
  EXPECT_NE(e.find("expected a string"), std::string::npos) << e;
}

TEST(Wire, OutOfRangeIntegerThrows) {
  const std::string text =
      R"({"format": "rctune-llm-requests-1", "model": 0, "requests": [{"messages": [], "n": 4294967296, "sample_index": -1}]})";
  const std::string e = error_of([&] { requests_from_wire(text); });
  EXPECT_NE(e.find("requests[0].n"), std::string::npos) << e;
  EXPECT_NE(e.find("out of range"), std::string::npos) << e;
  const std::string negative = R"({"format": "rctune-llm-requests-1", "model": -2, "requests": []})";
  EXPECT_NE(error_of([&] { requests_from_wire(negative); }).find("model"), std::string::npos);
}

TEST(Wire, BadHexThrows) {
  const std::string text =
      R"({"format": "rctune-llm-responses-1", "responses": [{"ok": true, "error": {"hex": "4g"}, "http_status": 200, "choices": [], "finish_reasons": [], "prompt_tokens": 0, "completion_tokens": 0, "latency_s": 0, "cost_usd": 0, "attempts": 1, "from_cache": false}]})";
  const std::string e = error_of([&] { responses_from_wire(text); });
  EXPECT_NE(e.find("responses[0].error.hex"), std::string::npos) << e;
}

}  // namespace
}  // namespace rctune::llm
