// bench/search: sample efficiency of the search strategies, measured side by side in one run.
//
// For each workload and seed, every strategy (mcts+heuristic, mcts+random, evolutionary, random)
// tunes the task with real measurements on one core. Strategies of a workload share one
// measurement cache: a program another strategy already measured is not run again, yet counts as a
// sample of the strategy that proposed it. Printed per workload: the best speedup over the
// unscheduled kernel after 16, 32, 64, 128 (and 256) samples, and the samples each strategy needed
// to reach 90% of the best any strategy found; then the geometric means and the ratio
// evolutionary / mcts+heuristic of samples-to-90%. Beside them, as a peer that needs no
// measurements, Halide 14's Adams2019 autoscheduler (bench/halide_peer, when built) on the matmul
// and conv2d workloads.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "rctune/ir/operators.h"
#include "rctune/runtime/measurer.h"
#include "rctune/search/runtime_evaluator.h"
#include "rctune/search/tuner.h"

namespace {

using namespace rctune;

struct StrategySpec {
  std::string label, strategy, proposer;
};

struct Run {
  std::string label;
  uint64_t seed = 0;
  std::vector<double> curve;  // best GFLOP/s after each sample
  double seconds = 0;
};

using bench::split_list;

// Samples needed to reach `target` GFLOP/s (1-based), or -1 when never reached.
int64_t samples_to(const std::vector<double>& curve, double target) {
  for (size_t i = 0; i < curve.size(); ++i)
    if (curve[i] >= target) return static_cast<int64_t>(i) + 1;
  return -1;
}

double geomean(const std::vector<double>& v) {
  if (v.empty()) return std::nan("");
  double s = 0;
  for (double x : v) s += std::log(x);
  return std::exp(s / static_cast<double>(v.size()));
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// Runs bench/halide_peer (next to this program) on the given workloads; one JSON object per
// workload it printed (empty when the peer is not built or failed).
std::vector<nlohmann::json> halide_results(const std::string& self, const std::vector<std::string>& specs,
                                           double min_time) {
  const std::filesystem::path peer = std::filesystem::path(self).parent_path() / "halide_peer";
  if (!std::filesystem::exists(peer) || specs.empty()) return {};
  std::string cmd = peer.string() + " --format json --min-time " + fmt("%g", min_time);
  for (const std::string& s : specs) cmd += " --workload '" + s + "'";
  cmd += " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  std::vector<nlohmann::json> results;
  for (const std::string& line : split_list(out, '\n')) {
    try {
      results.push_back(nlohmann::json::parse(line));
    } catch (const std::exception&) {
      // not a result line
    }
  }
  return results;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "bench/search: sample efficiency of mcts+heuristic, mcts+random, evolutionary and random search"};
  std::string workloads =
      "matmul:M=512,N=512,K=512;batch_matmul:B=8,M=128,N=256,K=256;"
      "conv2d_nchw:N=1,C=64,H=28,W=28,K=64,R=3,S=3,stride=1,pad=1;dense_gelu:M=256,N=512,K=512;"
      "attention:B=4,S=128,D=64";
  std::string strategies = "mcts+heuristic,mcts+random,evolutionary,random";
  int64_t budget = 128;
  int seeds = 2;
  double min_time = 0.05;
  std::string pin = "auto";
  std::string cache_dir;
  bool no_halide = false;
  std::string curves_file;
  app.add_option("--workloads", workloads, "operator specs separated by ';'")->capture_default_str();
  app.add_option("--strategies", strategies,
                 "comma-separated: mcts+heuristic, mcts+random, evolutionary, random")
      ->capture_default_str();
  app.add_option("--budget", budget, "samples per strategy, workload and seed")->capture_default_str();
  app.add_option("--seeds", seeds, "seeds per strategy and workload")->capture_default_str();
  app.add_option("--min-time", min_time, "seconds of timed runs per measurement")->capture_default_str();
  app.add_option("--pin-core", pin, "core of the measuring worker: auto, none or N")->capture_default_str();
  app.add_option("--cache-dir", cache_dir, "kernel cache (default $XDG_CACHE_HOME/rctune)");
  app.add_flag("--no-halide", no_halide, "do not run the Halide peer");
  app.add_option("--curves", curves_file,
                 "also write every run's best-so-far curve (GFLOP/s per sample) to this JSON file");
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // the table appears as it is printed, also into a file

  std::vector<StrategySpec> specs;
  for (const std::string& s : split_list(strategies, ',')) {
    const size_t plus = s.find('+');
    specs.push_back({s, s.substr(0, plus), plus == std::string::npos ? "heuristic" : s.substr(plus + 1)});
  }
  std::vector<int64_t> checkpoints;
  for (int64_t c : {16, 32, 64, 128, 256, 512})
    if (c <= budget) checkpoints.push_back(c);

  runtime::JitOptions jit;
  jit.cache_dir = cache_dir;
  runtime::MeasureOptions mo;
  mo.timing.min_time_s = min_time;
  mo.pin_core = runtime::parse_pin_core(pin);
  mo.timeout_s = 60;
  search::RuntimeEvaluator evaluator(jit, mo);

  std::printf("bench/search: budget %lld samples, %d seed(s), strategies %s\n",
              static_cast<long long>(budget), seeds, strategies.c_str());
  std::printf(
      "settings: MCTS c=sqrt(2), branching 2, 3 root samples, 6 per round, epsilon 0.05, history 3, "
      "rollout 4; evolutionary population 512, init measured ratio 0.2, 4 iterations, mutation 0.85, "
      "epsilon 0.05, 16 per batch; XGBoost cost model (analytic score below 8 samples); "
      "min time %.3g s per measurement, worker pinned to core %d, one thread; strategies of a workload "
      "share one measurement cache\n\n",
      min_time, mo.pin_core);

  struct WorkloadResult {
    std::string spec;
    double reference = 0;
    std::vector<Run> runs;
    double best_any = 0;
    int64_t distinct = 0;
  };
  std::vector<WorkloadResult> results;
  const auto t_all = std::chrono::steady_clock::now();
  nlohmann::json curves = nlohmann::json::object();

  // Per workload: best speedup at each checkpoint (mean over seeds) and samples to 90% of the best.
  std::map<std::string, std::vector<double>> to90_all;  // strategy -> samples-to-90% per (workload, seed)
  std::map<std::string, int64_t> unreached;
  auto print_workload = [&](const WorkloadResult& wr) {
    std::printf(
        "%s  (unscheduled %.2f GFLOP/s, best found %.1f GFLOP/s = %.1fx, %lld distinct programs measured)\n",
        wr.spec.c_str(), wr.reference, wr.best_any, wr.reference > 0 ? wr.best_any / wr.reference : 0.0,
        static_cast<long long>(wr.distinct));
    std::printf("  %-16s", "strategy");
    for (int64_t c : checkpoints) std::printf(" %9s", ("@" + std::to_string(c)).c_str());
    std::printf(" %14s %10s\n", "samples to 90%", "minutes");
    for (const StrategySpec& st : specs) {
      std::vector<double> at(checkpoints.size(), 0.0);
      std::vector<std::string> to90;
      double minutes = 0;
      int n = 0;
      for (const Run& r : wr.runs) {
        if (r.label != st.label) continue;
        ++n;
        minutes += r.seconds / 60;
        for (size_t k = 0; k < checkpoints.size(); ++k) {
          const size_t i = std::min(r.curve.size(), static_cast<size_t>(checkpoints[k]));
          const double g = i > 0 ? r.curve[i - 1] : 0;
          at[k] += wr.reference > 0 ? g / wr.reference : g;
        }
        const int64_t k90 = samples_to(r.curve, 0.9 * wr.best_any);
        if (k90 > 0) {
          to90.push_back(std::to_string(k90));
          to90_all[st.label].push_back(static_cast<double>(k90));
        } else {
          // Not reached within the budget: counted as budget + 1 (a lower bound) in the means.
          to90.push_back(">" + std::to_string(budget));
          to90_all[st.label].push_back(static_cast<double>(budget + 1));
          ++unreached[st.label];
        }
      }
      std::printf("  %-16s", st.label.c_str());
      for (double a : at) std::printf(" %8.1fx", n > 0 ? a / n : 0.0);
      std::string joined;
      for (const std::string& t : to90) joined += (joined.empty() ? "" : ",") + t;
      std::printf(" %14s %10.1f\n", joined.c_str(), minutes);
    }
    std::printf("\n");
  };

  for (const std::string& spec : split_list(workloads, ';')) {
    WorkloadResult wr;
    wr.spec = spec;
    auto w = std::make_shared<const ir::Workload>(ir::make_operator(spec));
    search::MeasurementCache cache;
    search::CachedEvaluator cached(evaluator, cache);
    search::MeasureResult ref = cached.measure({search::make_candidate(schedule::State(w))}).front();
    wr.reference = ref.ok() ? ref.gflops : 0;
    std::fprintf(stderr, "%s: unscheduled %.2f GFLOP/s\n", spec.c_str(), wr.reference);
    const bool tty = isatty(STDERR_FILENO);
    for (int s = 0; s < seeds; ++s) {
      for (const StrategySpec& st : specs) {
        search::TuneOptions o;
        o.strategy = st.strategy;
        o.proposer = st.proposer;
        o.seed = static_cast<uint64_t>(s + 1);
        o.budget = budget;
        const auto t0 = std::chrono::steady_clock::now();
        // On a terminal the progress line is rewritten in place; in a log, a plain line every 30 s
        // and one at the end.
        double printed_at = 0;
        auto progress = [&](const search::Progress& p) {
          const std::string text =
              spec + " seed " + std::to_string(s + 1) + " " + st.label + ": " + search::progress_line(p);
          if (tty) {
            std::fprintf(stderr, "\r\033[K%s", text.c_str());
          } else if (p.done >= p.budget || p.elapsed_s >= printed_at + 30) {
            std::fprintf(stderr, "%s\n", text.c_str());
            printed_at = p.elapsed_s;
          }
        };
        search::TaskOutcome out = search::tune_task(w, spec, wr.reference, cached, o, {}, progress);
        if (tty) std::fprintf(stderr, "\n");
        Run run{st.label, o.seed, out.best_curve,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
        if (!run.curve.empty()) wr.best_any = std::max(wr.best_any, run.curve.back());
        wr.runs.push_back(std::move(run));
      }
    }
    wr.distinct = static_cast<int64_t>(cache.size());
    print_workload(wr);  // as soon as the workload is done
    if (!curves_file.empty()) {
      for (const Run& r : wr.runs) curves[wr.spec][r.label + "/" + std::to_string(r.seed)] = r.curve;
      curves[wr.spec]["unscheduled"] = std::vector<double>{wr.reference};
      std::ofstream(curves_file) << curves.dump(1) << "\n";
    }
    results.push_back(std::move(wr));
  }

  std::printf(
      "samples to reach 90%% of the best any strategy found, geometric mean over workloads x seeds:\n");
  for (const StrategySpec& st : specs)
    std::printf("  %-16s %7.1f  (not reached in %lld of %zu runs; counted as %lld)\n", st.label.c_str(),
                geomean(to90_all[st.label]), static_cast<long long>(unreached[st.label]),
                to90_all[st.label].size(), static_cast<long long>(budget + 1));
  if (to90_all.count("evolutionary") && to90_all.count("mcts+heuristic"))
    std::printf("  evolutionary / mcts+heuristic: %.2fx fewer samples with mcts+heuristic (target: >= 3x)\n",
                geomean(to90_all["evolutionary"]) / geomean(to90_all["mcts+heuristic"]));

  if (!no_halide) {
    // Halide's Adams2019 on the workloads it can express here: matmul and NCHW conv2d.
    std::vector<std::string> peer_specs;
    for (const WorkloadResult& wr : results)
      if (wr.spec.rfind("matmul:", 0) == 0 || wr.spec.rfind("conv2d_nchw:", 0) == 0)
        peer_specs.push_back(wr.spec);
    std::printf(
        "\nHalide 14 Adams2019 autoscheduler (MachineParams(16, 16 MiB, 40), one thread, no "
        "measurements):\n");
    const std::vector<nlohmann::json> peer = halide_results(argv[0], peer_specs, min_time);
    if (peer.empty()) {
      std::printf("  not available (bench/halide_peer is built when libhalide14-0-dev is installed)\n");
    } else {
      std::printf("  %-56s %12s %12s %14s %12s\n", "workload", "Halide GFLOP/s", "search (s)", "best rctune",
                  "rctune/Halide");
      for (const nlohmann::json& r : peer) {
        const std::string spec = r.value("workload", std::string());
        double best = 0;
        for (const WorkloadResult& wr : results)
          if (ir::canonical_operator_spec(wr.spec) == ir::canonical_operator_spec(spec)) best = wr.best_any;
        const double g = r.value("gflops", 0.0);
        std::printf("  %-56s %12.1f %12.1f %14.1f %12s%s\n", spec.c_str(), g,
                    r.value("autoschedule_compile_s", 0.0), best,
                    g > 0 && best > 0 ? fmt("%.2fx", best / g).c_str() : "-",
                    r.value("ok", false) ? "" : "  (WRONG RESULT)");
      }
    }
  }
  std::printf("\ntotal time %.1f min\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t_all).count() / 60);
  return 0;
}
