#include <gtest/gtest.h>

#include "rctune/ir/expr.h"

using namespace rctune::ir;

TEST(Expr, PrinterUsesMinimalParentheses) {
  Expr e = load("A", {var("i"), var("k")}) * load("B", {var("k"), var("j")});
  EXPECT_EQ(to_string(e), "A[i, k] * B[k, j]");
  Expr f = (var("a") - (var("b") - var("c"))) * (var("d") + var("e"));
  EXPECT_EQ(to_string(f), "(a - (b - c)) * (d + e)");
  EXPECT_EQ(to_string(binary(BinOp::Max, var("x"), float_imm(0))), "max(x, 0.0)");
  EXPECT_EQ(to_string(unary(UnOp::Exp, var("x") - var("m"))), "exp(x - m)");
}

TEST(Expr, ConstantsFoldWhenBuilt) {
  EXPECT_EQ(to_string(int_imm(2) + int_imm(3)), "5");
  EXPECT_EQ(to_string(var("i") * int_imm(1) + int_imm(0)), "i");
  EXPECT_EQ(to_string(int_imm(-7) / int_imm(2)), "-4");  // floor division
  EXPECT_EQ(to_string(int_imm(-7) % int_imm(2)), "1");
}

TEST(Expr, SimplifyCollectsAffineTerms) {
  Expr e = var("io") * int_imm(8) + var("ii") + var("io") * int_imm(8);
  EXPECT_EQ(to_string(simplify(e)), "io * 16 + ii");
  Expr z = var("i") - var("i") + int_imm(3);
  EXPECT_EQ(to_string(simplify(z)), "3");
}

TEST(Expr, SimplifyDividesSplitIndexWhenInnerPartIsBounded) {
  // (io * 8 + ii) / 8 == io and % 8 == ii when 0 <= ii < 8.
  Expr x = var("io") * int_imm(8) + var("ii");
  std::vector<VarRange> r = {{"io", 16}, {"ii", 8}};
  EXPECT_EQ(to_string(simplify(x / int_imm(8), r)), "io");
  EXPECT_EQ(to_string(simplify(x % int_imm(8), r)), "ii");
  // Without the bound of ii nothing can be assumed.
  EXPECT_EQ(to_string(simplify(x / int_imm(8))), "io + ii / 8");
}

TEST(Expr, SimplifyDecidesComparisonsFromBounds) {
  std::vector<VarRange> r = {{"io", 4}, {"ii", 8}};
  EXPECT_EQ(to_string(simplify(binary(BinOp::LT, var("io") * int_imm(8) + var("ii"), int_imm(32)), r)), "1");
  EXPECT_EQ(to_string(simplify(binary(BinOp::LT, var("io") * int_imm(8) + var("ii"), int_imm(30)), r)),
            "io * 8 + ii < 30");
}

TEST(Expr, BoundOfAffineExpression) {
  int64_t lo = 0, hi = 0;
  std::vector<VarRange> r = {{"h", 56}, {"r", 3}};
  ASSERT_TRUE(bound_of(var("h") * int_imm(2) + var("r") - int_imm(1), r, &lo, &hi));
  EXPECT_EQ(lo, -1);
  EXPECT_EQ(hi, 111);
  EXPECT_FALSE(bound_of(var("unknown") + int_imm(1), r, &lo, &hi));
}

TEST(Expr, SubstituteReplacesOnlyNamedVariables) {
  Expr e = load("A", {var("i"), var("k")});
  Expr s = substitute(e, {{"i", var("io") * int_imm(4) + var("ii")}});
  EXPECT_EQ(to_string(s), "A[io * 4 + ii, k]");
}

TEST(Expr, StructuralEqualityComparesShapeNotIdentity) {
  Expr a = var("x") + float_imm(1.5);
  Expr b = var("x") + float_imm(1.5);
  EXPECT_FALSE(a.same_as(b));
  EXPECT_TRUE(structural_equal(a, b));
  EXPECT_FALSE(structural_equal(a, var("x") + float_imm(2.5)));
}

TEST(Expr, FreeVarsInFirstOccurrenceOrder) {
  Expr e = load("X", {var("n"), var("c"), var("h") * int_imm(2) + var("r")}) * load("W", {var("k"), var("c")});
  EXPECT_EQ(free_vars(e), (std::vector<std::string>{"n", "c", "h", "r", "k"}));
}
