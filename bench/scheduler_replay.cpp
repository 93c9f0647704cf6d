// bench/scheduler_replay: the task scheduler's policies replayed offline on recorded per_task runs.
//
// A trace of `rctune tune` with `scheduler: per_task` holds, for every task of a model, S samples
// measured one after the other by the task's own search. A task's best time after its first k
// samples is its curve. The replay runs search::TaskScheduler with the trace's tasks (weight,
// unscheduled time) and a budget of S x tasks for the model, and answers each round of r samples
// with the task's curve r samples further on: no kernel is compiled or measured, so a policy is
// judged in milliseconds, and every policy sees the same search results. A task that gets more
// samples than were recorded stays at its last best (the replay counts how often that happened: a
// real run might have found more there, so the replay is pessimistic about policies that spend
// more than S samples on a task). Printed per trace and policy: the model's estimated latency
// (sum over tasks of weight x best time, the unscheduled kernel's until a task has a correct
// sample) after 10% to 100% of the samples, and the share of per_task's samples the policy needed
// to reach per_task's final latency and to come within 1% of it. The same again with a smaller S
// (--samples-per-task, default S/2: per_task's reference is each task's first S samples, the other
// policies may follow a curve further). Robustness: the same with every curve cut to its first
// --truncate samples, and with the tasks of equal weight handed to the scheduler in other orders
// (deterministic shuffles).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "bench_util.h"
#include "rctune/runlog/runlog.h"
#include "rctune/search/task_scheduler.h"

namespace {

using namespace rctune;

// One task of a recorded run: what the scheduler knows of it and its best time after each sample.
struct TaskCurve {
  search::ScheduledTask task;
  double reference_s = 0;          // unscheduled kernel, seconds (0: not measured)
  std::vector<double> best_after;  // best correct time after k + 1 samples (0: none correct yet)
};

struct Trace {
  std::string name;
  std::vector<TaskCurve> tasks;
  // S: the samples per task of the replayed budget (S x tasks) and of per_task's reference run;
  // at first the most samples a task of the run measured. Curves may be longer.
  int64_t samples_per_task = 0;
};

Trace read_trace(const std::string& path) {
  const runlog::RunLog log = runlog::read_run_log(path);
  Trace tr;
  tr.name = path;
  for (const runlog::TaskLog& t : log.tasks) {
    TaskCurve c;
    c.task.name = t.info.name;
    c.task.weight = t.info.weight;
    // As dist::scheduled_task: the workload's flops at the unscheduled kernel's rate.
    c.task.initial_seconds = t.info.reference_gflops > 0 ? t.info.flops / (t.info.reference_gflops * 1e9) : 0;
    c.reference_s = t.info.reference_seconds;
    double best = 0;
    for (const runlog::SampleRecord& s : runlog::measured_samples(t)) {
      if (s.status == runlog::SampleStatus::Ok && std::isfinite(s.median_s) && s.median_s > 0)
        best = best > 0 ? std::min(best, s.median_s) : s.median_s;
      c.best_after.push_back(best);
    }
    tr.samples_per_task = std::max<int64_t>(tr.samples_per_task, static_cast<int64_t>(c.best_after.size()));
    tr.tasks.push_back(std::move(c));
  }
  if (tr.samples_per_task < 2) throw std::runtime_error(path + ": no task measured two samples or more");
  for (const runlog::AllocationRecord& a : log.allocations)
    if (a.scheduler != "per_task")
      throw std::runtime_error(path + ": not a per_task run (its rounds were scheduled by " + a.scheduler +
                               ")");
  return tr;
}

// The trace with every curve cut to its first n samples.
Trace truncated(Trace tr, int64_t n) {
  for (TaskCurve& c : tr.tasks)
    if (static_cast<int64_t>(c.best_after.size()) > n) c.best_after.resize(static_cast<size_t>(n));
  tr.samples_per_task = std::min(tr.samples_per_task, n);
  return tr;
}

// The trace replayed with S = n: per_task's reference is its first n samples of each task, and
// the other policies may still take a task past n samples along its recorded curve.
Trace with_budget(Trace tr, int64_t n) {
  tr.samples_per_task = n;
  return tr;
}

// The trace's tasks in another order: those of equal weight shuffled among their places
// (deterministically, by `seed`).
Trace permuted(Trace tr, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<bool> done(tr.tasks.size(), false);
  std::vector<TaskCurve> out = tr.tasks;
  for (size_t i = 0; i < tr.tasks.size(); ++i) {
    if (done[i]) continue;
    std::vector<size_t> same;
    for (size_t j = i; j < tr.tasks.size(); ++j)
      if (tr.tasks[j].task.weight == tr.tasks[i].task.weight) same.push_back(j);
    std::vector<size_t> shuffled = same;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    for (size_t k = 0; k < same.size(); ++k) {
      out[same[k]] = tr.tasks[shuffled[k]];
      done[same[k]] = true;
    }
  }
  tr.tasks = std::move(out);
  return tr;
}

double model_share(const TaskCurve& c, double best) {
  return c.task.weight * (best > 0 ? best : c.reference_s);
}

// The model's latency after each sample of a replay, and how many samples fell past a recorded curve.
struct Replay {
  std::vector<double> latency;
  int64_t beyond = 0;               // samples a task got past its recorded ones
  int tasks_beyond = 0;             // tasks that got any
  std::vector<int64_t> spent;       // samples per task
  std::vector<int64_t> spent_half;  // samples per task after half the budget
};

Replay replay(const Trace& tr, search::SchedulerOptions o) {
  std::vector<search::ScheduledTask> tasks;
  for (const TaskCurve& c : tr.tasks) {
    tasks.push_back(c.task);
    if (o.policy == search::SchedulerPolicy::PerTask) tasks.back().budget = tr.samples_per_task;
  }
  o.total_budget = tr.samples_per_task * static_cast<int64_t>(tr.tasks.size());
  search::TaskScheduler s(tasks, o);
  Replay r;
  r.spent.assign(tr.tasks.size(), 0);
  std::vector<double> best(tr.tasks.size(), 0), share(tr.tasks.size());
  double sum = 0;
  for (size_t t = 0; t < tr.tasks.size(); ++t) sum += share[t] = model_share(tr.tasks[t], 0);
  std::vector<bool> beyond(tr.tasks.size(), false);
  while (const auto a = s.next()) {
    const TaskCurve& c = tr.tasks[a->task];
    for (int64_t k = 0; k < a->samples; ++k) {
      const int64_t at = r.spent[a->task]++;
      if (at < static_cast<int64_t>(c.best_after.size())) {
        best[a->task] = c.best_after[static_cast<size_t>(at)];
      } else {
        ++r.beyond;
        beyond[a->task] = true;
      }
      sum += model_share(c, best[a->task]) - share[a->task];
      share[a->task] = model_share(c, best[a->task]);
      r.latency.push_back(sum);
      if (static_cast<int64_t>(r.latency.size()) == o.total_budget / 2) r.spent_half = r.spent;
    }
    s.done(*a, a->samples, best[a->task]);
  }
  r.tasks_beyond = static_cast<int>(std::count(beyond.begin(), beyond.end(), true));
  return r;
}

// Samples (1-based) until the latency is at or below `target`; -1 when it never is.
int64_t samples_to(const std::vector<double>& latency, double target) {
  for (size_t i = 0; i < latency.size(); ++i)
    if (latency[i] <= target * (1 + 1e-12)) return static_cast<int64_t>(i) + 1;
  return -1;
}

std::string ms(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", s * 1e3);
  return buf;
}

std::string share_text(int64_t n, int64_t total) {
  if (n < 0) return "never";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(n) / static_cast<double>(total));
  return buf;
}

struct Variant {
  std::string name;
  search::SchedulerOptions options;
};

// The policies replayed: per_task (the reference), round_robin, gradient with SchedulerOptions'
// defaults, gradient with Ansor's full first round, and each --variant.
std::vector<Variant> variants(int64_t round, const std::vector<Variant>& extra) {
  auto with = [&](search::SchedulerPolicy p) {
    search::SchedulerOptions o;
    o.policy = p;
    o.round = round;
    return o;
  };
  std::vector<Variant> v;
  v.push_back({"per_task", with(search::SchedulerPolicy::PerTask)});
  v.push_back({"round_robin", with(search::SchedulerPolicy::RoundRobin)});
  v.push_back({"gradient", with(search::SchedulerPolicy::Gradient)});
  search::SchedulerOptions ansor = with(search::SchedulerPolicy::Gradient);
  ansor.first_round = 1;
  v.push_back({"gradient first_round=1", ansor});
  for (Variant x : extra) {
    x.options.round = round;
    v.push_back(x);
  }
  return v;
}

// A gradient variant from "first_round=0.5,window=2,recent_share=0.5" (any of these keys). Throws
// std::invalid_argument naming the part it cannot read.
Variant parse_variant(const std::string& text) {
  Variant v{"gradient " + text, {}};
  for (const std::string& kv : bench::split_list(text, ',')) {
    const size_t eq = kv.find('=');
    const std::string key = kv.substr(0, eq);
    double x = 0;
    try {
      size_t used = 0;
      if (eq == std::string::npos) throw std::invalid_argument("no value");
      x = std::stod(kv.substr(eq + 1), &used);
      if (used != kv.size() - eq - 1 || !std::isfinite(x)) throw std::invalid_argument("not a number");
    } catch (const std::exception&) {
      throw std::invalid_argument("--variant " + text + ": '" + kv + "' is not KEY=NUMBER");
    }
    if (key == "first_round" && x > 0 && x <= 1)
      v.options.first_round = x;
    else if (key == "window" && x >= 1 && x <= 100 && x == std::floor(x))
      v.options.window = static_cast<int>(x);
    else if (key == "recent_share" && x >= 0 && x <= 1)
      v.options.recent_share = x;
    else
      throw std::invalid_argument("--variant " + text + ": '" + kv +
                                  "': keys are first_round (above 0, at most 1), window (1 to 100), "
                                  "recent_share (0 to 1)");
  }
  return v;
}

// The samples a task needs to reach its best of per_task's reference (its first S samples).
int64_t samples_to_reference(const TaskCurve& c, int64_t s) {
  const size_t n = std::min(c.best_after.size(), static_cast<size_t>(s));
  if (n == 0) return 0;
  size_t k = n;
  while (k > 1 && c.best_after[k - 2] == c.best_after[n - 1]) --k;
  return static_cast<int64_t>(k);
}

// The samples a schedule needs to bring every task to its best of per_task's reference.
int64_t every_task_to_reference(const Trace& tr) {
  int64_t n = 0;
  for (const TaskCurve& c : tr.tasks) n += samples_to_reference(c, tr.samples_per_task);
  return n;
}

struct Outcome {
  int64_t exact = -1, within = -1;  // samples to per_task's final latency, to within 1% of it
};

Outcome outcome(const Replay& r, double target) {
  return {samples_to(r.latency, target), samples_to(r.latency, target * 1.01)};
}

// The best time of a task after n samples (0: none correct, or n = 0).
double best_after(const TaskCurve& c, int64_t n) {
  if (n <= 0 || c.best_after.empty()) return 0;
  return c
      .best_after[static_cast<size_t>(std::min<int64_t>(n, static_cast<int64_t>(c.best_after.size())) - 1)];
}

void print_trace(const Trace& tr, int64_t round, const std::vector<Variant>& extra, int permutations,
                 bool per_task_detail) {
  const int64_t total = tr.samples_per_task * static_cast<int64_t>(tr.tasks.size());
  const std::vector<Variant> vs = variants(round, extra);
  const Replay base = replay(tr, vs[0].options);
  const double target = base.latency.back();
  std::printf("%s: %zu tasks, S = %lld (%lld samples), per_task's final latency %s ms\n", tr.name.c_str(),
              tr.tasks.size(), static_cast<long long>(tr.samples_per_task), static_cast<long long>(total),
              ms(target).c_str());
  std::printf(
      "  samples to bring every task to its best of per_task (its last improvement in S samples): %lld = "
      "%s\n",
      static_cast<long long>(every_task_to_reference(tr)),
      share_text(every_task_to_reference(tr), total).c_str());
  std::printf("  %-30s %9s %9s %9s %9s %9s %10s %6s %6s %13s", "policy", "10%", "25%", "50%", "75%", "100%",
              "50%/final", "reach", "1%", "past curve");
  if (permutations > 0) std::printf("  %-22s", "reach/1% over orders");
  std::printf("\n");
  for (const Variant& v : vs) {
    const Replay r = replay(tr, v.options);
    std::printf("  %-30s", v.name.c_str());
    for (double f : {0.1, 0.25, 0.5, 0.75, 1.0}) {
      const int64_t n = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(f * static_cast<double>(total))));
      std::printf(" %9s",
                  ms(r.latency[static_cast<size_t>(std::min<int64_t>(n, r.latency.size()) - 1)]).c_str());
    }
    const Outcome o = outcome(r, target);
    std::printf(" %10.2f", r.latency[static_cast<size_t>(total / 2 - 1)] / target);
    std::printf(" %6s %6s", share_text(o.exact, total).c_str(), share_text(o.within, total).c_str());
    std::printf(" %6lld in %2d", static_cast<long long>(r.beyond), r.tasks_beyond);
    if (permutations > 0) {
      // "never" sorts after every share.
      auto frac = [&](int64_t n) {
        return n < 0 ? 2.0 : static_cast<double>(n) / static_cast<double>(total);
      };
      auto text = [](double f) {
        return f > 1 ? std::string("never") : share_text(static_cast<int64_t>(std::lround(f * 100)), 100);
      };
      double lo_e = frac(o.exact), hi_e = lo_e, lo_w = frac(o.within), hi_w = lo_w;
      for (int p = 1; p <= permutations; ++p) {
        const Trace pt = permuted(tr, static_cast<unsigned>(p));
        const Outcome po = outcome(replay(pt, v.options), target);
        const double e = frac(po.exact), w = frac(po.within);
        lo_e = std::min(lo_e, e), hi_e = std::max(hi_e, e), lo_w = std::min(lo_w, w),
        hi_w = std::max(hi_w, w);
      }
      std::printf("  %s-%s / %s-%s", text(lo_e).c_str(), text(hi_e).c_str(), text(lo_w).c_str(),
                  text(hi_w).c_str());
    }
    std::printf("\n");
    if (per_task_detail) {
      for (size_t t = 0; t < tr.tasks.size(); ++t) {
        const TaskCurve& c = tr.tasks[t];
        const int64_t k = samples_to_reference(c, tr.samples_per_task);
        const int64_t h = r.spent_half.empty() ? 0 : r.spent_half[t];
        std::printf(
            "      %-32s weight %g, %.3f of per_task's latency, its best at sample %lld; spent %lld, at half "
            "the "
            "budget %lld (behind per_task's best by %s ms)\n",
            c.task.name.c_str(), c.task.weight, model_share(c, best_after(c, k)) / target,
            static_cast<long long>(k), static_cast<long long>(r.spent[t]), static_cast<long long>(h),
            ms(model_share(c, best_after(c, h)) - model_share(c, best_after(c, k))).c_str());
      }
    }
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench/scheduler_replay: the task scheduler's policies replayed on recorded per_task runs"};
  std::vector<std::string> traces;
  int64_t round = 6;
  int64_t truncate = 0;
  std::vector<int64_t> budgets;
  int permutations = 5;
  bool detail = false;
  app.add_option("traces", traces, "traces of `rctune tune` runs with scheduler: per_task")->required();
  app.add_option("--round", round, "samples per round (mcts.measure_batch)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--truncate", truncate, "also replay every curve cut to its first N samples (0: no)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--permutations", permutations,
                 "orders of the equal-weight tasks to replay besides the trace's")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--samples-per-task", budgets,
                 "S values to replay besides the recorded one: budget S x tasks, per_task's reference its "
                 "first S samples of each task, curves whole (default: half the recorded S)")
      ->check(CLI::PositiveNumber);
  std::vector<std::string> variant_texts;
  app.add_option(
      "--variant", variant_texts,
      "a gradient variant to replay too, e.g. first_round=0.5,window=2,recent_share=0.5 (repeatable)");
  app.add_flag("--tasks", detail, "print each task's samples under each policy");
  bool curves = false;
  app.add_flag("--curves", curves, "print each task's recorded curve");
  CLI11_PARSE(app, argc, argv);
  std::vector<Variant> extra;
  try {
    for (const std::string& t : variant_texts) extra.push_back(parse_variant(t));
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "bench/scheduler_replay: %s\n", e.what());
    return 2;
  }
  std::printf(
      "bench/scheduler_replay: model latency (ms, sum over tasks of weight x best time so far) after "
      "10%%-100%% of "
      "S x tasks samples; reach / 1%%: share of those samples until per_task's final latency / within 1%% of "
      "it; "
      "past curve: samples given past a task's recorded ones (its best stays) and the tasks that got "
      "them%s\n\n",
      permutations > 0 ? "; over orders: min-max over the trace's order and shuffles of equal-weight tasks"
                       : "");
  try {
    for (const std::string& path : traces) {
      const Trace tr = read_trace(path);
      print_trace(tr, round, extra, permutations, detail);
      if (curves) {
        std::printf("%s: each task's best time after 1, 2, ... samples / its unscheduled time\n",
                    tr.name.c_str());
        for (const TaskCurve& c : tr.tasks) {
          std::printf("  %-32s weight %g, unscheduled %s ms:", c.task.name.c_str(), c.task.weight,
                      ms(c.reference_s).c_str());
          for (double b : c.best_after)
            std::printf(" %.3f", b > 0 && c.reference_s > 0 ? b / c.reference_s : 1.0);
          std::printf("\n");
        }
        std::printf("\n");
      }
      std::vector<int64_t> ss = budgets;
      if (ss.empty()) ss.push_back(tr.samples_per_task / 2);
      for (int64_t n : ss) {
        if (n <= 0 || n >= tr.samples_per_task) continue;
        Trace b = with_budget(tr, n);
        b.name +=
            " with S = " + std::to_string(n) + " (curves to " + std::to_string(tr.samples_per_task) + ")";
        print_trace(b, round, extra, permutations, detail);
      }
      if (truncate > 0 && truncate < tr.samples_per_task) {
        Trace cut = truncated(tr, truncate);
        cut.name += " cut to " + std::to_string(truncate);
        print_trace(cut, round, extra, permutations, detail);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench/scheduler_replay: %s\n", e.what());
    return 1;
  }
  return 0;
}
