// Whether a config describes the same run as the one recorded in a trace: a resume with another
// config would mix two runs in one file (docs/cli.md, "--resume").
#pragma once

#include <string>

#include "rctune/config/tune_config.h"

namespace rctune::apps {

// Throws std::runtime_error naming `trace_path`, the setting that differs and both values when
// `given` (the config of `rctune tune CONFIG --resume`) is not the run `recorded` (the config in
// the trace). Compared canonically (parsed, not as text): the tasks (names, workloads, weights),
// the search settings (mcts, evolutionary, cost_model) and what a measurement
// means (measure: flags, min_time, min_repeats, max_repeats, warmup, flush_cache). The seed, strategy and
// proposer are compared with the trace's attributes by the caller (options override them). The
// budget, the out path, the caches, timeouts, pinning, LLM endpoints and dist settings may differ.
void require_same_run(const config::TuneConfig& recorded, const config::TuneConfig& given,
                      const std::string& trace_path);

}  // namespace rctune::apps
