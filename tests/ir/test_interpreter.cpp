#include "rctune/ir/interpreter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "rctune/ir/expr.h"
#include "rctune/ir/stmt.h"
#include "rctune/ir/workload.h"

namespace rctune::ir {
namespace {

LoweredFunc func(std::vector<BufferDecl> params, Stmt body) {
  LoweredFunc f;
  f.name = "f";
  f.params = std::move(params);
  f.body = std::move(body);
  return f;
}

TEST(Interpreter, RunsLoopsAndStores) {
  // Y[i] = X[i] * 2 + i
  auto f = func({{"X", DType::F32, {4}}, {"Y", DType::F32, {4}}},
                make_for("i", 4, ForKind::Parallel, BindLevel::None,
                         make_store("Y", {var("i")}, load("X", {var("i")}) * float_imm(2.0) + var("i"))));
  std::vector<std::vector<double>> b = {{1, 2, 3, 4}, {0, 0, 0, 0}};
  interpret(f, b);
  EXPECT_EQ(b[1], (std::vector<double>{2, 5, 8, 11}));
}

TEST(Interpreter, IntegerDivisionAndModuloFloor) {
  // Y[i] = (i - 3) / 2 * 10 + (i - 3) % 2
  Expr e = var("i") - int_imm(3);
  auto f = func({{"Y", DType::F64, {5}}},
                make_for("i", 5, ForKind::Serial, BindLevel::None,
                         make_store("Y", {var("i")}, (e / int_imm(2)) * int_imm(10) + e % int_imm(2))));
  std::vector<std::vector<double>> b = {std::vector<double>(5)};
  interpret(f, b);
  EXPECT_EQ(b[0], (std::vector<double>{-20 + 1, -10 + 0, -10 + 1, 0, 1}));
}

TEST(Interpreter, FloatDivisionIsExact) {
  auto f = func({{"Y", DType::F64, {1}}}, make_store("Y", {int_imm(0)}, float_imm(1.0) / int_imm(4)));
  std::vector<std::vector<double>> b = {{0}};
  interpret(f, b);
  EXPECT_DOUBLE_EQ(b[0][0], 0.25);
}

TEST(Interpreter, OutOfBoundsAccessThrows) {
  auto f = func({{"Y", DType::F32, {3}}}, make_for("i", 4, ForKind::Serial, BindLevel::None,
                                                   make_store("Y", {var("i")}, float_imm(1.0))));
  std::vector<std::vector<double>> b = {std::vector<double>(3)};
  EXPECT_THROW(interpret(f, b), InterpreterError);
}

TEST(Interpreter, AllocatedBuffersStartAsNaNAndShadowOuterNames) {
  // alloc Y: f32[1] local; Z[0] = Y[0]  (never written: NaN)
  auto f = func({{"Y", DType::F32, {1}}, {"Z", DType::F32, {1}}},
                make_allocate(BufferDecl{"Y", DType::F32, {1}, MemScope::Local},
                              make_store("Z", {int_imm(0)}, load("Y", {int_imm(0)}))));
  std::vector<std::vector<double>> b = {{5}, {0}};
  interpret(f, b);
  EXPECT_TRUE(std::isnan(b[1][0]));
  EXPECT_EQ(b[0][0], 5);
}

TEST(Interpreter, SelectEvaluatesOnlyTheChosenBranch) {
  // Y[i] = select(i - 1 >= 0, X[i - 1], 0)
  Expr idx = var("i") - int_imm(1);
  auto f =
      func({{"X", DType::F32, {3}}, {"Y", DType::F32, {3}}},
           make_for("i", 3, ForKind::Serial, BindLevel::None,
                    make_store("Y", {var("i")},
                               select(binary(BinOp::GE, idx, int_imm(0)), load("X", {idx}), float_imm(0)))));
  std::vector<std::vector<double>> b = {{1, 2, 3}, {9, 9, 9}};
  interpret(f, b);
  EXPECT_EQ(b[1], (std::vector<double>{0, 1, 2}));
}

TEST(Interpreter, WrongNumberOfBuffersThrows) {
  auto f = func({{"Y", DType::F32, {1}}}, make_store("Y", {int_imm(0)}, float_imm(1.0)));
  std::vector<std::vector<double>> none;
  EXPECT_THROW(interpret(f, none), InterpreterError);
}

Workload conv1d() {
  // Y[i] += X[i + r - 1] * W[r]   (zero padding at both ends)
  Workload w;
  w.name = "conv1d";
  w.tensors = {{"X", {4}}, {"W", {3}}, {"Y", {4}}};
  Stage s;
  s.output = "Y";
  s.axes = {{"i", 4}};
  s.reduce_axes = {{"r", 3}};
  s.op = ReduceOp::Sum;
  s.body = load("X", {var("i") + var("r") - int_imm(1)}) * load("W", {var("r")});
  w.stages = {s};
  w.outputs = {"Y"};
  return w;
}

TEST(EvaluateWorkload, ReadsOutsideTheShapeAreZero) {
  Workload w = conv1d();
  std::vector<std::vector<double>> b = {{1, 2, 3, 4}, {1, 10, 100}, {7, 7, 7, 7}};
  evaluate_workload(w, b);
  EXPECT_EQ(b[2], (std::vector<double>{0 * 1 + 1 * 10 + 2 * 100, 1 + 20 + 300, 2 + 30 + 400, 3 + 40 + 0}));
}

TEST(EvaluateWorkload, MaxReductionStartsFromMinusInfinity) {
  Workload w;
  w.name = "rowmax";
  w.tensors = {{"X", {2, 3}}, {"M", {2}}};
  Stage s;
  s.output = "M";
  s.axes = {{"i", 2}};
  s.reduce_axes = {{"j", 3}};
  s.op = ReduceOp::Max;
  s.body = load("X", {var("i"), var("j")});
  w.stages = {s};
  w.outputs = {"M"};
  std::vector<std::vector<double>> b = {{-5, -2, -3, 1, 4, 2}, {0, 0}};
  evaluate_workload(w, b);
  EXPECT_EQ(b[1], (std::vector<double>{-2, 4}));
}

TEST(EvaluateWorkload, StagesRunInOrderAndSeeEarlierResults) {
  Workload w;
  w.name = "two";
  w.tensors = {{"X", {3}}, {"T", {3}}, {"Y", {3}}};
  Stage a;
  a.output = "T";
  a.axes = {{"i", 3}};
  a.body = unary(UnOp::Relu, load("X", {var("i")}));
  Stage b2;
  b2.output = "Y";
  b2.axes = {{"j", 3}};
  b2.body = load("T", {var("j")}) + float_imm(1);
  w.stages = {a, b2};
  w.outputs = {"Y"};
  std::vector<std::vector<double>> b = {{-1, 0.5, 2}, {0, 0, 0}, {0, 0, 0}};
  evaluate_workload(w, b);
  EXPECT_EQ(b[2], (std::vector<double>{1, 1.5, 3}));
}

}  // namespace
}  // namespace rctune::ir
