// The llm_calls table of a task (RunWriter::append_llm_calls): the requests made to language models
// read back, survive a resume, are optional in the file, and are recorded once each.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "rctune/runlog/writer.h"
#include "runlog/runlog_test_util.h"
#include "runlog/torn_table.h"

namespace rctune::runlog {
namespace {

using namespace rctune::runlog::testing;

// An LLM call whose every field is a function of its index, so a reader can check it.
LlmCallRecord make_call(int64_t i) {
  LlmCallRecord c;
  c.index = i;
  c.wall_time = 0.25 * static_cast<double>(i) + 1.0;
  c.rank = static_cast<int32_t>(i % 2);
  c.node = i * 3 - 1;
  c.model = i % 2 ? "qwen2.5-coder-7b" : "gpt-4o-mini – µ";
  c.prompt_tokens = 1000 + i;
  c.completion_tokens = 200 + 2 * i;
  c.latency_s = 0.5 + static_cast<double>(i) / 8;
  c.cost_usd = 1e-4 * static_cast<double>(i + 1);
  c.ok = i % 3 != 0;
  c.from_cache = i % 4 == 1;
  c.fallback = !c.ok;
  c.proposals = static_cast<int32_t>(i % 5);
  c.legal = static_cast<int32_t>(i % 5 / 2);
  c.error = c.ok ? "" : "timeout after 30 s (call " + std::to_string(i) + ")";
  return c;
}

std::vector<LlmCallRecord> calls(int64_t from, int64_t to) {
  std::vector<LlmCallRecord> v;
  for (int64_t i = from; i < to; ++i) v.push_back(make_call(i));
  return v;
}

// Rows of /tasks/<group>/llm_calls in the file (-1: no such dataset).
hssize_t llm_rows_in_file(const std::string& path, const std::string& group) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return -2;
  hssize_t n = -1;
  std::string name = group + "/llm_calls";
  if (H5Lexists(f, group.c_str(), H5P_DEFAULT) > 0 && H5Lexists(f, name.c_str(), H5P_DEFAULT) > 0) {
    hid_t d = H5Dopen2(f, name.c_str(), H5P_DEFAULT);
    hid_t s = H5Dget_space(d);
    n = H5Sget_simple_extent_npoints(s);
    H5Sclose(s);
    H5Dclose(d);
  }
  H5Fclose(f);
  return n;
}

TEST(TraceLlmCalls, CallsReadBackInOrder) {
  TempDir dir;
  const auto first = calls(0, 1), rest = calls(1, 70);  // more than a chunk
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    auto t = w.begin_task(sample_task());
    w.append_sample(t, make_sample(0));
    w.append_llm_calls(t, first);
    w.append_llm_calls(t, rest);
    w.append_sample(t, make_sample(1));
  }
  RunLog run = read_run_log(dir.file("run.h5"));
  ASSERT_EQ(run.tasks.size(), 1u);
  EXPECT_EQ(run.tasks[0].llm_calls, calls(0, 70));
  EXPECT_EQ(run.tasks[0].samples.size(), 2u);
}

TEST(TraceLlmCalls, TaskWithoutCallsHasNoTableAndReadsEmpty) {
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    auto a = w.begin_task(sample_task("a"));
    auto b = w.begin_task(sample_task("b"));
    w.append_sample(a, make_sample(0));
    w.append_llm_calls(b, calls(0, 2));
    w.append_llm_calls(a, {});  // nothing to record: no table either
  }
  // Task "a" is laid out as in a file written before the table existed.
  EXPECT_EQ(llm_rows_in_file(dir.file("run.h5"), "/tasks/a"), -1);
  EXPECT_EQ(llm_rows_in_file(dir.file("run.h5"), "/tasks/b"), 2);
  RunLog run = read_run_log(dir.file("run.h5"));
  ASSERT_EQ(run.tasks.size(), 2u);
  EXPECT_TRUE(run.tasks[0].llm_calls.empty());
  EXPECT_EQ(run.tasks[0].samples.size(), 1u);
  EXPECT_EQ(run.tasks[1].llm_calls, calls(0, 2));
  EXPECT_EQ(run.format_version, 1);
}

TEST(TraceLlmCalls, ResumeReadsCallsBackAndAppendsMore) {
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    auto t = w.begin_task(sample_task());
    w.append_llm_calls(t, calls(0, 5));
  }  // closed without finish(), as by a run that stopped
  {
    RunWriter w = RunWriter::open_for_resume(dir.file("run.h5"));
    ASSERT_EQ(w.resumed().tasks.size(), 1u);
    EXPECT_EQ(w.resumed().tasks[0].llm_calls, calls(0, 5));
    auto t = w.begin_task(sample_task());
    EXPECT_THROW(w.append_llm_calls(t, calls(4, 6)), std::invalid_argument);  // call 4 recorded before
    w.append_llm_calls(t, calls(5, 8));
    w.finish();
  }
  RunLog run = read_run_log(dir.file("run.h5"));
  EXPECT_EQ(run.tasks.at(0).llm_calls, calls(0, 8));
  EXPECT_TRUE(run.finished());
}

TEST(TraceLlmCalls, ResumeCreatesTheTableForATaskThatHadNone) {
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    auto t = w.begin_task(sample_task());
    w.append_sample(t, make_sample(0));
  }
  {
    RunWriter w = RunWriter::open_for_resume(dir.file("run.h5"));
    EXPECT_TRUE(w.resumed().tasks.at(0).llm_calls.empty());
    auto t = w.begin_task(sample_task());
    w.append_llm_calls(t, calls(0, 3));
    w.append_sample(t, make_sample(1));
  }
  RunLog run = read_run_log(dir.file("run.h5"));
  EXPECT_EQ(run.tasks.at(0).llm_calls, calls(0, 3));
  EXPECT_EQ(run.tasks.at(0).samples.size(), 2u);
}

TEST(TraceLlmCalls, IndicesThatDoNotIncreaseAreRejectedAndNothingOfTheBatchIsWritten) {
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    auto t = w.begin_task(sample_task());
    w.append_llm_calls(t, calls(0, 3));
    try {
      w.append_llm_calls(t, calls(2, 3));
      ADD_FAILURE() << "a call recorded twice was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("LLM call index 2 does not follow 2"), std::string::npos)
          << e.what();
    }
    std::vector<LlmCallRecord> unordered = {make_call(5), make_call(4)};
    EXPECT_THROW(w.append_llm_calls(t, unordered), std::invalid_argument);
    w.append_llm_calls(t, calls(3, 4));
  }
  EXPECT_EQ(read_run_log(dir.file("run.h5")).tasks.at(0).llm_calls, calls(0, 4));
}

TEST(TraceLlmCalls, TornLastRowIsDroppedOnResume) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  {
    RunWriter w = RunWriter::create(path, sample_run_info());
    auto t = w.begin_task(sample_task());
    w.append_llm_calls(t, calls(0, 3));
  }
  const std::string group = "/tasks/" + sanitize_task_name(sample_task().name);
  grow_table(path, group + "/llm_calls", 4);  // a torn fourth row
  ASSERT_EQ(llm_rows_in_file(path, group), 4);
  EXPECT_EQ(read_run_log(path).tasks.at(0).llm_calls, calls(0, 3));
  {
    RunWriter w = RunWriter::open_for_resume(path);
    EXPECT_EQ(w.resumed().tasks.at(0).llm_calls, calls(0, 3));
  }
  EXPECT_EQ(llm_rows_in_file(path, group), 3);  // the resume itself cut the torn row off
  {
    RunWriter w = RunWriter::open_for_resume(path);
    w.append_llm_calls(w.begin_task(sample_task()), calls(3, 4));
  }
  EXPECT_EQ(llm_rows_in_file(path, group), 4);
  EXPECT_EQ(read_run_log(path).tasks.at(0).llm_calls, calls(0, 4));
}

// In a child process: records a sample and an LLM call in turn without end, reporting the index
// of each call on `fd` once append_llm_calls() has returned.
[[noreturn]] void write_calls_until_killed(const std::string& path, int fd) {
  try {
    RunWriter w = RunWriter::create(path, sample_run_info());
    auto t = w.begin_task(sample_task());
    for (int64_t i = 0; i < 100000; ++i) {
      w.append_sample(t, make_sample(i));
      w.append_llm_calls(t, calls(i, i + 1));
      if (write(fd, &i, sizeof i) != sizeof i) _exit(3);
    }
  } catch (...) {
    _exit(2);
  }
  _exit(0);
}

// Forks a writer and kills it `delay_us` after it confirmed `after` calls; returns the number of
// calls confirmed.
int64_t write_and_kill(const std::string& path, int64_t after, int delay_us) {
  return fork_and_kill([&](int fd) { write_calls_until_killed(path, fd); }, after, delay_us).confirmed;
}

TEST(TraceLlmCalls, KillAtRandomMomentsLosesNoRecordedCallAndResumeContinues) {
  std::mt19937 rng(4242);
  for (int round = 0; round < 6; ++round) {
    TempDir dir;
    const std::string path = dir.file("run.h5");
    const int64_t after = std::uniform_int_distribution<int64_t>(0, 40)(rng);
    const int64_t confirmed = write_and_kill(path, after, std::uniform_int_distribution<int>(0, 2000)(rng));
    SCOPED_TRACE("round " + std::to_string(round) + ": killed after " + std::to_string(confirmed) + " calls");
    ASSERT_GE(confirmed, after);
    // Resuming repairs what a kill can leave (see test_crash.cpp) and drops a torn last row.
    std::size_t have = 0;
    {
      RunWriter w = RunWriter::open_for_resume(path);
      const auto& got = w.resumed().tasks.at(0).llm_calls;
      have = got.size();
      ASSERT_GE(static_cast<int64_t>(have), confirmed);
      ASSERT_LE(static_cast<int64_t>(have), confirmed + 1);  // flushed, killed before it was reported
      ASSERT_EQ(got, calls(0, static_cast<int64_t>(have)));
      // The killed commit may have left rows beyond the table's extent: appending over them works.
      auto t = w.begin_task(sample_task());
      w.append_llm_calls(t, calls(static_cast<int64_t>(have), 50));
      w.append_sample(t, make_sample(w.resumed().tasks[0].samples.back().index + 1));
    }
    EXPECT_EQ(read_run_log(path).tasks.at(0).llm_calls, calls(0, 50));
  }
}

// Fills the rows [from, chunk end) of the first chunk of `table` with 0xff bytes, as a commit
// killed after writing rows beyond the table's extent can leave them: their strings point past
// the end of the file.
void write_debris(const std::string& path, const std::string& table, hsize_t from) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  hid_t d = H5Dopen2(f, table.c_str(), H5P_DEFAULT);
  ASSERT_GE(d, 0);
  hid_t dcpl = H5Dget_create_plist(d);
  hsize_t chunk = 0;
  ASSERT_EQ(H5Pget_chunk(dcpl, 1, &chunk), 1);
  H5Pclose(dcpl);
  hsize_t offset = 0, bytes = 0;
  ASSERT_GE(H5Dget_chunk_storage_size(d, &offset, &bytes), 0);
  const std::size_t row = bytes / chunk;  // as stored
  std::vector<unsigned char> raw(bytes);
  uint32_t filters = 0;
  ASSERT_GE(H5Dread_chunk(d, H5P_DEFAULT, &offset, &filters, raw.data()), 0);
  ASSERT_LT(from * row, raw.size());
  std::fill(raw.begin() + static_cast<std::ptrdiff_t>(from * row), raw.end(), 0xff);
  ASSERT_GE(H5Dwrite_chunk(d, H5P_DEFAULT, 0, &offset, raw.size(), raw.data()), 0);
  H5Dclose(d);
  H5Fclose(f);
}

TEST(TraceLlmCalls, ResumeClearsRowsACrashLeftBeyondTheTables) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  const std::string group = "/tasks/" + sanitize_task_name(sample_task().name);
  {
    RunWriter w = RunWriter::create(path, sample_run_info());
    auto t = w.begin_task(sample_task());
    w.append_sample(t, make_sample(0));
    w.append_llm_calls(t, calls(0, 3));
  }
  write_debris(path, group + "/samples", 1);
  write_debris(path, group + "/llm_calls", 3);
  {
    RunWriter w = RunWriter::open_for_resume(path);
    auto t = w.begin_task(sample_task());
    w.append_llm_calls(t, calls(3, 5));
    w.append_sample(t, make_sample(1));
  }
  RunLog run = read_run_log(path);
  EXPECT_EQ(run.tasks.at(0).llm_calls, calls(0, 5));
  ASSERT_EQ(run.tasks.at(0).samples.size(), 2u);
  EXPECT_EQ(run.tasks.at(0).samples[1], make_sample(1));
}

TEST(TraceLlmCalls, H5dumpShowsTheTable) {
  std::string h5dump = testing::find_h5dump();
  if (h5dump.empty()) GTEST_SKIP() << "h5dump (hdf5-tools) is not installed";
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    auto t = w.begin_task(sample_task("conv"));
    w.append_llm_calls(t, calls(0, 4));
  }
  const std::string out = h5dump_dataset(h5dump, dir.file("run.h5"), "/tasks/conv/llm_calls");
  expect_contains_all(
      out, {"\"index\"", "\"model\"", "\"prompt_tokens\"", "\"completion_tokens\"", "\"latency_s\"",
            "\"cost_usd\"", "\"ok\"", "\"from_cache\"", "\"fallback\"", "\"proposals\"", "\"legal\"",
            "\"error\"", "DATASPACE  SIMPLE { ( 4 ) / ( H5S_UNLIMITED ) }", "\"qwen2.5-coder-7b\"",
            "\"timeout after 30 s (call 3)\""});
}

}  // namespace
}  // namespace rctune::runlog
