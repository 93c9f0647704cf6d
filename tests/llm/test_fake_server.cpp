// Tests of the fake OpenAI-compatible server itself (tests/llm/fake_openai_server.h): what it
// answers when the script runs out or the path is wrong, and that it records what it received and
// sends the scripted status and headers. The client's behaviour against it is in test_client.cpp.
#include <gtest/gtest.h>

#include <string>

#include "llm/fake_openai_server.h"

namespace rctune::llm::testing {
namespace {

httplib::Client client_for(const FakeOpenAiServer& server) {
  return httplib::Client("127.0.0.1", server.port());
}

TEST(FakeOpenAiServer, AnswersFromTheScriptInOrderAndRecordsRequests) {
  FakeOpenAiServer server;
  server.push(FakeResponse::answer("first"));
  server.push(FakeResponse::error(429, "slow down", "7"));
  auto client = client_for(server);
  auto a = client.Post("/v1/chat/completions", R"({"model": "m", "messages": []})", "application/json");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 200);
  const auto body = nlohmann::json::parse(a->body);
  EXPECT_EQ(body["choices"][0]["message"]["content"], "first");
  EXPECT_EQ(body["usage"]["prompt_tokens"], 100);
  auto b = client.Post("/v1/chat/completions", "{}", "application/json");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, 429);
  EXPECT_EQ(b->get_header_value("Retry-After"), "7");
  EXPECT_EQ(server.pending(), 0u);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].json["model"], "m");
  EXPECT_EQ(requests[0].header("content-type"), "application/json");
}

TEST(FakeOpenAiServer, ExhaustedScriptAnswersAnError) {
  FakeOpenAiServer server;
  auto res = client_for(server).Post("/v1/chat/completions", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_NE(res->body.find("no scripted response left"), std::string::npos);
}

TEST(FakeOpenAiServer, HandlerAnswersWhenTheQueueIsEmpty) {
  FakeOpenAiServer server;
  server.push(FakeResponse::answer("queued"));
  server.set_handler(
      [](const RecordedRequest& rec) { return FakeResponse::answer("handled " + rec.all_content()); });
  auto client = client_for(server);
  const std::string request = R"({"messages": [{"role": "user", "content": "hi"}]})";
  auto a = client.Post("/v1/chat/completions", request, "application/json");
  auto b = client.Post("/v1/chat/completions", request, "application/json");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(nlohmann::json::parse(a->body)["choices"][0]["message"]["content"], "queued");
  EXPECT_EQ(nlohmann::json::parse(b->body)["choices"][0]["message"]["content"], "handled hi\n");
}

TEST(FakeOpenAiServer, UnknownPathIsNotFoundAndKeepsTheScript) {
  FakeOpenAiServer server;
  server.push(FakeResponse::answer("kept"));
  auto res = client_for(server).Post("/chat/completions", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(server.pending(), 1u);
  EXPECT_EQ(server.requests().at(0).path, "/chat/completions");
}

TEST(FakeOpenAiServer, RefusedUrlHasNobodyListening) {
  const int port = FakeOpenAiServer::unused_port();
  httplib::Client client("127.0.0.1", port);
  EXPECT_FALSE(client.Post("/v1/chat/completions", "{}", "application/json"));
}

}  // namespace
}  // namespace rctune::llm::testing
