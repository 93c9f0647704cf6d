// Duplicate keys in a YAML mapping: yaml-cpp keeps both entries and a lookup finds the first, so
// `budget: 8` followed by `budget: 800` would silently run with 8. Configs and workload files are
// checked for them before their keys are read.
#pragma once

#include <string>

namespace rctune::config {

// Throws ConfigError "FILE:LINE:COLUMN: KEY: duplicate key ..." at the second occurrence of a key
// in any mapping of `yaml_text` (KEY is its path, e.g. "measure.min_time", "tasks[1].budget",
// prefixed by `key_prefix`). One pass over the parser's events: aliases are not expanded. Text that
// is not valid YAML is left to the caller's parse, which reports it.
void check_unique_keys(const std::string& yaml_text, const std::string& file,
                       const std::string& key_prefix = "");

}  // namespace rctune::config
