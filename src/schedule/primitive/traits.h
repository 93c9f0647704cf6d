// The registry entry of each primitive, defined next to its implementation in
// src/schedule/primitive/<name>.cpp (internal to the schedule module). The registry lists them
// all through RCTUNE_SCHEDULE_PRIMITIVES, which also keeps every primitive's file linked in.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "rctune/schedule/primitive_registry.h"

namespace rctune::schedule::detail {

using PK = PrimitiveParam::Kind;

// The entry of primitive `name`: its parameters, texts and apply; the registry adds the id, the
// name and the signature.
#define RCTUNE_DECLARE_PRIMITIVE_TRAITS(id, name) PrimitiveInfo name##_traits();
RCTUNE_SCHEDULE_PRIMITIVES(RCTUNE_DECLARE_PRIMITIVE_TRAITS)
#undef RCTUNE_DECLARE_PRIMITIVE_TRAITS

// An entry without the id, the name and the signature, which the registry adds.
PrimitiveInfo primitive_traits(std::vector<PrimitiveParam> params, std::string description,
                               std::string legality, std::string example,
                               State (*apply)(const State&, const Step&));

// The argument `i` of a step as the type a primitive's function takes it: a name or a list of names.
template <typename T>
const T& step_arg(const Step& step, size_t i);
template <>
inline const std::string& step_arg<std::string>(const Step& step, size_t i) {
  return step.name(i);
}
template <>
inline const std::vector<std::string>& step_arg<std::vector<std::string>>(const Step& step, size_t i) {
  return step.names(i);
}

template <typename... Names>
State apply_names(State (*f)(const State&, const Names&...), const State& s, const Step& step) {
  return [&]<size_t... I>(std::index_sequence<I...>) { return f(s, step_arg<Names>(step, I)...); }
  (std::index_sequence_for<Names...>{});
}

// The `apply` of a primitive whose function takes the step's arguments as they are (names and
// lists of names, in the order of its parameters): apply_from_names<&parallel>.
template <auto F>
State apply_from_names(const State& s, const Step& step) {
  return apply_names(F, s, step);
}

}  // namespace rctune::schedule::detail
