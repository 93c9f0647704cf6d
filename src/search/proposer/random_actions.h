// Private to src/search: one schedule primitive with random arguments drawn from a state (its
// stages, their current loops, factors that divide the loop's extent), legal or not; the random
// proposer applies it to find out. The library version of tests/schedule/random_steps.h, drawing
// from search::Rng.
#pragma once

#include <string>

#include "rctune/schedule/state.h"
#include "rctune/search/random.h"

namespace rctune::search::nest {

// One primitive call in trace text, e.g. "split(C, i, [None, 8])".
std::string random_primitive(const schedule::State& s, Rng& rng);

}  // namespace rctune::search::nest
