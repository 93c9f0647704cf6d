// generate_reference: plain serial double-precision evaluation of a workload's stages.
#include "codegen/codegen_test_util.h"

namespace rctune::codegen::testing {
namespace {

using RefFn = void (*)(double* const*);

struct LoadedReference {
  Library lib;
  RefFn fn = nullptr;
  std::string error;
};

void load_reference(const Workload& w, LoadedReference* r) {
  KernelSource ks = generate_reference(w);
  r->error = r->lib.load(ks.code, "reference", false);
  if (r->error.empty()) r->fn = reinterpret_cast<RefFn>(r->lib.symbol(ks.entry));
}

TEST(Reference, SourceIsPlainSerialCpp) {
  KernelSource ks = generate_reference(matmul_workload(4, 4, 4));
  EXPECT_EQ(ks.entry, "rctune_reference");
  EXPECT_FALSE(ks.uses_kokkos);
  EXPECT_FALSE(contains(ks.code, "Kokkos"));
  EXPECT_TRUE(contains(ks.code, "extern \"C\" void rctune_reference(double* const* buffers)"));
  EXPECT_TRUE(contains(ks.code, "// C[i, j] += A[i, k] * B[k, j]"));
}

TEST(Reference, MatmulComputesProducts) {
  Workload w = matmul_workload(2, 2, 3);
  LoadedReference r;
  load_reference(w, &r);
  ASSERT_EQ(r.error, "");
  std::vector<double> A{1, 2, 3, 4, 5, 6}, B{1, 0, 0, 1, 1, 1}, C(4, -7);
  double* bufs[] = {A.data(), B.data(), C.data()};
  r.fn(bufs);
  EXPECT_EQ(C, (std::vector<double>{4, 5, 10, 11}));
}

// Y[0, 0, p, q] += X[0, 0, p + r - 1, q + s - 1] * W[0, 0, r, s] with a 3x3 all-ones filter:
// corner outputs see four inputs, edges six, the centre nine.
TEST(Reference, PaddedReadsAreZero) {
  const Workload w = padded_conv_workload("conv", 1, 1, 3, 3, 1);
  LoadedReference r;
  load_reference(w, &r);
  ASSERT_EQ(r.error, "");
  std::vector<double> X(9, 1.0), W(9, 1.0), Y(9, 0.0);
  double* bufs[] = {X.data(), W.data(), Y.data()};
  r.fn(bufs);
  EXPECT_EQ(Y, (std::vector<double>{4, 6, 4, 6, 9, 6, 4, 6, 4}));
}

TEST(Reference, MaxReductionAndElementwiseStages) {
  Workload w;
  w.name = "rowmax";
  w.tensors = {tensor("X", {2, 3}), tensor("M", {2}), tensor("Y", {2, 3})};
  w.stages = {stage("M", {{"i", 2}}, {{"j", 3}}, ReduceOp::Max, ld("X", {v("i"), v("j")})),
              stage("Y", {{"i", 2}, {"j", 3}}, {}, ReduceOp::None,
                    unary(UnOp::Relu, ld("X", {v("i"), v("j")}) - ld("M", {v("i")}) + f(1.0)))};
  w.outputs = {"Y"};
  LoadedReference r;
  load_reference(w, &r);
  ASSERT_EQ(r.error, "");
  std::vector<double> X{-5, -2, -3, 1, 7, 0.5}, M(2), Y(6);
  double* bufs[] = {X.data(), M.data(), Y.data()};
  r.fn(bufs);
  EXPECT_EQ(M, (std::vector<double>{-2, 7}));
  EXPECT_EQ(Y, (std::vector<double>{0, 1, 0, 0, 1, 0}));
}

TEST(Reference, GeluUsesErfForm) {
  Workload w;
  w.name = "gelu";
  w.tensors = {tensor("X", {3}), tensor("Y", {3})};
  w.stages = {stage("Y", {{"i", 3}}, {}, ReduceOp::None, unary(UnOp::Gelu, ld("X", {v("i")})))};
  w.outputs = {"Y"};
  LoadedReference r;
  load_reference(w, &r);
  ASSERT_EQ(r.error, "");
  std::vector<double> X{-1, 0, 2}, Y(3);
  double* bufs[] = {X.data(), Y.data()};
  r.fn(bufs);
  for (int i = 0; i < 3; ++i) EXPECT_DOUBLE_EQ(Y[i], 0.5 * X[i] * (1 + std::erf(X[i] / std::sqrt(2.0))));
}

TEST(Reference, InvalidWorkloadIsRejectedWithReason) {
  Workload w = matmul_workload(2, 2, 2);
  w.outputs.clear();
  try {
    generate_reference(w);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "matmul")) << e.what();
    EXPECT_TRUE(contains(e.what(), "no output")) << e.what();
  }
}

}  // namespace
}  // namespace rctune::codegen::testing
