// The cost model: gradient-boosted trees (XGBoost's C API) from program features
// (rctune/search/features.h) to a predicted score, retrained online on every measured sample, as
// TVM's MetaSchedule and Ansor do.
//
// Scores are throughputs normalised per task by the caller (for example GFLOP/s divided by the best
// GFLOP/s measured so far on that task, or the speedup over the unscheduled kernel), so samples of
// different tasks share one model. Higher is better. Predictions rank candidates; their scale
// follows the scores the model was trained on.
//
// Until min_samples samples have been seen, predict() returns an analytic score computed from the
// features alone (a roofline estimate, analytic_score()); trained() says which one is in use.
//
// Deterministic: the same samples in the same order with the same options give the same model and
// the same predictions (XGBoost runs on one thread, seeded).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rctune/search/features.h"

namespace rctune::search {

struct CostModelOptions {
  uint64_t seed = 0;
  size_t min_samples = 8;  // below this, predictions come from analytic_score()
  int rounds = 40;         // boosting rounds per retraining
  int max_depth = 6;
  double learning_rate = 0.3;  // XGBoost's eta
  double min_child_weight = 1.0;
  double subsample = 1.0;         // row subsampling per tree (seeded)
  double colsample_bytree = 1.0;  // column subsampling per tree (seeded)
  double lambda = 1.0;            // L2 regularisation of leaf weights
  // XGBoost tree method: "exact", "hist", or "auto" (exact below 2048 samples, hist above).
  std::string tree_method = "auto";
  // Retrain after every update() call; otherwise training happens lazily on the next predict().
  bool eager = true;
  // Samples of several tasks share the model (MetaSchedule's one model for a whole run): each is
  // trained on its score divided by the best score of its task so far (normalise_per_task), so
  // tasks whose speedups differ by orders of magnitude teach the model the same thing.
  bool normalise_per_task = false;
};

// Analytic roofline estimate from a feature vector (work per thread, vector lanes, traffic at each
// cache level): larger is faster. Scale-free: only the order of the scores of one task means
// anything. Throws std::invalid_argument when the vector has the wrong length.
double analytic_score(const std::vector<double>& features, const HardwareInfo& hw = host_hardware_info());

// Throughputs divided by the best throughput of the same task (task_ids[i] names the task of
// sample i), so every task's best sample scores 1. Throws std::invalid_argument when the sizes
// disagree; a task whose best is not positive keeps scores of 0.
std::vector<double> normalise_per_task(const std::vector<double>& throughputs,
                                       const std::vector<std::string>& task_ids);

class CostModel {
 public:
  explicit CostModel(CostModelOptions options = {}, HardwareInfo hw = host_hardware_info());
  ~CostModel();
  CostModel(const CostModel&) = delete;
  CostModel& operator=(const CostModel&) = delete;
  CostModel(CostModel&& o) noexcept;
  CostModel& operator=(CostModel&& o) noexcept;

  // Adds measured samples (one feature vector of num_features() values and one normalised score
  // each) of `task` and retrains from all samples seen so far. Throws std::invalid_argument when the
  // sizes disagree or a value is not finite.
  void update(const std::vector<std::vector<double>>& features, const std::vector<double>& scores,
              const std::string& task = "");

  // One score per feature vector: the trees' prediction once trained(), analytic_score() before.
  std::vector<double> predict(const std::vector<std::vector<double>>& features) const;

  // True once the trees are in use (at least min_samples samples).
  bool trained() const;
  size_t num_samples() const { return scores_.size(); }
  const CostModelOptions& options() const { return options_; }

  // Writes the options, all samples and the trained trees to one file; load() restores a model
  // that predicts the same and continues training from the same samples (a model normalising per
  // task is written with its samples' normalised scores, and loads as one that does not). Throws
  // std::runtime_error naming the file when it cannot be written or read, or is not a cost model.
  void save(const std::string& path) const;
  static CostModel load(const std::string& path, HardwareInfo hw = host_hardware_info());

 private:
  void retrain() const;
  void free_booster() const;

  CostModelOptions options_;
  HardwareInfo hw_;
  std::vector<float> rows_;  // num_samples() x num_features(), row-major
  std::vector<double> scores_;
  std::vector<std::string> tasks_;     // the task of each sample
  std::vector<double> labels() const;  // what the trees are trained on
  mutable void* booster_ = nullptr;    // BoosterHandle
  mutable size_t trained_on_ = 0;      // samples the current booster was trained on
};

}  // namespace rctune::search
