// An OpenAI-compatible chat-completions client over libcurl (POST {base_url}/chat/completions),
// so that vLLM, llama.cpp's server, Ollama, SGLang and hosted APIs all work.
//
//  - Many requests in flight at once through curl's multi interface, at most `concurrency`.
//  - Retries with exponential backoff on HTTP 429 and 5xx and on connection errors, honouring a
//    Retry-After header (seconds); no retry on other 4xx; a per-request timeout.
//  - The API key is read from the environment variable the config names and sent as
//    "Authorization: Bearer ..."; it never appears in an error message, a log line or a cache file.
//  - An on-disk response cache keyed by model, messages, sampling parameters and sample index: a
//    run can be replayed offline with the same answers (ClientOptions::offline), and tests run
//    without a network.
//  - Token usage (from the response's "usage"), latency and cost (from the configured prices). A
//    usage that is not a non-negative integer count (null, negative, fractional, absurdly large) is
//    unknown: counted as 0 tokens and no cost, with usage_known false and one warning per client.
//  - What comes back is bounded: a body larger than ClientOptions::max_response_bytes (counted
//    after decompression) ends the transfer with an error (not retried), and a body nested deeper
//    than 64 levels is refused before it is parsed.
//  - The API key never reaches anything stored or shown: it is redacted from the answers, the
//    errors and the cache entries (a server or proxy may echo it back); a key holding a control
//    character (CR, LF, ...) is refused, as is a header name or value holding one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rctune::llm {

struct Endpoint {
  std::string name;      // label in reports ("cheap", "strong"); default: the model
  std::string base_url;  // e.g. "http://localhost:8000/v1" (".../chat/completions" is appended)
  std::string model;     // the "model" field of the request
  double temperature = 0.7;
  int max_tokens = 2048;
  double timeout_s = 120;                      // per attempt
  std::map<std::string, std::string> headers;  // extra HTTP headers
  std::string api_key_env;                     // environment variable holding the API key ("": none)
  double price_prompt = 0;                     // USD per million prompt tokens
  double price_completion = 0;                 // USD per million completion tokens
  int max_retries = 4;     // retries after the first attempt (429, 5xx, connection errors)
  double backoff_s = 1.0;  // delay before the first retry; doubled each retry (capped at 60 s)
};

struct ClientOptions {
  int concurrency = 4;    // requests in flight at once
  std::string cache_dir;  // response cache ("": no cache)
  bool offline = false;   // answer from the cache only; a miss is an error ("not in the cache")
  // The most bytes of one response body kept (after decompression); past it the transfer is
  // aborted with a "response too large" error (config key llm.max_response_bytes).
  size_t max_response_bytes = size_t{4} << 20;
};

struct Message {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

struct ChatRequest {
  std::vector<Message> messages;
  int n = 1;                  // completions wanted (the "n" field)
  uint64_t sample_index = 0;  // part of the cache key: the k-th request of this prompt in a run
};

struct ChatResponse {
  bool ok = false;
  std::string error;                 // when !ok: "HTTP 500 after 5 attempts: ...", "timeout after 30 s", ...
  int http_status = 0;               // last HTTP status (0: no response)
  std::vector<std::string> choices;  // the completions' message contents, in order
  std::vector<std::string> finish_reasons;  // "stop", "length", ...
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  bool usage_known = true;  // false: the server reported a malformed usage (tokens and cost 0)
  double latency_s = 0;     // wall time from the first attempt to the answer (0 for a cache hit)
  double cost_usd = 0;      // from the endpoint's prices
  int attempts = 0;         // HTTP attempts made (0 for a cache hit)
  bool from_cache = false;
};

// `text` with every occurrence of `secret` (as is, and as a JSON string escapes it) replaced by
// "[redacted]"; `text` unchanged when `secret` is empty.
std::string redact_secret(std::string text, const std::string& secret);

// The first control character (a byte below 0x20, or DEL) of a value sent in a header, if any: a
// key or header holding one would end its header line and start another.
std::optional<unsigned char> control_character(const std::string& s);

class ChatClient {
 public:
  ChatClient(Endpoint endpoint, ClientOptions options = {});
  ~ChatClient();
  ChatClient(ChatClient&&) noexcept;
  ChatClient& operator=(ChatClient&&) noexcept;

  // Sends every request (at most `concurrency` in flight) and returns the answers in order. Never
  // throws for a failed request: its response has ok == false and the reason.
  std::vector<ChatResponse> complete(const std::vector<ChatRequest>& requests);
  ChatResponse complete(const ChatRequest& request);

  const Endpoint& endpoint() const;
  // The cache key of a request (hex), as the cache file is named.
  std::string cache_key(const ChatRequest& request) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rctune::llm
