// `rctune report FILE.h5`: a tuning run's trace summarised per task (best GFLOP/s, speedups over
// the unscheduled kernel and the library, samples needed to come close to the best, the best
// schedule), the estimated latency of the model the tasks come from (runlog/model_latency.h) and,
// when a task scheduler shared the budget, that latency after each round and what each task's last
// rounds gained per sample, and per language model asked (calls, failures, fallbacks, tokens, cost),
// as a table, CSV or JSON. docs/cli.md describes every column.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "rctune/apps/commands.h"
#include "rctune/apps/terminal_text.h"
#include "rctune/config/input_file.h"
#include "rctune/ir/check.h"
#include "rctune/ir/text.h"
#include "rctune/runlog/model_latency.h"
#include "rctune/runlog/runlog.h"

namespace rctune::apps {
namespace {

using runlog::SampleRecord;
using runlog::SampleStatus;

// What the report says about one task.
struct TaskSummary {
  std::string name;
  std::size_t samples = 0;   // rows in the trace
  std::size_t measured = 0;  // status != illegal
  std::size_t illegal = 0;
  std::size_t failed = 0;            // measured, status != ok
  std::optional<SampleRecord> best;  // first sample (index order) with the highest GFLOP/s
  double reference_gflops = 0;
  std::string reference_estimate;  // runlog::TaskInfo::reference_estimate
  std::string baselines_source;    // runlog::TaskInfo::baselines_source
  std::string library_name;
  double library_gflops = 0;
  std::optional<double> speedup_reference, speedup_library;
  // 1-based position, among measured samples in index order, of the first within 90% / 95% of best.
  std::optional<std::size_t> to_90, to_95;
};

// What the report says about one language model, over all tasks of the run.
struct LlmSummary {
  std::string model;
  std::size_t calls = 0;
  std::size_t failed = 0;      // no answer came back (not ok)
  std::size_t cache_hits = 0;  // answered from the response cache
  std::size_t fallbacks = 0;   // the heuristic proposer answered instead
  int64_t prompt_tokens = 0, completion_tokens = 0;
  double cost_usd = 0;
  std::size_t timed = 0;  // calls not answered from the cache, whose latency is averaged
  double latency_sum_s = 0;
  double fallback_percent() const {
    return calls ? 100.0 * static_cast<double>(fallbacks) / static_cast<double>(calls) : 0;
  }
  std::optional<double> mean_latency_s() const {
    return timed ? std::optional<double>(latency_sum_s / static_cast<double>(timed)) : std::nullopt;
  }
};

// One summary per model, in the order the models first appear (tasks in run order, calls in index
// order); empty when the run asked no language model.
std::vector<LlmSummary> summarize_llm(const runlog::RunLog& run) {
  std::vector<LlmSummary> out;
  for (const auto& t : run.tasks)
    for (const auto& c : t.llm_calls) {
      auto it = std::find_if(out.begin(), out.end(), [&](const LlmSummary& m) { return m.model == c.model; });
      if (it == out.end()) {
        out.emplace_back();
        out.back().model = c.model;
        it = out.end() - 1;
      }
      LlmSummary& m = *it;
      ++m.calls;
      if (!c.ok) ++m.failed;
      if (c.from_cache) ++m.cache_hits;
      if (c.fallback) ++m.fallbacks;
      m.prompt_tokens += c.prompt_tokens;
      m.completion_tokens += c.completion_tokens;
      m.cost_usd += c.cost_usd;
      if (!c.from_cache) {
        ++m.timed;
        m.latency_sum_s += c.latency_s;
      }
    }
  return out;
}

bool measured_ok(const SampleRecord& s) { return s.status == SampleStatus::Ok && std::isfinite(s.gflops); }

TaskSummary summarize(const runlog::TaskLog& t) {
  TaskSummary r;
  r.name = t.info.name;
  r.samples = t.samples.size();
  r.reference_gflops = t.info.reference_gflops;
  r.reference_estimate = t.info.reference_estimate;
  r.baselines_source = t.info.baselines_source;
  r.library_name = t.info.library_name;
  r.library_gflops = t.info.library_gflops;
  std::vector<SampleRecord> samples = t.samples;
  std::stable_sort(samples.begin(), samples.end(),
                   [](const SampleRecord& a, const SampleRecord& b) { return a.index < b.index; });
  for (const auto& s : samples) {
    if (s.status == SampleStatus::Illegal) {
      ++r.illegal;
      continue;
    }
    ++r.measured;
    if (s.status != SampleStatus::Ok) ++r.failed;
    if (measured_ok(s) && (!r.best || s.gflops > r.best->gflops)) r.best = s;
  }
  if (!r.best) return r;
  const double best = r.best->gflops;
  if (r.reference_gflops > 0) r.speedup_reference = best / r.reference_gflops;
  if (r.library_gflops > 0) r.speedup_library = best / r.library_gflops;
  std::size_t position = 0;
  for (const auto& s : samples) {
    if (s.status == SampleStatus::Illegal) continue;
    ++position;
    if (!measured_ok(s)) continue;
    if (!r.to_90 && s.gflops >= 0.9 * best) r.to_90 = position;
    if (!r.to_95 && s.gflops >= 0.95 * best) r.to_95 = position;
  }
  return r;
}

using ir::fmt;

std::string opt_fmt(const char* f, const std::optional<double>& v, const std::string& none) {
  return v ? fmt(f, *v) : none;
}

std::string opt_count(const std::optional<std::size_t>& v, const std::string& none) {
  return v ? std::to_string(*v) : none;
}

std::string run_state(const runlog::RunLog& run) {
  return run.finished() ? "finished " + runlog::iso8601(run.info.end_time)
                        : "not finished (still running, or killed)";
}

// A duration with four significant digits, in milliseconds below a second.
std::string duration(double seconds) {
  return seconds < 1 ? fmt("%.4g ms", 1e3 * seconds) : fmt("%.4g s", seconds);
}

std::string ratio(double num, double den) { return den > 0 ? fmt("%.2fx", num / den) : "-"; }

// ---- table ----

// Columns padded to their widest cell; those whose `left` entry is true left-aligned (text), the
// others right-aligned (numbers).
void print_table(std::ostream& os, const std::vector<std::vector<std::string>>& rows,
                 const std::vector<bool>& left) {
  std::vector<std::size_t> width;
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size(); ++c) {
      if (width.size() <= c) width.push_back(0);
      width[c] = std::max(width[c], r[c].size());
    }
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c) {
      std::string pad(width[c] - r[c].size(), ' ');
      if (c > 0) line += "  ";
      line += c < left.size() && left[c] ? r[c] + pad : pad + r[c];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    os << line << "\n";
  }
}

// Which of `n` rounds the text shows when there are more than `max_lines` (>= 2): the first few
// (the start of the curve), then evenly spaced ones, always the last. Positions, increasing.
std::vector<std::size_t> rounds_to_show(std::size_t n, std::size_t max_lines) {
  std::vector<std::size_t> shown;
  if (n <= max_lines) {
    for (std::size_t k = 0; k < n; ++k) shown.push_back(k);
    return shown;
  }
  const std::size_t head = max_lines / 5, spaced = max_lines - head;
  for (std::size_t k = 0; k < head; ++k) shown.push_back(k);
  // Spacing (n - 1 - head) / spaced >= 1: the picks are distinct, and the last is n - 1.
  for (std::size_t j = 1; j <= spaced; ++j) shown.push_back(head + j * (n - 1 - head) / spaced);
  return shown;
}

constexpr std::size_t kMaxRoundLines = 25;

// The model's estimated latency after each round of the task scheduler: the curve a user watches.
void print_rounds(std::ostream& out, const std::vector<runlog::RoundLatency>& rounds) {
  std::vector<std::string> schedulers;
  for (const runlog::RoundLatency& r : rounds)
    if (std::find(schedulers.begin(), schedulers.end(), r.allocation.scheduler) == schedulers.end())
      schedulers.push_back(r.allocation.scheduler);
  std::string policy;
  for (const std::string& name : schedulers) policy += (policy.empty() ? "" : ", ") + name;
  const std::vector<std::size_t> shown = rounds_to_show(rounds.size(), kMaxRoundLines);
  out << "\nmodel latency by round (scheduler " << policy << "; " << rounds.size() << " round"
      << (rounds.size() == 1 ? "" : "s") << ")\n";
  std::vector<std::vector<std::string>> rows = {{"round", "task", "samples", "samples so far", "latency"}};
  for (std::size_t k : shown) {
    const runlog::RoundLatency& r = rounds[k];
    rows.push_back({std::to_string(r.allocation.round), r.allocation.task, std::to_string(r.allocation.spent),
                    std::to_string(r.run_samples), duration(r.allocation.latency_s)});
  }
  print_table(out, rows, {false, true});
  if (shown.size() < rounds.size())
    out << "(" << rounds.size() - shown.size() << " of " << rounds.size()
        << " rounds not shown: the first ones, then evenly spaced ones and the last; --format json has every "
           "round)\n";
}

// The model's estimated latency (runlog/model_latency.h) and the tasks by their share of it; with a
// task scheduler's rounds, each task's gain per sample and the tasks worth more samples.
void print_model_latency(std::ostream& out, const runlog::ModelLatency& m) {
  out << "\nestimated model latency (sum over tasks of weight x time per run; untuned operators and time "
         "between "
         "kernels left out)\n";
  std::vector<std::vector<std::string>> sums = {{"tuned:", duration(m.tuned_s)}};
  if (m.missing > 0)
    sums[0][1] += " (" + std::to_string(m.missing) + " task" + (m.missing == 1 ? "" : "s") +
                  " without a correct sample or an unscheduled time left out)";
  if (m.unscheduled_s)
    sums.push_back({"unscheduled:", duration(*m.unscheduled_s) + " (tuned is " +
                                        ratio(*m.unscheduled_s, m.tuned_s) + " faster)"});
  if (m.library_tasks > 0)
    sums.push_back({"library:", duration(m.library_s) + " over the " + std::to_string(m.library_tasks) +
                                    " of " + std::to_string(m.tasks.size()) + " tasks that have one, tuned " +
                                    duration(m.library_tuned_s) + " there (" +
                                    ratio(m.library_s, m.library_tuned_s) + ")"});
  else
    sums.push_back({"library:", "- (no task has a library baseline)"});
  print_table(out, sums, {true, true});
  const bool rounds = !m.rounds.empty();
  std::vector<std::vector<std::string>> rows = {
      {"task", "weight", "best", "x weight", "share", "unscheduled", "library"}};
  if (rounds) rows[0].push_back("gain/sample");
  for (const runlog::TaskLatency& t : m.tasks) {
    rows.push_back({t.name, fmt("%g", t.weight), t.best_s ? duration(*t.best_s) : "-",
                    t.model_s ? duration(*t.model_s) : "-", fmt("%.1f%%", 100 * t.share),
                    t.reference_s ? duration(*t.reference_s) : "-",
                    t.library_s ? duration(*t.library_s) : "-"});
    if (rounds) rows.back().push_back(t.gain_per_sample_s ? duration(*t.gain_per_sample_s) : "-");
  }
  print_table(out, rows, {true});
  if (!rounds) return;
  const std::vector<std::string> worth = runlog::worth_more_samples(m);
  std::string names;
  for (const std::string& name : worth) names += (names.empty() ? "" : ", ") + name;
  out << (worth.empty() ? std::string("no task improved in its last rounds")
                        : "worth more samples (largest gain/sample in their last rounds): " + names)
      << "\n";
  print_rounds(out, m.rounds);
}

// The run's budget: per task (per_task, and traces written before the scheduler), or for the whole
// run (the scheduler named in its rounds).
std::string budget_text(const runlog::RunLog& run) {
  if (run.info.budget <= 0) return "-";
  const std::string scheduler = run.allocations.empty() ? "per_task" : run.allocations.front().scheduler;
  if (scheduler == "per_task") return std::to_string(run.info.budget) + " samples per task";
  return std::to_string(run.info.budget) + " samples for the whole run (scheduler " + scheduler + ")";
}

void print_text(std::ostream& out, const runlog::RunLog& run, const std::vector<TaskSummary>& tasks,
                const std::vector<LlmSummary>& models) {
  const runlog::RunInfo& i = run.info;
  std::vector<std::vector<std::string>> header = {
      {"trace", run.path},
      {"config", i.config_path.empty() ? "-" : i.config_path},
      {"strategy", i.strategy + " (proposer " + i.proposer + ")"},
      {"seed", std::to_string(i.seed)},
      {"budget", budget_text(run)},
      {"ranks", std::to_string(i.num_ranks)},
      {"host", i.host + (i.cpu_model.empty() ? "" : " (" + i.cpu_model + ")")},
      {"rctune", i.version + (i.git_commit.empty() ? "" : " (" + i.git_commit + ")")},
      {"started", runlog::iso8601(i.start_time)},
      {"state", run_state(run)},
  };
  std::string resumes = std::to_string(i.resume_times.size());
  for (std::size_t k = 0; k < i.resume_times.size(); ++k)
    resumes += (k == 0 ? ": " : ", ") + runlog::iso8601(i.resume_times[k]);
  header.push_back({"resumes", resumes});
  for (auto& h : header) h[0] += ":";
  print_table(out, header, {true, true});
  out << "\n";

  std::vector<std::vector<std::string>> rows = {{"task", "measured", "illegal", "failed", "best GFLOP/s",
                                                 "x unscheduled", "x library", "library", "to 90%", "to 95%",
                                                 "time to best", "found by"}};
  for (const auto& t : tasks) {
    rows.push_back({t.name, std::to_string(t.measured), std::to_string(t.illegal), std::to_string(t.failed),
                    t.best ? fmt("%.2f", t.best->gflops) : "-", opt_fmt("%.2fx", t.speedup_reference, "-"),
                    opt_fmt("%.2fx", t.speedup_library, "-"), t.library_name.empty() ? "-" : t.library_name,
                    opt_count(t.to_90, "-"), opt_count(t.to_95, "-"),
                    t.best ? fmt("%.1f s", t.best->wall_time) : "-",
                    t.best ? t.best->strategy + "/" + t.best->proposer : "-"});
  }
  print_table(out, rows, {true, false, false, false, false, false, false, true, false, false, false, true});
  for (const auto& t : tasks)
    if (!t.reference_estimate.empty())
      out << t.name << ": the unscheduled kernel was timed on a smaller instance (" << t.reference_estimate
          << ")\n";
  std::map<std::string, std::size_t> sources;  // where baselines not measured in the run came from
  for (const auto& t : tasks)
    if (!t.baselines_source.empty()) ++sources[t.baselines_source];
  for (const auto& [source, n] : sources)
    out << "baselines of " << n << " task" << (n == 1 ? "" : "s") << " not measured in this run: " << source
        << "\n";
  if (run.tasks.size() > 1 || !run.allocations.empty()) print_model_latency(out, runlog::model_latency(run));
  if (!models.empty()) {
    out << "\nLLM (requests to language models, all tasks)\n";
    std::vector<std::vector<std::string>> llm = {{"model", "calls", "failed", "cache hits", "fallbacks",
                                                  "fallback rate", "prompt tokens", "completion tokens",
                                                  "cost USD", "mean latency"}};
    for (const auto& m : models)
      llm.push_back({m.model.empty() ? "-" : m.model, std::to_string(m.calls), std::to_string(m.failed),
                     std::to_string(m.cache_hits), std::to_string(m.fallbacks),
                     fmt("%.1f%%", m.fallback_percent()), std::to_string(m.prompt_tokens),
                     std::to_string(m.completion_tokens), fmt("%.4f", m.cost_usd),
                     opt_fmt("%.2f s", m.mean_latency_s(), "-")});
    print_table(out, llm, {true});
  }
  if (!run.ranks.empty()) {
    out << "\nranks (last session; shares of each rank's wall time)\n";
    std::vector<std::vector<std::string>> rows = {
        {"rank", "host", "group", "core", "samples", "wall", "search", "measure", "communication", "merge"}};
    auto share = [](double part, double whole) {
      return whole > 0 ? fmt("%.1f%%", 100 * part / whole) : "-";
    };
    for (const runlog::RankStats& r : run.ranks)
      rows.push_back({std::to_string(r.rank), r.host, std::to_string(r.group),
                      r.pin_core >= 0 ? std::to_string(r.pin_core) : "-", std::to_string(r.samples),
                      fmt("%.1f s", r.wall_s), share(r.search_s, r.wall_s), share(r.measure_s, r.wall_s),
                      share(r.comm_s, r.wall_s), share(r.merge_s, r.wall_s)});
    print_table(out, rows, {false, true});
  }
  for (const auto& t : tasks) {
    out << "\n# " << t.name;
    if (!t.best) {
      out << ": no sample measured correctly\n";
      continue;
    }
    out << ": best schedule, sample " << t.best->index << ", " << fmt("%.2f", t.best->gflops) << " GFLOP/s\n";
    out << (t.best->trace.empty() ? "(no transformations)" : t.best->trace);
    if (t.best->trace.empty() || t.best->trace.back() != '\n') out << "\n";
  }
}

// ---- csv ----

// RFC 4180: in double quotes, with each quote doubled.
std::string csv_quoted(const std::string& s) {
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string csv_field(const std::string& s) {
  return s.find_first_of(",\"\n\r") == std::string::npos ? s : csv_quoted(s);
}

constexpr const char* kCsvColumns =
    "task,measured,illegal,failed,best_gflops,best_sample,speedup_unscheduled,speedup_library,"
    "library,samples_to_90,samples_to_95,time_to_best_s,strategy,proposer,best_trace";

// One task's CSV fields, after `prefix` (the trace's path when several are reported).
void print_csv_row(std::ostream& out, const TaskSummary& t, const std::string& prefix) {
  std::vector<std::string> f = {
      csv_field(t.name), std::to_string(t.measured), std::to_string(t.illegal), std::to_string(t.failed),
      t.best ? fmt("%.10g", t.best->gflops) : "", t.best ? std::to_string(t.best->index) : "",
      opt_fmt("%.10g", t.speedup_reference, ""), opt_fmt("%.10g", t.speedup_library, ""),
      csv_field(t.library_name), opt_count(t.to_90, ""), opt_count(t.to_95, ""),
      t.best ? fmt("%.10g", t.best->wall_time) : "", t.best ? csv_field(t.best->strategy) : "",
      t.best ? csv_field(t.best->proposer) : "",
      // Always quoted: a trace is multi-line text.
      t.best ? csv_quoted(t.best->trace) : ""};
  out << prefix;
  for (std::size_t c = 0; c < f.size(); ++c) out << (c ? "," : "") << f[c];
  out << "\n";
}

void print_csv(std::ostream& out, const std::vector<TaskSummary>& tasks) {
  out << kCsvColumns << "\n";
  for (const auto& t : tasks) print_csv_row(out, t, "");
}

// ---- json ----

template <class T>
nlohmann::ordered_json or_null(const std::optional<T>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json model_json(const runlog::ModelLatency& m) {
  nlohmann::ordered_json tasks = nlohmann::ordered_json::array();
  for (const runlog::TaskLatency& t : m.tasks)
    tasks.push_back({{"name", t.name},
                     {"weight", t.weight},
                     {"best_s", or_null(t.best_s)},
                     {"weighted_s", or_null(t.model_s)},
                     {"share", t.share},
                     {"unscheduled_s", or_null(t.reference_s)},
                     {"library_s", or_null(t.library_s)},
                     {"gain_per_sample_s", or_null(t.gain_per_sample_s)},
                     {"gain_rounds", t.gain_rounds}});
  nlohmann::ordered_json rounds = nlohmann::ordered_json::array();
  for (const runlog::RoundLatency& r : m.rounds) {
    const runlog::AllocationRecord& a = r.allocation;
    rounds.push_back({{"round", a.round},
                      {"wall_time_s", a.wall_time},
                      {"group", a.group},
                      {"task", a.task},
                      {"scheduler", a.scheduler},
                      {"reason", a.reason},
                      {"priority", a.priority},
                      {"samples", a.samples},
                      {"spent", a.spent},
                      {"samples_so_far", r.run_samples},
                      {"task_best_s", a.task_best_s > 0 ? nlohmann::ordered_json(a.task_best_s) : nullptr},
                      {"latency_s", a.latency_s}});
  }
  return {{"tuned_s", m.tuned_s},
          {"tasks_left_out", m.missing},
          {"unscheduled_s", or_null(m.unscheduled_s)},
          {"library_tasks", m.library_tasks},
          {"library_s", m.library_tasks > 0 ? nlohmann::ordered_json(m.library_s) : nullptr},
          {"library_tuned_s", m.library_tasks > 0 ? nlohmann::ordered_json(m.library_tuned_s) : nullptr},
          {"tasks", tasks},
          {"worth_more_samples", runlog::worth_more_samples(m)},
          {"rounds", rounds}};
}

nlohmann::ordered_json run_json(const runlog::RunLog& run, const std::vector<TaskSummary>& tasks,
                                const std::vector<LlmSummary>& models) {
  const runlog::RunInfo& i = run.info;
  nlohmann::ordered_json resumes = nlohmann::ordered_json::array();
  for (double r : i.resume_times) resumes.push_back(runlog::iso8601(r));
  nlohmann::ordered_json out = {
      {"trace", run.path},
      {"format_version", run.format_version},
      {"run",
       {{"config_path", i.config_path},
        {"command_line", i.command_line},
        {"strategy", i.strategy},
        {"proposer", i.proposer},
        {"seed", i.seed},
        {"budget", i.budget},
        {"num_ranks", i.num_ranks},
        {"host", i.host},
        {"cpu_model", i.cpu_model},
        {"execution_space", i.execution_space},
        {"version", i.version},
        {"git_commit", i.git_commit},
        {"start_time", runlog::iso8601(i.start_time)},
        {"end_time", run.finished() ? nlohmann::ordered_json(runlog::iso8601(i.end_time))
                                    : nlohmann::ordered_json(nullptr)},
        {"finished", run.finished()},
        {"resumes", resumes}}},
      {"tasks", nlohmann::ordered_json::array()},
      {"llm", nlohmann::ordered_json::array()}};
  for (const auto& t : tasks) {
    nlohmann::ordered_json j = {
        {"name", t.name},
        {"samples", t.samples},
        {"measured", t.measured},
        {"illegal", t.illegal},
        {"failed", t.failed},
        {"reference_gflops", t.reference_gflops > 0 ? nlohmann::ordered_json(t.reference_gflops) : nullptr},
        {"reference_estimate", t.reference_estimate.empty() ? nlohmann::ordered_json(nullptr)
                                                            : nlohmann::ordered_json(t.reference_estimate)},
        {"baselines_source", t.baselines_source.empty() ? nlohmann::ordered_json(nullptr)
                                                        : nlohmann::ordered_json(t.baselines_source)},
        {"library",
         t.library_name.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(t.library_name)},
        {"library_gflops", t.library_gflops > 0 ? nlohmann::ordered_json(t.library_gflops) : nullptr},
        {"speedup_unscheduled", or_null(t.speedup_reference)},
        {"speedup_library", or_null(t.speedup_library)},
        {"samples_to_90", or_null(t.to_90)},
        {"samples_to_95", or_null(t.to_95)},
        {"best", nullptr}};
    if (t.best)
      j["best"] = {{"sample", t.best->index},        {"gflops", t.best->gflops},
                   {"median_s", t.best->median_s},   {"wall_time_s", t.best->wall_time},
                   {"strategy", t.best->strategy},   {"proposer", t.best->proposer},
                   {"rationale", t.best->rationale}, {"trace", t.best->trace}};
    out["tasks"].push_back(j);
  }
  for (const auto& m : models)
    out["llm"].push_back({{"model", m.model},
                          {"calls", m.calls},
                          {"failed", m.failed},
                          {"cache_hits", m.cache_hits},
                          {"fallbacks", m.fallbacks},
                          {"fallback_rate_percent", m.fallback_percent()},
                          {"prompt_tokens", m.prompt_tokens},
                          {"completion_tokens", m.completion_tokens},
                          {"cost_usd", m.cost_usd},
                          {"mean_latency_s", or_null(m.mean_latency_s())}});
  out["model"] = model_json(runlog::model_latency(run));
  out["ranks"] = nlohmann::ordered_json::array();
  for (const runlog::RankStats& r : run.ranks)
    out["ranks"].push_back({{"rank", r.rank},
                            {"host", r.host},
                            {"group", r.group},
                            {"node_rank", r.node_rank},
                            {"pin_core", r.pin_core},
                            {"samples", r.samples},
                            {"wall_s", r.wall_s},
                            {"search_s", r.search_s},
                            {"measure_s", r.measure_s},
                            {"comm_s", r.comm_s},
                            {"merge_s", r.merge_s}});
  return out;
}

// Names come from files and file names, which need not be UTF-8: invalid bytes become U+FFFD.
void print_json(const nlohmann::ordered_json& out) {
  std::cout << out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
}

// One trace read and summarised.
struct ReportedRun {
  runlog::RunLog run;
  std::vector<TaskSummary> tasks;
  std::vector<LlmSummary> models;
};

ReportedRun read_run(const std::string& path) {
  config::check_input_file(path, "the trace");
  ReportedRun r{runlog::read_run_log(path), {}, {}};
  for (const auto& t : r.run.tasks) r.tasks.push_back(summarize(t));
  r.models = summarize_llm(r.run);
  return r;
}

// Several runs side by side: one line per run, then one row per task and run (the tasks in the
// order they first appear), with each run's best against the fastest run's for the task, and
// each run's estimated model latency when a run has several tasks or rounds.
void print_side_by_side(std::ostream& out, const std::vector<ReportedRun>& runs) {
  out << "traces\n";
  std::vector<std::vector<std::string>> header;
  for (std::size_t k = 0; k < runs.size(); ++k) {
    const runlog::RunLog& run = runs[k].run;
    const runlog::RunInfo& i = run.info;
    header.push_back({"[" + std::to_string(k + 1) + "]", run.path,
                      i.strategy + " (proposer " + i.proposer + "), seed " + std::to_string(i.seed) +
                          ", budget " + budget_text(run) + ", " + std::to_string(i.num_ranks) + " rank" +
                          (i.num_ranks == 1 ? "" : "s") + ", " + run_state(run)});
  }
  print_table(out, header, {true, true, true});
  out << "\n";
  std::vector<std::string> names;
  for (const ReportedRun& r : runs)
    for (const TaskSummary& t : r.tasks)
      if (std::find(names.begin(), names.end(), t.name) == names.end()) names.push_back(t.name);
  std::vector<std::vector<std::string>> rows = {{"task", "trace", "strategy", "measured", "illegal", "failed",
                                                 "best GFLOP/s", "of fastest", "x unscheduled", "x library",
                                                 "to 90%", "to 95%", "time to best", "found by"}};
  for (const std::string& name : names) {
    double fastest = 0;
    for (const ReportedRun& r : runs)
      for (const TaskSummary& t : r.tasks)
        if (t.name == name && t.best) fastest = std::max(fastest, t.best->gflops);
    bool first = true;
    for (std::size_t k = 0; k < runs.size(); ++k)
      for (const TaskSummary& t : runs[k].tasks) {
        if (t.name != name) continue;
        const runlog::RunInfo& i = runs[k].run.info;
        rows.push_back({first ? t.name : "", "[" + std::to_string(k + 1) + "]", i.strategy + "/" + i.proposer,
                        std::to_string(t.measured), std::to_string(t.illegal), std::to_string(t.failed),
                        t.best ? fmt("%.2f", t.best->gflops) : "",
                        t.best && fastest > 0 ? fmt("%.1f%%", 100 * t.best->gflops / fastest) : "-",
                        opt_fmt("%.2fx", t.speedup_reference, "-"), opt_fmt("%.2fx", t.speedup_library, "-"),
                        opt_count(t.to_90, "-"), opt_count(t.to_95, "-"),
                        t.best ? fmt("%.1f s", t.best->wall_time) : "-",
                        t.best ? t.best->strategy + "/" + t.best->proposer : "-"});
        if (!t.best) rows.back()[6] = "-";
        first = false;
      }
  }
  print_table(out, rows,
              {true, true, true, false, false, false, false, false, false, false, false, false, false, true});
  bool model = false;
  for (const ReportedRun& r : runs) model = model || r.run.tasks.size() > 1 || !r.run.allocations.empty();
  if (model) {
    out << "\nestimated model latency (sum over tasks of weight x time per run; untuned operators and time "
           "between kernels left out)\n";
    std::vector<std::vector<std::string>> latency = {{"trace", "tuned", "unscheduled", "rounds", "left out"}};
    for (std::size_t k = 0; k < runs.size(); ++k) {
      const runlog::ModelLatency m = runlog::model_latency(runs[k].run);
      latency.push_back({"[" + std::to_string(k + 1) + "]", duration(m.tuned_s),
                         m.unscheduled_s ? duration(*m.unscheduled_s) : "-", std::to_string(m.rounds.size()),
                         std::to_string(m.missing)});
    }
    print_table(out, latency, {true});
  }
  out << "\n(the best schedules, LLM calls and ranks of each run: rctune report TRACE)\n";
}

int report_one(const std::string& path, const std::string& format) {
  const ReportedRun r = read_run(path);
  if (format == "json") {
    print_json(run_json(r.run, r.tasks, r.models));  // JSON escapes every control byte itself
    return 0;
  }
  // A trace may come from others: its names and schedules reach the terminal only as text.
  std::ostringstream text;
  if (format == "csv")
    print_csv(text, r.tasks);  // tasks only: the LLM summary is in the table and JSON formats
  else
    print_text(text, r.run, r.tasks, r.models);
  std::cout << terminal_safe(text.str());
  return 0;
}

}  // namespace

int run_report(const ReportArgs& a) {
  RCTUNE_CHECK(!a.trace_files.empty());
  if (a.trace_files.size() == 1) return report_one(a.trace_files.front(), a.format);
  std::vector<ReportedRun> runs;
  for (const std::string& path : a.trace_files) runs.push_back(read_run(path));
  if (a.format == "json") {
    nlohmann::ordered_json all = {{"runs", nlohmann::ordered_json::array()}};
    for (const ReportedRun& r : runs) all["runs"].push_back(run_json(r.run, r.tasks, r.models));
    print_json(all);
    return 0;
  }
  std::ostringstream text;
  if (a.format == "csv") {
    text << "trace," << kCsvColumns << "\n";
    for (const ReportedRun& r : runs)
      for (const TaskSummary& t : r.tasks) print_csv_row(text, t, csv_field(r.run.path) + ",");
  } else {
    print_side_by_side(text, runs);
  }
  std::cout << terminal_safe(text.str());
  return 0;
}

}  // namespace rctune::apps
