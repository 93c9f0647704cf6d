// What both programs do once their blocks are built: report the package's kernels, check both
// compositions against the reference, time them in turn; and the frame around it (OpenBLAS on one
// thread, Kokkos initialised, the package's errors turned into exit codes).
#pragma once

#include <cblas.h>

#include <Kokkos_Core.hpp>
#include <cstdio>
#include <exception>
#include <functional>
#include <vector>

#include "block_util.hpp"
#include "package_steps.hpp"

namespace example {

// `package` and `openblas` are callables with the block's output in a member Y; `reference`
// computes that output in double precision.
template <class PackageBlock, class OpenBlasBlock>
int check_and_time(const char* block, const RunOptions& run, PackageBlock& package, OpenBlasBlock& openblas,
                   const std::function<std::vector<double>()>& reference, double bound) {
  print_kernels(package.steps);
  if (run.require_tuned) require_tuned(package.steps);
  if (run.list_only) return 0;

  package();
  openblas();
  std::vector<double> want = reference();
  bool ok = check_output("package", package.Y, want, bound);
  ok = check_output("openblas", openblas.Y, want, bound) && ok;
  if (!ok) return kExitMismatch;

  print_timing(block,
               time_alternating([&] { package(); }, [&] { openblas(); }, static_cast<int>(run.repeat)));
  return 0;
}

// Runs `body` with OpenBLAS on one thread (the package's kernels run on one core, Kokkos Serial, too)
// and Kokkos initialised. The package's NotTuned is exit status kExitNotTuned, other errors kExitMismatch.
inline int run_program(const char* block, const std::function<int()>& body) {
  openblas_set_num_threads(1);
  Kokkos::ScopeGuard kokkos;
  try {
    return body();
  } catch (const pkg::NotTuned& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return kExitNotTuned;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", block, e.what());
    return kExitMismatch;
  }
}

}  // namespace example
