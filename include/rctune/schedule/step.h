// A step of a schedule: one applied primitive with its arguments, typed. Text is only its form at
// the boundaries (trace files, actions, the LLM, the run log): to_text prints the canonical call,
// parse_trace (rctune/schedule/trace.h) reads it back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace rctune::schedule {

// The primitives, in the order of the registry (and of the reference text): X(Id, name) where
// name is the primitive's name in the trace language and its implementation file
// src/schedule/primitive/<name>.cpp defines <name>_traits().
#define RCTUNE_SCHEDULE_PRIMITIVES(X)        \
  X(Split, split)                            \
  X(Reorder, reorder)                        \
  X(Fuse, fuse)                              \
  X(Parallel, parallel)                      \
  X(Vectorize, vectorize)                    \
  X(Unroll, unroll)                          \
  X(Bind, bind)                              \
  X(CacheWrite, cache_write)                 \
  X(CacheRead, cache_read)                   \
  X(ComputeAt, compute_at)                   \
  X(ReverseComputeAt, reverse_compute_at)    \
  X(ComputeInline, compute_inline)           \
  X(DecomposeReduction, decompose_reduction) \
  X(Rfactor, rfactor)

enum class Primitive {
#define RCTUNE_PRIMITIVE_ENUMERATOR(id, name) id,
  RCTUNE_SCHEDULE_PRIMITIVES(RCTUNE_PRIMITIVE_ENUMERATOR)
#undef RCTUNE_PRIMITIVE_ENUMERATOR
};

// The primitive's name in the trace language: "split", "compute_at", ...
const std::string& primitive_name(Primitive p);

// A factor given as "None" (inferred: ceil(extent / product of the others)). Only the first factor
// of a split may be inferred.
inline constexpr int64_t kInferredFactor = -1;

// One argument of a step, by its parameter's kind (PrimitiveParam::Kind):
//   std::string               a stage, tensor or loop name, a scope or a level
//   std::vector<std::string>  the names of a variadic parameter (loops, readers), possibly none
//   Factors                   the factors of a split; nullopt is None
using Factors = std::vector<std::optional<int64_t>>;
using StepArg = std::variant<std::string, std::vector<std::string>, Factors>;

struct Step {
  Primitive primitive = Primitive::Split;
  std::vector<StepArg> args;  // one per parameter of the primitive, in the order of its signature

  // The argument of parameter i as a name, a list of names, or factors (None as kInferredFactor).
  // Asking for another kind than the parameter's is a bug (checked).
  const std::string& name(size_t i) const;
  const std::vector<std::string>& names(size_t i) const;
  std::vector<int64_t> factors(size_t i) const;

  bool operator==(const Step&) const = default;
};

// Factors for a step: kInferredFactor becomes None.
Factors to_step_factors(const std::vector<int64_t>& factors);

// Canonical text of a step: positional arguments, ", " separators, variadic parameters flattened,
// factors as "[None, 8]", e.g. "split(C, i, [None, 8])".
std::string to_text(const Step& step);

}  // namespace rctune::schedule
