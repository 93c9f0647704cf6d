// The workload-level entry point, with hand-written sources (independent of codegen).
#include <gtest/gtest.h>

#include "rctune/ir/parser.h"
#include "rctune/runtime/measure.h"
#include "runtime/runtime_test_util.h"

namespace rctune::runtime {
namespace {

using namespace rctune::runtime::testing;

ir::Workload small_matmul() {
  return ir::parse_workload(
      "A: f32[16, 32]\n"
      "B: f32[32, 24]\n"
      "C: f32[16, 24]\n"
      "C[i, j] += A[i, k] * B[k, j]\n",
      "matmul:M=16,N=24,K=32");
}

const char* kMatmulKernel = R"(
extern "C" void rctune_kernel(void* const* buffers) {
  const float* A = static_cast<const float*>(buffers[0]);
  const float* B = static_cast<const float*>(buffers[1]);
  float* C = static_cast<float*>(buffers[2]);
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 24; ++j) {
      float acc = 0;
      for (int k = 0; k < 32; ++k) acc += A[i * 32 + k] * B[k * 24 + j];
      C[i * 24 + j] = acc;
    }
}
)";

const char* kMatmulReference = R"(
extern "C" void rctune_reference(double* const* buffers) {
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 24; ++j) {
      double acc = 0;
      for (int k = 0; k < 32; ++k) acc += buffers[0][i * 32 + k] * buffers[1][k * 24 + j];
      buffers[2][i * 24 + j] = acc;
    }
}
)";

TEST(MeasureWorkload, BuffersFollowTensorDeclarationOrderWithRoles) {
  const auto bufs = workload_buffers(small_matmul());
  ASSERT_EQ(bufs.size(), 3u);
  EXPECT_EQ(bufs[0].name, "A");
  EXPECT_EQ(bufs[0].role, BufferRole::Input);
  EXPECT_EQ(bufs[2].name, "C");
  EXPECT_EQ(bufs[2].role, BufferRole::Output);
  EXPECT_EQ(bufs[1].shape, (std::vector<int64_t>{32, 24}));
  EXPECT_EQ(bufs[1].dtype, "f32");
}

TEST(MeasureWorkload, ReductionLengthIsProductOfReductionExtents) {
  EXPECT_EQ(workload_reduction_length(small_matmul()), 32);
}

TEST(MeasureWorkload, ElementwiseWorkloadHasReductionLengthOne) {
  const auto w = ir::parse_workload("X: f32[8]\nY: f32[8]\nY[i] = X[i] * 2\n");
  EXPECT_EQ(workload_reduction_length(w), 1);
}

TEST(MeasureWorkload, CorrectKernelReportsGflops) {
  Measurer m(test_jit_options(), test_worker_options());
  const auto w = small_matmul();
  const Measurement r =
      measure_workload(m, w, kMatmulKernel, kMatmulReference, quick_options(), SourceKind::Plain);
  ASSERT_EQ(r.status, Status::Ok) << r.message;
  EXPECT_GT(r.gflops, 0);
  EXPECT_DOUBLE_EQ(r.gflops, w.flops() / r.times.median_s / 1e9);
}

TEST(MeasureWorkload, KernelThatSkipsOneReductionStepIsWrong) {
  Measurer m(test_jit_options(), test_worker_options());
  std::string bad = kMatmulKernel;
  bad.replace(bad.find("k < 32"), 6, "k < 31");
  const Measurement r =
      measure_workload(m, small_matmul(), bad, kMatmulReference, quick_options(), SourceKind::Plain);
  EXPECT_EQ(r.status, Status::WrongResult) << r.message;
  EXPECT_EQ(r.gflops, 0);
}

}  // namespace
}  // namespace rctune::runtime
