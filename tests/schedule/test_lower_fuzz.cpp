// Random schedules built with the primitives: whatever the primitives accept must lower to a
// program that computes the same outputs as the workload's reference evaluation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "lower_test_util.h"
#include "rctune/ir/operators.h"
#include "rctune/schedule/error.h"
#include "rctune/schedule/lower.h"
#include "rctune/schedule/primitives.h"

namespace rctune::schedule {
namespace {

namespace lt = lowertest;

template <class T>
const T& pick(std::mt19937& rng, const std::vector<T>& v) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

State random_step(const State& s, std::mt19937& rng) {
  std::vector<std::string> stages;
  for (const auto& st : s.stages())
    if (st->attach.kind != Attach::Kind::Inline) stages.push_back(st->stage);
  const std::string stage = pick(rng, stages);
  const StageSchedule& sch = *s.stage(stage);
  const std::vector<std::string> leaves = sch.leaf_names();
  const std::string leaf = pick(rng, leaves);
  const ir::Workload& w = s.workload();
  switch (std::uniform_int_distribution<int>(0, 10)(rng)) {
    case 0:
    case 1:
      return split(s, stage, leaf, {kInferredFactor, std::uniform_int_distribution<int64_t>(2, 4)(rng)});
    case 2: {
      std::vector<std::string> order = leaves;
      std::shuffle(order.begin(), order.end(), rng);
      return reorder(s, stage, order);
    }
    case 3: {
      size_t p = std::uniform_int_distribution<size_t>(0, leaves.size() - 1)(rng);
      if (p + 1 >= leaves.size()) return s;
      return fuse(s, stage, {leaves[p], leaves[p + 1]});
    }
    case 4:
    case 5: {
      auto readers = readers_of(w, stage);
      if (readers.empty()) return s;
      const std::string consumer = pick(rng, readers);
      return compute_at(s, stage, consumer, pick(rng, s.stage(consumer)->leaf_names()));
    }
    case 6: {
      const ir::Stage* st = w.find_stage(stage);
      std::vector<std::string> inputs = st->inputs();
      std::vector<std::string> producers;
      for (const auto& in : inputs)
        if (w.find_stage(in)) producers.push_back(in);
      if (producers.empty()) return s;
      const std::string producer = pick(rng, producers);
      return reverse_compute_at(s, stage, producer, pick(rng, s.stage(producer)->leaf_names()));
    }
    case 7:
      return compute_inline(s, stage);
    case 8:
      return cache_write(s, stage, ir::MemScope::Local);
    case 9: {
      std::vector<std::string> inputs = w.find_stage(stage)->inputs();
      return cache_read(s, pick(rng, inputs), ir::MemScope::Local, {stage});
    }
    default:
      return decompose_reduction(s, stage, leaf);
  }
}

// RCTUNE_LOWER_FUZZ_SCALE=n runs n times as many random states (by hand, to search longer).
int scale() {
  const char* e = std::getenv("RCTUNE_LOWER_FUZZ_SCALE");
  return e ? std::max(1, std::atoi(e)) : 1;
}

void fuzz(const std::shared_ptr<const ir::Workload>& w, unsigned seed, int states, int steps) {
  std::mt19937 rng(seed);
  states *= scale();
  const bool quiet = scale() > 1;
  int accepted = 0;
  for (int n = 0; n < states; ++n) {
    State s(w);
    for (int k = 0; k < steps; ++k) {
      try {
        s = random_step(s, rng);
        ++accepted;
      } catch (const ScheduleError&) {
      }
    }
    std::string trace;
    for (const auto& st : s.trace()) trace += to_text(st) + "\n";
    try {
      lower(s);
    } catch (const ScheduleError& e) {
      // The primitives accepted a state that cannot run (their legality checks are not lowering's
      // to test): lowering must say so rather than emit a wrong program.
      if (!quiet)
        std::cout << "[ note ] lowering rejects a state the primitives accepted: " << e.what() << "\ntrace:\n"
                  << trace;
      continue;
    }
    ASSERT_TRUE(lt::matches_reference(s, seed + static_cast<unsigned>(n))) << "trace:\n" << trace;
  }
  EXPECT_GT(accepted, states);  // the generator does reach scheduled states
}

TEST(LowerFuzz, RandomMatmulSchedules) { fuzz(lt::matmul(7, 9, 5), 11, 150, 8); }

TEST(LowerFuzz, RandomConvolutionSchedules) { fuzz(lt::conv2d(), 12, 40, 6); }

TEST(LowerFuzz, RandomSoftmaxSchedules) { fuzz(lt::softmax(), 13, 150, 8); }

TEST(LowerFuzz, RandomDenseGeluSchedules) { fuzz(lt::dense_gelu(), 14, 150, 8); }

TEST(LowerFuzz, RandomLongerTraces) {
  fuzz(lt::matmul(6, 8, 5), 15, 60, 16);
  fuzz(lt::softmax(), 16, 60, 16);
}

TEST(LowerFuzz, RandomAttentionSchedules) {
  fuzz(std::make_shared<const ir::Workload>(ir::make_operator("attention:B=2,S=3,D=2")), 17, 60, 10);
}

TEST(LowerFuzz, RandomDepthwiseConvolutionSchedules) {
  fuzz(std::make_shared<const ir::Workload>(
           ir::make_operator("depthwise_conv2d:N=1,C=2,H=7,W=7,R=3,S=3,stride=2,pad=1")),
       18, 60, 10);
}

}  // namespace
}  // namespace rctune::schedule
