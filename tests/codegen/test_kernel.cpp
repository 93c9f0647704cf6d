// generate_kernel: the generated Kokkos source compiles, runs and agrees with the reference.
#include "codegen/codegen_test_util.h"

namespace rctune::codegen::testing {
namespace {

::testing::Environment* const kKokkos = ::testing::AddGlobalTestEnvironment(new KokkosEnvironment);

LoweredFunc func(const Workload& w, Stmt body) {
  LoweredFunc fn;
  fn.name = w.name;
  fn.params = params_of(w);
  fn.outputs = w.outputs;
  fn.body = std::move(body);
  return fn;
}

// for i parallel, j, k: the unscheduled matmul.
TEST(Kernel, PlainMatmulNestMatchesReference) {
  Workload w = matmul_workload(24, 40, 16);
  Stmt body = loop("i", 24,
                   loop("j", 40,
                        make_seq({st("C", {v("i"), v("j")}, f(0.0)),
                                  loop("k", 16,
                                       st("C", {v("i"), v("j")},
                                          ld("C", {v("i"), v("j")}) +
                                              ld("A", {v("i"), v("k")}) * ld("B", {v("k"), v("j")})))})),
                   ForKind::Parallel);
  LoweredFunc fn = func(w, body);
  std::string code = generate_kernel(fn).code;
  EXPECT_TRUE(contains(code, "#include <Kokkos_Core.hpp>"));
  EXPECT_TRUE(contains(code, "extern \"C\" void rctune_kernel(void* const* buffers)"));
  EXPECT_TRUE(contains(code, "float* __restrict__ t_A = static_cast<float*>(buffers[0]);"));
  EXPECT_TRUE(contains(code, "Kokkos::RangePolicy"));
  EXPECT_TRUE(contains(code, "KOKKOS_LAMBDA(const int64_t v_i)"));
  EXPECT_TRUE(contains(code, "t_C[v_i * 40 + v_j]"));
  EXPECT_TRUE(contains(code, "Kokkos::fence();"));
  EXPECT_EQ(check_against_reference(fn, w), "");
}

// An 8x48 register tile: C.local is unrolled textually and lives in 24 vector registers.
Stmt register_tile_matmul(int64_t M, int64_t N, int64_t K, int64_t TM, int64_t TN, int64_t lanes,
                          const std::string& b = "B") {
  int64_t tn = TN / lanes;
  auto jj = v("j.1") * lanes + v("j.2");
  auto tile = [&](Stmt s) {
    return loop("i.1", TM, loop("j.1", tn, loop("j.2", lanes, s, ForKind::Vectorized), ForKind::Unrolled),
                ForKind::Unrolled);
  };
  Expr row = v("i.0") * TM + v("i.1");
  Expr col = v("j.0") * TN + jj;
  Stmt init = tile(st("C.local", {v("i.1"), jj}, f(0.0)));
  Stmt update = loop("k", K,
                     tile(st("C.local", {v("i.1"), jj},
                             ld("C.local", {v("i.1"), jj}) + ld("A", {row, v("k")}) * ld(b, {v("k"), col}))));
  Stmt write = tile(st("C", {row, col}, ld("C.local", {v("i.1"), jj})));
  return loop("i.0", M / TM,
              loop("j.0", N / TN,
                   make_allocate(buf("C.local", {TM, TN}, MemScope::Local), make_seq({init, update, write}))),
              ForKind::Parallel);
}

TEST(Kernel, RegisterTileBecomesVectorAccumulators) {
  Workload w = matmul_workload(16, 96, 24);
  LoweredFunc fn = func(w, register_tile_matmul(16, 96, 24, 8, 48, 16));
  std::string code = generate_kernel(fn).code;
  EXPECT_TRUE(contains(code, "typedef float v16f __attribute__((vector_size(64)));"));
  EXPECT_TRUE(contains(code, "v16f t_C_local_0_0 = {}, t_C_local_0_1 = {}, t_C_local_0_2 = {};"));
  EXPECT_TRUE(contains(code, "t_C_local_7_2"));
  EXPECT_FALSE(contains(code, "t_C_local["));  // no accumulator array
  EXPECT_FALSE(contains(code, "t_C_local_8_0"));
  EXPECT_TRUE(contains(code, "rctune_vload<v16f>(&t_B["));
  EXPECT_EQ(check_against_reference(fn, w), "");
}

// N = 40 with a 32-column tile: every vectorized tile loop carries the guard j < 40. The
// accumulators stay registers; partial vectors spill them to a small array lane by lane.
TEST(Kernel, GuardedRegisterTileKeepsVectorAccumulators) {
  Workload w = matmul_workload(8, 40, 12);
  Expr jj = v("j.1") * 16 + v("j.2");
  Expr col = v("j.0") * 32 + jj;
  auto tile = [&](Stmt s) {
    return loop(
        "i.1", 4,
        loop("j.1", 2, loop("j.2", 16, make_if(binary(BinOp::LT, col, c(40)), s), ForKind::Vectorized),
             ForKind::Unrolled),
        ForKind::Unrolled);
  };
  Expr row = v("i.0") * 4 + v("i.1");
  Stmt init = tile(st("C.local", {v("i.1"), jj}, f(0.0)));
  Stmt update =
      loop("k", 12,
           tile(st("C.local", {v("i.1"), jj},
                   ld("C.local", {v("i.1"), jj}) + ld("A", {row, v("k")}) * ld("B", {v("k"), col}))));
  Stmt write = tile(st("C", {row, col}, ld("C.local", {v("i.1"), jj})));
  Stmt body =
      loop("i.0", 2,
           loop("j.0", 2,
                make_allocate(buf("C.local", {4, 32}, MemScope::Local), make_seq({init, update, write}))),
           ForKind::Parallel);
  LoweredFunc fn = func(w, body);
  std::string code = generate_kernel(fn).code;
  EXPECT_TRUE(contains(code, "v16f t_C_local_0_0 = {}, t_C_local_0_1 = {};"));
  EXPECT_FALSE(contains(code, "t_C_local["));
  EXPECT_TRUE(contains(code, "t_C_local_3_1_lanes[v_j_2] = "));
  EXPECT_EQ(check_against_reference(fn, w), "");
}

TEST(Kernel, VectorWidthFollowsTargetAndExtent) {
  Workload w = matmul_workload(8, 64, 8);
  // 32 lanes on a 64-byte target: two v16f per row; on a 32-byte target: four v8f.
  LoweredFunc fn = func(w, register_tile_matmul(8, 64, 8, 4, 64, 32));
  std::string wide = generate_kernel(fn, Target{Space::Host, 64}).code;
  EXPECT_TRUE(
      contains(wide, "v16f t_C_local_0_0 = {}, t_C_local_0_1 = {}, t_C_local_0_2 = {}, t_C_local_0_3 = {};"));
  std::string narrow = generate_kernel(fn, Target{Space::Host, 32}).code;
  EXPECT_TRUE(contains(narrow, "typedef float v8f __attribute__((vector_size(32)));"));
  EXPECT_TRUE(contains(narrow, "t_C_local_3_7"));
  EXPECT_EQ(check_against_reference(fn, w, Target{Space::Host, 32}), "");
}

// M = 20 and N = 40 split by 8 and 16: guards; the guard on the vector lane forces a scalar loop.
TEST(Kernel, GuardedNonDividingSplitMatchesReference) {
  Workload w = matmul_workload(20, 40, 16);
  Expr i = v("i.0") * 8 + v("i.1");
  Expr j = v("j.0") * 16 + v("j.1");
  Expr jguard = binary(BinOp::LT, j, c(40));
  Stmt init = loop("j.0", 3, loop("j.1", 16, make_if(jguard, st("C", {i, j}, f(0.0))), ForKind::Vectorized));
  Stmt upd =
      loop("k", 16,
           loop("j.0", 3,
                loop("j.1", 16,
                     make_if(jguard,
                             st("C", {i, j}, ld("C", {i, j}) + ld("A", {i, v("k")}) * ld("B", {v("k"), j}))),
                     ForKind::Vectorized)));
  Stmt body = loop("i.0", 3, loop("i.1", 8, make_if(binary(BinOp::LT, i, c(20)), make_seq({init, upd}))),
                   ForKind::Parallel);
  LoweredFunc fn = func(w, body);
  std::string code = generate_kernel(fn).code;
  EXPECT_TRUE(contains(code, "if (v_i_0 * 8 + v_i_1 < 20) {"));
  // The guard on the vector lane is peeled: full vectors where all 16 lanes pass, else lane by lane.
  EXPECT_TRUE(contains(code, "if (v_j_0 * 16 < 25) {"));
  EXPECT_TRUE(contains(code, "// partial vector: lanes 0..15 of j.1 one by one"));
  EXPECT_EQ(check_against_reference(fn, w, Target{}, "-O1 -fopenmp-simd"), "");
}

// Strided, padded conv2d: Y[n, k, p, q] += X[n, c, 2p + r - 1, 2q + s - 1] * W[k, c, r, s].
TEST(Kernel, PaddedStridedConvReadMatchesReference) {
  const Workload w = padded_conv_workload("conv2d_nchw:test", 2, 3, 7, 4, 2);
  Expr h = v("p") * 2 + v("r") - c(1);
  Expr x = v("q") * 2 + v("s") - c(1);
  Expr inb = binary(BinOp::And, binary(BinOp::And, binary(BinOp::GE, h, c(0)), binary(BinOp::LT, h, c(7))),
                    binary(BinOp::And, binary(BinOp::GE, x, c(0)), binary(BinOp::LT, x, c(7))));
  Expr xv = select(inb, ld("X", {c(0), v("c"), h, x}), f(0.0));
  std::vector<Expr> yi{c(0), v("k"), v("p"), v("q")};
  Stmt body = loop(
      "k", 3,
      loop(
          "p", 4,
          loop("q", 4,
               make_seq(
                   {st("Y", yi, f(0.0)),
                    loop("c", 2,
                         loop("r", 3,
                              loop("s", 3,
                                   st("Y", yi, ld("Y", yi) + xv * ld("W", {v("k"), v("c"), v("r"), v("s")}))),
                              ForKind::Unrolled))})),
          ForKind::Parallel),
      ForKind::Parallel);
  LoweredFunc fn = func(w, body);
  std::string code = generate_kernel(fn).code;
  EXPECT_TRUE(contains(code, "MDRangePolicy<Kokkos::DefaultExecutionSpace, Kokkos::Rank<2>"));
  EXPECT_TRUE(contains(code, " ? t_X["));
  EXPECT_TRUE(contains(code, " : 0.0f"));
  EXPECT_EQ(check_against_reference(fn, w), "");
}

// Depthwise 3x3, stride 1, pad 1, q vectorized: the padding select depends on the lane, so full
// vectors are used where every lane is inside the image and the border lanes go one by one.
TEST(Kernel, PaddedReadOnVectorLaneIsPeeled) {
  Workload w;
  w.name = "depthwise:test";
  w.tensors = {tensor("X", {2, 6, 16}), tensor("W", {2, 3, 3}), tensor("Y", {2, 6, 16})};
  Expr h = v("p") + v("r") - c(1);
  Expr x = v("q") + v("s") - c(1);
  w.stages = {stage("Y", {{"c", 2}, {"p", 6}, {"q", 16}}, {{"r", 3}, {"s", 3}}, ReduceOp::Sum,
                    ld("X", {v("c"), h, x}) * ld("W", {v("c"), v("r"), v("s")}))};
  w.outputs = {"Y"};
  Expr inb = binary(BinOp::And, binary(BinOp::And, binary(BinOp::GE, h, c(0)), binary(BinOp::LT, h, c(6))),
                    binary(BinOp::And, binary(BinOp::GE, x, c(0)), binary(BinOp::LT, x, c(16))));
  std::vector<Expr> yi{v("c"), v("p"), v("q")};
  Stmt body =
      loop("c", 2,
           loop("p", 6,
                make_seq({loop("q", 16, st("Y", yi, f(0.0)), ForKind::Vectorized),
                          loop("r", 3,
                               loop("s", 3,
                                    loop("q", 16,
                                         st("Y", yi,
                                            ld("Y", yi) + select(inb, ld("X", {v("c"), h, x}), f(0.0)) *
                                                              ld("W", {v("c"), v("r"), v("s")})),
                                         ForKind::Vectorized),
                                    ForKind::Unrolled),
                               ForKind::Unrolled)})),
           ForKind::Parallel);
  LoweredFunc fn = func(w, body);
  Target avx2{Space::Host, 32};
  std::string code = generate_kernel(fn, avx2).code;
  EXPECT_TRUE(contains(code, "rctune_vload<v8f>(&t_X["));
  EXPECT_TRUE(contains(code, "// partial vector: lanes 8..15 of q one by one"));
  EXPECT_FALSE(contains(code, "omp simd"));
  EXPECT_EQ(check_against_reference(fn, w, avx2), "");
}

// Y[i, j] = relu(X[i, j] + b[j]) with i, j.0 parallel (MDRange) and j.1 vectorized.
TEST(Kernel, MDRangeWithVectorizedBiasReluMatchesReference) {
  Workload w;
  w.name = "bias_relu";
  w.tensors = {tensor("X", {6, 64}), tensor("b", {64}), tensor("Y", {6, 64})};
  w.stages = {stage("Y", {{"i", 6}, {"j", 64}}, {}, ReduceOp::None,
                    unary(UnOp::Relu, ld("X", {v("i"), v("j")}) + ld("b", {v("j")})))};
  w.outputs = {"Y"};
  Expr j = v("j.0") * 16 + v("j.1");
  Stmt body =
      loop("i", 6,
           loop("j.0", 4,
                loop("j.1", 16, st("Y", {v("i"), j}, unary(UnOp::Relu, ld("X", {v("i"), j}) + ld("b", {j}))),
                     ForKind::Vectorized),
                ForKind::Parallel),
           ForKind::Parallel);
  LoweredFunc fn = func(w, body);
  std::string code = generate_kernel(fn).code;
  EXPECT_TRUE(contains(code, "Kokkos::Rank<2>"));
  EXPECT_TRUE(contains(code, "KOKKOS_LAMBDA(const int64_t v_i, const int64_t v_j_0)"));
  EXPECT_TRUE(contains(code, "rctune_max<v16f>("));
  EXPECT_TRUE(contains(code, "rctune_vstore(&t_Y[v_i * 64 + v_j_0 * 16]"));
  EXPECT_EQ(check_against_reference(fn, w), "");
}

// League over row blocks, A rows cached in team scratch, team threads over rows, vector lanes over j.
TEST(Kernel, TeamNestWithSharedScratchMatchesReference) {
  Workload w = matmul_workload(16, 24, 12);
  Stmt fill = loop("t", 48,
                   st("A.shared", {v("t") / c(12), v("t") % c(12)},
                      ld("A", {v("i.0") * 4 + v("t") / c(12), v("t") % c(12)})),
                   ForKind::Parallel, BindLevel::Team);
  Expr row = v("i.0") * 4 + v("i.1");
  Stmt compute = loop("i.1", 4,
                      loop("j", 24,
                           make_seq({st("C", {row, v("j")}, f(0.0)),
                                     loop("k", 12,
                                          st("C", {row, v("j")},
                                             ld("C", {row, v("j")}) + ld("A.shared", {v("i.1"), v("k")}) *
                                                                          ld("B", {v("k"), v("j")})))}),
                           ForKind::Vectorized, BindLevel::Vector),
                      ForKind::Parallel, BindLevel::Team);
  Stmt body =
      loop("i.0", 4, make_allocate(buf("A.shared", {4, 12}, MemScope::Shared), make_seq({fill, compute})),
           ForKind::Parallel, BindLevel::League);
  LoweredFunc fn = func(w, body);
  std::string code = generate_kernel(fn).code;
  EXPECT_TRUE(contains(code, "Kokkos::TeamPolicy"));
  EXPECT_TRUE(contains(code, "set_scratch_size(0, Kokkos::PerTeam("));
  EXPECT_TRUE(contains(code, "team_scratch(0).get_shmem_aligned("));
  EXPECT_TRUE(contains(code, "Kokkos::TeamThreadRange(team"));
  EXPECT_TRUE(contains(code, "Kokkos::ThreadVectorRange(team"));
  EXPECT_TRUE(contains(code, "team.team_barrier();"));
  EXPECT_EQ(check_against_reference(fn, w), "");
}

// Softmax rows: M max= X; E = exp(X - M); S += E; Y = E / S.
TEST(Kernel, SoftmaxStagesMatchReference) {
  Workload w;
  w.name = "softmax:test";
  w.tensors = {tensor("X", {8, 32}), tensor("M", {8}), tensor("E", {8, 32}), tensor("S", {8}),
               tensor("Y", {8, 32})};
  Expr xij = ld("X", {v("i"), v("j")});
  w.stages = {
      stage("M", {{"i", 8}}, {{"j", 32}}, ReduceOp::Max, xij),
      stage("E", {{"i", 8}, {"j", 32}}, {}, ReduceOp::None, unary(UnOp::Exp, xij - ld("M", {v("i")}))),
      stage("S", {{"i", 8}}, {{"j", 32}}, ReduceOp::Sum, ld("E", {v("i"), v("j")})),
      stage("Y", {{"i", 8}, {"j", 32}}, {}, ReduceOp::None, ld("E", {v("i"), v("j")}) / ld("S", {v("i")}))};
  w.outputs = {"Y"};
  Stmt body =
      loop("i", 8,
           make_seq({st("M", {v("i")}, f(-INFINITY)),
                     loop("j", 32, st("M", {v("i")}, binary(BinOp::Max, ld("M", {v("i")}), xij))),
                     loop("j", 32, st("E", {v("i"), v("j")}, unary(UnOp::Exp, xij - ld("M", {v("i")}))),
                          ForKind::Vectorized),
                     st("S", {v("i")}, f(0.0)),
                     loop("j", 32, st("S", {v("i")}, ld("S", {v("i")}) + ld("E", {v("i"), v("j")}))),
                     loop("j", 32, st("Y", {v("i"), v("j")}, ld("E", {v("i"), v("j")}) / ld("S", {v("i")})),
                          ForKind::Vectorized)}),
           ForKind::Parallel);
  LoweredFunc fn = func(w, body);
  std::string code = generate_kernel(fn).code;
  EXPECT_TRUE(contains(code, "rctune_vexp(rctune_vload<v16f>(&t_X[v_i * 32 + 16]) - t_M[v_i])"));
  EXPECT_TRUE(contains(code, "static __attribute__((noinline)) v16f rctune_vexp(v16f x)"));
  EXPECT_TRUE(contains(code, "(-__builtin_huge_valf())"));
  EXPECT_FALSE(contains(code, "no vector form"));
  EXPECT_FALSE(contains(code, "#pragma omp simd"));
  EXPECT_TRUE(contains(code, "rctune_vload<v16f>(&t_E[v_i * 32 + 16]) / t_S[v_i]"));
  EXPECT_EQ(check_against_reference(fn, w), "");
}

// A store that does not vary along a vectorized loop (a reduction across it) must not be put under
// `#pragma omp simd`, even when another statement already rules out vector types.
TEST(Kernel, ReductionInsideVectorizedLoopGetsNoSimdPragma) {
  Workload w;
  w.name = "expsum";
  w.tensors = {tensor("X", {4, 32}), tensor("E", {4, 32}), tensor("S", {4})};
  Expr xij = ld("X", {v("i"), v("j")});
  w.stages = {stage("E", {{"i", 4}, {"j", 32}}, {}, ReduceOp::None, unary(UnOp::Exp, xij)),
              stage("S", {{"i", 4}}, {{"j", 32}}, ReduceOp::Sum, ld("E", {v("i"), v("j")}))};
  w.outputs = {"E", "S"};
  Stmt body =
      loop("i", 4,
           make_seq({st("S", {v("i")}, f(0.0)),
                     loop("j", 32,
                          make_seq({st("E", {v("i"), v("j")}, unary(UnOp::Exp, xij)),
                                    st("S", {v("i")}, ld("S", {v("i")}) + ld("E", {v("i"), v("j")}))}),
                          ForKind::Vectorized)}),
           ForKind::Parallel);
  LoweredFunc fn = func(w, body);
  std::string code = generate_kernel(fn).code;
  EXPECT_FALSE(contains(code, "#pragma omp simd"));
  EXPECT_EQ(check_against_reference(fn, w, Target{}, "-O1 -fopenmp-simd"), "");
}

// A local row buffer indexed by a loop variable stays an aligned stack array; no parallel loop
// gives plain serial code.
TEST(Kernel, LocalBufferWithVariableIndexIsStackArray) {
  Workload w = matmul_workload(4, 20, 6);
  Stmt body =
      loop("i", 4,
           make_allocate(buf("row", {20}, MemScope::Local),
                         make_seq({loop("j", 20, st("row", {v("j")}, f(0.0))),
                                   loop("k", 6,
                                        loop("j", 20,
                                             st("row", {v("j")},
                                                ld("row", {v("j")}) +
                                                    ld("A", {v("i"), v("k")}) * ld("B", {v("k"), v("j")})))),
                                   loop("j", 20, st("C", {v("i"), v("j")}, ld("row", {v("j")})))})));
  LoweredFunc fn = func(w, body);
  std::string code = generate_kernel(fn).code;
  EXPECT_TRUE(contains(code, "alignas(64) float t_row[20];"));
  EXPECT_FALSE(contains(code, "parallel_for"));
  EXPECT_EQ(check_against_reference(fn, w), "");
}

// B packed once per call into a heap panel; a per-iteration heap buffer gets one slot per thread.
TEST(Kernel, HeapBuffersMatchReference) {
  Workload w = matmul_workload(12, 32, 10);
  Stmt pack = loop("k", 10, loop("j", 32, st("B.pack", {v("k"), v("j")}, ld("B", {v("k"), v("j")}))),
                   ForKind::Parallel);
  Stmt compute = loop(
      "i", 12,
      make_allocate(
          buf("acc", {32}, MemScope::Heap),
          make_seq(
              {loop("j", 32, st("acc", {v("j")}, f(0.0)), ForKind::Vectorized),
               loop("k", 10,
                    loop("j", 32,
                         st("acc", {v("j")},
                            ld("acc", {v("j")}) + ld("A", {v("i"), v("k")}) * ld("B.pack", {v("k"), v("j")})),
                         ForKind::Vectorized)),
               loop("j", 32, st("C", {v("i"), v("j")}, ld("acc", {v("j")})), ForKind::Vectorized)})),
      ForKind::Parallel);
  LoweredFunc fn = func(w, make_allocate(buf("B.pack", {10, 32}, MemScope::Heap), make_seq({pack, compute})));
  std::string code = generate_kernel(fn).code;
  EXPECT_TRUE(contains(code, "rctune_alloc(sizeof(float) * 320)"));
  EXPECT_TRUE(contains(code, "UniqueToken<Kokkos::DefaultExecutionSpace> t_acc_token;"));
  EXPECT_TRUE(contains(code, "t_acc_token.acquire()"));
  EXPECT_TRUE(contains(code, "rctune_free(t_B_pack);"));
  EXPECT_EQ(check_against_reference(fn, w), "");
}

// Elementwise math in f64 (serial), and the math functions of every unary operator.
TEST(Kernel, UnaryMathMatchesReference) {
  Workload w;
  w.name = "math";
  w.tensors = {tensor("X", {3, 16}, DType::F64), tensor("U", {3, 16}), tensor("Y", {3, 16}, DType::F64),
               tensor("Z", {3, 16})};
  Expr x = ld("X", {v("i"), v("j")});
  Expr e = unary(UnOp::Gelu, x) + unary(UnOp::Sigmoid, x) + unary(UnOp::Rsqrt, x * x + f(1.0)) +
           unary(UnOp::Tanh, x) + unary(UnOp::Abs, x) + unary(UnOp::Relu, unary(UnOp::Neg, x)) +
           unary(UnOp::Sqrt, unary(UnOp::Abs, x)) + unary(UnOp::Log, f(1.0) + x * x) + unary(UnOp::Erf, x) +
           binary(BinOp::Min, x, f(0.25));
  Expr zx = ld("Y", {v("i"), v("j")});
  Expr ez = unary(UnOp::Gelu, ld("U", {v("i"), v("j")})) * f(0.5) + unary(UnOp::Sigmoid, zx);
  w.stages = {stage("Y", {{"i", 3}, {"j", 16}}, {}, ReduceOp::None, e),
              stage("Z", {{"i", 3}, {"j", 16}}, {}, ReduceOp::None, ez)};
  w.outputs = {"Y", "Z"};
  Stmt body = make_seq({loop("i", 3, loop("j", 16, st("Y", {v("i"), v("j")}, e))),
                        loop("i", 3, loop("j", 16, st("Z", {v("i"), v("j")}, ez)))});
  LoweredFunc fn = func(w, body);
  std::string code = generate_kernel(fn).code;
  EXPECT_TRUE(contains(code, "double rctune_gelu(double x)"));
  EXPECT_TRUE(contains(code, "float rctune_gelu(float x)"));
  EXPECT_TRUE(contains(code, "erf form"));
  EXPECT_EQ(check_against_reference(fn, w), "");
}

// Every unary math function on float32 vector lanes lowers to the emitted vector math (no scalar
// omp simd loop) and agrees with the reference, on 16 and 8 lanes, with and without -march=native.
TEST(Kernel, VectorizedMathStaysInVectorTypes) {
  Workload w;
  w.name = "vmath";
  w.tensors = {tensor("X", {2, 48}), tensor("Y", {2, 48})};
  Expr x = ld("X", {v("i"), v("j")});
  Expr e = unary(UnOp::Gelu, x) + unary(UnOp::Sigmoid, x) + unary(UnOp::Rsqrt, x * x + f(1.0)) +
           unary(UnOp::Tanh, x * f(3.0)) + unary(UnOp::Sqrt, unary(UnOp::Abs, x)) +
           unary(UnOp::Log, f(1.0) + x * x) + unary(UnOp::Erf, x * f(2.0)) + unary(UnOp::Exp, x * f(8.0));
  w.stages = {stage("Y", {{"i", 2}, {"j", 48}}, {}, ReduceOp::None, e)};
  w.outputs = {"Y"};
  LoweredFunc fn = func(w, loop("i", 2, loop("j", 48, st("Y", {v("i"), v("j")}, e), ForKind::Vectorized)));
  std::string code = generate_kernel(fn).code;
  for (const char* name : {"exp", "log", "sqrt", "tanh", "erf", "gelu", "sigmoid"})
    EXPECT_TRUE(contains(code, std::string(" v16f rctune_v") + name + "(v16f x)")) << name;
  EXPECT_TRUE(contains(code, "1.0f / rctune_vsqrt("));
  EXPECT_FALSE(contains(code, "#pragma omp simd"));
  EXPECT_FALSE(contains(code, "expf("));
  EXPECT_EQ(check_against_reference(fn, w), "");
  EXPECT_EQ(check_against_reference(fn, w, Target{}, "-O2 -march=native"), "");
  Target avx2;
  avx2.vector_bytes = 32;
  EXPECT_TRUE(
      contains(generate_kernel(fn, avx2).code, "static __attribute__((noinline)) v8f rctune_vgelu(v8f x)"));
  EXPECT_EQ(check_against_reference(fn, w, avx2, "-O2 -march=native"), "");
}

// Only the math functions that are used are emitted; float64 lanes keep the scalar omp simd loop.
TEST(Kernel, VectorMathOnlyWhenUsedAndOnlyForF32) {
  Workload w;
  w.name = "exp64";
  w.tensors = {tensor("X", {2, 16}, DType::F64), tensor("Y", {2, 16}, DType::F64)};
  Expr x = ld("X", {v("i"), v("j")});
  w.stages = {stage("Y", {{"i", 2}, {"j", 16}}, {}, ReduceOp::None, unary(UnOp::Exp, x))};
  w.outputs = {"Y"};
  LoweredFunc fn = func(
      w, loop("i", 2, loop("j", 16, st("Y", {v("i"), v("j")}, unary(UnOp::Exp, x)), ForKind::Vectorized)));
  std::string code = generate_kernel(fn).code;
  EXPECT_TRUE(contains(code, "exp has no f64 vector form here"));
  EXPECT_TRUE(contains(code, "#pragma omp simd"));
  EXPECT_FALSE(contains(code, "rctune_v"));
  EXPECT_EQ(check_against_reference(fn, w), "");

  Workload w32 = w;
  w32.tensors = {tensor("X", {2, 16}), tensor("Y", {2, 16})};
  LoweredFunc fn32 = func(w32, fn.body);
  std::string code32 = generate_kernel(fn32).code;
  EXPECT_TRUE(contains(code32, "rctune_vexp("));
  EXPECT_FALSE(contains(code32, "rctune_vlog"));
  EXPECT_FALSE(contains(code32, "rctune_vsqrt"));
  EXPECT_FALSE(contains(code32, "immintrin"));
}

// Vector lowering in f64 with max/abs/neg and a fused, divided index.
TEST(Kernel, FusedIndexAndF64VectorsMatchReference) {
  Workload w;
  w.name = "f64_vec";
  w.tensors = {tensor("X", {4, 8, 16}, DType::F64), tensor("Y", {4, 8, 16}, DType::F64)};
  auto val = [](Expr x) {
    return binary(BinOp::Max, unary(UnOp::Abs, unary(UnOp::Neg, x)) * f(0.5), x) + c(2);
  };
  w.stages = {stage("Y", {{"a", 4}, {"b", 8}, {"j", 16}}, {}, ReduceOp::None,
                    val(ld("X", {v("a"), v("b"), v("j")})))};
  w.outputs = {"Y"};
  Expr a = v("ab") / c(8), b = v("ab") % c(8);
  Stmt body = loop("ab", 32,
                   loop("j", 16, st("Y", {a, b, v("j")}, val(ld("X", {a, b, v("j")}))), ForKind::Vectorized),
                   ForKind::Parallel);
  LoweredFunc fn = func(w, body);
  std::string code = generate_kernel(fn).code;
  EXPECT_TRUE(contains(code, "typedef double v8d __attribute__((vector_size(64)));"));
  EXPECT_TRUE(contains(code, "ab / 8"));
  EXPECT_TRUE(contains(code, "ab % 8"));
  EXPECT_EQ(check_against_reference(fn, w), "");
}

TEST(Kernel, LargeUnrolledLoopGetsPragma) {
  Workload w = matmul_workload(2, 2, 200);
  Stmt body = loop("i", 2,
                   loop("j", 2,
                        make_seq({st("C", {v("i"), v("j")}, f(0.0)),
                                  loop("k", 200,
                                       st("C", {v("i"), v("j")},
                                          ld("C", {v("i"), v("j")}) +
                                              ld("A", {v("i"), v("k")}) * ld("B", {v("k"), v("j")})),
                                       ForKind::Unrolled)})));
  std::string code = generate_kernel(func(w, body)).code;
  EXPECT_TRUE(contains(code, "#pragma GCC unroll 16"));
}

TEST(Kernel, CudaTargetUsesThreadVectorRangeAndNoVectorTypes) {
  Workload w = matmul_workload(16, 96, 24);
  KernelSource ks =
      generate_kernel(func(w, register_tile_matmul(16, 96, 24, 8, 48, 16)), Target{Space::Cuda, 64});
  EXPECT_TRUE(contains(ks.code, "Kokkos::ThreadVectorRange("));
  EXPECT_TRUE(contains(ks.code, "Kokkos::TeamPolicy"));
  EXPECT_FALSE(contains(ks.code, "vector_size"));
  EXPECT_TRUE(ks.uses_kokkos);
}

// The CUDA flavour is portable Kokkos code: on this host build it compiles and computes the same.
TEST(Kernel, CudaFlavourRunsCorrectlyOnHostKokkos) {
  Workload w = matmul_workload(12, 32, 10);
  Stmt pack = loop("k", 10, loop("j", 32, st("B.pack", {v("k"), v("j")}, ld("B", {v("k"), v("j")}))));
  LoweredFunc fn =
      func(w, make_allocate(buf("B.pack", {10, 32}, MemScope::Heap),
                            make_seq({pack, register_tile_matmul(12, 32, 10, 4, 16, 16, "B.pack")})));
  KernelSource ks = generate_kernel(fn, Target{Space::Cuda, 64});
  EXPECT_TRUE(contains(ks.code, "kokkos_malloc"));
  EXPECT_TRUE(contains(ks.code, ":serial\""));
  EXPECT_EQ(check_against_reference(fn, w, Target{Space::Cuda, 64}), "");
}

TEST(Kernel, RejectsEmptyBodyAndBadVectorWidth) {
  Workload w = matmul_workload(2, 2, 2);
  LoweredFunc fn = func(w, Stmt());
  EXPECT_THROW(generate_kernel(fn), std::invalid_argument);
  fn.body = st("C", {c(0), c(0)}, f(0.0));
  EXPECT_THROW(generate_kernel(fn, Target{Space::Host, 48}), std::invalid_argument);
}

TEST(Kernel, AccessWithWrongRankIsAnError) {
  Workload w = matmul_workload(2, 2, 2);
  LoweredFunc fn = func(w, st("C", {c(0)}, f(1.0)));
  try {
    generate_kernel(fn);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "C (rank 2) with 1 indices")) << e.what();
  }
}

TEST(Kernel, AccessToUndeclaredBufferIsAnError) {
  Workload w = matmul_workload(2, 2, 2);
  LoweredFunc fn = func(w, st("C", {c(0), c(0)}, ld("nowhere", {c(0)})));
  try {
    generate_kernel(fn);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "nowhere"));
  }
}

}  // namespace
}  // namespace rctune::codegen::testing
