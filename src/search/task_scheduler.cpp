// The task scheduler of a model run (include/rctune/search/task_scheduler.h).
#include "rctune/search/task_scheduler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "rctune/ir/check.h"

namespace rctune::search {

const char* scheduler_policy_name(SchedulerPolicy p) {
  switch (p) {
    case SchedulerPolicy::Gradient:
      return "gradient";
    case SchedulerPolicy::RoundRobin:
      return "round_robin";
    case SchedulerPolicy::PerTask:
      return "per_task";
  }
  return "?";
}

std::optional<SchedulerPolicy> scheduler_policy_of(const std::string& name) {
  for (SchedulerPolicy p : {SchedulerPolicy::Gradient, SchedulerPolicy::RoundRobin, SchedulerPolicy::PerTask})
    if (name == scheduler_policy_name(p)) return p;
  return std::nullopt;
}

TaskScheduler::TaskScheduler(std::vector<ScheduledTask> tasks, SchedulerOptions options)
    : tasks_(std::move(tasks)), o_(options), state_(tasks_.size()) {
  if (o_.round < 1) throw std::invalid_argument("task scheduler: a round must be at least one sample");
  if (!(o_.first_round > 0 && o_.first_round <= 1))
    throw std::invalid_argument("task scheduler: the first round must be a fraction of a round in (0, 1]");
  order_.resize(tasks_.size());
  std::iota(order_.begin(), order_.end(), size_t{0});
  std::stable_sort(order_.begin(), order_.end(),
                   [&](size_t x, size_t y) { return tasks_[x].weight > tasks_[y].weight; });
  if (o_.policy == SchedulerPolicy::PerTask) {
    for (const ScheduledTask& t : tasks_) {
      if (t.budget < 1)
        throw std::invalid_argument("task scheduler: per_task needs a budget for task " + t.name);
      total_ += t.budget;
    }
  } else {
    total_ = o_.total_budget;
  }
  for (size_t t = 0; t < tasks_.size(); ++t)
    if (tasks_[t].budget < 0)
      throw std::invalid_argument("task scheduler: negative budget for task " + tasks_[t].name);
}

int64_t TaskScheduler::room(size_t t) const {
  const State& s = state_[t];
  int64_t r = total_ - handed_out_;
  if (tasks_[t].budget > 0) r = std::min(r, tasks_[t].budget - s.spent - s.in_flight);
  return std::max<int64_t>(0, r);
}

bool TaskScheduler::can_take(size_t t) const {
  return !state_[t].finished && state_[t].in_flight == 0 && room(t) > 0;
}

double TaskScheduler::time_of(size_t t) const {
  return state_[t].best > 0 ? state_[t].best : tasks_[t].initial_seconds;
}

double TaskScheduler::estimated_latency() const {
  double sum = 0;
  for (size_t t = 0; t < tasks_.size(); ++t) sum += tasks_[t].weight * time_of(t);
  return sum;
}

double TaskScheduler::recent_gain(size_t t) const {
  const State& s = state_[t];
  const size_t rounds = s.time_after_round.size();
  if (rounds < 2) return 0;
  const size_t from = rounds - 1 - std::min<size_t>(static_cast<size_t>(std::max(1, o_.window)), rounds - 1);
  const int64_t samples = s.spent_after_round.back() - s.spent_after_round[from];
  if (samples <= 0) return 0;
  const double drop = s.time_after_round[from] - s.time_after_round.back();
  return std::max(0.0, tasks_[t].weight * drop / static_cast<double>(samples));
}

// Rounds since the task's time last fell by more than 0.5% (its first round counts as a fall).
int TaskScheduler::stalled_rounds(size_t t) const {
  const std::vector<double>& times = state_[t].time_after_round;
  int stalled = 0;
  for (size_t r = times.size(); r-- > 1 && times[r] > 0.995 * times[r - 1];) ++stalled;
  return stalled;
}

// Expected drop of the model's latency per sample if task t gets the next round: a mix of its
// recent improvement and the optimistic guess that its time could fall by time / samples spent,
// a guess halved for every `window` rounds the task has not improved in.
double TaskScheduler::gradient(size_t t) const {
  const State& s = state_[t];
  const double time = time_of(t);
  double optimistic =
      s.spent > 0 ? tasks_[t].weight * time / static_cast<double>(s.spent) : tasks_[t].weight * time;
  optimistic *= std::exp2(-static_cast<double>(stalled_rounds(t)) / std::max(1, o_.window));
  return o_.recent_share * recent_gain(t) + (1 - o_.recent_share) * optimistic;
}

std::optional<size_t> TaskScheduler::pick(double& priority, std::string& reason) {
  const size_t n = tasks_.size();
  switch (o_.policy) {
    case SchedulerPolicy::PerTask:
      for (; turn_ < n; ++turn_) {
        if (!can_take(order_[turn_])) continue;
        reason = "per task";
        return order_[turn_];
      }
      return std::nullopt;
    case SchedulerPolicy::RoundRobin:
      for (size_t k = 0; k < n; ++k) {
        const size_t pos = (turn_ + k) % n;
        if (!can_take(order_[pos])) continue;
        turn_ = pos + 1;
        reason = "round robin";
        return order_[pos];
      }
      return std::nullopt;
    case SchedulerPolicy::Gradient: {
      // Every task gets a first round, the largest share of the model's latency first.
      std::optional<size_t> best;
      for (size_t t : order_) {
        if (!can_take(t) || state_[t].spent > 0 || !state_[t].time_after_round.empty()) continue;
        if (!best || tasks_[t].weight * time_of(t) > tasks_[*best].weight * time_of(*best)) best = t;
      }
      if (best) {
        priority = gradient(*best);
        reason = "first round";
        return best;
      }
      for (size_t t : order_) {
        if (!can_take(t)) continue;
        const double g = gradient(t);
        if (!best || g > priority) {
          best = t;
          priority = g;
        }
      }
      if (best) reason = "largest expected gain";
      return best;
    }
  }
  return std::nullopt;
}

int64_t TaskScheduler::first_round_samples() const {
  return std::clamp<int64_t>(std::llround(o_.first_round * static_cast<double>(o_.round)), 1, o_.round);
}

std::optional<Allocation> TaskScheduler::next() {
  double priority = 0;
  std::string reason;
  const std::optional<size_t> t = pick(priority, reason);
  if (!t) return std::nullopt;
  Allocation a;
  a.round = rounds_++;
  a.task = *t;
  // per_task hands a task its whole budget at once (the rank group that takes it tunes it to the end).
  int64_t samples = o_.round;
  if (o_.policy == SchedulerPolicy::PerTask) samples = room(*t);
  // gradient's first round of a task is short (SchedulerOptions::first_round).
  if (o_.policy == SchedulerPolicy::Gradient && state_[*t].time_after_round.empty())
    samples = first_round_samples();
  a.samples = std::min(samples, room(*t));
  a.priority = priority;
  a.reason = std::move(reason);
  state_[*t].in_flight += a.samples;
  handed_out_ += a.samples;
  return a;
}

void TaskScheduler::done(const Allocation& a, int64_t spent, double best_seconds) {
  RCTUNE_CHECK(a.task < tasks_.size());
  State& s = state_[a.task];
  RCTUNE_CHECK(s.in_flight >= a.samples && spent >= 0 && spent <= a.samples);
  s.in_flight -= a.samples;
  s.spent += spent;
  spent_ += spent;
  handed_out_ -= a.samples - spent;  // what the task did not use goes back to the others
  if (best_seconds > 0) s.best = s.best > 0 ? std::min(s.best, best_seconds) : best_seconds;
  s.time_after_round.push_back(time_of(a.task));
  s.spent_after_round.push_back(s.spent);
  if (spent < a.samples) s.finished = true;  // its search has nothing new to offer
  if (tasks_[a.task].budget > 0 && s.spent >= tasks_[a.task].budget) s.finished = true;
}

void TaskScheduler::retire(size_t task) { state_.at(task).finished = true; }

void TaskScheduler::account(size_t task, int64_t spent, double best_seconds) {
  State& s = state_.at(task);
  RCTUNE_CHECK(spent >= 0 && s.in_flight == 0);
  if (spent == 0) return;
  s.spent += spent;
  spent_ += spent;
  handed_out_ += spent;
  if (best_seconds > 0) s.best = s.best > 0 ? std::min(s.best, best_seconds) : best_seconds;
  s.time_after_round.push_back(time_of(task));
  s.spent_after_round.push_back(s.spent);
  if (tasks_[task].budget > 0 && s.spent >= tasks_[task].budget) s.finished = true;
}

}  // namespace rctune::search
