// The parameters of the Monte Carlo tree search (rctune/search/mcts.h), as the run configuration's
// `mcts:` section sets them (docs/config.md) and as the search takes them.
#pragma once

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

}  // namespace rctune::config
