// JSON forms of records between ranks (include/rctune/dist/codec.h).
#include "rctune/dist/codec.h"

#include <cmath>

namespace rctune::dist {

namespace {

using nlohmann::json;

json num(double d) { return std::isnan(d) ? json(nullptr) : json(d); }
double num(const json& j) { return j.is_null() ? runlog::kNaN : j.get<double>(); }

}  // namespace

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json to_json(const runlog::SampleRecord& s) {
  return json{{"index", s.index},
              {"wall_time", s.wall_time},
              {"rank", s.rank},
              {"strategy", s.strategy},
              {"proposer", s.proposer},
              {"node", s.node},
              {"parent_node", s.parent_node},
              {"trace", s.trace},
              {"rationale", s.rationale},
              {"hash", s.structural_hash},
              {"status", runlog::sample_status_name(s.status)},
              {"error", s.error},
              {"cached", s.cached},
              {"median_s", num(s.median_s)},
              {"min_s", num(s.min_s)},
              {"max_s", num(s.max_s)},
              {"iqr_s", num(s.iqr_s)},
              {"gflops", num(s.gflops)},
              {"predicted", num(s.predicted)},
              {"compile_s", s.compile_s}};
}

runlog::SampleRecord sample_from_json(const json& j) {
  runlog::SampleRecord s;
  s.index = j.at("index").get<int64_t>();
  s.wall_time = j.at("wall_time").get<double>();
  s.rank = j.at("rank").get<int32_t>();
  s.strategy = j.at("strategy").get<std::string>();
  s.proposer = j.at("proposer").get<std::string>();
  s.node = j.at("node").get<int64_t>();
  s.parent_node = j.at("parent_node").get<int64_t>();
  s.trace = j.at("trace").get<std::string>();
  s.rationale = j.at("rationale").get<std::string>();
  s.structural_hash = j.at("hash").get<uint64_t>();
  s.status = runlog::parse_sample_status(j.at("status").get<std::string>());
  s.error = j.at("error").get<std::string>();
  s.cached = j.at("cached").get<bool>();
  s.median_s = num(j.at("median_s"));
  s.min_s = num(j.at("min_s"));
  s.max_s = num(j.at("max_s"));
  s.iqr_s = num(j.at("iqr_s"));
  s.gflops = num(j.at("gflops"));
  s.predicted = num(j.at("predicted"));
  s.compile_s = j.at("compile_s").get<double>();
  return s;
}

json to_json(const runlog::TreeNode& n) {
  return json{{"id", n.id},         {"parent", n.parent},       {"action", n.action},
              {"visits", n.visits}, {"value", n.value},         {"best_gflops", num(n.best_gflops)},
              {"sample", n.sample}, {"hash", n.structural_hash}};
}

runlog::TreeNode tree_node_from_json(const json& j) {
  runlog::TreeNode n;
  n.id = j.at("id").get<int64_t>();
  n.parent = j.at("parent").get<int64_t>();
  n.action = j.at("action").get<std::string>();
  n.visits = j.at("visits").get<int64_t>();
  n.value = j.at("value").get<double>();
  n.best_gflops = num(j.at("best_gflops"));
  n.sample = j.at("sample").get<int64_t>();
  n.structural_hash = j.at("hash").get<uint64_t>();
  return n;
}

json to_json(const runlog::BestSchedule& b) {
  return json{{"sample", b.sample}, {"wall_time", b.wall_time}, {"trace", b.trace},    {"program", b.program},
              {"gflops", b.gflops}, {"median_s", b.median_s},   {"speedup", b.speedup}};
}

runlog::BestSchedule best_from_json(const json& j) {
  runlog::BestSchedule b;
  b.sample = j.at("sample").get<int64_t>();
  b.wall_time = j.at("wall_time").get<double>();
  b.trace = j.at("trace").get<std::string>();
  b.program = j.at("program").get<std::string>();
  b.gflops = j.at("gflops").get<double>();
  b.median_s = j.at("median_s").get<double>();
  b.speedup = j.at("speedup").get<double>();
  return b;
}

json to_json(const search::RootStatistic& r) {
  return json{{"hash", r.hash}, {"visits", r.visits}, {"value", r.value}};
}

search::RootStatistic root_statistic_from_json(const json& j) {
  return {j.at("hash").get<uint64_t>(), j.at("visits").get<int64_t>(), j.at("value").get<double>()};
}

json to_json(const runlog::LlmCallRecord& c) {
  return json{{"index", c.index},
              {"wall_time", c.wall_time},
              {"rank", c.rank},
              {"node", c.node},
              {"model", c.model},
              {"prompt_tokens", c.prompt_tokens},
              {"completion_tokens", c.completion_tokens},
              {"latency_s", c.latency_s},
              {"cost_usd", c.cost_usd},
              {"ok", c.ok},
              {"from_cache", c.from_cache},
              {"fallback", c.fallback},
              {"proposals", c.proposals},
              {"legal", c.legal},
              {"error", c.error}};
}

runlog::LlmCallRecord llm_call_from_json(const json& j) {
  runlog::LlmCallRecord c;
  c.index = j.at("index").get<int64_t>();
  c.wall_time = j.at("wall_time").get<double>();
  c.rank = j.at("rank").get<int32_t>();
  c.node = j.at("node").get<int64_t>();
  c.model = j.at("model").get<std::string>();
  c.prompt_tokens = j.at("prompt_tokens").get<int64_t>();
  c.completion_tokens = j.at("completion_tokens").get<int64_t>();
  c.latency_s = j.at("latency_s").get<double>();
  c.cost_usd = j.at("cost_usd").get<double>();
  c.ok = j.at("ok").get<bool>();
  c.from_cache = j.at("from_cache").get<bool>();
  c.fallback = j.at("fallback").get<bool>();
  c.proposals = j.at("proposals").get<int32_t>();
  c.legal = j.at("legal").get<int32_t>();
  c.error = j.at("error").get<std::string>();
  return c;
}

json to_json(const runlog::RankStats& r) {
  return json{{"rank", r.rank},           {"host", r.host},         {"group", r.group},
              {"node_rank", r.node_rank}, {"pin_core", r.pin_core}, {"samples", r.samples},
              {"wall_s", r.wall_s},       {"search_s", r.search_s}, {"measure_s", r.measure_s},
              {"comm_s", r.comm_s},       {"merge_s", r.merge_s}};
}

runlog::RankStats rank_stats_from_json(const json& j) {
  runlog::RankStats r;
  r.rank = j.at("rank").get<int32_t>();
  r.host = j.at("host").get<std::string>();
  r.group = j.at("group").get<int32_t>();
  r.node_rank = j.at("node_rank").get<int32_t>();
  r.pin_core = j.at("pin_core").get<int32_t>();
  r.samples = j.at("samples").get<int64_t>();
  r.wall_s = j.at("wall_s").get<double>();
  r.search_s = j.at("search_s").get<double>();
  r.measure_s = j.at("measure_s").get<double>();
  r.comm_s = j.at("comm_s").get<double>();
  r.merge_s = j.at("merge_s").get<double>();
  return r;
}

}  // namespace rctune::dist
