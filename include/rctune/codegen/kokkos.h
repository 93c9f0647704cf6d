// Kokkos C++ from a lowered loop nest, and the plain reference kernel used to check it.
//
// The kernel ABI (shared with rctune/runtime):
//   candidate:  extern "C" void rctune_kernel(void* const* buffers);
//               buffers[i] points to LoweredFunc::params[i] (workload tensors in declaration
//               order), typed by its dtype, row-major, 64-byte aligned. The host process has
//               initialised Kokkos; the kernel fences before it returns.
//   reference:  extern "C" void rctune_reference(double* const* buffers);
//               the same tensors, all as double, one per Workload::tensors entry in declaration
//               order (intermediates included); serial plain C++ without Kokkos. Match kernel
//               and reference buffers by name (BufferDecl::name == Tensor::name).
//
// docs/codegen.md describes how each loop kind, binding and buffer scope is lowered.
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
  std::string code;   // a complete C++17 translation unit
  std::string entry;  // "rctune_kernel" or "rctune_reference"
  bool uses_kokkos = true;
};

// The candidate's entry point, as the runtime loads it.
inline constexpr const char* kKernelEntry = "rctune_kernel";

// Throws std::invalid_argument for a function that cannot be generated (empty body, access to a
// buffer that is neither a parameter nor allocated around the access, bad Target, an `entry` that is
// not a C identifier). `entry` names the extern "C" function: kernels linked into one library (an
// exported package, rctune/package/package.h) need one name each.
KernelSource generate_kernel(const ir::LoweredFunc& f, const Target& target = {},
                             const std::string& entry = kKernelEntry);
// Throws std::invalid_argument when w.validate() reports a problem.
KernelSource generate_reference(const ir::Workload& w);

}  // namespace rctune::codegen
