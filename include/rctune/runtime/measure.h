// The measurement entry point for the command line and the search: a workload and the source
// of its candidate kernel and reference kernel (however they were produced) -> Measurement.
#pragma once

#include <string>
#include <vector>

#include "rctune/ir/workload.h"
#include "rctune/runtime/measurer.h"

namespace rctune::runtime {

// Kernel arguments of a workload: every tensor in declaration order, with its role.
std::vector<BufferSpec> workload_buffers(const ir::Workload& w);

// Reduction length that scales the correctness tolerance: the sum over stages of the product
// of their reduction extents (errors of chained reductions add up), at least 1.
int64_t workload_reduction_length(const ir::Workload& w);

// Compiles both sources (cached), checks and times the candidate in `m`'s worker, and fills
// Measurement::gflops from Workload::flops() and the median time.
Measurement measure_workload(Measurer& m, const ir::Workload& w, const std::string& kernel_source,
                             const std::string& reference_source, const MeasureOptions& opts = {},
                             SourceKind kernel_kind = SourceKind::Kokkos);

}  // namespace rctune::runtime
