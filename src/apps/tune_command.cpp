// `rctune tune CONFIG.yaml`: tunes every task of a run config on this machine, records every
// sample in one HDF5 trace as it arrives, shows progress, and ends with a table of the best
// kernels. `--resume` continues a trace without measuring any of its samples again. `--simulate`
// replaces compiling and timing by simulated measurement (search/simulated_evaluator.h).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>

#include "rctune/apps/commands.h"
#include "rctune/config/tune_config.h"
#include "rctune/llm/config.h"
#include "rctune/runtime/library_baseline.h"
#include "rctune/search/runtime_evaluator.h"
#include "rctune/search/simulated_evaluator.h"
#include "rctune/search/tuner.h"
#include "rctune/trace/writer.h"

namespace rctune::apps {

namespace {

search::TuneOptions tune_options(const config::TuneConfig& c) {
  search::TuneOptions o;
  o.strategy = c.strategy;
  o.proposer = c.proposer;
  o.seed = c.seed;
  o.budget = c.budget;
  o.measure_batch = c.mcts.measure_batch;
  o.evolutionary_batch = c.evolutionary.measure_batch;
  o.mcts.exploration = c.mcts.exploration;
  o.mcts.branching = c.mcts.branching;
  o.mcts.root_samples = c.mcts.root_samples;
  o.mcts.root_draws = c.mcts.root_draws;
  o.mcts.epsilon = c.mcts.epsilon;
  o.mcts.history_depth = c.mcts.history_depth;
  o.mcts.rollout_depth = c.mcts.rollout_depth;
  o.evolutionary.population = c.evolutionary.population;
  o.evolutionary.init_measured_ratio = c.evolutionary.init_measured_ratio;
  o.evolutionary.genetic_iterations = c.evolutionary.genetic_iterations;
  o.evolutionary.mutation_probability = c.evolutionary.mutation_probability;
  o.evolutionary.epsilon = c.evolutionary.epsilon;
  o.use_cost_model = c.cost_model.kind != "none";
  o.cost_model.min_samples = static_cast<size_t>(c.cost_model.min_samples);
  return o;
}

runtime::MeasureOptions measure_options(const config::MeasureConfig& m, uint64_t seed) {
  runtime::MeasureOptions o;
  o.seed = seed;
  o.timing.min_time_s = m.min_time;
  o.timing.min_repeats = m.min_repeats;
  o.timing.max_repeats = m.max_repeats;
  o.timing.warmup = m.warmup;
  o.flush_cache = m.flush_cache;
  o.pin_core = runtime::parse_pin_core(m.pin_core);
  o.timeout_s = m.timeout;
  return o;
}

// Task names unique in the run: the workload's name, "#2", "#3", ... for repeats.
std::vector<std::string> task_names(const config::TuneConfig& c) {
  std::vector<std::string> names;
  std::map<std::string, int> seen;
  for (const config::TaskConfig& t : c.tasks) {
    const int k = ++seen[t.workload.name];
    names.push_back(k == 1 ? t.workload.name : t.workload.name + "#" + std::to_string(k));
  }
  return names;
}

// RunInfo.execution_space of a run with simulated measurement.
constexpr const char* kSimulated = "simulated";

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

struct Row {
  std::string task;
  search::TaskOutcome outcome;
  double reference_gflops = 0;
  double library_gflops = 0;
  std::string library;
};

void print_summary(const std::vector<Row>& rows, const std::string& out, bool simulated) {
  if (simulated)
    std::printf("\nsimulated measurement: GFLOP/s are synthetic (rctune tune --simulate, docs/search.md)\n");
  std::printf("\n%-48s %8s %10s %9s %10s %s\n", "task", "samples", "GFLOP/s", "speedup", "vs library",
              "failed/illegal");
  for (const Row& r : rows) {
    const auto& o = r.outcome;
    std::string g = o.found ? fmt("%.1f", o.best.gflops) : "-";
    std::string sp = o.found && r.reference_gflops > 0 ? fmt("%.1fx", o.best.gflops / r.reference_gflops) : "-";
    std::string lib = o.found && r.library_gflops > 0 ? fmt("%.2fx", o.best.gflops / r.library_gflops) : "-";
    std::printf("%-48s %8lld %10s %9s %10s %lld/%lld\n", r.task.c_str(), static_cast<long long>(o.samples), g.c_str(),
                sp.c_str(), lib.c_str(), static_cast<long long>(o.failures), static_cast<long long>(o.illegal));
  }
  for (const Row& r : rows) {
    if (!r.outcome.found) continue;
    std::printf("\n# best schedule of %s (sample %lld, %.1f GFLOP/s)\n%s", r.task.c_str(),
                static_cast<long long>(r.outcome.best.sample), r.outcome.best.gflops, r.outcome.best.trace.c_str());
  }
  std::printf("\ntrace: %s  (rctune report %s)\n", out.c_str(), out.c_str());
}

}  // namespace

int run_tune(const TuneArgs& a) {
  // The config: from its file, or, resuming a trace without one, from the trace itself.
  std::optional<trace::RunWriter> writer;
  config::TuneConfig cfg;
  if (a.resume && a.config.empty()) {
    if (a.resume_file.empty()) throw std::runtime_error("rctune tune: give CONFIG.yaml or --resume FILE.h5");
    writer.emplace(trace::RunWriter::open_for_resume(a.resume_file));
    const trace::RunInfo& info = writer->resumed().info;
    cfg = config::parse_tune_config(info.config_text,
                                    info.config_path.empty() ? a.resume_file + " (config)" : info.config_path);
    cfg.out = a.resume_file;
  } else {
    if (a.config.empty()) throw std::runtime_error("rctune tune: give CONFIG.yaml");
    cfg = config::load_tune_config(a.config);
  }
  if (!a.out.empty()) cfg.out = a.out;
  if (a.resume && !a.resume_file.empty()) cfg.out = a.resume_file;
  if (a.budget >= 0) cfg.budget = a.budget;
  if (!a.strategy.empty()) cfg.strategy = a.strategy;
  if (!a.proposer.empty()) cfg.proposer = a.proposer;
  if (a.seed >= 0) cfg.seed = static_cast<uint64_t>(a.seed);
  if (cfg.tasks.empty()) throw std::runtime_error(cfg.source + ": the config has no tasks");
  llm::override_endpoint(cfg.llm, a.llm_url, a.llm_model);
  const bool use_llm = cfg.strategy == "mcts" && cfg.proposer == "llm";
  std::optional<llm::LlmOptions> llm_opts;
  if (use_llm) llm_opts = llm::llm_options(cfg.llm);  // checked before anything is measured

  if (a.resume && !writer) writer.emplace(trace::RunWriter::open_for_resume(cfg.out));
  if (writer) {
    // A resumed run makes the same decisions only with the same seed, strategy and proposer.
    const trace::RunInfo& info = writer->resumed().info;
    if (info.seed != cfg.seed || info.strategy != cfg.strategy || info.proposer != cfg.proposer)
      throw std::runtime_error(cfg.out + ": the run was started with seed " + std::to_string(info.seed) +
                               ", strategy " + info.strategy + ", proposer " + info.proposer +
                               "; resume it with the same (drop the overriding options)");
  }

  // Simulated measurement: asked for, or the resumed run was simulated (a run never mixes the two).
  bool simulate = a.simulate;
  if (writer) {
    const bool was_simulated = writer->resumed().info.execution_space == kSimulated;
    if (a.simulate && !was_simulated)
      throw std::runtime_error(cfg.out + ": the run measured kernels on hardware; resume it without --simulate");
    simulate = was_simulated;
  }

  runtime::JitOptions jit;
  jit.cache_dir = cfg.measure.cache_dir;
  jit.flags = cfg.measure.flags;
  const runtime::MeasureOptions mopts = measure_options(cfg.measure, cfg.seed);
  std::unique_ptr<search::Evaluator> evaluator;
  search::RuntimeEvaluator* runtime_evaluator = nullptr;
  if (simulate) {
    search::SimulatedOptions so;
    so.seed = cfg.seed;
    evaluator = std::make_unique<search::SimulatedEvaluator>(so);
    if (!a.quiet)
      std::fprintf(stderr,
                   "simulated measurement: no kernel is compiled or run; GFLOP/s come from the analytic model "
                   "(docs/search.md)\n");
  } else {
    auto r = std::make_unique<search::RuntimeEvaluator>(jit, mopts);
    runtime_evaluator = r.get();
    evaluator = std::move(r);
  }
  search::MeasurementCache cache;
  search::CachedEvaluator cached(*evaluator, cache);

  if (!writer) {
    trace::RunInfo info = trace::current_run_info();
    info.config_text = cfg.text;
    info.config_path = cfg.source;
    info.command_line = a.command_line;
    info.execution_space = simulate ? std::string(kSimulated) : runtime_evaluator->execution_space();
    info.strategy = cfg.strategy;
    info.proposer = cfg.proposer;
    info.seed = cfg.seed;
    info.budget = cfg.budget;
    writer.emplace(trace::RunWriter::create(cfg.out, info));
  }
  // Samples of a resumed run continue its clock.
  double wall_offset = 0;
  for (const trace::TaskTrace& t : writer->resumed().tasks)
    for (const trace::SampleRecord& s : t.samples) wall_offset = std::max(wall_offset, s.wall_time);

  const search::TuneOptions base = tune_options(cfg);
  const std::vector<std::string> names = task_names(cfg);
  // Tasks in order of weight (heaviest first), ties in config order.
  std::vector<size_t> order(cfg.tasks.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return cfg.tasks[x].weight > cfg.tasks[y].weight; });

  const bool tty = isatty(STDERR_FILENO);
  std::vector<Row> rows;
  for (size_t ti : order) {
    const config::TaskConfig& tc = cfg.tasks[ti];
    auto workload = std::make_shared<const ir::Workload>(tc.workload);
    trace::TaskInfo info;
    info.name = names[ti];
    info.workload = ir::to_string(tc.workload);
    info.weight = tc.weight;
    info.flops = tc.workload.flops();
    const trace::RunWriter::Task task = writer->begin_task(info);
    const trace::TaskTrace* resumed = writer->resumed().task(info.name);

    // The unscheduled kernel (speedups are over it) and the library routine, once per task.
    Row row;
    row.task = info.name;
    if (resumed && resumed->info.reference_gflops > 0) {
      row.reference_gflops = resumed->info.reference_gflops;
    } else {
      if (!a.quiet)
        std::fprintf(stderr, "%s: measuring the unscheduled kernel%s\n", info.name.c_str(),
                     simulate ? " (simulated)" : "");
      search::MeasureResult ref = cached.measure({search::make_candidate(schedule::State(workload))}).front();
      if (ref.ok()) {
        row.reference_gflops = ref.gflops;
        writer->set_reference(task, ref.median_s, ref.gflops);
      } else {
        std::fprintf(stderr, "%s: warning: the unscheduled kernel failed (%s: %s); speedups are not reported\n",
                     info.name.c_str(), trace::sample_status_name(ref.status), ref.error.c_str());
      }
    }
    if (resumed && !resumed->info.library_name.empty()) {
      row.library = resumed->info.library_name;
      row.library_gflops = resumed->info.library_gflops;
    } else if (simulate) {
      // No library baseline: there is no simulated OpenBLAS.
    } else if (auto lib = runtime::measure_library_baseline(tc.workload, cfg.measure.min_time, mopts.pin_core)) {
      row.library = lib->name;
      row.library_gflops = lib->gflops;
      writer->set_library(task, lib->name, lib->median_s, lib->gflops);
    }

    search::TuneOptions o = base;
    if (tc.budget > 0) o.budget = tc.budget;
    o.seed = search::derive_seed(cfg.seed, static_cast<uint64_t>(ti));
    search::TaskRecording rec{&*writer, task, resumed, wall_offset};
    // The LLM proposer of this task (the heuristic answers where the model cannot); its calls go
    // to the trace after every round.
    std::unique_ptr<search::Proposer> fallback;
    std::unique_ptr<llm::LlmProposer> llm_proposer;
    if (use_llm) {
      fallback = search::make_proposer("heuristic", nullptr);
      llm_proposer = std::make_unique<llm::LlmProposer>(*llm_opts, fallback.get());
    }
    int64_t llm_calls = resumed ? static_cast<int64_t>(resumed->llm_calls.size()) : 0;
    const auto t_task = std::chrono::steady_clock::now();
    auto record_llm_calls = [&] {
      if (!llm_proposer) return;
      std::vector<trace::LlmCallRecord> rows;
      for (const llm::CallRecord& c : llm_proposer->take_calls()) {
        trace::LlmCallRecord r;
        r.index = llm_calls++;
        r.wall_time = wall_offset + std::chrono::duration<double>(std::chrono::steady_clock::now() - t_task).count();
        r.node = c.node;
        r.model = c.model;
        r.prompt_tokens = c.prompt_tokens;
        r.completion_tokens = c.completion_tokens;
        r.latency_s = c.latency_s;
        r.cost_usd = c.cost_usd;
        r.ok = c.ok;
        r.from_cache = c.from_cache;
        r.fallback = c.fallback;
        r.proposals = c.proposals;
        r.legal = c.legal;
        r.error = c.error;
        rows.push_back(std::move(r));
      }
      if (!rows.empty()) writer->append_llm_calls(task, rows);
    };
    auto progress = [&](const search::Progress& p) {
      record_llm_calls();
      if (a.quiet) return;
      std::string line = search::progress_line(p);
      if (simulate) line += "  (simulated)";
      if (tty)
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
      else
        std::fprintf(stderr, "%s\n", line.c_str());
      std::fflush(stderr);
    };
    row.outcome =
        search::tune_task(workload, info.name, row.reference_gflops, cached, o, rec, progress, llm_proposer.get());
    record_llm_calls();
    if (tty && !a.quiet) std::fprintf(stderr, "\n");
    if (row.outcome.replayed > 0 && !a.quiet)
      std::fprintf(stderr, "%s: %lld samples taken from the trace, %lld measured now\n", info.name.c_str(),
                   static_cast<long long>(row.outcome.replayed),
                   static_cast<long long>(row.outcome.samples - row.outcome.replayed));
    rows.push_back(std::move(row));
  }
  writer->finish();
  print_summary(rows, cfg.out, simulate);
  return 0;
}

}  // namespace rctune::apps
