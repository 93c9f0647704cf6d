// Simulated measurement: results are a deterministic function of the program (same on every
// instance, equal programs equal), good schedules score far above the unscheduled program, the
// failure fraction is respected, and a candidate takes microseconds.
#include "rctune/search/simulated_evaluator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "rctune/build_config.h"
#include "rctune/ir/operators.h"
#include "rctune/search/design_space.h"
#include "rctune/search/random.h"

namespace rctune::search {
namespace {

std::shared_ptr<const ir::Workload> workload(const std::string& spec) {
  return std::make_shared<const ir::Workload>(ir::make_operator(spec));
}

// The hand-written schedule of configs/examples/matmul.sched and the workload its header names.
struct Example {
  std::string spec;
  std::string trace;
};

Example matmul_example() {
  const std::string path = std::string(RCTUNE_SOURCE_DIR) + "/configs/examples/matmul.sched";
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  Example e;
  e.trace = ss.str();
  const std::string header = "# workload: ";
  EXPECT_EQ(e.trace.rfind(header, 0), 0u) << path << " starts with '" << header << "'";
  e.spec = e.trace.substr(header.size(), e.trace.find('\n') - header.size());
  return e;
}

std::vector<Candidate> sampled(const std::string& spec, size_t n, uint64_t seed) {
  DesignSpace space(workload(spec), simulated_hardware());
  Rng rng(seed);
  return space.sample(rng, n);
}

bool same(const MeasureResult& a, const MeasureResult& b) {
  auto eq = [](double x, double y) { return x == y || (std::isnan(x) && std::isnan(y)); };
  return a.status == b.status && a.error == b.error && eq(a.gflops, b.gflops) && eq(a.median_s, b.median_s) &&
         eq(a.min_s, b.min_s) && eq(a.max_s, b.max_s) && eq(a.iqr_s, b.iqr_s) && a.compile_s == b.compile_s;
}

TEST(SimulatedEvaluator, TwoInstancesGiveTheSameResults) {
  const std::vector<Candidate> batch = sampled("matmul:M=128,N=128,K=128", 20, 1);
  SimulatedEvaluator a, b;
  const std::vector<MeasureResult> ra = a.measure(batch);
  // b sees them in reverse order: calibration and noise do not depend on what came before.
  std::vector<Candidate> reversed(batch.rbegin(), batch.rend());
  std::vector<MeasureResult> rb = b.measure(reversed);
  std::reverse(rb.begin(), rb.end());
  ASSERT_EQ(ra.size(), rb.size());
  for (size_t i = 0; i < ra.size(); ++i) {
    EXPECT_TRUE(same(ra[i], rb[i])) << "candidate " << i << ":\n" << batch[i].trace;
    EXPECT_TRUE(ra[i].ok()) << ra[i].error;
    EXPECT_EQ(ra[i].compile_s, 0);
  }
}

TEST(SimulatedEvaluator, EqualProgramsReachedByDifferentTracesGetEqualResults) {
  auto w = workload("matmul:M=64,N=64,K=64");
  // Two orders of independent steps lower to the same program.
  const Candidate x = make_candidate(w, "split(C, i, [None, 8])\nsplit(C, j, [None, 16])");
  const Candidate y = make_candidate(w, "split(C, j, [None, 16])\nsplit(C, i, [None, 8])");
  ASSERT_EQ(x.hash, y.hash);
  ASSERT_NE(x.trace, y.trace);
  SimulatedEvaluator e;
  EXPECT_TRUE(same(e.measure_one(x), e.measure_one(y)));
}

TEST(SimulatedEvaluator, TheSeedChangesTheNoiseOnly) {
  const Candidate c = make_candidate(workload("matmul:M=64,N=64,K=64"), "split(C, i, [None, 8])");
  SimulatedOptions o1, o2;
  o2.seed = 99;
  SimulatedEvaluator e1(o1), e2(o2);
  const MeasureResult r1 = e1.measure_one(c), r2 = e2.measure_one(c);
  EXPECT_NE(r1.gflops, r2.gflops);
  EXPECT_NEAR(r1.gflops, r2.gflops, 2 * o1.noise * e1.model_gflops(c) + 1e-12);
  EXPECT_EQ(e1.model_gflops(c), e2.model_gflops(c));
}

TEST(SimulatedEvaluator, TimesAreConsistentWithGflops) {
  const Candidate c = make_candidate(workload("matmul:M=64,N=64,K=64"), "split(C, i, [None, 8])");
  SimulatedEvaluator e;
  const MeasureResult r = e.measure_one(c);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r.median_s, c.state.workload().flops() / (r.gflops * 1e9), 1e-15);
  EXPECT_LE(r.min_s, r.median_s);
  EXPECT_GE(r.max_s, r.median_s);
  EXPECT_GE(r.iqr_s, 0);
  EXPECT_LE(r.iqr_s, r.max_s - r.min_s + 1e-15);
}

TEST(SimulatedEvaluator, UnscheduledMatmulIsNearBaseGflops) {
  SimulatedEvaluator e;
  const Candidate plain = make_candidate(schedule::State(workload("matmul:M=256,N=256,K=256")));
  EXPECT_DOUBLE_EQ(e.model_gflops(plain), e.options().base_gflops);
  const MeasureResult r = e.measure_one(plain);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r.gflops, e.options().base_gflops, e.options().noise * e.options().base_gflops + 1e-12);
}

TEST(SimulatedEvaluator, ExampleMatmulScheduleScoresFarAboveTheUnscheduledProgram) {
  const Example ex = matmul_example();
  auto w = workload(ex.spec);
  SimulatedEvaluator e;
  const MeasureResult good = e.measure_one(make_candidate(w, ex.trace));
  const MeasureResult plain = e.measure_one(make_candidate(schedule::State(w)));
  ASSERT_TRUE(good.ok()) << good.error;
  ASSERT_TRUE(plain.ok()) << plain.error;
  std::cout << ex.spec << ": unscheduled " << plain.gflops << " GFLOP/s, example schedule " << good.gflops
            << " GFLOP/s\n";
  EXPECT_GT(good.gflops, 20 * plain.gflops);
  EXPECT_LE(good.gflops, e.options().peak_gflops * (1 + e.options().noise));
}

TEST(SimulatedEvaluator, FailureFractionIsRoughlyRespected) {
  const std::vector<Candidate> batch = sampled("matmul:M=256,N=256,K=256", 300, 2);
  std::set<uint64_t> hashes;
  for (const Candidate& c : batch) hashes.insert(c.hash);
  ASSERT_GE(hashes.size(), 100u) << "the design space gave too few distinct programs";
  SimulatedOptions o;
  o.failure_fraction = 0.25;
  SimulatedEvaluator e(o);
  std::map<uint64_t, bool> failed;
  for (const Candidate& c : batch) {
    const MeasureResult r = e.measure_one(c);
    if (!r.ok()) {
      EXPECT_EQ(r.status, runlog::SampleStatus::RuntimeError);
      EXPECT_FALSE(r.error.empty());
      EXPECT_TRUE(std::isnan(r.gflops));
    }
    auto [it, fresh] = failed.try_emplace(c.hash, !r.ok());
    EXPECT_EQ(it->second, !r.ok()) << "equal programs fail alike";
  }
  size_t n = 0;
  for (const auto& [h, f] : failed) n += f ? 1 : 0;
  const double share = double(n) / double(failed.size());
  EXPECT_GT(share, 0.12);
  EXPECT_LT(share, 0.38);
}

TEST(SimulatedEvaluator, NoFailuresByDefault) {
  const std::vector<Candidate> batch = sampled("matmul:M=128,N=128,K=128", 50, 3);
  SimulatedEvaluator e;
  for (const MeasureResult& r : e.measure(batch)) EXPECT_TRUE(r.ok()) << r.error;
}

TEST(SimulatedEvaluator, RejectsOptionsOutOfRange) {
  SimulatedOptions o;
  o.failure_fraction = 1.5;
  EXPECT_THROW(SimulatedEvaluator{o}, std::invalid_argument);
  o = {};
  o.noise = -0.1;
  EXPECT_THROW(SimulatedEvaluator{o}, std::invalid_argument);
  o = {};
  o.peak_gflops = 0.5;
  EXPECT_THROW(SimulatedEvaluator{o}, std::invalid_argument);
}

TEST(SimulatedEvaluator, MeasuresAThousandCandidatesQuickly) {
  const std::vector<Candidate> distinct = sampled("matmul:M=256,N=256,K=256", 250, 4);
  std::vector<Candidate> batch;
  for (int round = 0; round < 4; ++round) batch.insert(batch.end(), distinct.begin(), distinct.end());
  SimulatedEvaluator e;
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<MeasureResult> rs = e.measure(batch);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "simulated " << rs.size() << " candidates in " << s * 1e3 << " ms ("
            << s / double(rs.size()) * 1e6 << " us each)\n";
  EXPECT_EQ(e.measured(), 1000);
  ASSERT_EQ(rs.size(), 1000u);
  for (size_t i = 0; i < 250; ++i) EXPECT_TRUE(same(rs[i], rs[i + 750]));
}

}  // namespace
}  // namespace rctune::search
