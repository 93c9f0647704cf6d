#include "rctune/apps/cli.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "rctune/apps/commands.h"
#include "rctune/apps/terminal_text.h"
#include "rctune/build_config.h"
#include "rctune/config/input_file.h"
#include "rctune/config/limits.h"
#include "rctune/model/onnx_graph.h"

namespace rctune::apps {

std::string read_text_file(const std::string& path, const std::string& what) {
  return config::read_input_file(path, what);
}

namespace {

// Command-line values get the checks the config's values get (rctune/config/limits.h): a bad value
// is a parse error naming the option.
CLI::Validator integer_in(config::IntRange r) {
  return CLI::Validator([r](std::string& s) { return config::integer_error(s, r); }, "", "integer range");
}
CLI::Validator number_in(config::RealRange r) {
  return CLI::Validator([r](std::string& s) { return config::number_error(s, r); }, "", "number range");
}
CLI::Validator url_value() {
  return CLI::Validator([](std::string& s) { return config::url_error(s); }, "", "URL");
}
CLI::Validator not_empty() {
  return CLI::Validator([](std::string& s) { return s.empty() ? std::string("the value is empty") : ""; }, "",
                        "not empty");
}
// An option whose value is any text but the empty one (a path, a model name).
CLI::Option* add_text(CLI::App* cmd, const std::string& name, std::string& value, const std::string& help) {
  return cmd->add_option(name, value, help)->check(not_empty());
}
CLI::Validator pin_core_value() {
  return CLI::Validator([](std::string& s) { return config::pin_core_error(s); }, "", "core");
}

// A command-line error: `rctune: error: ...` and the help to read, exit status 2 (--help and
// --version still exit 0).
int parse_error(CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
  std::string command = "rctune";
  for (const CLI::App* sub = &app; !sub->get_subcommands().empty();) {
    sub = sub->get_subcommands().front();
    command += " " + sub->get_name();
  }
  std::cerr << "rctune: error: " << terminal_safe(e.what()) << "\nrun `" << command
            << " --help` for the options\n";
  return 2;
}

// Diagnostics (warnings, and with --log-level info or debug the events of a run) go through spdlog
// to stderr, one line per event: "rctune: warning: ...", "rctune: rank 2: debug: ..." in a
// many-rank run (dist/run.cpp names the rank). Colours only on a terminal: plain text in a log.
void configure_diagnostics(const std::string& level) {
  auto logger = std::make_shared<spdlog::logger>(
      "rctune", std::make_shared<spdlog::sinks::stderr_color_sink_mt>(spdlog::color_mode::automatic));
  spdlog::set_default_logger(std::move(logger));
  spdlog::set_pattern("rctune: %^%l%$: %v");
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::trace);
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"rctune: tunes tensor kernels by searching schedules of their loop nests", "rctune"};
  app.set_version_flag("--version", std::string(RCTUNE_VERSION) + " (" + RCTUNE_GIT_COMMIT + ")");
  app.require_subcommand(1);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();

  ShowArgs show;
  auto* show_cmd = app.add_subcommand("show", "print a workload's loop nest before and after a schedule");
  show_cmd->add_option("workload", show.workload, "operator spec (matmul:M=512,N=512,K=512) or workload file")
      ->required();
  auto* st = show_cmd->add_option("--trace", show.trace_file, "schedule trace file");
  show_cmd
      ->add_option("--schedule", show.schedule_text, "schedule trace text (steps separated by ; or newlines)")
      ->excludes(st);
  show_cmd->add_flag("--source", show.print_source, "also print the generated Kokkos source");
  show_cmd->add_flag("--reference", show.print_reference, "also print the reference kernel source");

  BenchArgs bench;
  auto* bench_cmd = app.add_subcommand("bench", "generate, compile, check and time one scheduled kernel");
  bench_cmd->add_option("workload", bench.workload, "operator spec or workload file");
  auto* bt = bench_cmd->add_option("--trace", bench.trace_file, "schedule trace file");
  bench_cmd
      ->add_option("--schedule", bench.schedule_text,
                   "schedule trace text (steps separated by ; or newlines)")
      ->excludes(bt);
  bench_cmd->add_option("--examples", bench.examples_dir,
                        "run every example schedule (*.sched) in this directory and print a table");
  bench_cmd->add_option("--cache-dir", bench.cache_dir, "kernel cache (default $XDG_CACHE_HOME/rctune)");
  bench_cmd->add_option("--flags", bench.flags, "compiler flags for the kernel")
      ->default_str(RCTUNE_JIT_FLAGS);
  bench_cmd->add_option("--min-time", bench.min_time_s, "time each kernel at least this long (s)")
      ->check(number_in(config::limits::kMinTime))
      ->capture_default_str();
  bench_cmd
      ->add_option("--pin-core", bench.pin_core,
                   "core the worker pins itself to: auto (the last core), none, or N")
      ->check(pin_core_value())
      ->capture_default_str();
  bench_cmd->add_flag("--flush-cache", bench.flush_cache, "flush the caches before each timed run");
  bench_cmd->add_option("--seed", bench.seed, "seed of the random inputs")
      ->check(integer_in(config::limits::kSeed))
      ->capture_default_str();
  bench_cmd->add_option("--timeout", bench.timeout_s, "seconds a kernel may run before it is killed")
      ->check(number_in(config::limits::kTimeout))
      ->capture_default_str();
  bench_cmd->add_flag("--check-only", bench.check_only,
                      "check correctness against the reference, do not time");
  bench_cmd->add_option("--format", bench.format, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

  auto* ops_cmd = app.add_subcommand("operators", "list the operator library with parameters");

  TuneArgs tune;
  auto* tune_cmd = app.add_subcommand("tune", "tune every task of a run config; writes one HDF5 trace");
  tune_cmd->add_option("config", tune.config, "run config (YAML, docs/config.md)");
  tune_cmd->add_option("--out", tune.out, "the run's HDF5 trace (overrides the config's out)")
      ->check(
          [](const std::string& v) { return v.empty() ? std::string("must not be empty") : std::string(); });
  tune_cmd
      ->add_option("--budget", tune.budget,
                   "samples: the run's total, or per task under scheduler per_task (overrides the config)")
      ->check(integer_in(config::limits::kBudget));
  tune_cmd->add_option("--strategy", tune.strategy, "mcts, evolutionary or random")
      ->check(CLI::IsMember({"mcts", "evolutionary", "random"}));
  tune_cmd->add_option("--proposer", tune.proposer, "heuristic, random or llm")
      ->check(CLI::IsMember({"heuristic", "random", "llm"}));
  tune_cmd->add_option("--seed", tune.seed, "seed of every random decision (overrides the config)")
      ->check(integer_in(config::limits::kSeed));
  auto* resume_opt = tune_cmd->add_option("--resume", tune.resume_file,
                                          "continue this trace (default: the config's out) without measuring "
                                          "its samples again");
  resume_opt->expected(0, 1);
  tune_cmd
      ->add_flag("--resume-or-start", tune.resume_or_start,
                 "continue the config's trace when it exists, else start it (a job script that runs the same "
                 "command on every requeue); the config key resume_or_start does the same")
      ->excludes(resume_opt);
  add_text(tune_cmd, "--cache-dir", tune.cache_dir,
           "kernel cache (default $XDG_CACHE_HOME/rctune); a config cannot set it");
  auto* db_opt =
      add_text(tune_cmd, "--database", tune.database,
               "tuning database DIR (default: the config's database, else $RCTUNE_DATABASE, else "
               "$XDG_DATA_HOME/rctune/database): tasks start from its records, and the run's fastest "
               "schedules of each task are stored there");
  tune_cmd->add_flag("--no-database", tune.no_database, "neither read nor write a tuning database")
      ->excludes(db_opt);
  tune_cmd->add_flag("--quiet", tune.quiet, "no progress lines");
  tune_cmd->add_flag(
      "--force", tune.force,
      "replace the trace at the out path if it holds another run's (never a file that is not a "
      "trace, nor a trace a running run writes)");
  tune_cmd->add_flag("--simulate", tune.simulate,
                     "simulated measurement: a deterministic synthetic GFLOP/s per program instead of "
                     "compiling and running it (docs/search.md)");
  tune_cmd
      ->add_option("--llm-url", tune.llm_url,
                   "base URL of the LLM endpoint (replaces the config's first model's)")
      ->check(url_value());
  add_text(tune_cmd, "--llm-model", tune.llm_model,
           "model name at the LLM endpoint (replaces the config's first)");

  LlmCheckArgs llm_check;
  auto* llm_check_cmd = app.add_subcommand(
      "llm-check", "send one prompt of a config's first task to its model; show the answer");
  llm_check_cmd->add_option("config", llm_check.config, "run config with an llm section")->required();
  llm_check_cmd
      ->add_option("--llm-url", llm_check.llm_url, "base URL of the endpoint (replaces the config's)")
      ->check(url_value());
  add_text(llm_check_cmd, "--llm-model", llm_check.llm_model, "model name (replaces the config's)");

  ReportArgs report;
  auto* report_cmd = app.add_subcommand(
      "report", "summarise a tuning run's trace file, task by task (several traces: side by side)");
  report_cmd->add_option("files", report.trace_files, "the runs' HDF5 traces (run.h5 ...)")->required();
  report_cmd->add_option("--format", report.format, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();

  PlotArgs plot;
  auto* plot_cmd = app.add_subcommand(
      "plot", "draw figures of one or more traces: convergence, samples, ranks, tree (docs/analysis.md)");
  plot_cmd->add_option("files", plot.trace_files, "the runs' HDF5 traces (run.h5 ...)")->required();
  add_text(plot_cmd, "--out", plot.out, "the directory the figures are written to (created if missing)")
      ->required();
  // Not split here: task names hold commas (matmul:M=64,N=64,K=64); the package matches the pieces.
  plot_cmd->add_option("--tasks", plot.tasks,
                       "only these tasks: names or HDF5 group names, comma-separated (repeatable)");
  plot_cmd->add_option("--format", plot.format, "png, svg or pdf")
      ->check(CLI::IsMember({"png", "svg", "pdf"}))
      ->capture_default_str();
  plot_cmd->add_option("--max-tree-nodes", plot.max_tree_nodes, "nodes drawn of a task's search tree")
      ->check(integer_in({2, 10000}))
      ->capture_default_str();

  ExtractArgs extract;
  constexpr config::IntRange kModelDim{1, model::ModelLimits{}.max_dim};
  auto* extract_cmd = app.add_subcommand(
      "extract", "write a run config of an ONNX model's distinct workloads (docs/models.md)");
  extract_cmd->add_option("model", extract.model, "the ONNX model file")->required();
  add_text(extract_cmd, "--out", extract.out, "the run config to write (default: print it)");
  extract_cmd
      ->add_option("--batch", extract.batch, "binds the batch dimension names (batch, batch_size, N, ...)")
      ->check(integer_in(kModelDim));
  extract_cmd
      ->add_option("--seq", extract.seq, "binds the sequence dimension names (seq, sequence, seq_len, ...)")
      ->check(integer_in(kModelDim));
  extract_cmd->add_option("--dim", extract.dims, "NAME=VALUE: binds one symbolic dimension (repeatable)");

  DbArgs db;
  constexpr config::IntRange kDbKeep{1, 1'000'000};
  auto* db_cmd = app.add_subcommand("db", "inspect and maintain the tuning database (docs/database.md)");
  db_cmd->require_subcommand(1);
  db_cmd->fallthrough();  // --database after the db subcommand's name too
  add_text(db_cmd, "--database", db.database,
           "the database directory (default $RCTUNE_DATABASE, else $XDG_DATA_HOME/rctune/database)");
  db_cmd->add_subcommand("list", "one line per workload, hardware and flags: best GFLOP/s, records");
  auto* db_show =
      db_cmd->add_subcommand("show", "the records of one workload, fastest first, with schedules");
  db_show->add_option("workload", db.workload, "operator spec, workload key (workload:HASH) or workload file")
      ->required();
  db_show->add_option("--hardware", db.hardware, "only hardware whose id starts with this");
  auto* db_export = db_cmd->add_subcommand("export", "write every record to one JSON-lines or CSV file");
  db_export->add_option("--out", db.out, "the file to write (.csv: CSV, else JSON lines)")
      ->required()
      ->check(not_empty());
  db_export->add_option("--format", db.format, "jsonl or csv (default: from the --out extension)")
      ->check(CLI::IsMember({"jsonl", "csv"}));
  auto* db_merge = db_cmd->add_subcommand("merge", "import the records of another database (deduplicated)");
  db_merge->add_option("other", db.other, "the other database's directory")->required()->check(not_empty());
  auto* db_prune =
      db_cmd->add_subcommand("prune", "keep the fastest records per key; compact finished files");
  db_prune->add_option("--keep", db.keep, "records kept per key")
      ->check(integer_in(kDbKeep))
      ->capture_default_str();

  ExportArgs exp;
  auto* export_cmd = app.add_subcommand(
      "export", "write the best kernel of each task as a CMake package a program links (docs/deploy.md)");
  export_cmd
      ->add_option("sources", exp.sources,
                   "the traces (.h5) of one or more runs (the tasks of several models), or one tuning "
                   "database directory")
      ->required();
  add_text(export_cmd, "--out", exp.out, "the package directory to write (new, empty, or an earlier export)")
      ->required();
  export_cmd
      ->add_option("--name", exp.name, "the package's name: namespace, header, CMake package and target")
      ->capture_default_str();
  export_cmd
      ->add_option("--tasks", exp.tasks,
                   "only these tasks (trace: task names; database: workload specs or keys), comma-separated")
      ->delimiter(',');
  export_cmd->add_option("--target", exp.target, "host (Serial/OpenMP kernels) or cuda (Kokkos CUDA kernels)")
      ->check(CLI::IsMember({"host", "cuda"}))
      ->capture_default_str();
  add_text(export_cmd, "--hardware", exp.hardware,
           "database: records of this machine (fingerprint id or a prefix; default: this host)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return parse_error(app, e);
  }
  configure_diagnostics(log_level);

  try {
    if (show_cmd->parsed()) return run_show(show);
    if (bench_cmd->parsed()) {
      if (bench.examples_dir.empty() && bench.workload.empty()) {
        std::cerr << "rctune: error: bench: give a WORKLOAD or --examples DIR\n";
        return 2;
      }
      return bench.examples_dir.empty() ? run_bench(bench) : run_bench_examples(bench);
    }
    if (ops_cmd->parsed()) return run_operators();
    if (report_cmd->parsed()) return run_report(report);
    if (plot_cmd->parsed()) return run_plot(plot);
    if (extract_cmd->parsed()) return run_extract(extract);
    if (export_cmd->parsed()) return run_export(exp);
    if (llm_check_cmd->parsed()) return run_llm_check(llm_check);
    if (db_cmd->parsed()) {
      db.command = db_cmd->get_subcommands().front()->get_name();
      return run_db(db);
    }
    if (tune_cmd->parsed()) {
      tune.resume = resume_opt->count() > 0;
      for (int i = 0; i < argc; ++i) tune.command_line += (i ? " " : "") + std::string(argv[i]);
      return run_tune(tune);
    }
  } catch (const std::exception& e) {
    std::cerr << "rctune: error: " << terminal_safe(e.what()) << "\n";
    return 2;
  }
  return 0;
}

}  // namespace rctune::apps
