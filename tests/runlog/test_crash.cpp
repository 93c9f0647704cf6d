// A writer killed with SIGKILL at any moment leaves a file that h5dump and read_run_log() read with
// every sample whose append_sample() had returned, and that a resumed run continues.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <random>
#include <thread>

#include "rctune/runlog/writer.h"
#include "runlog/runlog_test_util.h"

namespace rctune::runlog {
namespace {

using namespace rctune::runlog::testing;

std::vector<TreeNode> tree_of(int64_t n) {
  std::vector<TreeNode> nodes;
  for (int64_t i = 0; i < n; ++i) {
    TreeNode x;
    x.id = i;
    x.parent = i - 1;
    x.action = "fuse(C, i.0, j.0)  # node " + std::to_string(i);
    x.visits = n - i;
    nodes.push_back(x);
  }
  return nodes;
}

// In a child process: writes samples without end (a tree every 10, a best every 7), reporting the
// index of each sample on `fd` once append_sample() has returned. Kills itself with SIGKILL right
// after sample `self_kill` (-1: never).
[[noreturn]] void write_until_killed(const std::string& path, int fd, int64_t self_kill) {
  try {
    RunWriter w = RunWriter::create(path, sample_run_info());
    auto t = w.begin_task(sample_task());
    for (int64_t i = 0; i < 100000; ++i) {
      w.append_sample(t, make_sample(i));
      if (i % 10 == 9) w.write_tree(t, tree_of(i + 1));
      if (i % 7 == 0)
        w.write_best(
            t, BestSchedule{i, 0.5 * static_cast<double>(i), make_sample(i).trace, "", 1.0 + i, 0.1, 2});
      if (write(fd, &i, sizeof i) != sizeof i) _exit(3);
      if (i == self_kill) raise(SIGKILL);
    }
  } catch (...) {
    _exit(2);
  }
  _exit(0);
}

// Forks a writer; kills it after it confirmed `after` samples and a further `delay_us`, or lets it
// kill itself after sample `self_kill`.
Killed run_and_kill(const std::string& path, int64_t after, int delay_us, int64_t self_kill) {
  return fork_and_kill([&](int fd) { write_until_killed(path, fd, self_kill); }, self_kill < 0 ? after : -1,
                       delay_us);
}

void expect_h5dump_reads(const std::string& h5dump, const std::string& path, int64_t confirmed);

// Reads a killed run's trace. A kill in the microseconds in which the file grows can leave the
// superblock's end-of-allocation mark short of what was written (HDF5 writes the superblock last);
// read_run_log() then says so, and open_for_resume() repairs it, as `h5clear --increment=0` does.
RunLog read_killed(const std::string& path, int* repairs) {
  try {
    return read_run_log(path);
  } catch (const RunLogError& e) {
    if (std::string(e.what()).find("h5clear --increment=0") == std::string::npos) throw;
  }
  ++*repairs;
  { RunWriter::open_for_resume(path); }
  return read_run_log(path);
}

void expect_samples_present(const std::string& path, int64_t confirmed, int* repairs) {
  RunLog run = read_killed(path, repairs);
  ASSERT_EQ(run.tasks.size(), 1u);
  const auto& s = run.tasks[0].samples;
  // Every confirmed sample is there; at most one more (flushed, killed before it was reported).
  ASSERT_GE(static_cast<int64_t>(s.size()), confirmed);
  ASSERT_LE(static_cast<int64_t>(s.size()), confirmed + 1);
  for (std::size_t i = 0; i < s.size(); ++i)
    ASSERT_EQ(s[i], make_sample(static_cast<int64_t>(i))) << "sample " << i;
  EXPECT_FALSE(run.finished());
}

// h5dump reads the file, or (after a kill that tore the end-of-allocation mark, see read_killed)
// reads it once `h5clear --increment=0` has repaired it.
void expect_h5dump_reads_killed(const std::string& h5dump, const std::string& path, int64_t confirmed,
                                int* repairs) {
  std::string out;
  if (testing::run_command(h5dump + " '" + path + "'", &out) != 0) {
    ++*repairs;
    ASSERT_EQ(testing::run_command("h5clear --increment=0 '" + path + "'", &out), 0) << out;
  }
  expect_h5dump_reads(h5dump, path, confirmed);
}

void expect_h5dump_reads(const std::string& h5dump, const std::string& path, int64_t confirmed) {
  std::string out;
  int rc = testing::run_command(h5dump + " '" + path + "'", &out);
  ASSERT_EQ(rc, 0) << out.substr(0, 4000);
  EXPECT_NE(out.find("\"rctune-trace\""), std::string::npos);
  if (confirmed > 0) {
    EXPECT_NE(out.find("# sample " + std::to_string(confirmed - 1) + "\""), std::string::npos)
        << "last confirmed sample missing from h5dump output";
  }
}

TEST(TraceCrash, SelfKillAfterAnAppendLeavesEverySampleReadable) {
  TempDir dir;
  std::string path = dir.file("run.h5");
  Killed k = run_and_kill(path, 0, 0, 41);
  ASSERT_EQ(k.signal, SIGKILL);
  ASSERT_EQ(k.confirmed, 42);
  int repairs = 0;
  expect_samples_present(path, 42, &repairs);
  EXPECT_EQ(repairs, 0);  // killed between commits: nothing to repair
  EXPECT_EQ(read_run_log(path).tasks[0].samples.size(), 42u);
  std::string h5dump = testing::find_h5dump();
  if (h5dump.empty())
    GTEST_SKIP() << "h5dump (Debian package hdf5-tools) is not installed: not checked with h5dump";
  expect_h5dump_reads(h5dump, path, 42);
}

TEST(TraceCrash, KillAtRandomMomentsLosesNoFinishedSample) {
  std::string h5dump = testing::find_h5dump();
  std::mt19937 rng(12345);
  int h5dump_repairs = 0, reader_repairs = 0;
  for (int round = 0; round < 8; ++round) {
    TempDir dir;
    std::string path = dir.file("run.h5");
    int64_t after = std::uniform_int_distribution<int64_t>(1, 150)(rng);
    int delay = std::uniform_int_distribution<int>(0, 3000)(rng);
    Killed k = run_and_kill(path, after, delay, -1);
    SCOPED_TRACE("round " + std::to_string(round) + ": killed after " + std::to_string(k.confirmed) +
                 " samples");
    ASSERT_EQ(k.signal, SIGKILL);
    ASSERT_GE(k.confirmed, after);
    if (!h5dump.empty()) expect_h5dump_reads_killed(h5dump, path, k.confirmed, &h5dump_repairs);
    expect_samples_present(path, k.confirmed, &reader_repairs);
  }
  // Not asserted (rare, timing-dependent): how often the end-of-allocation mark needed a repair.
  std::printf(
      "[ info ] %d of 8 killed files needed h5clear --increment=0 for h5dump, %d a resume for read_run_log\n",
      h5dump_repairs, reader_repairs);
  if (h5dump.empty()) GTEST_SKIP() << "h5dump (Debian package hdf5-tools) is not installed: read back only";
}

TEST(TraceCrash, ResumeAfterKillContinuesWithoutRepeatingOrLosingSamples) {
  TempDir dir;
  std::string path = dir.file("run.h5");
  Killed k = run_and_kill(path, 30, 500, -1);
  ASSERT_EQ(k.signal, SIGKILL);
  std::size_t have = 0;
  {
    RunWriter w = RunWriter::open_for_resume(path);
    ASSERT_EQ(w.resumed().tasks.size(), 1u);
    have = w.resumed().tasks[0].samples.size();
    ASSERT_GE(static_cast<int64_t>(have), k.confirmed);
    auto t = w.begin_task(sample_task());
    EXPECT_EQ(w.num_samples(t), have);
    for (std::size_t i = have; i < have + 20; ++i) w.append_sample(t, make_sample(static_cast<int64_t>(i)));
    w.finish();
  }
  RunLog run = read_run_log(path);
  ASSERT_EQ(run.tasks[0].samples.size(), have + 20);
  for (std::size_t i = 0; i < have + 20; ++i)
    EXPECT_EQ(run.tasks[0].samples[i], make_sample(static_cast<int64_t>(i)));
  EXPECT_TRUE(run.finished());
  EXPECT_EQ(run.info.resume_times.size(), 1u);
  std::string h5dump = testing::find_h5dump();
  if (h5dump.empty())
    GTEST_SKIP() << "h5dump (Debian package hdf5-tools) is not installed: not checked with h5dump";
  expect_h5dump_reads(h5dump, path, static_cast<int64_t>(have + 20));
}

}  // namespace
}  // namespace rctune::runlog
