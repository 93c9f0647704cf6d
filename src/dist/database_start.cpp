// A task's start from the tuning database (include/rctune/dist/database_start.h).
#include "rctune/dist/database_start.h"

#include <cstdio>

#include "rctune/database/warm_start.h"
#include "rctune/dist/run_setup.h"

namespace rctune::dist {

DatabaseStart database_start(const database::Database& db, const database::Key& key) {
  const database::WarmStart w = database::warm_start(db, key);
  DatabaseStart s;
  char gflops[64];
  for (const database::TuningRecord& r : w.exact) {
    std::snprintf(gflops, sizeof gflops, "%.1f GFLOP/s", r.gflops);
    s.seeds.push_back({r.schedule, "database",
                       "recorded on this machine: " + std::string(gflops) + " after " +
                           std::to_string(r.samples) + " samples"});
  }
  for (const database::TuningRecord& r : w.other_hardware) {
    std::snprintf(gflops, sizeof gflops, "%.1f GFLOP/s", r.gflops);
    s.seeds.push_back({r.schedule, "database", "recorded on another machine: " + std::string(gflops)});
  }
  for (const database::TuningRecord& r : w.neighbours)
    s.seeds.push_back({r.schedule, "database", "best schedule of the neighbour " + r.workload});
  if (!w.exact.empty()) {
    s.recorded_best_s = w.exact.front().seconds;
    s.recorded_samples = w.exact.front().samples;
  }
  if (!w.empty())
    s.summary = "the tuning database has " + std::to_string(w.exact.size()) +
                " records of it on this machine, " + std::to_string(w.other_hardware.size()) +
                " elsewhere, " + std::to_string(w.neighbours.size()) + " of neighbours";
  return s;
}

std::optional<Baselines> recorded_baselines(const database::Database& db, const database::Key& key) {
  const std::optional<database::TuningRecord> unscheduled =
      db.baseline(key, database::RecordKind::Unscheduled);
  if (!unscheduled) return std::nullopt;
  Baselines b;
  b.reference_seconds = unscheduled->seconds;
  b.reference_gflops = unscheduled->gflops;
  b.reference_estimate = unscheduled->estimate;
  b.source = "tuning database, recorded " + unscheduled->utc;
  if (const auto library = db.baseline(key, database::RecordKind::Library)) {
    b.library = library->routine;
    b.library_seconds = library->seconds;
    b.library_gflops = library->gflops;
  }
  return b;
}

int64_t task_share(const config::TuneConfig& c, size_t ti) {
  if (config::effective_scheduler(c) == "per_task") return task_budget(c, ti);
  if (c.tasks[ti].budget > 0) return c.tasks[ti].budget;
  return c.budget / static_cast<int64_t>(c.tasks.size());
}

bool confirmed_at_record(const DatabaseStart& s, double confirmed_s) {
  return s.recorded_best_s > 0 && confirmed_s > 0 && confirmed_s <= 1.1 * s.recorded_best_s;
}

bool confirmed_record_stops_task(const DatabaseStart& s, double confirmed_s, int64_t share) {
  return confirmed_at_record(s, confirmed_s) && s.recorded_samples >= share;
}

bool stalled_at_record(double confirmed_s, double best_s, int rounds) {
  return confirmed_s > 0 && rounds >= kRoundsToBeatTheRecord && best_s >= 0.99 * confirmed_s;
}

}  // namespace rctune::dist
