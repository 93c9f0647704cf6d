// bench/models: what the task scheduler buys on whole models, measured side by side in one run.
//
// For each model config (configs/models/*.yaml, written by `rctune extract`) the real `rctune`
// binary tunes the model twice with S samples per task and the config's seed: once with
// `scheduler: gradient` and a budget of S x tasks for the whole model, once with
// `scheduler: per_task` and S samples for each task in turn. From each run's trace the model's
// estimated latency (sum over tasks of weight x best time, the unscheduled kernel's time for a task
// without a correct sample yet) is followed sample by sample, in the order the samples were
// measured. Printed per model: both latencies after 10% to 100% of the samples, the samples
// gradient needed to reach per_task's final latency (goal: at most half of per_task's), the
// unscheduled latency, the library baseline (OpenBLAS; im2col + OpenBLAS for convolutions) against
// the tuned kernels over the tasks that have one, and each run's wall time. With --database, the
// first gradient run stores its best schedules in a tuning database of the model, and gradient runs
// a second time starting from it; otherwise no run reads or writes a tuning database.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "rctune/build_config.h"
#include "rctune/config/tune_config.h"
#include "rctune/ir/operators.h"
#include "rctune/runlog/model_latency.h"
#include "rctune/runlog/runlog.h"
#include "rctune/runtime/library_baseline.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace rctune;
using bench::split_list;

struct Settings {
  std::string rctune;
  fs::path out_dir;
  int64_t samples_per_task = 20;
  bool simulate = false;
  std::string database;   // "": none
  std::string cache_dir;  // "": rctune's default
};

// One model config to tune.
struct Model {
  fs::path config;
  std::string name;  // the config's file name without .yaml
  int64_t tasks = 0;
  int64_t round = 0;  // samples of one scheduler round (mcts or evolutionary measure_batch)
};

// One rctune run, read back from its trace.
struct Run {
  std::string label;  // "gradient", "per_task", "gradient again"
  runlog::RunLog log;
  std::vector<double> curve;  // estimated model latency after each measured sample, seconds
  double wall_s = 0;          // end - start of the run (its trace)
  double compile_s = 0;       // compiling its samples' kernels (0 for a kernel found in the cache)
  bool by_rounds = false;     // curve in the order of the /allocations rounds (else by wall_time)
  int disagree = 0;           // rounds whose latency_s differs from the curve after the round
};

// Rounds after which the curve's latency differs from the one the run recorded (latency_s): 0
// unless the bench and rctune count the model's latency differently.
int rounds_disagreeing(const runlog::RunLog& log, const std::vector<double>& curve) {
  int n = 0;
  int64_t done = 0;
  for (const runlog::AllocationRecord& a : log.allocations) {
    done += a.spent;
    if (done <= 0 || done > static_cast<int64_t>(curve.size())) continue;
    const double c = curve[static_cast<size_t>(done - 1)];
    if (std::abs(c - a.latency_s) > 1e-9 * std::max(std::abs(c), std::abs(a.latency_s))) ++n;
  }
  return n;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// "12.345 ms", "1.234 s", "56.7 us".
std::string seconds_text(double s) {
  if (!std::isfinite(s)) return "-";
  if (s >= 1) return fmt("%.4g s", s);
  if (s >= 1e-3) return fmt("%.4g ms", s * 1e3);
  return fmt("%.4g us", s * 1e6);
}

std::string duration_text(double s) {
  if (s < 10) return fmt("%.2f s", s);
  if (s < 60) return fmt("%.1f s", s);
  return fmt("%.0f", std::floor(s / 60)) + " min " + fmt("%.0f s", std::fmod(s, 60));
}

// The time per run of a sample when it counts for the model: a correct sample's median.
std::optional<double> correct_seconds(const runlog::SampleRecord& s) {
  if (s.status != runlog::SampleStatus::Ok || !std::isfinite(s.median_s) || s.median_s <= 0)
    return std::nullopt;
  return s.median_s;
}

// A measured sample of a run: which task (index in RunLog::tasks) and its time if correct.
struct Step {
  size_t task;
  std::optional<double> seconds;
};

// The measured samples of all tasks in the order they were measured. A sample's wall_time counts
// from when its task's search began, not from the run's start, so the order comes from the
// /allocations table: each round's `spent` samples of its task, in index order. A trace without
// that table, or whose rounds do not account for every measured sample, is ordered by wall_time
// (ties by task, then index); `by_rounds` says which order was used.
std::vector<Step> measured_in_order(const runlog::RunLog& log, bool& by_rounds) {
  std::vector<std::vector<runlog::SampleRecord>> per_task;
  size_t total = 0;
  for (const runlog::TaskLog& t : log.tasks) {
    per_task.push_back(runlog::measured_samples(t));
    total += per_task.back().size();
  }
  std::vector<Step> steps;
  std::vector<size_t> next(log.tasks.size(), 0);
  by_rounds = !log.allocations.empty();
  for (const runlog::AllocationRecord& a : log.allocations) {
    size_t t = 0;
    while (t < log.tasks.size() && log.tasks[t].info.name != a.task) ++t;
    if (t == log.tasks.size() || a.spent < 0 || next[t] + static_cast<size_t>(a.spent) > per_task[t].size()) {
      by_rounds = false;
      break;
    }
    for (int64_t k = 0; k < a.spent; ++k) steps.push_back({t, correct_seconds(per_task[t][next[t]++])});
  }
  if (by_rounds && steps.size() == total) return steps;
  by_rounds = false;
  struct Timed {
    double wall_time;
    size_t task;
    int64_t index;
    std::optional<double> seconds;
  };
  std::vector<Timed> timed;
  for (size_t t = 0; t < per_task.size(); ++t)
    for (const runlog::SampleRecord& s : per_task[t])
      timed.push_back({s.wall_time, t, s.index, correct_seconds(s)});
  std::sort(timed.begin(), timed.end(), [](const Timed& a, const Timed& b) {
    if (a.wall_time != b.wall_time) return a.wall_time < b.wall_time;
    if (a.task != b.task) return a.task < b.task;
    return a.index < b.index;
  });
  steps.clear();
  for (const Timed& x : timed) steps.push_back({x.task, x.seconds});
  return steps;
}

// The model's estimated latency after each measured sample of the run, for any scheduler: after
// each sample (measured_in_order), the sum over tasks of weight x (the task's best time so far, or
// its unscheduled kernel's while it has no correct sample).
std::vector<double> latency_curve(const runlog::RunLog& log, bool& by_rounds) {
  std::vector<double> current(log.tasks.size(), 0.0);  // weight x time of each task now
  for (size_t t = 0; t < log.tasks.size(); ++t) {
    const runlog::TaskInfo& info = log.tasks[t].info;
    current[t] = info.weight * (info.reference_seconds > 0 ? info.reference_seconds : 0.0);
  }
  std::vector<double> best(log.tasks.size(), std::numeric_limits<double>::infinity());
  std::vector<double> curve;
  for (const Step& s : measured_in_order(log, by_rounds)) {
    if (s.seconds && *s.seconds < best[s.task]) {
      best[s.task] = *s.seconds;
      current[s.task] = log.tasks[s.task].info.weight * *s.seconds;
    }
    double sum = 0;
    for (double c : current) sum += c;
    curve.push_back(sum);
  }
  return curve;
}

// Samples (1-based) until the curve is at or below `target`; -1 when it never is.
int64_t samples_to(const std::vector<double>& curve, double target) {
  for (size_t i = 0; i < curve.size(); ++i)
    if (curve[i] <= target) return static_cast<int64_t>(i) + 1;
  return -1;
}

// The latency after `n` samples (the last one when the run measured fewer).
double latency_after(const Run& r, const runlog::ModelLatency& m, int64_t n) {
  if (r.curve.empty() || n <= 0) return m.unscheduled_s.value_or(std::nan(""));
  return r.curve[static_cast<size_t>(std::min<int64_t>(n, static_cast<int64_t>(r.curve.size())) - 1)];
}

// A copy of the model config with `scheduler: <policy>`, written to `to`. Task workloads given as
// files relative to the config are made absolute, so that the copy reads the same files.
void write_config_copy(const Model& m, const std::string& policy, const fs::path& to) {
  YAML::Node root = YAML::LoadFile(m.config.string());
  if (!root.IsMap()) throw std::runtime_error(m.config.string() + ": expected a mapping of run settings");
  root["scheduler"] = policy;
  if (YAML::Node tasks = root["tasks"]; tasks && tasks.IsSequence()) {
    for (YAML::Node task : tasks) {
      if (!task.IsMap()) continue;
      YAML::Node w = task["workload"];
      if (!w || !w.IsScalar() || ir::is_operator_spec(w.Scalar())) continue;
      const fs::path p(w.Scalar());
      if (p.is_relative()) task["workload"] = (fs::absolute(m.config).parent_path() / p).string();
    }
  }
  YAML::Emitter e;
  e << root;
  {
    std::ofstream f(to);
    f << "# bench/models: " << m.config.string() << " with scheduler: " << policy << "\n"
      << e.c_str() << "\n";
    f.close();
    if (!f) throw std::runtime_error("cannot write " + to.string());
  }
  config::load_tune_config(to.string());  // the copy must be a valid run config (throws otherwise)
}

// What a running run's trace says so far: a copy of it, read back (the writer keeps the file
// locked and consistent between commits; a copy taken during a commit may not read, then none).
struct Snapshot {
  int64_t samples = 0;
  std::optional<double> latency_s;
};
std::optional<Snapshot> snapshot(const fs::path& trace, const fs::path& scratch) {
  std::error_code ec;
  if (!fs::exists(trace, ec)) return std::nullopt;
  fs::copy_file(trace, scratch, fs::copy_options::overwrite_existing, ec);
  if (ec) return std::nullopt;
  try {
    const runlog::RunLog log = runlog::read_run_log(scratch.string());
    Snapshot s;
    for (const runlog::TaskLog& t : log.tasks)
      s.samples += static_cast<int64_t>(runlog::measured_samples(t).size());
    if (!log.allocations.empty()) s.latency_s = log.allocations.back().latency_s;
    fs::remove(scratch, ec);
    return s;
  } catch (const std::exception&) {
    fs::remove(scratch, ec);
    return std::nullopt;  // caught mid-commit: the next snapshot will read
  }
}

// Runs rctune with `args` (no shell), its output into `log_file`; prints a progress line on
// stderr while it runs (in place on a terminal, else every minute), from snapshots of `trace`,
// and clears it at the end. Returns the exit status (128 + signal).
int run_child(const std::vector<std::string>& args, const fs::path& log_file, const fs::path& trace,
              const std::string& what, int64_t expected_samples) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  const int err = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (err != 0) throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(err));

  const bool tty = isatty(STDERR_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  std::optional<Snapshot> last;
  double next_snapshot = 5, next_print = tty ? 1 : 60;
  auto line = [&] {
    std::string s = what + ": " + duration_text(elapsed());
    if (last)
      s += ", " + std::to_string(last->samples) + "/" + std::to_string(expected_samples) + " samples" +
           (last->latency_s ? ", model latency " + seconds_text(*last->latency_s) : "");
    return s;
  };
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) throw std::runtime_error("waitpid: " + std::string(std::strerror(errno)));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const double t = elapsed();
    if (t >= next_snapshot) {
      if (auto s = snapshot(trace, fs::path(trace).replace_extension(".snapshot.h5"))) last = s;
      next_snapshot = t + 10;
    }
    if (t >= next_print) {
      std::fprintf(stderr, tty ? "\r\033[K%s" : "%s\n", line().c_str());
      next_print = t + (tty ? 1 : 60);
    }
  }
  if (tty) std::fprintf(stderr, "\r\033[K");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Tunes the model once: `policy` with `budget` (the run's; per task under per_task). Exits the
// program with the run's output when it fails.
// `database`: the tuning database the run reads and stores ("": none, --no-database: a comparison
// run must not start from what an earlier run of the bench, or the user, tuned).
Run run_rctune(const Settings& s, const Model& m, const std::string& policy, int64_t budget,
               const std::string& label, const std::string& what, const std::string& database = "") {
  std::string stem = m.name + "-" + label;
  std::replace(stem.begin(), stem.end(), ' ', '-');
  const fs::path config = s.out_dir / (stem + ".yaml");
  const fs::path trace = s.out_dir / (stem + ".h5");
  const fs::path log_file = s.out_dir / (stem + ".log");
  write_config_copy(m, policy, config);
  std::error_code ec;
  fs::remove(trace, ec);  // a trace of an earlier bench run in the same --out-dir
  if (ec) throw std::runtime_error("cannot remove " + trace.string() + ": " + ec.message());
  std::vector<std::string> args = {
      s.rctune, "tune",         config.string(), "--budget", std::to_string(budget),
      "--out",  trace.string(), "--quiet"};
  if (s.simulate) args.push_back("--simulate");
  if (database.empty())
    args.push_back("--no-database");
  else
    args.insert(args.end(), {"--database", database});
  if (!s.cache_dir.empty()) args.insert(args.end(), {"--cache-dir", s.cache_dir});
  const int64_t expected = policy == "per_task" ? budget * m.tasks : budget;
  const int rc = run_child(args, log_file, trace, what, expected);
  auto fail = [&](const std::string& why) {
    std::string cmd;
    for (const std::string& a : args) cmd += (cmd.empty() ? "" : " ") + a;
    std::ifstream in(log_file);
    const std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "bench/models: %s\n  %s\n%s\n(configs, traces and logs kept in %s)\n", why.c_str(),
                 cmd.c_str(), output.c_str(), s.out_dir.c_str());
    std::exit(1);
  };
  if (rc != 0) fail("this run failed (exit status " + std::to_string(rc) + "):");
  Run r;
  r.label = label;
  try {
    r.log = runlog::read_run_log(trace.string());
  } catch (const std::exception& e) {
    fail(std::string("cannot read the trace of this run: ") + e.what());
  }
  r.curve = latency_curve(r.log, r.by_rounds);
  if (r.by_rounds) r.disagree = rounds_disagreeing(r.log, r.curve);
  std::fprintf(stderr, "%s: done in %s, %zu samples, model latency %s\n", what.c_str(),
               duration_text(r.log.info.end_time - r.log.info.start_time).c_str(), r.curve.size(),
               seconds_text(r.curve.empty() ? std::nan("") : r.curve.back()).c_str());
  r.wall_s = r.log.info.end_time - r.log.info.start_time;
  for (const runlog::TaskLog& t : r.log.tasks)
    for (const runlog::SampleRecord& sample : t.samples) r.compile_s += sample.compile_s;
  return r;
}

// A task with a fused epilogue (conv + bias + relu, ...) whose trace has no library baseline (written
// by an rctune that did not measure OpenBLAS + epilogue): the library time is taken as that of the
// operator without its epilogue, measured here once per operator (a lower bound of what the library
// needs for the task). Returns how many tasks got one.
int fill_library_lower_bounds(const Model& m, std::vector<Run*> runs) {
  static std::map<std::string, std::optional<runtime::LibraryBaseline>> measured;
  const config::TuneConfig cfg = config::load_tune_config(m.config.string());
  std::map<std::string, const ir::Workload*> by_name;
  for (const config::TaskConfig& t : cfg.tasks)
    by_name[t.name.empty() ? t.workload.name : t.name] = &t.workload;
  int filled = 0;
  for (Run* r : runs)
    for (runlog::TaskLog& t : r->log.tasks) {
      if (t.info.library_seconds > 0) continue;
      const auto w = by_name.find(t.info.name);
      if (w == by_name.end()) continue;
      const std::optional<std::string> spec = ir::operator_spec_of(*w->second);
      const size_t at = spec ? spec->find(",epilogue=") : std::string::npos;
      if (at == std::string::npos) continue;
      const std::string base = spec->substr(0, at);
      if (!measured.count(base)) {
        std::fprintf(stderr, "bench/models: timing the library routine of %s (no epilogue)\n", base.c_str());
        measured[base] = runtime::measure_library_baseline(ir::make_operator(base), 0.3, -1);
      }
      const auto& lib = measured[base];
      if (!lib) continue;
      t.info.library_seconds = lib->median_s;
      t.info.library_name = lib->name + " without the epilogue";
      ++filled;
    }
  return filled;
}

void print_model(const Model& m, int64_t s_per_task, const Run& g, const Run& p,
                 const std::optional<Run>& again) {
  const runlog::ModelLatency lg = runlog::model_latency(g.log), lp = runlog::model_latency(p.log);
  const int64_t total = s_per_task * m.tasks;
  std::printf("%s: %lld tasks, %lld samples per task = %lld samples per run; unscheduled latency %s\n",
              m.name.c_str(), static_cast<long long>(m.tasks), static_cast<long long>(s_per_task),
              static_cast<long long>(total), seconds_text(lg.unscheduled_s.value_or(std::nan(""))).c_str());
  if (s_per_task < m.round)
    std::printf(
        "  note: S = %lld is less than a scheduler round (%lld samples), so gradient's %lld samples give a "
        "first round to at most %lld of the %lld tasks\n",
        static_cast<long long>(s_per_task), static_cast<long long>(m.round), static_cast<long long>(total),
        static_cast<long long>((total + m.round - 1) / m.round), static_cast<long long>(m.tasks));
  std::printf("  %-22s %14s %14s %18s\n", "after samples", "gradient", "per_task", "per_task/gradient");
  for (double f : {0.10, 0.25, 0.50, 0.75, 1.00}) {
    const auto n = static_cast<int64_t>(std::ceil(f * static_cast<double>(total)));
    const double a = latency_after(g, lg, n), b = latency_after(p, lp, n);
    std::printf("  %-22s %14s %14s %17.2fx\n",
                (fmt("%3.0f%%", 100 * f) + " (" + std::to_string(n) + ")").c_str(), seconds_text(a).c_str(),
                seconds_text(b).c_str(), b / a);
  }
  std::printf("  samples measured: gradient %zu, per_task %zu\n", g.curve.size(), p.curve.size());
  for (const Run* r : {&g, &p}) {
    if (r->disagree > 0)
      std::printf(
          "  note: in the %s trace, %d rounds recorded another model latency than this bench computes "
          "after them\n",
          r->label.c_str(), r->disagree);
    if (!r->by_rounds)
      std::printf(
          "  note: the %s trace's rounds do not account for its samples; its samples are ordered by "
          "wall_time\n",
          r->label.c_str());
  }
  const double target = p.curve.empty() ? std::nan("") : p.curve.back();
  // Measurement noise decides a tie at the end, so the same figure within 1% follows.
  for (const double slack : {1.0, 1.01}) {
    const std::string what = slack == 1.0 ? "per_task's final latency" : "within 1% of it";
    const int64_t k = samples_to(g.curve, slack * target);
    if (k > 0)
      std::printf("  gradient reached %s (%s) after %lld samples = %.2f of per_task's %zu (goal: <= 0.50)\n",
                  what.c_str(), seconds_text(slack * target).c_str(), static_cast<long long>(k),
                  static_cast<double>(k) / static_cast<double>(p.curve.size()), p.curve.size());
    else
      std::printf("  gradient did not reach %s (%s) in its %zu samples (goal: <= 0.50 of per_task's %zu)\n",
                  what.c_str(), seconds_text(slack * target).c_str(), g.curve.size(), p.curve.size());
  }
  // The library baseline over the tasks that have one and a correct sample (per run).
  auto library = [&](const char* label, const runlog::ModelLatency& ml) {
    if (ml.library_tasks == 0) {
      std::printf("  library baseline, %-8s: no task with a library baseline and a correct sample\n", label);
      return;
    }
    double covered = 0;
    for (const runlog::TaskLatency& t : ml.tasks)
      if (t.library_s && t.best_s && t.reference_s) covered += t.weight * *t.reference_s;
    std::printf(
        "  library baseline, %-8s: %d of %zu tasks (%.0f%% of the unscheduled latency): library %s, "
        "tuned %s, tuned/library %.2f (goal: < 1)\n",
        label, ml.library_tasks, ml.tasks.size(),
        ml.unscheduled_s && *ml.unscheduled_s > 0 ? 100 * covered / *ml.unscheduled_s : std::nan(""),
        seconds_text(ml.library_s).c_str(), seconds_text(ml.library_tuned_s).c_str(),
        ml.library_tuned_s / ml.library_s);
  };
  library("gradient", lg);
  library("per_task", lp);
  if (lg.missing > 0 || lp.missing > 0)
    std::printf(
        "  tasks with neither a correct sample nor an unscheduled time (left out of the latency): "
        "gradient %d, per_task %d\n",
        lg.missing, lp.missing);
  std::printf(
      "  wall time: gradient %s (compiling %s), per_task %s (compiling %s); the runs share the kernel "
      "cache, so a kernel an earlier run compiled is not compiled again\n",
      duration_text(g.wall_s).c_str(), duration_text(g.compile_s).c_str(), duration_text(p.wall_s).c_str(),
      duration_text(p.compile_s).c_str());
  if (again) {
    auto first_report = [](const Run& r) {
      return r.log.allocations.empty() ? std::string("-")
                                       : duration_text(r.log.allocations.front().wall_time);
    };
    std::printf(
        "  gradient again with the database: %zu samples measured (first run %zu), first report (allocation "
        "row) after %s (first run %s; from the run's start, baselines included), "
        "final latency %s (first run %s), wall time %s (first run %s)\n",
        again->curve.size(), g.curve.size(), first_report(*again).c_str(), first_report(g).c_str(),
        seconds_text(again->curve.empty() ? std::nan("") : again->curve.back()).c_str(),
        seconds_text(g.curve.empty() ? std::nan("") : g.curve.back()).c_str(),
        duration_text(again->wall_s).c_str(), duration_text(g.wall_s).c_str());
  }
  std::printf("\n");
}

// build/bench-models-YYYYmmdd-HHMMSS (a suffix when it exists).
fs::path fresh_out_dir() {
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::gmtime(&now));
  fs::path dir = fs::path(RCTUNE_BINARY_DIR) / (std::string("bench-models-") + stamp);
  for (int i = 2; fs::exists(dir); ++i)
    dir = fs::path(RCTUNE_BINARY_DIR) / (std::string("bench-models-") + stamp + "-" + std::to_string(i));
  return dir;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench/models: the gradient task scheduler against per_task on whole models"};
  const std::string models_dir = std::string(RCTUNE_SOURCE_DIR) + "/configs/models/";
  std::string models = models_dir + "resnet50.yaml," + models_dir + "llama3_8b_layer_decode.yaml";
  Settings s;
  s.rctune = RCTUNE_CLI_PATH;
  std::string out_dir;
  app.add_option("--models", models, "model run configs, separated by ','")->capture_default_str();
  app.add_option("--samples-per-task", s.samples_per_task, "S: gradient gets S x tasks, per_task S per task")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--simulate", s.simulate,
               "pass --simulate to rctune (synthetic measurements: checks the bench)");
  app.add_option(
      "--database", s.database,
      "DIR (new or empty): the first gradient run of each model stores in DIR/MODEL, then gradient runs "
      "again starting from it; without it no run reads or writes a tuning database");
  app.add_option("--cache-dir", s.cache_dir, "kernel cache passed to rctune (default: rctune's)");
  app.add_option("--out-dir", out_dir,
                 "configs, traces and logs of the runs (default: build/bench-models-<time>)");
  app.add_option("--rctune", s.rctune, "rctune binary")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // the table appears as it is printed, also into a file

  if (!fs::exists(s.rctune)) {
    std::fprintf(stderr,
                 "bench/models: no rctune binary at %s (build the target rctune, or give --rctune PATH)\n",
                 s.rctune.c_str());
    return 2;
  }
  std::vector<Model> list;
  for (const std::string& path : split_list(models, ',')) {
    Model m;
    m.config = path;
    m.name = m.config.stem().string();
    try {
      const config::TuneConfig c = config::load_tune_config(path);
      m.tasks = static_cast<int64_t>(c.tasks.size());
      m.round = c.strategy == "evolutionary" ? c.evolutionary.measure_batch : c.mcts.measure_batch;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench/models: --models: %s\n", e.what());
      return 2;
    }
    list.push_back(m);
  }
  if (list.empty()) {
    std::fprintf(stderr, "bench/models: --models: give at least one model config\n");
    return 2;
  }
  s.out_dir = out_dir.empty() ? fresh_out_dir() : fs::path(out_dir);
  std::error_code ec;
  fs::create_directories(s.out_dir, ec);
  if (ec) {
    std::fprintf(stderr, "bench/models: cannot create %s: %s\n", s.out_dir.c_str(), ec.message().c_str());
    return 1;
  }

  std::printf(
      "bench/models: scheduler gradient (budget S x tasks for the model) vs per_task (S per task), "
      "S = %lld, each config's seed, strategy and proposer; %s\n",
      static_cast<long long>(s.samples_per_task),
      s.simulate ? "SIMULATED measurements (rctune tune --simulate): checks the bench, not the scheduler"
                 : "real measurements");
  std::printf(
      "model latency = sum over tasks of weight x best kernel time so far (the unscheduled kernel's "
      "until a task has a correct sample), after each sample in the order measured; operators no task "
      "covers and time between kernels are left out. Configs, traces and logs in %s\n\n",
      s.out_dir.c_str());

  if (s.simulate && !s.database.empty())
    std::printf(
        "note: a simulated run stores nothing in the tuning database, so the second gradient run starts "
        "from the same database as the first\n\n");
  const auto t_all = std::chrono::steady_clock::now();
  std::string cpu;
  int index = 0;
  const int runs_per_model = s.database.empty() ? 2 : 3;
  const int total_runs = runs_per_model * static_cast<int>(list.size());
  try {
    for (const Model& m : list) {
      auto what = [&](const std::string& label) {
        return "[run " + std::to_string(++index) + "/" + std::to_string(total_runs) + "] " + m.name + " " +
               label;
      };
      // Each model gets a database of its own under --database: the first gradient run fills it,
      // the second starts from it; per_task reads none.
      const std::string db = s.database.empty() ? "" : (fs::path(s.database) / m.name).string();
      Run g = run_rctune(s, m, "gradient", s.samples_per_task * m.tasks, "gradient", what("gradient"), db);
      Run p = run_rctune(s, m, "per_task", s.samples_per_task, "per_task", what("per_task"));
      std::optional<Run> again;
      if (!s.database.empty())
        again = run_rctune(s, m, "gradient", s.samples_per_task * m.tasks, "gradient again",
                           what("gradient again (database)"), db);
      if (!s.simulate) {
        std::vector<Run*> runs = {&g, &p};
        if (again) runs.push_back(&*again);
        if (const int n = fill_library_lower_bounds(m, runs))
          std::printf(
              "note: %d task runs of %s have a fused epilogue OpenBLAS does not compute: their library time "
              "is the operator's without it (a lower bound)\n",
              n, m.name.c_str());
      }
      if (cpu.empty()) {
        cpu = g.log.info.cpu_model;
        std::printf("machine: %s (%s), one core (one measuring worker, one thread); execution space %s\n\n",
                    cpu.empty() ? "unknown CPU" : cpu.c_str(), g.log.info.host.c_str(),
                    g.log.info.execution_space.c_str());
      }
      print_model(m, s.samples_per_task, g, p, again);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nbench/models: %s\n(configs, traces and logs kept in %s)\n", e.what(),
                 s.out_dir.c_str());
    return 1;
  }
  std::printf(
      "total time %s\n",
      duration_text(std::chrono::duration<double>(std::chrono::steady_clock::now() - t_all).count()).c_str());
  return 0;
}
