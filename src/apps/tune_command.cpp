// `rctune tune CONFIG.yaml`: tunes every task of a run config on this machine, records every
// sample in one HDF5 trace as it arrives, shows progress, and ends with a table of the best
// kernels. `--resume` continues a trace without measuring any of its samples again. `--simulate`
// replaces compiling and timing by simulated measurement (search/simulated_evaluator.h).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <map>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "rctune/apps/commands.h"
#include "rctune/apps/same_run.h"
#include "rctune/apps/terminal_text.h"
#include "rctune/config/input_file.h"
#include "rctune/config/tune_config.h"
#include "rctune/database/database.h"
#include "rctune/database/from_run.h"
#include "rctune/dist/cost_model_seed.h"
#include "rctune/dist/database_start.h"
#include "rctune/dist/mpi_env.h"
#include "rctune/dist/run.h"
#include "rctune/dist/run_setup.h"
#include "rctune/dist/stop_signals.h"
#include "rctune/dist/task_rounds.h"
#include "rctune/ir/text.h"
#include "rctune/llm/config.h"
#include "rctune/runlog/writer.h"
#include "rctune/runtime/environment_error.h"
#include "rctune/runtime/jit_compiler.h"
#include "rctune/runtime/library_baseline.h"
#include "rctune/search/runtime_evaluator.h"
#include "rctune/search/stop_request.h"
#include "rctune/search/task_scheduler.h"
#include "rctune/search/tuner.h"

namespace rctune::apps {

namespace {

using dist::kSimulated;

using ir::fmt;

struct Row {
  std::string task;
  search::TaskOutcome outcome;
  double reference_gflops = 0;
  double library_gflops = 0;
  std::string library;
};

// Runs of at most this many tasks print each task's best schedule after the table.
constexpr size_t kSchedulesPrinted = 4;

void print_summary(const std::vector<Row>& rows, const std::string& out, bool simulated) {
  if (simulated)
    std::printf("\nsimulated measurement: GFLOP/s are synthetic (rctune tune --simulate, docs/search.md)\n");
  std::printf("\n%-48s %8s %10s %9s %10s %s\n", "task", "samples", "GFLOP/s", "speedup", "vs library",
              "failed/illegal");
  for (const Row& r : rows) {
    const auto& o = r.outcome;
    std::string g = o.found ? fmt("%.1f", o.best.gflops) : "-";
    std::string sp =
        o.found && r.reference_gflops > 0 ? fmt("%.1fx", o.best.gflops / r.reference_gflops) : "-";
    std::string lib = o.found && r.library_gflops > 0 ? fmt("%.2fx", o.best.gflops / r.library_gflops) : "-";
    std::printf("%-48s %8lld %10s %9s %10s %lld/%lld\n", r.task.c_str(), static_cast<long long>(o.samples),
                g.c_str(), sp.c_str(), lib.c_str(), static_cast<long long>(o.failures),
                static_cast<long long>(o.illegal));
  }
  // A model's schedules would bury the table (a 31-task model prints about 19 KB): they are in the
  // trace (and the report's JSON) and in the tuning database.
  if (rows.size() > kSchedulesPrinted) {
    std::printf(
        "\nbest schedules of the %zu tasks: rctune report %s --format json (each task's best.trace)\n",
        rows.size(), out.c_str());
  } else {
    for (const Row& r : rows)
      if (r.outcome.found)
        std::printf("\n# best schedule of %s (sample %lld, %.1f GFLOP/s)\n%s", r.task.c_str(),
                    static_cast<long long>(r.outcome.best.sample), r.outcome.best.gflops,
                    r.outcome.best.trace.c_str());
  }
  std::printf("\ntrace: %s  (rctune report %s)\n", out.c_str(), out.c_str());
}

// What a task's proposer dropped, on stderr after its progress: the counts unless --quiet, and
// internal errors (bugs in rctune) always.
void report_proposer_failures(const std::string& task, const std::string& proposer,
                              const search::ProposerFailures& f, bool quiet) {
  if (f.total() == 0 || (quiet && f.internal == 0)) return;
  const std::string text = terminal_safe(task) + ": the " + proposer + " proposer dropped " +
                           terminal_safe(search::failures_text(f));
  if (f.internal > 0)
    spdlog::warn("{}", text);
  else
    std::fprintf(stderr, "%s\n", text.c_str());
}

// The tuning database of a run: --database, else the config's `database:`, else the default one
// (database::default_database_dir()); "" with --no-database.
std::string database_dir(const TuneArgs& a, const config::TuneConfig& cfg) {
  if (a.no_database) return "";
  if (!a.database.empty()) return a.database;
  if (!cfg.database.empty()) return cfg.database;
  return database::default_database_dir();
}

// Stores the fastest schedules of every task of the finished run (its trace, cfg.out) in the tuning
// database `dir` ("" stores nothing). The trace holds every result whatever happens
// here. Returns the exit status: 0, or 2 when the database could not be written.
// `prior_samples`: by workload key, the samples behind the records a task started from (they are
// the tuning effort behind its schedules too).
int store_in_database(const std::string& dir, const config::TuneConfig& cfg, bool simulated, bool quiet,
                      const std::map<std::string, int64_t>& prior_samples = {}) {
  if (dir.empty()) return 0;
  if (simulated) {
    // Said when the user named the database; the default one is passed over quietly.
    if (dir != database::default_database_dir())
      std::fprintf(stderr, "a simulated run stores nothing in the tuning database %s\n",
                   terminal_safe(dir).c_str());
    return 0;
  }
  try {
    const runlog::RunLog run = runlog::read_run_log(cfg.out);
    std::map<std::string, std::string> keys;
    const std::vector<std::string> names = dist::task_names(cfg);
    for (size_t i = 0; i < names.size(); ++i) keys[names[i]] = database::workload_key(cfg.tasks[i].workload);
    const std::string flags = runtime::JitCompiler(dist::jit_options(cfg.measure)).flags();
    const database::HardwareFingerprint hardware = database::host_fingerprint(run.info.execution_space);
    std::vector<database::TuningRecord> records = database::records_of_run(run, keys, hardware, flags);
    for (database::TuningRecord& r : records)
      if (auto it = prior_samples.find(r.workload); it != prior_samples.end()) r.samples += it->second;
    database::Database db(dir);
    for (const database::TuningRecord& r : records) db.append(r);
    // The baselines the database lacks (a task's baselines that came from it are there already).
    size_t baselines = 0;
    for (const database::TuningRecord& r : database::baseline_records_of_run(run, keys, hardware, flags)) {
      if (db.baseline(r.key(), r.kind)) continue;
      db.append(r);
      ++baselines;
    }
    db.close();
    if (!quiet)
      std::printf("tuning database %s: %zu records stored (the fastest schedules of each task)%s\n",
                  terminal_safe(dir).c_str(), records.size(),
                  baselines > 0 ? (", and " + std::to_string(baselines) + " baselines").c_str() : "");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rctune: error: the tuning database %s: %s (the trace %s holds every result)\n",
                 terminal_safe(dir).c_str(), terminal_safe(e.what()).c_str(), terminal_safe(cfg.out).c_str());
    return 2;
  }
  return 0;
}

// A run's config with the command line's overrides, the trace it resumes (if any), and whether
// measurement is simulated. Everything a user can get wrong is checked here, before anything is
// measured.
struct ResolvedRun {
  config::TuneConfig cfg;
  TuneArgs args;  // the options in effect: a resumed run's start options where the command line is silent
  std::optional<runlog::RunWriter> writer;  // a resumed trace
  bool simulate = false;
  std::optional<llm::LlmOptions> llm_opts;
};

// The command line's overrides of a config.
void apply_overrides(config::TuneConfig& cfg, const TuneArgs& a) {
  if (!a.out.empty()) cfg.out = a.out;
  if (a.budget >= 0) cfg.budget = a.budget;
  if (!a.strategy.empty()) cfg.strategy = a.strategy;
  if (!a.proposer.empty()) cfg.proposer = a.proposer;
  if (a.seed >= 0) cfg.seed = static_cast<uint64_t>(a.seed);
  cfg.measure.cache_dir = a.cache_dir;  // the user's choice only, never a config's
}

// Checks of a config that hold for new and resumed runs.
void check_run(ResolvedRun& r, const TuneArgs& a) {
  config::TuneConfig& cfg = r.cfg;
  if (cfg.tasks.empty()) throw std::runtime_error(cfg.source + ": the config has no tasks");
  llm::override_endpoint(cfg.llm, a.llm_url, a.llm_model);
  if (cfg.strategy == "mcts" && cfg.proposer == "llm")
    r.llm_opts = llm::llm_options(cfg.llm);  // checked before anything is measured
}

// The options of a start that a resume reuses (RunInfo::start_options), as a JSON object.
std::string start_options_of(const TuneArgs& a) {
  nlohmann::json j = nlohmann::json::object();
  if (!a.llm_url.empty()) j["llm_url"] = a.llm_url;
  if (!a.llm_model.empty()) j["llm_model"] = a.llm_model;
  if (!a.database.empty()) j["database"] = a.database;
  if (a.no_database) j["no_database"] = true;
  return j.dump();
}

// The options a resume of the trace at `path` runs with: those its start was given, except where
// the command line gives them now (each change goes to `said`). The recorded text comes from a
// file, so it is checked like input: a malformed one refuses the resume.
TuneArgs with_start_options(const TuneArgs& given, const runlog::RunInfo& info, const std::string& path,
                            std::vector<std::string>& said) {
  TuneArgs a = given;
  if (info.start_options.empty()) return a;  // a trace written before they were recorded
  const auto bad = [&](const std::string& why) {
    return std::runtime_error(path + ": its start_options attribute " + why +
                              "; resume it with the options " + "it was started with given again");
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(info.start_options);
  } catch (const nlohmann::json::exception&) {
    throw bad("is not JSON");
  }
  if (!j.is_object()) throw bad("is not a JSON object");
  const auto text = [&](const char* key) {
    const auto it = j.find(key);
    if (it == j.end()) return std::string();
    if (!it->is_string() || it->get<std::string>().empty()) throw bad(std::string("has a bad ") + key);
    return it->get<std::string>();
  };
  const auto reuse = [&](std::string& now, const std::string& then, const char* option) {
    if (now.empty())
      now = then;
    else if (now != then)
      said.push_back(std::string(option) + " changes from " +
                     (then.empty() ? std::string("the config's") : "'" + terminal_safe(then) + "'") +
                     " to '" + terminal_safe(now) + "'");
  };
  reuse(a.llm_url, text("llm_url"), "--llm-url");
  reuse(a.llm_model, text("llm_model"), "--llm-model");
  const std::string database = text("database");
  const auto no_database = j.find("no_database");
  if (no_database != j.end() && !no_database->is_boolean()) throw bad("has a bad no_database");
  const bool then_none = no_database != j.end() && no_database->get<bool>();
  if (!a.database.empty() || a.no_database) {
    if (a.database != database || a.no_database != then_none)
      said.push_back("the tuning database changes (" +
                     std::string(a.no_database ? "--no-database" : "--database") + ")");
  } else if (then_none) {
    a.no_database = true;
  } else if (!database.empty()) {
    // A directory named by a file from elsewhere is used only where it is a directory already.
    std::error_code ec;
    if (std::filesystem::is_directory(database, ec))
      a.database = database;
    else
      said.push_back("the tuning database '" + terminal_safe(database) +
                     "' it was started with is not there: the config's or the default one is used");
  }
  return a;
}

// Every reason to refuse a resume is checked in open_for_resume's `accept`, before the trace is
// changed: a refused resume leaves the file as it was.
void resolve_resume(ResolvedRun& r, const TuneArgs& given) {
  std::vector<std::string> said;  // what the resume changes, said once it is accepted
  std::optional<config::TuneConfig> given_cfg;
  if (!given.config.empty()) given_cfg = config::load_tune_config(given.config);
  std::string path = given.resume_file;
  if (path.empty()) {
    if (!given_cfg) throw std::runtime_error("tune: give CONFIG.yaml or --resume FILE.h5");
    path = given.out.empty() ? given_cfg->out : given.out;
  }
  config::check_input_file(path, "the trace to resume (--resume)");
  r.writer.emplace(runlog::RunWriter::open_for_resume(path, [&](const runlog::RunLog& t) {
    const runlog::RunInfo& info = t.info;
    config::TuneConfig& cfg = r.cfg;
    // The config: the one given (which must be the run's), or the one recorded in the trace.
    const config::TuneConfig recorded = config::parse_tune_config(
        info.config_text, info.config_path.empty() ? path + " (config)" : info.config_path);
    if (given_cfg) require_same_run(recorded, *given_cfg, path);
    cfg = given_cfg ? *given_cfg : recorded;
    r.args = with_start_options(given, info, path, said);
    const TuneArgs& a = r.args;
    // The run continues with the options it was started with, those given on its command line
    // included (a requeued job's command may not repeat them); the command line may change the
    // budget, and nothing else.
    cfg.seed = info.seed;
    cfg.strategy = info.strategy;
    cfg.proposer = info.proposer;
    if (info.budget > 0) cfg.budget = info.budget;
    apply_overrides(cfg, a);
    cfg.out = path;
    check_run(r, a);
    // A resumed run makes the same decisions only with the same seed, strategy and proposer.
    if (info.seed != cfg.seed || info.strategy != cfg.strategy || info.proposer != cfg.proposer)
      throw std::runtime_error(path + ": the run was started with seed " + std::to_string(info.seed) +
                               ", strategy " + info.strategy + ", proposer " + info.proposer +
                               "; resume it with the same (leave out --seed, --strategy and --proposer)");
    // Simulated measurement: a resumed simulated run stays simulated (a run never mixes the two).
    const bool was_simulated = info.execution_space == kSimulated;
    if (a.simulate && !was_simulated)
      throw std::runtime_error(path + ": the run measured kernels on hardware; resume it without --simulate");
    r.simulate = was_simulated;
  }));
  // A new --budget or start option: the trace records it, so that its report and its next resume
  // use it.
  const TuneArgs& a = r.args;
  for (const std::string& s : said)
    if (!a.quiet) std::fprintf(stderr, "%s: %s\n", terminal_safe(path).c_str(), s.c_str());
  if (const std::string options = start_options_of(a);
      !r.writer->info().start_options.empty() && options != r.writer->info().start_options)
    r.writer->set_start_options(options);
  if (r.writer->info().budget != r.cfg.budget) {
    if (!a.quiet)
      std::fprintf(stderr, "%s: the budget changes from %lld to %lld samples (--budget)\n", path.c_str(),
                   static_cast<long long>(r.writer->info().budget), static_cast<long long>(r.cfg.budget));
    r.writer->set_budget(r.cfg.budget);
  }
}

ResolvedRun resolve_run(const TuneArgs& a) {
  ResolvedRun r;
  r.args = a;
  if (a.force && (a.resume || a.resume_or_start))
    throw std::runtime_error("tune: --force replaces a trace and --resume continues one: give one of them");
  if (a.resume) {
    resolve_resume(r, a);
    return r;
  }
  if (a.config.empty()) throw std::runtime_error("tune: give CONFIG.yaml");
  r.cfg = config::load_tune_config(a.config);
  apply_overrides(r.cfg, a);
  // A requeued job runs its command again: with resume_or_start it continues the trace that the
  // first start wrote (which must be this config's run), and starts one only where there is none.
  std::error_code ec;
  if ((a.resume_or_start || r.cfg.resume_or_start) && std::filesystem::exists(r.cfg.out, ec)) {
    if (a.force)
      throw std::runtime_error(
          "tune: --force replaces a trace and resume_or_start continues one: give one of them");
    TuneArgs resume = a;
    resume.resume = true;
    resume.resume_file = r.cfg.out;
    ResolvedRun continued;
    resolve_resume(continued, resume);
    if (!a.quiet) std::fprintf(stderr, "%s exists: continuing it (resume_or_start)\n", r.cfg.out.c_str());
    return continued;
  }
  check_run(r, a);
  r.simulate = a.simulate;
  return r;
}

runlog::RunInfo new_run_info(const config::TuneConfig& cfg, const TuneArgs& a,
                             const std::string& execution_space, int ranks) {
  runlog::RunInfo info = runlog::current_run_info();
  info.config_text = cfg.text;
  info.config_path = cfg.source;
  info.command_line = a.command_line;
  info.execution_space = execution_space;
  info.strategy = cfg.strategy;
  info.proposer = cfg.proposer;
  info.seed = cfg.seed;
  info.budget = cfg.budget;
  info.num_ranks = ranks;
  info.start_options = start_options_of(a);
  return info;
}

// Samples of a resumed run continue its clock.
double resumed_wall_time(const runlog::RunWriter& writer) {
  double wall_offset = 0;
  for (const runlog::TaskLog& t : writer.resumed().tasks)
    for (const runlog::SampleRecord& s : t.samples) wall_offset = std::max(wall_offset, s.wall_time);
  return wall_offset;
}

// A fault of the machine (toolchain, kernel cache, worker) stops the run: the trace keeps every
// sample measured so far, and the message says how to continue once the environment is fixed.
runtime::EnvironmentError environment_stop(const runtime::EnvironmentError& e, const std::string& trace) {
  return runtime::EnvironmentError(std::string(e.what()) +
                                   "; the run stopped, the samples measured so far are in " + trace +
                                   " (fix the environment, then: rctune tune --resume " + trace + ")");
}

void announce_simulation(bool simulate, bool quiet) {
  if (simulate && !quiet)
    std::fprintf(stderr,
                 "simulated measurement: no kernel is compiled or run; GFLOP/s come from the analytic model "
                 "(docs/search.md)\n");
}

// After a stop by `signal` (SIGTERM or SIGUSR1) the trace holds every measured sample and the
// trees so far, unfinished; the tuning database gets the run's results when it completes.
int say_stopped(int signal, const std::string& trace) {
  std::fflush(stdout);  // the summary before the message
  std::fprintf(stderr, "%s\n(the tuning database is updated when the run completes)\n",
               dist::resume_hint(signal, terminal_safe(trace)).c_str());
  return dist::stopped_exit_code(signal);
}

// `mpirun -np N rctune tune ...` with N > 1: rank 0 resolves the run and broadcasts it; the ranks
// tune together (dist/run.h); rank 0 writes the trace and prints the summary.
int run_tune_ranks(const TuneArgs& a, const dist::MpiSession& mpi) {
  ResolvedRun r;
  std::string failure;
  if (mpi.rank() == 0) {
    try {
      r = resolve_run(a);
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  // Every rank learns the resolved run (or that rank 0 could not resolve it).
  nlohmann::json j;
  if (mpi.rank() == 0 && failure.empty())
    j = {{"text", r.cfg.text},
         {"source", r.cfg.source},
         {"out", r.cfg.out},
         {"budget", r.cfg.budget},
         {"strategy", r.cfg.strategy},
         {"proposer", r.cfg.proposer},
         {"seed", r.cfg.seed},
         {"simulate", r.simulate},
         {"llm_url", r.args.llm_url},
         {"llm_model", r.args.llm_model},
         {"database", database_dir(r.args, r.cfg)}};
  const std::string shared = dist::broadcast_string(j.is_null() ? "" : j.dump());
  if (shared.empty()) {
    if (mpi.rank() == 0) throw std::runtime_error(failure);
    return 2;  // rank 0 says why
  }
  // Everything a rank can get wrong before the ranks start talking (the config on other ranks, the
  // trace on rank 0, the LLM endpoints): every rank agrees that all are ready, or all stop, each
  // failed rank saying why (no rank is left waiting for one that has given up).
  dist::DistRun run;
  run.simulate = r.simulate;
  run.quiet = a.quiet;
  try {
    if (mpi.rank() != 0) {
      j = nlohmann::json::parse(shared);
      r.cfg = config::parse_tune_config(j.at("text").get<std::string>(), j.at("source").get<std::string>());
      r.cfg.out = j.at("out").get<std::string>();
      r.cfg.budget = j.at("budget").get<int64_t>();
      r.cfg.strategy = j.at("strategy").get<std::string>();
      r.cfg.proposer = j.at("proposer").get<std::string>();
      r.cfg.seed = j.at("seed").get<uint64_t>();
      run.simulate = r.simulate = j.at("simulate").get<bool>();
      // Rank 0's options in effect (a resume's recorded start options included) where this rank's
      // command line is silent; what it gives is checked on this rank like any option.
      r.args = a;
      if (a.llm_url.empty()) r.args.llm_url = j.at("llm_url").get<std::string>();
      if (a.llm_model.empty()) r.args.llm_model = j.at("llm_model").get<std::string>();
      r.args.database = j.at("database").get<std::string>();
      r.args.no_database = r.args.database.empty();
      llm::override_endpoint(r.cfg.llm, r.args.llm_url, r.args.llm_model);
      if (r.cfg.strategy == "mcts" && r.cfg.proposer == "llm") r.llm_opts = llm::llm_options(r.cfg.llm);
    } else if (!r.writer) {
      std::string space = dist::kSimulated;
      if (!r.simulate) {
        space = search::RuntimeEvaluator(dist::jit_options(r.cfg.measure),
                                         dist::measure_options(r.cfg.measure, r.cfg.seed))
                    .execution_space();
      }
      r.writer.emplace(
          runlog::RunWriter::create(r.cfg.out, new_run_info(r.cfg, a, space, mpi.size()), a.force));
    }
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!dist::all_ranks_ready(failure.empty())) {
    if (!failure.empty())
      std::fprintf(stderr, "rctune: error: rank %d: %s\n", mpi.rank(), terminal_safe(failure).c_str());
    return 2;
  }
  const config::TuneConfig& cfg = r.cfg;
  run.cfg = &cfg;
  run.llm = r.llm_opts;
  if (!r.simulate) run.database = database_dir(r.args, cfg);  // a simulated run reads none
  const dist::Layout layout = dist::make_layout(cfg.dist.group_size);
  if (mpi.rank() == 0) {
    announce_simulation(r.simulate, a.quiet);
    run.writer = &*r.writer;
    run.wall_offset = resumed_wall_time(*r.writer);
    if (!a.quiet)
      std::fprintf(stderr, "%d ranks in %d group%s of %d, %d on this node\n", layout.size, layout.groups,
                   layout.groups == 1 ? "" : "s",
                   cfg.dist.group_size > 0 ? std::min(cfg.dist.group_size, layout.size) : layout.size,
                   layout.node_size);
  }
  const dist::HubResult result = dist::run_distributed(run, layout);
  if (mpi.rank() != 0) return 0;

  r.writer->write_rank_stats(result.ranks);
  const int stopped_by = search::stop_signal();
  if (!stopped_by) r.writer->finish();
  r.writer.reset();  // closes the trace, which store_in_database reads
  std::vector<Row> rows;
  for (const dist::TaskSummary& t : result.tasks) {
    Row row;
    row.task = t.task;
    row.outcome.samples = t.samples;
    row.outcome.failures = t.failures;
    row.outcome.illegal = t.illegal;
    row.outcome.found = t.found;
    row.outcome.best = t.best;
    row.reference_gflops = t.reference_gflops;
    row.library_gflops = t.library_gflops;
    row.library = t.library;
    row.outcome.proposer_failures = t.proposer_failures;
    report_proposer_failures(row.task, r.llm_opts ? "llm" : cfg.proposer, row.outcome.proposer_failures,
                             a.quiet);
    rows.push_back(std::move(row));
  }
  print_summary(rows, cfg.out, r.simulate);
  double wall = 0, comm = 0, merge = 0;
  int64_t samples = 0;
  for (const runlog::RankStats& s : result.ranks) {
    wall += s.wall_s;
    comm += s.comm_s;
    merge += s.merge_s;
    samples += s.samples;
  }
  std::printf("%d ranks: %lld samples measured, %.1f%% of rank time in communication, %.1f%% merging\n",
              layout.size, static_cast<long long>(samples), wall > 0 ? 100 * comm / wall : 0.0,
              wall > 0 ? 100 * merge / wall : 0.0);
  if (result.llm.requests > 0)
    std::printf("LLM: %lld requests from the ranks, %lld sent to endpoints (%lld answered together)\n",
                static_cast<long long>(result.llm.requests), static_cast<long long>(result.llm.http_requests),
                static_cast<long long>(result.llm.merged));
  if (stopped_by) return say_stopped(stopped_by, cfg.out);
  return store_in_database(database_dir(r.args, cfg), cfg, r.simulate, a.quiet);
}

// A plain run (one process, or one rank under mpirun): this process tunes every task and writes
// the trace. The run's task scheduler hands out rounds of samples; each task keeps its search
// between its rounds. Each job of a task is one member function.
class PlainRun {
 public:
  PlainRun(const TuneArgs& a, ResolvedRun& resolved)
      : a_(a),
        cfg_(resolved.cfg),
        writer_(resolved.writer),
        simulate_(resolved.simulate),
        llm_opts_(resolved.llm_opts),
        mopts_(dist::measure_options(cfg_.measure, cfg_.seed)),
        evaluator_(dist::make_evaluator(cfg_, simulate_, mopts_)),
        cached_(*evaluator_, cache_),
        tty_(isatty(STDERR_FILENO)) {}

  int run() {
    announce_simulation(simulate_, a_.quiet);
    auto* runtime_evaluator = dynamic_cast<search::RuntimeEvaluator*>(evaluator_.get());
    if (!writer_)
      writer_.emplace(runlog::RunWriter::create(
          cfg_.out,
          new_run_info(cfg_, a_, simulate_ ? std::string(kSimulated) : runtime_evaluator->execution_space(),
                       1),
          a_.force));
    wall_offset_ = resumed_wall_time(*writer_);
    const std::string space =
        runtime_evaluator ? runtime_evaluator->execution_space() : std::string(kSimulated);
    open_database(space);
    // The machine every task is tuned for, read once (a simulated run models this host's CPU).
    hardware_ = search::host_hardware_description(runtime_evaluator ? space : "Serial");
    seed_cost_model();

    const std::vector<std::string> names = dist::task_names(cfg_);
    // Tasks in order of weight (heaviest first), ties in config order: each begun in the trace with
    // its baselines before the first sample, so that the scheduler knows every task's share.
    for (size_t ti : dist::task_order(cfg_)) tasks_.push_back(begin_task(ti, names[ti]));
    tune_rounds();
    std::vector<Row> rows;
    for (TaskRun& t : tasks_) rows.push_back(finish_task(t));
    if (const int sig = search::stop_signal()) {
      writer_.reset();  // left unfinished: a resume continues it
      print_summary(rows, cfg_.out, simulate_);
      return say_stopped(sig, cfg_.out);
    }
    writer_->finish();
    writer_.reset();  // closes the trace, which store_in_database reads
    print_summary(rows, cfg_.out, simulate_);
    db_.reset();
    std::map<std::string, int64_t> prior;
    for (const TaskRun& t : tasks_)
      if (t.db.recorded_samples > 0)
        prior[database::workload_key(cfg_.tasks[t.index].workload)] = t.db.recorded_samples;
    return store_in_database(database_dir(a_, cfg_), cfg_, simulate_, a_.quiet, prior);
  }

 private:
  // A task of the run: its trace entry, baselines, search options and, once it got a round, its
  // search session (and LLM proposer).
  struct TaskRun {
    size_t index = 0;  // in the config
    Row row;
    std::shared_ptr<const ir::Workload> workload;
    runlog::RunWriter::Task task = 0;
    const runlog::TaskLog* resumed = nullptr;
    search::TuneOptions options;
    search::TaskRecording rec;
    std::vector<runlog::SampleRecord> observed;
    bool complete = false;  // nothing left to tune (row filled)
    std::unique_ptr<search::Proposer> fallback;
    std::unique_ptr<llm::LlmProposer> llm_proposer;
    std::unique_ptr<search::TaskSession> session;
    int64_t llm_calls = 0;
    dist::DatabaseStart db;  // what the tuning database offers it
  };

  // The tuning database the tasks start from (a simulated run reads none: its times are not
  // comparable). A default database that cannot be opened is passed over with a warning; one the
  // user named is an error.
  void open_database(const std::string& execution_space) {
    const std::string dir = database_dir(a_, cfg_);
    if (dir.empty() || simulate_) return;
    try {
      db_.emplace(dir);
    } catch (const database::DatabaseError& e) {
      if (!a_.database.empty() || !cfg_.database.empty()) throw;
      spdlog::warn("the default tuning database is not used: {}", terminal_safe(e.what()));
      return;
    }
    fingerprint_ = database::host_fingerprint(execution_space).id;
    flags_ = runtime::JitCompiler(dist::jit_options(cfg_.measure)).flags();
  }

  // The run's cost model, shared by its tasks, and warm from the database's records when it has any.
  void seed_cost_model() {
    const bool records = db_ && !db_->all().empty();
    cost_model_ = dist::shared_cost_model(cfg_, hardware_.info, records);
    if (!records || !cost_model_) return;
    const dist::ModelSeed seed = dist::seed_cost_model(*cost_model_, *db_, fingerprint_, hardware_.info);
    if (!a_.quiet)
      std::fprintf(stderr, "cost model: starts from %lld records of the tuning database%s\n",
                   static_cast<long long>(seed.records),
                   seed.skipped > 0
                       ? (" (" + std::to_string(seed.skipped) + " whose schedules no longer apply)").c_str()
                       : "");
  }

  // What the database offers the task: its seeds (records measured first) and the recorded best.
  void start_from_database(TaskRun& t) {
    if (!db_) return;
    t.db = dist::database_start(*db_, database_key(t.index));
    t.rec.seeds = t.db.seeds;
    if (!t.db.summary.empty() && !a_.quiet)
      std::fprintf(stderr, "%s: %s\n", terminal_safe(t.row.task).c_str(), t.db.summary.c_str());
  }

  // The tuning database's key of task `ti` on this machine with this run's flags.
  database::Key database_key(size_t ti) const {
    return {database::workload_key(cfg_.tasks[ti].workload), fingerprint_, database::normalize_flags(flags_)};
  }

  TaskRun begin_task(size_t ti, const std::string& name) {
    const config::TaskConfig& tc = cfg_.tasks[ti];
    TaskRun t;
    t.index = ti;
    t.workload = std::make_shared<const ir::Workload>(tc.workload);
    runlog::TaskInfo info;
    info.name = name;
    info.workload = ir::to_string(tc.workload);
    info.weight = tc.weight;
    info.flops = tc.workload.flops();
    t.task = writer_->begin_task(info);
    t.resumed = writer_->resumed().task(info.name);
    t.row.task = info.name;
    baselines(t.row, t);

    t.options = dist::tune_options(cfg_);
    t.options.hardware = hardware_;
    t.options.shared_cost_model = cost_model_;
    t.options.budget = dist::task_budget(cfg_, ti);
    t.options.seed = dist::task_seed(cfg_, ti);
    t.rec = search::TaskRecording{&*writer_, t.task, t.resumed, wall_offset_};
    if (t.resumed && writer_->resumed().info.num_ranks > 1)
      t.complete = !observe_many_rank_samples(t.row, *t.resumed, t.task, t.options, t.rec, t.observed);
    t.llm_calls = t.resumed ? static_cast<int64_t>(t.resumed->llm_calls.size()) : 0;
    if (!t.complete) start_from_database(t);
    return t;
  }

  // The run's tasks as its rounds see them (in tasks_ order). A task a many-rank session tuned
  // before (its samples observed, not replayed) starts with those samples spent.
  std::vector<dist::RoundTask> round_tasks() const {
    std::vector<dist::RoundTask> out;
    for (const TaskRun& t : tasks_) {
      dist::RoundTask rt;
      rt.config_index = t.index;
      rt.name = t.row.task;
      rt.reference_gflops = t.row.reference_gflops;
      rt.db = t.db;
      rt.complete = t.complete;
      if (!t.observed.empty()) {
        rt.prior_samples = static_cast<int64_t>(t.observed.size());
        rt.prior_best_s = t.resumed->best ? t.resumed->best->median_s : 0;
      }
      out.push_back(std::move(rt));
    }
    return out;
  }

  // The run's work, as its TaskRounds hand it out: the tuning database's records confirmed (one
  // sample each), then the scheduler's rounds, each a row of /allocations. A trace of this process
  // replays its rows (the recorded ones are not written again); the rows of a many-rank trace
  // cannot be replayed, so this session's follow them.
  void tune_rounds() {
    const bool per_task = config::effective_scheduler(cfg_) == "per_task";
    dist::TaskRounds rounds(cfg_, round_tasks(), dist::scheduler_options(cfg_), *writer_,
                            writer_->resumed().info.num_ranks <= 1, a_.quiet);
    const auto t0 = t0_;  // the run's start: rounds' wall times count from it, baselines included
    while (!search::stop_requested()) {
      const std::optional<dist::RoundWork> w = rounds.next();
      if (!w) break;
      TaskRun& t = tasks_[w->allocation.task];
      if (!t.session) open_session(t);
      int64_t spent = 0;
      if (w->confirmation) {
        t.session->set_expected_budget(rounds.scheduler().task_spent(w->allocation.task) + 1);
        spent = run_seeds(t, 1);
      } else {
        t.session->set_expected_budget(rounds.scheduler().task_spent(w->allocation.task) +
                                       w->allocation.samples);
        spent = run_round(t, w->allocation.samples);
      }
      const search::TaskOutcome& out = t.session->outcome();
      const runlog::AllocationRecord row =
          rounds.ended(*w, spent, out.found ? out.best.median_s : 0, 0, wall());
      if (!per_task && !w->confirmation) show_round(row.round, t, rounds.scheduler(), t0);
    }
  }

  // Seconds since the run started (across its sessions).
  double wall() const {
    return wall_offset_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

  // One line after each round: the model's estimated latency and the run's progress.
  void show_round(int64_t round, const TaskRun& t, const search::TaskScheduler& sched,
                  std::chrono::steady_clock::time_point t0) const {
    if (a_.quiet) return;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    int64_t replayed = 0;
    for (const TaskRun& x : tasks_)
      if (x.session) replayed += x.session->outcome().replayed;
    const int64_t measured = sched.spent() - replayed;
    std::string line = "round " + std::to_string(round) + ": " + terminal_safe(t.row.task) + "  model " +
                       std::to_string(sched.spent()) + "/" + std::to_string(sched.total_budget()) +
                       " samples, estimated latency " + fmt("%.4g ms", 1e3 * sched.estimated_latency());
    if (measured > 0)
      line += "  ETA " + search::clock_text(
                             elapsed / static_cast<double>(measured) *
                             static_cast<double>(std::max<int64_t>(0, sched.total_budget() - sched.spent())));
    if (tty_) std::fprintf(stderr, "\r\033[K");
    std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
  }

  // The search session of a task, created at its first round, with the LLM proposer of the task
  // (the heuristic answers where the model cannot).
  void open_session(TaskRun& t) {
    if (llm_opts_) {
      t.fallback = search::make_proposer("heuristic", nullptr);
      t.llm_proposer = std::make_unique<llm::LlmProposer>(*llm_opts_, t.fallback.get());
    }
    if (!t.observed.empty()) t.rec.observed = &t.observed;
    TaskRun* tp = &t;
    // Samples' wall times count from the run's start (and across its sessions).
    t.rec.wall_offset = wall();
    t.session = std::make_unique<search::TaskSession>(
        t.workload, t.row.task, t.row.reference_gflops, cached_, t.options, t.rec,
        [this, tp](const search::Progress& p) {
          record_llm_calls(*tp);
          show_progress(p);
        },
        t.llm_proposer.get());
  }

  // The LLM calls of the task's proposer since the last time, to the trace.
  void record_llm_calls(TaskRun& t) {
    if (!t.llm_proposer) return;
    std::vector<runlog::LlmCallRecord> rows;
    const double now = wall();
    for (const llm::CallRecord& c : t.llm_proposer->take_calls())
      rows.push_back(llm::to_trace_record(c, t.llm_calls++, now, 0));
    if (!rows.empty()) writer_->append_llm_calls(t.task, rows);
  }

  int64_t run_seeds(TaskRun& t, int64_t samples) { return run_round(t, samples, true); }

  // One round of a task's search (or of its seeds only), with its progress on stderr.
  int64_t run_round(TaskRun& t, int64_t samples, bool seeds_only = false) {
    try {
      const int64_t spent = seeds_only ? t.session->run_seeds(samples) : t.session->run(samples);
      record_llm_calls(t);
      if (tty_ && !a_.quiet) std::fprintf(stderr, "\n");
      return spent;
    } catch (const runtime::EnvironmentError& e) {
      if (tty_ && !a_.quiet) std::fprintf(stderr, "\n");
      try {
        record_llm_calls(t);
      } catch (const std::exception&) {
        // the environment's fault is the one to report
      }
      throw environment_stop(e, cfg_.out);
    }
  }

  // The task's row of the summary, and what its proposer dropped.
  Row finish_task(TaskRun& t) {
    if (t.complete || !t.session) return std::move(t.row);
    t.row.outcome = t.session->finish();
    if (t.fallback) t.row.outcome.proposer_failures += t.fallback->failures();
    report_proposer_failures(t.row.task, llm_opts_ ? "llm" : t.options.proposer,
                             t.row.outcome.proposer_failures, a_.quiet);
    if (t.row.outcome.replayed > 0 && !a_.quiet)
      std::fprintf(stderr, "%s: %lld samples taken from the trace, %lld measured now\n", t.row.task.c_str(),
                   static_cast<long long>(t.row.outcome.replayed),
                   static_cast<long long>(t.row.outcome.samples - t.row.outcome.replayed));
    return std::move(t.row);
  }

  // The unscheduled kernel (speedups are over it) and the library routine, once per task: from the
  // resumed trace, from the tuning database (a run on this machine measured them), or measured and
  // recorded.
  void baselines(Row& row, const TaskRun& t) {
    if (t.resumed && t.resumed->info.reference_gflops > 0) {
      row.reference_gflops = t.resumed->info.reference_gflops;
      row.library = t.resumed->info.library_name;
      row.library_gflops = t.resumed->info.library_gflops;
      return;
    }
    std::optional<dist::Baselines> b;
    if (db_) b = dist::recorded_baselines(*db_, database_key(t.index));
    if (b && !a_.quiet)
      std::fprintf(stderr, "%s: baselines from the %s\n", terminal_safe(row.task).c_str(), b->source.c_str());
    try {
      if (!b)
        b = dist::measure_baselines(row.task, t.workload, cached_, cfg_.measure, mopts_.pin_core, simulate_,
                                    a_.quiet);
    } catch (const runtime::EnvironmentError& e) {
      throw environment_stop(e, cfg_.out);
    }
    row.reference_gflops = b->reference_gflops;
    row.library = b->library;
    row.library_gflops = b->library_gflops;
    dist::write_baselines(*writer_, t.task, *b);
  }

  // A trace of many ranks cannot be replayed by one: its samples are observed (never measured
  // again) and the rest of the budget is tuned (docs/dist.md). False when nothing is left to tune
  // (the row is then complete).
  bool observe_many_rank_samples(Row& row, const runlog::TaskLog& resumed, runlog::RunWriter::Task task,
                                 search::TuneOptions& o, search::TaskRecording& rec,
                                 std::vector<runlog::SampleRecord>& observed) {
    observed = runlog::measured_samples(resumed);
    rec.resumed = nullptr;
    // This session's tree replaces the merged one: the ranks' trees no longer add up to it.
    if (!resumed.rank_trees.empty()) writer_->write_rank_trees(task, {});
    for (const runlog::SampleRecord& s : resumed.samples)
      rec.first_index = std::max(rec.first_index, s.index + 1);
    o.budget -= static_cast<int64_t>(observed.size());
    if (o.budget > 0) return true;
    if (!a_.quiet) std::fprintf(stderr, "%s: all its samples are in the trace already\n", row.task.c_str());
    row.outcome.samples = static_cast<int64_t>(observed.size());
    row.outcome.found = resumed.best.has_value();
    if (resumed.best) row.outcome.best = *resumed.best;
    return false;
  }

  // One progress line on stderr: rewritten in place on a terminal, one line each otherwise.
  void show_progress(const search::Progress& p) const {
    if (a_.quiet) return;
    std::string line = search::progress_line(p);
    if (simulate_) line += "  (simulated)";
    if (tty_)
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
    else
      std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
  }

  const TuneArgs& a_;
  const config::TuneConfig& cfg_;
  std::optional<runlog::RunWriter>& writer_;
  const bool simulate_;
  const std::optional<llm::LlmOptions>& llm_opts_;
  const runtime::MeasureOptions mopts_;
  std::unique_ptr<search::Evaluator> evaluator_;
  search::MeasurementCache cache_;
  search::CachedEvaluator cached_;
  const bool tty_;
  double wall_offset_ = 0;
  const std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
  std::vector<TaskRun> tasks_;
  std::optional<database::Database> db_;
  std::string fingerprint_, flags_;  // of this run's measurements (the database's key)
  search::HardwareDescription hardware_;
  std::shared_ptr<search::CostModel> cost_model_;  // shared by every task (null: one each)
};

}  // namespace

namespace {

// A plain run stopped at once (SIGINT, or a second SIGTERM or SIGUSR1) says that the trace keeps
// every sample measured before (each is committed once its measurement ends) and how to continue
// it; the texts are composed before, since a handler may only write.
constexpr int kAtOnceSignals[] = {SIGTERM, SIGUSR1, SIGINT};
std::string g_at_once_text[std::size(kAtOnceSignals)];

extern "C" void plain_run_stopped_at_once(int sig) {
  for (size_t i = 0; i < std::size(kAtOnceSignals); ++i)
    if (kAtOnceSignals[i] == sig)
      (void)!::write(STDERR_FILENO, g_at_once_text[i].data(), g_at_once_text[i].size());
  std::_Exit(dist::stopped_exit_code(sig));
}

void stop_plain_run_on_signals(const std::string& trace) {
  for (size_t i = 0; i < std::size(kAtOnceSignals); ++i)
    g_at_once_text[i] = "\n" + dist::resume_hint(kAtOnceSignals[i], terminal_safe(trace)) + "\n";
  dist::install_stop_signals(plain_run_stopped_at_once, dist::kStopNotice);
}

}  // namespace

int run_tune(const TuneArgs& a) {
  std::optional<dist::MpiSession> mpi;
  if (dist::launched_by_mpi()) mpi.emplace(nullptr, nullptr);
  // Every diagnostic line of a rank of a many-rank run names the rank.
  if (mpi && mpi->size() > 1)
    spdlog::set_pattern("rctune: rank " + std::to_string(mpi->rank()) + ": %^%l%$: %v");
  // Before any file is touched: tasks of one srun step that are not one MPI job would each write
  // the same trace. The step's first task says why; every task stops.
  if (const std::string problem = dist::slurm_launch_problem(mpi ? mpi->size() : 0); !problem.empty()) {
    if (dist::slurm_task_rank() == 0) std::fprintf(stderr, "rctune: error: tune: %s\n", problem.c_str());
    return 2;
  }
  if (mpi && mpi->size() > 1) return run_tune_ranks(a, *mpi);
  ResolvedRun resolved = resolve_run(a);
  stop_plain_run_on_signals(resolved.cfg.out);
  return PlainRun(resolved.args, resolved).run();
}

}  // namespace rctune::apps
