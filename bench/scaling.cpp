// bench/scaling: how `mpirun -np N rctune tune` (root-parallel MCTS, docs/dist.md) scales with the
// number of ranks, measured side by side in one run.
//
// Two tables. Real: the workload tuned on this machine with 1 and 2 ranks (real compile and run);
// every real row shares one kernel cache and runs untimed first (warm-up passes until one compiles
// nothing), so that compile times do not favour the rows that run later; a timed row that still
// compiled a kernel runs again. Simulated: `rctune tune --simulate` with
// measure.simulated_latency, where each measurement is a pause, so that many ranks on few cores
// overlap like ranks on separate nodes. Each row is read back from the run's HDF5 trace: wall time,
// samples and samples/s, the speedup of samples/s over the 1-rank row, the time and samples to reach
// 90% (--target) of the best any row of the table found, the best GFLOP/s, the share of rank time spent in
// MPI communication and in tree merges, and the share of measurements that repeated a program already
// measured in the task.
#include <stdlib.h>
#include <sys/wait.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "rctune/runlog/runlog.h"

#ifndef RCTUNE_SCALING_MPIEXEC
#define RCTUNE_SCALING_MPIEXEC "mpiexec"
#endif
#ifndef RCTUNE_SCALING_RCTUNE
#define RCTUNE_SCALING_RCTUNE "rctune"
#endif

namespace {

namespace fs = std::filesystem;
using namespace rctune;

// What one run (one rank count, one seed) left in its trace, reduced to what the table needs.
struct RunResult {
  int ranks = 0;
  uint64_t seed = 0;
  double wall_s = 0;
  std::vector<runlog::SampleRecord> samples;  // measured samples of all tasks, in index order
  double best = 0;                           // best GFLOP/s measured (0: none)
  double comm_share = 0, merge_share = 0;    // of the ranks' summed wall time
  double dup_share = 0;                      // of measured samples
  double compile_s = 0;                      // summed compile time of its samples
};

// One table: runs of one mode (real or simulated) that share the target (90% of their best).
struct Mode {
  std::string name;  // "real", "simulated"
  std::string workload;
  int64_t budget = 0;
  double latency = 0;  // simulated_latency (simulated mode only)
  bool simulate = false;
  std::vector<int> ranks;
};

struct Settings {
  std::string mpiexec, rctune;
  fs::path dir;        // temporary directory of configs and traces
  fs::path cache_dir;  // kernel cache of the real runs
  double min_time = 0.02;
};

using bench::split_list;

std::vector<int> parse_ranks(const std::string& s, const std::string& option) {
  std::vector<int> out;
  for (const std::string& item : split_list(s, ',')) {
    size_t used = 0;
    int n = 0;
    try {
      n = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || n < 1)
      throw std::runtime_error(option + ": expected rank counts >= 1 separated by ',', got '" + s + "'");
    out.push_back(n);
  }
  if (out.empty()) throw std::runtime_error(option + ": give at least one rank count");
  return out;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// Single-quoted for the shell.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Single-quoted for YAML.
std::string yaml_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command; its exit status and everything it printed (stdout and stderr).
std::pair<int, std::string> run_command(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("cannot start: " + cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  const int rc = status == -1 ? -1 : (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return {rc, out};
}

// Tunes the mode's workload with `ranks` ranks and seed `seed`; the trace it wrote, read back.
// Exits the program with the command's output when the run fails.
runlog::RunLog run_rctune(const Settings& s, const Mode& m, int ranks, uint64_t seed,
                           const std::string& tag) {
  const std::string stem = m.name + "-" + std::to_string(ranks) + "r-s" + std::to_string(seed) + tag;
  const fs::path config = s.dir / (stem + ".yaml");
  const fs::path out = s.dir / (stem + ".h5");
  {
    std::ofstream f(config);
    f << "# bench/scaling: " << m.name << " run, " << ranks << " rank(s)\n"
      << "seed: " << seed << "\n"
      << "budget: " << m.budget << "\n"
      << "strategy: mcts\n"
      << "proposer: heuristic\n"
      << "out: " << yaml_quote(out.string()) << "\n"
      << "tasks:\n"
      << "  - workload: " << yaml_quote(m.workload) << "\n"
      << "measure:\n"
      << "  min_time: " << s.min_time << "\n";
    if (m.simulate) f << "  simulated_latency: " << m.latency << "\n";
    if (!f) throw std::runtime_error("cannot write " + config.string());
  }
  fs::remove(out);
  const std::string cmd = shell_quote(s.mpiexec) +
                          " --allow-run-as-root --oversubscribe --bind-to none -np " + std::to_string(ranks) +
                          " " + shell_quote(s.rctune) + " tune " + shell_quote(config.string()) +
                          " --quiet --out " + shell_quote(out.string()) + " --cache-dir " +
                          shell_quote(s.cache_dir.string()) + (m.simulate ? " --simulate" : "");
  const auto [rc, output] = run_command(cmd);
  if (rc != 0) {
    std::fprintf(stderr,
                 "\nbench/scaling: this run failed (exit status %d):\n  %s\n%s\n(configs kept in %s)\n", rc,
                 cmd.c_str(), output.c_str(), s.dir.c_str());
    std::exit(1);
  }
  try {
    return runlog::read_run_log(out.string());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nbench/scaling: cannot read the trace of\n  %s\n%s\n%s\n(configs kept in %s)\n",
                 cmd.c_str(), e.what(), output.c_str(), s.dir.c_str());
    std::exit(1);
  }
}

RunResult summarise(const runlog::RunLog& t, int ranks, uint64_t seed) {
  RunResult r;
  r.ranks = ranks;
  r.seed = seed;
  r.wall_s = t.info.end_time - t.info.start_time;
  int64_t dups = 0;
  for (const runlog::TaskLog& task : t.tasks) {
    std::set<uint64_t> seen;
    for (const runlog::SampleRecord& s : runlog::measured_samples(task)) {
      if (!seen.insert(s.structural_hash).second) ++dups;
      if (s.status == runlog::SampleStatus::Ok && std::isfinite(s.gflops)) r.best = std::max(r.best, s.gflops);
      r.compile_s += s.compile_s;
      r.samples.push_back(s);
    }
  }
  // Tasks are run one after another; the table's workloads have one task, so index order is the
  // order within it.
  std::stable_sort(
      r.samples.begin(), r.samples.end(),
      [](const runlog::SampleRecord& a, const runlog::SampleRecord& b) { return a.index < b.index; });
  r.dup_share = r.samples.empty() ? 0 : static_cast<double>(dups) / static_cast<double>(r.samples.size());
  double wall = 0, comm = 0, merge = 0;
  for (const runlog::RankStats& rs : t.ranks) {  // empty for one rank: no communication, no merges
    wall += rs.wall_s;
    comm += rs.comm_s;
    merge += rs.merge_s;
  }
  r.comm_share = wall > 0 ? comm / wall : 0;
  r.merge_share = wall > 0 ? merge / wall : 0;
  return r;
}

// Seconds (from the run's start) and samples (1-based, index order) until a sample reached
// `target` GFLOP/s; NaN and -1 when none did.
std::pair<double, int64_t> time_to(const RunResult& r, double target) {
  double t = std::nan("");
  int64_t n = -1;
  for (size_t i = 0; i < r.samples.size(); ++i) {
    const runlog::SampleRecord& s = r.samples[i];
    if (s.status != runlog::SampleStatus::Ok || !(s.gflops >= target)) continue;
    if (n < 0) n = static_cast<int64_t>(i) + 1;
    if (!(s.wall_time >= t)) t = s.wall_time;  // the earliest in time (ranks measure in parallel)
  }
  return {t, n};
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return std::nan("");
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

// "12.3", "12.3 (2/3)" when only some seeds reached it, "-" when none did.
std::string mean_reached(const std::vector<double>& reached, int seeds, const char* f) {
  if (reached.empty()) return "-";
  std::string s = fmt(f, mean(reached));
  if (static_cast<int>(reached.size()) < seeds)
    s += " (" + std::to_string(reached.size()) + "/" + std::to_string(seeds) + ")";
  return s;
}

void print_table(const Mode& m, const std::vector<RunResult>& runs, double min_time, double fraction) {
  double best_any = 0;
  for (const RunResult& r : runs) best_any = std::max(best_any, r.best);
  const double target = fraction * best_any;
  const std::string pct = fmt("%g%%", 100 * fraction);
  std::printf("%s: %s, budget %lld%s; %s of the best any %s row found = %.1f GFLOP/s\n", m.name.c_str(),
              m.workload.c_str(), static_cast<long long>(m.budget),
              m.simulate ? (", simulated latency " + fmt("%g", m.latency) + " s per measurement").c_str()
                         : (", min time " + fmt("%g", min_time) + " s per measurement").c_str(),
              pct.c_str(), m.name.c_str(), target);
  std::printf("  %5s %8s %8s %10s %8s %12s %12s %10s %7s %7s %7s%s\n", "ranks", "wall s", "samples",
              "samples/s", "speedup", ("time to " + pct).c_str(), ("samples " + pct).c_str(), "GFLOP/s",
              "comm %", "merge %", "dup %", m.simulate ? "" : "  compile s");
  // The reference of the speedup: the 1-rank row (else the row with the fewest ranks).
  const int ref_ranks = *std::min_element(m.ranks.begin(), m.ranks.end());
  auto rate_of = [&](int ranks) {
    std::vector<double> v;
    for (const RunResult& r : runs)
      if (r.ranks == ranks && r.wall_s > 0) v.push_back(static_cast<double>(r.samples.size()) / r.wall_s);
    return mean(v);
  };
  const double ref_rate = rate_of(ref_ranks);
  std::vector<int> done;
  for (int ranks : m.ranks) {
    if (std::find(done.begin(), done.end(), ranks) != done.end()) continue;
    done.push_back(ranks);
    std::vector<double> wall, samples, best, comm, merge, dup, t90, n90, compile;
    int n = 0;
    for (const RunResult& r : runs) {
      if (r.ranks != ranks) continue;
      ++n;
      wall.push_back(r.wall_s);
      samples.push_back(static_cast<double>(r.samples.size()));
      best.push_back(r.best);
      comm.push_back(100 * r.comm_share);
      merge.push_back(100 * r.merge_share);
      dup.push_back(100 * r.dup_share);
      compile.push_back(r.compile_s);
      const auto [t, k] = time_to(r, target);
      if (k > 0) {
        t90.push_back(t);
        n90.push_back(static_cast<double>(k));
      }
    }
    const double rate = rate_of(ranks);
    std::printf("  %5d %8.1f %8.1f %10.2f %8s %12s %12s %10.1f %7.1f %7.1f %7.1f%s\n", ranks, mean(wall),
                mean(samples), rate, ref_rate > 0 ? fmt("%.2fx", rate / ref_rate).c_str() : "-",
                mean_reached(t90, n, "%.1f").c_str(), mean_reached(n90, n, "%.1f").c_str(), mean(best),
                mean(comm), mean(merge), mean(dup), m.simulate ? "" : fmt("%11.1f", mean(compile)).c_str());
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "bench/scaling: samples/s, time to a good kernel and MPI overhead of `mpirun -np N rctune tune`"};
  std::string real_ranks_s = "1,2";
  std::string sim_ranks_s = "1,2,4,8,16,32,64";
  Mode real{"real", "matmul:M=256,N=256,K=256", 24, 0, false, {}};
  Mode sim{"simulated", "matmul:M=256,N=256,K=256", 256, 0.05, true, {}};
  int seeds = 1;
  double fraction = 0.9;
  int warmup_passes = 3;
  bool keep = false, no_real = false, no_sim = false;
  Settings s;
  s.mpiexec = RCTUNE_SCALING_MPIEXEC;
  s.rctune = RCTUNE_SCALING_RCTUNE;
  std::string cache_dir;
  app.add_option("--real-ranks", real_ranks_s, "rank counts of the real rows, separated by ','")
      ->capture_default_str();
  app.add_option("--real-workload", real.workload, "operator spec of the real rows")->capture_default_str();
  app.add_option("--real-budget", real.budget, "samples per real run")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--sim-ranks", sim_ranks_s, "rank counts of the simulated rows, separated by ','")
      ->capture_default_str();
  app.add_option("--sim-workload", sim.workload, "operator spec of the simulated rows")
      ->capture_default_str();
  app.add_option("--sim-budget", sim.budget, "samples per simulated run")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--latency", sim.latency,
                 "seconds each simulated measurement takes (measure.simulated_latency)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seeds", seeds, "run every row with seeds 1..K; the table shows means")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--target", fraction, "time/samples to this fraction of the best any row of the table found")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--warmup-passes", warmup_passes,
                 "most untimed passes over the real rows before the timed ones")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--cache-dir", cache_dir,
                 "kernel cache of the real rows (default: a fresh one in the temp dir)");
  app.add_option("--mpiexec", s.mpiexec, "mpiexec to start the ranks with")->capture_default_str();
  app.add_option("--rctune", s.rctune, "rctune binary")->capture_default_str();
  app.add_flag("--no-real", no_real, "skip the real rows");
  app.add_flag("--no-sim", no_sim, "skip the simulated rows");
  app.add_flag("--keep", keep, "keep the temp dir of configs and traces");
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // the tables appear as they are printed, also into a file

  try {
    real.ranks = parse_ranks(real_ranks_s, "--real-ranks");
    sim.ranks = parse_ranks(sim_ranks_s, "--sim-ranks");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench/scaling: %s\n", e.what());
    return 2;
  }
  if (!fs::exists(s.rctune)) {
    std::fprintf(stderr,
                 "bench/scaling: no rctune binary at %s (build the target rctune, or give --rctune PATH)\n",
                 s.rctune.c_str());
    return 2;
  }

  std::string tmpl = (fs::temp_directory_path() / "rctune-scaling-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) {
    std::fprintf(stderr, "bench/scaling: cannot create a temp dir %s\n", tmpl.c_str());
    return 1;
  }
  s.dir = tmpl;
  s.cache_dir = cache_dir.empty() ? s.dir / "kernels" : fs::path(cache_dir);

  std::printf("bench/scaling: root-parallel MCTS (`%s -np N rctune tune`), every row measured in this run\n",
              s.mpiexec.c_str());
  std::printf(
      "settings: strategy mcts, proposer heuristic, default mcts/dist settings, seed%s %s; %u hardware "
      "threads on this machine, ranks started with --oversubscribe --bind-to none\n",
      seeds > 1 ? "s 1 to" : "", std::to_string(seeds).c_str(), std::thread::hardware_concurrency());
  if (!no_real)
    std::printf(
        "real rows: ranks %s, %s, budget %lld, min time %g s per measurement; one kernel cache for all "
        "rows (%s); before the timed rows, every real row runs untimed (warm-up), again until a pass "
        "compiles nothing (at most %d passes), so compile times do not favour later rows; a timed row that "
        "still compiled a kernel (measurement noise steers the search off the warm-up's path) runs again, as "
        "often, and shows its last run ('compile s': what that run compiled)\n",
        real_ranks_s.c_str(), real.workload.c_str(), static_cast<long long>(real.budget), s.min_time,
        s.cache_dir.c_str(), warmup_passes);
  if (!no_sim)
    std::printf(
        "simulated rows: ranks %s, %s, budget %lld, rctune tune --simulate with %g s per measurement (a "
        "pause: ranks overlap like ranks on separate nodes)\n",
        sim_ranks_s.c_str(), sim.workload.c_str(), static_cast<long long>(sim.budget), sim.latency);
  std::printf(
      "columns: wall = end - start of the run; samples = measured samples; speedup = samples/s over the "
      "1-rank row; time/samples to %s = first sample (in time / in index order) at >= %s of the best "
      "any row of the table found ('-' never, '(k/K)' k of K seeds); comm %%, merge %% = sum over ranks of "
      "comm_s, merge_s / sum of wall_s (0 for one rank); dup %% = measured samples whose program was "
      "measured before in the task%s\n\n",
      fmt("%g%%", 100 * fraction).c_str(), fmt("%g%%", 100 * fraction).c_str(),
      seeds > 1 ? "; means over seeds" : "");

  const auto t_all = std::chrono::steady_clock::now();
  auto run_mode = [&](const Mode& m, bool warm_up) {
    std::vector<RunResult> runs;
    int passes = 0;
    double compile_s = 0;  // in the last warm-up pass
    for (int pass = 1; warm_up && pass <= warmup_passes; ++pass) {
      passes = pass;
      compile_s = 0;
      for (int ranks : m.ranks)
        for (int seed = 1; seed <= seeds; ++seed) {
          std::fprintf(stderr, "warm-up pass %d: running %d %s rank(s), seed %d...\n", pass, ranks,
                       m.name.c_str(), seed);
          compile_s += summarise(run_rctune(s, m, ranks, static_cast<uint64_t>(seed), "-warmup"), ranks, seed)
                           .compile_s;
        }
      std::fprintf(stderr, "warm-up pass %d: %.1f s compiling\n", pass, compile_s);
      if (compile_s < 0.1) break;  // every kernel these rows met was in the cache
    }
    if (warm_up)
      std::printf("%s warm-up: %d untimed pass(es) over the rows; the last one compiled for %.1f s\n",
                  m.name.c_str(), passes, compile_s);
    std::string retried;  // rows run more than once, "1 rank(s) seed 1: 2 runs"
    for (int ranks : m.ranks)
      for (int seed = 1; seed <= seeds; ++seed) {
        // A real row that compiled a kernel (measurement noise steered it off the warm-up's path)
        // runs again, up to warmup_passes more times; the row keeps its last run.
        for (int attempt = 1;; ++attempt) {
          std::fprintf(stderr, "running %d %s rank(s), seed %d%s...", ranks, m.name.c_str(), seed,
                       attempt > 1 ? (" (again, run " + std::to_string(attempt) + ")").c_str() : "");
          const auto t0 = std::chrono::steady_clock::now();
          RunResult r = summarise(run_rctune(s, m, ranks, static_cast<uint64_t>(seed), ""), ranks,
                                  static_cast<uint64_t>(seed));
          std::fprintf(stderr, " %.1f s (%zu samples%s)\n",
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                       r.samples.size(),
                       m.simulate ? "" : (", " + fmt("%.1f", r.compile_s) + " s compiling").c_str());
          const bool again = warm_up && r.compile_s >= 0.1 && attempt <= warmup_passes;
          if (!again) {
            if (attempt > 1)
              retried += (retried.empty() ? "" : ", ") + std::to_string(ranks) + " rank(s) seed " +
                         std::to_string(seed) + ": " + std::to_string(attempt) + " runs";
            runs.push_back(std::move(r));
            break;
          }
        }
      }
    if (warm_up)
      std::printf("%s rows that compiled a kernel and ran again: %s\n", m.name.c_str(),
                  retried.empty() ? "none" : retried.c_str());
    print_table(m, runs, s.min_time, fraction);
  };
  if (!no_real) run_mode(real, true);
  if (!no_sim) run_mode(sim, false);
  std::printf("total time %.1f min\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t_all).count() / 60);

  if (keep) {
    std::printf("configs and traces kept in %s\n", s.dir.c_str());
  } else {
    std::error_code ec;
    fs::remove_all(s.dir, ec);
  }
  return 0;
}
