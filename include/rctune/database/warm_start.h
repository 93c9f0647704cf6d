// What a tuning database offers a task of a new run (docs/database.md, "How a run uses the
// database"): its own records on this machine (measured once to confirm, then the task may need no
// more samples), the same workload's records on other machines, and the records of its neighbours
// (same operator and kind, other shapes) on this machine, whose schedules are tried on the new
// shape. Times of other machines are never taken as measurements here: their schedules are
// measured again.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rctune/database/database.h"

namespace rctune::database {

struct WarmStart {
  std::vector<TuningRecord> exact;           // this key (workload, hardware, flags), fastest first
  std::vector<TuningRecord> other_hardware;  // this workload on other machines, fastest first
  std::vector<TuningRecord> neighbours;  // same operator and kind, other shape, this machine; closest first
  bool empty() const { return exact.empty() && other_hardware.empty() && neighbours.empty(); }
};

// Up to `k` records of each kind for `key`.
WarmStart warm_start(const Database& db, const Key& key, size_t k = 3);

// How far apart two operator specs of one operator are: the sum over their numeric parameters of
// |ln(a / b)|; std::nullopt when they are of different operators or differ in a parameter that is
// not a number (dtype, epilogue, layout), whose schedules would not carry over.
std::optional<double> spec_distance(const std::string& a, const std::string& b);

}  // namespace rctune::database
