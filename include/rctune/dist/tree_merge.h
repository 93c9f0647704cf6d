// Merging the search trees that several MPI ranks grew for one task (root-parallel MCTS) into the
// one tree that rank 0 writes to the trace.
#pragma once

#include <vector>

#include "rctune/runlog/runlog.h"

namespace rctune::dist {

// Merges the search trees that several ranks grew for one task into one tree (root-parallel MCTS).
// Each input tree is in id order with parents before children and node 0 its root; all roots are the
// same program. Nodes are identified by structural_hash: a program found by several ranks is one
// node, with visits and values summed and best_gflops the max (NaN ignored); `sample` is the first
// non-negative one in rank order; parent and action come from the first rank (in input order) that
// has the node, as do id numbering (ids are 0..n-1, parents before children: the first tree's nodes
// first in its order, then each later tree's new nodes in its order). A node whose hash is 0 (unknown)
// is never merged with another. Throws std::invalid_argument if a tree's parent ids are not earlier ids.
//
// The roots of all trees are merged into node 0 whatever their hashes (the first non-zero one is kept). A
// node whose program equals one already merged in the same tree (an action that left the program unchanged)
// is merged too. best_gflops of the result is the best of each node's subtree in the merged tree: the maximum
// over the node's own inputs and its merged children, so a node that another rank found under a different
// parent still counts for the parent it got here. Empty trees are skipped; no trees (or only empty ones) give
// an empty tree.
std::vector<runlog::TreeNode> merge_trees(const std::vector<std::vector<runlog::TreeNode>>& trees);

}  // namespace rctune::dist
