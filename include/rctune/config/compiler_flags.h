// Compiler flags that a run config (or the config stored in a trace that --resume reads) may give
// the kernel compiler (`measure.flags`). Configs may come from others, and a compiler flag can run
// a program (-wrapper, -fplugin=, -B, -specs=, @FILE, -Wl,...), so only flags that change code
// generation are accepted: an allowlist, checked word by word. `rctune bench --flags` on the
// command line is the user's own and is not restricted.
#pragma once

#include <string>

namespace rctune::config {

// Why `flags` (words separated by spaces) cannot be used, or "" when every word is one of:
//   -O0 -O1 -O2 -O3 -Os -Og -Oz -Ofast -O   -g -g0..-g3   -w   -pipe
//   -std=VALUE  -march=VALUE  -mtune=VALUE  -mNAME  -mNAME=VALUE  -fNAME  -fNAME=VALUE  -WNAME
//   -DNAME  -DNAME=VALUE  -UNAME
// where NAME is lower-case letters, digits and '-' (for -D/-U: a C identifier), VALUE is letters,
// digits and "._+-" (no '/', ',', '=' or '@'), and -fNAME is not a plugin, profile, dump or
// file-prefix option (-fplugin..., -fprofile..., -fauto-profile..., -fdump..., -f*-prefix-map...).
std::string compiler_flags_problem(const std::string& flags);

}  // namespace rctune::config
