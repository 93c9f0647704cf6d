// One writer per trace (writer_lock.h): a second writer, in this process or another, never
// truncates or changes a trace that a writer holds; an existing file is replaced only when it is a
// trace and replace (--force) is asked; a refused resume changes nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "rctune/runlog/writer.h"
#include "runlog/runlog_test_util.h"
#include "support/file_text.h"

namespace rctune::runlog {
namespace {

using rctune::test_support::file_text;

using namespace rctune::runlog::testing;

TEST(TraceWriterLock, ASecondWriterNeverTruncatesARunningTrace) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  RunWriter first = writer_with_samples(path, 3);
  const std::string pid = "another run is writing it (pid " + std::to_string(getpid()) + ")";
  for (const bool replace : {false, true}) {
    const std::string msg =
        testing::trace_error_of([&] { RunWriter::create(path, sample_run_info(), replace); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(pid), std::string::npos) << msg;
  }
  const std::string resume = testing::trace_error_of([&] { RunWriter::open_for_resume(path); });
  EXPECT_NE(resume.find(pid), std::string::npos) << resume;
  for (int i = 3; i < 5; ++i) first.append_sample(*first.find_task(sample_task().name), make_sample(i));
  first.finish();
  EXPECT_EQ(read_run_log(path).tasks.at(0).samples.size(), 5u) << "the first writer lost nothing";
}

TEST(TraceWriterLock, AnExistingTraceIsReplacedOnlyWithReplace) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  {
    RunWriter old = RunWriter::create(path, sample_run_info());
    old.append_sample(old.begin_task(sample_task()), make_sample(0));
    old.finish();
  }
  const std::string before = file_text(path);
  const std::string msg = testing::trace_error_of([&] { RunWriter::create(path, sample_run_info()); });
  EXPECT_NE(msg.find("--force"), std::string::npos) << msg;
  EXPECT_EQ(file_text(path), before);
  RunInfo info = sample_run_info();
  info.seed = 77;
  RunWriter::create(path, info, true).finish();
  const RunLog now = read_run_log(path);
  EXPECT_EQ(now.info.seed, 77u);
  EXPECT_TRUE(now.tasks.empty());
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename(), "run.h5") << "left behind: " << e.path();
}

TEST(TraceWriterLock, AFileThatIsNotATraceIsNeverReplaced) {
  TempDir dir;
  const std::string path = dir.file("notes.txt");
  std::ofstream(path) << "my notes\n";
  const std::string msg = testing::trace_error_of([&] { RunWriter::create(path, sample_run_info(), true); });
  EXPECT_NE(msg.find("not an rctune trace"), std::string::npos) << msg;
  EXPECT_EQ(file_text(path), "my notes\n");
}

TEST(TraceWriterLock, AResumeRefusedByItsCheckLeavesTheFileByteIdentical) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  writer_with_samples(path, 4);  // closed, not finished: as a killed run leaves it
  const std::string before = file_text(path);
  bool called = false;
  EXPECT_THROW(RunWriter::open_for_resume(path,
                                          [&](const RunLog& run) {
                                            called = true;
                                            EXPECT_EQ(run.tasks.at(0).samples.size(), 4u);
                                            throw std::runtime_error("another seed");
                                          }),
               std::runtime_error);
  EXPECT_TRUE(called);
  EXPECT_TRUE(file_text(path) == before) << "a refused resume changed the file";
  // Accepted, it resumes as before.
  RunWriter again = RunWriter::open_for_resume(path, [](const RunLog&) {});
  EXPECT_EQ(again.resumed().tasks.at(0).samples.size(), 4u);
}

}  // namespace
}  // namespace rctune::runlog
