// Private to the design space (src/search): MetaSchedule-style parameter mutations of any schedule
// state (tile size, compute location, unroll, parallel), each expressed as a one-line edit script
// (search/action.h) over the state's trace.
#pragma once

#include <optional>

#include "rctune/schedule/state.h"
#include "rctune/search/design_space.h"
#include "rctune/search/random.h"

namespace rctune::search::detail {

// One random mutation of `state` (see DesignSpace::mutate); `vector_lanes` biases re-drawn inner
// factors of vectorized loops toward multiples of the lanes.
std::optional<Mutation> mutate_state(const schedule::State& state, int vector_lanes, Rng& rng);

}  // namespace rctune::search::detail
