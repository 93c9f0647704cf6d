#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "rctune/ir/parser.h"

using namespace rctune::ir;

namespace {

std::vector<Tensor> matmul_tensors() {
  return {{"A", {128, 64}, DType::F32}, {"B", {64, 32}, DType::F32}, {"C", {128, 32}, DType::F32}};
}

// The ParseError of `f`, or a failure when it does not throw one.
template <class F>
ParseError error_of(F f) {
  try {
    f();
  } catch (const ParseError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a ParseError";
  return ParseError("none", 0, 0, "");
}

}  // namespace

TEST(Parser, MatmulStageHasAxesReductionAndBody) {
  Stage s = parse_stage("C[i, j] += A[i, k] * B[k, j]", matmul_tensors());
  EXPECT_EQ(s.output, "C");
  EXPECT_EQ(s.op, ReduceOp::Sum);
  ASSERT_EQ(s.axes.size(), 2u);
  EXPECT_EQ(s.axes[0].name, "i");
  EXPECT_EQ(s.axes[0].extent, 128);
  EXPECT_EQ(s.axes[1].name, "j");
  EXPECT_EQ(s.axes[1].extent, 32);
  ASSERT_EQ(s.reduce_axes.size(), 1u);
  EXPECT_EQ(s.reduce_axes[0].name, "k");
  EXPECT_EQ(s.reduce_axes[0].extent, 64);
  EXPECT_EQ(to_string(s.body), "A[i, k] * B[k, j]");
  EXPECT_EQ(s.inputs(), (std::vector<std::string>{"A", "B"}));
}

TEST(Parser, CompactSpacingParsesTheSame) {
  Stage a = parse_stage("C[i,j]+=A[i,k]*B[k,j]", matmul_tensors());
  Stage b = parse_stage("  C[ i , j ]  +=  A[i, k]  *  B[k, j]  ", matmul_tensors());
  EXPECT_TRUE(structural_equal(a.body, b.body));
}

TEST(Parser, StridedPaddedConvolutionIndices) {
  std::vector<Tensor> t = {
      {"X", {1, 3, 32, 32}, DType::F32}, {"W", {8, 3, 3, 3}, DType::F32}, {"Y", {1, 8, 16, 16}, DType::F32}};
  Stage s = parse_stage("Y[n,k,h,w] += X[n,c,h*2+r-1,w*2+s-1] * W[k,c,r,s]", t);
  ASSERT_EQ(s.reduce_axes.size(), 3u);
  EXPECT_EQ(s.reduce_axes[0].name, "c");
  EXPECT_EQ(s.reduce_axes[0].extent, 3);
  EXPECT_EQ(s.reduce_axes[1].name, "r");
  EXPECT_EQ(s.reduce_axes[1].extent, 3);
  EXPECT_EQ(s.reduce_axes[2].name, "s");
  EXPECT_EQ(to_string(s.body), "X[n, c, h * 2 + r - 1, w * 2 + s - 1] * W[k, c, r, s]");
}

TEST(Parser, MaxAndMinReductions) {
  std::vector<Tensor> t = {{"X", {4, 8}, DType::F32}, {"M", {4}, DType::F32}};
  EXPECT_EQ(parse_stage("M[i] max= X[i,j]", t).op, ReduceOp::Max);
  EXPECT_EQ(parse_stage("M[i] min= X[i,j]", t).op, ReduceOp::Min);
}

TEST(Parser, ElementwiseStageWithFunction) {
  std::vector<Tensor> t = {{"X", {4, 8}, DType::F32}, {"M", {4}, DType::F32}, {"Y", {4, 8}, DType::F32}};
  Stage s = parse_stage("Y[i,j] = exp(X[i,j] - M[i])", t);
  EXPECT_EQ(s.op, ReduceOp::None);
  EXPECT_TRUE(s.reduce_axes.empty());
  EXPECT_EQ(to_string(s.body), "exp(X[i, j] - M[i])");
}

TEST(Parser, PrecedenceAndParentheses) {
  std::vector<Tensor> t = {{"X", {4}, DType::F32}, {"Y", {4}, DType::F32}};
  Stage a = parse_stage("Y[i] = X[i] + X[i] * 2 - X[i] / 4", t);
  auto sub = a.body.as<Binary>();
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->op, BinOp::Sub);
  EXPECT_EQ(sub->b.as<Binary>()->op, BinOp::Div);
  EXPECT_EQ(sub->a.as<Binary>()->op, BinOp::Add);
  EXPECT_EQ(sub->a.as<Binary>()->b.as<Binary>()->op, BinOp::Mul);
  Stage b = parse_stage("Y[i] = (X[i] + 1) * 2", t);
  EXPECT_EQ(b.body.as<Binary>()->op, BinOp::Mul);
  EXPECT_EQ(b.body.as<Binary>()->a.as<Binary>()->op, BinOp::Add);
}

TEST(Parser, IntegerConstantsInValuesBecomeFloats) {
  std::vector<Tensor> t = {{"X", {4}, DType::F32}, {"Y", {4}, DType::F32}};
  Stage s = parse_stage("Y[i] = X[i] / 2", t);
  auto c = s.body.as<Binary>()->b.as<FloatImm>();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->value, 2.0);
}

TEST(Parser, FloatConstantForms) {
  std::vector<Tensor> t = {{"X", {4}, DType::F32}, {"Y", {4}, DType::F32}};
  for (auto [text, v] : std::vector<std::pair<std::string, double>>{
           {"0.5", 0.5}, {".5", 0.5}, {"1e-5", 1e-5}, {"2.5E+2", 250.0}, {"1.0f", 1.0}, {"3.", 3.0}}) {
    Stage s = parse_stage("Y[i] = X[i] * " + text, t);
    auto c = s.body.as<Binary>()->b.as<FloatImm>();
    ASSERT_TRUE(c) << text;
    EXPECT_DOUBLE_EQ(c->value, v) << text;
  }
}

TEST(Parser, UnaryMinusOnConstantsAndExpressions) {
  std::vector<Tensor> t = {{"X", {4}, DType::F32}, {"Y", {4}, DType::F32}};
  Stage a = parse_stage("Y[i] = -2.0 * X[i]", t);
  EXPECT_EQ(a.body.as<Binary>()->a.as<FloatImm>()->value, -2.0);
  Stage b = parse_stage("Y[i] = -X[i]", t);
  ASSERT_TRUE(b.body.as<Unary>());
  EXPECT_EQ(b.body.as<Unary>()->op, UnOp::Neg);
}

TEST(Parser, EveryKnownFunctionParses) {
  std::vector<Tensor> t = {{"X", {4}, DType::F32}, {"Y", {4}, DType::F32}};
  for (const auto& f : known_functions()) {
    std::string args = (f == "max" || f == "min") ? "(X[i], 0.0)" : "(X[i])";
    Stage s = parse_stage("Y[i] = " + f + args, t);
    EXPECT_EQ(to_string(s.body), f + (f == "max" || f == "min" ? "(X[i], 0.0)" : "(X[i])"));
  }
}

TEST(Parser, IndexDivisionAndModuloByConstants) {
  std::vector<Tensor> t = {{"X", {64}, DType::F32}, {"Y", {8, 8}, DType::F32}};
  Stage s = parse_stage("Y[i, j] = X[i * 8 + j % 8 + j / 8]", t);
  EXPECT_EQ(to_string(s.body), "X[i * 8 + j % 8 + j / 8]");
}

TEST(Parser, NegativeIndexConstants) {
  std::vector<Tensor> t = {{"X", {64}, DType::F32}, {"Y", {64}, DType::F32}};
  Stage s = parse_stage("Y[i] = X[-1 + i]", t);
  EXPECT_EQ(s.body.as<Load>()->indices[0].as<Binary>()->a.as<IntImm>()->value, -1);
}

TEST(Parser, LhsVariableMayBeBroadcast) {
  std::vector<Tensor> t = {{"b", {8}, DType::F32}, {"Y", {4, 8}, DType::F32}};
  Stage s = parse_stage("Y[i, j] = b[j]", t);
  EXPECT_EQ(s.axes.size(), 2u);
  EXPECT_EQ(s.axes[0].extent, 4);
}

TEST(Parser, WhereClauseGivesReductionExtent) {
  std::vector<Tensor> t = {{"X", {64}, DType::F32}, {"Y", {8}, DType::F32}};
  Stage s = parse_stage("Y[i] += X[i * 8 + r] where r < 8", t);
  ASSERT_EQ(s.reduce_axes.size(), 1u);
  EXPECT_EQ(s.reduce_axes[0].extent, 8);
}

TEST(Parser, WhereClauseOverridesDirectUse) {
  std::vector<Tensor> t = {{"X", {4, 64}, DType::F32}, {"Y", {4}, DType::F32}};
  Stage s = parse_stage("Y[i] += X[i, k] where k < 16", t);
  EXPECT_EQ(s.reduce_axes[0].extent, 16);
}

TEST(Parser, CommentsAreIgnored) {
  Stage s = parse_stage("C[i, j] += A[i, k] * B[k, j]    # reduce over k < 64", matmul_tensors());
  EXPECT_EQ(s.reduce_axes.size(), 1u);
}

TEST(Parser, TensorDeclaration) {
  Tensor t = parse_tensor_decl("A: f32[512, 256]");
  EXPECT_EQ(t.name, "A");
  EXPECT_EQ(t.dtype, DType::F32);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{512, 256}));
  EXPECT_EQ(parse_tensor_decl("X : f64[3]").dtype, DType::F64);
  EXPECT_EQ(parse_tensor_type("B", "float64[2, 3, 4]").shape.size(), 3u);
}

// ---------------------------------------------------------------- errors

TEST(ParserErrors, UnknownTensorNamesItAndTheDeclaredOnes) {
  auto e = error_of([] { parse_stage("C[i, j] += Q[i, k] * B[k, j]", matmul_tensors()); });
  EXPECT_EQ(e.line(), 1);
  EXPECT_EQ(e.column(), 12);
  EXPECT_NE(e.reason().find("unknown tensor 'Q'"), std::string::npos);
  EXPECT_NE(e.reason().find("A, B, C"), std::string::npos);
  std::string what = e.what();
  EXPECT_NE(what.find("C[i, j] += Q[i, k] * B[k, j]\n               ^"), std::string::npos) << what;
}

TEST(ParserErrors, UnknownOutputTensorIsNotCreated) {
  auto e = error_of([] { parse_stage("D[i, j] = A[i, j]", matmul_tensors()); });
  EXPECT_EQ(e.column(), 1);
  EXPECT_NE(e.reason().find("unknown tensor 'D'"), std::string::npos);
}

TEST(ParserErrors, WrongNumberOfIndices) {
  auto e = error_of([] { parse_stage("C[i, j] += A[i, k, j] * B[k, j]", matmul_tensors()); });
  EXPECT_NE(e.reason().find("'A' has 2 dimensions, but 3 indices are given"), std::string::npos) << e.what();
  auto l = error_of([] { parse_stage("C[i] += A[i, k] * B[k, i]", matmul_tensors()); });
  EXPECT_NE(l.reason().find("'C' has 2 dimensions, but the left-hand side has 1 index"), std::string::npos)
      << l.what();
}

TEST(ParserErrors, UnknownFunctionListsKnownOnes) {
  auto e = error_of([] { parse_stage("C[i, j] = softplus(A[i, j])", matmul_tensors()); });
  EXPECT_NE(e.reason().find("unknown function 'softplus'"), std::string::npos);
  EXPECT_NE(e.reason().find("exp"), std::string::npos);
  EXPECT_EQ(e.column(), 11);
}

TEST(ParserErrors, WrongArity) {
  auto e = error_of([] { parse_stage("C[i, j] = max(A[i, j])", matmul_tensors()); });
  EXPECT_NE(e.reason().find("takes 2 arguments, got 1"), std::string::npos);
}

TEST(ParserErrors, ReductionWithoutReductionVariable) {
  auto e = error_of([] { parse_stage("C[i, j] += A[i, j]", matmul_tensors()); });
  EXPECT_NE(e.reason().find("'+=' reduces"), std::string::npos);
  EXPECT_EQ(e.column(), 9);
}

TEST(ParserErrors, AssignmentWithRhsOnlyVariable) {
  auto e = error_of([] { parse_stage("C[i, j] = A[i, k] * B[k, j]", matmul_tensors()); });
  EXPECT_NE(e.reason().find("'k' occurs only on the right-hand side"), std::string::npos);
  EXPECT_EQ(e.column(), 16);
}

TEST(ParserErrors, ReductionExtentCannotBeInferred) {
  std::vector<Tensor> t = {{"X", {64}, DType::F32}, {"Y", {8}, DType::F32}};
  auto e = error_of([&] { parse_stage("Y[i] += X[i * 8 + r]", t); });
  EXPECT_NE(e.reason().find("cannot infer the extent of reduction variable 'r'"), std::string::npos);
  EXPECT_NE(e.reason().find("where r < N"), std::string::npos);
}

TEST(ParserErrors, ReductionExtentsDisagree) {
  std::vector<Tensor> t = {{"A", {4, 8}, DType::F32}, {"B", {16, 4}, DType::F32}, {"C", {4, 4}, DType::F32}};
  auto e = error_of([&] { parse_stage("C[i, j] += A[i, k] * B[k, j]", t); });
  EXPECT_NE(e.reason().find("'k'"), std::string::npos);
  EXPECT_NE(e.reason().find("extent 16"), std::string::npos);
  EXPECT_NE(e.reason().find("extent 8"), std::string::npos);
}

TEST(ParserErrors, LhsIndicesMustBeDistinctPlainVariables) {
  auto a = error_of([] { parse_stage("C[i, i] = A[i, i]", matmul_tensors()); });
  EXPECT_NE(a.reason().find("appears twice"), std::string::npos);
  auto b = error_of([] { parse_stage("C[i + 1, j] = A[i, j]", matmul_tensors()); });
  EXPECT_NE(b.reason().find("plain variables"), std::string::npos);
}

TEST(ParserErrors, NonAffineIndex) {
  std::vector<Tensor> t = {{"X", {64}, DType::F32}, {"Y", {8, 8}, DType::F32}};
  auto a = error_of([&] { parse_stage("Y[i, j] = X[i * j]", t); });
  EXPECT_NE(a.reason().find("affine"), std::string::npos);
  auto b = error_of([&] { parse_stage("Y[i, j] = X[i / j]", t); });
  EXPECT_NE(b.reason().find("positive integer constant"), std::string::npos);
  auto c = error_of([&] { parse_stage("Y[i, j] = X[i * 0.5]", t); });
  EXPECT_NE(c.reason().find("integers"), std::string::npos);
}

TEST(ParserErrors, IndexVariableUsedAsValue) {
  auto e = error_of([] { parse_stage("C[i, j] = A[i, j] * i", matmul_tensors()); });
  EXPECT_NE(e.reason().find("index variable 'i' cannot be used as a value"), std::string::npos);
}

TEST(ParserErrors, ReadingOwnOutput) {
  auto e = error_of([] { parse_stage("C[i, j] += C[i, j] * A[i, k]", matmul_tensors()); });
  EXPECT_NE(e.reason().find("cannot read its own output"), std::string::npos);
}

TEST(ParserErrors, SyntaxErrors) {
  auto a = error_of([] { parse_stage("C[i, j] += A[i, k] * ", matmul_tensors()); });
  EXPECT_NE(a.reason().find("expected an expression"), std::string::npos) << a.what();
  auto b = error_of([] { parse_stage("C[i, j] += (A[i, k] * B[k, j]", matmul_tensors()); });
  EXPECT_NE(b.reason().find("expected ')'"), std::string::npos) << b.what();
  auto c = error_of([] { parse_stage("C[i, j] := A[i, j]", matmul_tensors()); });
  EXPECT_NE(c.reason().find("expected '=', '+=', 'max=' or 'min='"), std::string::npos) << c.what();
  auto d = error_of([] { parse_stage("C[i, j] = A[i, j] $ 2", matmul_tensors()); });
  EXPECT_NE(d.reason().find("unexpected character '$'"), std::string::npos) << d.what();
  auto f = error_of([] { parse_stage("C[i, j] = A[i, j] B[i, j]", matmul_tensors()); });
  EXPECT_NE(f.reason().find("unexpected 'B'"), std::string::npos) << f.what();
}

TEST(ParserErrors, LineOffsetShiftsReportedLine) {
  auto e = error_of([] { parse_stage("C[i, j] += Q[i, k]", matmul_tensors(), 41); });
  EXPECT_EQ(e.line(), 42);
  auto f = error_of([] { parse_stage("C[i, j] += Q[i, k]", matmul_tensors(), SourcePos{9, 6}); });
  EXPECT_EQ(f.line(), 10);
  EXPECT_EQ(f.column(), 18);
}

TEST(ParserErrors, BadDeclarations) {
  auto a = error_of([] { parse_tensor_decl("A: f16[4]"); });
  EXPECT_NE(a.reason().find("unknown dtype 'f16'"), std::string::npos);
  auto b = error_of([] { parse_tensor_decl("A: f32[4, 0]"); });
  EXPECT_NE(b.reason().find("must be positive"), std::string::npos);
  auto c = error_of([] { parse_tensor_decl("A: f32[]"); });
  EXPECT_NE(c.reason().find("at least one dimension"), std::string::npos);
  auto d = error_of([] { parse_tensor_decl("A: f32[4, x]"); });
  EXPECT_NE(d.reason().find("expected a positive integer extent"), std::string::npos);
}

// ---------------------------------------------------------------- whole workloads

TEST(ParseWorkload, SoftmaxText) {
  Workload w = parse_workload(R"(
    # row softmax
    X: f32[4, 8]
    mx: f32[4]
    sm: f32[4]
    Y: f32[4, 8]
    mx[i] max= X[i, j]
    sm[i] += exp(X[i, j] - mx[i])
    Y[i, j] = exp(X[i, j] - mx[i]) / sm[i]
  )",
                              "softmax");
  EXPECT_EQ(w.name, "softmax");
  EXPECT_EQ(w.tensors.size(), 4u);
  EXPECT_EQ(w.stages.size(), 3u);
  EXPECT_EQ(w.outputs, (std::vector<std::string>{"Y"}));
  EXPECT_EQ(w.role("mx"), TensorRole::Intermediate);
  EXPECT_EQ(w.validate(), "");
}

TEST(ParseWorkload, ExplicitOutputsAndContinuationLines) {
  Workload w = parse_workload(
      "A: f32[8, 4]; B: f32[4, 8]\nC: f32[8, 8]\nD: f32[8, 8]\n"
      "C[i, j] += A[i, k] *\n  B[k, j]\nD[i, j] = relu(C[i, j])\noutputs: C, D\n");
  EXPECT_EQ(w.outputs, (std::vector<std::string>{"C", "D"}));
}

TEST(ParseWorkload, DeclarationsMayFollowStages) {
  Workload w = parse_workload("C[i, j] += A[i, k] * B[k, j]\nA: f32[8, 4]\nB: f32[4, 8]\nC: f32[8, 8]\n");
  EXPECT_EQ(w.stages.size(), 1u);
}

TEST(ParseWorkload, ErrorsCarryTheLine) {
  auto e = error_of(
      [] { parse_workload("A: f32[8, 4]\nB: f32[4, 8]\nC: f32[8, 8]\nC[i, j] += A[i, k] * Z[k, j]\n"); });
  EXPECT_EQ(e.line(), 4);
  EXPECT_EQ(e.column(), 22);
  auto d = error_of([] { parse_workload("A: f32[8]\nA: f32[8]\nB: f32[8]\nB[i] = A[i]\n"); });
  EXPECT_EQ(d.line(), 2);
  EXPECT_NE(d.reason().find("declared twice"), std::string::npos);
}

TEST(ParseWorkload, ProducerMustComeFirst) {
  auto e = error_of([] { parse_workload("A: f32[8]\nB: f32[8]\nC: f32[8]\nC[i] = B[i]\nB[i] = A[i]\n"); });
  EXPECT_EQ(e.line(), 4);
  EXPECT_NE(e.reason().find("before the stage that computes it"), std::string::npos);
}

TEST(ParseWorkload, StageComputedTwice) {
  auto e = error_of([] { parse_workload("A: f32[8]\nB: f32[8]\nB[i] = A[i]\nB[i] = exp(A[i])\n"); });
  EXPECT_EQ(e.line(), 4);
  EXPECT_NE(e.reason().find("computed by two stages"), std::string::npos);
}

TEST(ParseWorkload, UnknownOutput) {
  auto e = error_of([] { parse_workload("A: f32[8]\nB: f32[8]\nB[i] = A[i]\noutputs: A\n"); });
  EXPECT_NE(e.reason().find("not computed by any stage"), std::string::npos);
}

TEST(ParseWorkload, PrintedStageParsesBack) {
  Workload w =
      parse_workload("A: f32[8, 4]\nB: f32[4, 8]\nC: f32[8, 8]\nC[i, j] += max(A[i, k], -inf) * B[k, j]\n");
  std::string printed = to_string(w.stages[0].body);
  Stage again = parse_stage("C[i, j] += " + printed, w.tensors);
  EXPECT_TRUE(structural_equal(again.body, w.stages[0].body)) << printed;
  EXPECT_TRUE(std::isinf(w.stages[0].body.as<Binary>()->a.as<Binary>()->b.as<FloatImm>()->value));
}
