// Features of a scheduled, lowered loop nest for the cost model (rctune/search/cost_model.h).
//
// A program becomes a fixed-length vector of doubles whose entries have stable names
// (feature_names(); docs/cost-model.md describes each one). As in TVM's MetaSchedule and Ansor,
// the nest is read per Store statement: each store gets its loop context (extents and kinds of the
// enclosing loops, vector lanes, unrolled iterations, parallel extent), its arithmetic, its
// accesses (bytes, innermost stride, reuse distance) and its guards; the per-store values are then
// aggregated over the whole kernel (a sum or a mean weighted by executions, per feature). Kernel-wide
// values follow: flops, unique bytes touched, estimated traffic into L1/L2/L3 from per-loop
// footprints compared with the cache sizes, arithmetic intensity, allocations by scope.
//
// Sizes, counts and extents are log-transformed, log2(1 + x), as MetaSchedule does; fractions and
// ratios stay linear. Extraction is deterministic and takes well under a millisecond for a matmul.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "rctune/ir/stmt.h"
#include "rctune/schedule/state.h"

namespace rctune::search {

// What the features compare working sets and parallel work with.
struct HardwareInfo {
  int64_t l1_bytes = 32 * 1024;         // L1 data cache per core
  int64_t l2_bytes = 1024 * 1024;       // L2 per core
  int64_t l3_bytes = 32 * 1024 * 1024;  // last level, shared
  int vector_bytes = 32;                // SIMD register width (16 SSE/NEON, 32 AVX2, 64 AVX-512)
  int cores = 1;                        // CPUs this process may run on
  // Vector registers the ISA exposes (16 below AVX-512, 32 with it): the register budget of
  // local buffers.
  int vector_registers() const { return vector_bytes >= 64 ? 32 : 16; }
};

// Reads the cache sizes of cpu0 from `cache_dir` (files index*/level, index*/type and
// index*/size such as "48K"), the vector width from the CPU running this process and the cores
// from its affinity mask. Anything that cannot be read keeps the default of HardwareInfo.
HardwareInfo read_hardware_info(const std::string& cache_dir = "/sys/devices/system/cpu/cpu0/cache");

// The host's HardwareInfo, read once.
const HardwareInfo& host_hardware_info();

// How a feature combines the values of the stores of a kernel.
enum class FeatureAggregation {
  Kernel,               // one value of the whole kernel (a total, a count, a ratio of totals)
  StoreMean,            // per store, then the mean weighted by the store's executions
  VectorizedStoreMean,  // per store, then the mean weighted by the executions of vectorized stores
};

struct FeatureInfo {
  std::string name;         // e.g. "vector_lanes"
  std::string description;  // one line: what it measures, how it is aggregated, whether log2(1+x)
  FeatureAggregation aggregation = FeatureAggregation::Kernel;
};

// Names and descriptions, in vector order. The order never changes within a version; new
// features are appended.
const std::vector<FeatureInfo>& feature_info();
std::vector<std::string> feature_names();
size_t num_features();
// Index of a feature by name; throws std::invalid_argument naming it when unknown.
size_t feature_index(const std::string& name);

// Features of a lowered kernel.
std::vector<double> extract_features(const ir::LoweredFunc& func,
                                     const HardwareInfo& hw = host_hardware_info());
// Lowers the state first (throws schedule::ScheduleError when it cannot be lowered).
std::vector<double> extract_features(const schedule::State& state,
                                     const HardwareInfo& hw = host_hardware_info());

// The log transform of sizes, log2(1 + x), and its inverse, 2^y - 1.
inline double log2p(double x) { return std::log2(1.0 + x); }
inline double unlog2p(double y) { return std::exp2(y) - 1.0; }

}  // namespace rctune::search
