// `rctune extract` as a user runs it: the config file it writes, its summary, and its errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "apps/cli_runner.h"
#include "model/graph_builder.h"
#include "support/file_text.h"
#include "support/temp_dir.h"

using rctune::test_support::file_text;
using rctune::test_support::TempDir;
using rctune::testing::GraphBuilder;
using rctune::testing::run_rctune_args;

namespace {

// Writes `bytes` to the file `name` of `dir`; returns its path.
std::string written(const TempDir& dir, const std::string& name, const std::string& bytes) {
  std::ofstream(dir.file(name), std::ios::binary) << bytes;
  return dir.file(name);
}

std::string mlp_bytes() {
  GraphBuilder g;
  std::string y = g.op("MatMul", {g.input("x", {"batch", "seq", 64}), g.input("w", {64, 32})}, "fc");
  g.output(g.op("Relu", {g.op("Add", {y, g.input("b", {32})})}));
  return g.bytes();
}

// `rctune extract` of the MLP model (mlp_bytes(), written to `dir`) with `options` after it.
rctune::testing::CliResult extract_mlp(const TempDir& dir, const std::vector<std::string>& options) {
  std::vector<std::string> args = {"extract", written(dir, "mlp.onnx", mlp_bytes())};
  args.insert(args.end(), options.begin(), options.end());
  return run_rctune_args(args);
}

// The command failed with one `rctune: error:` line that holds `part`.
void expect_one_error(const rctune::testing::CliResult& r, const std::string& part) {
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(r.output.rfind("rctune: error: ", 0), 0u) << r.output;
  EXPECT_EQ(r.output.find('\n'), r.output.size() - 1) << r.output;
  EXPECT_NE(r.output.find(part), std::string::npos) << r.output;
}

}  // namespace

TEST(ExtractCommand, WritesTheRunConfigAndPrintsTheSummary) {
  TempDir dir;
  std::string out = dir.file("mlp.yaml");
  auto r = extract_mlp(dir, {"--batch", "2", "--seq", "8", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("matmul:M=16,N=32,K=64,dtype=f32,epilogue=bias+relu"), std::string::npos)
      << r.output;
  std::string yaml = file_text(out);
  EXPECT_NE(yaml.find("  - name: \"fc\"\n    workload: matmul:M=16,N=32,K=64,dtype=f32,epilogue=bias+relu\n    "
                      "weight: 1\n"),
            std::string::npos)
      << yaml;
  EXPECT_NE(yaml.find("budget: 32 "), std::string::npos) << "32 samples per task, for the model\n" << yaml;
  EXPECT_NE(yaml.find("scheduler: gradient\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("# bound dimensions: batch=2 seq=8\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("out: \"mlp.h5\""), std::string::npos) << yaml;
}

TEST(ExtractCommand, DimOptionBindsOneName) {
  TempDir dir;
  auto r = extract_mlp(dir, {"--dim", "batch=1", "--dim", "seq=3"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("    workload: matmul:M=3,N=32,K=64"), std::string::npos) << r.output;
}

TEST(ExtractCommand, ADimTheModelDoesNotUseIsWarnedAbout) {
  TempDir dir;
  auto r = extract_mlp(dir, {"--batch", "1", "--seq", "2", "--dim", "sequense=4"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("rctune: warning: --dim sequense names no symbolic dimension"), std::string::npos)
      << r.output;
}

TEST(ExtractCommand, AnUnboundDimensionIsOneErrorNamingIt) {
  TempDir dir;
  expect_one_error(extract_mlp(dir, {"--batch", "1"}), "symbolic dimension 'seq'");
}

TEST(ExtractCommand, AMalformedFileIsOneError) {
  TempDir dir;
  std::string model = written(dir, "bad.onnx", "this is not a protobuf \xff\xff");
  expect_one_error(run_rctune_args({"extract", model}), "is not an ONNX model");
}

TEST(ExtractCommand, AnUnreadableFileIsOneError) {
  TempDir dir;
  expect_one_error(run_rctune_args({"extract", dir.file("missing.onnx")}), "cannot read the model");
}

TEST(ExtractCommand, AMalformedDimOptionIsRefused) {
  TempDir dir;
  expect_one_error(extract_mlp(dir, {"--dim", "batch=-4"}), "--dim 'batch=-4'");
}

TEST(ExtractCommand, AModelWithoutTunedWorkloadsWritesNoConfig) {
  TempDir dir;
  GraphBuilder g;
  g.output(g.op("Relu", {g.input("x", {4})}));
  std::string model = written(dir, "relu.onnx", g.bytes());
  std::string out = dir.file("relu.yaml");
  auto r = run_rctune_args({"extract", model, "--out", out});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("Relu"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out));
}

// configs/models/ is what scripts/models/extract_all.sh writes from the graphs its build_models.py
// makes: the shipped configs never drift from the script and the extractor.
TEST(ShippedModels, ConfigsAreWhatTheScriptWrites) {
  if (std::system("/usr/bin/python3 -c 'import onnx' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "Debian's python3-onnx is not installed (scripts/setup installs it)";
  TempDir dir;
  const std::string source = rctune::testing::source_dir();
  const auto r = rctune::testing::run_command(
      "RCTUNE=" + rctune::testing::shell_quote(rctune::testing::rctune_bin()) + " " +
      rctune::testing::shell_quote(source + "/scripts/models/extract_all.sh") + " " +
      rctune::testing::shell_quote(dir.file("onnx")) + " " +
      rctune::testing::shell_quote(dir.file("configs")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  int compared = 0;
  for (const auto& shipped : std::filesystem::directory_iterator(source + "/configs/models")) {
    const std::string name = shipped.path().filename().string();
    EXPECT_EQ(file_text(dir.file("configs/" + name)), file_text(shipped.path()))
        << name << " differs from what scripts/models/extract_all.sh writes";
    ++compared;
  }
  EXPECT_EQ(compared, 6);
}
