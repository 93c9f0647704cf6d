// The parameters of MetaSchedule's evolutionary search (rctune/search/evolutionary.h), as the run
// configuration's `evolutionary:` section sets them (docs/config.md) and as the search takes them.
#pragma once

namespace rctune::config {

struct EvolutionaryConfig {  // MetaSchedule's defaults
  int population = 512;
  double init_measured_ratio = 0.2;
  int genetic_iterations = 4;
  double mutation_probability = 0.85;
  double epsilon = 0.05;
  int measure_batch = 16;  // candidates measured per round (the tuner asks for batches of this size)
};

}  // namespace rctune::config
