// Exported kernel packages: the best kernel of each tuned task as a CMake source package that a
// serving program links (`rctune export`, docs/deploy.md).
//
// A package is a directory:
//   CMakeLists.txt              builds library NAME against the user's Kokkos (find_package(Kokkos)) and
//                               installs a CMake package: find_package(NAME) gives target NAME::NAME
//   include/NAME/NAME.hpp       one documented function per kernel, the lookup by workload spec, run()
//   src/NAME.cpp                the registry, the typed functions, workspaces, the generic fallback
//   src/generic_kernels.hpp     runtime-shape kernels of every library operator (the fallback)
//   src/kernels/FUNCTION.cpp    one generated Kokkos kernel per task, entry NAME_FUNCTION_kernel
//   manifest.json               where every kernel came from (run, machine, flags, GFLOP/s, schedule)
//
// Collecting the kernels (from a trace or a tuning database) is separate from writing them, so that
// both sources give the same package.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "rctune/codegen/kokkos.h"
#include "rctune/database/database.h"
#include "rctune/ir/workload.h"
#include "rctune/runlog/runlog.h"

namespace rctune::package {

// A user's mistake in what to export (no such task, nothing tuned, a bad package name, an output
// directory that is not ours to write) or a source that cannot be read. The message names it.
class ExportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where one kernel came from.
struct KernelOrigin {
  std::string run;              // the trace file of the run that measured it
  std::string sample;           // "sample 41" of the run, or "database record 0123abcd..."
  std::string cpu_model;        // the machine it was measured on
  std::string hardware_id;      // its fingerprint id ("" when the source does not say)
  std::string execution_space;  // the Kokkos execution space it ran in
  std::string flags;            // compiler flags it was measured with
  std::string version;          // rctune version that tuned it
  std::string commit;           // rctune commit that tuned it ("" when the source does not say)
  std::string utc;              // when it was tuned (the run's start, or the record's time)
  int64_t samples = 0;          // samples spent on its task
};

// One kernel of a package: the best schedule of one task.
struct PackageKernel {
  std::string task;          // task name in the run, or the workload key for a database export
  std::string function;      // C++ identifier of its function in the package (function_names.h)
  ir::Workload workload;     // the unscheduled workload
  std::string workload_key;  // database::workload_key(workload): a canonical spec or "workload:HASH"
  std::string schedule;      // the schedule's trace text
  double seconds = 0;        // median seconds per run when tuned
  double gflops = 0;
  KernelOrigin origin;
};

struct Selection {
  std::vector<std::string> tasks;  // task names (trace) or workload specs / keys (database); empty: all
};

// The best kernel of each task of a finished or interrupted run's trace (tasks without a correct
// sample are left out, and named in *skipped). Throws ExportError for a task in `s` the run does
// not have or has no correct sample of.
std::vector<PackageKernel> kernels_from_trace(const runlog::RunLog& run, const std::string& trace_path,
                                              const Selection& s, std::vector<std::string>* skipped);

// The fastest schedule record of each workload of the database measured on machine `hardware` (a
// fingerprint id or a prefix of one). Throws ExportError when no record matches, or for a workload
// in `s` without a record.
std::vector<PackageKernel> kernels_from_database(const database::Database& db, const std::string& hardware,
                                                 const Selection& s);

// The kernels of several sources (the runs of several models) as one package's: one kernel per
// workload, the fastest (each other one is described in *dropped), functions named again so that
// they stay distinct ("gate" and "gate_2" for two tasks named gate).
std::vector<PackageKernel> merge_kernels(const std::vector<std::vector<PackageKernel>>& sources,
                                         std::vector<std::string>* dropped);

struct PackageOptions {
  std::string name = "rctune_kernels";  // lower-case C identifier: namespace, target, header, CMake package
  codegen::Space target = codegen::Space::Host;
  std::string source;  // what it was exported from ("trace run.h5", "database DIR"), for the manifest
};

// Why `name` cannot name a package ("" when it can).
std::string package_name_problem(const std::string& name);

// Writes the package into `out_dir`: created when missing; an existing directory must be empty or
// hold a package rctune wrote (its manifest.json), which is replaced. Kernels are generated again
// from their schedules (the same code generation as the run measured). Throws ExportError.
void write_package(const std::vector<PackageKernel>& kernels, const PackageOptions& o,
                   const std::string& out_dir);

}  // namespace rctune::package
