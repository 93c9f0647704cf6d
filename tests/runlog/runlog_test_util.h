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

#include "rctune/runlog/runlog.h"

namespace rctune::runlog::testing {

// A fresh directory under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rctune-trace-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) std::abort();
    dir_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(dir_, ec);
  }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  const std::filesystem::path& path() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

// The message of the RunLogError that `fn` throws, or "(no RunLogError)".
inline std::string trace_error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const RunLogError& e) {
    return e.what();
  }
  return "(no RunLogError)";
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
