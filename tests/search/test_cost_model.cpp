// The XGBoost cost model: learns a known function of the features, is deterministic for a seed,
// falls back to the analytic score before it has enough data, and survives save/load.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "rctune/config/workload_file.h"
#include "rctune/schedule/state.h"
#include "rctune/schedule/trace.h"
#include "rctune/search/cost_model.h"
#include "rctune/search/features.h"

namespace {

using rctune::search::CostModel;
using rctune::search::CostModelOptions;
using rctune::search::num_features;

// Random feature vectors and a known target that depends on a few of them, nonlinearly.
struct Synthetic {
  std::vector<std::vector<double>> x;
  std::vector<double> y;
};

double target(const std::vector<double>& f) {
  return 2.0 * f[3] + f[7] * f[7] - 3.0 * (f[11] > 0.5 ? 1.0 : 0.0) + 0.5 * f[20];
}

Synthetic make_synthetic(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Synthetic s;
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> f(num_features());
    for (double& v : f) v = u(rng);
    s.y.push_back(target(f));
    s.x.push_back(std::move(f));
  }
  return s;
}

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < idx.size(); ++i) r[idx[i]] = static_cast<double>(i);
  return r;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  auto ra = ranks(a), rb = ranks(b);
  const double n = static_cast<double>(a.size());
  double d2 = 0;
  for (size_t i = 0; i < a.size(); ++i) d2 += (ra[i] - rb[i]) * (ra[i] - rb[i]);
  return 1.0 - 6.0 * d2 / (n * (n * n - 1.0));
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()))).string();
}

TEST(CostModel, LearnsASyntheticFunctionOfTheFeatures) {
  auto train = make_synthetic(400, 1);
  auto test = make_synthetic(200, 2);
  CostModel m;
  m.update(train.x, train.y);
  ASSERT_TRUE(m.trained());
  EXPECT_GT(spearman(m.predict(test.x), test.y), 0.8);
}

TEST(CostModel, RetrainsOnlineFromAllDataSoFar) {
  auto test = make_synthetic(200, 2);
  CostModel m;
  auto first = make_synthetic(20, 3);
  m.update(first.x, first.y);
  double early = spearman(m.predict(test.x), test.y);
  for (uint64_t batch = 0; batch < 10; ++batch) {
    auto more = make_synthetic(40, 10 + batch);
    m.update(more.x, more.y);
  }
  EXPECT_EQ(m.num_samples(), 420u);
  double late = spearman(m.predict(test.x), test.y);
  EXPECT_GT(late, 0.8);
  EXPECT_GE(late, early);
}

TEST(CostModel, SameSeedSameDataSamePredictions) {
  auto train = make_synthetic(100, 4);
  auto test = make_synthetic(50, 5);
  CostModelOptions o;
  o.seed = 42;
  o.subsample = 0.8;  // exercise the seeded randomness
  o.colsample_bytree = 0.8;
  CostModel a(o), b(o);
  a.update(train.x, train.y);
  b.update(train.x, train.y);
  EXPECT_EQ(a.predict(test.x), b.predict(test.x));
}

TEST(CostModel, FallsBackToTheAnalyticScoreBeforeEnoughSamples) {
  auto data = make_synthetic(7, 6);
  CostModel m;  // min_samples = 8
  EXPECT_FALSE(m.trained());
  m.update(data.x, data.y);
  EXPECT_FALSE(m.trained());
  auto p = m.predict(data.x);
  for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p[i], rctune::search::analytic_score(data.x[i]));
  auto one = make_synthetic(1, 7);
  m.update(one.x, one.y);
  EXPECT_TRUE(m.trained());
}

TEST(CostModel, AnalyticScorePrefersARegisterTileOverTheNaiveNest) {
  auto w =
      std::make_shared<const rctune::ir::Workload>(rctune::config::load_workload("matmul:M=256,N=256,K=256"));
  rctune::schedule::State naive(w);
  auto tile = rctune::schedule::apply_trace(
      naive,
      "cache_write(C, local)\nsplit(C, i, [None, 8])\nsplit(C, j, [None, 32])\nreorder(C, i.0, j.0, i.1, "
      "j.1)\n"
      "compute_at(C.local, C, j.0)\nreorder(C.local, k, i, j)\nunroll(C.local, i)\nvectorize(C.local, j)\n"
      "vectorize(C, j.1)\nparallel(C, i.0)");
  rctune::search::HardwareInfo hw;
  hw.cores = 4;
  CostModel m(CostModelOptions{}, hw);
  auto p =
      m.predict({rctune::search::extract_features(naive, hw), rctune::search::extract_features(tile, hw)});
  EXPECT_GT(p[1], p[0]);
}

TEST(CostModel, SaveLoadRoundTripPredictsTheSame) {
  auto train = make_synthetic(60, 8);
  auto test = make_synthetic(30, 9);
  CostModelOptions o;
  o.seed = 7;
  o.rounds = 25;
  CostModel m(o);
  m.update(train.x, train.y);
  const std::string path = temp_path("rctune_cost_model");
  m.save(path);
  CostModel r = CostModel::load(path);
  EXPECT_TRUE(r.trained());
  EXPECT_EQ(r.num_samples(), m.num_samples());
  EXPECT_EQ(r.options().seed, 7u);
  EXPECT_EQ(r.options().rounds, 25);
  auto pm = m.predict(test.x), pr = r.predict(test.x);
  ASSERT_EQ(pm.size(), pr.size());
  for (size_t i = 0; i < pm.size(); ++i) EXPECT_FLOAT_EQ(pm[i], pr[i]);
  // Training continues from the restored samples exactly as it would have from the original.
  auto more = make_synthetic(10, 10);
  m.update(more.x, more.y);
  r.update(more.x, more.y);
  EXPECT_EQ(m.predict(test.x), r.predict(test.x));
  std::filesystem::remove(path);
}

TEST(CostModel, SaveLoadOfAnUntrainedModel) {
  auto data = make_synthetic(3, 11);
  CostModel m;
  m.update(data.x, data.y);
  const std::string path = temp_path("rctune_cost_model_untrained");
  m.save(path);
  CostModel r = CostModel::load(path);
  EXPECT_FALSE(r.trained());
  EXPECT_EQ(r.num_samples(), 3u);
  EXPECT_EQ(r.predict(data.x), m.predict(data.x));
  std::filesystem::remove(path);
}

TEST(CostModel, LoadRejectsAFileThatIsNotACostModel) {
  const std::string path = temp_path("rctune_not_a_model");
  std::ofstream(path) << "hello\n";
  try {
    CostModel::load(path);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
  std::filesystem::remove(path);
  EXPECT_THROW(CostModel::load(path), std::runtime_error);
}

TEST(CostModel, WrongFeatureLengthIsRejected) {
  CostModel m;
  EXPECT_THROW(m.update({{1.0, 2.0}}, {1.0}), std::invalid_argument);
  EXPECT_THROW(m.update({std::vector<double>(num_features(), 0.0)}, {1.0, 2.0}), std::invalid_argument);
  EXPECT_THROW(m.predict({{1.0}}), std::invalid_argument);
}

TEST(CostModel, NormalisePerTaskScalesEachTaskToItsBest) {
  auto n = rctune::search::normalise_per_task({10, 5, 200, 50, 0}, {"a", "a", "b", "b", "c"});
  EXPECT_EQ(n, (std::vector<double>{1.0, 0.5, 1.0, 0.25, 0.0}));
  EXPECT_THROW(rctune::search::normalise_per_task({1.0}, {}), std::invalid_argument);
}

TEST(CostModel, BadOptionsAreRejectedNamingTheOption) {
  CostModelOptions o;
  o.tree_method = "gpu_hist_typo";
  try {
    CostModel m(o);
    FAIL() << "expected an exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("tree_method"), std::string::npos);
  }
  CostModelOptions r;
  r.rounds = 0;
  EXPECT_THROW(CostModel{r}, std::invalid_argument);
}

TEST(CostModel, LearnsToRankRealSchedulesByASyntheticThroughput) {
  // Features of real lowered nests, scored by a known function of them (a stand-in for a
  // measurement): the model must rank held-out schedules.
  auto w =
      std::make_shared<const rctune::ir::Workload>(rctune::config::load_workload("matmul:M=128,N=128,K=128"));
  rctune::schedule::State base(w);
  const int64_t tiles[] = {1, 2, 4, 8, 16, 32};
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  rctune::search::HardwareInfo hw;
  hw.cores = 4;
  const size_t lanes = rctune::search::feature_index("vector_lanes");
  const size_t traffic = rctune::search::feature_index("traffic_l1");
  const size_t par = rctune::search::feature_index("parallel_extent");
  for (int64_t ti : tiles)
    for (int64_t tj : tiles)
      for (int order = 0; order < 2; ++order)
        for (int vec = 0; vec < 2; ++vec) {
          std::string t = "split(C, i, [None, " + std::to_string(ti) + "])\nsplit(C, j, [None, " +
                          std::to_string(tj) + "])\n";
          t += order ? "reorder(C, i.0, j.0, k, i.1, j.1)\n" : "reorder(C, i.0, j.0, i.1, k, j.1)\n";
          if (vec) t += "vectorize(C, j.1)\n";
          t += "parallel(C, i.0)\n";
          auto f = rctune::search::extract_features(rctune::schedule::apply_trace(base, t), hw);
          y.push_back(f[lanes] - 0.5 * f[traffic] + 0.3 * f[par]);
          x.push_back(std::move(f));
        }
  // Every third sample is held out.
  std::vector<std::vector<double>> tx, hx;
  std::vector<double> ty, hy;
  for (size_t i = 0; i < x.size(); ++i) {
    (i % 3 == 0 ? hx : tx).push_back(x[i]);
    (i % 3 == 0 ? hy : ty).push_back(y[i]);
  }
  CostModel m(CostModelOptions{}, hw);
  m.update(tx, ty);
  EXPECT_GT(spearman(m.predict(hx), hy), 0.8);
}

}  // namespace

namespace {

// The same synthetic function on two tasks whose throughputs differ by a factor of 1000.
void update_two_tasks(CostModel& m, const Synthetic& s) {
  std::vector<std::vector<double>> xa(s.x.begin(), s.x.begin() + static_cast<long>(s.x.size() / 2));
  std::vector<std::vector<double>> xb(s.x.begin() + static_cast<long>(s.x.size() / 2), s.x.end());
  std::vector<double> ya, yb;
  for (size_t i = 0; i < s.y.size(); ++i) (i < s.y.size() / 2 ? ya : yb).push_back(std::exp(s.y[i]));
  for (double& y : yb) y *= 1000;
  m.update(xa, ya, "a");
  m.update(xb, yb, "b");
}

TEST(CostModel, AModelOfSeveralTasksLearnsEachTasksScoresRelativeToItsBest) {
  const Synthetic train = make_synthetic(160, 11), test = make_synthetic(40, 12);
  CostModelOptions shared;
  shared.seed = 3;
  shared.normalise_per_task = true;
  CostModel normalised(shared);
  update_two_tasks(normalised, train);
  CostModelOptions raw = shared;
  raw.normalise_per_task = false;
  CostModel unnormalised(raw);
  update_two_tasks(unnormalised, train);
  std::vector<double> truth;
  for (const auto& f : test.x) truth.push_back(target(f));
  // Task a's samples are a thousandth of task b's: without normalising, the model learns mostly
  // which task a sample belongs to; normalised, both tasks teach it the same function.
  const double with = spearman(normalised.predict(test.x), truth);
  EXPECT_GT(with, 0.7);
  for (double p : normalised.predict(test.x))
    EXPECT_LT(p, 1.5) << "predictions are fractions of a task's best";
  EXPECT_GT(with, spearman(unnormalised.predict(test.x), truth) - 0.05);
}

TEST(CostModel, AModelOfSeveralTasksIsSavedWithItsNormalisedScores) {
  CostModelOptions o;
  o.normalise_per_task = true;
  CostModel m(o);
  const std::vector<double> f(num_features(), 0.5);
  m.update({f, f}, {2, 4}, "a");
  m.update({f, f}, {100, 400}, "b");
  const std::string path = temp_path("rctune_shared_cost_model");
  m.save(path);
  const CostModel r = CostModel::load(path);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path);
  EXPECT_NE(text.find("samples 4\n0.5 "), std::string::npos) << text.substr(0, 200);
  EXPECT_NE(text.find("\n0.25 "), std::string::npos) << "task b's 100 is a quarter of its best";
  EXPECT_EQ(r.num_samples(), 4u);
}

}  // namespace
