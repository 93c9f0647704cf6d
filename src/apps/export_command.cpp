// rctune export: the best kernel of each task of a trace or a tuning database, as a CMake package
// that a serving program links (docs/deploy.md).
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "rctune/apps/commands.h"
#include "rctune/apps/terminal_text.h"
#include "rctune/database/database.h"
#include "rctune/package/package.h"
#include "rctune/runlog/runlog.h"

namespace rctune::apps {

namespace fs = std::filesystem;

namespace {

// The fingerprint id of this host's records in `db`: the machine with this CPU (any execution
// space). Throws ExportError when there is none or more than one, naming the machines and --hardware.
std::string this_host_in(const database::Database& db) {
  const database::HardwareFingerprint host = database::host_fingerprint();
  std::map<std::string, std::pair<std::string, int>> machines;  // id -> (description, records)
  std::set<std::string> mine;
  for (const database::TuningRecord& r : db.all()) {
    auto& m = machines[r.hardware.id];
    m.first = r.hardware.model + ", " + r.hardware.execution_space + ", " + std::to_string(r.hardware.cores) +
              " cores";
    ++m.second;
    if (r.hardware.vendor == host.vendor && r.hardware.model == host.model &&
        r.hardware.features == host.features)
      mine.insert(r.hardware.id);
  }
  if (mine.size() == 1) return *mine.begin();
  std::string list;
  for (const auto& [id, m] : machines)
    list += "\n  " + id + "  " + m.first + ": " + std::to_string(m.second) + " records";
  if (mine.empty())
    throw package::ExportError(
        "the tuning database " + db.dir() + " has no records of this machine (" + host.model +
        "); choose one with --hardware ID:" + (list.empty() ? std::string(" it is empty") : list));
  throw package::ExportError("the tuning database " + db.dir() + " has records of this machine's CPU on " +
                             std::to_string(mine.size()) +
                             " configurations; choose one with --hardware ID:" + list);
}

}  // namespace

int run_export(const ExportArgs& a) {
  package::PackageOptions o;
  o.name = a.name;
  o.target = a.target == "cuda" ? codegen::Space::Cuda : codegen::Space::Host;
  if (const std::string why = package::package_name_problem(o.name); !why.empty())
    throw package::ExportError("--name '" + o.name + "': " + why);
  std::vector<package::PackageKernel> kernels;
  std::vector<std::string> skipped, dropped;
  std::error_code ec;
  if (a.sources.size() == 1 && fs::is_directory(a.sources.front(), ec)) {
    const std::string& dir = a.sources.front();
    const database::Database db(dir);
    const std::string hardware = a.hardware.empty() ? this_host_in(db) : a.hardware;
    kernels = package::kernels_from_database(db, hardware, {a.tasks});
    o.source = "tuning database " + dir + ", hardware " + hardware;
  } else {
    if (!a.hardware.empty())
      throw package::ExportError(
          "--hardware chooses among a tuning database's machines; a trace was measured on one");
    // Each trace gives the tasks of --tasks it has (all of them without --tasks); every task named
    // must be in one of them.
    std::vector<std::vector<package::PackageKernel>> per_trace;
    std::set<std::string> found;
    for (const std::string& path : a.sources) {
      if (fs::is_directory(path, ec))
        throw package::ExportError(
            path + " is a directory: a tuning database is exported on its own, not with traces");
      const runlog::RunLog run = runlog::read_run_log(path);
      package::Selection sel;
      for (const std::string& t : a.tasks)
        if (run.task(t)) sel.tasks.push_back(t);
      if (!a.tasks.empty() && sel.tasks.empty()) continue;
      found.insert(sel.tasks.begin(), sel.tasks.end());
      per_trace.push_back(package::kernels_from_trace(run, path, sel, &skipped));
      o.source += (o.source.empty() ? "trace " : ", trace ") + path;
    }
    for (const std::string& t : a.tasks)
      if (!found.count(t)) throw package::ExportError("task '" + t + "' is in none of the traces given");
    kernels = package::merge_kernels(per_trace, &dropped);
  }
  package::write_package(kernels, o, a.out);

  std::printf("wrote package %s (%zu kernel%s) to %s\n", o.name.c_str(), kernels.size(),
              kernels.size() == 1 ? "" : "s", terminal_safe(a.out).c_str());
  std::printf("  %-28s %10s  %s\n", "function", "GFLOP/s", "workload");
  for (const package::PackageKernel& k : kernels)
    std::printf("  %-28s %10.1f  %s\n", k.function.c_str(), k.gflops, terminal_safe(k.workload_key).c_str());
  for (const std::string& t : skipped)
    std::printf("  left out: task %s has no correct sample\n", terminal_safe(t).c_str());
  for (const std::string& d : dropped) std::printf("  left out: %s\n", terminal_safe(d).c_str());
  std::printf(
      "build and install it:\n  cmake -S %s -B %s/build -DCMAKE_BUILD_TYPE=Release && cmake --build %s/build "
      "&& cmake --install %s/build --prefix PREFIX\n",
      terminal_safe(a.out).c_str(), terminal_safe(a.out).c_str(), terminal_safe(a.out).c_str(),
      terminal_safe(a.out).c_str());
  return 0;
}

}  // namespace rctune::apps
