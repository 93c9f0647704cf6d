// Exported packages as a user meets them: `rctune export` of a real (small) run, the package built
// with CMake against Debian's Kokkos with -Werror, installed, found with find_package by a program
// (tests/package/consumer/) that computes workloads through it, checked against rctune's reference.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "apps/cli_runner.h"
#include "rctune/ir/interpreter.h"
#include "rctune/ir/operators.h"
#include "support/contains.h"
#include "support/file_text.h"
#include "support/temp_dir.h"

namespace rctune::package {
namespace {

using test_support::expect_contains_all;
using test_support::TempDir;
using testing::run_command;
using testing::run_rctune;
using testing::shell_quote;
using testing::source_dir;

constexpr const char* kName = "pkgtest_kernels";
constexpr const char* kGate = "matmul:M=8,N=64,K=32,dtype=f32,epilogue=silu";
constexpr const char* kNorm = "rmsnorm:M=8,N=32,eps=1e-06,dtype=f32";

// A run of two tasks, two samples each, exported to dir/pkg. Fails the test (fatally) when a step fails.
void tune_and_export(const TempDir& dir) {
  std::ofstream(dir.file("run.yaml"))
      << "seed: 1\nbudget: 2\nscheduler: per_task\nstrategy: mcts\n"
      << "proposer: heuristic\nout: " << dir.file("run.h5") << "\n"
      << "tasks:\n  - name: ffn.gate\n    workload: " << kGate << "\n  - name: norm\n    workload: " << kNorm
      << "\nmeasure:\n  min_time: 0.01\n";
  const auto tune = run_rctune("tune " + shell_quote(dir.file("run.yaml")) + " --quiet --no-database");
  ASSERT_EQ(tune.exit_code, 0) << tune.output;
  const auto exp = run_rctune("export " + shell_quote(dir.file("run.h5")) + " --out " +
                              shell_quote(dir.file("pkg")) + " --name " + kName);
  ASSERT_EQ(exp.exit_code, 0) << exp.output;
  expect_contains_all(exp.output, {"wrote package pkgtest_kernels (2 kernels)", "ffn_gate", "norm"});
}

// Builds and installs the package with `cxx` (warnings are errors), then the consumer against the
// installed package; returns the consumer's path ("" after a failure, which is reported).
std::string build_consumer(const TempDir& dir, const std::string& cxx) {
  const std::string prefix = dir.file("prefix-" + cxx), pkg_build = dir.file("pkg-build-" + cxx),
                    consumer_build = dir.file("consumer-build-" + cxx);
  const std::string compiler = " -DCMAKE_CXX_COMPILER=" + shell_quote(cxx);
  const auto pkg =
      run_command("cmake -S " + shell_quote(dir.file("pkg")) + " -B " + shell_quote(pkg_build) + compiler +
                  " -DCMAKE_BUILD_TYPE=Release -D" + kName + "_WARNINGS_AS_ERRORS=ON -D" + kName +
                  "_BUILD_CHECK=ON && cmake --build " + shell_quote(pkg_build) + " && cmake --install " +
                  shell_quote(pkg_build) + " --prefix " + shell_quote(prefix));
  EXPECT_EQ(pkg.exit_code, 0) << pkg.output;
  if (pkg.exit_code != 0) return "";
  const auto consumer = run_command("cmake -S " + shell_quote(source_dir() + "/tests/package/consumer") +
                                    " -B " + shell_quote(consumer_build) + compiler + " -DPACKAGE=" + kName +
                                    " -DCMAKE_PREFIX_PATH=" + shell_quote(prefix) + " && cmake --build " +
                                    shell_quote(consumer_build));
  EXPECT_EQ(consumer.exit_code, 0) << consumer.output;
  return consumer.exit_code == 0 ? consumer_build + "/consumer" : "";
}

// The outputs of `spec` on the consumer's inputs, by rctune's reference evaluator.
std::vector<double> reference_outputs(const std::string& spec) {
  const ir::Workload w = ir::make_operator(spec);
  std::vector<std::vector<double>> buffers;
  size_t t = 0;  // the consumer numbers inputs and outputs, intermediates excluded
  for (const ir::Tensor& tensor : w.tensors) {
    std::vector<double> b(static_cast<size_t>(tensor.num_elements()), 0.0);
    if (w.role(tensor.name) != ir::TensorRole::Intermediate) {
      for (size_t e = 0; e < b.size(); ++e) {
        const double v = std::sin(0.37 * static_cast<double>(e) + 1.3 * static_cast<double>(t)) * 0.5;
        b[e] = static_cast<double>(static_cast<float>(v));
      }
      ++t;
    }
    buffers.push_back(std::move(b));
  }
  ir::evaluate_workload(w, buffers);
  std::vector<double> out;
  for (size_t i = 0; i < w.tensors.size(); ++i)
    if (w.role(w.tensors[i].name) == ir::TensorRole::Output)
      out.insert(out.end(), buffers[i].begin(), buffers[i].end());
  return out;
}

void expect_outputs_match(const std::string& file, const std::string& spec) {
  const std::vector<double> want = reference_outputs(spec);
  std::ifstream in(file);
  std::vector<double> got;
  for (double v; in >> v;) got.push_back(v);
  ASSERT_EQ(got.size(), want.size()) << spec;
  for (size_t e = 0; e < want.size(); ++e)
    ASSERT_NEAR(got[e], want[e], 1e-4 * std::max(1.0, std::fabs(want[e]))) << spec << " element " << e;
}

class PackageBuild : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(tune_and_export(dir_)); }
  std::string consumer(const std::string& cxx = "g++") { return build_consumer(dir_, cxx); }
  TempDir dir_;
};

TEST_F(PackageBuild, EveryKernelComputesWhatTheReferenceComputesThroughRunAndThroughItsFunction) {
  const std::string c = consumer();
  ASSERT_FALSE(c.empty());
  const auto list = run_command(shell_quote(c) + " list");
  ASSERT_EQ(list.exit_code, 0) << list.output;
  expect_contains_all(list.output, {std::string("ffn_gate ") + kGate, std::string("norm ") + kNorm});
  for (const char* spec : {kGate, kNorm}) {
    const auto r =
        run_command(shell_quote(c) + " run " + shell_quote(spec) + " " + shell_quote(dir_.file("out.txt")));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.find("generic kernel"), std::string::npos) << r.output;
    expect_outputs_match(dir_.file("out.txt"), spec);
  }
  const auto typed = run_command(shell_quote(c) + " typed " + shell_quote(dir_.file("typed.txt")));
  ASSERT_EQ(typed.exit_code, 0) << typed.output;
  expect_outputs_match(dir_.file("typed.txt"), kGate);
}

TEST_F(PackageBuild, APackageRefusesAWorkloadItDoesNotHoldWithNotTuned) {
  const std::string c = consumer();
  ASSERT_FALSE(c.empty());
  const auto r = run_command(shell_quote(c) + " lookup 'matmul:M=3,N=64,K=32,epilogue=silu'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  expect_contains_all(r.output,
                      {"not tuned: pkgtest_kernels: workload 'matmul:M=3,N=64,K=32,epilogue=silu' is not "
                       "tuned in this package; it holds: ",
                       kGate, kNorm});
  // A spec written another way (defaults left out, parameters reordered) finds its kernel.
  const auto found = run_command(shell_quote(c) + " lookup 'matmul:epilogue=silu,K=32,N=64,M=8'");
  EXPECT_EQ(found.exit_code, 0) << found.output;
  expect_contains_all(found.output, {"ffn_gate"});
}

TEST_F(PackageBuild, AnotherShapeRunsOnTheGenericKernelCorrectlyAndSaysSo) {
  const std::string c = consumer();
  ASSERT_FALSE(c.empty());
  const std::string spec = "matmul:M=3,N=40,K=24,epilogue=silu";
  const auto r =
      run_command(shell_quote(c) + " run " + shell_quote(spec) + " " + shell_quote(dir_.file("out.txt")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_contains_all(r.output,
                      {"pkgtest_kernels: matmul:M=3,N=40,K=24,dtype=f32,epilogue=silu is not tuned in this "
                       "package: computing it with the generic kernel"});
  expect_outputs_match(dir_.file("out.txt"), spec);
  const auto bad = run_command(shell_quote(c) + " run 'matmul:M=3,N=x' " + shell_quote(dir_.file("out.txt")));
  EXPECT_EQ(bad.exit_code, 3) << bad.output;
  expect_contains_all(bad.output, {"parameter N must be an integer"});
}

TEST_F(PackageBuild, ThePackagesOwnCheckFindsEveryKernelAgreeingWithTheGenericKernels) {
  ASSERT_FALSE(consumer().empty());
  const auto r = run_command("ctest -V --test-dir " + shell_quote(dir_.file("pkg-build-g++")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_contains_all(r.output, {"ffn_gate (" + std::string(kGate) + "): ok",
                                 "norm (" + std::string(kNorm) + "): ok", "every kernel agrees"});
}

TEST_F(PackageBuild, ThePackagesOwnCheckFindsAKernelThatComputesSomethingElse) {
  // The rmsnorm kernel altered after the export: it adds 1 to its output's first element (Y is the
  // kernel's fourth parameter: X, gamma, mean_sq, Y).
  const std::string file = dir_.file("pkg/src/kernels/norm.cpp");
  std::string text = test_support::file_text(file);
  const size_t fence = text.rfind("  Kokkos::fence();");
  ASSERT_NE(fence, std::string::npos);
  text.insert(fence, "  static_cast<float*>(buffers[3])[0] += 1.0f;\n");
  std::ofstream(file, std::ios::trunc) << text;
  ASSERT_FALSE(consumer().empty());
  const auto r = run_command(shell_quote(dir_.file("pkg-build-g++/pkgtest_kernels_check")));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  expect_contains_all(r.output, {"norm (" + std::string(kNorm) + "): MISMATCH",
                                 "ffn_gate (" + std::string(kGate) + "): ok", "some kernels disagree"});
}

TEST_F(PackageBuild, APackageBuildsWithClangAsWell) {
  if (run_command("command -v clang++").exit_code != 0) GTEST_SKIP() << "clang++ is not installed";
  const std::string c = consumer("clang++");
  ASSERT_FALSE(c.empty());
  const auto r =
      run_command(shell_quote(c) + " run " + shell_quote(kGate) + " " + shell_quote(dir_.file("out.txt")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_outputs_match(dir_.file("out.txt"), kGate);
}

// bench/blocks --quick: both examples/ programs (a Llama MLP block, a ResNet-50 bottleneck) tuned at
// tiny shapes, exported, built against the installed package as a user would, run: each checks its
// block against its own reference (exit 1 on a mismatch) and times it against OpenBLAS.
TEST(BlockExamples, BothBlocksBuildAgainstTheirExportAndMatchTheirReferences) {
  TempDir dir;
  const auto r =
      run_command(shell_quote(source_dir() + "/bench/blocks") + " --quick --samples-per-task 2 --repeat 1" +
                  " --no-database --work " + shell_quote(dir.file("work")) + " --rctune " +
                  shell_quote(testing::rctune_bin()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_contains_all(r.output, {"block=llama_mlp", "block=resnet_bottleneck", "package ms"});
  size_t checks = 0;
  for (size_t at = r.output.find(" ok max_rel_err"); at != std::string::npos;
       at = r.output.find(" ok max_rel_err", at + 1))
    ++checks;
  EXPECT_GE(checks, 4u) << r.output;  // package and OpenBLAS, for each block
  // The built example refuses shapes its package does not hold when told to use tuned kernels only.
  const std::string example = dir.file("work/llama_mlp/example-build/llama_mlp");
  const auto refused =
      run_command(shell_quote(example) + " --tokens 5 --hidden 64 --ffn 96 --require-tuned --repeat 1");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  expect_contains_all(refused.output,
                      {"llama_mlp_kernels: workload 'rmsnorm:M=5,N=64", "is not tuned in this package"});
  // Without it, the other shape runs on the generic kernels and still matches the reference.
  const auto generic = run_command(shell_quote(example) + " --tokens 5 --hidden 64 --ffn 96 --repeat 1");
  EXPECT_EQ(generic.exit_code, 0) << generic.output;
  expect_contains_all(generic.output, {"generic kernel", "check: package ok"});
}

TEST(ExportCommand, ADatabaseExportTakesThisMachinesFastestRecordOfEachWorkload) {
  TempDir dir;
  std::ofstream(dir.file("run.yaml"))
      << "seed: 1\nbudget: 2\nproposer: heuristic\nout: " << dir.file("run.h5")
      << "\ntasks:\n  - workload: " << kNorm << "\nmeasure:\n  min_time: 0.01\n";
  const auto tune = run_rctune("tune " + shell_quote(dir.file("run.yaml")) + " --quiet --database " +
                               shell_quote(dir.file("db")));
  ASSERT_EQ(tune.exit_code, 0) << tune.output;
  const auto exp =
      run_rctune("export " + shell_quote(dir.file("db")) + " --out " + shell_quote(dir.file("pkg")));
  ASSERT_EQ(exp.exit_code, 0) << exp.output;
  expect_contains_all(exp.output,
                      {"wrote package rctune_kernels (1 kernel)", "rmsnorm_M8_N32_eps1e_06_f32", kNorm});
  expect_contains_all(test_support::file_text(dir.file("pkg/manifest.json")),
                      {"\"exported_from\": \"tuning database ", "\"measurement\": \"database record "});
  const auto other = run_rctune("export " + shell_quote(dir.file("db")) + " --out " +
                                shell_quote(dir.file("pkg2")) + " --hardware 0000000000000000");
  EXPECT_EQ(other.exit_code, 2) << other.output;
  expect_contains_all(other.output, {"no schedule record of hardware '0000000000000000'"});
}

TEST(ExportCommand, TheTracesOfSeveralRunsGiveOnePackage) {
  TempDir dir;
  for (const std::string run : {"a", "b"}) {
    std::ofstream(dir.file(run + ".yaml"))
        << "seed: 1\nbudget: 1\nproposer: heuristic\nout: " << dir.file(run + ".h5")
        << "\ntasks:\n  - name: " << run << "\n    workload: " << (run == "a" ? kNorm : "rmsnorm:M=4,N=16")
        << "\nmeasure:\n  min_time: 0.01\n";
    const auto tune = run_rctune("tune " + shell_quote(dir.file(run + ".yaml")) + " --quiet --no-database");
    ASSERT_EQ(tune.exit_code, 0) << tune.output;
  }
  const auto exp =
      run_rctune("export " + shell_quote(dir.file("a.h5")) + " " + shell_quote(dir.file("b.h5")) + " --out " +
                 shell_quote(dir.file("pkg")) + " --tasks b");
  ASSERT_EQ(exp.exit_code, 0) << exp.output;
  expect_contains_all(exp.output, {"(1 kernel)", "rmsnorm:M=4,N=16"});
  const auto both = run_rctune("export " + shell_quote(dir.file("a.h5")) + " " +
                               shell_quote(dir.file("b.h5")) + " --out " + shell_quote(dir.file("pkg")));
  ASSERT_EQ(both.exit_code, 0) << both.output;
  expect_contains_all(both.output, {"(2 kernels)", kNorm, "rmsnorm:M=4,N=16"});
  const auto missing =
      run_rctune("export " + shell_quote(dir.file("a.h5")) + " " + shell_quote(dir.file("b.h5")) + " --out " +
                 shell_quote(dir.file("pkg")) + " --tasks c");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  expect_contains_all(missing.output, {"task 'c' is in none of the traces given"});
}

TEST(ExportCommand, MistakesAreNamedAndNothingIsWritten) {
  TempDir dir;
  const auto bad_name = run_rctune("export x.h5 --out " + shell_quote(dir.file("p")) + " --name Bad-Name");
  EXPECT_EQ(bad_name.exit_code, 2) << bad_name.output;
  expect_contains_all(bad_name.output, {"--name 'Bad-Name'"});
  const auto missing =
      run_rctune("export " + shell_quote(dir.file("none.h5")) + " --out " + shell_quote(dir.file("p")));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  expect_contains_all(missing.output, {"none.h5"});
  EXPECT_FALSE(std::filesystem::exists(dir.file("p")));
  const auto target = run_rctune("export x.h5 --out p --target metal");
  EXPECT_EQ(target.exit_code, 2) << target.output;
}

}  // namespace
}  // namespace rctune::package
