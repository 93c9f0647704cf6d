// Programs that a run starts while it writes its trace (compile and measurement workers) do not
// inherit the trace file, and with it HDF5's lock: the writer keeps committing, and a resumed run
// opens the file, while they live.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "rctune/runlog/writer.h"
#include "runlog/runlog_test_util.h"

namespace rctune::runlog {
namespace {

using namespace rctune::runlog::testing;

// A program started now (through /bin/sh, as popen does: fork and exec) that lives until closed
// (it reads its input to the end).
class ChildProgram {
 public:
  ChildProgram() : pipe_(popen("cat > /dev/null", "w")) {}
  ~ChildProgram() {
    if (pipe_) pclose(pipe_);
  }
  ChildProgram(const ChildProgram&) = delete;
  ChildProgram& operator=(const ChildProgram&) = delete;
  bool started() const { return pipe_ != nullptr; }

 private:
  FILE* pipe_;
};

TEST(TraceChildProcesses, WriterKeepsCommittingWhileAProgramItStartedRuns) {
  TempDir dir;
  RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
  auto t = w.begin_task(sample_task());
  w.append_sample(t, make_sample(0));
  ChildProgram child;
  ASSERT_TRUE(child.started());
  w.append_sample(t, make_sample(1));  // the commit closes and reopens the file
  w.finish();
  EXPECT_EQ(read_run_log(dir.file("run.h5")).tasks.at(0).samples.size(), 2u);
}

TEST(TraceChildProcesses, ResumedWriterKeepsCommittingWhileAProgramItStartedRuns) {
  TempDir dir;
  { RunWriter::create(dir.file("run.h5"), sample_run_info()).begin_task(sample_task()); }
  RunWriter w = RunWriter::open_for_resume(dir.file("run.h5"));
  ChildProgram child;
  ASSERT_TRUE(child.started());
  w.append_sample(w.begin_task(sample_task()), make_sample(0));
  w.finish();
  EXPECT_EQ(read_run_log(dir.file("run.h5")).tasks.at(0).samples.size(), 1u);
}

TEST(TraceChildProcesses, ResumeOpensTheFileWhileAProgramTheKilledRunStartedLives) {
  TempDir dir;
  std::unique_ptr<ChildProgram> child;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    w.append_sample(w.begin_task(sample_task()), make_sample(0));
    child = std::make_unique<ChildProgram>();
    ASSERT_TRUE(child->started());
  }  // the writer is gone; the program it started lives on
  RunWriter w = RunWriter::open_for_resume(dir.file("run.h5"));
  EXPECT_EQ(w.resumed().tasks.at(0).samples.size(), 1u);
}

}  // namespace
}  // namespace rctune::runlog
