// How a task of a run starts from the tuning database (docs/database.md), the same in a one-process
// run (apps/tune) and in the hub of a many-rank run: the schedules measured first (its record on
// this machine, else the same workload's on other machines and its neighbours'), and when a
// confirmed record stops the task.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rctune/config/tune_config.h"
#include "rctune/database/database.h"
#include "rctune/dist/run_setup.h"
#include "rctune/search/tuner.h"

namespace rctune::dist {

struct DatabaseStart {
  std::vector<search::Seed> seeds;  // measured first, in order (the record on this machine first)
  double recorded_best_s = 0;       // the task's best record on this machine (0: none)
  int64_t recorded_samples = 0;     // the samples the run that recorded it spent on the task
  std::string summary;  // "the tuning database has 3 records of it on this machine, ..." ("": none)
};

// What the database offers the task of workload `key` (its workload key, this machine's fingerprint
// id, the run's flags).
DatabaseStart database_start(const database::Database& db, const database::Key& key);

// The task's baselines as a run on this machine recorded them in the database (the unscheduled
// kernel's time of the same key, the library routine's of the same workload and machine), so that
// they are not measured again; std::nullopt when the unscheduled kernel has no record.
std::optional<Baselines> recorded_baselines(const database::Database& db, const database::Key& key);

// The samples this run would give task `ti`: its budget under per_task, its own budget (a cap), or
// the run's budget divided by the tasks.
int64_t task_share(const config::TuneConfig& c, size_t ti);

// A confirmed record stops its task when the confirmation is within 10% of the record and the
// record's run spent at least `share` samples on the task.
bool confirmed_record_stops_task(const DatabaseStart& s, double confirmed_s, int64_t share);
// Confirmed within 10%, whether or not it stops the task.
bool confirmed_at_record(const DatabaseStart& s, double confirmed_s);

// A task that started from its confirmed record and is not better by 1% after this many rounds
// draws no more samples.
inline constexpr int kRoundsToBeatTheRecord = 2;
bool stalled_at_record(double confirmed_s, double best_s, int rounds);

}  // namespace rctune::dist
