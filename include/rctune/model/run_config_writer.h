// The run config (YAML, docs/config.md) of an extraction: a comment header (model, bound
// dimensions, what is not tuned), the run's defaults, and one task per distinct workload with its
// weight.
#pragma once

#include <string>

#include "rctune/model/extract.h"

namespace rctune::model {

// `out_trace` names the run's HDF5 trace: its file name, in the safe charset, becomes the config's
// `out:` (quoted).
std::string run_config_yaml(const Extraction& e, const std::string& out_trace);

}  // namespace rctune::model
