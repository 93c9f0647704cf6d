#include <gtest/gtest.h>

#include "rctune/ir/stmt.h"

using namespace rctune::ir;

namespace {
Stmt matmul_update() {
  return make_store("C", {var("i"), var("j")},
                    load("C", {var("i"), var("j")}) + load("A", {var("i"), var("k")}) * load("B", {var("k"), var("j")}));
}
}  // namespace

TEST(Stmt, PrinterShowsLoopKindsAndBuffers) {
  Stmt body = make_for("i", 4, ForKind::Parallel, BindLevel::None,
                       make_allocate(BufferDecl{"acc", DType::F32, {8}, MemScope::Local},
                                     make_for("j", 8, ForKind::Vectorized, BindLevel::None, matmul_update())));
  EXPECT_EQ(to_string(body),
            "for i in 0..4 parallel:\n"
            "  alloc acc: f32[8] local\n"
            "  for j in 0..8 vectorized:\n"
            "    C[i, j] = C[i, j] + A[i, k] * B[k, j]\n");
}

TEST(Stmt, PrinterShowsBindingsGuardsAndSignature) {
  LoweredFunc f;
  f.name = "tiny";
  f.params = {BufferDecl{"A", DType::F64, {3}, MemScope::Global}};
  f.outputs = {"A"};
  f.body = make_for("t", 3, ForKind::Serial, BindLevel::League,
                    make_if(binary(BinOp::LT, var("t"), int_imm(2)), make_store("A", {var("t")}, float_imm(1))));
  EXPECT_EQ(to_string(f),
            "kernel tiny(A: f64[3]) -> A\n"
            "  for t in 0..3 bind(league):\n"
            "    if t < 2:\n"
            "      A[t] = 1.0\n");
}

TEST(Stmt, SeqFlattensAndDropsEmpty) {
  Stmt a = make_store("X", {int_imm(0)}, float_imm(1));
  Stmt s = make_seq({make_seq({a, a}), Stmt(), a});
  ASSERT_NE(s.as<Seq>(), nullptr);
  EXPECT_EQ(s.as<Seq>()->stmts.size(), 3u);
  EXPECT_EQ(make_seq({a}).get(), a.get());
}

TEST(Stmt, ConstantGuardFoldsAway) {
  Stmt a = make_store("X", {int_imm(0)}, float_imm(1));
  EXPECT_EQ(make_if(int_imm(1), a).get(), a.get());
  EXPECT_FALSE(make_if(int_imm(0), a));
}

TEST(Stmt, MutatorRewritesExpressionsAndKeepsUnchangedNodes) {
  struct Rename : StmtMutator {
    Expr mutate_expr(const Expr& e) override { return substitute(e, {{"k", var("kk")}}); }
  } r;
  Stmt loop = make_for("k", 16, ForKind::Serial, BindLevel::None, matmul_update());
  Stmt out = r.mutate(loop);
  EXPECT_NE(out.get(), loop.get());
  EXPECT_EQ(to_string(out), "for k in 0..16:\n  C[i, j] = C[i, j] + A[i, kk] * B[kk, j]\n");
  struct Identity : StmtMutator {} id;
  EXPECT_EQ(id.mutate(loop).get(), loop.get());
}
