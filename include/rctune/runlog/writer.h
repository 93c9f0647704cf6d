// Writes one tuning run to one HDF5 trace file (docs/trace-format.md), as the run goes.
//
// Every call that changes the file is a commit that returns once its data is on disk, written in an
// order that keeps what was committed before readable (docs/trace-format.md, "Writing, crashes and
// resume"): a process killed at any moment (SIGKILL included) leaves a file with every sample
// whose append_sample() had returned. Resume with RunWriter::open_for_resume(), which repairs and
// reads back everything written so far, so that the search continues without measuring a sample
// again.
//
// Single writer: rank 0 writes for all ranks. Not thread-safe; one RunWriter per file. From create
// or open_for_resume to its destruction a writer holds a lock on the file (an OFD lock, kept
// through the close and reopen of the file at the end of each commit): another writer (a second run
// with the same path, a resume, a --force) is refused before it writes a byte, with the pid of the
// run that writes. Read a running trace with HDF5_USE_FILE_LOCKING=FALSE (and expect to retry if a
// read meets a commit half-way); a process that holds it open with HDF5's lock makes the writer's
// next commit fail. A reopen that finds another file under the path (replaced or removed) fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rctune/runlog/runlog.h"

namespace rctune::runlog {

class RunWriter {
 public:
  using Task = std::size_t;  // a task of this writer, from begin_task() or find_task()

  // Creates `path` and writes the run attributes. An existing file is never truncated: where
  // `path` exists, create() throws RunLogError, unless it holds an rctune trace that no process is
  // writing and `replace` is set (--force); then the new trace is written beside it under a
  // temporary name and renamed over it. A file that is not an rctune trace, a directory or a
  // symbolic link is never replaced. Throws RunLogError naming the file and the cause (directory
  // missing, not writable, disk full, another run writing it (with its pid), ...).
  static RunWriter create(const std::string& path, const RunInfo& info, bool replace = false);

  // Opens an existing trace to continue it: everything in it is read back (resumed()), a resume
  // time is recorded, and samples/trees/bests/LLM calls can be added to old and new tasks. A last
  // sample, LLM call or allocation that a crash left unreadable is dropped, and rows a killed commit left
  // beyond the end of a table are cleared (docs/trace-format.md). Throws RunLogError if the file is
  // missing, not an rctune trace, of an unknown format version, not writable, being written by
  // another run, or when a task's sample or LLM call indices, or the allocations' rounds, do not
  // increase row by row (a file rctune did not write so: resuming would drop or measure again rows
  // after the first out of order).
  //
  // `accept`, when given, is called with what was read before anything is written: a resume it
  // refuses (by throwing) leaves the file as it was (but for a short end-of-allocation mark that a
  // killed writer left, which is repaired in the superblock to read the file).
  static RunWriter open_for_resume(const std::string& path,
                                   const std::function<void(const RunLog&)>& accept = nullptr);

  RunWriter(RunWriter&&) noexcept;
  RunWriter& operator=(RunWriter&&) noexcept;
  ~RunWriter();  // closes the file (without finishing the run); never throws

  const std::string& path() const;
  const RunInfo& info() const;
  // For open_for_resume: the file's contents when it was opened. For create: an empty run.
  const RunLog& resumed() const;

  // Starts a task, or returns the task of that name already in the file (after a resume). Throws
  // std::invalid_argument if a task of that name exists with a different workload text.
  Task begin_task(const TaskInfo& task);
  // The task of that name, if begun (in this session or before a resume).
  std::optional<Task> find_task(const std::string& name) const;
  const TaskInfo& task_info(Task t) const;
  std::size_t num_samples(Task t) const;
  // Sets the unscheduled kernel's time (and GFLOP/s) once it is measured.
  // `estimate`: TaskInfo::reference_estimate ("" for a measurement of the workload itself).
  void set_reference(Task t, double reference_seconds, double reference_gflops,
                     const std::string& estimate = "");
  // Sets the library baseline (the routine's name, its median time and GFLOP/s) once it is measured.
  void set_library(Task t, const std::string& name, double seconds, double gflops);
  // Where the baselines came from when they were not measured in this run (TaskInfo::baselines_source).
  void set_baselines_source(Task t, const std::string& source);

  // Appends one sample (or a batch) to the task's samples table and flushes. Sample indices must
  // increase within a task (std::invalid_argument otherwise: a sample recorded twice).
  void append_sample(Task t, const SampleRecord& s);
  void append_samples(Task t, std::span<const SampleRecord> s);

  // Replaces the task's tree with `nodes` and flushes. Rows whose id, parent, action and
  // structural hash are unchanged are updated in place, so writing a growing tree often is cheap.
  void write_tree(Task t, const std::vector<TreeNode>& nodes);

  // Replaces the task's best schedule and flushes.
  void write_best(Task t, const BestSchedule& best);

  // Appends requests made to language models to the task's llm_calls table (created by the first
  // call) and flushes. Call indices must increase within a task (std::invalid_argument otherwise:
  // a call recorded twice).
  void append_llm_calls(Task t, std::span<const LlmCallRecord> calls);

  // Replaces the task's rank_trees table with `trees` (rank -> that rank's own tree, its nodes in
  // id order) and flushes: in a many-rank run each rank grows its own tree of the task, and
  // write_tree stores their merge. After a resume, resumed().tasks[...].rank_trees holds what was
  // stored before.
  void write_rank_trees(Task t, const std::map<int32_t, std::vector<TreeNode>>& trees);

  // Appends rounds of the run's task scheduler to the root table /allocations (created by the first
  // call) and flushes: one row per round, appended as each round ends. Rounds must increase across
  // calls, and across a resume (after the last round stored in the file): std::invalid_argument
  // naming the file otherwise (a round recorded twice), and nothing of the batch is written.
  // After a resume, resumed().allocations holds the rounds stored before.
  void append_allocations(std::span<const AllocationRecord> rows);

  // Replaces the per-rank statistics table (/ranks) with `ranks` and flushes. After a resume,
  // resumed().ranks holds what was stored before.
  void write_rank_stats(const std::vector<RankStats>& ranks);

  // Records a new budget for the run (a resume with --budget).
  void set_budget(int64_t budget);
  // Records new start options (RunInfo::start_options: a resume that changes one).
  void set_start_options(const std::string& options);
  // Records the end time, flushes and closes the file. Further calls throw std::logic_error.
  void finish(double end_time = unix_now());
  bool is_open() const;

 private:
  struct Impl;
  explicit RunWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rctune::runlog
