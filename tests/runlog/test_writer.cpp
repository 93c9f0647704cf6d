#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "rctune/runlog/writer.h"
#include "runlog/runlog_test_util.h"

namespace rctune::runlog {
namespace {

using namespace rctune::runlog::testing;

TEST(TraceWriter, RunAttributesReadBack) {
  TempDir dir;
  RunInfo info = sample_run_info();
  { RunWriter w = RunWriter::create(dir.file("run.h5"), info); }
  RunLog run = read_run_log(dir.file("run.h5"));
  EXPECT_EQ(run.format_version, kFormatVersion);
  EXPECT_EQ(run.info.config_text, info.config_text);
  EXPECT_EQ(run.info.config_path, info.config_path);
  EXPECT_EQ(run.info.command_line, info.command_line);
  EXPECT_EQ(run.info.version, info.version);
  EXPECT_EQ(run.info.git_commit, info.git_commit);
  EXPECT_EQ(run.info.host, info.host);
  EXPECT_EQ(run.info.cpu_model, info.cpu_model);
  EXPECT_EQ(run.info.execution_space, "OpenMP");
  EXPECT_EQ(run.info.strategy, "mcts");
  EXPECT_EQ(run.info.proposer, "heuristic");
  EXPECT_EQ(run.info.seed, info.seed);
  EXPECT_EQ(run.info.budget, 64);
  EXPECT_EQ(run.info.num_ranks, 2);
  EXPECT_EQ(run.info.start_time, info.start_time);
  EXPECT_FALSE(run.finished());
  EXPECT_TRUE(run.tasks.empty());
}

TEST(TraceWriter, CurrentRunInfoFillsBuildAndHostFacts) {
  RunInfo r = current_run_info();
  EXPECT_FALSE(r.version.empty());
  EXPECT_FALSE(r.host.empty());
  EXPECT_GT(r.start_time, 1.6e9);
}

TEST(TraceWriter, SamplesAppendedOneAtATimeReadBackInOrder) {
  TempDir dir;
  const int n = 150;  // more than two chunks
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    auto t = w.begin_task(sample_task());
    for (int i = 0; i < n; ++i) w.append_sample(t, make_sample(i));
    EXPECT_EQ(w.num_samples(t), static_cast<std::size_t>(n));
  }
  RunLog run = read_run_log(dir.file("run.h5"));
  ASSERT_EQ(run.tasks.size(), 1u);
  ASSERT_EQ(run.tasks[0].samples.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) EXPECT_EQ(run.tasks[0].samples[i], make_sample(i)) << "sample " << i;
}

TEST(TraceWriter, SampleBatchReadsBack) {
  TempDir dir;
  std::vector<SampleRecord> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(make_sample(i * 2));
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    auto t = w.begin_task(sample_task());
    w.append_samples(t, batch);
  }
  EXPECT_EQ(read_run_log(dir.file("run.h5")).tasks[0].samples, batch);
}

TEST(TraceWriter, SampleIndexThatDoesNotIncreaseIsRejected) {
  TempDir dir;
  RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
  auto t = w.begin_task(sample_task());
  w.append_sample(t, make_sample(5));
  try {
    w.append_sample(t, make_sample(5));
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("run.h5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sample index 5"), std::string::npos) << e.what();
  }
  EXPECT_EQ(w.num_samples(t), 1u);
}

TEST(TraceWriter, TasksKeepTheirOrderAndGetSanitisedUniqueGroups) {
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    w.begin_task(sample_task("zeta"));
    w.begin_task(sample_task("conv2d n=1/c=64 (stride 2)"));
    w.begin_task(sample_task("conv2d n=1_c=64 (stride 2)"));
    w.begin_task(sample_task("alpha"));
  }
  RunLog run = read_run_log(dir.file("run.h5"));
  ASSERT_EQ(run.tasks.size(), 4u);
  EXPECT_EQ(run.tasks[0].info.name, "zeta");
  EXPECT_EQ(run.tasks[1].info.name, "conv2d n=1/c=64 (stride 2)");
  EXPECT_EQ(run.tasks[1].group, "/tasks/conv2d_n_1_c_64__stride_2_");
  EXPECT_EQ(run.tasks[2].group, "/tasks/conv2d_n_1_c_64__stride_2_~2");
  EXPECT_EQ(run.tasks[3].info.name, "alpha");
  EXPECT_EQ(run.tasks[1].info.workload, sample_task("conv2d n=1/c=64 (stride 2)").workload);
  EXPECT_EQ(run.tasks[1].info.weight, 3);
  EXPECT_EQ(run.tasks[1].info.reference_seconds, 0.25);
}

TEST(TraceWriter, SanitizeKeepsSafeCharacters) {
  EXPECT_EQ(sanitize_task_name("matmul_512x512.f32+relu-1"), "matmul_512x512.f32+relu-1");
  EXPECT_EQ(sanitize_task_name("a/b c"), "a_b_c");
  EXPECT_EQ(sanitize_task_name(""), "task");
  EXPECT_EQ(sanitize_task_name("."), "_");
}

TEST(TraceWriter, BeginTaskTwiceReturnsTheSameTask) {
  TempDir dir;
  RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
  auto a = w.begin_task(sample_task("m"));
  EXPECT_EQ(w.begin_task(sample_task("m")), a);
  TaskInfo other = sample_task("m");
  other.workload = "something else";
  EXPECT_THROW(w.begin_task(other), std::invalid_argument);
}

TEST(TraceWriter, SetReferenceUpdatesTheTask) {
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    TaskInfo ti = sample_task();
    ti.reference_seconds = 0;
    auto t = w.begin_task(ti);
    w.set_reference(t, 0.5, 0.5368709);
    EXPECT_EQ(w.task_info(t).reference_seconds, 0.5);
  }
  RunLog run = read_run_log(dir.file("run.h5"));
  EXPECT_EQ(run.tasks[0].info.reference_seconds, 0.5);
  EXPECT_EQ(run.tasks[0].info.reference_gflops, 0.5368709);
  EXPECT_EQ(run.tasks[0].info.reference_estimate, "") << "measured on the workload itself";
}

TEST(TraceWriter, AnEstimatedReferenceSaysHowItWasEstimated) {
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    auto t = w.begin_task(sample_task());
    w.set_reference(t, 12.5, 0.25, "M=2 of 128, time x 64");
  }
  RunLog run = read_run_log(dir.file("run.h5"));
  EXPECT_EQ(run.tasks[0].info.reference_seconds, 12.5);
  EXPECT_EQ(run.tasks[0].info.reference_estimate, "M=2 of 128, time x 64");
}

TEST(TraceWriter, WriteTreeReplacesThePreviousTree) {
  TempDir dir;
  RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
  auto t = w.begin_task(sample_task());
  auto grow = sample_tree(5, 1);
  w.write_tree(t, grow);
  EXPECT_EQ(read_run_log(dir.file("run.h5")).tasks[0].tree, grow);  // (file lock off for this process)

  auto bigger = sample_tree(300, 2);  // same first five keys, new numbers, more than a chunk of new rows
  w.write_tree(t, bigger);
  EXPECT_EQ(read_run_log(dir.file("run.h5")).tasks[0].tree, bigger);

  auto changed = sample_tree(40, 3);
  changed[7].action = "vectorize(C, j.1)";
  changed[7].parent = 0;
  w.write_tree(t, changed);
  EXPECT_EQ(read_run_log(dir.file("run.h5")).tasks[0].tree, changed);

  w.write_tree(t, {});
  EXPECT_TRUE(read_run_log(dir.file("run.h5")).tasks[0].tree.empty());
}

TEST(TraceWriter, WriteBestKeepsEachBestAndTheLatestIsTheBest) {
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    auto t = w.begin_task(sample_task());
    w.write_best(t, BestSchedule{3, 1.5, "split(C, i, [None, 8])", "for i.0 ...", 10, 0.02, 1.5});
    w.write_best(t, BestSchedule{9, 4.5, "split(C, i, [None, 16])", "", 42.5, 0.005, 6.25});
    w.begin_task(sample_task("other"));
  }
  RunLog run = read_run_log(dir.file("run.h5"));
  ASSERT_TRUE(run.tasks[0].best.has_value());
  EXPECT_EQ(run.tasks[0].best->sample, 9);
  EXPECT_EQ(run.tasks[0].best->trace, "split(C, i, [None, 16])");
  EXPECT_EQ(run.tasks[0].best->program, "");
  EXPECT_EQ(run.tasks[0].best->gflops, 42.5);
  EXPECT_EQ(run.tasks[0].best->median_s, 0.005);
  EXPECT_EQ(run.tasks[0].best->speedup, 6.25);
  ASSERT_EQ(run.tasks[0].best_history.size(), 2u);
  EXPECT_EQ(run.tasks[0].best_history[0].sample, 3);
  EXPECT_EQ(run.tasks[0].best_history[0].program, "for i.0 ...");
  EXPECT_EQ(run.tasks[0].best_history[1].wall_time, 4.5);
  EXPECT_FALSE(run.tasks[1].best.has_value());
}

TEST(TraceWriter, FinishRecordsTheEndTimeAndClosesTheFile) {
  TempDir dir;
  RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
  auto t = w.begin_task(sample_task());
  w.append_sample(t, make_sample(0));
  w.finish(1.7e9);
  EXPECT_FALSE(w.is_open());
  EXPECT_THROW(w.append_sample(t, make_sample(1)), std::logic_error);
  RunLog run = read_run_log(dir.file("run.h5"));
  EXPECT_TRUE(run.finished());
  EXPECT_EQ(run.info.end_time, 1.7e9);
  EXPECT_EQ(run.tasks[0].samples.size(), 1u);
}

TEST(TraceWriter, Iso8601IsUtcWithMilliseconds) {
  EXPECT_EQ(iso8601(0), "");
  EXPECT_EQ(iso8601(1700000000.25), "2023-11-14T22:13:20.250Z");
}

TEST(TraceWriter, SampleStatusNamesRoundTrip) {
  for (int v = 0; v <= static_cast<int>(SampleStatus::Illegal); ++v) {
    auto s = static_cast<SampleStatus>(v);
    EXPECT_EQ(parse_sample_status(sample_status_name(s)), s);
  }
  EXPECT_THROW(parse_sample_status("fine"), std::invalid_argument);
}

}  // namespace
}  // namespace rctune::runlog
