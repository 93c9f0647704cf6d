// The parameters of the Monte Carlo tree search (rctune/search/mcts.h), as the run configuration's
// `mcts:` section sets them (docs/config.md) and as the search takes them.
#pragma once

#include <concepts>
#include <type_traits>

namespace rctune::config {

struct MctsConfig {
  double exploration = 1.4142135623730951;  // UCT constant c (sqrt 2)
  int branching = 2;                        // children a node gets per expansion (B)
  int root_samples = 3;                     // design-space samples that start the root's children
  int root_draws = 8;                       // draws per root child; the best predicted is kept
  int measure_batch = 6;                    // candidates measured per round
  double epsilon = 0.05;                    // share of a round picked at random, not by prediction
  int history_depth = 3;                    // ancestors a proposer sees (besides the node)
  int rollout_depth = 4;                    // random mutations per rollout
  // Failed proposals of a subtree shown to the proposer; the configuration does not set it.
  int failure_memory = 8;
};

// The keys of the `mcts:` section, each as fn(key, field, lo, hi) with the range the reader accepts:
// the config reader and the check that a resumed run keeps its config both go through this list.
template <typename Config, typename Fn>
requires std::same_as<std::remove_const_t<Config>, MctsConfig>
void for_each_key(Config& c, Fn&& fn) {
  fn("exploration", c.exploration, 0.0, 100.0);
  fn("branching", c.branching, 1, 64);
  fn("root_samples", c.root_samples, 1, 4096);
  fn("root_draws", c.root_draws, 1, 4096);
  fn("measure_batch", c.measure_batch, 1, 4096);
  fn("epsilon", c.epsilon, 0.0, 1.0);
  fn("history_depth", c.history_depth, 0, 16);
  fn("rollout_depth", c.rollout_depth, 0, 500);
}

}  // namespace rctune::config
