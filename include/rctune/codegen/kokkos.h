// Kokkos C++ from a lowered loop nest, and the plain reference kernel used to check it.
//
// The kernel ABI (shared with rctune/runtime):
//   candidate:  extern "C" void rctune_kernel(void* const* buffers);
//               buffers[i] points to LoweredFunc::params[i] (workload tensors in declaration
//               order), typed by its dtype, row-major, 64-byte aligned. The host process has
//               initialised Kokkos; the kernel fences before it returns.
//   reference:  extern "C" void rctune_reference(double* const* buffers);
//               the same buffers, all as double; serial plain C++ without Kokkos.
#pragma once

#include <string>

#include "rctune/ir/stmt.h"
#include "rctune/ir/workload.h"

namespace rctune::codegen {

// Kokkos execution space the kernel is written for. Host: Serial or OpenMP (explicit GCC vector
// types for vectorized loops). Cuda: ThreadVectorRange for vectorized loops, no host-only types.
enum class Space { Host, Cuda };

struct Target {
  Space space = Space::Host;
  int vector_bytes = 64;  // native vector register width on the host (64 for AVX-512, 32 for AVX2)
};

struct KernelSource {
  std::string code;    // a complete C++17 translation unit
  std::string entry;   // "rctune_kernel" or "rctune_reference"
  bool uses_kokkos = true;
};

KernelSource generate_kernel(const ir::LoweredFunc& f, const Target& target = {});
KernelSource generate_reference(const ir::Workload& w);

}  // namespace rctune::codegen
