// End to end: library workloads, scheduled with a trace and lowered by rctune/schedule, generate
// kernels that agree with the reference.
#include <fstream>
#include <iterator>
#include <memory>

#include "codegen/codegen_test_util.h"
#include "rctune/ir/operators.h"
#include "rctune/schedule/lower.h"
#include "rctune/schedule/trace.h"

namespace rctune::codegen::testing {
namespace {

struct Lowered {
  std::shared_ptr<const Workload> workload;
  LoweredFunc func;
};

Lowered lower_spec(const std::string& spec, const std::string& trace) {
  auto w = std::make_shared<const Workload>(make_operator(spec));
  schedule::State s(w);
  if (!trace.empty()) s = schedule::apply_trace(s, trace);
  return {w, schedule::lower(s)};
}

// The example schedule's shape (register tile, packed B panel, parallel j.0) with M = 20: the
// split of i does not divide, so the tile carries guards.
TEST(Lowered, RegisterTiledMatmulWithPackingMatchesReference) {
  Lowered l = lower_spec("matmul:M=20,N=64,K=16",
                         "cache_write(C, local)\n"
                         "split(C, i, [None, 8])\n"
                         "split(C, j, [None, 32])\n"
                         "reorder(C, j.0, i.0, i.1, j.1)\n"
                         "compute_at(C.local, C, i.0)\n"
                         "reorder(C.local, k, i, j)\n"
                         "unroll(C.local, i)\n"
                         "vectorize(C.local, j)\n"
                         "unroll(C, i.1)\n"
                         "vectorize(C, j.1)\n"
                         "cache_read(B, heap, C.local)\n"
                         "compute_at(B.heap, C, j.0)\n"
                         "vectorize(B.heap, ax1)\n"
                         "parallel(C, j.0)\n");
  std::string code = generate_kernel(l.func).code;
  EXPECT_TRUE(contains(code, "v16f t_C_local_7_0 = {}, t_C_local_7_1 = {};"));
  EXPECT_FALSE(contains(code, "C_local["));
  EXPECT_EQ(check_against_reference(l.func, *l.workload), "");
}

TEST(Lowered, TeamBoundMatmulWithSharedCacheMatchesReference) {
  Lowered l = lower_spec("matmul:M=16,N=24,K=12",
                         "split(C, i, [None, 4])\n"
                         "bind(C, i.0, league)\n"
                         "bind(C, i.1, team)\n"
                         "cache_read(A, shared, C)\n"
                         "compute_at(A.shared, C, i.0)\n");
  std::string code = generate_kernel(l.func).code;
  EXPECT_TRUE(contains(code, "team_scratch(0)"));
  EXPECT_EQ(check_against_reference(l.func, *l.workload), "");
}

TEST(Lowered, StridedPaddedConvMatchesReference) {
  Lowered l = lower_spec("conv2d_nchw:N=1,C=3,H=9,W=9,K=4,stride=2,pad=1",
                         "reorder(Y, n, k, p, c, r, s, q)\n"
                         "parallel(Y, k)\n"
                         "unroll(Y, r)\n"
                         "vectorize(Y, q)\n");
  EXPECT_EQ(check_against_reference(l.func, *l.workload), "");
}

TEST(Lowered, SoftmaxWithVectorizedNormaliseMatchesReference) {
  Lowered l = lower_spec("softmax:M=4,N=32",
                         "parallel(row_max, i)\n"
                         "parallel(row_sum, i)\n"
                         "parallel(Y, i)\n"
                         "vectorize(Y, j)\n");
  EXPECT_EQ(check_against_reference(l.func, *l.workload), "");
}

// The example schedules: softmax's normalisation and dense_gelu's epilogue call exp and gelu on
// vector lanes, which stay in vector types (no scalar omp simd fallback).
std::string example_trace(const std::string& file) {
  std::ifstream in(std::string(RCTUNE_SOURCE_DIR) + "/configs/examples/" + file);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(Lowered, ExampleSoftmaxNormaliseUsesVectorExp) {
  Lowered l = lower_spec("softmax:M=8,N=64", example_trace("softmax.sched"));
  std::string code = generate_kernel(l.func).code;
  EXPECT_TRUE(contains(code, "rctune_vexp(rctune_vload<v16f>(&t_X["));
  EXPECT_FALSE(contains(code, "#pragma omp simd"));
  EXPECT_FALSE(contains(code, "no vector form"));
  EXPECT_EQ(check_against_reference(l.func, *l.workload), "");
  EXPECT_EQ(check_against_reference(l.func, *l.workload, Target{}, "-O2 -march=native"), "");
}

TEST(Lowered, ExampleDenseGeluEpilogueUsesVectorGelu) {
  Lowered l = lower_spec("dense_gelu:M=16,N=64,K=24", example_trace("dense_gelu.sched"));
  std::string code = generate_kernel(l.func).code;
  EXPECT_TRUE(contains(code, "rctune_vgelu(rctune_vload<v16f>(&t_XW["));
  EXPECT_FALSE(contains(code, "#pragma omp simd"));
  EXPECT_FALSE(contains(code, "rctune_gelu("));
  EXPECT_EQ(check_against_reference(l.func, *l.workload), "");
  EXPECT_EQ(check_against_reference(l.func, *l.workload, Target{}, "-O2 -march=native"), "");
}

// A reduction split by `outer` and rfactor'ed, its row of partial results split again by `vector`
// lanes, unrolled x vectorized and computed at the reduction's row.
std::string rfactor_vector_trace(const std::string& red, int outer, int vector) {
  const std::string rf = red + ".rf";
  return "split(" + red + ", j, [None, " + std::to_string(outer) + "])\nrfactor(" + red + ", j.1)\nsplit(" +
         rf + ", j_1, [None, " + std::to_string(vector) + "])\nreorder(" + rf +
         ", i, j_0, j_1.0, j_1.1)\nunroll(" + rf + ", j_1.0)\nvectorize(" + rf + ", j_1.1)\ncompute_at(" +
         rf + ", " + red + ", i)\nunroll(" + red + ", j_1)\n";
}

// An rfactor'ed reduction split by 48 and then by 32 for vectors: the second unrolled copy of the
// vectorized loop covers elements 32..63 of the 48-element promoted buffer, and its last chunk
// (48..63) is guarded off on every lane. That chunk has no register; it generates nothing.
TEST(Lowered, RfactorVectorChunkPastThePromotedBufferIsDropped) {
  Lowered l = lower_spec("softmax:M=64,N=128", rfactor_vector_trace("row_max", 48, 32) +
                                                   "split(row_sum, j, [None, 1])\n"
                                                   "rfactor(row_sum, j.1)\n"
                                                   "reorder(row_sum.rf, i, j_0, j_1)\n"
                                                   "vectorize(row_sum.rf, j_1)\n"
                                                   "compute_at(row_sum.rf, row_sum, j_1)\n"
                                                   "unroll(row_sum, j_1)\n"
                                                   "compute_at(row_sum, Y, j)\n"
                                                   "parallel(row_max, i)\n"
                                                   "fuse(Y, i, j)\n"
                                                   "parallel(Y, i.j)\n");
  std::string code = generate_kernel(l.func).code;
  EXPECT_TRUE(contains(code, "3 registers of v16f"));
  EXPECT_FALSE(contains(code, "t_row_max_rf_0_3"));
  EXPECT_EQ(check_against_reference(l.func, *l.workload), "");
  EXPECT_EQ(check_against_reference(l.func, *l.workload, Target{Space::Host, 16}), "");
}

// The same shape with other splits and vector widths: wherever the last copy of the vectorized
// loop ends past the promoted buffer (24 = 16 + 8 on 8-lane vectors, 48 = 32 + 16, ...).
TEST(Lowered, RfactorVectorChunksPastPromotedBuffersMatchReferenceOnEveryWidth) {
  struct Case {
    std::string workload, reduction;
    int outer, vector, vector_bytes;
  };
  for (const Case& c :
       {Case{"rmsnorm:M=8,N=96", "mean_sq", 24, 16, 32}, Case{"rmsnorm:M=8,N=96", "mean_sq", 48, 32, 64},
        Case{"layernorm:M=8,N=96", "mean", 40, 32, 32}, Case{"softmax:M=8,N=128", "row_max", 20, 16, 16}}) {
    SCOPED_TRACE(c.workload + " split " + std::to_string(c.outer) + " / " + std::to_string(c.vector) + ", " +
                 std::to_string(c.vector_bytes) + "-byte vectors");
    Lowered l = lower_spec(c.workload, rfactor_vector_trace(c.reduction, c.outer, c.vector));
    EXPECT_EQ(check_against_reference(l.func, *l.workload, Target{Space::Host, c.vector_bytes}), "");
  }
}

TEST(Lowered, UnscheduledAttentionMatchesReference) {
  Lowered l = lower_spec("attention:B=2,S=8,D=8", "");
  EXPECT_EQ(check_against_reference(l.func, *l.workload), "");
}

}  // namespace
}  // namespace rctune::codegen::testing
