// Runs the real `rctune` binary of this build (or $RCTUNE_BIN) and captures its output.
#pragma once

#include <unistd.h>

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

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

// Quotes one word for the shell (for tests that must pass bytes a shell would interpret).
inline std::string shell_quote(const std::string& word) {
  std::string q = "'";
  for (char c : word) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs the rctune binary with exactly these arguments (no shell: any byte reaches argv as is),
// in `cwd` when not empty, with `env` added to the environment. stdout and stderr together.
inline CliResult run_rctune_args(const std::vector<std::string>& args, const std::string& cwd = "",
                                 const std::vector<std::pair<std::string, std::string>>& env = {}) {
  CliResult r;
  int fds[2];
  if (pipe(fds) != 0) return r;
  pid_t pid = fork();
  if (pid < 0) return r;
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(127);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::string bin = rctune_bin();
    std::vector<char*> argv{bin.data()};
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::array<char, 4096> buf{};
  ssize_t n;
  while ((n = read(fds[0], buf.data(), buf.size())) > 0) r.output.append(buf.data(), static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace rctune::testing
