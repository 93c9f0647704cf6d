// Warming a run's cost model from the tuning database (include/rctune/dist/cost_model_seed.h).
#include "rctune/dist/cost_model_seed.h"

#include <map>
#include <memory>
#include <vector>

#include "rctune/ir/check.h"
#include "rctune/ir/operators.h"
#include "rctune/ir/parser.h"
#include "rctune/search/candidate.h"
#include "rctune/search/features.h"

namespace rctune::dist {

namespace {

std::shared_ptr<const ir::Workload> shared_workload_of(const database::TuningRecord& r) {
  std::optional<ir::Workload> w = database::workload_of(r);
  return w ? std::make_shared<const ir::Workload>(std::move(*w)) : nullptr;
}

}  // namespace

ModelSeed seed_cost_model(search::CostModel& model, const database::Database& db, const std::string& hardware,
                          const search::HardwareInfo& hw, int64_t max_records) {
  RCTUNE_CHECK(model.options().normalise_per_task);
  ModelSeed seed;
  // Grouped by machine and workload: each group is one "task" of the model's normalisation.
  std::map<std::string, std::pair<std::vector<std::vector<double>>, std::vector<double>>> groups;
  std::map<std::string, std::shared_ptr<const ir::Workload>> workloads;
  for (const database::TrainingRecord& t : db.records_for_model_training(hardware)) {
    if (seed.records >= max_records) break;
    const database::TuningRecord& r = t.record;
    if (!(r.gflops > 0)) continue;
    try {
      auto& w = workloads[r.workload];
      if (!w) w = shared_workload_of(r);
      if (!w) {
        ++seed.skipped;
        continue;
      }
      const search::Candidate c = search::make_candidate(w, r.schedule);
      auto& [rows, scores] = groups["database " + r.hardware.id + " " + r.workload];
      rows.push_back(search::extract_features(*c.lowered, hw));
      scores.push_back(r.gflops);
      ++seed.records;
    } catch (const std::exception&) {
      ++seed.skipped;  // a schedule or workload this version cannot rebuild
    }
  }
  for (auto& [task, data] : groups) model.update(data.first, data.second, task);
  return seed;
}

}  // namespace rctune::dist
