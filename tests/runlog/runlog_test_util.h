// Helpers shared by the trace tests.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "rctune/runlog/runlog.h"
#include "rctune/runlog/writer.h"
#include "support/contains.h"
#include "support/message_of.h"
#include "support/temp_dir.h"

namespace rctune::runlog::testing {

using rctune::test_support::expect_contains_all;
using rctune::test_support::TempDir;

// The message of the RunLogError that `fn` throws, or "(no RunLogError)".
inline std::string trace_error_of(const std::function<void()>& fn) {
  return test_support::message_of<RunLogError>(fn).value_or("(no RunLogError)");
}

inline RunInfo sample_run_info() {
  RunInfo r = current_run_info();
  r.config_text = "tasks:\n  - matmul: [512, 512, 512]\nbudget: 64\n";
  r.config_path = "configs/quickstart.yaml";
  r.command_line = "rctune tune configs/quickstart.yaml";
  r.execution_space = "OpenMP";
  r.strategy = "mcts";
  r.proposer = "heuristic";
  r.seed = 0xfeedfacecafebeefULL;
  r.budget = 64;
  r.num_ranks = 2;
  return r;
}

inline TaskInfo sample_task(const std::string& name = "matmul_512x512x512") {
  TaskInfo t;
  t.name = name;
  t.workload = "workload " + name + " {\n  C[i, j] += A[i, k] * B[k, j]\n}\n";
  t.weight = 3;
  t.flops = 2.0 * 512 * 512 * 512;
  t.reference_seconds = 0.25;
  t.reference_gflops = t.flops / 0.25 * 1e-9;
  return t;
}

// A sample whose every field is a function of its index, so a reader can check it.
inline SampleRecord make_sample(int64_t i) {
  SampleRecord s;
  s.index = i;
  s.wall_time = 0.5 * static_cast<double>(i) + 0.125;
  s.rank = static_cast<int32_t>(i % 3);
  s.strategy = "mcts";
  s.proposer = i % 2 ? "heuristic" : "llm";
  s.node = i + 1;
  s.parent_node = i / 2;
  s.trace = "split(C, i, [None, " + std::to_string(8 + i % 5) + "])\nparallel(C, i.0)  # sample " +
            std::to_string(i);
  s.rationale = i % 4 ? "tile i for L1 – µarch-friendly" : "";
  s.structural_hash = 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(i + 1);
  s.status = static_cast<SampleStatus>(i % 6);
  s.cached = i % 5 == 0;
  if (s.status == SampleStatus::Ok) {
    s.median_s = 1e-3 * static_cast<double>(i + 1);
    s.min_s = s.median_s * 0.9;
    s.max_s = s.median_s * 1.2;
    s.iqr_s = s.median_s * 0.05;
    s.gflops = 100.0 / static_cast<double>(i + 1);
  } else {
    s.error = std::string("error of sample ") + std::to_string(i) + ": " + sample_status_name(s.status);
  }
  s.predicted = i % 3 ? 0.5 + static_cast<double>(i) : kNaN;
  s.compile_s = s.cached ? 0 : 1.5;
  return s;
}

// The statistics of rank `r` in run session `session`: every field a function of the two, ranks 2
// and up on a host whose name is not ASCII.
inline RankStats make_rank_stats(int32_t r, int session) {
  RankStats s;
  s.rank = r;
  s.host = r < 2 ? "node-a" : "nœud-b.cluster";
  s.group = r / 2;
  s.node_rank = r % 2;
  s.pin_core = r == 1 ? -1 : 4 * r;
  s.samples = 100 * session + r;
  s.wall_s = 60.5 * session;
  s.search_s = 1.25 + r;
  s.measure_s = 40.0 + r;
  s.comm_s = 0.125 * r;
  s.merge_s = 0.5;
  return s;
}

// A run file at `path` holding the sample task with make_sample(0 .. n - 1), appended one at a
// time; the writer is returned still open, the task not finished.
inline RunWriter writer_with_samples(const std::string& path, int64_t n) {
  RunWriter w = RunWriter::create(path, sample_run_info());
  const RunWriter::Task t = w.begin_task(sample_task());
  for (int64_t i = 0; i < n; ++i) w.append_sample(t, make_sample(i));
  return w;
}

// A search tree of `n` nodes (node i's parent is (i - 1) / 2) whose every field is a function of
// the node, `session` and `rank`: the same first nodes have the same id, parent, action and hash in
// every session, with new numbers. Nodes 2, 5, 8, ... were not measured: their best_gflops is NaN.
inline std::vector<TreeNode> sample_tree(int n, int session, int32_t rank = 0) {
  std::vector<TreeNode> nodes;
  for (int i = 0; i < n; ++i) {
    TreeNode t;
    t.id = i;
    t.parent = i == 0 ? -1 : (i - 1) / 2;
    t.action = i == 0 ? ""
                      : "split(C, i, [None, " + std::to_string(4 << (i % 4)) + "])  # µ rank " +
                            std::to_string(rank);
    t.visits = 10 * session + rank + i;
    t.value = 0.5 * (rank + 1) * (i + session);
    t.best_gflops = i % 3 == 2 ? kNaN : 10.0 * (rank + 1) + i;
    t.sample = i % 3 == 2 ? -1 : 100 * rank + i;
    t.structural_hash = 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(rank + 1) + static_cast<uint64_t>(i);
    nodes.push_back(t);
  }
  return nodes;
}

// Runs a command; returns its exit status (-1 if it could not run) and its output.
inline int run_command(const std::string& cmd, std::string* output) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf{};
  std::string out;
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int st = pclose(p);
  if (output) *output = out;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// The h5dump program from hdf5-tools, or "" when it is not installed.
inline std::string find_h5dump() {
  std::string out;
  if (run_command("command -v h5dump", &out) != 0) return "";
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// What `h5dump` (find_h5dump()) shows of the dataset `dataset` of the run file `path`; fails the
// test when h5dump fails.
inline std::string h5dump_dataset(const std::string& h5dump, const std::string& path,
                                  const std::string& dataset) {
  std::string out;
  EXPECT_EQ(run_command(h5dump + " -d " + dataset + " '" + path + "'", &out), 0) << out;
  return out;
}

// How a forked writer ended.
struct Killed {
  int64_t confirmed = 0;  // indices it reported before it ended
  int signal = 0;         // the signal that ended it, 0 if none did
};

// Forks a child that runs `child(fd)`, which never returns and writes each index it completes to
// `fd` as an int64_t. Kills the child with SIGKILL `delay_us` after it reported `after` indices;
// `after` < 0: never (the child ends itself).
inline Killed fork_and_kill(const std::function<void(int)>& child, int64_t after, int delay_us) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  pid_t pid = fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    close(fds[0]);
    child(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  Killed k;
  int64_t idx = 0;
  bool killed = false;
  while (read(fds[0], &idx, sizeof idx) == sizeof idx) {
    k.confirmed = idx + 1;
    if (!killed && after >= 0 && k.confirmed >= after) {
      if (delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
      kill(pid, SIGKILL);
      killed = true;
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  k.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return k;
}

}  // namespace rctune::runlog::testing
