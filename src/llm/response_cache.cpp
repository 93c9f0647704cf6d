// The LLM client's on-disk response cache: <dir>/<key>.json, written atomically.
#include "response_cache.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <nlohmann/json.hpp>

namespace rctune::llm {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr const char* kFormat = "rctune-llm-response-1";
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
  std::ifstream in(path_of(key), std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("format", "") != kFormat || !j.contains("choices") ||
      !j["choices"].is_array())
    return std::nullopt;
  CachedAnswer a;
  try {
    for (const auto& c : j["choices"]) {
      a.choices.push_back(c.at("content").get<std::string>());
      a.finish_reasons.push_back(c.value("finish_reason", ""));
    }
    if (j.contains("usage") && j["usage"].is_object()) {
      a.prompt_tokens = j["usage"].value("prompt_tokens", int64_t{0});
      a.completion_tokens = j["usage"].value("completion_tokens", int64_t{0});
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
