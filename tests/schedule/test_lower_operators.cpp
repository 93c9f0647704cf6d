// Every operator of the library, at small shapes, lowered unscheduled and with generic schedules,
// agrees numerically with its reference evaluation.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "lower_test_util.h"
#include "rctune/ir/operators.h"
#include "rctune/schedule/lower.h"

namespace rctune::schedule {
namespace {

namespace lt = lowertest;

const std::vector<std::string>& small_specs() {
  static const std::vector<std::string> specs = {
      "matmul:M=7,N=9,K=5",
      "batch_matmul:B=2,M=5,N=6,K=3",
      "dense:M=5,N=6,K=4",
      "dense_gelu:M=5,N=6,K=4",
      "conv2d_nchw:N=1,C=3,H=9,W=9,K=4,R=3,S=3,stride=2,pad=1",
      "conv2d_nhwc:N=2,C=2,H=7,W=6,K=3,R=3,S=3,stride=1,pad=1",
      "conv2d_nchw:N=1,C=2,H=9,W=9,K=2,R=3,S=3,stride=1,pad=2,dilation=2",
      "depthwise_conv2d:N=1,C=3,H=8,W=8,R=3,S=3,stride=2,pad=1",
      "softmax:M=5,N=7",
      "layernorm:M=5,N=7",
      "rmsnorm:M=5,N=7",
      "attention:B=2,S=5,D=4",
  };
  return specs;
}

std::shared_ptr<const ir::Workload> op(const std::string& spec) {
  return std::make_shared<const ir::Workload>(ir::make_operator(spec));
}

TEST(LowerOperators, UnscheduledOperatorsMatchTheReference) {
  for (const auto& spec : small_specs()) EXPECT_TRUE(lt::matches_reference(State(op(spec)))) << spec;
}

// Every stage: the first axis split by 3 and the last by 2 (mostly non-dividing), the split loops
// ordered outer-first, reduction loops kept innermost.
TEST(LowerOperators, NonDividingSplitsOfEveryStageMatchTheReference) {
  for (const auto& spec : small_specs()) {
    State s(op(spec));
    for (const auto& st : s.workload().stages) {
      auto sch = lt::stage_of(s, st.output);
      const std::string first = st.axes.front().name, last = st.axes.back().name;
      lt::split(sch, first, {3});
      if (last != first) lt::split(sch, last, {2});
      std::vector<std::string> order;
      for (int l : sch.leaves) {
        const auto& lv = sch.loops[static_cast<size_t>(l)];
        if (!lv.reduce && lv.name.size() > 2 && lv.name.substr(lv.name.size() - 2) == ".0")
          order.push_back(lv.name);
      }
      for (int l : sch.leaves) {
        const auto& lv = sch.loops[static_cast<size_t>(l)];
        if (std::find(order.begin(), order.end(), lv.name) == order.end()) order.push_back(lv.name);
      }
      lt::reorder(sch, order);
      s = s.with_stage(sch);
    }
    EXPECT_TRUE(lt::matches_reference(s)) << spec;
  }
}

// Whether the operator `spec` scheduled by `trace` computes what the operator computes.
::testing::AssertionResult scheduled_matches_reference(const std::string& spec, const std::string& trace) {
  return lt::matches_reference(lt::scheduled(op(spec), trace));
}

TEST(LowerOperators, NormalisationStagesComputedPerRow) {
  EXPECT_TRUE(scheduled_matches_reference("softmax:M=5,N=7",
                                          "compute_at(row_sum, Y, i)\n"
                                          "compute_at(row_max, Y, i)\n"));
  EXPECT_TRUE(scheduled_matches_reference("layernorm:M=5,N=7",
                                          "compute_at(variance, Y, i)\n"
                                          "compute_at(mean, Y, i)\n"));
}

TEST(LowerOperators, AttentionWithInlinedProbabilitiesAndPerRowStatistics) {
  EXPECT_TRUE(scheduled_matches_reference("attention:B=2,S=5,D=4",
                                          "compute_inline(P)\n"
                                          "compute_at(row_sum, O, i)\n"
                                          "compute_at(row_max, O, i)\n"
                                          "compute_at(scores, O, i)\n"));
}

TEST(LowerOperators, DepthwiseConvolutionWithTiledOutputAndPackedInput) {
  EXPECT_TRUE(scheduled_matches_reference("depthwise_conv2d:N=1,C=3,H=13,W=13,R=3,S=3,stride=2,pad=1",
                                          "cache_read(X, local, [Y])\n"
                                          "split(Y, p, [None, 3])\n"
                                          "split(Y, q, [None, 4])\n"
                                          "reorder(Y, n, c, p.0, q.0, p.1, q.1, r, s)\n"
                                          "compute_at(X.local, Y, q.0)\n"));
}

}  // namespace
}  // namespace rctune::schedule
