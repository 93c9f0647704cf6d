// Which kernels a package holds: the best schedule of each task of a trace, or the fastest record of
// each workload of a tuning database on one machine (include/rctune/package/package.h).
#include <algorithm>
#include <map>
#include <set>

#include "package/function_names.h"
#include "rctune/build_config.h"
#include "rctune/config/tune_config.h"
#include "rctune/database/record.h"
#include "rctune/ir/operators.h"
#include "rctune/ir/parser.h"
#include "rctune/ir/text.h"
#include "rctune/package/package.h"

namespace rctune::package {

namespace {

// The compiler flags a run measured with: its config's measure.flags, else this build's default
// (the run's rctune used its own, which --version names; the manifest keeps both).
std::string flags_of_run(const runlog::RunInfo& info) {
  try {
    const config::TuneConfig c = config::parse_tune_config(info.config_text, "the trace's config");
    if (!c.measure.flags.empty()) return database::normalize_flags(c.measure.flags);
  } catch (const std::exception&) {
    // A config that names workload files the exporting machine does not have: its flags are the
    // default unless it set them, which the text shows; keep the default.
  }
  return database::normalize_flags(RCTUNE_JIT_FLAGS);
}

// A task's workload from the listing the trace keeps: a library operator is built again (exactly
// what was tuned, constants and all), a hand-written one parsed from its listing.
ir::Workload task_workload(const runlog::TaskInfo& info) {
  const std::string first = info.workload.substr(0, info.workload.find('\n'));
  const std::string name = first.rfind("workload ", 0) == 0 ? first.substr(9) : "";
  if (ir::is_operator_spec(name)) {
    try {
      ir::Workload w = ir::make_operator(name);
      if (ir::to_string(w) == info.workload) return w;
    } catch (const ir::OperatorSpecError&) {
      // A hand-written workload whose name looks like a spec: its listing says what it is.
    }
  }
  return ir::parse_listing(info.workload);
}

// The kernels' functions are named after their tasks.
void name_functions(std::vector<PackageKernel>& ks) {
  std::vector<std::string> names;
  for (const auto& k : ks) names.push_back(k.task);
  const std::vector<std::string> fns = detail::function_names(names);
  for (size_t i = 0; i < ks.size(); ++i) ks[i].function = fns[i];
}

}  // namespace

std::vector<PackageKernel> kernels_from_trace(const runlog::RunLog& run, const std::string& trace_path,
                                              const Selection& s, std::vector<std::string>* skipped) {
  std::set<std::string> wanted(s.tasks.begin(), s.tasks.end());
  for (const std::string& t : s.tasks)
    if (!run.task(t)) {
      std::vector<std::string> names;
      for (const auto& tl : run.tasks) names.push_back(tl.info.name);
      throw ExportError("task '" + t + "' is not in " + trace_path + " (its tasks: " + ir::join(names) + ")");
    }
  // dist::kSimulated: a run with `--simulate` compiled nothing; its times are a model's.
  if (run.info.execution_space == "simulated")
    throw ExportError(trace_path +
                      " is a simulated run (rctune tune --simulate): its kernels were never compiled "
                      "or measured, so there is nothing tuned to export");
  const std::string flags = flags_of_run(run.info);
  std::vector<PackageKernel> out;
  for (const runlog::TaskLog& t : run.tasks) {
    if (!wanted.empty() && !wanted.count(t.info.name)) continue;
    if (!t.best) {
      if (!wanted.empty())
        throw ExportError("task '" + t.info.name + "' of " + trace_path +
                          " has no correct sample: there is no kernel to export (tune it first)");
      if (skipped) skipped->push_back(t.info.name);
      continue;
    }
    PackageKernel k;
    k.task = t.info.name;
    try {
      k.workload = task_workload(t.info);
    } catch (const std::exception& e) {
      throw ExportError("task '" + t.info.name + "' of " + trace_path +
                        ": its workload does not parse: " + e.what());
    }
    k.workload_key = database::workload_key(k.workload);
    k.schedule = t.best->trace;
    k.seconds = t.best->median_s;
    k.gflops = t.best->gflops;
    KernelOrigin& o = k.origin;
    o.run = trace_path;
    o.sample = "sample " + std::to_string(t.best->sample);
    o.cpu_model = run.info.cpu_model;
    o.execution_space = run.info.execution_space;
    o.flags = flags;
    o.version = run.info.version;
    o.commit = run.info.git_commit;
    o.utc = runlog::iso8601(run.info.start_time);
    o.samples = static_cast<int64_t>(runlog::measured_samples(t).size());
    out.push_back(std::move(k));
  }
  if (out.empty())
    throw ExportError(trace_path + " has no task with a correct sample: there is no kernel to export");
  name_functions(out);
  return out;
}

std::vector<PackageKernel> kernels_from_database(const database::Database& db, const std::string& hardware,
                                                 const Selection& s) {
  // The wanted workloads as keys: a spec is canonicalised, a key is taken as it is.
  std::vector<std::string> wanted;
  for (const std::string& t : s.tasks) {
    if (t.rfind("workload:", 0) == 0 || !ir::is_operator_spec(t)) {
      wanted.push_back(t);
      continue;
    }
    try {
      wanted.push_back(ir::canonical_operator_spec(t));
    } catch (const std::exception& e) {
      throw ExportError(std::string("--tasks: ") + e.what());
    }
  }
  // The fastest record per workload on the machine.
  std::map<std::string, const database::TuningRecord*> best;
  std::map<std::string, int> machines;
  for (const database::TuningRecord& r : db.all()) {
    ++machines[r.hardware.id + " (" + r.hardware.model + ", " + r.hardware.execution_space + ")"];
    if (r.hardware.id.rfind(hardware, 0) != 0 || !(r.gflops > 0)) continue;
    const database::TuningRecord*& b = best[r.workload];
    if (!b || database::faster(r, *b)) b = &r;
  }
  if (best.empty()) {
    std::string known;
    for (const auto& [m, n] : machines) known += "\n  " + m + ": " + std::to_string(n) + " records";
    throw ExportError("the tuning database " + db.dir() + " has no schedule record of hardware '" + hardware +
                      "'" +
                      (known.empty() ? std::string(" (it holds no records)") : " (it holds:" + known + ")"));
  }
  std::vector<const database::TuningRecord*> chosen;
  if (wanted.empty()) {
    for (const auto& [key, r] : best) chosen.push_back(r);
  } else {
    for (const std::string& w : wanted) {
      auto it = best.find(w);
      if (it == best.end())
        throw ExportError("the tuning database " + db.dir() + " has no record of workload '" + w +
                          "' on hardware '" + hardware + "'");
      chosen.push_back(it->second);
    }
  }
  std::vector<PackageKernel> out;
  for (const database::TuningRecord* r : chosen) {
    PackageKernel k;
    k.task = detail::name_of_workload_key(r->workload);
    const std::optional<ir::Workload> w = database::workload_of(*r);
    if (!w)
      throw ExportError("record " + r->id + " of workload " + r->workload +
                        " keeps no workload text: it cannot be exported");
    k.workload = *w;
    k.workload_key = r->workload;
    k.schedule = r->schedule;
    k.seconds = r->seconds;
    k.gflops = r->gflops;
    KernelOrigin& o = k.origin;
    o.run = r->run;
    o.sample = "database record " + r->id;
    o.cpu_model = r->hardware.model;
    o.hardware_id = r->hardware.id;
    o.execution_space = r->hardware.execution_space;
    o.flags = r->flags;
    o.version = r->version;
    o.utc = r->utc;
    o.samples = r->samples;
    out.push_back(std::move(k));
  }
  name_functions(out);
  return out;
}

std::vector<PackageKernel> merge_kernels(const std::vector<std::vector<PackageKernel>>& sources,
                                         std::vector<std::string>* dropped) {
  std::vector<PackageKernel> out;
  std::map<std::string, size_t> at;  // workload key -> index in out
  for (const auto& source : sources)
    for (const PackageKernel& k : source) {
      auto [it, added] = at.emplace(k.workload_key, out.size());
      if (added) {
        out.push_back(k);
        continue;
      }
      PackageKernel& kept = out[it->second];
      const bool faster = k.seconds > 0 && (kept.seconds <= 0 || k.seconds < kept.seconds);
      const PackageKernel& loser = faster ? kept : k;
      if (dropped)
        dropped->push_back("task " + loser.task + " of " + loser.origin.run + " (" + loser.workload_key +
                           "): a faster kernel of its workload is kept");
      if (faster) kept = k;
    }
  name_functions(out);
  return out;
}

}  // namespace rctune::package
