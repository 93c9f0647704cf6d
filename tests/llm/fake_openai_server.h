// A scriptable fake OpenAI-compatible server for the LLM tests (header-only; link cpp-httplib, see
// tests/CMakeLists.txt). It listens on 127.0.0.1 at a port the OS picks, answers
// POST /v1/chat/completions from a script (a queue of responses, then an optional handler),
// records every request it receives, and counts the requests in flight (and the most seen at
// once), so that a test can assert what the client sent, its retries and its concurrency.
//
//   FakeOpenAiServer server;
//   server.push(FakeResponse::error(500, "overloaded"));
//   server.push(FakeResponse::answer("```json\n{\"proposals\": []}\n```"));
//   ChatClient client({.base_url = server.base_url(), .model = "m"});
//
// Connection refused: FakeOpenAiServer::refused_base_url() names a port nobody listens on.
//
// Hostile answers: FakeResponse::streamed (a body of any size, generated while it is sent),
// FakeResponse::gzip_bomb (a small gzip body that inflates to gigabytes), extra response headers
// (an echoed Authorization header, say), and any usage (FakeResponse::with_usage).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <httplib.h>
#include <zlib.h>

#include <nlohmann/json.hpp>

#include "rctune/llm/client.h"

namespace rctune::llm::testing {

// An endpoint for a fake server at `base_url`: model "test-model" and the given timing.
inline Endpoint fake_endpoint(const std::string& base_url, double timeout_s, int max_retries,
                              double backoff_s) {
  Endpoint e;
  e.base_url = base_url;
  e.model = "test-model";
  e.timeout_s = timeout_s;
  e.max_retries = max_retries;
  e.backoff_s = backoff_s;
  return e;
}

// One scripted answer.
struct FakeResponse {
  int status = 200;
  std::string body;               // sent as is (application/json)
  int delay_ms = 0;               // wait before answering (interrupted by stop())
  std::string retry_after;        // Retry-After header value ("": none)
  bool close_connection = false;  // send the status line and headers, then drop the connection
  std::string content_type = "application/json";             // (the server compresses json when asked: a
                                                             // pre-encoded body uses another type)
  std::vector<std::pair<std::string, std::string>> headers;  // extra response headers
  size_t streamed_bytes = 0;  // > 0: a body of this many bytes, `body` repeated, generated as sent

  // The body of an OpenAI chat completion with one choice per content.
  static std::string completion_json(const std::vector<std::string>& contents, int64_t prompt_tokens = 100,
                                     int64_t completion_tokens = 50,
                                     const std::string& finish_reason = "stop") {
    nlohmann::json choices = nlohmann::json::array();
    for (size_t i = 0; i < contents.size(); ++i)
      choices.push_back({{"index", i},
                         {"message", {{"role", "assistant"}, {"content", contents[i]}}},
                         {"finish_reason", finish_reason}});
    nlohmann::json j = {{"id", "chatcmpl-fake"},
                        {"object", "chat.completion"},
                        {"created", 0},
                        {"model", "fake-model"},
                        {"choices", choices},
                        {"usage",
                         {{"prompt_tokens", prompt_tokens},
                          {"completion_tokens", completion_tokens},
                          {"total_tokens", prompt_tokens + completion_tokens}}}};
    return j.dump();
  }

  // A good answer with the given content (fenced, prose-wrapped, anything: it is just text).
  static FakeResponse answer(const std::string& content, int64_t prompt_tokens = 100,
                             int64_t completion_tokens = 50) {
    return answers({content}, prompt_tokens, completion_tokens);
  }
  // A good answer with several choices (a request with n > 1).
  static FakeResponse answers(const std::vector<std::string>& contents, int64_t prompt_tokens = 100,
                              int64_t completion_tokens = 50) {
    FakeResponse r;
    r.body = completion_json(contents, prompt_tokens, completion_tokens);
    return r;
  }
  // An answer cut at the token limit (finish_reason "length").
  static FakeResponse truncated(const std::string& content, int64_t prompt_tokens = 100,
                                int64_t completion_tokens = 50) {
    FakeResponse r;
    r.body = completion_json({content}, prompt_tokens, completion_tokens, "length");
    return r;
  }
  // An HTTP error with an OpenAI-style error body.
  static FakeResponse error(int status, const std::string& message, const std::string& retry_after = "") {
    FakeResponse r;
    r.status = status;
    r.body = nlohmann::json{{"error", {{"message", message}, {"type", "fake_error"}}}}.dump();
    r.retry_after = retry_after;
    return r;
  }
  // Any body at all (malformed JSON, a JSON object without choices, ...).
  static FakeResponse raw(const std::string& body, int status = 200) {
    FakeResponse r;
    r.status = status;
    r.body = body;
    return r;
  }
  // Headers sent, then the connection dropped before the body.
  static FakeResponse dropped() {
    FakeResponse r = answer("never delivered");
    r.close_connection = true;
    return r;
  }
  // A body of `bytes` bytes (`pattern` repeated), generated while it is sent (nothing that size is
  // held in memory), announced with its Content-Length unless `chunked`.
  static FakeResponse streamed(size_t bytes, const std::string& pattern = "[", bool chunked = false) {
    FakeResponse r;
    r.body = pattern;
    r.streamed_bytes = bytes;
    r.content_type = "application/octet-stream";
    if (chunked) r.headers.emplace_back("X-Fake-Chunked", "1");
    return r;
  }
  // A gzip body (Content-Encoding: gzip) of about inflated_mib KiB that inflates to inflated_mib
  // MiB of blanks, with a correct gzip trailer. Built from one flushed 1 MiB segment repeated.
  static FakeResponse gzip_bomb(size_t inflated_mib) {
    const std::string chunk(size_t{1} << 20, ' ');
    z_stream z{};
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
      throw std::runtime_error("gzip_bomb: deflateInit2 failed");
    auto run = [&z](const std::string& in, int flush) {
      std::string out;
      std::vector<char> buf(1 << 16);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
      z.avail_in = static_cast<uInt>(in.size());
      do {
        z.next_out = reinterpret_cast<Bytef*>(buf.data());
        z.avail_out = static_cast<uInt>(buf.size());
        deflate(&z, flush);
        out.append(buf.data(), buf.size() - z.avail_out);
      } while (z.avail_out == 0);
      return out;
    };
    const std::string head = run(chunk, Z_FULL_FLUSH);
    const std::string segment = run(chunk, Z_FULL_FLUSH);
    if (run(chunk, Z_FULL_FLUSH) != segment) throw std::runtime_error("gzip_bomb: segments differ");
    std::string tail = run("", Z_FINISH);
    deflateEnd(&z);
    if (tail.size() < 8) throw std::runtime_error("gzip_bomb: no trailer");
    FakeResponse r;
    r.body = head;
    for (size_t k = 1; k < inflated_mib; ++k) r.body += segment;
    const uLong chunk_crc =
        crc32(0L, reinterpret_cast<const Bytef*>(chunk.data()), static_cast<uInt>(chunk.size()));
    uLong crc = chunk_crc;
    for (size_t k = 1; k < inflated_mib; ++k)
      crc = crc32_combine(crc, chunk_crc, static_cast<z_off_t>(chunk.size()));
    const uint64_t size = static_cast<uint64_t>(inflated_mib) << 20;
    for (int b = 0; b < 4; ++b) {
      tail[tail.size() - 8 + b] = static_cast<char>((crc >> (8 * b)) & 0xff);
      tail[tail.size() - 4 + b] = static_cast<char>((size >> (8 * b)) & 0xff);
    }
    r.body += tail;
    r.content_type = "application/octet-stream";
    r.headers.emplace_back("Content-Encoding", "gzip");
    return r;
  }
  // A good answer whose "usage" is the given JSON (null, negative counts, ...).
  static FakeResponse with_usage(const std::string& content, const nlohmann::json& usage) {
    nlohmann::json j = nlohmann::json::parse(completion_json({content}));
    j["usage"] = usage;
    return raw(j.dump());
  }
  // Builder: the same response with an extra header.
  FakeResponse with_header(const std::string& name, const std::string& value) const {
    FakeResponse r = *this;
    r.headers.emplace_back(name, value);
    return r;
  }
  // Builder: the same response after a delay.
  FakeResponse after_ms(int ms) const {
    FakeResponse r = *this;
    r.delay_ms = ms;
    return r;
  }
};

// One request as the server received it.
struct RecordedRequest {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  nlohmann::json json;  // the body parsed (null when it is not JSON)

  // The first header of that name (case-insensitive), or "".
  std::string header(const std::string& name) const {
    auto lower = [](std::string s) {
      std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
      return s;
    };
    for (const auto& [k, v] : headers)
      if (lower(k) == lower(name)) return v;
    return "";
  }
  // The concatenated contents of the request's messages (for matching a prompt in a handler).
  std::string all_content() const {
    std::string text;
    if (json.is_object() && json.contains("messages") && json["messages"].is_array())
      for (const auto& m : json["messages"])
        if (m.is_object() && m.contains("content") && m["content"].is_string())
          text += m["content"].get<std::string>() + "\n";
    return text;
  }
};

class FakeOpenAiServer {
 public:
  // Answers a request when the scripted queue is empty.
  using Handler = std::function<FakeResponse(const RecordedRequest&)>;

  // Starts listening on 127.0.0.1 at a port the OS picks; throws std::runtime_error if it cannot.
  FakeOpenAiServer() {
    // Enough threads for every concurrency test (the library's default pool is 8).
    server_.new_task_queue = [] { return new httplib::ThreadPool(32); };
    // One request per connection: no idle keep-alive connection holds a thread when stop() is called.
    server_.set_keep_alive_max_count(1);
    server_.Post(R"(.*)", [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("FakeOpenAiServer: cannot bind a port on 127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() is a no-op before the accept loop runs: wait for it.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeOpenAiServer() { stop(); }
  FakeOpenAiServer(const FakeOpenAiServer&) = delete;
  FakeOpenAiServer& operator=(const FakeOpenAiServer&) = delete;

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

  // Script: answers are taken from the queue in order; when it is empty the handler answers (by
  // default a 500 saying the script ran out, so that an unexpected request is visible).
  void push(FakeResponse r) {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(r));
  }
  void push(const FakeResponse& r, int copies) {
    for (int i = 0; i < copies; ++i) push(r);
  }
  void set_handler(Handler h) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(h);
  }
  size_t pending() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
  }

  std::vector<RecordedRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  size_t request_count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }
  // Chat requests being handled now, and the most handled at once since the start (or reset).
  int in_flight() const {
    std::lock_guard lock(mutex_);
    return in_flight_;
  }
  int max_in_flight() const {
    std::lock_guard lock(mutex_);
    return max_in_flight_;
  }
  void reset_counts() {
    std::lock_guard lock(mutex_);
    requests_.clear();
    max_in_flight_ = in_flight_;
  }

  // Stops listening, interrupts delayed answers and joins the server thread. Idempotent.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  // A port on 127.0.0.1 that nobody listens on (bound, read, closed): connections are refused.
  static int unused_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("FakeOpenAiServer::unused_port: socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(fd);
      throw std::runtime_error("FakeOpenAiServer::unused_port: bind() failed");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
  }
  static std::string refused_base_url() {
    return "http://127.0.0.1:" + std::to_string(unused_port()) + "/v1";
  }

 private:
  void handle(const httplib::Request& req, httplib::Response& res) {
    RecordedRequest rec;
    rec.method = req.method;
    rec.path = req.path;
    for (const auto& [k, v] : req.headers) rec.headers.emplace_back(k, v);
    rec.body = req.body;
    rec.json = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (rec.json.is_discarded()) rec.json = nullptr;

    FakeResponse r;
    Handler handler;
    bool scripted = false;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(rec);
      if (req.path != "/v1/chat/completions") {
        res.status = 404;
        res.set_content(R"({"error":{"message":"fake server: unknown path"}})", "application/json");
        return;
      }
      ++in_flight_;
      max_in_flight_ = std::max(max_in_flight_, in_flight_);
      if (!queue_.empty()) {
        r = std::move(queue_.front());
        queue_.pop_front();
        scripted = true;
      } else {
        handler = handler_;
      }
    }
    if (!scripted) {
      try {
        r = handler ? handler(rec) : FakeResponse::error(500, "fake server: no scripted response left");
      } catch (const std::exception& e) {
        r = FakeResponse::error(500, std::string("fake server: the handler threw: ") + e.what());
      }
    }
    {
      std::unique_lock lock(mutex_);
      if (r.delay_ms > 0)
        wake_.wait_for(lock, std::chrono::milliseconds(r.delay_ms), [this] { return stopping_; });
      --in_flight_;
      if (stopping_) r = FakeResponse::error(503, "fake server: stopping");
    }
    res.status = r.status;
    if (!r.retry_after.empty()) res.set_header("Retry-After", r.retry_after);
    bool chunked = false;
    for (const auto& [k, v] : r.headers) {
      if (k == "X-Fake-Chunked")
        chunked = true;
      else
        res.set_header(k, v);
    }
    if (r.streamed_bytes > 0) {
      const std::string pattern = r.body.empty() ? std::string(" ") : r.body;
      const size_t total = r.streamed_bytes;
      // Writes the next block from `offset`; the bytes written (0 when the client went away).
      auto provide = [pattern, total](size_t offset, httplib::DataSink& sink) -> size_t {
        std::string block;
        while (block.size() < (size_t{1} << 16)) block += pattern;
        const size_t n = std::min(total - offset, block.size());
        return sink.write(block.data(), n) ? n : 0;
      };
      if (chunked)
        res.set_chunked_content_provider(
            r.content_type, [provide, total, sent = size_t{0}](size_t, httplib::DataSink& sink) mutable {
              if (sent >= total) {
                sink.done();
                return true;
              }
              const size_t n = provide(sent, sink);
              sent += n;
              return n > 0;
            });
      else
        res.set_content_provider(
            total, r.content_type,
            [provide](size_t offset, size_t, httplib::DataSink& sink) { return provide(offset, sink) > 0; });
      return;
    }
    if (r.close_connection) {
      // The provider refuses to write: httplib has sent the headers and closes the connection.
      res.set_content_provider(r.body.size() + 1, "application/json",
                               [](size_t, size_t, httplib::DataSink&) { return false; });
    } else {
      res.set_content(r.body, r.content_type);
    }
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::deque<FakeResponse> queue_;
  Handler handler_;
  std::vector<RecordedRequest> requests_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
};

}  // namespace rctune::llm::testing
