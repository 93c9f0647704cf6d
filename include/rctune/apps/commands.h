// The subcommands of `rctune`, one file each under src/apps/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rctune/ir/workload.h"
#include "rctune/runtime/evaluate.h"

namespace rctune::apps {

struct ShowArgs {
  std::string workload;
  std::string trace_file;
  std::string schedule_text;
  bool print_source = false;
  bool print_reference = false;
};

struct BenchArgs {
  std::string workload;
  std::string trace_file;
  std::string schedule_text;
  std::string examples_dir;
  std::string cache_dir;
  std::string flags;
  double min_time_s = 0.2;
  std::string pin_core = "auto";  // auto (last allowed core), none, or a core number
  bool flush_cache = false;
  uint64_t seed = 1;
  double timeout_s = 60;
  std::string format = "table";
  bool check_only = false;  // correctness check only, no timing
};

struct ReportArgs {
  std::vector<std::string> trace_files;  // the runs' HDF5 traces: one, or several side by side
  std::string format = "table";          // table, csv or json
};

struct PlotArgs {
  std::vector<std::string> trace_files;  // the runs' HDF5 traces
  std::string out;                       // the directory the figures go to
  std::vector<std::string> tasks;        // only these tasks (empty: all)
  std::string format = "png";            // png, svg or pdf
  int max_tree_nodes = 40;               // nodes drawn of a search tree
};

// Draws the figures of one or more traces with the Python package python/rctune_analysis
// (docs/analysis.md), run by /usr/bin/python3 or $RCTUNE_PYTHON.
int run_plot(const PlotArgs& a);

struct TuneArgs {
  std::string config;       // the run config (YAML); may be empty with --resume FILE
  std::string out;          // overrides the config's out
  int64_t budget = -1;      // overrides the config's budget (-1: keep)
  std::string strategy;     // overrides (empty: keep)
  std::string proposer;     // overrides (empty: keep)
  int64_t seed = -1;        // overrides (-1: keep)
  bool resume = false;      // continue the trace file instead of starting a new one
  bool resume_or_start = false;  // continue the config's trace when it exists, else start it
  std::string resume_file;  // the trace to continue (empty: the config's out)
  bool quiet = false;       // no progress lines
  bool force = false;       // replace an existing trace of another run (never a file that is not a trace)
  bool simulate = false;  // simulated measurement (search/simulated_evaluator.h): nothing is compiled or run
  std::string llm_url;    // replaces the first LLM endpoint's URL
  std::string llm_model;  // replaces the first LLM endpoint's model
  std::string cache_dir;  // the kernel cache (empty: $XDG_CACHE_HOME/rctune); never from a config
  std::string database;   // the tuning database (empty: the config's, else the default one)
  bool no_database = false;  // neither read nor write a tuning database
  std::string command_line;  // recorded in the trace
};

int run_tune(const TuneArgs& a);

struct ExtractArgs {
  std::string model;              // the ONNX file
  std::string out;                // the run config to write ("": print it)
  int64_t batch = 0;              // binds the common batch names (0: not given)
  int64_t seq = 0;                // binds the common sequence names (0: not given)
  std::vector<std::string> dims;  // NAME=VALUE, each binding one symbolic dimension
};

// Writes the run config of an ONNX model's distinct workloads (docs/models.md) and prints a summary.
int run_extract(const ExtractArgs& a);

struct DbArgs {
  std::string database;  // the database directory ("": database::default_database_dir())
  std::string command;   // list, show, export, merge or prune
  std::string workload;  // show: an operator spec, a workload key or a workload file
  std::string hardware;  // show: only hardware ids starting with this
  std::string out;       // export: the file to write
  std::string format;    // export: jsonl or csv ("": from the extension of out, .csv for CSV)
  std::string other;     // merge: the database to import
  int64_t keep = 8;      // prune: the fastest records kept per key
};

// The tuning database's subcommands (docs/database.md, docs/cli.md "rctune db").
int run_db(const DbArgs& a);

struct ExportArgs {
  std::vector<std::string> sources;  // runs' traces (.h5), or one tuning database directory
  std::string out;                // the package directory to write
  std::string name = "rctune_kernels";
  std::vector<std::string> tasks;  // task names (trace) or workload specs/keys (database); empty: all
  std::string target = "host";     // host or cuda
  std::string hardware;            // database: the machine's fingerprint id or a prefix ("": this host)
};

// Writes a CMake package of the best kernel of each task (docs/deploy.md, include/rctune/package/package.h).
int run_export(const ExportArgs& a);

struct LlmCheckArgs {
  std::string config;
  std::string llm_url;
  std::string llm_model;
};

int run_llm_check(const LlmCheckArgs& a);
int run_show(const ShowArgs& a);
int run_bench(const BenchArgs& a);
int run_bench_examples(const BenchArgs& a);
int run_operators();
// Summarises a tuning run's trace per task (docs/cli.md, "rctune report"); throws
// runlog::RunLogError for a file that is missing or not an rctune trace.
int run_report(const ReportArgs& a);

// Helpers shared by the subcommands.
// A text file a user names (config::read_input_file: regular files up to 16 MiB); `what` names its
// role in messages.
std::string read_text_file(const std::string& path, const std::string& what);
// The schedule text of --trace FILE or --schedule TEXT (where ';' separates steps); empty if neither.
std::string schedule_text_of(const std::string& trace_file, const std::string& schedule_text);
// Applies the schedule text to the workload; an illegal schedule becomes a std::runtime_error
// that names where the text came from (the trace file, or --schedule).
runtime::ScheduledProgram program_or_explain(const ir::Workload& w, const std::string& text,
                                             const std::string& trace_file);
// The workload an example schedule file names in its header line "# workload: SPEC"; the header's
// line number (1-based) goes to *line_number when given.
std::string example_workload(const std::string& sched_text, const std::string& path,
                             int* line_number = nullptr);

}  // namespace rctune::apps
