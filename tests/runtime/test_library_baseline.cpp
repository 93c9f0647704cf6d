// The library baseline: which workloads map to an OpenBLAS routine, that the routine computes the
// same values as the workload's definition (ir::evaluate_workload), and that measuring it leaves
// the thread's affinity as it was.
#include "rctune/runtime/library_baseline.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <cmath>
#include <ostream>
#include <string>

#include "rctune/ir/interpreter.h"
#include "rctune/ir/operators.h"
#include "rctune/ir/parser.h"

namespace rctune::runtime {
namespace {

// Runs the library routine of `w` and the reference evaluator on the same inputs; returns the
// largest absolute difference over the workload's outputs.
double max_error_against_reference(const ir::Workload& w) {
  auto routine = find_library_routine(w);
  EXPECT_TRUE(routine.has_value()) << w.name;
  if (!routine) return INFINITY;
  std::vector<std::vector<double>> ref;
  std::vector<std::vector<float>> lib;
  std::vector<float*> ptrs;
  for (std::size_t t = 0; t < w.tensors.size(); ++t) {
    std::vector<double> v(static_cast<std::size_t>(w.tensors[t].num_elements()));
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<double>(static_cast<int>((i * 7 + t * 13) % 17) - 8) / 8.0;  // exact in f32
    ref.push_back(v);
    lib.emplace_back(v.begin(), v.end());
  }
  for (auto& v : lib) ptrs.push_back(v.data());
  ir::evaluate_workload(w, ref);
  routine->run(ptrs);
  double err = 0;
  for (const auto& out : w.outputs) {
    std::size_t t = 0;
    while (w.tensors[t].name != out) ++t;
    for (std::size_t i = 0; i < ref[t].size(); ++i) err = std::max(err, std::abs(ref[t][i] - lib[t][i]));
  }
  return err;
}

std::string routine_name(const ir::Workload& w) {
  auto r = find_library_routine(w);
  return r ? r->name : "none";
}

// A workload that maps to a library routine: each row is one old test, checking the routine's
// name and that it computes the workload's values within `tolerance`.
struct MappedWorkload {
  const char* name;      // the test's name
  const char* workload;  // an operator spec, or workload source when it has a line break
  const char* routine;   // the routine's name
  double tolerance;      // the largest error allowed against the reference evaluator
};

void PrintTo(const MappedWorkload& c, std::ostream* os) { *os << c.name << ": " << c.workload; }

const MappedWorkload kMappedWorkloads[] = {
    {"MatmulIsOneSgemmWithTheReferenceValues", "matmul:M=7,N=5,K=3", "openblas_sgemm", 1e-5},
    {"BatchMatmulLoopsSgemmOverTheBatch", "batch_matmul:B=3,M=4,N=6,K=5", "openblas_sgemm", 1e-5},
    {"DenseStartsFromTheBiasAndAddsTheProduct", "dense:M=6,N=5,K=4", "openblas_sgemm", 1e-5},
    {"TransposedOperandsMapToTransposedSgemm",
     "A: f32[3, 7]\n"
     "B: f32[5, 3]\n"
     "C: f32[7, 5]\n"
     "C[i, j] += B[j, k] * A[k, i]\n",
     "openblas_sgemm", 1e-5},
    {"OneRowMatmulIsOneSgemv", "matmul:M=1,N=9,K=5", "openblas_sgemv", 1e-5},
    {"OneRowBatchMatmulLoopsSgemvOverTheBatch", "batch_matmul:B=3,M=1,N=6,K=4", "openblas_sgemv", 1e-5},
    {"OneRowDenseStartsFromTheBiasAndAddsTheSgemv", "dense:M=1,N=5,K=4", "openblas_sgemv", 1e-5},
    {"OneRowWithTransposedWeightsIsSgemvWithoutTranspose",
     "A: f32[1, 7]\n"
     "B: f32[5, 7]\n"
     "C: f32[1, 5]\n"
     "C[i, j] += A[i, k] * B[j, k]\n",
     "openblas_sgemv", 1e-5},
    {"OneRowWithAGateIsSgemvThenItsEpilogue", "matmul:M=1,N=6,K=5,epilogue=silu+mul",
     "openblas_sgemv+epilogue", 1e-5},
    {"Conv2dNchwWithStridePaddingDilationIsIm2colSgemm",
     "conv2d_nchw:N=2,C=3,H=9,W=8,K=4,R=3,S=2,stride=2,pad=1,dilation=2", "openblas_im2col_sgemm", 1e-4},
    {"Conv2dNhwcIsIm2colSgemm", "conv2d_nhwc:N=2,C=3,H=7,W=6,K=5,R=3,S=3,stride=1,pad=1",
     "openblas_im2col_sgemm", 1e-4},
    {"DenseGeluIsSgemmThenItsEpilogue", "dense_gelu:M=4,N=5,K=4", "openblas_sgemm+epilogue", 1e-5},
    {"MatmulWithBiasAndGeluIsSgemmThenItsEpilogue", "matmul:M=7,N=5,K=3,epilogue=bias+gelu",
     "openblas_sgemm+epilogue", 1e-5},
    {"EveryActivationOfAnEpilogueComputesTheReferenceValues",
     "matmul:M=5,N=6,K=3,epilogue=gelu_tanh+relu6+sigmoid+silu", "openblas_sgemm+epilogue", 1e-5},
    {"BatchMatmulWithAGateIsSgemmThenItsEpilogue", "batch_matmul:B=2,M=4,N=6,K=5,epilogue=silu+mul",
     "openblas_sgemm+epilogue", 1e-5},
    {"Conv2dWithBiasResidualAndReluIsIm2colSgemmThenItsEpilogue",
     "conv2d_nchw:N=2,C=3,H=8,W=7,K=4,R=3,S=3,stride=2,pad=1,epilogue=bias+add+relu",
     "openblas_im2col_sgemm+epilogue", 1e-4},
    {"Conv2dNhwcWithBiasAndRelu6IsIm2colSgemmThenItsEpilogue",
     "conv2d_nhwc:N=1,C=3,H=7,W=6,K=5,R=1,S=1,stride=1,pad=0,epilogue=bias+relu6",
     "openblas_im2col_sgemm+epilogue", 1e-4},
};

class LibraryBaselineMapped : public ::testing::TestWithParam<MappedWorkload> {};

TEST_P(LibraryBaselineMapped, RunsItsRoutineWithTheReferenceValues) {
  const MappedWorkload& c = GetParam();
  const std::string text = c.workload;
  auto w = text.find('\n') == std::string::npos ? ir::make_operator(text) : ir::parse_workload(text);
  EXPECT_EQ(routine_name(w), c.routine);
  EXPECT_LT(max_error_against_reference(w), c.tolerance);
}

INSTANTIATE_TEST_SUITE_P(LibraryBaseline, LibraryBaselineMapped, ::testing::ValuesIn(kMappedWorkloads),
                         [](const ::testing::TestParamInfo<MappedWorkload>& info) {
                           return std::string(info.param.name);
                         });

TEST(LibraryBaseline, WorkloadsWithoutALibraryRoutineHaveNone) {
  EXPECT_EQ(routine_name(ir::make_operator("depthwise_conv2d:C=4,H=8,W=8,epilogue=bias+relu")), "none");
  EXPECT_EQ(routine_name(ir::make_operator("softmax")), "none");
  EXPECT_EQ(routine_name(ir::make_operator("depthwise_conv2d:C=4,H=8,W=8")), "none");
  EXPECT_EQ(routine_name(ir::make_operator("matmul:M=4,N=4,K=4,dtype=f64")), "none");
  // A max-reduction has the shape of a matmul but is not one.
  EXPECT_EQ(routine_name(ir::parse_workload("A: f32[4, 3]\nB: f32[3, 5]\nC: f32[4, 5]\n"
                                            "C[i, j] max= A[i, k] * B[k, j]\n")),
            "none");
  // Reads outside A (zero padding) are not what sgemm computes.
  EXPECT_EQ(routine_name(ir::parse_workload("A: f32[4, 2]\nB: f32[3, 5]\nC: f32[4, 5]\n"
                                            "C[i, j] += A[i, k] * B[k, j] where k < 3\n")),
            "none");
}

TEST(LibraryBaseline, MeasureGivesTheRoutineNameAndPositiveTime) {
  auto b = measure_library_baseline(ir::make_operator("matmul:M=32,N=32,K=32"), 0.01, -1);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->name, "openblas_sgemm");
  EXPECT_GT(b->median_s, 0);
  EXPECT_NEAR(b->gflops, 2.0 * 32 * 32 * 32 / b->median_s * 1e-9, 1e-9 * b->gflops);
}

TEST(LibraryBaseline, MeasureWithoutRoutineIsNullopt) {
  EXPECT_FALSE(measure_library_baseline(ir::make_operator("softmax:M=8,N=8"), 0.01, -1).has_value());
}

TEST(LibraryBaseline, PinningIsUndoneAfterMeasuring) {
  cpu_set_t before, after;
  ASSERT_EQ(sched_getaffinity(0, sizeof before, &before), 0);
  int core = -1;
  for (int c = CPU_SETSIZE - 1; c >= 0 && core < 0; --c)
    if (CPU_ISSET(c, &before)) core = c;
  ASSERT_GE(core, 0);
  ASSERT_TRUE(measure_library_baseline(ir::make_operator("matmul:M=16,N=16,K=16"), 0.005, core).has_value());
  ASSERT_EQ(sched_getaffinity(0, sizeof after, &after), 0);
  EXPECT_TRUE(CPU_EQUAL(&before, &after));
}

}  // namespace
}  // namespace rctune::runtime
