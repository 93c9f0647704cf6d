// `mpirun -np N rctune tune` end to end (docs/dist.md): the real binary under the real Open MPI,
// with simulated measurement so that many ranks run in seconds on two cores. One rank under mpirun
// makes a plain run's decisions; several ranks record every sample once, in one trace written by
// rank 0, with merged trees whose visits are the sums of the ranks' own trees; groups take the
// task scheduler's rounds of a model (per_task: whole tasks), each a row of /allocations; a killed
// job resumes with another number of ranks, after its recorded rounds; a killed rank is named; LLM
// requests of all ranks go out through rank 0.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include "../runlog/runlog_test_util.h"

#include "cli_runner.h"
#include "llm/fake_openai_server.h"
#include "llm/split_tweaker.h"
#include "rctune/runlog/runlog.h"

namespace rctune::testing {
namespace {

using runlog::testing::TempDir;

// mpirun as root, more ranks than cores, no binding (so that every rank sees the same cores as
// a plain run and decisions can be compared).
std::string mpirun(int ranks) {
  return std::string(RCTUNE_MPIEXEC) + " --allow-run-as-root --oversubscribe --bind-to none -np " +
         std::to_string(ranks) + " ";
}

std::string write_config(const TempDir& dir, const std::string& name, int budget,
                         const std::string& extra = "", int tasks = 2) {
  const std::string path = dir.file(name + ".yaml");
  std::ofstream out(path);
  out << "seed: 7\nbudget: " << budget << "\nout: " << dir.file(name + ".h5") << "\ntasks:\n";
  const char* workloads[] = {"matmul:M=256,N=256,K=256",
                             "conv2d_nchw:N=1,C=32,H=14,W=14,K=32,R=3,S=3,stride=1,pad=1",
                             "dense:M=128,N=256,K=256", "batch_matmul:B=4,M=64,N=64,K=64"};
  for (int i = 0; i < tasks; ++i) out << "  - workload: " << workloads[i] << "\n";
  out << extra;
  return path;
}

bool same_number(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

// Every sample of a task once: unique increasing indices, `budget` measured ones.
void expect_every_sample_once(const runlog::TaskLog& t, size_t budget) {
  std::set<int64_t> indices;
  for (const auto& s : t.samples)
    EXPECT_TRUE(indices.insert(s.index).second) << t.info.name << " sample " << s.index;
  EXPECT_EQ(runlog::measured_samples(t).size(), budget) << t.info.name;
}

// The merged tree's visits at each program are the sums of the ranks' own trees.
void expect_merged_visits_are_sums(const runlog::TaskLog& t) {
  ASSERT_FALSE(t.tree.empty()) << t.info.name;
  std::map<uint64_t, int64_t> sums;
  for (const auto& [rank, nodes] : t.rank_trees)
    for (const auto& n : nodes) sums[n.structural_hash] += n.visits;
  std::map<uint64_t, int64_t> merged;
  for (const auto& n : t.tree) {
    EXPECT_NE(n.structural_hash, 0u);
    EXPECT_TRUE(merged.emplace(n.structural_hash, n.visits).second) << "one node per program";
  }
  EXPECT_EQ(merged, sums) << t.info.name;
  // A node's sample is a sample of its program.
  std::map<int64_t, uint64_t> hash_of;
  for (const auto& s : t.samples) hash_of[s.index] = s.structural_hash;
  for (const auto& n : t.tree)
    if (n.sample >= 0) {
      EXPECT_EQ(hash_of.at(n.sample), n.structural_hash);
    }
}

TEST(TuneMpi, OneRankUnderMpirunMakesThePlainRunsDecisions) {
  TempDir dir;
  const std::string cfg = write_config(dir, "run", 30);
  const CliResult plain = run_rctune("tune " + cfg + " --simulate --quiet --out " + dir.file("plain.h5"));
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  const CliResult one = run_command(mpirun(1) + rctune_bin() + " tune " + cfg + " --simulate --quiet --out " +
                                    dir.file("one.h5"));
  ASSERT_EQ(one.exit_code, 0) << one.output;

  const runlog::RunLog a = runlog::read_run_log(dir.file("plain.h5"));
  const runlog::RunLog b = runlog::read_run_log(dir.file("one.h5"));
  ASSERT_EQ(a.tasks.size(), b.tasks.size());
  for (size_t i = 0; i < a.tasks.size(); ++i) {
    const runlog::TaskLog& x = a.tasks[i];
    const runlog::TaskLog& y = b.tasks[i];
    EXPECT_EQ(x.info.name, y.info.name);
    ASSERT_EQ(x.samples.size(), y.samples.size());
    for (size_t k = 0; k < x.samples.size(); ++k) {
      runlog::SampleRecord s = y.samples[k];
      s.wall_time = x.samples[k].wall_time;  // the only thing that may differ
      EXPECT_EQ(x.samples[k], s) << x.info.name << " sample " << k;
    }
    EXPECT_EQ(x.tree, y.tree) << x.info.name;
    ASSERT_TRUE(x.best && y.best);
    EXPECT_EQ(x.best->trace, y.best->trace);
    EXPECT_EQ(x.best->sample, y.best->sample);
    EXPECT_TRUE(same_number(x.best->gflops, y.best->gflops));
  }
}

TEST(TuneMpi, TwoRanksRecordEverySampleOnceAndMergeTheirTrees) {
  TempDir dir;
  const CliResult r = run_command(mpirun(2) + rctune_bin() + " tune " +
                                  write_config(dir, "run", 60, "scheduler: per_task\n") + " --simulate");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 ranks"), std::string::npos) << r.output;
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  EXPECT_TRUE(run.finished());
  EXPECT_EQ(run.info.num_ranks, 2);
  ASSERT_EQ(run.tasks.size(), 2u);
  for (const runlog::TaskLog& t : run.tasks) {
    expect_every_sample_once(t, 60);
    std::map<int32_t, int> per_rank;
    for (const auto& s : runlog::measured_samples(t)) ++per_rank[s.rank];
    EXPECT_EQ(per_rank, (std::map<int32_t, int>{{0, 30}, {1, 30}}))
        << "the budget is split between the ranks";
    EXPECT_EQ(t.rank_trees.size(), 2u);
    expect_merged_visits_are_sums(t);
    ASSERT_TRUE(t.best.has_value());
    EXPECT_GE(t.best->sample, 0);
  }
  EXPECT_NE(r.output.find(": the heuristic proposer dropped "), std::string::npos)
      << "what the ranks' proposers dropped is summed per task\n"
      << r.output;
  EXPECT_NE(r.output.find(", 0 internal errors\n"), std::string::npos) << r.output;
  const CliResult report = run_rctune("report " + dir.file("run.h5"));
  ASSERT_EQ(report.exit_code, 0) << report.output;
  EXPECT_NE(report.output.find("ranks (last session"), std::string::npos) << report.output;
  const CliResult json = run_rctune("report " + dir.file("run.h5") + " --format json");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_EQ(nlohmann::json::parse(json.output).at("ranks").size(), 2u);
  ASSERT_EQ(run.ranks.size(), 2u);
  for (int r2 = 0; r2 < 2; ++r2) {
    EXPECT_EQ(run.ranks[static_cast<size_t>(r2)].rank, r2);
    EXPECT_EQ(run.ranks[static_cast<size_t>(r2)].samples, 60);
    EXPECT_GT(run.ranks[static_cast<size_t>(r2)].wall_s, 0);
  }
}

TEST(TuneMpi, DiagnosticLinesNameTheirRankAndAreTheLevelAsked) {
  TempDir dir;
  const std::string cfg = dir.file("log.yaml");
  std::ofstream(cfg) << "seed: 3\nbudget: 4\nout: " << dir.file("log.h5")
                     << "\ntasks:\n  - workload: matmul:M=32,N=32,K=32\nmeasure:\n  min_time: 0.005\n";
  const CliResult debug =
      run_command(mpirun(2) + rctune_bin() + " --log-level debug tune " + cfg + " --quiet --no-database");
  ASSERT_EQ(debug.exit_code, 0) << debug.output;
  for (const char* line :
       {"rctune: rank 0: debug: round of matmul:M=32,N=32,K=32,dtype=f32: 2 of 4 samples to rank 1",
        "rctune: rank 1: debug: starting the kernel worker"})
    EXPECT_NE(debug.output.find(line), std::string::npos) << line << "\n" << debug.output;
  EXPECT_EQ(debug.output.find('\033'), std::string::npos) << "plain text when not on a terminal";
  const CliResult quiet =
      run_command(mpirun(2) + rctune_bin() + " tune " + cfg + " --quiet --no-database --force");
  ASSERT_EQ(quiet.exit_code, 0) << quiet.output;
  EXPECT_EQ(quiet.output.find("debug:"), std::string::npos) << "warnings only by default\n" << quiet.output;
}

TEST(TuneMpi, RanksThatWouldMeasureOnOneCoreAreNamedAtTheStart) {
  TempDir dir;
  // Three ranks on this machine's two cores, unbound: ranks 0 and 2 get the same measurement core.
  const std::string cfg = dir.file("shared.yaml");
  std::ofstream(cfg) << "seed: 3\nbudget: 3\nout: " << dir.file("shared.h5")
                     << "\ntasks:\n  - workload: matmul:M=32,N=32,K=32\nmeasure:\n  min_time: 0.005\n";
  const CliResult r = run_command(mpirun(3) + rctune_bin() + " tune " + cfg + " --quiet --no-database");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("rctune: rank 0: warning: ranks 0, 2 on node "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("dist.exclusive_measurement: true"), std::string::npos) << r.output;
  // Taking turns on the node is the remedy: then nothing is said.
  std::ofstream(cfg, std::ios::app) << "dist:\n  exclusive_measurement: true\n";
  const CliResult turns =
      run_command(mpirun(3) + rctune_bin() + " tune " + cfg + " --quiet --no-database --force");
  ASSERT_EQ(turns.exit_code, 0) << turns.output;
  EXPECT_EQ(turns.output.find("measure on the same core"), std::string::npos) << turns.output;
}

TEST(TuneMpi, TwoRanksMeasureRealKernelsOnTheirOwnCoresOneAtATime) {
  TempDir dir;
  const std::string cfg = dir.file("real.yaml");
  std::ofstream(cfg) << "seed: 3\nbudget: 4\nout: " << dir.file("real.h5")
                     << "\ntasks:\n  - workload: matmul:M=64,N=64,K=64\n"
                        "measure:\n  min_time: 0.005\ndist:\n  exclusive_measurement: true\n";
  const CliResult r =
      run_command(mpirun(2) + rctune_bin() + " tune " + cfg + " --quiet --database " + dir.file("db"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const runlog::RunLog run = runlog::read_run_log(dir.file("real.h5"));
  EXPECT_NE(run.info.execution_space, "simulated");
  const CliResult db = run_rctune("db --database " + dir.file("db") + " show matmul:M=64,N=64,K=64");
  EXPECT_EQ(db.exit_code, 0) << "rank 0 stored the fastest schedules of the ranks' samples\n" << db.output;
  const runlog::TaskLog& t = run.tasks.at(0);
  expect_every_sample_once(t, 4);
  EXPECT_GT(t.info.reference_gflops, 0) << "the first rank measured the unscheduled kernel";
  int ok = 0;
  for (const auto& s : runlog::measured_samples(t)) ok += s.status == runlog::SampleStatus::Ok ? 1 : 0;
  EXPECT_GT(ok, 0);
  ASSERT_EQ(run.ranks.size(), 2u);
  EXPECT_GE(run.ranks[0].pin_core, 0);
  EXPECT_GE(run.ranks[1].pin_core, 0);
  if (std::thread::hardware_concurrency() >= 2) {
    EXPECT_NE(run.ranks[0].pin_core, run.ranks[1].pin_core) << "ranks of a node measure on distinct cores";
  }
  EXPECT_EQ(run.ranks[1].node_rank, 1);
}

TEST(TuneMpi, RanksShareWhatTheyMeasuredSoNoProgramIsMeasuredAfterItsResultWasShared) {
  TempDir dir;
  const CliResult r =
      run_command(mpirun(4) + rctune_bin() + " tune " +
                  write_config(dir, "run", 96, "dist:\n  sync_every: 6\nmcts:\n  measure_batch: 6\n", 1) +
                  " --simulate --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  const runlog::TaskLog& t = run.tasks.at(0);
  expect_every_sample_once(t, 96);
  expect_merged_visits_are_sums(t);
  // Rounds of 6 samples, a synchronisation after each: what one rank measured in a round reaches
  // every other rank before its next round, so a program is measured by two ranks only within one
  // round (each rank's k-th sample is in round (k - 1) / 6), never later, and never twice by one rank.
  std::map<uint64_t, std::pair<int32_t, int>> first;  // program -> rank and round that measured it first
  std::map<int32_t, int> count;
  for (const auto& s : runlog::measured_samples(t)) {
    const int round = count[s.rank]++ / 6;
    auto [it, fresh] = first.emplace(s.structural_hash, std::make_pair(s.rank, round));
    if (fresh) continue;
    EXPECT_NE(it->second.first, s.rank) << "rank " << s.rank << " measured a program twice";
    EXPECT_EQ(it->second.second, round) << "rank " << s.rank << " measured a program rank "
                                        << it->second.first << " had shared in an earlier round";
  }
}

TEST(TuneMpi, PerTaskGroupsOfTwoRanksTakeWholeTasks) {
  TempDir dir;
  const CliResult r =
      run_command(mpirun(4) + rctune_bin() + " tune " +
                  write_config(dir, "run", 24, "scheduler: per_task\ndist:\n  group_size: 2\n", 4) +
                  " --simulate --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  ASSERT_EQ(run.tasks.size(), 4u);
  std::set<std::set<int32_t>> groups_seen;
  for (const runlog::TaskLog& t : run.tasks) {
    expect_every_sample_once(t, 24);
    std::set<int32_t> ranks;
    for (const auto& s : runlog::measured_samples(t)) ranks.insert(s.rank);
    EXPECT_TRUE(ranks == std::set<int32_t>({0, 1}) || ranks == std::set<int32_t>({2, 3}))
        << t.info.name << ": a task is tuned by one group";
    groups_seen.insert(ranks);
    expect_merged_visits_are_sums(t);
  }
  EXPECT_EQ(groups_seen.size(), 2u) << "both groups got tasks";
  for (const runlog::RankStats& s : run.ranks) EXPECT_EQ(s.group, s.rank / 2);
  // One round per task, its whole budget, recorded with the group that tuned it.
  ASSERT_EQ(run.allocations.size(), 4u);
  std::set<std::string> tasks;
  for (const runlog::AllocationRecord& a : run.allocations) {
    EXPECT_EQ(a.scheduler, "per_task");
    EXPECT_EQ(a.samples, 24);
    EXPECT_EQ(a.spent, 24);
    tasks.insert(a.task);
    const runlog::TaskLog* t = run.task(a.task);
    ASSERT_NE(t, nullptr) << a.task;
    for (const auto& s : runlog::measured_samples(*t)) EXPECT_EQ(s.rank / 2, a.group) << a.task;
  }
  EXPECT_EQ(tasks.size(), 4u);
}

// A model of three tasks (weight 1 each), `budget` samples for the whole model.
std::string write_model(const TempDir& dir, const std::string& name, int budget, const std::string& extra) {
  return write_config(dir, name, budget, extra, 3);
}

// The rows of /allocations: rounds 0, 1, 2, ... of the scheduler `policy`, by groups below
// `groups`, their samples spent those the tasks' samples in the file. Returns the groups seen.
std::set<int32_t> expect_rounds_add_up(const runlog::RunLog& run, int groups, const std::string& policy) {
  std::map<std::string, int64_t> spent;
  std::set<int32_t> seen;
  for (size_t i = 0; i < run.allocations.size(); ++i) {
    const runlog::AllocationRecord& a = run.allocations[i];
    EXPECT_EQ(a.round, static_cast<int64_t>(i));
    EXPECT_EQ(a.scheduler, policy);
    EXPECT_GT(a.samples, 0);
    EXPECT_LE(a.spent, a.samples);
    EXPECT_GE(a.group, 0);
    EXPECT_LT(a.group, groups);
    EXPECT_GT(a.latency_s, 0);
    seen.insert(a.group);
    spent[a.task] += a.spent;
  }
  for (const runlog::TaskLog& t : run.tasks)
    EXPECT_EQ(spent[t.info.name], static_cast<int64_t>(runlog::measured_samples(t).size())) << t.info.name;
  return seen;
}

size_t model_samples(const runlog::RunLog& run) {
  size_t n = 0;
  for (const runlog::TaskLog& t : run.tasks) n += runlog::measured_samples(t).size();
  return n;
}

// Every program of a task measured once (groups of one rank: a round's rank observes every
// sample measured before it, whichever group measured it).
void expect_no_program_measured_twice(const runlog::TaskLog& t) {
  std::set<uint64_t> programs;
  for (const auto& s : runlog::measured_samples(t))
    EXPECT_TRUE(programs.insert(s.structural_hash).second) << t.info.name << " sample " << s.index;
}

TEST(TuneMpi, GroupsOfOneRankTakeTheSchedulersRoundsOfAModel) {
  for (const int ranks : {2, 4}) {
    TempDir dir;
    const CliResult r = run_command(mpirun(ranks) + rctune_bin() + " tune " +
                                    write_model(dir, "run", 60, "dist:\n  group_size: 1\n") + " --simulate");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("round 0: "), std::string::npos) << r.output;
    const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
    ASSERT_EQ(run.tasks.size(), 3u);
    EXPECT_EQ(model_samples(run), 60u) << ranks << " ranks: the budget is the whole model's";
    for (const runlog::TaskLog& t : run.tasks) {
      expect_no_program_measured_twice(t);
      expect_merged_visits_are_sums(t);
    }
    EXPECT_EQ(expect_rounds_add_up(run, ranks, "gradient").size(), static_cast<size_t>(ranks))
        << "every group took rounds";
    // Every task got one first round (which one ends first depends on the groups' timing).
    std::map<std::string, int> first_rounds;
    for (const runlog::AllocationRecord& a : run.allocations)
      if (a.reason == "first round") ++first_rounds[a.task];
    EXPECT_EQ(first_rounds.size(), 3u);
    for (const auto& [task, n] : first_rounds) EXPECT_EQ(n, 1) << task;
  }
}

TEST(TuneMpi, GroupsOfTwoRanksTakeRoundsSplitAmongTheirRanks) {
  for (const char* policy : {"gradient", "round_robin"}) {
    TempDir dir;
    const CliResult r = run_command(
        mpirun(4) + rctune_bin() + " tune " +
        write_model(dir, "run", 72, std::string("scheduler: ") + policy + "\ndist:\n  group_size: 2\n") +
        " --simulate --quiet");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
    EXPECT_EQ(model_samples(run), 72u) << policy;
    EXPECT_EQ(expect_rounds_add_up(run, 2, policy), (std::set<int32_t>{0, 1})) << policy;
    // A round is a measure batch (6) per rank of the group; gradient's first rounds a third of one.
    ASSERT_FALSE(run.allocations.empty());
    EXPECT_EQ(run.allocations[0].samples, std::string(policy) == "gradient" ? 4 : 12) << policy;
    for (const runlog::AllocationRecord& a : run.allocations) EXPECT_LE(a.samples, 12) << policy;
    for (const runlog::TaskLog& t : run.tasks) {
      EXPECT_GT(runlog::measured_samples(t).size(), 0u) << policy << " " << t.info.name;
      expect_merged_visits_are_sums(t);
    }
    // Both ranks of a group measure in its rounds.
    std::set<int32_t> ranks;
    for (const runlog::TaskLog& t : run.tasks)
      for (const auto& s : runlog::measured_samples(t)) ranks.insert(s.rank);
    EXPECT_EQ(ranks, (std::set<int32_t>{0, 1, 2, 3})) << policy;
  }
}

TEST(TuneMpi, ModelRunWithALargerBudgetAppendsRoundsAndMeasuresNoProgramAgain) {
  TempDir dir;
  const std::string cfg = write_model(dir, "run", 30, "dist:\n  group_size: 1\n");
  ASSERT_EQ(run_command(mpirun(2) + rctune_bin() + " tune " + cfg + " --simulate --quiet").exit_code, 0);
  const runlog::RunLog before = runlog::read_run_log(dir.file("run.h5"));
  ASSERT_EQ(model_samples(before), 30u);
  const CliResult r = run_command(mpirun(3) + rctune_bin() + " tune --resume " + dir.file("run.h5") +
                                  " --budget 54 --simulate --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const runlog::RunLog after = runlog::read_run_log(dir.file("run.h5"));
  EXPECT_EQ(model_samples(after), 54u);
  expect_rounds_add_up(after, 3, "gradient");
  ASSERT_GT(after.allocations.size(), before.allocations.size());
  for (size_t i = 0; i < before.allocations.size(); ++i)
    EXPECT_EQ(after.allocations[i], before.allocations[i]);
  for (size_t k = 0; k < after.tasks.size(); ++k) {
    const std::vector<runlog::SampleRecord> old = runlog::measured_samples(before.tasks[k]);
    const std::vector<runlog::SampleRecord> now = runlog::measured_samples(after.tasks[k]);
    for (size_t i = 0; i < old.size(); ++i) EXPECT_EQ(now[i], old[i]);
    expect_no_program_measured_twice(after.tasks[k]);
  }
}

TEST(TuneMpi, ThirtyTwoSimulatedRanksFinishAndMerge) {
  TempDir dir;
  const CliResult r = run_command(mpirun(32) + rctune_bin() + " tune " +
                                  write_config(dir, "run", 128, "", 1) + " --simulate --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  const runlog::TaskLog& t = run.tasks.at(0);
  expect_every_sample_once(t, 128);
  EXPECT_EQ(t.rank_trees.size(), 32u);
  expect_merged_visits_are_sums(t);
  EXPECT_EQ(run.ranks.size(), 32u);
}

TEST(TuneMpi, RankThatCannotStartIsNamedAndNoRankWaitsForIt) {
  TempDir dir;
  const std::string cfg = write_config(dir, "run", 12, "", 1);
  // Rank 1 alone gets an option it cannot use (an LLM URL without a model, the config has none).
  const CliResult r =
      run_command(mpirun(1) + rctune_bin() + " tune " + cfg + " --simulate --quiet : -np 1 " + rctune_bin() +
                  " tune " + cfg + " --simulate --quiet --llm-url http://127.0.0.1:1/v1");
  EXPECT_EQ(r.exit_code, 2) << "a user error: exit 2\n" << r.output;
  EXPECT_NE(r.output.find("rctune: error: rank 1: the config has no llm.models"), std::string::npos)
      << r.output;
}

TEST(TuneMpi, TraceThatCannotBeCreatedStopsEveryRank) {
  TempDir dir;
  const std::string cfg = write_config(dir, "run", 12, "", 1);
  const CliResult r = run_command(mpirun(3) + rctune_bin() + " tune " + cfg + " --simulate --quiet --out " +
                                  dir.file("missing/run.h5"));
  EXPECT_EQ(r.exit_code, 2) << "a user error: exit 2\n" << r.output;
  EXPECT_NE(r.output.find("rctune: error: rank 0: trace file"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cannot create"), std::string::npos) << r.output;
}

// The process ids of rctune processes of this test's job (their command line names `marker`, a
// path in the test's own directory) whose MPI rank is `rank` (from their environment).
std::vector<pid_t> rank_pids(int rank, const std::string& marker) {
  std::vector<pid_t> pids;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream env(e.path() / "environ", std::ios::binary);
    std::stringstream ss;
    ss << env.rdbuf();
    const std::string text = ss.str();
    std::ifstream cmd(e.path() / "cmdline", std::ios::binary);
    std::stringstream cs;
    cs << cmd.rdbuf();
    if (cs.str().find("rctune") == std::string::npos || cs.str().find(marker) == std::string::npos) continue;
    if (text.find(std::string("OMPI_COMM_WORLD_RANK=") + std::to_string(rank) + '\0') != std::string::npos)
      pids.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return pids;
}

// The listing of a trace that a running job writes. h5ls opens the file without locking it and in
// its own process, so a read that races with the writer only fails and is tried again.
std::string list_running_trace(const std::string& path) {
  return run_command("HDF5_USE_FILE_LOCKING=FALSE h5ls -r " + path + " 2>/dev/null").output;
}

// The number of rows of a task dataset (`samples`, `tree`) in such a listing, 0 when it is not there.
size_t rows_in_listing(const std::string& listing, const std::string& dataset) {
  const std::string key = "/" + dataset + " Dataset {";
  const size_t at = listing.find(key);
  if (at == std::string::npos) return 0;
  return std::strtoull(listing.c_str() + at + key.size(), nullptr, 10);
}

// Starts a long simulated run in the background and kills rank `victim` once the trace has samples
// (and, with `wait_for_tree`, a merged tree): what the killed job leaves does not depend on how fast
// the machine is.
CliResult run_and_kill_rank(const TempDir& dir, const std::string& cfg, int ranks, int victim,
                            bool wait_for_tree = false) {
  CliResult result;
  std::thread job(
      [&] { result = run_command(mpirun(ranks) + rctune_bin() + " tune " + cfg + " --simulate --quiet"); });
  bool killed = false;
  for (int i = 0; i < 1200 && !killed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::string trace = dir.file("run.h5");
    if (!std::filesystem::exists(trace)) continue;
    const std::string listing = list_running_trace(trace);
    if (rows_in_listing(listing, "samples") == 0) continue;
    if (wait_for_tree && rows_in_listing(listing, "tree") == 0) continue;
    for (pid_t p : rank_pids(victim, cfg)) killed |= kill(p, SIGKILL) == 0;
  }
  job.join();
  EXPECT_TRUE(killed) << "rank " << victim << " was found and killed";
  // mpirun may return before the ranks it killed are gone; the trace is read once they are.
  for (int i = 0; i < 200 && !rank_pids(0, cfg).empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return result;
}

TEST(TuneMpi, KilledRankEndsTheJobNamingItAndKeepsEverySample) {
  TempDir dir;
  // The merged tree is written at every synchronisation (tree_interval 0), so the killed job has one.
  const std::string cfg = write_config(dir, "run", 100000, "dist:\n  tree_interval: 0\n", 1);
  const CliResult r = run_and_kill_rank(dir, cfg, 3, 1, /*wait_for_tree=*/true);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("rank 1"), std::string::npos) << "the dead rank is named\n" << r.output;
  // Rank 0 says what every rank was doing, in a file beside the trace (and on stderr, which
  // mpirun may no longer forward while it ends the job).
  std::ifstream in(dir.file("run.h5.stopped.txt"));
  std::stringstream report;
  report << in.rdbuf();
  EXPECT_NE(report.str().find("what each rank was doing"), std::string::npos) << r.output;
  EXPECT_NE(report.str().find("  rank 1: tuning matmul"), std::string::npos) << report.str();
  EXPECT_NE(report.str().find("continue it with --resume"), std::string::npos) << report.str();
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  EXPECT_FALSE(run.finished());
  const runlog::TaskLog& t = run.tasks.at(0);
  EXPECT_GT(runlog::measured_samples(t).size(), 0u) << "what rank 0 received is kept";
  EXPECT_FALSE(t.tree.empty()) << "the merged tree so far";
  EXPECT_FALSE(t.rank_trees.empty());
}

// The stop report goes beside the trace only where no file of the user's is: a file, or a link,
// named TRACE.stopped.txt is left as it was, and the report goes to stderr alone.
TEST(TuneMpi, TheStopReportNeverReplacesAFileThatIsThere) {
  for (const bool link : {false, true}) {
    TempDir dir;
    const std::string cfg = write_config(dir, "run", 100000, "", 1);
    std::ofstream(dir.file("notes.txt")) << "my notes\n";
    if (link)
      std::filesystem::create_symlink(dir.file("notes.txt"), dir.file("run.h5.stopped.txt"));
    else
      std::ofstream(dir.file("run.h5.stopped.txt")) << "my notes\n";
    const CliResult r = run_and_kill_rank(dir, cfg, 2, 1);
    EXPECT_NE(r.exit_code, 0) << r.output;
    for (const char* name : {"run.h5.stopped.txt", "notes.txt"}) {
      std::ifstream in(dir.file(name));
      std::stringstream text;
      text << in.rdbuf();
      EXPECT_EQ(text.str(), "my notes\n") << (link ? "a link: " : "a file: ") << name << "\n" << r.output;
    }
    EXPECT_EQ(std::filesystem::is_symlink(dir.file("run.h5.stopped.txt")), link);
  }
}

TEST(TuneMpi, KilledRunResumesWithAnotherNumberOfRanks) {
  TempDir dir;
  const std::string cfg = write_config(dir, "run", 100000, "", 1);
  run_and_kill_rank(dir, cfg, 3, 2);
  const runlog::RunLog before = runlog::read_run_log(dir.file("run.h5"));
  const std::vector<runlog::SampleRecord> old = runlog::measured_samples(before.tasks.at(0));
  ASSERT_GT(old.size(), 0u);
  const size_t budget = old.size() + 40;

  const CliResult r = run_command(mpirun(2) + rctune_bin() + " tune --resume " + dir.file("run.h5") +
                                  " --budget " + std::to_string(budget) + " --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const runlog::RunLog after = runlog::read_run_log(dir.file("run.h5"));
  EXPECT_TRUE(after.finished());
  const runlog::TaskLog& t = after.tasks.at(0);
  expect_every_sample_once(t, budget);
  // The samples of the killed session are kept as they were, and none of their programs is
  // measured again.
  std::set<uint64_t> old_programs;
  const std::vector<runlog::SampleRecord> now = runlog::measured_samples(t);
  for (size_t i = 0; i < old.size(); ++i) {
    EXPECT_EQ(now[i], old[i]);
    old_programs.insert(old[i].structural_hash);
  }
  std::set<int32_t> new_ranks;
  for (size_t i = old.size(); i < now.size(); ++i) {
    EXPECT_FALSE(old_programs.count(now[i].structural_hash))
        << "sample " << now[i].index << " was measured before";
    new_ranks.insert(now[i].rank);
  }
  EXPECT_EQ(new_ranks, (std::set<int32_t>{0, 1}));
  EXPECT_EQ(after.info.resume_times.size(), 1u);
}

TEST(TuneMpi, KilledModelRunResumesItsRoundsWithoutMeasuringAProgramAgain) {
  TempDir dir;
  const std::string cfg = write_model(dir, "run", 100000, "dist:\n  group_size: 1\n");
  run_and_kill_rank(dir, cfg, 3, 2);
  const runlog::RunLog before = runlog::read_run_log(dir.file("run.h5"));
  const size_t recorded = model_samples(before);
  ASSERT_GT(recorded, 0u);
  const size_t budget = recorded + 36;
  const CliResult r = run_command(mpirun(2) + rctune_bin() + " tune --resume " + dir.file("run.h5") +
                                  " --budget " + std::to_string(budget) + " --simulate --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const runlog::RunLog after = runlog::read_run_log(dir.file("run.h5"));
  EXPECT_TRUE(after.finished());
  EXPECT_EQ(model_samples(after), budget);
  ASSERT_GT(after.allocations.size(), before.allocations.size());
  int64_t new_spent = 0;
  for (size_t i = 0; i < after.allocations.size(); ++i) {
    EXPECT_EQ(after.allocations[i].round, static_cast<int64_t>(i));
    if (i < before.allocations.size())
      EXPECT_EQ(after.allocations[i], before.allocations[i]);
    else
      new_spent += after.allocations[i].spent;
  }
  EXPECT_EQ(new_spent, 36) << "the rounds of this session spent what the budget added";
  for (size_t k = 0; k < after.tasks.size(); ++k) expect_no_program_measured_twice(after.tasks[k]);
}

TEST(TuneMpi, PlainRunResumesAManyRankTraceWithoutMeasuringItsProgramsAgain) {
  TempDir dir;
  const std::string cfg = write_config(dir, "run", 30, "", 1);
  ASSERT_EQ(run_command(mpirun(3) + rctune_bin() + " tune " + cfg + " --simulate --quiet").exit_code, 0);
  const std::vector<runlog::SampleRecord> old =
      runlog::measured_samples(runlog::read_run_log(dir.file("run.h5")).tasks.at(0));
  ASSERT_EQ(old.size(), 30u);
  const CliResult r = run_rctune("tune --resume " + dir.file("run.h5") + " --budget 50 --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const runlog::RunLog after = runlog::read_run_log(dir.file("run.h5"));
  const runlog::TaskLog& t = after.tasks.at(0);
  expect_every_sample_once(t, 50);
  const std::vector<runlog::SampleRecord> now = runlog::measured_samples(t);
  std::set<uint64_t> old_programs;
  for (size_t i = 0; i < old.size(); ++i) {
    EXPECT_EQ(now[i], old[i]);
    old_programs.insert(old[i].structural_hash);
  }
  for (size_t i = old.size(); i < now.size(); ++i) EXPECT_FALSE(old_programs.count(now[i].structural_hash));
  EXPECT_TRUE(t.rank_trees.empty()) << "the ranks' trees no longer add up to the tree";
  EXPECT_FALSE(t.tree.empty());
}

TEST(TuneMpi, PlainRunResumesAManyRankModelTraceSpendingOnlyTheAddedBudget) {
  TempDir dir;
  const std::string cfg = write_model(dir, "run", 30, "dist:\n  group_size: 1\n");
  ASSERT_EQ(run_command(mpirun(2) + rctune_bin() + " tune " + cfg + " --simulate --quiet").exit_code, 0);
  const size_t rounds_before = runlog::read_run_log(dir.file("run.h5")).allocations.size();
  const CliResult r = run_rctune("tune --resume " + dir.file("run.h5") + " --budget 48 --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  EXPECT_EQ(model_samples(run), 48u) << "the resumed run spends the 18 samples added, no more";
  EXPECT_GT(run.allocations.size(), rounds_before);
  expect_rounds_add_up(run, 2, "gradient");
  for (const runlog::TaskLog& t : run.tasks) expect_no_program_measured_twice(t);
}

TEST(TuneMpi, RanksStartFromTheTuningDatabaseAndATaskAtItsRecordStops) {
  TempDir dir;
  auto config = [&](const std::string& name, const std::string& scheduler) {
    const std::string path = dir.file(name + ".yaml");
    std::ofstream(path) << "seed: 3\nbudget: " << (scheduler == "per_task" ? 6 : 12)
                        << "\nscheduler: " << scheduler << "\nout: " << dir.file(name + ".h5")
                        << "\ntasks:\n  - {workload: 'matmul:M=32,N=32,K=32', name: fc}\n"
                           "  - {workload: 'softmax:M=16,N=64', name: softmax}\n"
                           "mcts: {measure_batch: 3}\nmeasure: {min_time: 0.005}\ndist: {group_size: 1}\n";
    return path;
  };
  const std::string db = " --database " + dir.file("db");
  // A one-process run tunes each task with 6 samples and stores its records.
  const CliResult first = run_rctune("tune " + config("first", "per_task") + db + " --quiet");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  // Two ranks, 12 samples for the model (6 per task): each task's record is measured again (one
  // sample, before the scheduler's rounds); where it holds (it was tuned with 6 samples), the task
  // draws no round.
  const CliResult second =
      run_command(mpirun(2) + rctune_bin() + " tune " + config("second", "gradient") + db);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("the tuning database has "), std::string::npos) << second.output;
  const runlog::RunLog run = runlog::read_run_log(dir.file("second.h5"));
  for (const runlog::TaskLog& t : run.tasks) {
    EXPECT_EQ(t.info.baselines_source.rfind("tuning database", 0), 0u)
        << t.info.name << ": the baselines the first run measured are not measured again";
    EXPECT_GT(t.info.reference_gflops, 0) << t.info.name;
    const auto ms = runlog::measured_samples(t);
    ASSERT_FALSE(ms.empty()) << t.info.name;
    EXPECT_EQ(ms.front().proposer, "database") << t.info.name << ": the record is measured first";
    // Whether the record held is a matter of timing; a task whose record held stops after it.
    const size_t at = second.output.find(t.info.name + ": recorded best confirmed");
    ASSERT_NE(at, std::string::npos) << second.output;
    const std::string line = second.output.substr(at, second.output.find('\n', at) - at);
    if (line.find("no more samples") != std::string::npos)
      EXPECT_EQ(ms.size(), 1u) << t.info.name << ": one sample confirms the record, then the task stops\n"
                               << second.output;
    else
      EXPECT_GT(ms.size(), 1u) << t.info.name << ": its record did not hold, so it was tuned on\n"
                               << second.output;
  }
  size_t confirmations = 0;
  for (const runlog::AllocationRecord& a : run.allocations)
    confirmations += a.reason == "confirm recorded best" && a.spent == 1 && a.samples == 1;
  EXPECT_EQ(confirmations, 2u) << "one row of one sample per confirmation";
}

TEST(TuneMpi, LlmRequestsOfAllRanksGoThroughRankZeroAndIdenticalPromptsGoOutOnce) {
  TempDir dir;
  llm::testing::FakeOpenAiServer server;
  // The scripted model answers every completion asked for (n), after a pause, so that requests
  // from several ranks are in flight together.
  server.set_handler([](const llm::testing::RecordedRequest& req) {
    const int n = req.json.value("n", 1);
    std::vector<std::string> answers(static_cast<size_t>(n),
                                     llm::testing::split_tweaking_answer(req.all_content()));
    return llm::testing::FakeResponse::answers(answers).after_ms(50);
  });
  // One root child, the best predicted of many draws of a small space: the ranks tend to start
  // from the same program and ask the model about it at the same time.
  auto run = [&](int seed) {
    const std::string cfg = dir.file("llm" + std::to_string(seed) + ".yaml");
    std::ofstream(cfg) << "seed: " << seed << "\nbudget: 48\nproposer: llm\nout: " << dir.file("run.h5")
                       << "\ntasks:\n  - workload: matmul:M=64,N=64,K=64\n"
                          "mcts:\n  root_samples: 1\n  root_draws: 64\n"
                          "llm:\n  cache_dir: "
                       << dir.file("llm-cache")
                       << "\n  concurrency: 8\n  models:\n    - name: fake\n      url: " << server.base_url()
                       << "\n      model: fake-model\n      timeout: 20\n      max_retries: 0\n"
                          "dist:\n  llm_batch_window: 10\n";
    server.reset_counts();
    return run_command(mpirun(8) + rctune_bin() + " tune " + cfg + " --simulate --quiet");
  };
  const CliResult r = run(7);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const runlog::RunLog trace_file = runlog::read_run_log(dir.file("run.h5"));
  const runlog::TaskLog& t = trace_file.tasks.at(0);
  std::map<int32_t, int> ok_calls;
  for (const auto& c : t.llm_calls)
    if (c.ok) ++ok_calls[c.rank];
  EXPECT_GE(ok_calls.size(), 4u) << "ranks got answers";
  int from_llm = 0;
  for (const auto& s : t.samples) from_llm += s.proposer == "llm" ? 1 : 0;
  EXPECT_GT(from_llm, 0);
  // Rank 0 alone talks to the endpoint: it reports every request it sent, and the server saw
  // exactly those (a rank connecting on its own would add requests the hub does not count).
  auto sent = [](const std::string& out) {
    const size_t at = out.find(" sent to endpoints");
    if (at == std::string::npos) return size_t{0};
    const size_t start = out.rfind(", ", at) + 2;
    return static_cast<size_t>(std::stoul(out.substr(start, at - start)));
  };
  EXPECT_EQ(sent(r.output), server.request_count()) << r.output;
  EXPECT_GE(server.max_in_flight(), 2) << "requests of several ranks were in flight together";

  // Identical prompts of several ranks went out once, asking for one completion per rank. The
  // hub sends a batch when every rank waits for it, so whether prompts coincide depends only on
  // the seed; try a few.
  int merged = 0;
  for (int seed : {7, 1, 9, 11}) {
    const CliResult again = seed == 7 ? r : run(seed);
    ASSERT_EQ(again.exit_code, 0) << again.output;
    for (const auto& req : server.requests()) {
      const int n = req.json.value("n", 1);
      EXPECT_LE(n, 8) << "at most one completion per rank";
      merged += n > 1 ? 1 : 0;
    }
    if (merged > 0) {
      EXPECT_EQ(again.output.find("(0 answered together)"), std::string::npos) << again.output;
      break;
    }
  }
  EXPECT_GT(merged, 0) << "no two ranks asked the same prompt at once with any of the seeds";
}

}  // namespace
}  // namespace rctune::testing
