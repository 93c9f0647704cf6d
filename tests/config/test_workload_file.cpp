#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "rctune/config/workload_file.h"
#include "rctune/ir/operators.h"

using namespace rctune;
using rctune::config::WorkloadFileError;

namespace {

const char* kMatmul = R"(name: my_op
tensors:
  A: f32[128, 64]
  B: f32[64, 32]
  C: f32[128, 32]
stages:
  - C[i, j] += A[i, k] * B[k, j]
outputs: [C]
)";

// A file in a fresh temporary directory, removed at the end of the test.
class WorkloadFile : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("rctune-test-" + std::to_string(::getpid()) + "-" + info->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  std::filesystem::path dir_;
};

WorkloadFileError error_of(const std::string& yaml) {
  try {
    config::parse_workload_yaml(yaml, "w.yaml");
  } catch (const WorkloadFileError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a WorkloadFileError";
  return WorkloadFileError("", 0, 0, "", "");
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_F(WorkloadFile, LoadsTheDocumentedExample) {
  ir::Workload w = config::load_workload_file(write("mm.yaml", kMatmul));
  EXPECT_EQ(w.name, "my_op");
  ASSERT_EQ(w.tensors.size(), 3u);
  EXPECT_EQ(w.tensors[0].name, "A");
  EXPECT_EQ(w.tensors[2].shape, (std::vector<int64_t>{128, 32}));
  ASSERT_EQ(w.stages.size(), 1u);
  EXPECT_EQ(w.stages[0].reduce_axes[0].extent, 64);
  EXPECT_EQ(w.outputs, (std::vector<std::string>{"C"}));
  EXPECT_DOUBLE_EQ(w.flops(), 2.0 * 128 * 32 * 64);
}

TEST_F(WorkloadFile, NameDefaultsToFileStemAndOutputsToFinalTensors) {
  std::string text =
      "tensors:\n  X: f64[4, 8]\n  M: f64[4]\n  Y: f64[4, 8]\nstages:\n"
      "  - M[i] max= X[i, j]\n  - \"Y[i, j] = exp(X[i, j] - M[i])\"\n";
  ir::Workload w = config::load_workload_file(write("shifted_exp.yml", text));
  EXPECT_EQ(w.name, "shifted_exp");
  EXPECT_EQ(w.outputs, (std::vector<std::string>{"Y"}));
  EXPECT_EQ(w.tensors[0].dtype, ir::DType::F64);
}

TEST_F(WorkloadFile, LoadWorkloadAcceptsSpecOrPath) {
  EXPECT_EQ(config::load_workload("matmul:M=8,N=8,K=8").name, "matmul:M=8,N=8,K=8,dtype=f32");
  EXPECT_EQ(config::load_workload(write("x.yaml", kMatmul)).name, "my_op");
}

TEST_F(WorkloadFile, LoadWorkloadRejectsNeither) {
  try {
    config::load_workload("no_such_thing");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "neither a library operator")) << e.what();
    EXPECT_TRUE(contains(e.what(), "matmul")) << e.what();
  }
  EXPECT_THROW(config::load_workload("matmul:M=x"), ir::OperatorSpecError);
}

TEST_F(WorkloadFile, MissingFileIsNamed) {
  std::string path = (dir_ / "absent.yaml").string();
  try {
    config::load_workload(path);
    FAIL();
  } catch (const WorkloadFileError& e) {
    EXPECT_EQ(e.file(), path);
    EXPECT_TRUE(contains(e.what(), "cannot read")) << e.what();
  }
}

TEST(WorkloadFileErrors, UnknownKeyNamesFileLineAndKey) {
  auto e = error_of(std::string(kMatmul) + "stagse: []\n");
  EXPECT_EQ(e.line(), 9);
  EXPECT_EQ(e.column(), 1);
  EXPECT_EQ(e.key(), "stagse");
  EXPECT_TRUE(contains(e.what(), "w.yaml:9:1: stagse: unknown key")) << e.what();
}

TEST(WorkloadFileErrors, StageErrorPointsIntoTheFile) {
  std::string text = kMatmul;
  text.replace(text.find("B[k, j]"), 1, "Z");
  auto e = error_of(text);
  EXPECT_EQ(e.key(), "stages[0]");
  EXPECT_EQ(e.line(), 7);
  EXPECT_EQ(e.column(), 26);  // "  - C[i, j] += A[i, k] * Z": Z is the 26th character
  EXPECT_TRUE(contains(e.reason(), "unknown tensor 'Z'")) << e.what();
  EXPECT_TRUE(contains(e.what(), "w.yaml:7:26: stages[0]: unknown tensor 'Z'")) << e.what();
}

TEST(WorkloadFileErrors, QuotedStageColumnsAreExact) {
  auto e = error_of("tensors:\n  A: f32[4]\n  B: f32[4]\nstages:\n  - 'B[i] = Q[i]'\n");
  EXPECT_EQ(e.line(), 5);
  EXPECT_EQ(e.column(), 13);  // the Q, counting the quote
}

TEST(WorkloadFileErrors, BadTensorType) {
  auto e = error_of("tensors:\n  A: f16[4]\n  B: f32[4]\nstages:\n  - B[i] = A[i]\n");
  EXPECT_EQ(e.key(), "tensors.A");
  EXPECT_EQ(e.line(), 2);
  EXPECT_EQ(e.column(), 6);
  EXPECT_TRUE(contains(e.reason(), "unknown dtype 'f16'")) << e.what();
  auto s = error_of("tensors:\n  A: [4]\n  B: f32[4]\nstages:\n  - B[i] = A[i]\n");
  EXPECT_EQ(s.key(), "tensors.A");
  EXPECT_TRUE(contains(s.reason(), "expected a type")) << s.what();
}

TEST(WorkloadFileErrors, MissingSections) {
  EXPECT_EQ(error_of("stages:\n  - B[i] = A[i]\n").key(), "tensors");
  EXPECT_EQ(error_of("tensors:\n  A: f32[4]\n").key(), "stages");
  EXPECT_EQ(error_of("tensors:\n  A: f32[4]\nstages: B[i] = A[i]\n").key(), "stages");
  EXPECT_TRUE(contains(error_of("- a\n- b\n").what(), "a workload is a mapping"));
}

TEST(WorkloadFileErrors, BadOutputs) {
  std::string base = "tensors:\n  A: f32[4]\n  B: f32[4]\nstages:\n  - B[i] = A[i]\n";
  auto a = error_of(base + "outputs: [Z]\n");
  EXPECT_EQ(a.key(), "outputs[0]");
  EXPECT_EQ(a.line(), 6);
  EXPECT_TRUE(contains(a.reason(), "unknown tensor 'Z'"));
  auto b = error_of(base + "outputs: A\n");
  EXPECT_EQ(b.key(), "outputs");
  EXPECT_TRUE(contains(b.reason(), "not computed by any stage"));
}

TEST(WorkloadFileErrors, StageOrderAndDuplicates) {
  auto a = error_of(
      "tensors:\n  A: f32[4]\n  B: f32[4]\n  C: f32[4]\nstages:\n  - C[i] = B[i]\n  - B[i] = A[i]\n");
  EXPECT_EQ(a.key(), "stages[0]");
  EXPECT_TRUE(contains(a.reason(), "before stages[1] computes it")) << a.what();
  auto b = error_of("tensors:\n  A: f32[4]\n  B: f32[4]\nstages:\n  - B[i] = A[i]\n  - B[i] = exp(A[i])\n");
  EXPECT_EQ(b.key(), "stages[1]");
  EXPECT_EQ(b.line(), 6);
}

TEST(WorkloadFileErrors, YamlSyntaxError) {
  auto e = error_of("tensors:\n  A: f32[4\n  B: [\n");
  EXPECT_GT(e.line(), 0);
  EXPECT_TRUE(contains(e.reason(), "YAML syntax error")) << e.what();
}
