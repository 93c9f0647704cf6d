// The bodies of the messages between members and the hub (dist/mailbox.h), as JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rctune/runlog/runlog.h"
#include "rctune/search/strategy.h"
#include "rctune/search/tuner.h"

namespace rctune::dist {

// hub -> member: the task to tune next (task < 0: none left).
struct Assignment {
  int64_t task = -1;               // index in the config's tasks
  int64_t share = 0;               // samples this member measures
  bool measure_baselines = false;  // this member (the group's first) measures the unscheduled kernel
  double reference_gflops = 0;
  std::vector<runlog::SampleRecord> observed;  // recorded by a previous session (resume)
  std::vector<search::Seed> seeds;             // schedules of the tuning database, measured first
  // Measure only the seeds, up to `share` (a tuning database's record, confirmed on this machine
  // before the task draws rounds), not the search's candidates.
  bool seeds_only = false;
};
std::string to_body(const Assignment& a);
Assignment assignment_from_body(const std::string& body);

// member -> hub, at the end of its share of a task.
struct TaskReport {
  int64_t task = -1;
  std::vector<runlog::TreeNode> tree;
  int64_t samples = 0, failures = 0, illegal = 0, observed = 0;
  search::ProposerFailures proposer_failures;  // what the member's proposers dropped, by cause
};
std::string to_body(const TaskReport& r);
TaskReport task_report_from_body(const std::string& body);

// member -> hub: a synchronisation request (root statistics, likely next picks); hub -> member:
// the peers' news.
struct SyncRequest {
  int64_t task = -1;
  std::vector<search::RootStatistic> root;
  std::vector<uint64_t> picks;
  std::optional<std::vector<runlog::TreeNode>> tree;  // the member's tree, now and then (dist.tree_interval)
};
std::string sync_body(int64_t task, const std::vector<search::RootStatistic>& root,
                      const std::vector<uint64_t>& picks,
                      const std::vector<runlog::TreeNode>* tree = nullptr);
SyncRequest sync_from_body(const std::string& body);
std::string to_body(const search::PeerNews& n);
search::PeerNews peer_news_from_body(const std::string& body);

}  // namespace rctune::dist
