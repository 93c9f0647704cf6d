// Workloads for the schedule tests. Most are written in the workload text syntax
// (rctune/ir/parser.h); matmul is also built with the ir constructors, so that the primitive tests
// do not depend on the parser alone.
#pragma once

#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "rctune/ir/expr.h"
#include "rctune/ir/parser.h"
#include "rctune/ir/workload.h"
#include "rctune/schedule/error.h"
#include "rctune/schedule/primitives.h"
#include "rctune/schedule/state.h"
#include "rctune/schedule/trace.h"
#include "support/message_of.h"

namespace rctune::schedule::testing {

inline std::shared_ptr<const ir::Workload> parse(const std::string& text, const std::string& name) {
  return std::make_shared<const ir::Workload>(ir::parse_workload(text, name));
}

// C[i, j] += A[i, k] * B[k, j], built by hand.
inline std::shared_ptr<const ir::Workload> matmul(int64_t m = 64, int64_t n = 48, int64_t k = 32) {
  auto w = std::make_shared<ir::Workload>();
  w->name = "matmul";
  w->tensors = {{"A", {m, k}}, {"B", {k, n}}, {"C", {m, n}}};
  ir::Stage s;
  s.output = "C";
  s.axes = {{"i", m}, {"j", n}};
  s.reduce_axes = {{"k", k}};
  s.op = ir::ReduceOp::Sum;
  s.body = ir::load("A", {ir::var("i"), ir::var("k")}) * ir::load("B", {ir::var("k"), ir::var("j")});
  w->stages = {s};
  w->outputs = {"C"};
  return w;
}

inline std::string dims(std::initializer_list<int64_t> d) {
  std::string s = "[";
  for (auto x : d) s += (s.size() > 1 ? ", " : "") + std::to_string(x);
  return s + "]";
}

inline std::shared_ptr<const ir::Workload> batch_matmul(int64_t b = 4, int64_t m = 32, int64_t n = 40, int64_t k = 16) {
  return parse("A: f32" + dims({b, m, k}) + "\nB: f32" + dims({b, k, n}) + "\nC: f32" + dims({b, m, n}) +
                   "\nC[b, i, j] += A[b, i, k] * B[b, k, j]\n",
               "batch_matmul");
}

// Strided (2), padded (1) 3x3 convolution of a square input of size hw.
inline std::shared_ptr<const ir::Workload> conv2d(int64_t c = 8, int64_t hw = 16, int64_t k = 16) {
  int64_t o = (hw + 2 - 3) / 2 + 1;
  return parse("X: f32" + dims({1, c, hw, hw}) + "\nW: f32" + dims({k, c, 3, 3}) + "\nY: f32" + dims({1, k, o, o}) +
                   "\nY[n, k, h, w] += X[n, c, h*2 + r - 1, w*2 + s - 1] * W[k, c, r, s]\n",
               "conv2d");
}

// Four stages: max, exp, sum, divide.
inline std::shared_ptr<const ir::Workload> softmax(int64_t m = 32, int64_t n = 64) {
  return parse(
      "X: f32" + dims({m, n}) + "\nM: f32" + dims({m}) + "\nE: f32" + dims({m, n}) + "\nS: f32" + dims({m}) +
      "\nY: f32" + dims({m, n}) + "\n"
      "M[i] max= X[i, j]\n"
      "E[i, j] = exp(X[i, j] - M[i])\n"
      "S[i] += E[i, j]\n"
      "Y[i, j] = E[i, j] / S[i]\n"
      "outputs: Y\n",
      "softmax");
}

// matmul + bias + gelu as three stages.
inline std::shared_ptr<const ir::Workload> dense_gelu(int64_t m = 32, int64_t n = 24, int64_t k = 16) {
  return parse(
      "A: f32" + dims({m, k}) + "\nB: f32" + dims({k, n}) + "\nbias: f32" + dims({n}) + "\nC: f32" + dims({m, n}) +
      "\nD: f32" + dims({m, n}) + "\nY: f32" + dims({m, n}) + "\n"
      "C[i, j] += A[i, k] * B[k, j]\n"
      "D[i, j] = C[i, j] + bias[j]\n"
      "Y[i, j] = gelu(D[i, j])\n"
      "outputs: Y\n",
      "dense_gelu");
}

// Applies a trace and returns the state; fails the test with the error otherwise.
inline State run_trace(const std::shared_ptr<const ir::Workload>& w, const std::string& trace) {
  return apply_trace(State(w), trace);
}

// The loop named `loop` of stage `stage` of `s`; throws std::out_of_range when there is none.
inline const LoopVar& loop_of(const State& s, const std::string& stage, const std::string& loop) {
  const StageSchedule* st = s.stage(stage);
  if (st == nullptr || st->find_loop(loop) < 0)
    throw std::out_of_range("no loop " + loop + " of stage " + stage);
  return st->loops[static_cast<size_t>(st->find_loop(loop))];
}

// The message of the ScheduleError that `f` throws, or "" when it does not throw.
template <class F>
std::string error_of(F&& f) {
  return test_support::message_of<ScheduleError>(std::forward<F>(f)).value_or("");
}

}  // namespace rctune::schedule::testing

// EXPECT_SCHEDULE_ERROR("part of the message", expression that must throw ScheduleError)
#define EXPECT_SCHEDULE_ERROR(substring, ...)                                                     \
  do {                                                                                            \
    const std::string msg_ = ::rctune::schedule::testing::error_of([&] { (void)(__VA_ARGS__); }); \
    EXPECT_FALSE(msg_.empty()) << "expected a ScheduleError from " #__VA_ARGS__;                  \
    EXPECT_NE(msg_.find(substring), std::string::npos) << "message: " << msg_;                    \
  } while (0)
