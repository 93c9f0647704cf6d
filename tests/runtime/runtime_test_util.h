// Shared pieces of the runtime tests: hand-written kernels that follow the kernel ABI
// (include/rctune/codegen/kokkos.h) and a kernel cache shared by all runtime tests.
#pragma once

#include <unistd.h>
#include <filesystem>
#include <random>
#include <string>

#include "rctune/runtime/measurer.h"

namespace rctune::runtime::testing {

// One cache for every test process: the precompiled Kokkos header is built once. It is safe to
// share (files are installed atomically); tests that need a cold compile add a unique comment.
inline std::string test_cache_dir() {
  return (std::filesystem::temp_directory_path() / ("rctune-test-cache-" + std::to_string(getuid())))
      .string();
}

// A comment that makes a source unique, so that it misses the cache.
inline std::string unique_comment() {
  static std::random_device rd;
  return "// nonce " + std::to_string(rd()) + "-" + std::to_string(rd()) + "-" + std::to_string(getpid()) +
         "\n";
}

inline JitOptions test_jit_options() {
  JitOptions o;
  o.cache_dir = test_cache_dir();
  return o;
}

inline WorkerOptions test_worker_options(bool faults = false) {
  WorkerOptions o;
  o.enable_test_faults = faults;
  return o;  // worker_path empty: $RCTUNE_WORKER (set by ctest), else the build tree's
}

constexpr int kN = 1000;

// C[i] = A[i] + B[i] over kN floats.
inline std::vector<BufferSpec> vadd_buffers() {
  return {{"A", "f32", {kN}, BufferRole::Input},
          {"B", "f32", {kN}, BufferRole::Input},
          {"C", "f32", {kN}, BufferRole::Output}};
}

inline std::string vadd_reference() {
  return R"(extern "C" void rctune_reference(double* const* buffers) {
  for (int i = 0; i < 1000; ++i) buffers[2][i] = buffers[0][i] + buffers[1][i];
}
)";
}

// `body` computes c[i] from a[i], b[i] (plain C++, no Kokkos).
inline std::string plain_kernel(const std::string& body, const std::string& prelude = "") {
  return prelude + R"(
extern "C" void rctune_kernel(void* const* buffers) {
  const float* a = static_cast<const float*>(buffers[0]);
  const float* b = static_cast<const float*>(buffers[1]);
  float* c = static_cast<float*>(buffers[2]);
  (void)a; (void)b; (void)c;
)" + body +
         "\n}\n";
}

inline std::string vadd_plain() { return plain_kernel("for (int i = 0; i < 1000; ++i) c[i] = a[i] + b[i];"); }

inline std::string vadd_kokkos() {
  return R"(#include <Kokkos_Core.hpp>
extern "C" void rctune_kernel(void* const* buffers) {
  const float* a = static_cast<const float*>(buffers[0]);
  const float* b = static_cast<const float*>(buffers[1]);
  float* c = static_cast<float*>(buffers[2]);
  Kokkos::parallel_for("vadd", Kokkos::RangePolicy<>(0, 1000), KOKKOS_LAMBDA(const int i) { c[i] = a[i] + b[i]; });
  Kokkos::fence();
}
)";
}

// Writes through an address the compiler cannot see through: a real SIGSEGV, not a trap.
inline std::string segfault_kernel() {
  return plain_kernel("volatile unsigned long addr = 8; *reinterpret_cast<float*>(addr) = 1.0f;", "");
}

inline std::string hang_kernel() { return plain_kernel("volatile int x = 0; for (;;) x = x + 1;"); }

// Off by 0.5 at element 7 only.
inline std::string wrong_kernel() {
  return plain_kernel("for (int i = 0; i < 1000; ++i) c[i] = a[i] + b[i] + (i == 7 ? 0.5f : 0.0f);");
}

inline std::string uncompilable_kernel() { return plain_kernel("c[0] = undefined_function(a);"); }

inline MeasureInput vadd_input(const std::string& kernel, SourceKind kind = SourceKind::Plain) {
  MeasureInput in;
  in.buffers = vadd_buffers();
  in.kernel_source = kernel;
  in.kernel_kind = kind;
  in.reference_source = vadd_reference();
  return in;
}

// Fast timing: the tests never look at the numbers, only at their shape.
inline MeasureOptions quick_options() {
  MeasureOptions o;
  o.timing.min_time_s = 0.005;
  o.timing.min_repeats = 3;
  o.timing.warmup = 1;
  o.timeout_s = 60;
  return o;
}

}  // namespace rctune::runtime::testing
