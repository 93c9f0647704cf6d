// The library-baseline task attributes (library_name, library_seconds, library_gflops): written by
// begin_task and set_library, read back, optional in older files.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <string>

#include "rctune/runlog/writer.h"
#include "runlog/runlog_test_util.h"

namespace rctune::runlog {
namespace {

using namespace rctune::runlog::testing;

// Checks that the run file at `path` holds one task, with these library fields.
void expect_one_task_with_library(const std::string& path, const std::string& name, double seconds,
                                  double gflops) {
  RunLog run = read_run_log(path);
  ASSERT_EQ(run.tasks.size(), 1u);
  EXPECT_EQ(run.tasks[0].info.library_name, name);
  EXPECT_EQ(run.tasks[0].info.library_seconds, seconds);
  EXPECT_EQ(run.tasks[0].info.library_gflops, gflops);
}

TEST(TraceLibraryAttrs, SetLibraryReadsBack) {
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    auto t = w.begin_task(sample_task());
    w.set_library(t, "openblas_sgemm", 0.002, 134.2);
    EXPECT_EQ(w.task_info(t).library_name, "openblas_sgemm");
  }
  expect_one_task_with_library(dir.file("run.h5"), "openblas_sgemm", 0.002, 134.2);
}

TEST(TraceLibraryAttrs, TaskInfoLibraryFieldsWrittenByBeginTask) {
  TempDir dir;
  TaskInfo info = sample_task();
  info.library_name = "openblas_im2col_sgemm";
  info.library_seconds = 0.5;
  info.library_gflops = 7.25;
  { RunWriter::create(dir.file("run.h5"), sample_run_info()).begin_task(info); }
  expect_one_task_with_library(dir.file("run.h5"), "openblas_im2col_sgemm", 0.5, 7.25);
}

TEST(TraceLibraryAttrs, SetLibraryReplacesAfterResume) {
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    w.set_library(w.begin_task(sample_task()), "openblas_sgemm", 1.0, 2.0);
  }
  {
    RunWriter w = RunWriter::open_for_resume(dir.file("run.h5"));
    ASSERT_EQ(w.resumed().tasks.size(), 1u);
    EXPECT_EQ(w.resumed().tasks[0].info.library_name, "openblas_sgemm");
    w.set_library(*w.find_task(sample_task().name), "openblas_im2col_sgemm", 3.0, 4.0);
  }
  RunLog run = read_run_log(dir.file("run.h5"));
  EXPECT_EQ(run.tasks[0].info.library_name, "openblas_im2col_sgemm");
  EXPECT_EQ(run.tasks[0].info.library_seconds, 3.0);
  EXPECT_EQ(run.tasks[0].info.library_gflops, 4.0);
}

TEST(TraceLibraryAttrs, FileWithoutLibraryAttributesReadsAsNone) {
  TempDir dir;
  std::string group;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    w.set_library(w.begin_task(sample_task()), "openblas_sgemm", 1.0, 2.0);
  }
  group = read_run_log(dir.file("run.h5")).tasks.at(0).group;
  // Remove the attributes, as in a file written before they existed.
  hid_t f = H5Fopen(dir.file("run.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  hid_t g = H5Gopen2(f, group.c_str(), H5P_DEFAULT);
  ASSERT_GE(g, 0);
  for (const char* a : {"library_name", "library_seconds", "library_gflops"})
    EXPECT_GE(H5Adelete(g, a), 0) << a;
  H5Gclose(g);
  H5Fclose(f);
  RunLog run = read_run_log(dir.file("run.h5"));
  ASSERT_EQ(run.tasks.size(), 1u);
  EXPECT_EQ(run.tasks[0].info.library_name, "");
  EXPECT_EQ(run.tasks[0].info.library_seconds, 0);
  EXPECT_EQ(run.tasks[0].info.library_gflops, 0);
  EXPECT_EQ(run.tasks[0].info.reference_seconds, sample_task().reference_seconds);
}

}  // namespace
}  // namespace rctune::runlog
