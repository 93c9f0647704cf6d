// The field lists (rctune/runlog/fields.h) are the file format: the tables' columns come out in
// the documented order with the documented types, and a record equals only a record with the same
// value in every field.
#include <gtest/gtest.h>

#include <hdf5.h>

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "rctune/runlog/fields.h"
#include "rctune/runlog/writer.h"
#include "runlog/runlog_test_util.h"

namespace rctune::runlog {
namespace {

using namespace rctune::runlog::testing;

struct Column {
  std::string name;
  H5T_class_t type_class;
  std::size_t size;
  bool operator==(const Column&) const = default;
};

// The columns of a table as HDF5 stores them.
std::vector<Column> columns_of(const std::string& path, const std::string& table) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, table.c_str(), H5P_DEFAULT);
  hid_t t = H5Dget_type(d);
  std::vector<Column> out;
  for (int i = 0; i < H5Tget_nmembers(t); ++i) {
    char* name = H5Tget_member_name(t, static_cast<unsigned>(i));
    hid_t m = H5Tget_member_type(t, static_cast<unsigned>(i));
    out.push_back({name, H5Tget_class(m), H5Tis_variable_str(m) > 0 ? 0 : H5Tget_size(m)});
    H5free_memory(name);
    H5Tclose(m);
  }
  H5Tclose(t);
  H5Dclose(d);
  H5Fclose(f);
  return out;
}

TEST(RunLogFields, TheSamplesTableHasTheDocumentedColumnsInOrder) {
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    w.append_sample(w.begin_task(sample_task()), make_sample(0));
  }
  const std::vector<Column> expected = {
      {"index", H5T_INTEGER, 8},       {"wall_time", H5T_FLOAT, 8},
      {"rank", H5T_INTEGER, 4},        {"strategy", H5T_STRING, 0},
      {"proposer", H5T_STRING, 0},     {"node", H5T_INTEGER, 8},
      {"parent_node", H5T_INTEGER, 8}, {"trace", H5T_STRING, 0},
      {"rationale", H5T_STRING, 0},    {"structural_hash", H5T_INTEGER, 8},
      {"status", H5T_ENUM, 1},         {"error", H5T_STRING, 0},
      {"cached", H5T_ENUM, 1},         {"median_s", H5T_FLOAT, 8},
      {"min_s", H5T_FLOAT, 8},         {"max_s", H5T_FLOAT, 8},
      {"iqr_s", H5T_FLOAT, 8},         {"gflops", H5T_FLOAT, 8},
      {"predicted", H5T_FLOAT, 8},     {"compile_s", H5T_FLOAT, 8},
  };
  EXPECT_EQ(columns_of(dir.file("run.h5"), "/tasks/" + sanitize_task_name(sample_task().name) + "/samples"),
            expected);
}

TEST(RunLogFields, TheTreeTableEndsWithTheHashAddedLater) {
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    TreeNode root;
    w.write_tree(w.begin_task(sample_task()), {root});
  }
  const std::vector<Column> expected = {
      {"id", H5T_INTEGER, 8},     {"parent", H5T_INTEGER, 8},
      {"action", H5T_STRING, 0},  {"visits", H5T_INTEGER, 8},
      {"value", H5T_FLOAT, 8},    {"best_gflops", H5T_FLOAT, 8},
      {"sample", H5T_INTEGER, 8}, {"structural_hash", H5T_INTEGER, 8},
  };
  EXPECT_EQ(columns_of(dir.file("run.h5"), "/tasks/" + sanitize_task_name(sample_task().name) + "/tree"),
            expected);
}

TEST(RunLogFields, TheAllocationsTableHasTheDocumentedColumnsInOrder) {
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    const AllocationRecord a;
    w.append_allocations(std::span<const AllocationRecord>(&a, 1));
  }
  const std::vector<Column> expected = {
      {"round", H5T_INTEGER, 8},     {"wall_time", H5T_FLOAT, 8},  {"group", H5T_INTEGER, 4},
      {"task", H5T_STRING, 0},       {"scheduler", H5T_STRING, 0}, {"reason", H5T_STRING, 0},
      {"priority", H5T_FLOAT, 8},    {"samples", H5T_INTEGER, 8},  {"spent", H5T_INTEGER, 8},
      {"task_best_s", H5T_FLOAT, 8}, {"latency_s", H5T_FLOAT, 8},
  };
  EXPECT_EQ(columns_of(dir.file("run.h5"), "/allocations"), expected);
}

// Changes each field of `base` in turn and expects the record to differ from `base`; returns the
// number of fields.
template <typename R>
int expect_each_field_counts_in_equality(const R& base) {
  int fields = 0;
  for_each_field<R>([&](const char* name, bool, auto access) {
    R changed = base;
    auto& v = access(changed);
    using T = std::remove_cvref_t<decltype(v)>;
    if constexpr (std::is_same_v<T, std::string>)
      v += "x";
    else if constexpr (std::is_same_v<T, bool>)
      v = !v;
    else if constexpr (std::is_same_v<T, SampleStatus>)
      v = v == SampleStatus::Ok ? SampleStatus::Timeout : SampleStatus::Ok;
    else if constexpr (std::is_floating_point_v<T>)
      v = std::isnan(v) ? 1.0 : v + 1;
    else
      v = v + 1;
    EXPECT_FALSE(changed == base) << name;
    ++fields;
  });
  return fields;
}

TEST(RunLogFields, RecordsDifferingInAnyOneFieldAreNotEqual) {
  EXPECT_EQ(expect_each_field_counts_in_equality(make_sample(3)), 20);
}

TEST(RunLogFields, AllocationsDifferingInAnyOneFieldAreNotEqual) {
  AllocationRecord base;
  base.task = "matmul";
  base.priority = kNaN;
  EXPECT_TRUE(base == base);  // NaN equals NaN here
  EXPECT_EQ(expect_each_field_counts_in_equality(base), 11);
}

TEST(RunLogFields, CopyMatchingFieldsCopiesOnlyFieldsOfTheSameName) {
  SampleRecord s = make_sample(5);
  TreeNode n;
  copy_matching_fields(n, s);  // the two share structural_hash only
  EXPECT_EQ(n.structural_hash, s.structural_hash);
  EXPECT_EQ(n.id, 0);
  EXPECT_EQ(n.sample, -1);
}

}  // namespace
}  // namespace rctune::runlog
