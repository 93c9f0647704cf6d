// The LLM client's on-disk response cache: <dir>/<key>.json, written atomically.
#include "response_cache.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <nlohmann/json.hpp>

#include "json_limits.h"

namespace rctune::llm {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr const char* kFormat = "rctune-llm-response-1";
// A cache file larger than this is not read (an entry holds one answer: a few MB at most, even
// with every character escaped).
constexpr std::uintmax_t kMaxEntryBytes = std::uintmax_t{64} << 20;

// A stored token count: a non-negative integer, else 0.
int64_t stored_tokens(const json& usage, const char* name) {
  if (!usage.contains(name)) return 0;
  const json& v = usage[name];
  if (v.is_number_unsigned())
    return static_cast<int64_t>(std::min<uint64_t>(v.get<uint64_t>(), 1'000'000'000));
  if (v.is_number_integer()) return std::clamp<int64_t>(v.get<int64_t>(), 0, 1'000'000'000);
  return 0;
}
}  // namespace

ResponseCache::ResponseCache(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec || !fs::is_directory(dir_))
    throw std::runtime_error("llm response cache: cannot create directory '" + dir_ +
                             "': " + (ec ? ec.message() : std::string("not a directory")));
}

std::string ResponseCache::path_of(const std::string& key) const {
  return (fs::path(dir_) / (key + ".json")).string();
}

std::optional<CachedAnswer> ResponseCache::load(const std::string& key) const {
  const std::string path = path_of(key);
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec || size > kMaxEntryBytes) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  json j = detail::parse_bounded(text.str());
  if (!j.is_object() || !j.contains("format") || j["format"] != kFormat || !j.contains("choices") ||
      !j["choices"].is_array())
    return std::nullopt;
  CachedAnswer a;
  try {
    for (const auto& c : j["choices"]) {
      a.choices.push_back(c.at("content").get<std::string>());
      a.finish_reasons.push_back(c.contains("finish_reason") && c["finish_reason"].is_string()
                                     ? c["finish_reason"].get<std::string>()
                                     : std::string());
    }
    if (j.contains("usage") && j["usage"].is_object()) {
      a.prompt_tokens = stored_tokens(j["usage"], "prompt_tokens");
      a.completion_tokens = stored_tokens(j["usage"], "completion_tokens");
    }
  } catch (const json::exception&) {
    return std::nullopt;  // a damaged entry is a miss; the next answer overwrites it
  }
  return a;
}

bool ResponseCache::store(const std::string& key, const CacheEntryInfo& info,
                          const CachedAnswer& answer) const {
  json choices = json::array();
  for (size_t i = 0; i < answer.choices.size(); ++i)
    choices.push_back({{"content", answer.choices[i]},
                       {"finish_reason", i < answer.finish_reasons.size() ? answer.finish_reasons[i] : ""}});
  json j = {
      {"format", kFormat},
      {"key", key},
      {"model", info.model},
      {"sample_index", info.sample_index},
      {"n", info.n},
      {"choices", choices},
      {"usage", {{"prompt_tokens", answer.prompt_tokens}, {"completion_tokens", answer.completion_tokens}}}};

  // A name no other writer (thread or process) uses, then an atomic rename over the final name.
  static std::atomic<uint64_t> counter{0};
  const std::string final_path = path_of(key);
  const std::string tmp_path =
      final_path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  {
    std::ofstream out(tmp_path, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out << j.dump(2) << '\n';
    out.flush();
    if (!out) {
      out.close();
      std::error_code ec;
      fs::remove(tmp_path, ec);
      return false;
    }
  }
  std::error_code ec;
  fs::rename(tmp_path, final_path, ec);
  if (ec) {
    fs::remove(tmp_path, ec);
    return false;
  }
  return true;
}

}  // namespace rctune::llm
