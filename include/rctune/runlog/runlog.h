// The records of a tuning run as they are stored in its HDF5 trace (docs/trace-format.md): run
// metadata, and per task the workload, every sample, the search tree, the best schedule and the
// requests made to language models.
// Writing: rctune/runlog/writer.h. Reading: read_run_log() below.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "rctune/runtime/status.h"

namespace rctune::runlog {

inline constexpr const char* kFormatName = "rctune-trace";  // root attribute "format"
inline constexpr int kFormatVersion = 1;                    // root attribute "format_version"

// A trace file that cannot be created, written, opened or understood. what() names the file and
// the cause ("trace file '/x/run.h5': cannot create: Permission denied").
class RunLogError : public std::runtime_error {
 public:
  RunLogError(const std::string& path, const std::string& what);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Seconds since the Unix epoch, UTC, and its ISO 8601 text ("2026-11-27T16:52:28.123Z").
double unix_now();
std::string iso8601(double unix_seconds);

struct RunInfo {
  std::string config_text;      // the config file, verbatim
  std::string config_path;      // where it was read from ("" if none)
  std::string command_line;     // how the run was started
  std::string version;          // rctune version
  std::string git_commit;       // commit rctune was built from
  std::string host;             // host name of rank 0
  std::string cpu_model;        // /proc/cpuinfo "model name" of rank 0
  std::string execution_space;  // Kokkos default execution space ("OpenMP", "Serial", "Cuda", ...;
                                // "simulated" for rctune tune --simulate)
  std::string strategy;         // search strategy of the run ("mcts", "evolutionary", "random")
  std::string proposer;         // default proposer ("heuristic", "random", "llm")
  uint64_t seed = 0;
  int64_t budget = 0;                // the config's budget: per task under the per_task scheduler, for
                                     // the whole run otherwise (/allocations names it); 0: unknown
  int num_ranks = 1;                 // MPI ranks taking part
  double start_time = 0;             // Unix seconds (UTC)
  double end_time = 0;               // Unix seconds; 0 while the run has not finished
  std::vector<double> resume_times;  // Unix seconds of each RunWriter::open_for_resume
  // The command-line options of the start that a resume reuses besides seed, strategy, proposer and
  // budget (a JSON object: llm_url, llm_model, database, no_database; "" in files written before it).
  std::string start_options;
};

// A RunInfo with version, git commit, host, CPU model and start time (now) of this process filled
// in; the caller adds the config, seed, strategy and execution space.
RunInfo current_run_info();

struct TaskInfo {
  std::string name;              // workload name, unique in the run ("matmul_512x512x512")
  std::string workload;          // the workload's specification text
  double weight = 1;             // how often the workload occurs in the model(s) it came from
  double flops = 0;              // floating-point operations per kernel run (0: unknown)
  double reference_seconds = 0;  // median time of the unscheduled kernel (0: not measured)
  double reference_gflops = 0;   // flops / reference_seconds * 1e-9 (0: unknown)
  // "" when the unscheduled kernel was measured on the workload itself; else how its time was
  // estimated, e.g. "M=7 of 128, time x 18.29" (a smaller instance, ir::reduced_operator).
  std::string reference_estimate;
  // The library baseline (runtime/library_baseline.h): the vendor routine that computes the same
  // workload, as measured in the run. "" and 0 when none applies or it was not measured.
  std::string library_name;    // "openblas_sgemm", "openblas_im2col_sgemm", ...
  double library_seconds = 0;  // its median time per run
  double library_gflops = 0;   // flops / library_seconds * 1e-9
  // "" when the baselines (unscheduled kernel, library routine) were measured in this run; else where
  // their times came from, e.g. "tuning database, recorded 2026-12-07T14:31:02Z".
  std::string baselines_source;
};

// How a sample ended: the measurement's status, or Illegal for a proposal the schedule primitives
// rejected (recorded with its error but not measured).
using SampleStatus = runtime::Status;
// "ok", ..., "wrong_result", "illegal"
inline const char* sample_status_name(SampleStatus s) { return runtime::status_name(s); }
// Throws std::invalid_argument for an unknown name.
inline SampleStatus parse_sample_status(const std::string& name) { return runtime::parse_status(name); }

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One sample: a candidate proposed, lowered, compiled and measured (or rejected).
struct SampleRecord {
  int64_t index = 0;             // sample number in the run (0-based, increasing within a task)
  double wall_time = 0;          // seconds since the run started (across resumes)
  int32_t rank = 0;              // MPI rank that measured it
  std::string strategy;          // "mcts", "evolutionary", "random", ...
  std::string proposer;          // "heuristic", "random", "llm", "design_space", ...
  int64_t node = -1;             // search-tree node of this candidate (-1: none)
  int64_t parent_node = -1;      // tree node it was derived from (-1: none)
  std::string trace;             // schedule trace text, replayable
  std::string rationale;         // the proposer's one-line reason ("" if none)
  uint64_t structural_hash = 0;  // of the lowered program
  SampleStatus status = SampleStatus::Ok;
  std::string error;       // "" for ok
  bool cached = false;     // measurement reused from an equal program measured before
  double median_s = kNaN;  // seconds per kernel run; NaN unless ok
  double min_s = kNaN, max_s = kNaN, iqr_s = kNaN;
  double gflops = kNaN;                        // NaN unless ok
  double predicted = kNaN;                     // cost-model score at the time it was chosen (NaN: none)
  double compile_s = 0;                        // compile wall time spent on it (0 if cached)
  bool operator==(const SampleRecord&) const;  // NaN equals NaN here
};

struct TreeNode {
  int64_t id = 0;
  int64_t parent = -1;  // -1 for the root
  std::string action;   // the transformations on the edge from the parent, trace text
  int64_t visits = 0;
  double value = 0;              // accumulated value (mean = value / visits)
  double best_gflops = kNaN;     // best measured GFLOP/s in the subtree (NaN: none measured)
  int64_t sample = -1;           // sample index that measured this node (-1: not measured)
  uint64_t structural_hash = 0;  // of the node's program (0: unknown; files written before this column)
  bool operator==(const TreeNode&) const;
};

struct BestSchedule {
  int64_t sample = -1;   // index of the sample that measured it
  double wall_time = 0;  // seconds since the run started, when it was found
  std::string trace;     // replayable schedule trace
  std::string program;   // the scheduled program as pseudo-code ("" if not kept)
  double gflops = 0;
  double median_s = 0;
  double speedup = 0;  // over the unscheduled kernel (0: unknown)
};

// One request to a language model (the LLM proposer), for cost and fallback accounting.
struct LlmCallRecord {
  int64_t index = 0;     // call number within the task (increasing)
  double wall_time = 0;  // seconds since the run started
  int32_t rank = 0;
  int64_t node = -1;  // the tree node whose expansion asked
  std::string model;  // the model's name in the config
  int64_t prompt_tokens = 0, completion_tokens = 0;
  double latency_s = 0, cost_usd = 0;
  bool ok = false;                              // an answer came back
  bool from_cache = false;                      // answered from the response cache
  bool fallback = false;                        // the heuristic proposer answered instead
  int32_t proposals = 0;                        // proposals parsed from the answer
  int32_t legal = 0;                            // of those, legal
  std::string error;                            // why it failed or fell back ("" otherwise)
  bool operator==(const LlmCallRecord&) const;  // NaN equals NaN here
};

// What one MPI rank did in the run's current session (the table /ranks, replaced as a whole by
// RunWriter::write_rank_stats).
struct RankStats {
  int32_t rank = 0;
  std::string host;
  int32_t group = 0;      // task group the rank belongs to
  int32_t node_rank = 0;  // its rank among the ranks on the same node
  int32_t pin_core = -1;  // core its measurement worker is pinned to (-1: none)
  int64_t samples = 0;    // samples it measured in this session
  double wall_s = 0;      // seconds from its start to its end
  double search_s = 0;    // in the search (select, expand, predict, propose)
  double measure_s = 0;   // compiling and running kernels (or simulating them)
  double comm_s = 0;      // waiting for MPI: sending samples, synchronising, waiting for LLM
                          // answers or the next task
  double merge_s = 0;     // merging statistics and trees
  bool operator==(const RankStats&) const;  // NaN equals NaN here
};

// One allocation of a run's task scheduler (search/task_scheduler.h): which task got the next
// round of samples, why, and where the model stood after it (the table /allocations, one row per
// round, appended as each round ends).
struct AllocationRecord {
  int64_t round = 0;       // 0, 1, 2, ... in the order the rounds were handed out
  double wall_time = 0;    // seconds since the run started, when the round ended
  int32_t group = 0;       // rank group that tuned it (0 in a one-process run)
  std::string task;        // the task's name
  std::string scheduler;   // the policy that decided: "gradient", "round_robin", "per_task"
  std::string reason;      // why this task: "first round", "largest expected gain", ...
  double priority = 0;     // the policy's score of the task when chosen (gradient: expected drop of
                           // the model's latency per sample, seconds; 0 for the other policies)
  int64_t samples = 0;     // samples handed out
  int64_t spent = 0;       // samples the task measured in the round (fewer: its search ran out)
  double task_best_s = 0;  // the task's best kernel time after the round (0: none correct yet)
  double latency_s = 0;    // estimated model latency after the round: sum over tasks of weight x
                           // best time (the unscheduled kernel's time for a task without one)
  bool operator==(const AllocationRecord&) const;  // NaN equals NaN here
};

struct TaskLog {
  TaskInfo info;
  std::string group;  // HDF5 group path, "/tasks/<sanitised name>"
  std::vector<SampleRecord> samples;
  std::vector<TreeNode> tree;
  std::optional<BestSchedule> best;        // the latest best (best_history.back())
  std::vector<BestSchedule> best_history;  // every write_best, in order
  std::vector<LlmCallRecord> llm_calls;    // every append_llm_calls, in order (empty: none)
  // Each rank's own tree (many-rank runs; empty otherwise), by rank; `tree` is their merge.
  std::map<int32_t, std::vector<TreeNode>> rank_trees;
};

struct RunLog {
  std::string path;
  int format_version = 0;
  RunInfo info;
  std::vector<TaskLog> tasks;    // in the order they were begun
  std::vector<RankStats> ranks;  // the /ranks table (empty: none, e.g. files written before it existed)
  std::vector<AllocationRecord> allocations;  // the /allocations table, in round order (empty: none)
  bool finished() const { return info.end_time > 0; }
  const TaskLog* task(const std::string& name) const;  // nullptr if absent
};

// The samples of a task that were measured (every status but Illegal), in index order.
std::vector<SampleRecord> measured_samples(const TaskLog& t);

// Reads a whole trace. A file left by a killed run reads as far as it was flushed. Throws
// RunLogError when the file is missing, not HDF5, not an rctune trace, or of a newer version.
RunLog read_run_log(const std::string& path);

// The HDF5 group name of a task: its name with every character outside [A-Za-z0-9_.+-] replaced
// by '_' (and "task" for an empty name). Writers add "~2", "~3", ... when two names collide.
std::string sanitize_task_name(const std::string& name);

}  // namespace rctune::runlog
