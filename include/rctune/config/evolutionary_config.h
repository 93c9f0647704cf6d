// The parameters of MetaSchedule's evolutionary search (rctune/search/evolutionary.h), as the run
// configuration's `evolutionary:` section sets them (docs/config.md) and as the search takes them.
#pragma once

#include <concepts>
#include <limits>
#include <type_traits>

namespace rctune::config {

struct EvolutionaryConfig {  // MetaSchedule's defaults
  int population = 512;
  double init_measured_ratio = 0.2;
  int genetic_iterations = 4;
  double mutation_probability = 0.85;
  double epsilon = 0.05;
  int measure_batch = 16;  // candidates measured per round (the tuner asks for batches of this size)
};

// The keys of the `evolutionary:` section, each as fn(key, field, lo, hi) with the range the reader
// accepts: the config reader and the check that a resumed run keeps its config both go through this list.
template <typename Config, typename Fn>
requires std::same_as<std::remove_const_t<Config>, EvolutionaryConfig>
void for_each_key(Config& c, Fn&& fn) {
  fn("population", c.population, 2, std::numeric_limits<int>::max());
  fn("init_measured_ratio", c.init_measured_ratio, 0.0, 1.0);
  fn("genetic_iterations", c.genetic_iterations, 0, 1000);
  fn("mutation_probability", c.mutation_probability, 0.0, 1.0);
  fn("epsilon", c.epsilon, 0.0, 1.0);
  fn("measure_batch", c.measure_batch, 1, 4096);
}

}  // namespace rctune::config
