#include "rctune/search/predictor.h"

#include <cmath>

#include "rctune/ir/check.h"

namespace rctune::search {

Predictor::Predictor(CostModelOptions options, HardwareInfo hw, bool use_model)
    : model_(std::make_shared<CostModel>(std::move(options), hw)), hw_(hw), use_model_(use_model) {}

Predictor::Predictor(std::shared_ptr<CostModel> shared, std::string task, HardwareInfo hw, bool use_model)
    : model_(std::move(shared)), task_(std::move(task)), hw_(hw), use_model_(use_model) {
  RCTUNE_CHECK(model_ != nullptr);
}

const std::vector<double>& Predictor::features(const Candidate& c) {
  auto it = features_.find(c.hash);
  if (it == features_.end()) it = features_.emplace(c.hash, extract_features(*c.lowered, hw_)).first;
  return it->second;
}

std::vector<double> Predictor::predict(const std::vector<Candidate>& cs) {
  std::vector<std::vector<double>> rows;
  rows.reserve(cs.size());
  for (const Candidate& c : cs) rows.push_back(features(c));
  if (!use_model_) {
    std::vector<double> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(analytic_score(r, hw_));
    return out;
  }
  return model_->predict(rows);
}

double Predictor::predict(const Candidate& c) { return predict(std::vector<Candidate>{c}).front(); }

void Predictor::update(const std::vector<Candidate>& cs, const std::vector<double>& scores) {
  if (!use_model_ || cs.empty()) return;
  std::vector<std::vector<double>> rows;
  std::vector<double> ys;
  for (size_t i = 0; i < cs.size(); ++i) {
    rows.push_back(features(cs[i]));
    ys.push_back(std::isfinite(scores[i]) ? scores[i] : 0.0);
  }
  model_->update(rows, ys, task_);
}

bool Predictor::trained() const { return use_model_ && model_->trained(); }
size_t Predictor::num_samples() const { return model_->num_samples(); }

}  // namespace rctune::search
