// The protocol between the tuner and an `rctune-worker` process: newline-delimited JSON, one
// request line in, one response line out. See docs/runtime.md for the full description.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rctune/runtime/status.h"

namespace rctune::runtime {

enum class BufferRole { Input, Intermediate, Output };
const char* role_name(BufferRole r);  // "input", "intermediate", "output"

// One kernel argument: buffers[i] of the kernel ABI, row-major, 64-byte aligned.
struct BufferSpec {
  std::string name;
  std::string dtype = "f32";  // "f32" or "f64"
  std::vector<int64_t> shape;
  BufferRole role = BufferRole::Input;
  int64_t num_elements() const;
};

// Tolerance for comparing a candidate output c with the reference r (both as double):
//   |c - r| <= atol + rtol * |r|.
// Unset fields take the defaults of default_tolerance().
struct Tolerance {
  std::optional<double> atol;
  std::optional<double> rtol;
};

struct ResolvedTolerance {
  double atol = 0;
  double rtol = 0;
};

// Default tolerance for one output buffer, from its dtype, the reduction length L that produced
// it (1 for purely elementwise work) and the RMS of the reference output `ref_rms`:
//   base = 1e-4 (f32) or 1e-10 (f64);  rtol = base * sqrt(L);  atol = rtol * max(ref_rms, 1e-3).
// The sqrt(L) factor follows the growth of rounding errors in a reordered sum; the atol term
// scaled by the output's RMS keeps elements that cancel to near zero from failing.
ResolvedTolerance default_tolerance(const std::string& dtype, int64_t reduction_length, double ref_rms,
                                    const Tolerance& overrides = {});

struct TimingOptions {
  int warmup = 1;           // untimed runs after the correctness run
  double min_time_s = 0.2;  // keep repeating until the timed runs add up to this ...
  int min_repeats = 3;      // ... and at least this many runs were timed
  int max_repeats = 1000;   // never more than this many timed runs
};

// How the worker checks and times a kernel: what the tuner's measure options and the worker's
// request share.
struct KernelRunOptions {
  uint64_t seed = 1;    // the inputs' random values
  Tolerance tolerance;  // unset fields: default_tolerance()
  TimingOptions timing;
  int pin_core = -1;         // >= 0: the worker pins itself to this core
  bool flush_cache = false;  // touch a 64 MB buffer before each timed run
  bool check_only = false;   // compare against the reference but do not time
  std::string test_fault;    // tests only: "segfault", "hang", "abort" (see docs/runtime.md); the
                             // worker must run with enable_test_faults
};

struct WorkerRequest : KernelRunOptions {
  uint64_t id = 0;
  std::vector<BufferSpec> buffers;
  std::string reference_so;  // exports rctune_reference(double* const*)
  std::string kernel_so;     // exports rctune_kernel(void* const*)
  int64_t reduction_length = 1;
  // > 0: stop taking samples (after the first) once this many seconds have passed since the
  // request arrived, so that a slow but correct kernel is reported rather than timed out. The
  // tuner sets it below its own timeout.
  double time_budget_s = 0;
};

struct TimingStats {
  // Seconds per kernel run. Each of the `repeats` samples is the mean of `batch` back-to-back
  // runs (batch > 1 only for kernels shorter than 50 us, and never with a cache flush).
  double median_s = 0, min_s = 0, max_s = 0, mean_s = 0, iqr_s = 0;
  int repeats = 0;
  int batch = 1;
};

// Largest deviation found by the correctness check (over all output buffers).
struct ErrorStats {
  double max_abs = 0;            // max |c - r|
  double max_rel = 0;            // max |c - r| / |r| over elements with r != 0
  std::string first_bad_buffer;  // empty when every element is within tolerance
  int64_t first_bad_index = -1;  // flat row-major index into first_bad_buffer
  double expected = 0, got = 0;  // reference and candidate values at first_bad_index
  double atol = 0, rtol = 0;     // tolerance that was applied to first_bad_buffer (or the last one)
  int64_t bad_count = 0;         // number of elements outside the tolerance
};

struct WorkerResponse {
  uint64_t id = 0;
  Status status = Status::RuntimeError;  // never Illegal
  std::string message;
  TimingStats times;
  ErrorStats errors;
  bool reference_cached = false;  // the reference output came from the worker's cache
};

nlohmann::json to_json(const WorkerRequest& r);
WorkerRequest request_from_json(const nlohmann::json& j);  // throws nlohmann::json::exception
nlohmann::json to_json(const WorkerResponse& r);
WorkerResponse response_from_json(const nlohmann::json& j);

// Summary statistics of a list of run times (seconds); `times` need not be sorted.
TimingStats summarize_times(std::vector<double> times);

}  // namespace rctune::runtime
