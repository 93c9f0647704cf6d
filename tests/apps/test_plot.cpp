// `rctune plot`: the real binary draws the figures of real traces (simulated runs, instant): a
// trace of two MPI ranks with a model's three tasks, three traces of one workload tuned with mcts,
// evolutionary and random search, and a trace written with runlog::RunWriter that has no tree and
// no rounds. Checks the files it writes (PNG signature, size), the figures it names as skipped and
// why, the messages for a missing interpreter or missing packages, and runs the Python examples of
// docs/analysis.md and the package's unit tests. Without h5py and matplotlib in /usr/bin/python3 the
// tests that need them are skipped, saying so.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "apps/cli_runner.h"
#include "rctune/runlog/writer.h"
#include "runlog/runlog_test_util.h"

namespace rctune::testing {
namespace {

using runlog::testing::TempDir;

constexpr const char* kPython = "/usr/bin/python3";
const std::string kMatmul = "matmul:M=64,N=64,K=64,dtype=f32";
const std::string kMatmulFile = "matmul_M_64_N_64_K_64_dtype_f32";

bool python_has_plot_packages() {
  static const bool has =
      run_command(std::string(kPython) + " -c 'import h5py, numpy, matplotlib'").exit_code == 0;
  return has;
}

#define SKIP_WITHOUT_PYTHON_PACKAGES()                                                             \
  if (!python_has_plot_packages())                                                                 \
  GTEST_SKIP() << kPython                                                                          \
               << " cannot import h5py, numpy and matplotlib (Debian: python3-h5py python3-numpy " \
                  "python3-matplotlib, installed by scripts/setup)"

bool is_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string head(8, '\0');
  in.read(head.data(), 8);
  return in && head == std::string("\x89PNG\r\n\x1a\n", 8) && std::filesystem::file_size(path) > 100;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string config(const TempDir& dir, const std::string& name, const std::string& strategy,
                   const std::vector<std::string>& workloads, int budget) {
  const std::string path = dir.file(name + ".yaml");
  std::ofstream out(path);
  out << "seed: 3\nbudget: " << budget << "\nstrategy: " << strategy << "\nout: " << dir.file(name + ".h5")
      << "\ntasks:\n";
  for (const std::string& w : workloads) out << "  - workload: " << w << "\n";
  return path;
}

// The traces every test reads, made once: simulated runs take well under a second each.
class Plot : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    for (const char* strategy : {"mcts", "evolutionary", "random"}) {
      const CliResult r =
          run_rctune("tune " + config(*dir_, strategy, strategy, {"matmul:M=64,N=64,K=64"}, 32) +
                     " --simulate --quiet --no-database");
      ASSERT_EQ(r.exit_code, 0) << r.output;
    }
    const std::string model = config(*dir_, "mpi2", "mcts",
                                     {"matmul:M=256,N=256,K=256", "dense:M=128,N=256,K=256",
                                      "conv2d_nchw:N=1,C=32,H=14,W=14,K=32,R=3,S=3,stride=1,pad=1"},
                                     48);
    const CliResult r = run_command(std::string(RCTUNE_MPIEXEC) +
                                    " --allow-run-as-root --oversubscribe --bind-to none -np 2 " +
                                    rctune_bin() + " tune " + model + " --simulate --quiet --no-database");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    write_plain_trace(dir_->file("plain.h5"));
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // One task, three samples (one failed), no tree, no ranks, no rounds: what an older rctune wrote.
  static void write_plain_trace(const std::string& path) {
    runlog::RunWriter w = runlog::RunWriter::create(path, runlog::testing::sample_run_info());
    runlog::TaskInfo info;
    info.name = "softmax_8";
    info.workload = "softmax_8";
    info.flops = 1e9;
    auto task = w.begin_task(info);
    for (int k = 0; k < 3; ++k) {
      runlog::SampleRecord s;
      s.index = k;
      s.wall_time = k + 0.5;
      s.strategy = "mcts";
      s.proposer = "heuristic";
      s.status = k == 1 ? runlog::SampleStatus::CompileError : runlog::SampleStatus::Ok;
      s.gflops = k == 1 ? std::nan("") : 10.0 * (k + 1);
      s.median_s = 1.0 / 10;
      w.append_sample(task, s);
    }
    w.finish();
  }

  static std::string trace(const std::string& name) { return dir_->file(name + ".h5"); }
  std::string out_dir(const std::string& name) const { return dir_->file("figures-" + name); }

  // The paths `rctune plot` printed (lines that are not `skipped: ...`).
  static std::vector<std::string> written(const std::string& output) {
    std::vector<std::string> paths;
    std::istringstream in(output);
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && line.rfind("skipped:", 0) != 0) paths.push_back(line);
    return paths;
  }

  static std::unique_ptr<TempDir> dir_;
};

std::unique_ptr<TempDir> Plot::dir_;

void expect_pngs(const std::string& dir, const std::vector<std::string>& names) {
  for (const std::string& name : names) EXPECT_TRUE(is_png(dir + "/" + name)) << dir << "/" << name;
}

TEST_F(Plot, TwoRankTraceGetsEveryFigureWithTimePerRankAndModelLatency) {
  SKIP_WITHOUT_PYTHON_PACKAGES();
  const std::string out = out_dir("mpi");
  const CliResult r = run_rctune_args({"plot", trace("mpi2"), "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<std::string> tasks = {
      "matmul_M_256_N_256_K_256_dtype_f32", "dense_M_128_N_256_K_256_dtype_f32",
      "conv2d_nchw_N_1_C_32_H_14_W_14_K_32_R_3_S_3_stride_1_pad_1_dilation_1_dtype_f32"};
  std::vector<std::string> pngs = {"ranks.png", "model_latency.png"};
  for (const std::string& t : tasks) {
    pngs.push_back(t + ".convergence.png");
    pngs.push_back(t + ".distribution.png");
    pngs.push_back(t + ".tree.png");
    EXPECT_TRUE(std::filesystem::file_size(out + "/" + t + ".tree.dot") > 0) << t;
  }
  expect_pngs(out, pngs);
  EXPECT_FALSE(contains(r.output, "skipped:")) << r.output;
  EXPECT_EQ(written(r.output).size(), pngs.size() + tasks.size()) << r.output;
}

TEST_F(Plot, ThreeStrategiesOfOneWorkloadShareTheTaskFiguresAndOnlyMctsHasATreeAndNoneAModel) {
  SKIP_WITHOUT_PYTHON_PACKAGES();
  const std::string out = out_dir("strategies");
  const CliResult r =
      run_rctune_args({"plot", trace("mcts"), trace("evolutionary"), trace("random"), "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_pngs(out, {kMatmulFile + ".convergence.png", kMatmulFile + ".distribution.png",
                    "mcts." + kMatmulFile + ".tree.png"});
  EXPECT_FALSE(std::filesystem::exists(out + "/model_latency.png"));
  EXPECT_FALSE(std::filesystem::exists(out + "/evolutionary." + kMatmulFile + ".tree.dot"));
  for (const char* name : {"evolutionary", "random"})
    EXPECT_TRUE(contains(r.output, "skipped: search tree of '" + kMatmul + "' in " + name +
                                       ".h5: the trace has no tree for it"))
        << r.output;
  for (const std::string name : {"mcts", "evolutionary", "random"}) {
    EXPECT_TRUE(contains(r.output, "skipped: time per rank of " + name + ".h5: the run had one rank"))
        << r.output;
    EXPECT_TRUE(contains(r.output, "skipped: model latency of " + name + ".h5: the run has one task"))
        << r.output;
  }
}

TEST_F(Plot, TraceWithoutTreeOrRoundsNamesTheSkippedFigures) {
  SKIP_WITHOUT_PYTHON_PACKAGES();
  const std::string out = out_dir("plain");
  const CliResult r = run_rctune_args({"plot", trace("plain"), "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_pngs(out, {"softmax_8.convergence.png", "softmax_8.distribution.png"});
  EXPECT_TRUE(contains(r.output, "skipped: search tree of 'softmax_8' in plain.h5")) << r.output;
  EXPECT_TRUE(
      contains(r.output, "skipped: model latency of plain.h5: the trace has no task scheduler rounds"))
      << r.output;
  EXPECT_EQ(written(r.output).size(), 2u) << r.output;
}

TEST_F(Plot, TasksOptionKeepsTheNamedTasksWhoseNamesHoldCommas) {
  SKIP_WITHOUT_PYTHON_PACKAGES();
  const std::string out = out_dir("tasks");
  const CliResult r =
      run_rctune_args({"plot", trace("mpi2"), "--out", out, "--tasks",
                       "dense:M=128,N=256,K=256,dtype=f32,matmul_M_256_N_256_K_256_dtype_f32"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(is_png(out + "/dense_M_128_N_256_K_256_dtype_f32.convergence.png")) << r.output;
  EXPECT_TRUE(is_png(out + "/matmul_M_256_N_256_K_256_dtype_f32.convergence.png")) << r.output;
  EXPECT_FALSE(contains(r.output, "conv2d")) << r.output;
}

TEST_F(Plot, UnknownTaskIsAnErrorListingTheTracesTasks) {
  SKIP_WITHOUT_PYTHON_PACKAGES();
  const CliResult r =
      run_rctune_args({"plot", trace("mcts"), "--out", out_dir("unknown"), "--tasks", "softmax"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "--tasks: no task 'softmax' in the traces; their tasks: " + kMatmul))
      << r.output;
}

TEST_F(Plot, WithoutGraphvizTheTreeIsWrittenAsDotAndTheRenderingSkipped) {
  SKIP_WITHOUT_PYTHON_PACKAGES();
  const std::string out = out_dir("nodot");
  const CliResult r = run_rctune_args({"plot", trace("mcts"), "--out", out}, "", {{"PATH", "/nonexistent"}});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::file_size(out + "/" + kMatmulFile + ".tree.dot") > 0);
  EXPECT_FALSE(std::filesystem::exists(out + "/" + kMatmulFile + ".tree.png"));
  EXPECT_TRUE(contains(r.output, "graphviz's dot is not installed (Debian: apt-get install graphviz)"))
      << r.output;
}

TEST_F(Plot, OutDirectoryThatStartsWithADashIsNoOptionOfPythonOrDot) {
  SKIP_WITHOUT_PYTHON_PACKAGES();
  const CliResult r = run_rctune_args({"plot", "mcts.h5", "--out", "-figures"}, dir_->file(""));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(is_png(dir_->file("-figures/" + kMatmulFile + ".convergence.png"))) << r.output;
  EXPECT_TRUE(is_png(dir_->file("-figures/" + kMatmulFile + ".tree.png"))) << r.output;
}

TEST_F(Plot, MissingInterpreterNamesTheDebianPackagesToInstall) {
  const CliResult r = run_rctune_args({"plot", trace("mcts"), "--out", out_dir("nopython")}, "",
                                      {{"RCTUNE_PYTHON", "/nonexistent"}});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(
      contains(r.output, "the Python interpreter '/nonexistent' (from RCTUNE_PYTHON) is not an executable"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "apt-get install python3 python3-h5py python3-numpy python3-matplotlib"))
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(out_dir("nopython")));
}

TEST_F(Plot, InterpreterWithoutH5pyNamesTheDebianPackagesToInstall) {
  // Debian's python3 without its site packages (-S): the package is found, h5py is not.
  if (access(kPython, X_OK) != 0) GTEST_SKIP() << kPython << " is not installed (Debian: python3)";
  const std::string python = dir_->file("python-without-packages");
  std::ofstream(python) << "#!/bin/sh\nexec " << kPython << " -S \"$@\"\n";
  std::filesystem::permissions(python, std::filesystem::perms::owner_all);
  const CliResult r =
      run_rctune_args({"plot", trace("mcts"), "--out", out_dir("noh5py")}, "", {{"RCTUNE_PYTHON", python}});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_TRUE(contains(r.output, "cannot import h5py")) << r.output;
  EXPECT_TRUE(contains(r.output, "apt-get install python3-h5py python3-numpy python3-matplotlib"))
      << r.output;
}

TEST_F(Plot, FileThatIsNotATraceIsTheErrorReportGives) {
  const std::string bogus = dir_->file("mcts.yaml");
  const CliResult r = run_rctune_args({"plot", bogus, "--out", out_dir("bogus")});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "not an rctune trace")) << r.output;
}

TEST_F(Plot, PythonExamplesOfTheAnalysisDocRunAgainstATwoRankTrace) {
  SKIP_WITHOUT_PYTHON_PACKAGES();
  if (run_command(std::string(kPython) + " -c 'import pandas'").exit_code != 0)
    GTEST_SKIP() << kPython << " cannot import pandas (Debian: python3-pandas, installed by scripts/setup)";
  const std::string figures = out_dir("doc");
  std::filesystem::create_directories(figures);
  const CliResult r =
      run_command("RCTUNE_TRACE=" + shell_quote(trace("mpi2")) + " RCTUNE_FIGURES=" + shell_quote(figures) +
                  " PYTHONPATH=" + shell_quote(source_dir() + "/python") + " " + kPython + " " +
                  shell_quote(source_dir() + "/python/tests/run_doc_examples.py") + " " +
                  shell_quote(source_dir() + "/docs/analysis.md"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "examples ran")) << r.output;
  EXPECT_TRUE(is_png(figures + "/convergence.png")) << r.output;
}

TEST_F(Plot, UnitTestsOfThePythonPackagePass) {
  SKIP_WITHOUT_PYTHON_PACKAGES();
  const CliResult r = run_command("PYTHONPATH=" + shell_quote(source_dir() + "/python") + " " + kPython +
                                  " -m unittest discover -s " + shell_quote(source_dir() + "/python/tests"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "OK")) << r.output;
}

}  // namespace
}  // namespace rctune::testing
