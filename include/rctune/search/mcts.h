// Monte Carlo tree search over schedules, as the Reasoning Compiler paper does it, with measured
// results fed back into the tree.
//
//  - A node is a schedule state; the edge from its parent is an action (search/action.h) that a
//    proposer suggested. Equal programs reached by different paths are one node (structural hash):
//    a proposal that leads to a program already in the tree is a transposition and adds no node.
//  - Selection: from the root, the child with the highest UCT value
//      mean(value) + c * sqrt(ln(visits(parent)) / visits(child))
//    (unvisited children first) until a node without children.
//  - Expansion: the root's children are design-space samples (root_samples at first; the root
//    keeps widening by one sample whenever its children number less than sqrt(visits)), taken
//    from the sketches in turn, each the best predicted of root_draws draws of its sketch; a deeper
//    node gets `branching` children from the proposer, topped up with design-space mutations when
//    the proposer returns fewer legal new programs. Illegal proposals are recorded (no sample)
//    and shown to the proposer again as failures of that subtree.
//  - Simulation: one rollout per new child: rollout_depth random design-space mutations, scored by
//    the cost model; the child's value is the best predicted score on the way, normalised by the
//    best prediction seen so far (in [0, 1]).
//  - Backpropagation: the rollout value, and later each measured result (speedup normalised by
//    the best measured so far), is added to the node and its ancestors (visits + 1 each).
//  - Measurement rounds: next_batch(n) expands until at least n unmeasured nodes exist, then picks
//    n of them epsilon-greedily by predicted score (re-predicted each round as the model learns).
#pragma once

#include <memory>

#include "rctune/config/mcts_config.h"
#include "rctune/search/strategy.h"

namespace rctune::search {

using MctsOptions = config::MctsConfig;

std::unique_ptr<SearchStrategy> make_mcts_search(const SearchContext& ctx, MctsOptions options = {});

}  // namespace rctune::search
