// Runs the real `rctune` binary of this build (or $RCTUNE_BIN) and captures its output.
#pragma once

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>

#include "rctune/build_config.h"

namespace rctune::testing {

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline std::string rctune_bin() {
  const char* b = std::getenv("RCTUNE_BIN");
  return b ? b : RCTUNE_CLI_PATH;
}

inline std::string source_dir() {
  const char* s = std::getenv("RCTUNE_SOURCE_DIR");
  return s ? s : RCTUNE_SOURCE_DIR;
}

// Runs a shell command line (stdout and stderr together).
inline CliResult run_command(const std::string& command) {
  CliResult r;
  std::string cmd = command + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline CliResult run_rctune(const std::string& args) { return run_command(rctune_bin() + " " + args); }

}  // namespace rctune::testing
