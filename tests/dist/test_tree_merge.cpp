// merge_trees(): merging the search trees of several ranks into one.
#include "rctune/dist/tree_merge.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace rctune::dist {
namespace {

using runlog::kNaN;
using runlog::TreeNode;

TreeNode node(int64_t id, int64_t parent, uint64_t hash, int64_t visits = 1, double value = 0.5,
              double best = kNaN, int64_t sample = -1) {
  TreeNode n;
  n.id = id;
  n.parent = parent;
  n.action = parent < 0 ? "" : "act" + std::to_string(hash);
  n.structural_hash = hash;
  n.visits = visits;
  n.value = value;
  n.best_gflops = best;
  n.sample = sample;
  return n;
}

TEST(TreeMerge, SingleTreeIsUnchanged) {
  std::vector<TreeNode> tree = {node(0, -1, 100, 5, 2.5, 30.0), node(1, 0, 101, 3, 1.5, 30.0, 0),
                                node(2, 0, 102, 1, 0.25, 10.0, 1), node(3, 1, 103, 1, 0.5, kNaN)};
  EXPECT_EQ(merge_trees({tree}), tree);
}

TEST(TreeMerge, NoTreesGiveAnEmptyTree) {
  EXPECT_TRUE(merge_trees({}).empty());
  EXPECT_TRUE(merge_trees({{}, {}}).empty());
}

TEST(TreeMerge, SharedNodesSumVisitsAndValues) {
  std::vector<TreeNode> a = {node(0, -1, 100, 4, 2.0), node(1, 0, 101, 3, 1.5)};
  std::vector<TreeNode> b = {node(0, -1, 100, 6, 3.0), node(1, 0, 101, 2, 0.75)};
  EXPECT_EQ(merge_trees({a, b}),
            (std::vector<TreeNode>{node(0, -1, 100, 10, 5.0), node(1, 0, 101, 5, 2.25)}));
}

TEST(TreeMerge, NodeUnderDifferentParentsKeepsTheFirstRanksParentAndAction) {
  // Program 103 is a child of 101 on rank 0 and of 102 on rank 1.
  std::vector<TreeNode> a = {node(0, -1, 100), node(1, 0, 101), node(2, 0, 102), node(3, 1, 103)};
  a[3].action = "via 101";
  std::vector<TreeNode> b = {node(0, -1, 100), node(1, 0, 102), node(2, 1, 103)};
  b[2].action = "via 102";
  auto m = merge_trees({a, b});
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[3].structural_hash, 103u);
  EXPECT_EQ(m[3].parent, 1);
  EXPECT_EQ(m[3].action, "via 101");
  EXPECT_EQ(m[3].visits, 2);
}

TEST(TreeMerge, NewNodesOfALaterTreeAreAppendedWithRemappedParents) {
  std::vector<TreeNode> a = {node(0, -1, 100), node(1, 0, 101), node(2, 1, 102)};
  // Rank 1 found 102 too (its id 3 there), and below it 104, then 105 below 104; 103 is new under 0.
  std::vector<TreeNode> b = {node(0, -1, 100), node(1, 0, 103), node(2, 0, 101),
                             node(3, 2, 102),  node(4, 3, 104), node(5, 4, 105)};
  auto m = merge_trees({a, b});
  ASSERT_EQ(m.size(), 6u);
  for (std::size_t i = 0; i < m.size(); ++i) EXPECT_EQ(m[i].id, static_cast<int64_t>(i));
  EXPECT_EQ(m[3].structural_hash, 103u);
  EXPECT_EQ(m[3].parent, 0);
  EXPECT_EQ(m[4].structural_hash, 104u);
  EXPECT_EQ(m[4].parent, 2);  // 102, which is node 2 of the merged tree (node 3 of rank 1's)
  EXPECT_EQ(m[5].structural_hash, 105u);
  EXPECT_EQ(m[5].parent, 4);
}

TEST(TreeMerge, SampleIsTheFirstMeasuredOneInRankOrder) {
  std::vector<TreeNode> a = {node(0, -1, 100), node(1, 0, 101, 1, 0, kNaN, -1),
                             node(2, 0, 102, 1, 0, 5.0, 7)};
  std::vector<TreeNode> b = {node(0, -1, 100), node(1, 0, 101, 1, 0, 4.0, 3), node(2, 0, 102, 1, 0, 6.0, 9)};
  std::vector<TreeNode> c = {node(0, -1, 100), node(1, 0, 101, 1, 0, 4.0, 11)};
  auto m = merge_trees({a, b, c});
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].sample, -1);
  EXPECT_EQ(m[1].sample, 3);
  EXPECT_EQ(m[2].sample, 7);
}

TEST(TreeMerge, BestGflopsIsTheMaxOverTheMergedSubtreeIgnoringNaN) {
  // Rank 0: 0 -> 1 (10) -> 2 (NaN). Rank 1: 0 -> 3 (NaN) -> 2 (50): program 2 stays under 1, so
  // its 50 counts for 1 and the root, not for 3.
  std::vector<TreeNode> a = {node(0, -1, 100, 1, 0, 10.0), node(1, 0, 101, 1, 0, 10.0, 0),
                             node(2, 1, 102, 1, 0, kNaN)};
  std::vector<TreeNode> b = {node(0, -1, 100, 1, 0, 50.0), node(1, 0, 103, 1, 0, 50.0),
                             node(2, 1, 102, 1, 0, 50.0, 4)};
  auto m = merge_trees({a, b});
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[2].structural_hash, 102u);
  EXPECT_DOUBLE_EQ(m[2].best_gflops, 50.0);
  EXPECT_DOUBLE_EQ(m[1].best_gflops, 50.0);
  EXPECT_DOUBLE_EQ(m[0].best_gflops, 50.0);
  EXPECT_EQ(m[3].structural_hash, 103u);
  EXPECT_DOUBLE_EQ(m[3].best_gflops, 50.0);  // rank 1's own subtree best, kept as input
  std::vector<TreeNode> c = {node(0, -1, 100), node(1, 0, 104, 1, 0, kNaN)};
  auto n = merge_trees({c});
  EXPECT_TRUE(std::isnan(n[0].best_gflops));
  EXPECT_TRUE(std::isnan(n[1].best_gflops));
}

TEST(TreeMerge, ChildrenFromAnotherRankRaiseTheirMergedAncestorsBest) {
  // Rank 0: 0 -> 101 -> 103 (5). Rank 1: 0 -> 102 -> 103 -> 104 (60). 103 stays under 101, and
  // 104 joins it there: 101's subtree now holds 60, which no input said of 101.
  std::vector<TreeNode> a = {node(0, -1, 100, 1, 0, 5.0), node(1, 0, 101, 1, 0, 5.0),
                             node(2, 1, 103, 1, 0, 5.0, 0)};
  std::vector<TreeNode> b = {node(0, -1, 100, 1, 0, 60.0), node(1, 0, 102, 1, 0, 60.0),
                             node(2, 1, 103, 1, 0, 60.0), node(3, 2, 104, 1, 0, 60.0, 1)};
  auto m = merge_trees({a, b});
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[1].structural_hash, 101u);
  EXPECT_DOUBLE_EQ(m[1].best_gflops, 60.0);
  EXPECT_EQ(m[4].structural_hash, 104u);
  EXPECT_EQ(m[4].parent, 2);
  EXPECT_DOUBLE_EQ(m[0].best_gflops, 60.0);
}

TEST(TreeMerge, NodesWithUnknownHashAreNeverMerged) {
  std::vector<TreeNode> a = {node(0, -1, 100), node(1, 0, 0), node(2, 0, 0)};
  std::vector<TreeNode> b = {node(0, -1, 100), node(1, 0, 0)};
  auto m = merge_trees({a, b});
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].visits, 2);
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(m[i].visits, 1) << i;
    EXPECT_EQ(m[i].parent, 0) << i;
  }
}

TEST(TreeMerge, RootsWithUnknownHashAreStillMerged) {
  std::vector<TreeNode> a = {node(0, -1, 0, 2, 1.0)};
  std::vector<TreeNode> b = {node(0, -1, 100, 3, 1.0), node(1, 0, 101)};
  auto m = merge_trees({a, b});
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].visits, 5);
  EXPECT_EQ(m[0].structural_hash, 100u);
}

TEST(TreeMerge, RepeatedProgramWithinOneTreeIsMerged) {
  std::vector<TreeNode> a = {node(0, -1, 100), node(1, 0, 101, 2, 1.0), node(2, 0, 102),
                             node(3, 2, 101, 3, 1.0), node(4, 3, 104)};
  auto m = merge_trees({a});
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[1].visits, 5);
  EXPECT_DOUBLE_EQ(m[1].value, 2.0);
  EXPECT_EQ(m[3].structural_hash, 104u);
  EXPECT_EQ(m[3].parent, 1);
}

TEST(TreeMerge, ParentThatIsNotAnEarlierNodeThrows) {
  std::vector<TreeNode> good = {node(0, -1, 100), node(1, 0, 101)};
  std::vector<TreeNode> later = {node(0, -1, 100), node(1, 2, 101), node(2, 0, 102)};
  try {
    merge_trees({good, later});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("tree 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("parent 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(merge_trees({{node(0, -1, 100), node(1, 1, 101)}}), std::invalid_argument);   // itself
  EXPECT_THROW(merge_trees({{node(0, -1, 100), node(1, -1, 101)}}), std::invalid_argument);  // a second root
  EXPECT_THROW(merge_trees({{node(0, 3, 100)}}), std::invalid_argument);  // a first node that is no root
}

}  // namespace
}  // namespace rctune::dist
