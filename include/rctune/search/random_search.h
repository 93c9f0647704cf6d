// Random search: every batch is fresh design-space samples (DesignSpace::sample), without a cost
// model; programs already measured are skipped.
#pragma once

#include <memory>

#include "rctune/search/strategy.h"

namespace rctune::search {

std::unique_ptr<SearchStrategy> make_random_search(const SearchContext& ctx);

}  // namespace rctune::search
