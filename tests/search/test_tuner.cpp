// The tuning loop of one task: samples recorded in the trace as they arrive, illegal proposals
// recorded without costing a sample, resume without measuring again, progress lines.
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include "../runlog/runlog_test_util.h"
#include "rctune/ir/operators.h"
#include "rctune/search/tuner.h"

namespace rctune::search {
namespace {

using runlog::testing::TempDir;

std::shared_ptr<const ir::Workload> small_matmul() {
  return std::make_shared<const ir::Workload>(ir::make_operator("matmul:M=64,N=64,K=64"));
}

double by_hash(const Candidate& c) { return 1.0 + static_cast<double>(c.hash % 89); }

// Fails (like a killed run) once `limit` candidates have been measured.
class DyingEvaluator : public Evaluator {
 public:
  explicit DyingEvaluator(int64_t limit) : limit_(limit) {}
  std::vector<MeasureResult> measure(const std::vector<Candidate>& batch) override {
    std::vector<MeasureResult> out;
    for (const Candidate& c : batch) {
      if (measured_ >= limit_) throw std::runtime_error("killed");
      ++measured_;
      out.push_back(inner_.measure({c}).front());
    }
    return out;
  }

 private:
  int64_t limit_;
  int64_t measured_ = 0;
  SyntheticEvaluator inner_{by_hash};
};

runlog::RunWriter new_run(const std::string& path) {
  runlog::RunInfo info = runlog::current_run_info();
  info.strategy = "mcts";
  info.proposer = "heuristic";
  return runlog::RunWriter::create(path, info);
}

runlog::TaskInfo task_info(const ir::Workload& w) {
  runlog::TaskInfo t;
  t.name = w.name;
  t.workload = ir::to_string(w);
  t.flops = w.flops();
  return t;
}

TEST(TuneTask, RecordsEverySampleTheTreeAndTheBest) {
  TempDir dir;
  auto w = small_matmul();
  SyntheticEvaluator eval(by_hash);
  TuneOptions o;
  o.budget = 12;
  o.measure_batch = 4;
  TaskOutcome out;
  {
    runlog::RunWriter writer = new_run(dir.file("run.h5"));
    const auto task = writer.begin_task(task_info(*w));
    out = tune_task(w, w->name, 0, eval, o, {&writer, task, nullptr, 0});
    writer.finish();
  }
  EXPECT_EQ(out.samples, 12);
  EXPECT_EQ(eval.measured(), 12);
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  ASSERT_EQ(run.tasks.size(), 1u);
  const runlog::TaskLog& t = run.tasks[0];
  const auto ms = runlog::measured_samples(t);
  ASSERT_EQ(ms.size(), 12u);
  std::set<uint64_t> hashes;
  for (size_t i = 0; i < t.samples.size(); ++i) EXPECT_EQ(t.samples[i].index, static_cast<int64_t>(i));
  for (const auto& s : ms) {
    EXPECT_TRUE(hashes.insert(s.structural_hash).second) << "measured twice: " << s.trace;
    EXPECT_EQ(s.strategy, "mcts");
    EXPECT_GE(s.node, 1);
    EXPECT_FALSE(s.trace.empty());
  }
  ASSERT_TRUE(t.best.has_value());
  EXPECT_DOUBLE_EQ(t.best->gflops, out.best.gflops);
  EXPECT_EQ(t.best->trace, out.best.trace);
  ASSERT_FALSE(t.tree.empty());
  EXPECT_EQ(t.tree[0].parent, -1);
  int64_t tree_samples = 0;
  for (const auto& n : t.tree) tree_samples += n.sample >= 0 ? 1 : 0;
  EXPECT_EQ(tree_samples, 12) << "every measured node names its sample";
}

TEST(TuneTask, BestCurveNeverDecreases) {
  auto w = small_matmul();
  SyntheticEvaluator eval(by_hash);
  TuneOptions o;
  o.budget = 10;
  const TaskOutcome out = tune_task(w, w->name, 0, eval, o);
  ASSERT_EQ(out.best_curve.size(), 10u);
  for (size_t i = 1; i < out.best_curve.size(); ++i) EXPECT_GE(out.best_curve[i], out.best_curve[i - 1]);
  EXPECT_DOUBLE_EQ(out.best_curve.back(), out.best.gflops);
}

TEST(TuneTask, ResumeAfterACrashMeasuresNothingTwiceAndLosesNothing) {
  TempDir dir;
  auto w = small_matmul();
  TuneOptions o;
  o.budget = 16;
  o.measure_batch = 3;
  o.seed = 9;
  {
    runlog::RunWriter writer = new_run(dir.file("run.h5"));
    const auto task = writer.begin_task(task_info(*w));
    DyingEvaluator dying(7);
    EXPECT_THROW(tune_task(w, w->name, 0, dying, o, {&writer, task, nullptr, 0}), std::runtime_error);
  }
  EXPECT_EQ(runlog::measured_samples(runlog::read_run_log(dir.file("run.h5")).tasks.at(0)).size(), 7u);

  SyntheticEvaluator eval(by_hash);
  TaskOutcome resumed;
  {
    runlog::RunWriter writer = runlog::RunWriter::open_for_resume(dir.file("run.h5"));
    const auto task = writer.begin_task(task_info(*w));
    resumed = tune_task(w, w->name, 0, eval, o, {&writer, task, writer.resumed().task(w->name), 0});
    writer.finish();
  }
  EXPECT_EQ(resumed.samples, 16);
  EXPECT_EQ(resumed.replayed, 7);
  EXPECT_EQ(eval.measured(), 9) << "only the samples the crash had not recorded";
  const auto ms = runlog::measured_samples(runlog::read_run_log(dir.file("run.h5")).tasks.at(0));
  ASSERT_EQ(ms.size(), 16u);
  std::set<uint64_t> hashes;
  for (const auto& s : ms)
    EXPECT_TRUE(hashes.insert(s.structural_hash).second) << "measured twice: " << s.trace;

  // The same run without a crash makes the same decisions.
  SyntheticEvaluator fresh(by_hash);
  const TaskOutcome straight = tune_task(w, w->name, 0, fresh, o);
  EXPECT_EQ(straight.best.trace, resumed.best.trace);
  EXPECT_EQ(straight.best_curve, resumed.best_curve);
}

// A proposer whose first proposal is always illegal.
class HalfBadProposer : public Proposer {
 public:
  std::string name() const override { return "half_bad"; }
  std::vector<Proposal> propose(const ProposerInput& in, Rng& rng) override {
    std::vector<Proposal> out{{"vectorize(C, k)", "illegal on purpose"}};
    for (Proposal& p : heuristic->propose(in, rng)) out.push_back(p);
    return out;
  }
  std::unique_ptr<Proposer> heuristic = make_heuristic_proposer(nullptr);
};

TEST(TuneTask, IllegalProposalsAreRecordedWithoutCostingASample) {
  TempDir dir;
  auto w = small_matmul();
  SyntheticEvaluator eval(by_hash);
  HalfBadProposer proposer;
  TuneOptions o;
  o.budget = 12;
  {
    runlog::RunWriter writer = new_run(dir.file("run.h5"));
    const auto task = writer.begin_task(task_info(*w));
    const TaskOutcome out = tune_task(w, w->name, 0, eval, o, {&writer, task, nullptr, 0}, {}, &proposer);
    EXPECT_EQ(out.samples, 12);
    EXPECT_GT(out.illegal, 0);
    writer.finish();
  }
  const runlog::TaskLog t = runlog::read_run_log(dir.file("run.h5")).tasks.at(0);
  int64_t illegal = 0;
  for (const auto& s : t.samples) {
    if (s.status != runlog::SampleStatus::Illegal) continue;
    ++illegal;
    EXPECT_EQ(s.proposer, "half_bad");
    EXPECT_EQ(s.trace, "vectorize(C, k)");
    EXPECT_FALSE(s.error.empty());
    EXPECT_GE(s.parent_node, 1);
    EXPECT_TRUE(std::isnan(s.gflops));
  }
  EXPECT_GT(illegal, 0);
  EXPECT_EQ(runlog::measured_samples(t).size(), 12u);
  EXPECT_EQ(eval.measured(), 12);
}

TEST(TuneTask, ReportsProgressAfterEveryRound) {
  auto w = small_matmul();
  SyntheticEvaluator eval(by_hash);
  TuneOptions o;
  o.budget = 9;
  o.measure_batch = 3;
  std::vector<Progress> seen;
  tune_task(w, "mm", 0, eval, o, {}, [&](const Progress& p) { seen.push_back(p); });
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].done, 3);
  EXPECT_EQ(seen[2].done, 9);
  EXPECT_EQ(seen[2].budget, 9);
  EXPECT_GT(seen[2].best_gflops, 0);
  EXPECT_GE(seen[0].eta_s, 0);
}

TEST(ProgressLine, ShowsSamplesBestFailuresAndEta) {
  Progress p;
  p.task = "matmul:M=512,N=512,K=512";
  p.done = 12;
  p.budget = 32;
  p.best_gflops = 91.25;
  p.best_speedup = 84.5;
  p.failures = 2;
  p.elapsed_s = 30;
  p.eta_s = 75;
  const std::string line = progress_line(p);
  EXPECT_NE(line.find("12/32 samples"), std::string::npos) << line;
  EXPECT_NE(line.find("best 91.2 GFLOP/s (84.5x)"), std::string::npos) << line;
  EXPECT_NE(line.find("2 failed"), std::string::npos) << line;
  EXPECT_NE(line.find("ETA 1:15"), std::string::npos) << line;
}

TEST(MakeProposer, NamesTheChoicesForAnUnknownName) {
  try {
    make_proposer("oracle", nullptr);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("heuristic"), std::string::npos);
  }
}

}  // namespace
}  // namespace rctune::search

namespace rctune::search {
namespace {

TEST(TaskSession, TasksSharingACostModelEachTrainItAndTheSecondStartsFromTheFirstsSamples) {
  auto a = small_matmul();
  auto b = std::make_shared<const ir::Workload>(ir::make_operator("softmax:M=16,N=64"));
  SyntheticEvaluator eval(by_hash);
  CostModelOptions cm;
  cm.normalise_per_task = true;
  TuneOptions o;
  o.budget = 12;
  o.shared_cost_model = std::make_shared<CostModel>(cm);
  TaskSession first(a, "a", 0, eval, o);
  first.run(12);
  EXPECT_EQ(o.shared_cost_model->num_samples(), 12u);
  EXPECT_TRUE(o.shared_cost_model->trained()) << "the second task starts with a trained model";
  TaskSession second(b, "b", 0, eval, o);
  second.run(6);
  EXPECT_EQ(o.shared_cost_model->num_samples(), 18u);
}

TEST(TaskSession, SeedsAreMeasuredFirstAndASeedThatDoesNotApplyIsRecordedIllegal) {
  auto w = small_matmul();
  SyntheticEvaluator eval(by_hash);
  TuneOptions o;
  o.budget = 6;
  TaskRecording rec;
  rec.seeds = {{"split(C, i, [None, 8])\n", "database", "recorded on this machine"},
               {"split(C, nosuchaxis, [None, 8])\n", "database", "recorded elsewhere"}};
  TaskSession s(w, "mm", 0, eval, o, rec);
  EXPECT_EQ(s.run_seeds(6), 1) << "one seed applies";
  const TaskOutcome& out = s.outcome();
  EXPECT_EQ(out.illegal, 1);
  ASSERT_GE(out.records.size(), 2u);
  bool measured_seed = false, rejected_seed = false;
  for (const runlog::SampleRecord& r : out.records) {
    EXPECT_EQ(r.proposer, "database");
    if (r.status == runlog::SampleStatus::Illegal)
      rejected_seed = r.rationale == "recorded elsewhere";
    else
      measured_seed = r.trace == "split(C, i, [None, 8])\n";
  }
  EXPECT_TRUE(measured_seed);
  EXPECT_TRUE(rejected_seed);
  EXPECT_EQ(s.run(5), 5) << "then the strategy's own candidates";
}

}  // namespace
}  // namespace rctune::search
