// Records, files and child processes for the tuning database's tests.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "rctune/database/database.h"
#include "support/file_text.h"
#include "support/temp_dir.h"

namespace rctune::database::testing {

using test_support::file_text;
using test_support::TempDir;

// The workload most tests store records of.
inline const std::string kMatmul = "matmul:M=64,N=64,K=64,dtype=f32";

inline const HardwareFingerprint& other_hardware() {
  static const HardwareFingerprint h =
      make_fingerprint("AuthenticAMD", "AMD EPYC 9R14", {"avx2", "avx512f"}, 4);
  return h;
}

// A record of `workload` on this host with flags "-O3" taking `seconds`.
inline TuningRecord record_of(const std::string& workload, double seconds, const std::string& schedule = "",
                              const std::string& flags = "-O3",
                              const HardwareFingerprint& hardware = host_fingerprint("Serial")) {
  TuningRecord r;
  r.workload = workload;
  r.hardware = hardware;
  r.flags = flags;
  r.schedule = schedule.empty()
                   ? "split(C, i, [None, " + std::to_string(static_cast<int>(seconds * 1e3)) + "])\n"
                   : schedule;
  r.seconds = seconds;
  r.spread = seconds / 100;
  r.gflops = 1.0 / seconds;
  r.samples = 64;
  r.run = "run.h5";
  return r;
}

// `r` as a record read from a file has it: with an id and a time.
inline TuningRecord stored(TuningRecord r, const std::string& id = "00000000000000aa") {
  r.id = id;
  r.utc = "2026-01-01T00:00:00Z";
  return r;
}

// The JSON line of `r` claiming record version `version`.
inline std::string line_of_version(const TuningRecord& r, int version) {
  std::string line = to_json_line(r);
  line.replace(line.find("\"v\":1"), 5, "\"v\":" + std::to_string(version));
  return line;
}

// Writes two records of `workload` (1 ms and 2 ms) to the database in `dir` from one writer that
// closes its file; returns the file.
inline std::string two_records_closed(const std::string& dir, const std::string& workload) {
  Database db(dir);
  db.append(record_of(workload, 1e-3));
  db.append(record_of(workload, 2e-3));
  const std::string file = db.writer_file();
  db.close();
  return file;
}

// The record files of the database in `dir` (records/*.jsonl).
inline std::vector<std::string> record_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/records"))
    if (e.path().extension() == ".jsonl" && e.path().filename().string()[0] != '.')
      out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Runs `body` in a child process (fork) that exits with body's status; returns its pid.
inline pid_t spawn(const std::function<int()>& body) {
  const pid_t pid = fork();
  if (pid == 0) {
    int status = 1;
    try {
      status = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: %s\n", e.what());
    }
    _exit(status);
  }
  return pid;
}

// The exit status of child `pid` (-1 when it did not exit normally).
inline int wait_for(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace rctune::database::testing
