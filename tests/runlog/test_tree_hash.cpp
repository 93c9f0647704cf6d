// The structural_hash column of the tree table: round trip, in-place updates, older files without it.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <string>
#include <vector>

#include "rctune/runlog/writer.h"
#include "runlog/runlog_test_util.h"

namespace rctune::runlog {
namespace {

using namespace rctune::runlog::testing;

// The file address of the task's tree dataset: unchanged when the table is updated in place.
haddr_t tree_address(const std::string& path) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(f, 0);
  H5O_info_t info{};
  EXPECT_GE(H5Oget_info_by_name2(f, "/tasks/matmul_512x512x512/tree", &info, H5O_INFO_BASIC, H5P_DEFAULT), 0);
  H5Fclose(f);
  return info.addr;
}

// Writes the tree sample_tree(10, 1) to a new run file at `path`, then `next` over it; true when the
// second write left the table where it was (updated in place, not rebuilt).
bool rewrite_keeps_the_table(const std::string& path, const std::vector<TreeNode>& next) {
  RunWriter w = RunWriter::create(path, sample_run_info());
  auto t = w.begin_task(sample_task());
  w.write_tree(t, sample_tree(10, 1));
  const haddr_t before = tree_address(path);
  w.write_tree(t, next);
  return tree_address(path) == before;
}

TEST(TraceTreeHash, HashesReadBack) {
  TempDir dir;
  auto tree = sample_tree(300, 1);  // more than a chunk
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    w.write_tree(w.begin_task(sample_task()), tree);
  }
  auto back = read_run_log(dir.file("run.h5")).tasks.at(0).tree;
  EXPECT_EQ(back, tree);
  EXPECT_EQ(back[7].structural_hash, 0x9e3779b97f4a7c15ULL + 7);
}

TEST(TraceTreeHash, InPlaceUpdateKeepsTheHashes) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  const auto grown = sample_tree(20, 2);  // same first ten keys (hashes included), new numbers
  EXPECT_TRUE(rewrite_keeps_the_table(path, grown)) << "the table was rebuilt, not updated in place";
  EXPECT_EQ(read_run_log(path).tasks.at(0).tree, grown);
}

TEST(TraceTreeHash, AChangedHashRebuildsTheTable) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  auto changed = sample_tree(10, 1);
  changed[4].structural_hash = 42;  // same id, parent and action: another program all the same
  EXPECT_FALSE(rewrite_keeps_the_table(path, changed)) << "a row of another program was updated in place";
  EXPECT_EQ(read_run_log(path).tasks.at(0).tree, changed);
}

// Replaces the task's tree with a table of the layout of files written before the hash column.
void write_tree_without_hash_column(const std::string& path, const std::vector<TreeNode>& nodes) {
  struct OldRow {
    int64_t id, parent;
    const char* action;
    int64_t visits;
    double value, best_gflops;
    int64_t sample;
  };
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  hid_t g = H5Gopen2(f, "/tasks/matmul_512x512x512", H5P_DEFAULT);
  ASSERT_GE(g, 0);
  ASSERT_GE(H5Ldelete(g, "tree", H5P_DEFAULT), 0);
  hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, H5T_VARIABLE);
  H5Tset_cset(str, H5T_CSET_UTF8);
  hid_t type = H5Tcreate(H5T_COMPOUND, sizeof(OldRow));
  H5Tinsert(type, "id", HOFFSET(OldRow, id), H5T_NATIVE_INT64);
  H5Tinsert(type, "parent", HOFFSET(OldRow, parent), H5T_NATIVE_INT64);
  H5Tinsert(type, "action", HOFFSET(OldRow, action), str);
  H5Tinsert(type, "visits", HOFFSET(OldRow, visits), H5T_NATIVE_INT64);
  H5Tinsert(type, "value", HOFFSET(OldRow, value), H5T_NATIVE_DOUBLE);
  H5Tinsert(type, "best_gflops", HOFFSET(OldRow, best_gflops), H5T_NATIVE_DOUBLE);
  H5Tinsert(type, "sample", HOFFSET(OldRow, sample), H5T_NATIVE_INT64);
  std::vector<OldRow> rows;
  for (const auto& n : nodes)
    rows.push_back({n.id, n.parent, n.action.c_str(), n.visits, n.value, n.best_gflops, n.sample});
  hsize_t dims = rows.size(), maxdims = H5S_UNLIMITED, chunk = 256;
  hid_t space = H5Screate_simple(1, &dims, &maxdims);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 1, &chunk);
  hid_t d = H5Dcreate2(g, "tree", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ASSERT_GE(d, 0);
  ASSERT_GE(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), 0);
  H5Dclose(d);
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Tclose(type);
  H5Tclose(str);
  H5Gclose(g);
  H5Fclose(f);
}

// A run file at `path` with the sample task whose tree, `nodes`, is stored as by a version that had
// no structural_hash column.
void create_with_tree_without_hash_column(const std::string& path, const std::vector<TreeNode>& nodes) {
  {
    RunWriter w = RunWriter::create(path, sample_run_info());
    w.begin_task(sample_task());
  }
  write_tree_without_hash_column(path, nodes);
}

std::vector<TreeNode> without_hashes(std::vector<TreeNode> nodes) {
  for (auto& n : nodes) n.structural_hash = 0;
  return nodes;
}

TEST(TraceTreeHash, TreeWithoutTheColumnReadsAsUnknownHashes) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  auto tree = sample_tree(12, 1);
  create_with_tree_without_hash_column(path, tree);
  EXPECT_EQ(read_run_log(path).tasks.at(0).tree, without_hashes(tree));
}

TEST(TraceTreeHash, ResumedFileWithoutTheColumnGetsItAtTheNextWrite) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  auto tree = sample_tree(12, 1);
  create_with_tree_without_hash_column(path, tree);
  {
    RunWriter w = RunWriter::open_for_resume(path);
    EXPECT_EQ(w.resumed().tasks.at(0).tree, without_hashes(tree));
    // Same ids, parents and actions, hashes still unknown: the stored rows must gain the column all
    // the same, or the hashes of the rows appended here would be lost.
    auto grown = without_hashes(sample_tree(20, 2));
    grown[15].structural_hash = 77;
    w.write_tree(*w.find_task(sample_task().name), grown);
    EXPECT_EQ(read_run_log(path).tasks.at(0).tree, grown);
    auto hashed = sample_tree(20, 3);
    w.write_tree(*w.find_task(sample_task().name), hashed);
    EXPECT_EQ(read_run_log(path).tasks.at(0).tree, hashed);
  }
  EXPECT_EQ(read_run_log(path).tasks.at(0).tree, sample_tree(20, 3));
}

}  // namespace
}  // namespace rctune::runlog
