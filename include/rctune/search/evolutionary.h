// MetaSchedule's evolutionary search (tvm/src/meta_schedule/search_strategy/evolutionary_search.cc),
// the baseline every claim of sample efficiency is measured against. Per batch:
//  1. an initial population: the best measured programs (init_measured_ratio of the population)
//     plus fresh design-space samples up to `population`;
//  2. genetic_iterations rounds: parents drawn in proportion to their predicted score, each child
//     a DesignSpace::mutate of its parent with probability mutation_probability (else the parent
//     itself), illegal or already measured children dropped; the population keeps the best
//     predicted programs;
//  3. the batch: the best predicted programs not measured yet, with a share epsilon of it drawn
//     at random from the design space instead.
#pragma once

#include <memory>

#include "rctune/config/evolutionary_config.h"
#include "rctune/search/strategy.h"

namespace rctune::search {

using EvolutionaryOptions = config::EvolutionaryConfig;

std::unique_ptr<SearchStrategy> make_evolutionary_search(const SearchContext& ctx,
                                                         EvolutionaryOptions options = {});

}  // namespace rctune::search
