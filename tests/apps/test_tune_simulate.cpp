// `rctune tune --simulate` end to end: the real binary tunes a matmul with simulated measurement
// (nothing compiled or run) in seconds, records "simulated" as the execution space, skips the
// library baseline, two runs with the same seed record identical samples, a resumed simulated
// run stays simulated, and what the proposer dropped is reported per task.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "../runlog/runlog_test_util.h"
#include "cli_runner.h"
#include "rctune/runlog/runlog.h"

namespace rctune::testing {
namespace {

using runlog::testing::TempDir;

std::string write_config(const TempDir& dir, const std::string& name, int budget) {
  const std::string path = dir.file(name + ".yaml");
  std::ofstream(path) << "seed: 5\n"
                      << "budget: " << budget << "\n"
                      << "out: " << dir.file(name + ".h5") << "\n"
                      << "tasks:\n"
                         "  - workload: matmul:M=256,N=256,K=256\n";
  return path;
}

TEST(TuneSimulate, TunesAMatmulWithSimulatedMeasurement) {
  TempDir dir;
  const CliResult r = run_rctune("tune " + write_config(dir, "run", 64) + " --simulate");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("simulated measurement"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("(simulated)"), std::string::npos) << "progress lines say so\n" << r.output;

  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  EXPECT_TRUE(run.finished());
  EXPECT_EQ(run.info.execution_space, "simulated");
  ASSERT_EQ(run.tasks.size(), 1u);
  const runlog::TaskLog& t = run.tasks[0];
  EXPECT_GT(t.info.reference_gflops, 0) << "the unscheduled kernel was simulated";
  EXPECT_TRUE(t.info.library_name.empty()) << "no library baseline in a simulated run";
  const auto ms = runlog::measured_samples(t);
  ASSERT_EQ(ms.size(), 64u);
  for (const auto& s : ms) {
    EXPECT_EQ(s.compile_s, 0) << "nothing is compiled";
    if (s.status != runlog::SampleStatus::Ok) {
      EXPECT_EQ(s.status, runlog::SampleStatus::RuntimeError) << s.error;
    }
  }
  ASSERT_TRUE(t.best.has_value());
  EXPECT_GT(t.best->speedup, 10) << "the search finds schedules far better than the unscheduled program";
}

TEST(TuneSimulate, ReportsWhatTheProposerDroppedPerTaskUnlessQuiet) {
  TempDir dir;
  const CliResult r = run_rctune("tune " + write_config(dir, "run", 48) + " --simulate");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("matmul:M=256,N=256,K=256,dtype=f32: the heuristic proposer dropped "),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find(" illegal action"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(", 0 internal errors\n"), std::string::npos) << r.output;

  const CliResult q = run_rctune("tune " + write_config(dir, "quiet", 48) + " --simulate --quiet");
  ASSERT_EQ(q.exit_code, 0) << q.output;
  EXPECT_EQ(q.output.find("proposer dropped"), std::string::npos) << q.output;
}

TEST(TuneSimulate, SameSeedGivesIdenticalSamples) {
  TempDir dir;
  const CliResult a = run_rctune("tune " + write_config(dir, "a", 64) + " --simulate --quiet");
  ASSERT_EQ(a.exit_code, 0) << a.output;
  const CliResult b = run_rctune("tune " + write_config(dir, "b", 64) + " --simulate --quiet");
  ASSERT_EQ(b.exit_code, 0) << b.output;
  const auto sa = runlog::read_run_log(dir.file("a.h5")).tasks.at(0).samples;
  const auto sb = runlog::read_run_log(dir.file("b.h5")).tasks.at(0).samples;
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    SCOPED_TRACE("sample " + std::to_string(i));
    EXPECT_EQ(sa[i].trace, sb[i].trace);
    EXPECT_EQ(sa[i].structural_hash, sb[i].structural_hash);
    EXPECT_EQ(sa[i].status, sb[i].status);
    EXPECT_EQ(sa[i].cached, sb[i].cached);
    if (sa[i].status == runlog::SampleStatus::Ok) {
      EXPECT_EQ(sa[i].gflops, sb[i].gflops);
      EXPECT_EQ(sa[i].median_s, sb[i].median_s);
    }
  }
}

TEST(TuneSimulate, ResumedSimulatedRunStaysSimulated) {
  TempDir dir;
  const CliResult a = run_rctune("tune " + write_config(dir, "run", 4) + " --simulate --quiet");
  ASSERT_EQ(a.exit_code, 0) << a.output;
  // No --simulate: the trace says the run was simulated, so it goes on simulated.
  const CliResult b = run_rctune("tune --resume " + dir.file("run.h5") + " --budget 8 --quiet");
  ASSERT_EQ(b.exit_code, 0) << b.output;
  EXPECT_NE(b.output.find("simulated"), std::string::npos) << b.output;
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  EXPECT_EQ(run.info.execution_space, "simulated");
  const auto ms = runlog::measured_samples(run.tasks.at(0));
  EXPECT_EQ(ms.size(), 8u);
  for (const auto& s : ms) EXPECT_EQ(s.compile_s, 0);
}

}  // namespace
}  // namespace rctune::testing
