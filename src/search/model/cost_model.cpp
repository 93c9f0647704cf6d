// Gradient-boosted trees through XGBoost's C API: see rctune/search/cost_model.h.
#include "rctune/search/cost_model.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace rctune::search {

namespace {

void xgb_check(int rc, const char* what) {
  if (rc != 0)
    throw std::runtime_error(std::string("CostModel: XGBoost ") + what + " failed: " + XGBGetLastError());
}

std::string fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// XGBoost's seed parameter is a 32-bit integer.
std::string seed_text(uint64_t seed) { return std::to_string(static_cast<int64_t>(seed % 2147483647u)); }

void set_params(BoosterHandle b, const CostModelOptions& o, double base_score, size_t samples) {
  // exact is faster on the few hundred samples of a tuning run; hist scales to thousands.
  std::string method = o.tree_method;
  if (method == "auto") method = samples < 2048 ? "exact" : "hist";
  const std::pair<const char*, std::string> params[] = {
      {"verbosity", "0"},
      {"nthread", "1"},
      {"seed", seed_text(o.seed)},
      {"tree_method", method},
      {"objective", "reg:squarederror"},
      {"max_depth", std::to_string(o.max_depth)},
      {"eta", fmt(o.learning_rate)},
      {"min_child_weight", fmt(o.min_child_weight)},
      {"subsample", fmt(o.subsample)},
      {"colsample_bytree", fmt(o.colsample_bytree)},
      {"lambda", fmt(o.lambda)},
      {"base_score", fmt(base_score)},
  };
  for (const auto& [k, v] : params) xgb_check(XGBoosterSetParam(b, k, v.c_str()), "XGBoosterSetParam");
}

std::vector<float> to_rows(const std::vector<std::vector<double>>& features, const char* where) {
  const size_t nf = num_features();
  std::vector<float> rows;
  rows.reserve(features.size() * nf);
  for (size_t i = 0; i < features.size(); ++i) {
    if (features[i].size() != nf)
      throw std::invalid_argument(std::string(where) + ": feature vector " + std::to_string(i) + " has " +
                                  std::to_string(features[i].size()) + " values, expected " +
                                  std::to_string(nf));
    for (double v : features[i]) {
      if (!std::isfinite(v))
        throw std::invalid_argument(std::string(where) + ": feature vector " + std::to_string(i) +
                                    " holds a value that is not finite");
      rows.push_back(static_cast<float>(v));
    }
  }
  return rows;
}

struct DMatrix {
  DMatrixHandle h = nullptr;
  DMatrix(const std::vector<float>& rows, size_t n) {
    xgb_check(XGDMatrixCreateFromMat_omp(rows.data(), n, num_features(), NAN, &h, 1),
              "XGDMatrixCreateFromMat");
  }
  ~DMatrix() {
    if (h) XGDMatrixFree(h);
  }
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
};

}  // namespace

double analytic_score(const std::vector<double>& f, const HardwareInfo& hw) {
  if (f.size() != num_features())
    throw std::invalid_argument("analytic_score: feature vector has " + std::to_string(f.size()) +
                                " values, expected " + std::to_string(num_features()));
  auto at = [&](const char* name) { return f[feature_index(name)]; };
  const double flops = std::max(unlog2p(at("flops")), 1.0);
  const double executions = std::max(unlog2p(at("store_executions")), 1.0);
  const double work_per_thread = std::max(unlog2p(at("work_per_thread")), 1.0);
  const double threads = std::clamp(executions / work_per_thread, 1.0, std::max(1.0, double(hw.cores)));
  // Compute: flops of one thread over the SIMD lanes in use (annotated or auto-vectorized).
  const double simd = std::max(unlog2p(at("simd_lanes")), 1.0);
  double compute = flops / threads / simd;
  // Register spills, guards and per-iteration selects slow the arithmetic down.
  compute *= 1.0 + std::max(at("local_register_ratio") - 1.0, 0.0);
  compute *= 1.0 + 0.5 * std::clamp(at("guarded_fraction"), 0.0, 1.0);
  compute *= 1.0 + std::max(at("varying_selects_per_store"), 0.0);
  // Memory: bytes per cycle of each level, per core for L1/L2, shared beyond L3.
  const double loads = unlog2p(at("bytes_accessed")) / threads / 64.0;
  const double t1 = unlog2p(at("traffic_l1")) / threads / 32.0;
  const double t2 = unlog2p(at("traffic_l2")) / threads / 16.0;
  const double t3 = unlog2p(at("traffic_l3")) / 8.0;
  const double time = std::max({compute, loads, t1, t2, t3}) + 1e-3 * (t1 + t2 + t3);
  return flops / std::max(time, 1.0);
}

std::vector<double> normalise_per_task(const std::vector<double>& throughputs,
                                       const std::vector<std::string>& task_ids) {
  if (throughputs.size() != task_ids.size())
    throw std::invalid_argument("normalise_per_task: " + std::to_string(throughputs.size()) +
                                " throughputs but " + std::to_string(task_ids.size()) + " task ids");
  std::map<std::string, double> best;
  for (size_t i = 0; i < throughputs.size(); ++i) {
    auto [it, fresh] = best.try_emplace(task_ids[i], throughputs[i]);
    if (!fresh) it->second = std::max(it->second, throughputs[i]);
  }
  std::vector<double> out(throughputs.size(), 0.0);
  for (size_t i = 0; i < throughputs.size(); ++i) {
    double b = best[task_ids[i]];
    if (b > 0 && std::isfinite(throughputs[i])) out[i] = std::max(throughputs[i], 0.0) / b;
  }
  return out;
}

CostModel::CostModel(CostModelOptions options, HardwareInfo hw) : options_(std::move(options)), hw_(hw) {
  const auto& o = options_;
  auto bad = [](const std::string& what) { return std::invalid_argument("CostModel: option " + what); };
  if (o.rounds < 1) throw bad("rounds must be at least 1, got " + std::to_string(o.rounds));
  if (o.max_depth < 1) throw bad("max_depth must be at least 1, got " + std::to_string(o.max_depth));
  if (!(o.learning_rate > 0)) throw bad("learning_rate must be positive, got " + fmt(o.learning_rate));
  if (!(o.min_child_weight >= 0)) throw bad("min_child_weight must be >= 0, got " + fmt(o.min_child_weight));
  if (!(o.subsample > 0 && o.subsample <= 1))
    throw bad("subsample must be in (0, 1], got " + fmt(o.subsample));
  if (!(o.colsample_bytree > 0 && o.colsample_bytree <= 1))
    throw bad("colsample_bytree must be in (0, 1], got " + fmt(o.colsample_bytree));
  if (!(o.lambda >= 0)) throw bad("lambda must be >= 0, got " + fmt(o.lambda));
  if (o.tree_method != "auto" && o.tree_method != "exact" && o.tree_method != "hist" &&
      o.tree_method != "approx")
    throw bad("tree_method must be auto, exact, hist or approx, got '" + o.tree_method + "'");
}

CostModel::~CostModel() { free_booster(); }

CostModel::CostModel(CostModel&& o) noexcept
    : options_(o.options_),
      hw_(o.hw_),
      rows_(std::move(o.rows_)),
      scores_(std::move(o.scores_)),
      tasks_(std::move(o.tasks_)),
      booster_(std::exchange(o.booster_, nullptr)),
      trained_on_(std::exchange(o.trained_on_, 0)) {}

CostModel& CostModel::operator=(CostModel&& o) noexcept {
  if (this != &o) {
    free_booster();
    options_ = o.options_;
    hw_ = o.hw_;
    rows_ = std::move(o.rows_);
    scores_ = std::move(o.scores_);
    tasks_ = std::move(o.tasks_);
    booster_ = std::exchange(o.booster_, nullptr);
    trained_on_ = std::exchange(o.trained_on_, 0);
  }
  return *this;
}

void CostModel::free_booster() const {
  if (booster_) XGBoosterFree(static_cast<BoosterHandle>(booster_));
  booster_ = nullptr;
  trained_on_ = 0;
}

bool CostModel::trained() const { return scores_.size() >= std::max<size_t>(options_.min_samples, 1); }

void CostModel::update(const std::vector<std::vector<double>>& features, const std::vector<double>& scores,
                       const std::string& task) {
  if (features.size() != scores.size())
    throw std::invalid_argument("CostModel::update: " + std::to_string(features.size()) +
                                " feature vectors but " + std::to_string(scores.size()) + " scores");
  for (size_t i = 0; i < scores.size(); ++i)
    if (!std::isfinite(scores[i]))
      throw std::invalid_argument("CostModel::update: score " + std::to_string(i) + " is not finite");
  std::vector<float> rows = to_rows(features, "CostModel::update");
  rows_.insert(rows_.end(), rows.begin(), rows.end());
  scores_.insert(scores_.end(), scores.begin(), scores.end());
  tasks_.insert(tasks_.end(), scores.size(), task);
  if (options_.eager && trained()) retrain();
}

std::vector<double> CostModel::labels() const {
  return options_.normalise_per_task ? normalise_per_task(scores_, tasks_) : scores_;
}

void CostModel::retrain() const {
  free_booster();
  const size_t n = scores_.size();
  DMatrix d(rows_, n);
  const std::vector<double> ys = this->labels();
  std::vector<float> labels(ys.begin(), ys.end());
  xgb_check(XGDMatrixSetFloatInfo(d.h, "label", labels.data(), n), "XGDMatrixSetFloatInfo");
  double mean = 0;
  for (double s : ys) mean += s;
  mean /= static_cast<double>(n);
  BoosterHandle b = nullptr;
  xgb_check(XGBoosterCreate(&d.h, 1, &b), "XGBoosterCreate");
  booster_ = b;
  set_params(b, options_, mean, n);
  for (int it = 0; it < options_.rounds; ++it)
    xgb_check(XGBoosterUpdateOneIter(b, it, d.h), "XGBoosterUpdateOneIter");
  trained_on_ = n;
}

std::vector<double> CostModel::predict(const std::vector<std::vector<double>>& features) const {
  std::vector<float> rows = to_rows(features, "CostModel::predict");
  std::vector<double> out;
  out.reserve(features.size());
  if (!trained()) {
    for (const auto& f : features) out.push_back(analytic_score(f, hw_));
    return out;
  }
  if (features.empty()) return out;
  if (!booster_ || trained_on_ != scores_.size()) retrain();
  DMatrix d(rows, features.size());
  const char* config =
      R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  xgb_check(
      XGBoosterPredictFromDMatrix(static_cast<BoosterHandle>(booster_), d.h, config, &shape, &dim, &result),
      "XGBoosterPredictFromDMatrix");
  for (size_t i = 0; i < features.size(); ++i) out.push_back(result[i]);
  return out;
}

// File format (text header, then the XGBoost model as JSON):
//   rctune-cost-model 1
//   features N
//   options seed min_samples rounds max_depth learning_rate min_child_weight subsample colsample lambda eager
//           tree_method
//   samples S
//   S lines: score f_1 ... f_N
//   model BYTES
//   BYTES bytes of XGBoost JSON (0 when untrained)
void CostModel::save(const std::string& path) const {
  if (trained() && (!booster_ || trained_on_ != scores_.size())) retrain();
  std::ostringstream out;
  const size_t nf = num_features();
  out << "rctune-cost-model 1\n";
  out << "features " << nf << "\n";
  const auto& o = options_;
  out << "options " << o.seed << " " << o.min_samples << " " << o.rounds << " " << o.max_depth << " "
      << fmt(o.learning_rate) << " " << fmt(o.min_child_weight) << " " << fmt(o.subsample) << " "
      << fmt(o.colsample_bytree) << " " << fmt(o.lambda) << " " << (o.eager ? 1 : 0) << " " << o.tree_method
      << "\n";
  out << "samples " << scores_.size() << "\n";
  const std::vector<double> ys = labels();
  for (size_t i = 0; i < scores_.size(); ++i) {
    out << fmt(ys[i]);
    for (size_t j = 0; j < nf; ++j) out << " " << fmt(rows_[i * nf + j]);
    out << "\n";
  }
  if (booster_) {
    bst_ulong len = 0;
    const char* buf = nullptr;
    xgb_check(
        XGBoosterSaveModelToBuffer(static_cast<BoosterHandle>(booster_), R"({"format": "json"})", &len, &buf),
        "XGBoosterSaveModelToBuffer");
    out << "model " << len << "\n";
    out.write(buf, static_cast<std::streamsize>(len));
    out << "\n";
  } else {
    out << "model 0\n";
  }
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) throw std::runtime_error("CostModel::save: cannot open " + path + " for writing");
  file << out.str();
  file.flush();
  if (!file) throw std::runtime_error("CostModel::save: writing " + path + " failed");
}

CostModel CostModel::load(const std::string& path, HardwareInfo hw) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("CostModel::load: cannot open " + path);
  auto fail = [&](const std::string& why) -> std::runtime_error {
    return std::runtime_error("CostModel::load: " + path + ": " + why);
  };
  std::string word;
  int version = 0;
  if (!(in >> word >> version) || word != "rctune-cost-model") throw fail("not a cost model file");
  if (version != 1) throw fail("unsupported version " + std::to_string(version));
  size_t nf = 0;
  if (!(in >> word >> nf) || word != "features") throw fail("expected 'features N'");
  if (nf != num_features())
    throw fail("written with " + std::to_string(nf) + " features, this build has " +
               std::to_string(num_features()));
  CostModelOptions o;
  int eager = 1;
  if (!(in >> word >> o.seed >> o.min_samples >> o.rounds >> o.max_depth >> o.learning_rate >>
        o.min_child_weight >> o.subsample >> o.colsample_bytree >> o.lambda >> eager >> o.tree_method) ||
      word != "options")
    throw fail("bad options line");
  o.eager = eager != 0;
  size_t n = 0;
  if (!(in >> word >> n) || word != "samples") throw fail("expected 'samples S'");
  CostModel m(o, hw);
  m.rows_.resize(n * nf);
  m.scores_.resize(n);
  m.tasks_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (!(in >> m.scores_[i])) throw fail("sample " + std::to_string(i) + " is cut short");
    for (size_t j = 0; j < nf; ++j) {
      double v = 0;
      if (!(in >> v)) throw fail("sample " + std::to_string(i) + " is cut short");
      m.rows_[i * nf + j] = static_cast<float>(v);
    }
  }
  size_t len = 0;
  if (!(in >> word >> len) || word != "model") throw fail("expected 'model BYTES'");
  in.get();  // the newline after the length
  if (len > 0) {
    std::string buf(len, '\0');
    if (!in.read(buf.data(), static_cast<std::streamsize>(len))) throw fail("model is cut short");
    BoosterHandle b = nullptr;
    xgb_check(XGBoosterCreate(nullptr, 0, &b), "XGBoosterCreate");
    m.booster_ = b;
    xgb_check(XGBoosterLoadModelFromBuffer(b, buf.data(), len), "XGBoosterLoadModelFromBuffer");
    xgb_check(XGBoosterSetParam(b, "nthread", "1"), "XGBoosterSetParam");
    m.trained_on_ = n;
  }
  return m;
}

}  // namespace rctune::search
