// The `rctune` command line, run as a user runs it.
#include <gtest/gtest.h>

#include "cli_runner.h"

using rctune::testing::run_rctune;
using rctune::testing::source_dir;

TEST(Cli, OperatorsListsTheLibrary) {
  auto r = run_rctune("operators");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* op : {"matmul", "batch_matmul", "dense_gelu", "conv2d_nchw", "conv2d_nhwc", "depthwise_conv2d",
                         "softmax", "layernorm", "rmsnorm", "attention"})
    EXPECT_NE(r.output.find(op), std::string::npos) << op;
}

TEST(Cli, ShowPrintsLoopNestBeforeAndAfterSchedule) {
  auto r = run_rctune("show matmul:M=64,N=64,K=64 --schedule 'split(C, i, [None, 8]); parallel(C, i.0)'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("# before scheduling"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("# after scheduling"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("for i.0 in 0..8 parallel"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("for i.1 in 0..8"), std::string::npos) << r.output;
}

TEST(Cli, ShowSourcePrintsKokkosKernel) {
  auto r = run_rctune("show matmul:M=32,N=32,K=32 --source");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("rctune_kernel"), std::string::npos);
  EXPECT_NE(r.output.find("Kokkos"), std::string::npos);
}

TEST(Cli, MalformedWorkloadSpecIsAnErrorNamingTheProblem) {
  auto r = run_rctune("show 'matmul:M=abc'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("M"), std::string::npos) << r.output;
}

TEST(Cli, UnknownOperatorIsAnErrorListingKnownOnes) {
  auto r = run_rctune("show 'matmull:M=8'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("matmull"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("matmul"), std::string::npos) << r.output;
}

TEST(Cli, IllegalTraceStepNamesTheStepAndReason) {
  auto r = run_rctune("bench matmul:M=16,N=16,K=16 --schedule 'split(C, i, [None, 4]); vectorize(C, k)'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("step 2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("vectorize"), std::string::npos) << r.output;
}

TEST(Cli, BenchReportsOkStatusTimeAndSource) {
  auto r = run_rctune("bench matmul:M=64,N=64,K=64 --min-time 0.01 --schedule 'split(C, j, [None, 16]); reorder(C, k, j.1); vectorize(C, j.1)'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("status     ok"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("GFLOP/s"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("source     /"), std::string::npos) << r.output;
}

TEST(Cli, BenchJsonFormatIsMachineReadable) {
  auto r = run_rctune("bench softmax:M=16,N=32 --min-time 0.01 --format json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"status\": \"ok\""), std::string::npos) << r.output;
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
  auto r = run_rctune("bench matmul:M=8,N=8,K=8 --pin-core fast");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--pin-core"), std::string::npos) << r.output;
}
