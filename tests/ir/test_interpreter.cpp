#include "rctune/ir/interpreter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "rctune/ir/expr.h"
#include "rctune/ir/stmt.h"
#include "rctune/ir/workload.h"
#include "support/stage_builder.h"

namespace rctune::ir {
namespace {

using test_support::stage;

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

// The workload of `tensors` that computes `stages` in order and gives `outputs`.
Workload workload_of(const std::string& name, std::vector<Tensor> tensors, std::vector<Stage> stages,
                     std::vector<std::string> outputs) {
  Workload w;
  w.name = name;
  w.tensors = std::move(tensors);
  w.stages = std::move(stages);
  w.outputs = std::move(outputs);
  return w;
}

Workload conv1d() {
  // Y[i] += X[i + r - 1] * W[r]   (zero padding at both ends)
  return workload_of("conv1d", {{"X", {4}}, {"W", {3}}, {"Y", {4}}},
                     {stage("Y", {{"i", 4}}, {{"r", 3}}, ReduceOp::Sum,
                            load("X", {var("i") + var("r") - int_imm(1)}) * load("W", {var("r")}))},
                     {"Y"});
}

TEST(EvaluateWorkload, ReadsOutsideTheShapeAreZero) {
  Workload w = conv1d();
  std::vector<std::vector<double>> b = {{1, 2, 3, 4}, {1, 10, 100}, {7, 7, 7, 7}};
  evaluate_workload(w, b);
  EXPECT_EQ(b[2], (std::vector<double>{0 * 1 + 1 * 10 + 2 * 100, 1 + 20 + 300, 2 + 30 + 400, 3 + 40 + 0}));
}

TEST(EvaluateWorkload, MaxReductionStartsFromMinusInfinity) {
  Workload w = workload_of(
      "rowmax", {{"X", {2, 3}}, {"M", {2}}},
      {stage("M", {{"i", 2}}, {{"j", 3}}, ReduceOp::Max, load("X", {var("i"), var("j")}))}, {"M"});
  std::vector<std::vector<double>> b = {{-5, -2, -3, 1, 4, 2}, {0, 0}};
  evaluate_workload(w, b);
  EXPECT_EQ(b[1], (std::vector<double>{-2, 4}));
}

TEST(EvaluateWorkload, StagesRunInOrderAndSeeEarlierResults) {
  Workload w =
      workload_of("two", {{"X", {3}}, {"T", {3}}, {"Y", {3}}},
                  {stage("T", {{"i", 3}}, {}, ReduceOp::None, unary(UnOp::Relu, load("X", {var("i")}))),
                   stage("Y", {{"j", 3}}, {}, ReduceOp::None, load("T", {var("j")}) + float_imm(1))},
                  {"Y"});
  std::vector<std::vector<double>> b = {{-1, 0.5, 2}, {0, 0, 0}, {0, 0, 0}};
  evaluate_workload(w, b);
  EXPECT_EQ(b[2], (std::vector<double>{1, 1.5, 3}));
}

}  // namespace
}  // namespace rctune::ir
