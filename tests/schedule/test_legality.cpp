// Property: every state the primitives accept can be lowered, and the lowered program computes what
// the workload defines. Random traces over small shapes (non-dividing extents, padding, several
// stages); the lowered nest runs in the exact interpreter against the workload's reference
// evaluation. A failure here means a primitive accepted a schedule it should have refused (or
// lowering mistranslated one).
#include <cmath>

#include "random_steps.h"
#include "rctune/ir/interpreter.h"
#include "rctune/schedule/lower.h"
#include "workloads.h"

namespace rctune::schedule {
namespace {

std::vector<std::shared_ptr<const ir::Workload>> small_workloads() {
  return {
      testing::matmul(12, 10, 7),
      testing::parse(
          "A: f32[2, 5, 6]\nB: f32[2, 6, 7]\nC: f32[2, 5, 7]\nC[b, i, j] += A[b, i, k] * B[b, k, j]\n",
          "batch_matmul"),
      testing::parse("X: f32[1, 3, 9, 9]\nW: f32[4, 3, 3, 3]\nY: f32[1, 4, 5, 5]\n"
                     "Y[n, k, h, w] += X[n, c, h*2 + r - 1, w*2 + s - 1] * W[k, c, r, s]\n",
                     "conv2d"),
      testing::parse("X: f32[6, 10]\nM: f32[6]\nE: f32[6, 10]\nS: f32[6]\nY: f32[6, 10]\nM[i] max= X[i, j]\n"
                     "E[i, j] = exp(X[i, j] - M[i])\nS[i] += E[i, j]\nY[i, j] = E[i, j] / S[i]\noutputs: Y\n",
                     "softmax"),
      testing::parse("A: f32[7, 5]\nB: f32[5, 6]\nbias: f32[6]\nC: f32[7, 6]\nD: f32[7, 6]\nY: f32[7, 6]\n"
                     "C[i, j] += A[i, k] * B[k, j]\nD[i, j] = C[i, j] + bias[j]\nY[i, j] = gelu(D[i, j])\n"
                     "outputs: Y\n",
                     "dense_gelu"),
  };
}

TEST(Legality, AcceptedStatesLowerAndComputeTheWorkload) {
  const auto workloads = small_workloads();
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> value(-1.0, 1.0);
  int checked = 0;
  for (int trial = 0; trial < 100; ++trial) {
    const auto& w = workloads[static_cast<size_t>(trial) % workloads.size()];
    std::vector<std::vector<double>> inputs;
    for (const auto& t : w->tensors) {
      std::vector<double> b(static_cast<size_t>(t.num_elements()));
      for (auto& x : b) x = value(rng);
      inputs.push_back(std::move(b));
    }
    std::vector<std::vector<double>> expected = inputs;
    ir::evaluate_workload(*w, expected);
    State s(w);
    for (int step = 0; step < 15; ++step) {
      try {
        s = apply_trace(s, testing::random_step(s, rng));
      } catch (const ScheduleError&) {
        continue;
      }
      ir::LoweredFunc f;
      try {
        f = lower(s);
      } catch (const std::exception& e) {
        FAIL() << "accepted but not lowerable:\n" << to_text(s.trace()) << e.what();
      }
      std::vector<std::vector<double>> got = inputs;
      ir::interpret(f, got);
      for (size_t t = 0; t < w->tensors.size(); ++t) {
        if (w->role(w->tensors[t].name) != ir::TensorRole::Output) continue;
        for (size_t e = 0; e < got[t].size(); ++e) {
          ASSERT_NEAR(got[t][e], expected[t][e], 1e-9 * (1 + std::fabs(expected[t][e])))
              << w->tensors[t].name << "[" << e << "] after\n"
              << to_text(s.trace()) << ir::to_string(f);
        }
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 300);
}

}  // namespace
}  // namespace rctune::schedule
