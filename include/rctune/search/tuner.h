// Tunes one task: asks a search strategy for batches of candidates, measures them through an
// Evaluator, trains the cost model on every result, records every sample (and every rejected
// proposal) in the run's trace as it arrives, keeps the best schedule and reports progress.
//
// Resume: given the samples a previous run of the same task recorded, the tuner makes the same
// decisions again (same seed) and takes each recorded result instead of measuring, so no sample is
// measured twice; when the replay reaches the end of the record it goes on measuring.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rctune/runlog/writer.h"
#include "rctune/search/cost_model.h"
#include "rctune/search/evaluator.h"
#include "rctune/search/evolutionary.h"
#include "rctune/search/mcts.h"
#include "rctune/search/proposer.h"

namespace rctune::search {

struct TuneOptions {
  std::string strategy = "mcts";       // mcts | evolutionary | random
  std::string proposer = "heuristic";  // heuristic | random (MCTS only)
  uint64_t seed = 1;
  int64_t budget = 64;    // samples (measurements) of the task
  int measure_batch = 6;  // candidates per round (MCTS); evolutionary uses evolutionary.measure_batch
  MctsOptions mcts;
  EvolutionaryOptions evolutionary;
  CostModelOptions cost_model;
  bool use_cost_model = true;  // false: the analytic score only
  int32_t rank = 0;            // recorded with each sample
  // The machine the kernels are tuned for (design space, cost model, prompts). Unset: this host.
  std::optional<HardwareDescription> hardware;
  // One cost model for every task of a run (MetaSchedule's): each task's session trains it with its
  // samples (normalised per task) and starts from what the tasks before taught it. Null: a model
  // of the task's own.
  std::shared_ptr<CostModel> shared_cost_model;
};

struct Progress {
  std::string task;
  int64_t done = 0;  // samples measured (including replayed ones)
  int64_t budget = 0;
  int64_t failures = 0;  // measured samples that were not ok
  int64_t illegal = 0;   // rejected proposals
  int64_t cached = 0;    // samples whose program had been measured before
  double best_gflops = 0;
  double best_speedup = 0;  // over the unscheduled kernel (0: unknown)
  double elapsed_s = 0;
  double eta_s = -1;  // -1: unknown
};

struct TaskOutcome {
  int64_t samples = 0;   // measured samples (replayed included)
  int64_t replayed = 0;  // taken from the resumed trace
  int64_t failures = 0;
  int64_t illegal = 0;
  bool found = false;  // a correct schedule was measured
  runlog::BestSchedule best;
  std::vector<double> best_curve;  // best GFLOP/s after each measured sample (0 before the first ok)
  std::vector<runlog::SampleRecord> records;  // every record of this session (replayed ones excluded)
  int64_t observed = 0;  // results learnt from other ranks or a previous session (no sample spent)
  double search_s = 0;   // wall seconds in the strategy, proposers and cost model
  double measure_s = 0;  // wall seconds measuring (the evaluator)
  ProposerFailures proposer_failures;  // what the MCTS proposer dropped, by cause (none for other strategies)
};

// What the other ranks of a task group measured since the last exchange (dist/).
struct PeerNews {
  std::vector<runlog::SampleRecord> measured;  // their samples (never Illegal ones)
  std::vector<RootStatistic> root;             // sums of their root statistics
  std::vector<uint64_t> claimed;               // programs lower-ranked peers announced they measure next
};

// Where a task's records go when the trace is written by another rank, and how a rank hears from
// the other ranks of its group (root-parallel search; dist/ implements it).
class TaskChannel {
 public:
  virtual ~TaskChannel() = default;
  // This session's records as they come (rejected proposals included), in order. Their indices
  // are this rank's own numbering; the writer renumbers them.
  virtual void samples(const std::vector<runlog::SampleRecord>& rows) = 0;
  // A new best of this rank (hash: its program's structural hash).
  virtual void best(const runlog::BestSchedule& best, uint64_t hash) = 0;
  // The tree after a round (the writer may keep only the last one).
  virtual void tree(const std::vector<runlog::TreeNode>& nodes) = 0;
  // Before its first round and then every sync_every() samples of this rank (0: never), the tuner
  // calls exchange() with its own root statistics and the programs it will likely measure next,
  // and learns the peers' news; exchange blocks until the other ranks of the group got there too
  // (or finished), so that a run's decisions do not depend on timing.
  virtual int64_t sync_every() const { return 0; }
  virtual PeerNews exchange(const std::vector<RootStatistic>& /*mine*/,
                            const std::vector<uint64_t>& /*picks*/) {
    return {};
  }
};

// A schedule to measure before the strategy's own candidates: a tuning database's record of this
// workload (or of a neighbour). Its trace is replayed on the task's workload; one that does not
// apply is recorded as an illegal proposal and skipped.
struct Seed {
  std::string trace;      // schedule text (schedule/trace.h)
  std::string proposer;   // recorded as the sample's proposer ("database")
  std::string rationale;  // where it came from, one line
};

// Where the samples go. writer may be null (nothing recorded, for benchmarks and tests).
struct TaskRecording {
  runlog::RunWriter* writer = nullptr;
  runlog::RunWriter::Task task = 0;
  const runlog::TaskLog* resumed = nullptr;  // records of a previous session of this task
  double wall_offset = 0;                    // seconds of the run before this session (resume)
  // Instead of writer: records go to the channel, which also connects the rank to its group.
  TaskChannel* channel = nullptr;
  // Results known before the search starts (a previous session of a many-rank run): observed,
  // never measured again, no sample spent. Unlike `resumed`, the search does not replay them.
  const std::vector<runlog::SampleRecord>* observed = nullptr;
  int64_t first_index = 0;  // the first index this session may give a record (after the recorded ones)
  // Measured first, in order, before the strategy proposes (see TaskSession::run_seeds); the
  // strategy and the cost model learn their results.
  std::vector<Seed> seeds = {};
};

// The proposer of a name: "heuristic", "random". Throws std::invalid_argument for others.
std::unique_ptr<Proposer> make_proposer(const std::string& name, const DesignSpace* space);

// One task's tuning, in rounds: a task scheduler (search/task_scheduler.h) gives it samples a few
// at a time and switches between tasks; the search state (tree, population, cost model) stays
// between rounds. `reference_gflops` is the unscheduled kernel's speed (0: unknown); cost-model
// scores are speedups over it. `proposer` overrides make_proposer(options.proposer) when given and
// must outlive the session. options.budget is the samples the task is expected to get (progress
// and ETA; run() measures what it is given).
class TaskSession {
 public:
  TaskSession(std::shared_ptr<const ir::Workload> workload, const std::string& task_name,
              double reference_gflops, Evaluator& evaluator, const TuneOptions& options,
              const TaskRecording& recording = {}, std::function<void(const Progress&)> on_progress = {},
              Proposer* proposer = nullptr);
  ~TaskSession();
  TaskSession(const TaskSession&) = delete;
  TaskSession& operator=(const TaskSession&) = delete;

  // Measures up to `samples` more samples in rounds of options.measure_batch, the seeds not yet
  // measured first; returns how many it spent (fewer when the strategy has nothing new to offer:
  // exhausted()).
  int64_t run(int64_t samples);
  // Measures only seeds, up to `samples` of them (e.g. a database's best record, to confirm it on
  // this machine); returns how many it spent.
  int64_t run_seeds(int64_t samples);
  bool exhausted() const;
  // Where the task stands (samples, best, curve, records of this session).
  const TaskOutcome& outcome() const;
  // Changes the samples the task is expected to get (progress and ETA only).
  void set_expected_budget(int64_t budget);
  // The outcome, with what the proposer dropped; the session is done.
  TaskOutcome finish();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs the task to options.budget (or until the strategy has nothing new): one TaskSession.
TaskOutcome tune_task(std::shared_ptr<const ir::Workload> workload, const std::string& task_name,
                      double reference_gflops, Evaluator& evaluator, const TuneOptions& options,
                      const TaskRecording& recording = {},
                      const std::function<void(const Progress&)>& on_progress = {},
                      Proposer* proposer = nullptr);

// Seconds as a clock: "0:41", "12:05", "1:02:03".
std::string clock_text(double seconds);

// One line: "matmul_512: 24/32 samples  best 91.2 GFLOP/s (84.5x)  2 failed  ETA 0:41".
std::string progress_line(const Progress& p);

}  // namespace rctune::search
