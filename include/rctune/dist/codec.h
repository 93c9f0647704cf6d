// JSON forms of the records that travel between ranks (samples, trees, bests, root statistics,
// rank statistics). NaN travels as null.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "rctune/runlog/runlog.h"
#include "rctune/search/strategy.h"

namespace rctune::dist {

nlohmann::json to_json(const runlog::SampleRecord& s);
runlog::SampleRecord sample_from_json(const nlohmann::json& j);
nlohmann::json to_json(const runlog::TreeNode& n);
runlog::TreeNode tree_node_from_json(const nlohmann::json& j);
nlohmann::json to_json(const runlog::BestSchedule& b);
runlog::BestSchedule best_from_json(const nlohmann::json& j);
nlohmann::json to_json(const search::RootStatistic& r);
search::RootStatistic root_statistic_from_json(const nlohmann::json& j);
nlohmann::json to_json(const runlog::LlmCallRecord& c);
runlog::LlmCallRecord llm_call_from_json(const nlohmann::json& j);
nlohmann::json to_json(const runlog::RankStats& r);
runlog::RankStats rank_stats_from_json(const nlohmann::json& j);

template <typename T>
nlohmann::json to_json_array(const std::vector<T>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (const T& x : v) a.push_back(to_json(x));
  return a;
}

template <typename T, typename F>
std::vector<T> from_json_array(const nlohmann::json& a, F from) {
  std::vector<T> v;
  v.reserve(a.size());
  for (const nlohmann::json& x : a) v.push_back(from(x));
  return v;
}

// JSON text that survives any bytes in strings (invalid UTF-8 is replaced, never thrown on).
std::string dump(const nlohmann::json& j);

}  // namespace rctune::dist
