#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "rctune/ir/analysis.h"

using namespace rctune::ir;

namespace {

// i in [0, 10), j in [0, 4).
const std::vector<VarRange> kRanges = {{"i", 10}, {"j", 4}};

std::string interval_text(const Expr& e, const IntervalRules& rules = {}) {
  auto r = interval_of(e, kRanges, rules);
  if (!r) return "unknown";
  return "[" + std::to_string(r->lo) + ", " + std::to_string(r->hi) + "]";
}

}  // namespace

TEST(Interval, OfConstantIsThePoint) { EXPECT_EQ(interval_text(int_imm(-3)), "[-3, -3]"); }

TEST(Interval, OfKnownVariableIsZeroToExtentMinusOne) { EXPECT_EQ(interval_text(var("i")), "[0, 9]"); }

TEST(Interval, OfUnknownVariableIsUnknownAndSoIsEverythingUsingIt) {
  EXPECT_EQ(interval_text(var("k")), "unknown");
  EXPECT_EQ(interval_text(var("i") + var("k")), "unknown");
  EXPECT_EQ(interval_text(binary(BinOp::Max, var("k"), int_imm(0))), "unknown");
}

TEST(Interval, AddAndSubtractCombineOppositeEnds) {
  EXPECT_EQ(interval_text(var("i") + var("j")), "[0, 12]");
  EXPECT_EQ(interval_text(var("i") - var("j")), "[-3, 9]");
}

TEST(Interval, MultiplyTakesTheExtremeProducts) {
  EXPECT_EQ(interval_text(var("i") * int_imm(-2)), "[-18, 0]");
  EXPECT_EQ(interval_text((var("i") - int_imm(5)) * (var("j") - int_imm(1))), "[-10, 8]");
}

TEST(Interval, OverflowingBoundIsUnknown) {
  EXPECT_EQ(interval_text(var("i") * int_imm(INT64_MAX)), "unknown");
  EXPECT_EQ(interval_text(int_imm(INT64_MIN) - var("i")), "unknown");
}

TEST(Interval, DivisionByPositiveConstantFloors) {
  EXPECT_EQ(interval_text((var("i") - int_imm(5)) / int_imm(2)), "[-3, 2]");
  EXPECT_EQ(interval_text(var("i") / var("j")), "unknown");
  EXPECT_EQ(interval_text(binary(BinOp::Div, var("i"), int_imm(-2))), "unknown");
}

TEST(Interval, ModuloWithinOnePeriodIsExactByDefault) {
  EXPECT_EQ(interval_text(var("j") + int_imm(12), {}), "[12, 15]");
  EXPECT_EQ(interval_text((var("j") + int_imm(12)) % int_imm(10)), "[2, 5]");
  EXPECT_EQ(interval_text((var("i") - int_imm(10)) % int_imm(10)), "[0, 9]");
  EXPECT_EQ(interval_text(var("i") % int_imm(16)), "[0, 9]");
}

TEST(Interval, ModuloWithoutExactModOnlyPassesIntervalsInsideZeroToDivisor) {
  IntervalRules rules;
  rules.exact_mod = false;
  EXPECT_EQ(interval_text((var("j") + int_imm(12)) % int_imm(10), rules), "[0, 9]");
  EXPECT_EQ(interval_text(var("i") % int_imm(16), rules), "[0, 9]");
}

TEST(Interval, MinAndMaxTakeTheBoundsPairwise) {
  EXPECT_EQ(interval_text(binary(BinOp::Min, var("i"), var("j") + int_imm(2))), "[0, 5]");
  EXPECT_EQ(interval_text(binary(BinOp::Max, var("i"), var("j") + int_imm(2))), "[2, 9]");
}

TEST(Interval, ComparisonsAreZeroOrOneUnlessBooleansAreOff) {
  Expr c = binary(BinOp::LT, var("i"), var("j"));
  EXPECT_EQ(interval_text(c), "[0, 1]");
  EXPECT_EQ(interval_text(c, kCodegenIntervalRules), "unknown");
  EXPECT_EQ(interval_text(c, kFeatureIntervalRules), "unknown");
}

TEST(Interval, SelectIsTheHullOfItsValuesOnlyWithSelectHull) {
  Expr s = select(binary(BinOp::LT, var("i"), int_imm(5)), var("j"), var("i") + int_imm(20));
  EXPECT_EQ(interval_text(s), "unknown");
  EXPECT_EQ(interval_text(s, kFeatureIntervalRules), "[0, 29]");
}

TEST(Interval, NegationFlipsTheBoundsOnlyWithNegation) {
  Expr n = unary(UnOp::Neg, var("i") + int_imm(1));
  EXPECT_EQ(interval_text(n), "unknown");
  EXPECT_EQ(interval_text(n, kCodegenIntervalRules), "[-10, -1]");
}

TEST(Interval, LoadsFloatsAndOtherFunctionsAreUnknown) {
  EXPECT_EQ(interval_text(load("A", {var("i")})), "unknown");
  EXPECT_EQ(interval_text(float_imm(1.0)), "unknown");
  EXPECT_EQ(interval_text(unary(UnOp::Abs, var("i")), kCodegenIntervalRules), "unknown");
}

TEST(Interval, VariableFunctionGivesArbitraryRanges) {
  auto r = interval_of(var("x") * int_imm(3), [](const std::string& n) -> std::optional<Interval> {
    if (n == "x") return Interval{2, 5};
    return std::nullopt;
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->lo, 6);
  EXPECT_EQ(r->hi, 15);
}

TEST(Interval, BoundOfAgreesWithDefaultRules) {
  int64_t lo = 0, hi = 0;
  ASSERT_TRUE(bound_of((var("j") + int_imm(12)) % int_imm(10), kRanges, &lo, &hi));
  EXPECT_EQ(lo, 2);
  EXPECT_EQ(hi, 5);
}

TEST(Affine, DecomposesSumsAndConstantProducts) {
  Affine a = to_affine(var("i") * int_imm(4) + var("j") - var("i") + int_imm(7));
  ASSERT_EQ(a.terms.size(), 2u);
  EXPECT_EQ(a.terms[0].var, "i");
  EXPECT_EQ(a.coef_of("i"), 3);
  EXPECT_EQ(a.coef_of("j"), 1);
  EXPECT_EQ(a.coef_of("k"), 0);
  EXPECT_EQ(a.constant, 7);
}

TEST(Affine, CancelledTermsDisappear) {
  Affine a = to_affine(var("i") + var("j") - var("i"));
  ASSERT_EQ(a.terms.size(), 1u);
  EXPECT_EQ(a.terms[0].var, "j");
  EXPECT_TRUE(to_affine(var("i") - var("i") + int_imm(2)).is_constant());
}

TEST(Affine, NegationScalesByMinusOne) {
  Affine a = to_affine(unary(UnOp::Neg, var("i") * int_imm(2) + int_imm(1)));
  EXPECT_EQ(a.coef_of("i"), -2);
  EXPECT_EQ(a.constant, -1);
}

TEST(Affine, NonAffinePartsAreAtomsKeptWhole) {
  Expr div = var("i") / int_imm(4);
  Affine a = to_affine(div * int_imm(2) + var("j") * var("i") + div);
  ASSERT_EQ(a.terms.size(), 2u);
  EXPECT_TRUE(a.terms[0].var.empty());
  EXPECT_EQ(to_string(a.terms[0].expr), "i / 4");
  EXPECT_EQ(a.terms[0].coef, 3);
  EXPECT_EQ(to_string(a.terms[1].expr), "j * i");
  EXPECT_EQ(a.coef_of("i"), 0);
  EXPECT_TRUE(a.var_in_atom("i"));
  EXPECT_TRUE(a.var_in_atom("j"));
  EXPECT_FALSE(a.var_in_atom("k"));
}

TEST(Affine, DivisionOfConstantsFolds) {
  Affine a = to_affine(binary(BinOp::Div, int_imm(-7), int_imm(2)));
  EXPECT_TRUE(a.is_constant());
  EXPECT_EQ(a.constant, -4);
}

TEST(Affine, WithoutDropsOneVariable) {
  Affine a = to_affine(var("i") + var("j") * int_imm(3) + int_imm(1)).without("j");
  EXPECT_EQ(a.coef_of("j"), 0);
  EXPECT_EQ(a.coef_of("i"), 1);
  EXPECT_EQ(a.constant, 1);
}

TEST(Affine, FlatIndexIsRowMajor) {
  Affine a = flat_index({var("i") + int_imm(1), var("j")}, {10, 4});
  EXPECT_EQ(a.coef_of("i"), 4);
  EXPECT_EQ(a.coef_of("j"), 1);
  EXPECT_EQ(a.constant, 4);
}

TEST(Loads, ForEachLoadVisitsOuterLoadsBeforeTheirIndicesAndLeftToRight) {
  Expr e = load("A", {load("I", {var("i")})}) + load("B", {var("j")}) * load("A", {var("j")});
  std::vector<std::string> order;
  for_each_load(e, [&](const Load& l) { order.push_back(to_string(load(l.buffer, l.indices))); });
  EXPECT_EQ(order, (std::vector<std::string>{"A[I[i]]", "I[i]", "B[j]", "A[j]"}));
}

TEST(Loads, LoadIndicesOfKeepsOnlyTheNamedBuffer) {
  Expr e = load("A", {var("i")}) + load("B", {var("j")}) * load("A", {var("j") + int_imm(1)});
  auto idx = load_indices_of(e, "A");
  ASSERT_EQ(idx.size(), 2u);
  EXPECT_EQ(to_string(idx[0][0]), "i");
  EXPECT_EQ(to_string(idx[1][0]), "j + 1");
  EXPECT_TRUE(load_indices_of(e, "C").empty());
}

TEST(Vars, ContainsVarLooksInsideLoadsAndSelects) {
  Expr e = select(binary(BinOp::LT, var("i"), int_imm(3)), load("A", {var("j")}), float_imm(0));
  EXPECT_TRUE(contains_var(e, "i"));
  EXPECT_TRUE(contains_var(e, "j"));
  EXPECT_FALSE(contains_var(e, "k"));
}

TEST(Precedence, TighterOperatorsHaveLargerNumbers) {
  EXPECT_GT(binop_precedence(BinOp::Mul), binop_precedence(BinOp::Add));
  EXPECT_GT(binop_precedence(BinOp::Add), binop_precedence(BinOp::LT));
  EXPECT_GT(binop_precedence(BinOp::LT), binop_precedence(BinOp::EQ));
  EXPECT_GT(binop_precedence(BinOp::EQ), binop_precedence(BinOp::And));
  EXPECT_GT(binop_precedence(BinOp::And), binop_precedence(BinOp::Or));
  EXPECT_GT(kPrecedenceUnary, binop_precedence(BinOp::Div));
  EXPECT_EQ(binop_precedence(BinOp::Max), kPrecedenceAtom);
}
