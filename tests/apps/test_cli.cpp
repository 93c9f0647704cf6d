// The `rctune` command line, run as a user runs it.
#include <gtest/gtest.h>

#include "cli_runner.h"
#include "support/contains.h"

using rctune::test_support::expect_contains_all;
using rctune::testing::run_rctune;
using rctune::testing::source_dir;

// `rctune <args>` succeeds, and its output holds each of `parts`.
void expect_output(const std::string& args, std::initializer_list<std::string_view> parts) {
  auto r = run_rctune(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_contains_all(r.output, parts);
}

// `rctune <args>` fails as a user error (exit status 2) whose message holds each of `parts`.
void expect_user_error(const std::string& args, std::initializer_list<std::string_view> parts) {
  auto r = run_rctune(args);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  expect_contains_all(r.output, parts);
}

TEST(Cli, OperatorsListsTheLibrary) {
  expect_output("operators", {"matmul", "batch_matmul", "dense_gelu", "conv2d_nchw", "conv2d_nhwc",
                              "depthwise_conv2d", "softmax", "layernorm", "rmsnorm", "attention"});
}

TEST(Cli, ShowPrintsLoopNestBeforeAndAfterSchedule) {
  expect_output("show matmul:M=64,N=64,K=64 --schedule 'split(C, i, [None, 8]); parallel(C, i.0)'",
                {"# before scheduling", "# after scheduling", "for i.0 in 0..8 parallel", "for i.1 in 0..8"});
}

TEST(Cli, ShowSourcePrintsKokkosKernel) {
  expect_output("show matmul:M=32,N=32,K=32 --source", {"rctune_kernel", "Kokkos"});
}

TEST(Cli, MalformedWorkloadSpecIsAnErrorNamingTheProblem) { expect_user_error("show 'matmul:M=abc'", {"M"}); }

TEST(Cli, UnknownOperatorIsAnErrorListingKnownOnes) {
  expect_user_error("show 'matmull:M=8'", {"matmull", "matmul"});
}

TEST(Cli, IllegalTraceStepNamesTheStepAndReason) {
  expect_user_error("bench matmul:M=16,N=16,K=16 --schedule 'split(C, i, [None, 4]); vectorize(C, k)'",
                    {"step 2", "vectorize"});
}

TEST(Cli, BenchReportsOkStatusTimeAndSource) {
  expect_output(
      "bench matmul:M=64,N=64,K=64 --min-time 0.01 --schedule 'split(C, j, [None, 16]); reorder(C, k, j.1); "
      "vectorize(C, j.1)'",
      {"status     ok", "GFLOP/s", "source     /"});
}

TEST(Cli, BenchJsonFormatIsMachineReadable) {
  expect_output("bench softmax:M=16,N=32 --min-time 0.01 --format json", {"\"status\": \"ok\""});
}

TEST(Cli, EveryExampleScheduleIsCorrect) {
  // A correctness check, not a timing: a generous kernel timeout, so that the largest examples (the
  // 3.7 GFLOP batch_matmul and its double-precision reference) pass on a loaded machine too.
  auto r = run_rctune("bench --check-only --timeout 600 --examples " + source_dir() + "/configs/examples");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("wrong_result"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("error"), std::string::npos) << r.output;
}

TEST(Cli, BenchRejectsABadPinCore) {
  expect_user_error("bench matmul:M=8,N=8,K=8 --pin-core fast", {"--pin-core"});
}
