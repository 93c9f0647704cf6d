// Compile a candidate and its reference, run them in a supervised worker, and return one
// Measurement: a status, a message, and (for status ok) the run-time statistics.
#pragma once

#include <string>
#include <vector>

#include "rctune/runtime/jit_compiler.h"
#include "rctune/runtime/protocol.h"
#include "rctune/runtime/worker_pool.h"

namespace rctune::runtime {

struct Measurement {
  Status status = Status::RuntimeError;
  std::string message;                   // empty for ok; otherwise what went wrong, for a person to read
  TimingStats times;                     // valid for ok
  ErrorStats errors;                     // correctness check (valid for ok and wrong_result)
  double compile_seconds = 0;            // candidate's compile wall time in this call (0 if cached)
  double reference_compile_seconds = 0;  // reference's compile wall time in this call (0 if cached)
  bool cache_hit = false;                // the candidate's shared object came from the cache
  bool used_pch = false;                 // the candidate was compiled with the precompiled Kokkos header
  std::string source_path;               // the generated candidate source kept in the cache
  std::string so_path;
  double gflops = 0;  // flops / median (set by measure_workload; 0 if unknown)
  bool ok() const { return status == Status::Ok; }
};

struct MeasureInput {
  std::vector<BufferSpec> buffers;  // kernel arguments in ABI order
  std::string kernel_source;        // exports rctune_kernel
  SourceKind kernel_kind = SourceKind::Kokkos;
  std::string reference_source;  // exports rctune_reference (plain C++)
  int64_t reduction_length = 1;
};

struct MeasureOptions : KernelRunOptions {
  double timeout_s = 120;  // per request to the worker (correctness check and timing)
  // A file on this node: while the worker runs a kernel (check and timing), the measurer holds an
  // exclusive lock (flock) on it, so that processes sharing it measure one at a time while they
  // still compile in parallel (dist.exclusive_measurement). "": no lock.
  std::string run_lock;
};

// The highest-numbered core this process may run on: where a worker pins itself by default, away
// from core 0 where the system and the tuner's own threads tend to run. -1 if it cannot be read.
int default_pin_core();

// "auto" -> default_pin_core(), "none" -> -1, a number -> that core; throws std::invalid_argument.
int parse_pin_core(const std::string& text);

class Measurer {
 public:
  explicit Measurer(JitOptions jit = {}, WorkerOptions worker = {});

  // The kernel's failures come back as the measurement's status; the environment's (the
  // toolchain, the kernel cache, the worker, the run lock) are thrown as EnvironmentError.
  Measurement measure(const MeasureInput& in, const MeasureOptions& opts = {});

  const JitCompiler& compiler() const { return jit_; }
  WorkerProcess& worker() { return worker_; }

 private:
  JitCompiler jit_;
  WorkerProcess worker_;
};

}  // namespace rctune::runtime
