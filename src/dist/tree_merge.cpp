// merge_trees(): the union of the ranks' search trees of one task, nodes identified by program.
#include "rctune/dist/tree_merge.h"
#include "rctune/ir/check.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace rctune::dist {

namespace {

using runlog::TreeNode;

// fmax, which ignores a NaN operand (and gives NaN only when both are).
double best_of(double a, double b) { return std::fmax(a, b); }

// Adds the statistics of `from` (a node of a later input) to the merged node `into`.
void accumulate(TreeNode& into, const TreeNode& from) {
  into.visits += from.visits;
  into.value += from.value;
  into.best_gflops = best_of(into.best_gflops, from.best_gflops);
  if (into.sample < 0 && from.sample >= 0) into.sample = from.sample;
  if (into.structural_hash == 0) into.structural_hash = from.structural_hash;  // roots only
}

[[noreturn]] void bad_tree(std::size_t tree, std::size_t position, const TreeNode& n,
                           const std::string& why) {
  throw std::invalid_argument("merge_trees: tree " + std::to_string(tree) + ", node " + std::to_string(n.id) +
                              " (row " + std::to_string(position) + "): " + why);
}

}  // namespace

std::vector<TreeNode> merge_trees(const std::vector<std::vector<TreeNode>>& trees) {
  std::vector<TreeNode> out;
  std::unordered_map<uint64_t, int64_t> by_hash;  // non-zero hash -> merged id
  for (std::size_t t = 0; t < trees.size(); ++t) {
    const auto& tree = trees[t];
    std::unordered_map<int64_t, int64_t> merged_id;  // this tree's id -> merged id
    merged_id.reserve(tree.size());
    for (std::size_t k = 0; k < tree.size(); ++k) {
      const TreeNode& n = tree[k];
      if (merged_id.count(n.id)) bad_tree(t, k, n, "its id appears twice");
      int64_t id = -1;
      if (k == 0) {  // the root: the same program in every tree
        if (n.parent != -1) bad_tree(t, k, n, "the first node is not a root (its parent is not -1)");
        if (out.empty()) {
          TreeNode root = n;
          root.id = 0;
          out.push_back(root);
        } else {
          // The roots are the task's unscheduled program in every tree (a precondition).
          RCTUNE_CHECK(n.structural_hash == 0 || out[0].structural_hash == 0 ||
                       n.structural_hash == out[0].structural_hash);
          accumulate(out[0], n);
        }
        id = 0;
        if (out[0].structural_hash != 0) by_hash.emplace(out[0].structural_hash, 0);
      } else {
        auto parent = merged_id.find(n.parent);
        if (parent == merged_id.end())
          bad_tree(t, k, n, "its parent " + std::to_string(n.parent) + " is not an earlier node of the tree");
        auto same = n.structural_hash != 0 ? by_hash.find(n.structural_hash) : by_hash.end();
        if (same != by_hash.end()) {  // a program already in the merged tree
          id = same->second;
          accumulate(out[static_cast<std::size_t>(id)], n);
        } else {
          id = static_cast<int64_t>(out.size());
          TreeNode fresh = n;
          fresh.id = id;
          fresh.parent = parent->second;
          out.push_back(fresh);
          if (n.structural_hash != 0) by_hash.emplace(n.structural_hash, id);
        }
      }
      merged_id.emplace(n.id, id);
    }
  }
  // Subtree bests over the merged tree: children have larger ids than their parents.
  for (std::size_t i = out.size(); i-- > 1;) {
    auto& parent = out[static_cast<std::size_t>(out[i].parent)];
    RCTUNE_CHECK(out[i].parent >= 0 && out[i].parent < out[i].id);
    parent.best_gflops = best_of(parent.best_gflops, out[i].best_gflops);
  }
  return out;
}

}  // namespace rctune::dist
