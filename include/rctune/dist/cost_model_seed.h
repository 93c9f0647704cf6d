// A run's cost model starts warm from the tuning database (docs/database.md): the schedules it
// recorded, of every workload, are lowered again and their features learnt with their recorded
// throughputs, normalised per workload and machine, before the run measures anything. Records of
// other machines seed the model too (their relative speeds within a workload carry over better
// than nothing); none of their times is ever taken as a measurement of this run.
#pragma once

#include <cstdint>
#include <string>

#include "rctune/database/database.h"
#include "rctune/search/cost_model.h"

namespace rctune::dist {

struct ModelSeed {
  int64_t records = 0;  // learnt
  int64_t skipped = 0;  // whose schedule no longer applies to its workload, or whose workload is not rebuilt
};

// Teaches `model` (which must normalise per task) the records of `db`, this machine's
// (`hardware`: a fingerprint id) first, at most `max_records` in all.
ModelSeed seed_cost_model(search::CostModel& model, const database::Database& db, const std::string& hardware,
                          const search::HardwareInfo& hw, int64_t max_records = 2000);

}  // namespace rctune::dist
