// What both programs do once their blocks are built: report the package's kernels, check both
// compositions against the reference, time them in turn; and the frame around it (OpenBLAS on one
// thread, Kokkos initialised, the package's errors turned into exit codes).
#pragma once

#include <cblas.h>

#include <Kokkos_Core.hpp>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "block_util.hpp"
#include "package_steps.hpp"

namespace example {

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

// A whole program once its command line is read: builds the inputs of `shape` (seed 1), the block
// from the package (PackageBlock: callable, with `steps` and the output `Y`) and from OpenBLAS
// (OpenBlasBlock: callable, with `Y`); reports the package's kernels; checks both outputs against
// `reference` (at most `bound` relative error); times both in turn. `description` names the shape.
template <class Inputs, class PackageBlock, class OpenBlasBlock, class Shape>
int run_block(const char* block, const std::string& description, const RunOptions& run, const Shape& shape,
              std::vector<double> (*reference)(const Shape&, const Inputs&), double bound) {
  return run_program(block, [&] {
    std::printf("block: %s %s package=%s\n", block, description.c_str(), EXAMPLE_PACKAGE_NAME);
    Inputs in(shape, 1);
    PackageBlock package(shape, in);
    OpenBlasBlock openblas(shape, in);
    print_kernels(package.steps);
    if (run.require_tuned) require_tuned(package.steps);
    if (run.list_only) return 0;

    package();
    openblas();
    std::vector<double> want = reference(shape, in);
    bool ok = check_output("package", package.Y, want, bound);
    ok = check_output("openblas", openblas.Y, want, bound) && ok;
    if (!ok) return kExitMismatch;

    print_timing(block,
                 time_alternating([&] { package(); }, [&] { openblas(); }, static_cast<int>(run.repeat)));
    return 0;
  });
}

}  // namespace example
