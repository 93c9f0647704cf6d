// Hostile class: a broken environment (docs/security.md). The machine, not the kernel, fails: no
// assembler on PATH, no compiler, a compiler that fails on everything, too few file descriptors,
// a kernel cache that is not a directory, is read-only or is full. For every fault and every
// command that compiles (bench --check-only; tune on a tiny workload), the real binary must stop
// with exit 2 and one `rctune: error:` naming the cause, cache no compile error and record no
// failed sample; run again in the fixed environment, the same command succeeds. A toolchain that
// breaks in the middle of a run stops it with the finished samples kept, and the run resumes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "../runlog/runlog_test_util.h"
#include "apps/cli_runner.h"
#include "rctune/runlog/runlog.h"

namespace rctune::testing {
namespace {

namespace fs = std::filesystem;
using runlog::testing::TempDir;

const std::string kWorkload = "matmul:M=8,N=8,K=8";

size_t count_if_name(const std::string& dir, const std::function<bool(const std::string&)>& pred) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (pred(e.path().filename().string())) ++n;
  return n;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

size_t occurrences(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// A kernel cache whose precompiled Kokkos header is built once for the whole suite: every case
// gets a fresh cache with a link to it, so that only the kernels themselves are compiled.
const std::string& warm_cache() {
  static const std::string dir = [] {
    const std::string d =
        (fs::temp_directory_path() / ("rctune-hostile-env-cache-" + std::to_string(getuid()))).string();
    const CliResult r = run_rctune("bench " + kWorkload + " --check-only --cache-dir " + shell_quote(d));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return d;
  }();
  return dir;
}

void link_warm_pch(const std::string& cache) {
  fs::create_directories(cache);
  for (const auto& e : fs::directory_iterator(warm_cache())) {
    const std::string name = e.path().filename().string();
    if (name.rfind("pch-", 0) == 0 && !fs::exists(cache + "/" + name))
      fs::create_directory_symlink(e.path(), cache + "/" + name);
  }
}

bool run_as_root_with_mounts() {
  if (geteuid() != 0) return false;
  TempDir probe;
  const std::string d = probe.file("m");
  fs::create_directories(d);
  const bool ok =
      std::system(("mount -t tmpfs -o size=16k tmpfs " + shell_quote(d) + " 2>/dev/null").c_str()) == 0;
  if (ok) (void)std::system(("umount " + shell_quote(d)).c_str());
  return ok;
}

// g++ looks for `as` on PATH here (not in its own directories): PATH decides whether it has one.
bool assembler_comes_from_path() {
  const CliResult r = run_command("c++ -print-prog-name=as");
  return r.exit_code == 0 && r.output.rfind("as\n", 0) == 0;
}

// One way the environment can be broken. `prepare` gets the case's directory and the cache the
// command will use, and returns the shell commands run before it ("export X=...;", "ulimit ... &&");
// `restore` undoes what prepare did beyond that (mounts).
struct Fault {
  std::string name;
  std::string says;  // the cause, as the message must name it
  std::function<std::string(const TempDir&, const std::string& cache)> prepare;
  std::function<void(const std::string& cache)> restore = [](const std::string&) {};
  std::function<std::string()> unavailable = [] { return std::string(); };  // why it cannot be made here
};

std::vector<Fault> faults() {
  std::vector<Fault> f;
  f.push_back({"no assembler on PATH", "cannot execute",
               [](const TempDir& dir, const std::string&) {
                 fs::create_directories(dir.file("bin-without-as"));
                 return "export PATH=" + shell_quote(dir.file("bin-without-as")) + ";";
               },
               [](const std::string&) {},
               [] { return assembler_comes_from_path() ? "" : "c++ does not take `as` from PATH here"; }});
  f.push_back(
      {"compiler that does not exist", "No such file or directory", [](const TempDir&, const std::string&) {
         return std::string("export RCTUNE_CXX=/nonexistent/c++;");
       }});
  f.push_back({"compiler that is `false`", "/bin/false", [](const TempDir&, const std::string&) {
                 return std::string("export RCTUNE_CXX=/bin/false;");
               }});
  f.push_back({"compiler that fails on everything", "empty shared library",
               [](const TempDir& dir, const std::string&) {
                 const std::string path = dir.file("broken-c++");
                 std::ofstream(path) << "#!/bin/sh\n[ \"$1\" = --version ] && exec c++ --version\nexit 1\n";
                 ::chmod(path.c_str(), 0755);
                 return "export RCTUNE_CXX=" + shell_quote(path) + ";";
               }});
  f.push_back({"too few file descriptors for the compiler", "Too many open files",
               [](const TempDir& dir, const std::string&) {
                 // The compiler (not rctune) runs out: a wrapper lowers the limit for it only.
                 const std::string path = dir.file("c++");
                 // Descriptors inherited from the test's runner (ctest's pipes) are closed first, so that
                 // the compiler starts and runs out while it works, whoever runs the test.
                 std::ofstream(path) << "#!/bin/sh\n[ \"$1\" = --version ] && exec c++ --version\n"
                                        "exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-\nulimit -n 4\n"
                                        "exec c++ \"$@\"\n";
                 ::chmod(path.c_str(), 0755);
                 return "export RCTUNE_CXX=" + shell_quote(path) + ";";
               }});
  f.push_back({"too few file descriptors for rctune", "Too many open files",
               [](const TempDir&, const std::string&) { return std::string("ulimit -n 12 &&"); }});
  f.push_back({"cache where a file is", "Not a directory",
               [](const TempDir&, const std::string& cache) {
                 fs::remove_all(cache);
                 std::ofstream(cache) << "a file, not a directory\n";
                 return std::string();
               },
               [](const std::string& cache) { fs::remove(cache); }});
  f.push_back(
      {"read-only cache", "Read-only file system",
       [](const TempDir&, const std::string& cache) {
         link_warm_pch(cache);
         const std::string q = shell_quote(cache);
         EXPECT_EQ(
             std::system(
                 ("mount --bind " + q + " " + q + " && mount -o remount,ro,bind " + q + " " + q).c_str()),
             0);
         return std::string();
       },
       [](const std::string& cache) { (void)std::system(("umount " + shell_quote(cache)).c_str()); },
       [] { return run_as_root_with_mounts() ? "" : "needs root and mount"; }});
  for (const int free_kb : {0, 8}) {
    f.push_back(
        {free_kb == 0 ? "full cache" : "nearly full cache", "No space left on device",
         [free_kb](const TempDir&, const std::string& cache) {
           fs::create_directories(cache);
           const std::string q = shell_quote(cache);
           EXPECT_EQ(std::system(("mount -t tmpfs -o size=64k tmpfs " + q).c_str()), 0);
           link_warm_pch(cache);
           // Everything but free_kb is taken.
           (void)std::system(("dd if=/dev/zero of=" + q +
                              "/filler bs=4k count=" + std::to_string(16 - free_kb / 4) + " 2>/dev/null")
                                 .c_str());
           return std::string();
         },
         [](const std::string& cache) { (void)std::system(("umount " + shell_quote(cache)).c_str()); },
         [] { return run_as_root_with_mounts() ? "" : "needs root and mount"; }});
  }
  return f;
}

// A command that compiles kernels, run in a case's directory with a cache there.
struct Command {
  std::string name;
  std::function<std::string(const TempDir&, const std::string& cache)> args;
  // The command once the environment is fixed (a tune continues its trace).
  std::function<std::string(const TempDir&, const std::string& cache)> again;
};

std::string tune_config(const TempDir& dir, int budget) {
  const std::string path = dir.file("run.yaml");
  std::ofstream(path) << "seed: 5\nbudget: " << budget << "\nout: " << dir.file("run.h5")
                      << "\ntasks:\n  - workload: " << kWorkload << "\nmeasure:\n  min_time: 0.005\n";
  return path;
}

std::vector<Command> commands() {
  auto bench = [](const TempDir&, const std::string& cache) {
    return "bench " + kWorkload + " --check-only --cache-dir " + shell_quote(cache);
  };
  return {
      {"bench --check-only", bench, bench},
      {"tune",
       [](const TempDir& dir, const std::string& cache) {
         return "tune " + shell_quote(tune_config(dir, 2)) + " --quiet --no-database --cache-dir " +
                shell_quote(cache);
       },
       [](const TempDir& dir, const std::string& cache) {
         // A trace created before the fault is continued; otherwise the run starts now.
         if (fs::exists(dir.file("run.h5")))
           return "tune --resume " + shell_quote(dir.file("run.h5")) + " --quiet --no-database --cache-dir " +
                  shell_quote(cache);
         return "tune " + shell_quote(tune_config(dir, 2)) + " --quiet --no-database --cache-dir " +
                shell_quote(cache);
       }},
  };
}

// Runs rctune after the shell commands `prefix` (exports, ulimit).
CliResult run_with(const std::string& prefix, const std::string& args) {
  return run_command("cd / && " + prefix + " exec " + shell_quote(rctune_bin()) + " " + args);
}

TEST(HostileEnvironment, EveryFaultStopsEveryCommandWithOneMessageAndCachesNothing) {
  warm_cache();
  for (const Fault& fault : faults()) {
    if (const std::string why = fault.unavailable(); !why.empty()) {
      std::printf("[ SKIPPED  ] %s: %s\n", fault.name.c_str(), why.c_str());
      continue;
    }
    for (const Command& cmd : commands()) {
      SCOPED_TRACE(fault.name + " x " + cmd.name);
      TempDir dir;
      const std::string cache = dir.file("cache");
      link_warm_pch(cache);
      const std::string prefix = fault.prepare(dir, cache);
      const CliResult broken = run_with(prefix, cmd.args(dir, cache));
      size_t logs = 0, sos = 0;
      if (fs::is_directory(cache)) {
        logs = count_if_name(cache, [](const std::string& n) { return ends_with(n, ".log"); });
        sos = count_if_name(cache, [](const std::string& n) { return ends_with(n, ".so"); });
      }
      fault.restore(cache);

      EXPECT_EQ(broken.exit_code, 2) << broken.output;
      EXPECT_EQ(occurrences(broken.output, "rctune: error:"), 1u) << broken.output;
      EXPECT_NE(broken.output.find(fault.says), std::string::npos) << broken.output;
      EXPECT_EQ(broken.output.find("compile_error"), std::string::npos) << broken.output;
      EXPECT_EQ(broken.output.find("does not compile"), std::string::npos) << broken.output;
      EXPECT_EQ(logs, 0u) << "the environment's failure was cached as the kernel's";
      (void)sos;
      if (fs::exists(dir.file("run.h5"))) {
        const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
        for (const runlog::TaskLog& t : run.tasks)
          for (const runlog::SampleRecord& s : t.samples)
            EXPECT_NE(s.status, runlog::SampleStatus::CompileError) << s.error;
      }

      // The environment is fixed: the same kernels compile (nothing failed is replayed).
      link_warm_pch(cache);
      const CliResult fixed = run_with("", cmd.again(dir, cache));
      EXPECT_EQ(fixed.exit_code, 0) << fixed.output;
      EXPECT_EQ(fixed.output.find("compile_error"), std::string::npos) << fixed.output;
      if (cmd.name == "tune") {
        const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
        ASSERT_EQ(run.tasks.size(), 1u);
        EXPECT_EQ(runlog::measured_samples(run.tasks[0]).size(), 2u);
        for (const runlog::SampleRecord& s : run.tasks[0].samples)
          EXPECT_NE(s.status, runlog::SampleStatus::CompileError) << s.error;
      } else {
        EXPECT_NE(fixed.output.find("status     ok"), std::string::npos) << fixed.output;
      }
    }
  }
}

// The assembler goes missing in the middle of a run (a fake `as` on PATH that stops working):
// the run stops with the samples measured so far in a readable trace, and resumes once fixed.
TEST(HostileEnvironment, AToolchainThatBreaksMidRunKeepsTheSamplesAndTheRunResumes) {
  if (!assembler_comes_from_path()) GTEST_SKIP() << "c++ does not take `as` from PATH here";
  warm_cache();
  TempDir dir;
  const std::string cache = dir.file("cache");
  link_warm_pch(cache);
  fs::create_directories(dir.file("bin"));
  const std::string as = dir.file("bin/as");
  const std::string count = dir.file("as-count");
  // Works for the first 4 assemblies (the unscheduled kernel, the reference, two samples).
  std::ofstream(as)
      << "#!/bin/sh\nn=$(cat " << shell_quote(count) << " 2>/dev/null || echo 0)\n"
      << "echo $((n + 1)) > " << shell_quote(count) << "\n"
      << "[ \"$n\" -lt 4 ] && exec /usr/bin/as \"$@\"\n"
      << "echo 'as: cannot execute the real assembler: No such file or directory' >&2\nexit 1\n";
  ::chmod(as.c_str(), 0755);
  const int budget = 8;
  const CliResult broken = run_with("export PATH=" + shell_quote(dir.file("bin")) + ":\"$PATH\";",
                                    "tune " + shell_quote(tune_config(dir, budget)) +
                                        " --quiet --no-database --cache-dir " + shell_quote(cache));
  EXPECT_EQ(broken.exit_code, 2) << broken.output;
  EXPECT_EQ(occurrences(broken.output, "rctune: error:"), 1u) << broken.output;
  EXPECT_NE(broken.output.find("--resume"), std::string::npos) << broken.output;
  EXPECT_EQ(count_if_name(cache, [](const std::string& n) { return ends_with(n, ".log"); }), 0u);

  const runlog::RunLog stopped = runlog::read_run_log(dir.file("run.h5"));
  ASSERT_EQ(stopped.tasks.size(), 1u);
  const auto before = runlog::measured_samples(stopped.tasks[0]);
  EXPECT_GE(before.size(), 1u) << "samples measured before the toolchain broke are kept";
  EXPECT_LT(before.size(), static_cast<size_t>(budget));
  for (const runlog::SampleRecord& s : stopped.tasks[0].samples)
    EXPECT_NE(s.status, runlog::SampleStatus::CompileError) << s.error;

  const CliResult resumed = run_with("", "tune --resume " + shell_quote(dir.file("run.h5")) +
                                             " --quiet --no-database --cache-dir " + shell_quote(cache));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const runlog::RunLog done = runlog::read_run_log(dir.file("run.h5"));
  EXPECT_TRUE(done.finished());
  const auto after = runlog::measured_samples(done.tasks[0]);
  EXPECT_EQ(after.size(), static_cast<size_t>(budget));
  for (const runlog::SampleRecord& s : before) {
    bool kept = false;
    for (const runlog::SampleRecord& t : after) kept = kept || (t.index == s.index && t.trace == s.trace);
    EXPECT_TRUE(kept) << "sample " << s.index << " was lost";
  }
}

}  // namespace
}  // namespace rctune::testing
