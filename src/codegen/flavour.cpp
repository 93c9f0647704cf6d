#include "codegen/flavour.h"

namespace rctune::codegen::detail {
namespace {

using namespace rctune::ir;

class HostFlavour : public Flavour {
 public:
  std::string label() const override { return "Kokkos (host)"; }
  std::string extra_includes(bool uses_alloc) const override {
    return uses_alloc ? "#include <cstdlib>\n" : "";
  }
  std::string helper_prefix() const override { return "static inline "; }
  std::string alloc_helpers() const override {
    return "// 64-byte aligned heap buffers for kernel-private data.\n"
           "static void* rctune_alloc(size_t bytes) { return std::aligned_alloc(64, (bytes + 63) / 64 * "
           "64); }\n"
           "static void rctune_free(void* p) { std::free(p); }\n";
  }
  bool vector_types() const override { return true; }
  bool on_device() const override { return false; }
  std::string scalar_vector_reason(const For& f, const VecPlan& plan) const override {
    if (f.bind == BindLevel::Vector) return "bound to the vector level outside a team";
    return plan.reason;
  }
  std::string team_size(bool) const override { return "Kokkos::AUTO"; }
  int scratch_level(int64_t) const override { return 0; }
};

class CudaFlavour : public Flavour {
 public:
  std::string label() const override { return "Kokkos (CUDA)"; }
  std::string extra_includes(bool) const override { return ""; }
  std::string helper_prefix() const override { return "KOKKOS_INLINE_FUNCTION "; }
  std::string alloc_helpers() const override {
    return "static void* rctune_alloc(size_t bytes) {\n"
           "  return Kokkos::kokkos_malloc<Kokkos::DefaultExecutionSpace::memory_space>(\"rctune\", "
           "bytes);\n}\n"
           "static void rctune_free(void* p) { "
           "Kokkos::kokkos_free<Kokkos::DefaultExecutionSpace::memory_space>(p); }\n";
  }
  bool vector_types() const override { return false; }
  bool on_device() const override { return true; }
  std::string scalar_vector_reason(const For&, const VecPlan&) const override {
    return "no team handle here for ThreadVectorRange";
  }
  // A nest that the schedule did not bind gets a team of one thread, whose vector lanes run the
  // vectorized loops.
  std::string team_size(bool league_bound) const override { return league_bound ? "Kokkos::AUTO" : "1"; }
  // Level 0 scratch is the 48 KiB of shared memory; more goes to level 1 (global memory).
  int scratch_level(int64_t bytes) const override { return bytes > 48 * 1024 ? 1 : 0; }
};

}  // namespace

std::unique_ptr<Flavour> flavour_for(Space space) {
  if (space == Space::Cuda) return std::make_unique<CudaFlavour>();
  return std::make_unique<HostFlavour>();
}

}  // namespace rctune::codegen::detail
