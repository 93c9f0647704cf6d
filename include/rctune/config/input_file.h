// The one place that reads a text file a user names: run configs, workload files, schedule traces
// (--trace, --examples), prompt templates. Only regular files are read (a directory, a device such
// as /dev/zero, a FIFO or a socket is refused before a byte is read), and only up to
// kMaxInputFileBytes (docs/config.md, "Input files"): an unbounded read of a hostile or mistaken
// path ends neither in std::bad_alloc nor in a hang. Every refusal is a ConfigError that names the
// file and the reason (the operating system's, where it gave one).
#pragma once

#include <cstdint>
#include <string>

#include "rctune/config/error.h"

namespace rctune::config {

// The largest text input file rctune reads: 16 MiB.
inline constexpr std::uintmax_t kMaxInputFileBytes = std::uintmax_t{16} << 20;

// The whole text of the file at `path`. `what` names the file's role in messages ("the config
// file", "the schedule trace"). Throws ConfigError "PATH: cannot read WHAT: REASON" (no line).
std::string read_input_file(const std::string& path, const std::string& what,
                            std::uintmax_t max_bytes = kMaxInputFileBytes);

// Checks, without reading it, that `path` names an existing regular file this process may read
// (for files a library reads itself, such as HDF5 traces). Throws ConfigError like read_input_file.
void check_input_file(const std::string& path, const std::string& what);

// "16 MiB", "50.0 MiB", "512 bytes": a size for messages.
std::string describe_size(std::uintmax_t bytes);

}  // namespace rctune::config
