// The JSON text form of LLM requests and answers between ranks (rctune/llm/wire.h).
#include "rctune/llm/wire.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "json_limits.h"

namespace rctune::llm {

using nlohmann::json;

namespace {

constexpr const char* kRequestsFormat = "rctune-llm-requests-1";
constexpr const char* kResponsesFormat = "rctune-llm-responses-1";

// ---- writing ----

// Well-formed UTF-8 as RFC 3629 defines it (no overlong forms, no surrogates, at most U+10FFFF): what
// a JSON string can hold.
bool valid_utf8(const std::string& s) {
  size_t i = 0;
  const size_t size = s.size();
  while (i < size) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    uint32_t code = 0, smallest = 0;
    if ((c & 0xE0) == 0xC0) {
      length = 2, code = c & 0x1F, smallest = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3, code = c & 0x0F, smallest = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4, code = c & 0x07, smallest = 0x10000;
    } else {
      return false;
    }
    if (size - i < length) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3F);
    }
    if (code < smallest || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

// A string as a JSON string, or {"hex": "..."} when it is not valid UTF-8 (so that any bytes travel).
json string_value(const std::string& s) {
  if (valid_utf8(s)) return s;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    hex += kDigits[c >> 4];
    hex += kDigits[c & 0xF];
  }
  return json{{"hex", hex}};
}

json strings_value(const std::vector<std::string>& strings) {
  json a = json::array();
  for (const auto& s : strings) a.push_back(string_value(s));
  return a;
}

// A double as a JSON number (written so that it reads back exactly), or "nan", "inf", "-inf".
json double_value(double d) {
  if (std::isfinite(d)) return d;
  if (std::isnan(d)) return "nan";
  return d > 0 ? "inf" : "-inf";
}

std::string dump(const json& j) {
  // Every string was checked above; `replace` only guards against a bug there ever aborting a run.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// ---- reading ----

[[noreturn]] void fail(const std::string& where, const std::string& problem) {
  throw std::runtime_error("llm wire: " + where + ": " + problem);
}

const json& field(const json& object, const char* name, const std::string& where) {
  if (!object.is_object()) fail(where, std::string("expected an object, got ") + object.type_name());
  auto it = object.find(name);
  if (it == object.end()) fail(where, std::string("missing field \"") + name + "\"");
  return *it;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string read_string(const json& v, const std::string& where) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.size() == 1 && v.contains("hex") && v["hex"].is_string()) {
    const auto& hex = v["hex"].get_ref<const std::string&>();
    if (hex.size() % 2 != 0) fail(where + ".hex", "an odd number of hex digits");
    std::string bytes(hex.size() / 2, '\0');
    for (size_t i = 0; i < bytes.size(); ++i) {
      const int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
      if (hi < 0 || lo < 0) fail(where + ".hex", "not a hex digit at position " + std::to_string(2 * i));
      bytes[i] = static_cast<char>(hi * 16 + lo);
    }
    return bytes;
  }
  fail(where, std::string("expected a string or {\"hex\": ...}, got ") + v.type_name());
}

const json& read_array(const json& v, const std::string& where) {
  if (!v.is_array()) fail(where, std::string("expected an array, got ") + v.type_name());
  return v;
}

// The elements of array v, each read by read(element, where + "[i]").
template <typename Read>
auto read_each(const json& v, const std::string& where, Read&& read) {
  const json& list = read_array(v, where);
  std::vector<std::invoke_result_t<Read&, const json&, const std::string&>> out;
  out.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i)
    out.push_back(read(list[i], where + "[" + std::to_string(i) + "]"));
  return out;
}

std::vector<std::string> read_strings(const json& v, const std::string& where) {
  return read_each(v, where, read_string);
}

int64_t read_int(const json& v, const std::string& where, int64_t lo, int64_t hi) {
  if (!v.is_number_integer()) fail(where, std::string("expected an integer, got ") + v.type_name());
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(hi)) fail(where, std::to_string(u) + " is out of range");
    return static_cast<int64_t>(u);
  }
  const auto i = v.get<int64_t>();
  if (i < lo || i > hi) fail(where, std::to_string(i) + " is out of range");
  return i;
}

int read_int32(const json& v, const std::string& where) {
  return static_cast<int>(
      read_int(v, where, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
}

int64_t read_int64(const json& v, const std::string& where) {
  return read_int(v, where, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
}

uint64_t read_uint64(const json& v, const std::string& where) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer())
    fail(where, "expected an unsigned integer, got " + std::to_string(v.get<int64_t>()));
  fail(where, std::string("expected an unsigned integer, got ") + v.type_name());
}

double read_double(const json& v, const std::string& where) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
  }
  fail(where, "expected a number (or \"nan\", \"inf\", \"-inf\"), got " + v.dump());
}

bool read_bool(const json& v, const std::string& where) {
  if (!v.is_boolean()) fail(where, std::string("expected true or false, got ") + v.type_name());
  return v.get<bool>();
}

// The document, checked to be an object of the expected format.
json parse(const std::string& text, const char* format) {
  json j;
  // Copying or dumping a deeply nested value recurses: such a document is refused unread.
  if (!detail::json_depth_within(text))
    throw std::runtime_error(std::string("llm wire: a document nested deeper than ") +
                             std::to_string(detail::kMaxJsonDepth) + " levels (expected " + format + ")");
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("llm wire: not JSON (expected ") + format + "): " + e.what());
  }
  const json& found = field(j, "format", "the document");
  if (!found.is_string() || found.get_ref<const std::string&>() != format)
    fail("format", std::string("expected \"") + format + "\", got " + found.dump());
  return j;
}

}  // namespace

std::string to_wire(size_t model, const std::vector<ChatRequest>& requests) {
  json list = json::array();
  for (const ChatRequest& r : requests) {
    json messages = json::array();
    for (const Message& m : r.messages)
      messages.push_back({{"role", string_value(m.role)}, {"content", string_value(m.content)}});
    list.push_back({{"messages", messages}, {"n", r.n}, {"sample_index", r.sample_index}});
  }
  return dump({{"format", kRequestsFormat}, {"model", static_cast<uint64_t>(model)}, {"requests", list}});
}

std::pair<size_t, std::vector<ChatRequest>> requests_from_wire(const std::string& text) {
  const json j = parse(text, kRequestsFormat);
  const uint64_t model = read_uint64(field(j, "model", "the document"), "model");
  if (model > std::numeric_limits<size_t>::max()) fail("model", "out of range");
  std::vector<ChatRequest> requests = read_each(
      field(j, "requests", "the document"), "requests", [](const json& item, const std::string& where) {
        ChatRequest r;
        r.messages = read_each(field(item, "messages", where), where + ".messages",
                               [](const json& message, const std::string& at) {
                                 Message m;
                                 m.role = read_string(field(message, "role", at), at + ".role");
                                 m.content = read_string(field(message, "content", at), at + ".content");
                                 return m;
                               });
        r.n = read_int32(field(item, "n", where), where + ".n");
        r.sample_index = read_uint64(field(item, "sample_index", where), where + ".sample_index");
        return r;
      });
  return {static_cast<size_t>(model), std::move(requests)};
}

std::string to_wire(const std::vector<ChatResponse>& responses) {
  json list = json::array();
  for (const ChatResponse& r : responses)
    list.push_back({{"ok", r.ok},
                    {"error", string_value(r.error)},
                    {"http_status", r.http_status},
                    {"choices", strings_value(r.choices)},
                    {"finish_reasons", strings_value(r.finish_reasons)},
                    {"prompt_tokens", r.prompt_tokens},
                    {"completion_tokens", r.completion_tokens},
                    {"usage_known", r.usage_known},
                    {"latency_s", double_value(r.latency_s)},
                    {"cost_usd", double_value(r.cost_usd)},
                    {"attempts", r.attempts},
                    {"from_cache", r.from_cache}});
  return dump({{"format", kResponsesFormat}, {"responses", list}});
}

std::vector<ChatResponse> responses_from_wire(const std::string& text) {
  const json j = parse(text, kResponsesFormat);
  return read_each(
      field(j, "responses", "the document"), "responses", [](const json& item, const std::string& where) {
        auto at = [&](const char* name) { return where + "." + name; };
        ChatResponse r;
        r.ok = read_bool(field(item, "ok", where), at("ok"));
        r.error = read_string(field(item, "error", where), at("error"));
        r.http_status = read_int32(field(item, "http_status", where), at("http_status"));
        r.choices = read_strings(field(item, "choices", where), at("choices"));
        r.finish_reasons = read_strings(field(item, "finish_reasons", where), at("finish_reasons"));
        r.prompt_tokens = read_int64(field(item, "prompt_tokens", where), at("prompt_tokens"));
        r.completion_tokens = read_int64(field(item, "completion_tokens", where), at("completion_tokens"));
        if (item.contains("usage_known")) r.usage_known = read_bool(item["usage_known"], at("usage_known"));
        r.latency_s = read_double(field(item, "latency_s", where), at("latency_s"));
        r.cost_usd = read_double(field(item, "cost_usd", where), at("cost_usd"));
        r.attempts = read_int32(field(item, "attempts", where), at("attempts"));
        r.from_cache = read_bool(field(item, "from_cache", where), at("from_cache"));
        return r;
      });
}

}  // namespace rctune::llm
