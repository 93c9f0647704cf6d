// Message bodies between members and the hub (include/rctune/dist/protocol.h).
#include "rctune/dist/protocol.h"

#include "rctune/dist/codec.h"

namespace rctune::dist {

using nlohmann::json;

namespace {

json seeds_json(const std::vector<search::Seed>& seeds) {
  json out = json::array();
  for (const search::Seed& s : seeds)
    out.push_back({{"trace", s.trace}, {"proposer", s.proposer}, {"rationale", s.rationale}});
  return out;
}

}  // namespace

std::string to_body(const Assignment& a) {
  return dump(json{{"task", a.task},
                   {"share", a.share},
                   {"measure_baselines", a.measure_baselines},
                   {"reference_gflops", a.reference_gflops},
                   {"observed", to_json_array(a.observed)},
                   {"seeds", seeds_json(a.seeds)},
                   {"seeds_only", a.seeds_only}});
}

Assignment assignment_from_body(const std::string& body) {
  const json j = json::parse(body);
  Assignment a;
  a.task = j.at("task").get<int64_t>();
  a.share = j.at("share").get<int64_t>();
  a.measure_baselines = j.at("measure_baselines").get<bool>();
  a.reference_gflops = j.at("reference_gflops").get<double>();
  a.observed = from_json_array<runlog::SampleRecord>(j.at("observed"), sample_from_json);
  a.seeds_only = j.at("seeds_only").get<bool>();
  for (const json& e : j.at("seeds"))
    a.seeds.push_back({e.at("trace").get<std::string>(), e.at("proposer").get<std::string>(),
                       e.at("rationale").get<std::string>()});
  return a;
}

std::string to_body(const TaskReport& r) {
  return dump(json{{"task", r.task},
                   {"tree", to_json_array(r.tree)},
                   {"samples", r.samples},
                   {"failures", r.failures},
                   {"illegal", r.illegal},
                   {"observed", r.observed},
                   {"proposer_failures",
                    {{"illegal", r.proposer_failures.illegal},
                     {"unparsable", r.proposer_failures.unparsable},
                     {"internal", r.proposer_failures.internal},
                     {"first_internal", r.proposer_failures.first_internal}}}});
}

TaskReport task_report_from_body(const std::string& body) {
  const json j = json::parse(body);
  TaskReport r;
  r.task = j.at("task").get<int64_t>();
  r.tree = from_json_array<runlog::TreeNode>(j.at("tree"), tree_node_from_json);
  r.samples = j.at("samples").get<int64_t>();
  r.failures = j.at("failures").get<int64_t>();
  r.illegal = j.at("illegal").get<int64_t>();
  r.observed = j.at("observed").get<int64_t>();
  const json& f = j.at("proposer_failures");
  r.proposer_failures.illegal = f.at("illegal").get<int64_t>();
  r.proposer_failures.unparsable = f.at("unparsable").get<int64_t>();
  r.proposer_failures.internal = f.at("internal").get<int64_t>();
  r.proposer_failures.first_internal = f.at("first_internal").get<std::string>();
  return r;
}

std::string sync_body(int64_t task, const std::vector<search::RootStatistic>& root,
                      const std::vector<uint64_t>& picks, const std::vector<runlog::TreeNode>* tree) {
  json j{{"task", task}, {"root", to_json_array(root)}, {"picks", picks}};
  if (tree) j["tree"] = to_json_array(*tree);
  return dump(j);
}

SyncRequest sync_from_body(const std::string& body) {
  const json j = json::parse(body);
  SyncRequest r;
  r.task = j.at("task").get<int64_t>();
  r.root = from_json_array<search::RootStatistic>(j.at("root"), root_statistic_from_json);
  r.picks = j.at("picks").get<std::vector<uint64_t>>();
  if (j.contains("tree")) r.tree = from_json_array<runlog::TreeNode>(j.at("tree"), tree_node_from_json);
  return r;
}

std::string to_body(const search::PeerNews& n) {
  return dump(
      json{{"measured", to_json_array(n.measured)}, {"root", to_json_array(n.root)}, {"claimed", n.claimed}});
}

search::PeerNews peer_news_from_body(const std::string& body) {
  const json j = json::parse(body);
  search::PeerNews n;
  n.measured = from_json_array<runlog::SampleRecord>(j.at("measured"), sample_from_json);
  n.root = from_json_array<search::RootStatistic>(j.at("root"), root_statistic_from_json);
  n.claimed = j.at("claimed").get<std::vector<uint64_t>>();
  return n;
}

}  // namespace rctune::dist
