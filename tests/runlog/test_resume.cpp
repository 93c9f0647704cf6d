#include <gtest/gtest.h>
#include <hdf5.h>

#include <fstream>

#include "rctune/runlog/writer.h"
#include "runlog/runlog_test_util.h"

namespace rctune::runlog {
namespace {

using namespace rctune::runlog::testing;

void write_two_tasks(const std::string& path, int n_a, int n_b) {
  RunWriter w = RunWriter::create(path, sample_run_info());
  auto a = w.begin_task(sample_task("a"));
  auto b = w.begin_task(sample_task("b"));
  for (int i = 0; i < n_a; ++i) w.append_sample(a, make_sample(i));
  for (int i = 0; i < n_b; ++i) w.append_sample(b, make_sample(100 + i));
  TreeNode root;
  root.visits = 7;
  w.write_tree(a, {root});
  w.write_best(a, BestSchedule{2, 1.0, "best trace", "", 9, 0.1, 2});
}  // closed without finish(), as by a run that stopped

TEST(TraceResume, ReadsBackEverythingWritten) {
  TempDir dir;
  write_two_tasks(dir.file("run.h5"), 5, 3);
  RunWriter w = RunWriter::open_for_resume(dir.file("run.h5"));
  const RunLog& r = w.resumed();
  EXPECT_EQ(r.info.config_text, sample_run_info().config_text);
  ASSERT_EQ(r.tasks.size(), 2u);
  EXPECT_EQ(r.tasks[0].info.name, "a");
  ASSERT_EQ(r.tasks[0].samples.size(), 5u);
  EXPECT_EQ(r.tasks[0].samples[4], make_sample(4));
  ASSERT_EQ(r.tasks[1].samples.size(), 3u);
  EXPECT_EQ(r.tasks[1].samples[0], make_sample(100));
  ASSERT_EQ(r.tasks[0].tree.size(), 1u);
  EXPECT_EQ(r.tasks[0].tree[0].visits, 7);
  ASSERT_TRUE(r.tasks[0].best);
  EXPECT_EQ(r.tasks[0].best->trace, "best trace");
  EXPECT_EQ(w.info().config_text, sample_run_info().config_text);
}

TEST(TraceResume, ContinuesExistingTasksAndAddsNewOnes) {
  TempDir dir;
  write_two_tasks(dir.file("run.h5"), 5, 3);
  {
    RunWriter w = RunWriter::open_for_resume(dir.file("run.h5"));
    auto a = w.find_task("a");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(w.begin_task(sample_task("a")), *a);
    EXPECT_EQ(w.num_samples(*a), 5u);
    EXPECT_THROW(w.append_sample(*a, make_sample(4)), std::invalid_argument);  // measured before the stop
    w.append_sample(*a, make_sample(5));
    auto c = w.begin_task(sample_task("c"));
    w.append_sample(c, make_sample(0));
    w.finish();
  }
  RunLog run = read_run_log(dir.file("run.h5"));
  ASSERT_EQ(run.tasks.size(), 3u);
  EXPECT_EQ(run.tasks[0].samples.size(), 6u);
  EXPECT_EQ(run.tasks[0].samples[5], make_sample(5));
  EXPECT_EQ(run.tasks[1].samples.size(), 3u);
  EXPECT_EQ(run.tasks[2].info.name, "c");
  EXPECT_TRUE(run.finished());
}

TEST(TraceResume, RecordsEachResumeTime) {
  TempDir dir;
  write_two_tasks(dir.file("run.h5"), 1, 0);
  { RunWriter::open_for_resume(dir.file("run.h5")); }
  { RunWriter::open_for_resume(dir.file("run.h5")); }
  RunLog run = read_run_log(dir.file("run.h5"));
  ASSERT_EQ(run.info.resume_times.size(), 2u);
  EXPECT_GE(run.info.resume_times[1], run.info.resume_times[0]);
  EXPECT_GE(run.info.resume_times[0], run.info.start_time);
}

TEST(TraceResume, MissingFileNamesTheFileAndCause) {
  TempDir dir;
  std::string msg = testing::trace_error_of([&] { RunWriter::open_for_resume(dir.file("nope.h5")); });
  EXPECT_NE(msg.find("nope.h5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("No such file or directory"), std::string::npos) << msg;
}

TEST(TraceResume, NonHdf5FileIsNotATrace) {
  TempDir dir;
  std::ofstream(dir.file("config.yaml")) << "tasks: []\n";
  std::string msg = testing::trace_error_of([&] { RunWriter::open_for_resume(dir.file("config.yaml")); });
  EXPECT_NE(msg.find("config.yaml"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not an rctune trace: not an HDF5 file"), std::string::npos) << msg;
  EXPECT_NE(testing::trace_error_of([&] { read_run_log(dir.file("config.yaml")); }).find("not an HDF5 file"),
            std::string::npos);
}

TEST(TraceResume, Hdf5FileOfAnotherProgramIsNotATrace) {
  TempDir dir;
  hid_t f = H5Fcreate(dir.file("other.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  H5Fclose(f);
  std::string msg = testing::trace_error_of([&] { RunWriter::open_for_resume(dir.file("other.h5")); });
  EXPECT_NE(msg.find("other.h5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not an rctune trace"), std::string::npos) << msg;
}

TEST(TraceResume, NewerFormatVersionIsRefused) {
  TempDir dir;
  write_two_tasks(dir.file("run.h5"), 1, 0);
  hid_t f = H5Fopen(dir.file("run.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
  int64_t v = kFormatVersion + 1;
  H5Awrite(a, H5T_NATIVE_INT64, &v);
  H5Aclose(a);
  H5Fclose(f);
  std::string msg = testing::trace_error_of([&] { RunWriter::open_for_resume(dir.file("run.h5")); });
  EXPECT_NE(msg.find("format version 2 is not supported"), std::string::npos) << msg;
}

TEST(TraceResume, DirectoryIsNotATrace) {
  TempDir dir;
  std::string msg = testing::trace_error_of([&] { read_run_log(dir.path().string()); });
  EXPECT_NE(msg.find("is a directory"), std::string::npos) << msg;
}

}  // namespace
}  // namespace rctune::runlog
