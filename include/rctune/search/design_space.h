// The design space of a workload, as MetaSchedule's schedule rules and Ansor's sketch rules build
// it: rules turn the workload into sketches (schedules whose structure is fixed and whose
// parameters are free), and sampling picks the parameters.
//
// Rules (docs/search.md describes each with an example):
//  - auto-inline: elementwise stages that are not outputs are inlined into their consumers;
//  - streaming of memory-bound reductions (matrix-vector products: an input whose elements each
//    serve at most a few outputs): blocks of its rows streamed over the output width, vectorized
//    along the contiguous axis, the other inputs staged; these sketches come first;
//  - multi-level tiling (SSRSRS on CPU) of every stage with a reduction and data reuse, the
//    accumulator written through cache_write(stage, local) and placed at a chosen tile level;
//  - fusion of elementwise consumers into the tile of their producer (reverse_compute_at);
//  - packing of reused operands (cache_read into a heap buffer at a chosen loop);
//  - rfactor for reductions with no data reuse whose innermost axis is the reduced one;
//  - annotations: parallel (a fused prefix of outer spatial loops), vectorize (innermost
//    contiguous loop), unroll (register-tile loops).
// Parameters: tile sizes from the factorisations of each extent, unroll, parallel extent, vector
// width, compute location.
//
// Every candidate sample() or mutate() returns is legal (applies and lowers); the schedules are
// ordinary traces, so everything downstream (proposers, the LLM, the trace file) sees them as text.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rctune/ir/workload.h"
#include "rctune/schedule/state.h"
#include "rctune/search/candidate.h"
#include "rctune/search/features.h"
#include "rctune/search/random.h"

namespace rctune::search {

struct SketchInfo {
  std::string name;         // e.g. "tile(C) pack(B)"
  std::string description;  // the rules that made it, one line
};

// MetaSchedule's mutators and their default probabilities.
enum class MutationKind { TileSize, ComputeLocation, Unroll, Parallel };
const char* mutation_kind_name(MutationKind k);  // "tile_size", "compute_location", "unroll", "parallel"

struct Mutation {
  MutationKind kind = MutationKind::TileSize;
  std::string action;  // the edit script (search/action.h) from the mutated state to the result
  Candidate candidate;
};

class DesignSpace {
 public:
  explicit DesignSpace(std::shared_ptr<const ir::Workload> workload, HardwareInfo hw = host_hardware_info());
  ~DesignSpace();
  DesignSpace(DesignSpace&&) noexcept;
  DesignSpace& operator=(DesignSpace&&) noexcept;

  const ir::Workload& workload() const;
  std::shared_ptr<const ir::Workload> workload_ptr() const;
  const HardwareInfo& hardware() const;
  // At least one sketch for every workload (the unscheduled program with annotations only, when no
  // rule applies).
  const std::vector<SketchInfo>& sketches() const;

  // A legal candidate from a random sketch with random parameters (proposer "design_space").
  Candidate sample(Rng& rng) const;
  // n candidates (possibly with equal programs; callers deduplicate by hash).
  std::vector<Candidate> sample(Rng& rng, size_t n) const;
  // A candidate of one sketch.
  Candidate sample_sketch(size_t sketch, Rng& rng) const;

  // One random parameter mutation of a state (any state: design-space samples, proposer results,
  // user traces): a split's factors re-drawn from the factorisations of its extent (tile size), a
  // compute_at/reverse_compute_at moved to another loop (compute location), an unroll added,
  // moved or removed (unroll), the parallel loop changed (parallel extent). Kinds are drawn with
  // MetaSchedule's probabilities 0.9 / 0.05 / 0.03 / 0.02 among those that apply. nullopt when no
  // decision of the state can change legally.
  std::optional<Mutation> mutate(const schedule::State& state, Rng& rng) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The divisors of n (n >= 1), ascending.
std::vector<int64_t> divisors(int64_t n);

// The factorisations of `extent` into `parts` ordered factors (product == extent), for tile sizes.
// With `max_innermost` > 0, only those whose last factor is at most that.
std::vector<std::vector<int64_t>> factorizations(int64_t extent, int parts, int64_t max_innermost = 0);

}  // namespace rctune::search
