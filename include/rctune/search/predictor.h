// The cost model as strategies use it: scores for candidates (features extracted from the lowered
// program, memoised by structural hash) and online training on measured candidates. One Predictor
// per task; scores are speedups over the unscheduled kernel (or GFLOP/s when that is unknown),
// failures score 0, as MetaSchedule trains its model. The model itself may be shared by the
// Predictors of every task of a run (its options then normalise each task's scores).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "rctune/search/candidate.h"
#include "rctune/search/cost_model.h"

namespace rctune::search {

class Predictor {
 public:
  // kind "xgboost": the trained model (analytic score until min_samples); "none": the analytic
  // score always.
  Predictor(CostModelOptions options, HardwareInfo hw, bool use_model = true);
  // Trains and asks `shared`, which other tasks' Predictors train too; `task` names this one's samples.
  Predictor(std::shared_ptr<CostModel> shared, std::string task, HardwareInfo hw, bool use_model = true);

  // Predicted score of each candidate (higher is better).
  std::vector<double> predict(const std::vector<Candidate>& cs);
  double predict(const Candidate& c);
  // Trains on measured candidates: `scores` are the normalised throughputs (0 for failures).
  void update(const std::vector<Candidate>& cs, const std::vector<double>& scores);
  bool trained() const;
  size_t num_samples() const;
  const std::vector<double>& features(const Candidate& c);  // memoised by c.hash

 private:
  std::shared_ptr<CostModel> model_;
  std::string task_;
  HardwareInfo hw_;
  bool use_model_;
  std::unordered_map<uint64_t, std::vector<double>> features_;
};

}  // namespace rctune::search
