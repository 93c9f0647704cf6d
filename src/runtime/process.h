// Internal helpers: run a child process and capture its output; file utilities.
#pragma once

#include <string>
#include <vector>

namespace rctune::runtime::detail {

struct ProcessResult {
  int exit_code = -1;      // valid when exited
  bool exited = false;     // exited normally (else killed by a signal or timed out)
  int signal = 0;          // terminating signal, if any
  bool timed_out = false;  // killed by us after timeout_s
  double cpu_seconds = 0;  // user + system time of the process
  std::string output;      // stdout and stderr together
  std::string error;       // why the process could not be started
};

// Runs argv[0] (looked up in PATH) with argv, stdin from /dev/null, stdout+stderr captured.
ProcessResult run_process(const std::vector<std::string>& argv, double timeout_s);

// Name of a signal, e.g. "SIGSEGV (Segmentation fault)".
std::string signal_description(int sig);

// Writes `data` to `path` atomically (temp file in the same directory, then rename). Throws
// EnvironmentError naming the file and strerror when it cannot (read-only or full file system).
void write_file_atomic(const std::string& path, const std::string& data);
std::string read_file(const std::string& path);  // empty if it cannot be read
bool file_exists(const std::string& path);
void make_dirs(const std::string& path);  // mkdir -p; throws EnvironmentError (path, reason)
// A name unique to this process and call, for temporary files: ".tmp.<pid>.<n>".
std::string temp_suffix();

}  // namespace rctune::runtime::detail
