// The two variants of the Kokkos printer: host (Serial, OpenMP) and CUDA. The printer asks its
// flavour at each point where the generated code differs between them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "codegen/plan_vectors.h"
#include "rctune/codegen/kokkos.h"

namespace rctune::codegen::detail {

class Flavour {
 public:
  virtual ~Flavour() = default;
  // "Kokkos (host)", for the header comment.
  virtual std::string label() const = 0;
  // Includes beyond Kokkos, <cmath> and <cstdint> (each line ends in '\n').
  virtual std::string extra_includes(bool uses_alloc) const = 0;
  // What the prologue's helper functions are declared with.
  virtual std::string helper_prefix() const = 0;
  // rctune_alloc and rctune_free.
  virtual std::string alloc_helpers() const = 0;
  // Vectorized loops with a plan become GCC vector types.
  virtual bool vector_types() const = 0;
  // Code outside any parallel loop cannot run where the kernel is called: it runs as one iteration
  // of a device kernel. Vectorized loops become ThreadVectorRange, which needs a team handle.
  virtual bool on_device() const = 0;
  // Why a vectorized (or vector-bound) loop stays a scalar loop.
  virtual std::string scalar_vector_reason(const ir::For& f, const VecPlan& plan) const = 0;
  // Threads per team of a TeamPolicy; league_bound: the nest was bound to the league by the schedule.
  virtual std::string team_size(bool league_bound) const = 0;
  // Team scratch level for `bytes` of shared buffers.
  virtual int scratch_level(int64_t bytes) const = 0;
};

std::unique_ptr<Flavour> flavour_for(Space space);

}  // namespace rctune::codegen::detail
