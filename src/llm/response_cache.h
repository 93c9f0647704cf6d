// The LLM client's on-disk response cache (private to src/llm): one JSON file per request key,
// <dir>/<key>.json, holding the answer's choices, finish reasons and token usage and nothing
// else (no prompt, no URL, no header, no API key). Written atomically (a temporary file renamed
// over the final name), so a crash never leaves a half-written entry that a replay would read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rctune::llm {

struct CachedAnswer {
  std::vector<std::string> choices;
  std::vector<std::string> finish_reasons;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

// Descriptive fields stored next to the answer so that a person reading a cache file knows what
// it is; they play no part in the lookup (the key does).
struct CacheEntryInfo {
  std::string model;
  uint64_t sample_index = 0;
  int n = 1;
};

class ResponseCache {
 public:
  // Creates `dir` if needed; throws std::runtime_error naming it when that fails.
  explicit ResponseCache(std::string dir);

  // The stored answer, or nothing when there is none or the file cannot be read as an entry.
  std::optional<CachedAnswer> load(const std::string& key) const;
  // Stores the answer; returns false (and leaves no partial file) when writing fails.
  bool store(const std::string& key, const CacheEntryInfo& info, const CachedAnswer& answer) const;

  const std::string& dir() const { return dir_; }
  std::string path_of(const std::string& key) const;

 private:
  std::string dir_;
};

}  // namespace rctune::llm
