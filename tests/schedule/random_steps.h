// Random schedule steps for property tests: proposes a primitive with arguments drawn from the
// current state (stages, their current loops, small factors), legal or not.
#pragma once

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "rctune/schedule/primitives.h"
#include "rctune/schedule/state.h"

namespace rctune::schedule::testing {

inline std::string random_step(const State& s, std::mt19937& rng) {
  auto pick = [&](size_t n) {
    return static_cast<size_t>(std::uniform_int_distribution<size_t>(0, n - 1)(rng));
  };
  const auto& stages = s.stages();
  const StageSchedule& st = *stages[pick(stages.size())];
  const std::vector<std::string> leaves = st.leaf_names();
  const std::string loop = leaves.empty() ? "i" : leaves[pick(leaves.size())];
  const std::string other = stages[pick(stages.size())]->stage;
  std::vector<std::string> other_leaves = s.stage(other)->leaf_names();
  const std::string other_loop = other_leaves.empty() ? "i" : other_leaves[pick(other_leaves.size())];
  const int64_t factors[] = {2, 3, 4, 8, 16};
  const char* scopes[] = {"local", "shared", "heap"};
  const char* levels[] = {"league", "team", "vector"};
  switch (pick(14)) {
    case 0:
    case 1:
      return "split(" + st.stage + ", " + loop + ", [None, " + std::to_string(factors[pick(5)]) + "])";
    case 2: {
      std::vector<std::string> order = leaves;
      std::shuffle(order.begin(), order.end(), rng);
      order.resize(1 + pick(order.size()));
      std::string t = "reorder(" + st.stage;
      for (const auto& l : order) t += ", " + l;
      return t + ")";
    }
    case 3: {
      const size_t p = pick(leaves.size());
      if (p + 1 >= leaves.size()) return "fuse(" + st.stage + ", " + loop + ", " + loop + ")";
      return "fuse(" + st.stage + ", " + leaves[p] + ", " + leaves[p + 1] + ")";
    }
    case 4:
      return "parallel(" + st.stage + ", " + loop + ")";
    case 5:
      return "vectorize(" + st.stage + ", " + (leaves.empty() ? loop : leaves.back()) + ")";
    case 6:
      return "unroll(" + st.stage + ", " + loop + ")";
    case 7:
      return "bind(" + st.stage + ", " + loop + ", " + levels[pick(3)] + ")";
    case 8:
      return "cache_write(" + st.stage + ", " + scopes[pick(3)] + ")";
    case 9: {
      const auto& tensors = s.workload().tensors;
      return "cache_read(" + tensors[pick(tensors.size())].name + ", " + scopes[pick(3)] + ")";
    }
    case 10:
    case 11: {
      // Mostly a consumer of the stage, sometimes any stage.
      std::vector<std::string> readers = readers_of(s.workload(), st.stage);
      std::string target = other;
      if (!readers.empty() && pick(4) != 0) target = readers[pick(readers.size())];
      const std::vector<std::string> tl = s.stage(target)->leaf_names();
      return "compute_at(" + st.stage + ", " + target + ", " + (tl.empty() ? "i" : tl[pick(tl.size())]) + ")";
    }
    case 12: {
      // Mostly a producer of the stage.
      std::vector<std::string> producers;
      for (const auto& p : stages) {
        const auto r = readers_of(s.workload(), p->stage);
        if (std::find(r.begin(), r.end(), st.stage) != r.end()) producers.push_back(p->stage);
      }
      std::string target = other;
      if (!producers.empty() && pick(4) != 0) target = producers[pick(producers.size())];
      const std::vector<std::string> tl = s.stage(target)->leaf_names();
      return "reverse_compute_at(" + st.stage + ", " + target + ", " +
             (tl.empty() ? "i" : tl[pick(tl.size())]) + ")";
    }
    default:
      if (pick(2)) return "compute_inline(" + st.stage + ")";
      return "decompose_reduction(" + st.stage + ", " + loop + ")";
  }
}

}  // namespace rctune::schedule::testing
