#include "rctune/database/from_run.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace rctune::database {

namespace {
// A longer listing (a huge hand-written workload) is left out of its records, which stay small.
constexpr size_t kMaxListing = 64 * 1024;
}  // namespace

std::vector<TuningRecord> records_of_run(const runlog::RunLog& run,
                                         const std::map<std::string, std::string>& workload_keys,
                                         const HardwareFingerprint& hardware, const std::string& flags,
                                         int per_task) {
  std::vector<TuningRecord> out;
  for (const runlog::TaskLog& t : run.tasks) {
    const auto key = workload_keys.find(t.info.name);
    if (key == workload_keys.end()) continue;
    std::vector<const runlog::SampleRecord*> ok;
    int64_t spent = 0;
    for (const runlog::SampleRecord& s : t.samples) {
      if (s.status == runlog::SampleStatus::Illegal) continue;
      ++spent;
      if (s.status == runlog::SampleStatus::Ok && std::isfinite(s.median_s) && s.median_s > 0 &&
          std::isfinite(s.gflops))
        ok.push_back(&s);
    }
    std::stable_sort(ok.begin(), ok.end(), [](const runlog::SampleRecord* a, const runlog::SampleRecord* b) {
      return a->median_s < b->median_s;
    });
    std::set<std::string> schedules;
    for (const runlog::SampleRecord* s : ok) {
      if (static_cast<int>(schedules.size()) >= per_task) break;
      if (!schedules.insert(s->trace).second) continue;
      TuningRecord r;
      r.workload = key->second;
      // A hand-written workload keeps its listing, so that the record can be used without the
      // run's config (rctune export, cost-model seeding); an operator's spec says it all.
      if (operator_of(r.workload).empty() && t.info.workload.size() <= kMaxListing)
        r.workload_text = t.info.workload;
      r.hardware = hardware;
      r.flags = normalize_flags(flags);
      r.schedule = s->trace;
      r.seconds = s->median_s;
      r.spread = std::isfinite(s->iqr_s) ? s->iqr_s : 0;
      r.gflops = s->gflops;
      r.samples = spent;
      r.run = run.path;
      r.version = run.info.version;
      out.push_back(std::move(r));
    }
  }
  return out;
}

std::vector<TuningRecord> baseline_records_of_run(const runlog::RunLog& run,
                                                  const std::map<std::string, std::string>& workload_keys,
                                                  const HardwareFingerprint& hardware,
                                                  const std::string& flags) {
  std::vector<TuningRecord> out;
  auto record = [&](RecordKind kind, const std::string& workload, double seconds, double gflops) {
    TuningRecord r;
    r.kind = kind;
    r.workload = workload;
    r.hardware = hardware;
    r.flags = normalize_flags(flags);
    r.seconds = seconds;
    r.gflops = gflops;
    r.run = run.path;
    r.version = run.info.version;
    return r;
  };
  for (const runlog::TaskLog& t : run.tasks) {
    const auto key = workload_keys.find(t.info.name);
    if (key == workload_keys.end()) continue;
    const runlog::TaskInfo& i = t.info;
    if (std::isfinite(i.reference_seconds) && i.reference_seconds > 0 && std::isfinite(i.reference_gflops)) {
      out.push_back(record(RecordKind::Unscheduled, key->second, i.reference_seconds, i.reference_gflops));
      out.back().estimate = i.reference_estimate;
    }
    if (!i.library_name.empty() && std::isfinite(i.library_seconds) && i.library_seconds > 0 &&
        std::isfinite(i.library_gflops)) {
      out.push_back(record(RecordKind::Library, key->second, i.library_seconds, i.library_gflops));
      out.back().routine = i.library_name;
    }
  }
  return out;
}

}  // namespace rctune::database
