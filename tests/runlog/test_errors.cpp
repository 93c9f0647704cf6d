// Failures a user can cause while writing: each names the file and the cause.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>

#include "rctune/runlog/writer.h"
#include "runlog/runlog_test_util.h"

namespace rctune::runlog {
namespace {

using namespace rctune::runlog::testing;

// The RunLogError that `fn` throws; fails the test when it throws none.
RunLogError run_log_error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const RunLogError& e) {
    return e;
  }
  ADD_FAILURE() << "expected RunLogError";
  return RunLogError("", "(no RunLogError)");
}

TEST(TraceErrors, CreateInMissingDirectoryNamesFileAndCause) {
  TempDir dir;
  std::string path = dir.file("missing/run.h5");
  const RunLogError e = run_log_error_of([&] { RunWriter::create(path, sample_run_info()); });
  EXPECT_EQ(e.path(), path);
  expect_contains_all(e.what(), {path, "cannot create", "No such file or directory"});
}

TEST(TraceErrors, CreateInReadOnlyDirectoryNamesFileAndCause) {
  if (geteuid() == 0) GTEST_SKIP() << "root may write anywhere";
  TempDir dir;
  std::filesystem::create_directory(dir.file("ro"));
  chmod(dir.file("ro").c_str(), 0500);
  std::string path = dir.file("ro/run.h5");
  expect_contains_all(trace_error_of([&] { RunWriter::create(path, sample_run_info()); }),
                      {path, "Permission denied"});
}

TEST(TraceErrors, ResumeOfReadOnlyFileNamesFileAndCause) {
  if (geteuid() == 0) GTEST_SKIP() << "root may write anywhere";
  TempDir dir;
  std::string path = dir.file("run.h5");
  { RunWriter::create(path, sample_run_info()); }
  chmod(path.c_str(), 0400);
  expect_contains_all(trace_error_of([&] { RunWriter::open_for_resume(path); }),
                      {path, "cannot open for writing", "Permission denied"});
}

// Runs `fn` in a child process and returns what it reports: the message of the RunLogError it
// threw. A file whose writes failed cannot be closed, so it must not stay open in the test process.
std::string error_in_child(const std::function<void()>& fn) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return "(no pipe)";
  pid_t pid = fork();
  if (pid < 0) return "(no fork)";
  if (pid == 0) {
    close(pipefd[0]);
    signal(SIGXFSZ, SIG_IGN);
    std::string msg = "(no error)";
    try {
      fn();
    } catch (const RunLogError& e) {
      msg = e.what();
    } catch (const std::exception& e) {
      msg = std::string("other exception: ") + e.what();
    }
    ssize_t ignored = write(pipefd[1], msg.data(), msg.size());
    (void)ignored;
    _exit(0);
  }
  close(pipefd[1]);
  std::string msg;
  char buf[512];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<std::size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return msg;
}

// A device (here /dev/full) is never opened as a trace: only a new file, or with replace an
// existing trace, is written. (A full disk: WriteFailureMidRunNamesFileAndCause, and
// tests/hostile/test_overwrite.cpp.)
TEST(TraceErrors, ADeviceIsNeverWrittenAsATrace) {
  if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no writable /dev/full here";
  std::string msg = error_in_child([] {
    RunWriter w = RunWriter::create("/dev/full", sample_run_info(), true);
    auto t = w.begin_task(sample_task());
    for (int i = 0; i < 100; ++i) w.append_sample(t, make_sample(i));
  });
  EXPECT_NE(msg.find("/dev/full"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a regular file"), std::string::npos) << msg;
}

// A file that reaches the size limit mid-run: the append that fails says so.
TEST(TraceErrors, WriteFailureMidRunNamesFileAndCause) {
  TempDir dir;
  std::string path = dir.file("run.h5");
  std::string msg = error_in_child([&] {
    RunWriter w = RunWriter::create(path, sample_run_info());
    auto t = w.begin_task(sample_task());
    rlimit lim{256 * 1024, 256 * 1024};
    setrlimit(RLIMIT_FSIZE, &lim);
    for (int i = 0; i < 100000; ++i) w.append_sample(t, make_sample(i));
  });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("cannot write samples of task"), std::string::npos) << msg;
  EXPECT_NE(msg.find("File too large"), std::string::npos) << msg;
}

TEST(TraceErrors, FileHeldByAnotherWriterIsReportedAsLocked) {
  TempDir dir;
  std::string path = dir.file("run.h5");
  { RunWriter::create(path, sample_run_info()); }
  int ready[2], done[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(done), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // holds the file open as a running tuner would
    RunWriter w = RunWriter::open_for_resume(path);
    char c = 1;
    if (write(ready[1], &c, 1) != 1) _exit(1);
    if (read(done[0], &c, 1) < 0) _exit(1);
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  std::string msg;
  try {
    RunWriter::open_for_resume(path);
  } catch (const RunLogError& e) {
    msg = e.what();
  }
  ASSERT_EQ(write(done[1], &c, 1), 1);
  waitpid(pid, nullptr, 0);
  for (int fd : {ready[0], ready[1], done[0], done[1]}) close(fd);
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("another run is writing it (pid " + std::to_string(pid) + ")"), std::string::npos)
      << msg;
}

}  // namespace
}  // namespace rctune::runlog
