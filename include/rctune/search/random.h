// Seeded randomness for the search. Every random choice of a strategy, a proposer or the design
// space draws from an Rng seeded from the run's seed, through the helpers below: they are defined
// here (not by the standard library's distributions, whose results differ between library
// versions), so a seed gives the same decisions everywhere.
#pragma once

#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

namespace rctune::search {

using Rng = std::mt19937_64;

// A seed derived from a base seed and a tag (splitmix64 of both): independent streams for the
// parts of one run ("mcts", "design_space", task index, rank, ...).
uint64_t derive_seed(uint64_t base, uint64_t tag);
uint64_t derive_seed(uint64_t base, const char* tag);

// Uniform integer in [lo, hi] (inclusive). Requires lo <= hi.
int64_t uniform_int(Rng& rng, int64_t lo, int64_t hi);
// Uniform double in [0, 1).
double uniform_real(Rng& rng);
// True with probability p.
bool bernoulli(Rng& rng, double p);
// An index drawn with probability proportional to weights[i] (weights >= 0, not all zero).
size_t weighted_index(Rng& rng, const std::vector<double>& weights);

template <typename T>
const T& pick(Rng& rng, const std::vector<T>& items) {
  if (items.empty()) throw std::invalid_argument("search::pick: empty choice");
  return items[static_cast<size_t>(uniform_int(rng, 0, static_cast<int64_t>(items.size()) - 1))];
}

template <typename T>
void shuffle(Rng& rng, std::vector<T>& items) {
  for (size_t i = items.size(); i > 1; --i) {
    size_t j = static_cast<size_t>(uniform_int(rng, 0, static_cast<int64_t>(i) - 1));
    std::swap(items[i - 1], items[j]);
  }
}

}  // namespace rctune::search
