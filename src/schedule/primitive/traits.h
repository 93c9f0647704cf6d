// The registry entry of each primitive, defined next to its implementation in
// src/schedule/primitive/<name>.cpp (internal to the schedule module). The registry lists them
// all through RCTUNE_SCHEDULE_PRIMITIVES, which also keeps every primitive's file linked in.
#pragma once

#include <string>
#include <vector>

#include "rctune/schedule/primitive_registry.h"

namespace rctune::schedule::detail {

using PK = PrimitiveParam::Kind;

#define RCTUNE_DECLARE_PRIMITIVE_TRAITS(id, name) PrimitiveInfo name##_traits();
RCTUNE_SCHEDULE_PRIMITIVES(RCTUNE_DECLARE_PRIMITIVE_TRAITS)
#undef RCTUNE_DECLARE_PRIMITIVE_TRAITS

// An entry, its signature made from the name and the parameters: "split(stage, loop, factors)",
// variadic parameters written "loops...".
PrimitiveInfo primitive_traits(Primitive id, std::string name, std::vector<PrimitiveParam> params,
                               std::string description, std::string legality, std::string example,
                               State (*apply)(const State&, const Step&));

}  // namespace rctune::schedule::detail
