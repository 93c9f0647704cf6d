// Which task of a model gets the next round of samples. A model is several tasks (its distinct
// operators), each weighted by how often it occurs; the model's estimated latency is the sum over
// tasks of weight x best time. Policies:
//  - gradient: every task gets a short first round (a third of a round: a task's first samples
//    take most of its unscheduled time off, and a full round for each of many tasks would spend
//    much of a small budget before any task gets a second); then each round goes to the task whose
//    next samples promise the largest drop of the model's latency per sample, judged from its
//    weight, its best time, how fast it improved over its last rounds and how long it has not
//    improved (after Ansor's task scheduler, Zheng et al., OSDI 2020, section 6, which gives a
//    full first round and lacks the last);
//  - round_robin: the tasks take turns;
//  - per_task: each task in turn gets its whole budget (a run's budget per task).
// Decisions depend only on the results reported to the scheduler, never on timing, so a resumed
// run that replays the same results makes the same decisions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rctune::search {

enum class SchedulerPolicy { Gradient, RoundRobin, PerTask };

// "gradient", "round_robin", "per_task".
const char* scheduler_policy_name(SchedulerPolicy p);
// The policy of a name; std::nullopt for any other text.
std::optional<SchedulerPolicy> scheduler_policy_of(const std::string& name);

struct ScheduledTask {
  std::string name;
  double weight = 1;           // occurrences in the model
  double initial_seconds = 0;  // the unscheduled kernel's time (0: unknown): the task's time until it
                               // has a correct kernel
  int64_t budget = 0;          // samples it may get at most (per_task: exactly); 0: no limit of its own
};

struct SchedulerOptions {
  SchedulerPolicy policy = SchedulerPolicy::Gradient;
  int64_t total_budget = 0;  // samples of the whole run (per_task: ignored, the tasks' budgets add up)
  int64_t round = 6;         // samples per round
  int window = 3;            // rounds of a task its recent improvement is measured over
  // Weight of the recent improvement against the optimistic guess (best time / samples spent) in the
  // gradient's estimate of a task's next gain (Ansor uses 0.2).
  double recent_share = 0.2;
  // A task's first round under gradient, as a fraction of `round` (rounded to the nearest sample, at
  // least one): 1 gives a full first round, as Ansor does. A fraction rather than a count keeps
  // every rank of a group busy where a round is a measure batch per rank.
  double first_round = 1.0 / 3;
};

// One round handed out.
struct Allocation {
  int64_t round = 0;
  size_t task = 0;  // index into the scheduler's tasks
  int64_t samples = 0;
  double priority = 0;  // gradient: expected drop of the model latency per sample (seconds)
  std::string reason;
};

class TaskScheduler {
 public:
  TaskScheduler(std::vector<ScheduledTask> tasks, SchedulerOptions options);

  // The next round, or std::nullopt when the budget is spent or no task can take samples. Rounds
  // handed out and not yet reported count against the budget (several rank groups may be tuning).
  std::optional<Allocation> next();
  // A round ended: the samples the task spent in it (fewer than given: its search has nothing new
  // to offer, and it gets no more rounds) and its best time now (0: no correct kernel yet).
  void done(const Allocation& a, int64_t spent, double best_seconds);
  // The task gets no more rounds (e.g. it is at the best a tuning database recorded).
  void retire(size_t task);
  // Samples the task spent outside the rounds handed out (confirming a tuning database's records; an
  // earlier session of a resumed many-rank run, whose rounds cannot be replayed) and its best time
  // after them: counted as spent, against the budgets, and as one round of the task.
  void account(size_t task, int64_t spent, double best_seconds);

  // Sum over tasks of weight x best time (unscheduled time for tasks without a kernel; tasks with
  // neither count 0).
  double estimated_latency() const;
  int64_t spent() const { return spent_; }
  int64_t handed_out() const { return handed_out_; }
  // Samples handed out in rounds not yet reported: while some are, next() may have more later.
  int64_t in_flight() const { return handed_out_ - spent_; }
  int64_t total_budget() const { return total_; }
  const std::vector<ScheduledTask>& tasks() const { return tasks_; }
  // Samples the task spent so far.
  int64_t task_spent(size_t task) const { return state_.at(task).spent; }
  // The task's gain per sample over its last `window` rounds: drop of weight x time per sample.
  double recent_gain(size_t task) const;

 private:
  struct State {
    int64_t spent = 0;
    int64_t in_flight = 0;                   // samples handed out, not yet reported
    double best = 0;                         // seconds; 0: none
    bool finished = false;                   // exhausted, retired, or at its budget
    std::vector<double> time_after_round;    // its time (best, or initial) after each round
    std::vector<int64_t> spent_after_round;  // its samples after each round
  };
  bool can_take(size_t t) const;
  int64_t room(size_t t) const;  // samples task t may still get
  double time_of(size_t t) const;
  double gradient(size_t t) const;
  int stalled_rounds(size_t t) const;
  int64_t first_round_samples() const;
  std::optional<size_t> pick(double& priority, std::string& reason);

  std::vector<ScheduledTask> tasks_;
  SchedulerOptions o_;
  std::vector<size_t> order_;  // heaviest first (weight x initial time, then weight), ties by index
  std::vector<State> state_;
  int64_t total_ = 0;
  int64_t spent_ = 0;
  int64_t handed_out_ = 0;
  int64_t rounds_ = 0;
  size_t turn_ = 0;  // round_robin and per_task: position in order_
};

}  // namespace rctune::search
