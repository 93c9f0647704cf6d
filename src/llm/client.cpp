// The OpenAI-compatible chat-completions client (rctune/llm/client.h): request building, the curl
// multi loop with a concurrency limit, retries with backoff and Retry-After, response parsing,
// the response cache lookups, and the API key's handling (sent, never written anywhere).
#include "rctune/llm/client.h"
#include "rctune/config/url_credentials.h"
#include "rctune/ir/check.h"
#include "rctune/ir/text.h"

#include <curl/curl.h>
#include <xxhash.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <stdexcept>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "json_limits.h"
#include "response_cache.h"

namespace rctune::llm {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr double kMaxBackoffS = 60;      // cap of the doubled backoff
constexpr double kMaxRetryAfterS = 120;  // cap of a server's Retry-After
constexpr double kMaxConnectTimeoutS = 10;
constexpr size_t kBodySnippet = 200;  // characters of a failed response's body in an error

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw std::runtime_error("llm client: curl_global_init failed");
  });
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string format_seconds(double s) { return ir::fmt("%g", s); }

// Replaces every occurrence of `secret` in `text` (a last line of defence: a server may echo the
// Authorization header back in an error body).
std::string redact_one(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos))
    text.replace(pos, secret.size(), "[redacted]");
  return text;
}

}  // namespace

std::string redact_secret(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  text = redact_one(std::move(text), secret);
  // As a JSON string holds it (a raw body echoes the key escaped), and with '/' escaped too.
  std::string escaped = json(secret).dump(-1, ' ', false, json::error_handler_t::replace);
  escaped = escaped.substr(1, escaped.size() - 2);
  if (escaped != secret) text = redact_one(std::move(text), escaped);
  std::string slashes;
  for (char c : escaped) slashes += c == '/' ? std::string("\\/") : std::string(1, c);
  if (slashes != escaped) text = redact_one(std::move(text), slashes);
  return text;
}

std::optional<unsigned char> control_character(const std::string& s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return u;
  }
  return std::nullopt;
}

namespace {

std::string redact(std::string text, const std::string& secret) {
  return redact_secret(std::move(text), secret);
}

std::string describe_control(unsigned char c) {
  if (c == '\r') return "CR";
  if (c == '\n') return "LF";
  if (c == '\t') return "TAB";
  if (c == 0) return "NUL";
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%02x", c);
  return buf;
}

std::string snippet(const std::string& body) {
  std::string s = body.substr(0, kBodySnippet);
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (body.size() > kBodySnippet) s += "...";
  return s;
}

std::string plural_attempts(int n) { return std::to_string(n) + (n == 1 ? " attempt" : " attempts"); }

// The transient transport failures worth another attempt; the rest (bad URL, unsupported protocol,
// TLS verification, ...) will fail the same way again.
bool retryable_curl_error(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_FAILED_INIT:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_LOGIN_DENIED:
    case CURLE_ABORTED_BY_CALLBACK:
      return false;
    default:
      return true;
  }
}

// Seconds from a Retry-After header value given in seconds (an HTTP date is not honoured: the
// backoff applies instead).
std::optional<double> parse_retry_after(const std::string& value) {
  if (value.empty()) return std::nullopt;
  char* end = nullptr;
  const double s = std::strtod(value.c_str(), &end);
  while (end && (*end == ' ' || *end == '\t')) ++end;
  if (end == value.c_str() || (end && *end != '\0') || !std::isfinite(s) || s < 0) return std::nullopt;
  return std::min(s, kMaxRetryAfterS);
}

struct ParsedBody {
  bool ok = false;
  std::string error;
  CachedAnswer answer;
  bool usage_known = true;
  std::string usage_problem;  // when !usage_known: what was wrong
};

// A token count as a server reports it: a non-negative integer of at most a billion (no answer
// has more), else nullopt.
std::optional<int64_t> token_count(const json& v) {
  constexpr int64_t kMaxTokens = 1'000'000'000;
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u <= static_cast<uint64_t>(kMaxTokens)) return static_cast<int64_t>(u);
    return std::nullopt;
  }
  if (v.is_number_integer()) {
    const auto i = v.get<int64_t>();
    if (i >= 0 && i <= kMaxTokens) return i;
    return std::nullopt;
  }
  return std::nullopt;
}

ParsedBody parse_completion(const std::string& body) {
  ParsedBody p;
  std::string why;
  json j = detail::parse_bounded(body, &why);
  if (j.is_discarded()) {
    p.error = "malformed response (" + why + ")";
    return p;
  }
  if (!j.is_object() || !j.contains("choices") || !j["choices"].is_array() || j["choices"].empty()) {
    p.error = "malformed response (no \"choices\")";
    return p;
  }
  // Choices in their "index" order (servers normally send them so; the index decides if given).
  std::vector<std::pair<int64_t, const json*>> order;
  int64_t position = 0;
  for (const auto& c : j["choices"]) {
    int64_t index = position++;
    if (c.is_object() && c.contains("index") && c["index"].is_number_integer())
      index = c["index"].get<int64_t>();
    order.emplace_back(index, &c);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [index, c] : order) {
    if (!c->is_object() || !c->contains("message") || !(*c)["message"].is_object()) {
      p.error = "malformed response (a choice without a \"message\")";
      return p;
    }
    const json& message = (*c)["message"];
    const json content = message.value("content", json());
    if (!content.is_string() && !content.is_null()) {
      p.error = "malformed response (a message \"content\" that is not a string)";
      return p;
    }
    p.answer.choices.push_back(content.is_string() ? content.get<std::string>() : std::string());
    const json finish = c->value("finish_reason", json());
    p.answer.finish_reasons.push_back(finish.is_string() ? finish.get<std::string>() : std::string());
  }
  // No "usage" at all (some local servers): 0 tokens, as before. A "usage" the server did send
  // must hold non-negative integer counts; anything else makes the usage unknown.
  if (j.contains("usage") && !j["usage"].is_null()) {
    const json& u = j["usage"];
    if (!u.is_object()) {
      p.usage_known = false;
      p.usage_problem = std::string("\"usage\" is ") + u.type_name() + ", not an object";
    } else {
      for (const char* name : {"prompt_tokens", "completion_tokens"}) {
        if (!u.contains(name)) continue;
        const std::optional<int64_t> n = token_count(u[name]);
        if (!n) {
          p.usage_known = false;
          // A number as written; anything else only by its type (a string might hold the key).
          const std::string shown = u[name].is_number() ? u[name].dump() : u[name].type_name();
          p.usage_problem = std::string(name) + " " + shown;
          break;
        }
        (std::string(name) == "prompt_tokens" ? p.answer.prompt_tokens : p.answer.completion_tokens) = *n;
      }
    }
    if (!p.usage_known) p.answer.prompt_tokens = p.answer.completion_tokens = 0;
  }
  p.ok = true;
  return p;
}

// A response body, kept up to a limit: past it the write callback refuses the data, which ends
// the transfer (CURLE_WRITE_ERROR). curl inflates a compressed body before this callback, so the
// limit bounds the inflated size as well.
struct BodySink {
  std::string body;
  size_t limit = 0;
  bool overflow = false;
};

size_t append_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const size_t n = size * count;
  if (n > sink->limit - std::min(sink->limit, sink->body.size())) {
    sink->overflow = true;
    return 0;  // not n: curl aborts the transfer
  }
  sink->body.append(data, n);
  return n;
}

// Keeps the Retry-After header of the (last) response of the transfer.
size_t read_header(char* data, size_t size, size_t count, void* user) {
  const size_t n = size * count;
  std::string line(data, n);
  auto* retry_after = static_cast<std::string*>(user);
  if (line.rfind("HTTP/", 0) == 0) retry_after->clear();  // a new response (after 100 Continue, ...)
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (name == "retry-after") {
      std::string value = line.substr(colon + 1);
      const auto first = value.find_first_not_of(" \t");
      const auto last = value.find_last_not_of(" \t\r\n");
      *retry_after = first == std::string::npos ? "" : value.substr(first, last - first + 1);
    }
  }
  return n;
}

struct CurlSlist {
  curl_slist* list = nullptr;
  ~CurlSlist() { curl_slist_free_all(list); }
  void add(const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (!next) throw std::bad_alloc();
    list = next;
  }
};

// One request through its attempts.
struct Job {
  size_t index = 0;
  const ChatRequest* request = nullptr;
  std::string key;
  std::string payload;
  int attempts = 0;
  bool done = false;
  bool in_flight = false;
  Clock::time_point first_start;
  Clock::time_point next_start;  // when the next attempt may start (after a backoff)
  CURL* easy = nullptr;
  BodySink sink;
  std::string retry_after;
  char curl_error[CURL_ERROR_SIZE] = {};
};

}  // namespace

struct ChatClient::Impl {
  Endpoint endpoint;
  ClientOptions options;
  std::optional<ResponseCache> cache;
  CURLM* multi = nullptr;
  bool warned_usage = false;  // the warning about a malformed usage is printed once

  Impl(Endpoint e, ClientOptions o) : endpoint(std::move(e)), options(std::move(o)) {
    if (endpoint.name.empty()) endpoint.name = endpoint.model;
    if (options.concurrency < 1)
      throw std::invalid_argument("llm client: concurrency must be at least 1 (got " +
                                  std::to_string(options.concurrency) + ")");
    if (endpoint.max_retries < 0)
      throw std::invalid_argument("llm endpoint '" + endpoint.name + "': max_retries must be >= 0");
    if (!(endpoint.timeout_s > 0))
      throw std::invalid_argument("llm endpoint '" + endpoint.name + "': timeout must be positive");
    if (!(endpoint.backoff_s >= 0))
      throw std::invalid_argument("llm endpoint '" + endpoint.name + "': backoff must be >= 0");
    if (!options.cache_dir.empty()) cache.emplace(options.cache_dir);
  }
  ~Impl() {
    if (multi) curl_multi_cleanup(multi);
  }

  std::string url() const {
    std::string base = endpoint.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base + "/chat/completions";
  }

  std::string key_of(const ChatRequest& r) const {
    // Length-prefixed fields, so that no two different requests serialise alike.
    std::string text = "rctune-llm-cache-v1";
    auto add = [&text](const std::string& s) {
      text += '\n' + std::to_string(s.size()) + ':';
      text += s;
    };
    const std::string temperature = ir::fmt("%.17g", endpoint.temperature);
    add(endpoint.model);
    add(std::to_string(r.messages.size()));
    for (const auto& m : r.messages) {
      add(m.role);
      add(m.content);
    }
    add(temperature);
    add(std::to_string(endpoint.max_tokens));
    add(std::to_string(r.n));
    add(std::to_string(r.sample_index));
    const XXH128_hash_t h = XXH3_128bits(text.data(), text.size());
    char hex[33];
    std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                  static_cast<unsigned long long>(h.low64));
    return hex;
  }

  std::string payload_of(const ChatRequest& r) const {
    json messages = json::array();
    for (const auto& m : r.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
    json j = {{"model", endpoint.model},
              {"messages", messages},
              {"temperature", endpoint.temperature},
              {"max_tokens", endpoint.max_tokens}};
    if (r.n != 1) j["n"] = r.n;  // some servers reject the field
    return j.dump();
  }

  double cost_of(int64_t prompt_tokens, int64_t completion_tokens) const {
    return static_cast<double>(prompt_tokens) * endpoint.price_prompt / 1e6 +
           static_cast<double>(completion_tokens) * endpoint.price_completion / 1e6;
  }

  std::vector<ChatResponse> complete(const std::vector<ChatRequest>& requests);
  std::vector<Job> answer_without_network(const std::vector<ChatRequest>& requests,
                                          const std::string& api_key, std::vector<ChatResponse>& out);
  std::string refusal_to_send(const char* key_value, const std::string& api_key) const;
  class Transfers;
};

// Cache hits and requests that cannot be sent are answered without the network; the others
// become jobs.
std::vector<Job> ChatClient::Impl::answer_without_network(const std::vector<ChatRequest>& requests,
                                                          const std::string& api_key,
                                                          std::vector<ChatResponse>& out) {
  std::vector<Job> jobs;
  jobs.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const ChatRequest& r = requests[i];
    ChatResponse& res = out[i];
    if (r.n < 1) {
      res.error = "invalid request: n must be at least 1 (got " + std::to_string(r.n) + ")";
      continue;
    }
    const std::string key = key_of(r);
    if (cache) {
      if (auto hit = cache->load(key)) {
        res.ok = true;
        res.from_cache = true;
        res.choices = std::move(hit->choices);
        res.finish_reasons = std::move(hit->finish_reasons);
        for (auto& c : res.choices) c = redact(std::move(c), api_key);
        for (auto& f : res.finish_reasons) f = redact(std::move(f), api_key);
        res.prompt_tokens = hit->prompt_tokens;
        res.completion_tokens = hit->completion_tokens;
        continue;
      }
    }
    if (options.offline) {
      res.error = cache ? "not in the response cache (offline)"
                        : "not in the response cache (offline, and no cache directory is configured)";
      continue;
    }
    Job job;
    job.index = i;
    job.request = &r;
    job.key = key;
    jobs.push_back(std::move(job));
  }
  return jobs;
}

// Why nothing may be sent to the endpoint ("" when it may): no base URL, a missing or unsafe API
// key, a header that would inject another.
std::string ChatClient::Impl::refusal_to_send(const char* key_value, const std::string& api_key) const {
  if (endpoint.base_url.empty()) return "llm endpoint '" + endpoint.name + "' has no base URL";
  // The key lives only in the Authorization header and in the environment.
  if (!endpoint.api_key_env.empty()) {
    if (!key_value || !*key_value)
      return "the API key variable " + endpoint.api_key_env + " (api_key_env of endpoint '" + endpoint.name +
             "') is " + (key_value ? "empty" : "not set");
    if (const auto c = control_character(api_key))
      return "the API key variable " + endpoint.api_key_env + " (api_key_env of endpoint '" + endpoint.name +
             "') holds a control character (" + describe_control(*c) +
             "): refused, it would end the Authorization header and start another";
  }
  for (const auto& [name, value] : endpoint.headers) {
    const bool bad_name = name.empty() || control_character(name) || name.find(':') != std::string::npos;
    if (bad_name || control_character(value))
      return "llm endpoint '" + endpoint.name + "': header '" + redact(snippet(name), api_key) + "' " +
             (bad_name ? "has an empty name or a name with ':' or a control character"
                       : "has a value with a control character (" +
                             describe_control(*control_character(value)) + ")") +
             ": refused, it would inject a header";
  }
  return "";
}

// The jobs of one complete() call on the network: attempts started up to the concurrency limit,
// retried after a backoff where a retry may help, each finished job's response in `out`.
class ChatClient::Impl::Transfers {
 public:
  Transfers(Impl& impl, std::vector<Job>& jobs, std::vector<ChatResponse>& out, const std::string& api_key)
      : impl_(impl),
        jobs_(jobs),
        out_(out),
        api_key_(api_key),
        target_(impl.url()),
        shown_url_(config::url_for_display(target_)),
        timeout_ms_(std::max(1L, std::lround(impl.endpoint.timeout_s * 1000))),
        connect_timeout_ms_(std::min(timeout_ms_, std::lround(kMaxConnectTimeoutS * 1000))),
        remaining_(jobs.size()) {
    headers_.add("Content-Type: application/json");
    headers_.add("Expect:");  // no 100-continue round trip for large prompts
    if (!api_key_.empty()) headers_.add("Authorization: Bearer " + api_key_);
    for (const auto& [name, value] : impl_.endpoint.headers) headers_.add(name + ": " + value);
    // Loopback never goes through a proxy (a user's http_proxy would otherwise catch local servers).
    for (const char* var : {"no_proxy", "NO_PROXY"})
      if (const char* v = std::getenv(var); v && *v) {
        no_proxy_ += ",";
        no_proxy_ += v;
        break;
      }
    for (auto& job : jobs_) job.payload = impl_.payload_of(*job.request);
  }

  void run() {
    while (remaining_ > 0) {
      // Start what may start, in request order, up to the concurrency limit.
      const auto now = Clock::now();
      for (auto& job : jobs_) {
        if (in_flight_ >= impl_.options.concurrency) break;
        if (!job.done && !job.in_flight && (job.attempts == 0 || job.next_start <= now)) start_attempt(job);
      }

      int running = 0;
      curl_multi_perform(impl_.multi, &running);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(impl_.multi, &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        Job* job = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&job));
        RCTUNE_CHECK(job && job->easy == msg->easy_handle);
        on_done(*job, msg->data.result);
      }
      if (remaining_ == 0) break;
      const long wait_ms = wait_before_next_round_ms();
      if (wait_ms > 0) curl_multi_poll(impl_.multi, nullptr, 0, static_cast<int>(wait_ms), nullptr);
    }
  }

 private:
  // Wait for network activity, or until the next backoff ends (at most 200 ms).
  long wait_before_next_round_ms() const {
    long wait_ms = 200;
    if (in_flight_ < impl_.options.concurrency) {
      for (const auto& job : jobs_) {
        if (job.done || job.in_flight) continue;
        const auto until = job.attempts == 0 ? Clock::now() : job.next_start;
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
        wait_ms = std::min<long>(wait_ms, std::max<long>(0, ms));
      }
    }
    return wait_ms;
  }

  void finish(Job& job, ChatResponse&& res) {
    res.attempts = job.attempts;
    res.latency_s = seconds_since(job.first_start);
    res.error = redact(res.error, api_key_);
    for (auto& c : res.choices) c = redact(std::move(c), api_key_);
    out_[job.index] = std::move(res);
    job.done = true;
    --remaining_;
  }

  void finish_with_error(Job& job, const std::string& error) {
    ChatResponse res;
    res.error = error;
    finish(job, std::move(res));
  }

  void start_attempt(Job& job) {
    if (job.attempts == 0) job.first_start = Clock::now();
    CURL* easy = curl_easy_init();
    if (!easy) return finish_with_error(job, "llm client: curl_easy_init failed");
    ++job.attempts;
    job.sink.body.clear();
    job.sink.limit = impl_.options.max_response_bytes;
    job.sink.overflow = false;
    job.retry_after.clear();
    job.curl_error[0] = '\0';
    curl_easy_setopt(easy, CURLOPT_URL, target_.c_str());
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, job.payload.c_str());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(job.payload.size()));
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers_.list);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &job.sink);
    // A declared length over the limit fails at once (CURLE_FILESIZE_EXCEEDED).
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(impl_.options.max_response_bytes));
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, read_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &job.retry_after);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, job.curl_error);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms_);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms_);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_NOPROXY, no_proxy_.c_str());
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // whatever this curl can decode
    curl_easy_setopt(easy, CURLOPT_PRIVATE, &job);
    if (curl_multi_add_handle(impl_.multi, easy) != CURLM_OK) {
      curl_easy_cleanup(easy);
      return finish_with_error(job, "llm client: curl_multi_add_handle failed");
    }
    job.easy = easy;
    job.in_flight = true;
    ++in_flight_;
  }

  // After a failed attempt: another one after the backoff (or Retry-After), or the final error.
  void retry_or_fail(Job& job, ChatResponse&& res, const std::string& reason, const std::string& detail) {
    if (job.attempts <= impl_.endpoint.max_retries) {
      double delay = std::min(impl_.endpoint.backoff_s * std::pow(2.0, job.attempts - 1), kMaxBackoffS);
      if (auto ra = parse_retry_after(job.retry_after)) delay = *ra;
      job.next_start =
          Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(delay));
      return;
    }
    res.error = reason + " after " + plural_attempts(job.attempts) + ", POST " + shown_url_ +
                (detail.empty() ? "" : ": " + detail);
    finish(job, std::move(res));
  }

  // A finished attempt: its handle released, then its response read by what happened.
  void on_done(Job& job, CURLcode code) {
    long status = 0;
    curl_easy_getinfo(job.easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(impl_.multi, job.easy);
    curl_easy_cleanup(job.easy);
    job.easy = nullptr;
    job.in_flight = false;
    --in_flight_;

    ChatResponse res;
    res.http_status = code == CURLE_OK ? static_cast<int>(status) : 0;
    // The body as it may be shown: the key redacted before anything is cut from it.
    const std::string body = redact(job.sink.body, api_key_);
    if (job.sink.overflow || code == CURLE_FILESIZE_EXCEEDED) {
      // The same request would get the same answer: not retried.
      job.sink.body = std::string();
      res.error = "response too large (over " + std::to_string(impl_.options.max_response_bytes) +
                  " bytes, llm.max_response_bytes; not retried) after " + plural_attempts(job.attempts) +
                  ", POST " + shown_url_;
      finish(job, std::move(res));
    } else if (code != CURLE_OK) {
      on_transfer_error(job, std::move(res), code);
    } else if (status >= 200 && status < 300) {
      on_answer(job, std::move(res), body);
    } else {
      on_http_error(job, std::move(res), status, body);
    }
  }

  // The transfer failed (no HTTP status): retried where a retry may help.
  void on_transfer_error(Job& job, ChatResponse&& res, CURLcode code) {
    std::string what;
    if (code == CURLE_OPERATION_TIMEDOUT)
      what = "timeout (" + format_seconds(impl_.endpoint.timeout_s) + " s per attempt)";
    else if (code == CURLE_COULDNT_CONNECT)
      what = "cannot connect to the endpoint";
    else if (code == CURLE_COULDNT_RESOLVE_HOST)
      what = "cannot resolve the endpoint's host";
    else if (code == CURLE_GOT_NOTHING || code == CURLE_PARTIAL_FILE || code == CURLE_RECV_ERROR ||
             code == CURLE_SEND_ERROR)
      what = "connection lost";
    else
      what = "transfer failed";
    const std::string detail = job.curl_error[0] ? job.curl_error : curl_easy_strerror(code);
    if (retryable_curl_error(code)) {
      retry_or_fail(job, std::move(res), what, detail);
    } else {
      res.error = what + " (not retried) after " + plural_attempts(job.attempts) + ", POST " + shown_url_ +
                  ": " + detail;
      finish(job, std::move(res));
    }
  }

  // A 2xx answer: parsed, its usage priced, stored in the cache.
  void on_answer(Job& job, ChatResponse&& res, const std::string& body) {
    ParsedBody parsed = parse_completion(job.sink.body);
    job.sink.body = std::string();
    if (!parsed.ok) {
      res.error = parsed.error + " after " + plural_attempts(job.attempts) + ", POST " + shown_url_ + ": " +
                  snippet(body);
      return finish(job, std::move(res));
    }
    // A server or proxy may echo the key (from the Authorization header) in its answer.
    for (auto& c : parsed.answer.choices) c = redact(std::move(c), api_key_);
    for (auto& f : parsed.answer.finish_reasons) f = redact(std::move(f), api_key_);
    if (!parsed.usage_known && !impl_.warned_usage) {
      impl_.warned_usage = true;
      spdlog::warn(
          "llm endpoint '{}' reported a malformed token usage ({}): its usage is counted as unknown (0 "
          "tokens, no cost); further ones are not reported",
          impl_.endpoint.name, redact(parsed.usage_problem, api_key_));
    }
    res.ok = true;
    res.usage_known = parsed.usage_known;
    res.choices = parsed.answer.choices;
    res.finish_reasons = parsed.answer.finish_reasons;
    res.prompt_tokens = parsed.answer.prompt_tokens;
    res.completion_tokens = parsed.answer.completion_tokens;
    res.cost_usd = impl_.cost_of(res.prompt_tokens, res.completion_tokens);
    if (impl_.cache)
      impl_.cache->store(job.key, {impl_.endpoint.model, job.request->sample_index, job.request->n},
                         parsed.answer);
    finish(job, std::move(res));
  }

  // An HTTP error status: 429 and 5xx are retried, the others are final.
  void on_http_error(Job& job, ChatResponse&& res, long status, const std::string& body) {
    const std::string reason = "HTTP " + std::to_string(status);
    if (status == 429 || status >= 500) {
      retry_or_fail(job, std::move(res), reason, snippet(body));
    } else {
      res.error = reason + " (not retried) after " + plural_attempts(job.attempts) + ", POST " + shown_url_ +
                  ": " + snippet(body);
      finish(job, std::move(res));
    }
  }

  Impl& impl_;
  std::vector<Job>& jobs_;
  std::vector<ChatResponse>& out_;
  const std::string& api_key_;
  const std::string target_;
  const std::string shown_url_;
  CurlSlist headers_;
  std::string no_proxy_ = "localhost,127.0.0.1,::1";
  const long timeout_ms_;
  const long connect_timeout_ms_;
  size_t remaining_;
  int in_flight_ = 0;
};

std::vector<ChatResponse> ChatClient::Impl::complete(const std::vector<ChatRequest>& requests) {
  std::vector<ChatResponse> out(requests.size());
  // The key, read once; it only goes into the Authorization header, and is redacted from whatever
  // comes back (cache entries written by an older rctune included).
  std::string api_key;
  const char* key_value = endpoint.api_key_env.empty() ? nullptr : std::getenv(endpoint.api_key_env.c_str());
  if (key_value) api_key = key_value;

  std::vector<Job> jobs = answer_without_network(requests, api_key, out);
  if (jobs.empty()) return out;
  auto fail_all = [&](const std::string& error) {
    for (auto& job : jobs) out[job.index].error = error;
    return out;
  };
  if (std::string refusal = refusal_to_send(key_value, api_key); !refusal.empty()) return fail_all(refusal);
  global_init();
  if (!multi) {
    multi = curl_multi_init();
    if (!multi) return fail_all("llm client: curl_multi_init failed");
  }
  Transfers(*this, jobs, out, api_key).run();
  return out;
}

ChatClient::ChatClient(Endpoint endpoint, ClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(endpoint), std::move(options))) {}
ChatClient::~ChatClient() = default;
ChatClient::ChatClient(ChatClient&&) noexcept = default;
ChatClient& ChatClient::operator=(ChatClient&&) noexcept = default;

std::vector<ChatResponse> ChatClient::complete(const std::vector<ChatRequest>& requests) {
  return impl_->complete(requests);
}

ChatResponse ChatClient::complete(const ChatRequest& request) { return impl_->complete({request}).front(); }

const Endpoint& ChatClient::endpoint() const { return impl_->endpoint; }

std::string ChatClient::cache_key(const ChatRequest& request) const { return impl_->key_of(request); }

}  // namespace rctune::llm
