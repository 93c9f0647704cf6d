// Hostile class: overwrites and concurrent writers (docs/security.md). Every file rctune writes is
// tried against every kind of file already at its path (the config itself, a text file, an HDF5
// file that is not a trace, a finished trace of another run, a directory, symbolic links, a named
// pipe, a trace a running process writes) and against refused resumes, a trace whose rows are out
// of order and a disk that fills up. Nothing that was there before may change, but for a finished
// trace replaced with an explicit --force; every refusal is `rctune: error:` naming the file, exit 2.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <hdf5.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../runlog/runlog_test_util.h"
#include "apps/cli_runner.h"
#include "rctune/runlog/runlog.h"
#include "rctune/runlog/writer.h"
#include "support/file_text.h"

namespace rctune::testing {
namespace {

using rctune::test_support::file_text;

namespace fs = std::filesystem;
using runlog::testing::TempDir;

// What is at a path: its type, a link's target, and the bytes (or a directory's names) it leads to.
struct Snapshot {
  std::string kind;
  std::string link;
  std::string content;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const std::string& path) {
  Snapshot s;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return {"missing", "", ""};
  if (S_ISLNK(st.st_mode)) {
    s.kind = "symlink";
    s.link = fs::read_symlink(path).string();
    if (::stat(path.c_str(), &st) != 0) return s;  // dangling
  }
  if (S_ISDIR(st.st_mode)) {
    s.kind += "+dir";
    for (const auto& e : fs::directory_iterator(path)) s.content += e.path().filename().string() + "\n";
  } else if (S_ISFIFO(st.st_mode)) {
    s.kind += "+fifo";
  } else {
    s.kind += "+file";
    s.content = file_text(path);
  }
  return s;
}

// A small simulated run. `out`: the config's out key ("" leaves it out: the default rctune-run.h5).
std::string write_config(const std::string& path, const std::string& out, int budget = 4,
                         double latency = 0) {
  std::ofstream f(path);
  f << "seed: 5\nbudget: " << budget << "\n";
  if (!out.empty()) f << "out: " << out << "\n";
  f << "tasks:\n  - workload: matmul:M=64,N=64,K=64\nmeasure:\n  min_time: 0.01\n";
  if (latency > 0) f << "  simulated_latency: " << latency << "\n";
  return path;
}

// A finished trace of another run, written by the trace library as `rctune tune` writes one.
void write_other_trace(const std::string& path) {
  runlog::RunInfo info = runlog::current_run_info();
  info.config_text = "seed: 1\ntasks:\n  - workload: matmul:M=32,N=32,K=32\n";
  info.config_path = "other.yaml";
  info.execution_space = "simulated";
  info.strategy = "mcts";
  info.proposer = "heuristic";
  info.seed = 1;
  runlog::RunWriter w = runlog::RunWriter::create(path, info);
  runlog::TaskInfo t;
  t.name = "other_task";
  t.workload = "other workload";
  const auto task = w.begin_task(t);
  for (int64_t i = 0; i < 3; ++i) {
    runlog::SampleRecord s;
    s.index = i;
    s.strategy = "mcts";
    s.trace = "split(i, " + std::to_string(i + 2) + ")";
    s.median_s = 1;
    s.gflops = 1;
    w.append_sample(task, s);
  }
  w.finish();
}

// What is at the path before rctune runs: each payload puts it there.
struct Payload {
  std::string name;
  std::function<void(const TempDir& dir, const std::string& path, const std::string& config)> make;
  bool replaceable_with_force = false;  // a finished trace of another run
};

std::vector<Payload> payloads() {
  return {
      {"the config itself",
       [](const TempDir&, const std::string&, const std::string&) {}},  // the config is written at the path
      {"a text file",
       [](const TempDir&, const std::string& p, const std::string&) { std::ofstream(p) << "my notes\n"; }},
      {"an empty file", [](const TempDir&, const std::string& p, const std::string&) { std::ofstream{p}; }},
      {"an HDF5 file that is not a trace",
       [](const TempDir&, const std::string& p, const std::string&) {
         hid_t f = H5Fcreate(p.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
         ASSERT_GE(f, 0);
         H5Fclose(f);
       }},
      {"a finished trace of another run",
       [](const TempDir&, const std::string& p, const std::string&) { write_other_trace(p); }, true},
      {"a directory",
       [](const TempDir&, const std::string& p, const std::string&) {
         fs::create_directory(p);
         std::ofstream(p + "/inside.txt") << "keep me\n";
       }},
      {"a symlink to a text file",
       [](const TempDir& d, const std::string& p, const std::string&) {
         std::ofstream(d.file("target.txt")) << "linked notes\n";
         fs::create_symlink(d.file("target.txt"), p);
       }},
      {"a symlink to a finished trace",
       [](const TempDir& d, const std::string& p, const std::string&) {
         write_other_trace(d.file("target.h5"));
         fs::create_symlink(d.file("target.h5"), p);
       }},
      {"a symlink to the config", [](const TempDir&, const std::string& p,
                                     const std::string& config) { fs::create_symlink(config, p); }},
      {"a dangling symlink", [](const TempDir& d, const std::string& p,
                                const std::string&) { fs::create_symlink(d.file("nowhere.h5"), p); }},
      {"a named pipe", [](const TempDir&, const std::string& p,
                          const std::string&) { ASSERT_EQ(::mkfifo(p.c_str(), 0644), 0); }},
  };
}

// A way of telling rctune where to write its trace: the file it writes, the config and arguments.
struct Writer {
  std::string name;
  // Sets up `dir` for a run whose trace goes to `path` (and returns the argument list); the config
  // goes to `config` unless the payload is the config itself (then it is at `path`).
  std::function<std::vector<std::string>(const TempDir& dir, const std::string& path,
                                         const std::string& config)>
      args;
  std::string fixed_name;  // the writer decides the file's name ("" : any)
};

std::vector<Writer> writers() {
  return {
      {"tune --out FILE",
       [](const TempDir&, const std::string& p, const std::string& config) {
         write_config(config, "");
         return std::vector<std::string>{"tune", config, "--simulate", "--quiet", "--out", p};
       },
       ""},
      {"the config's out: FILE",
       [](const TempDir&, const std::string& p, const std::string& config) {
         write_config(config, p);
         return std::vector<std::string>{"tune", config, "--simulate", "--quiet"};
       },
       ""},
      {"the default out (rctune-run.h5 in the working directory)",
       [](const TempDir&, const std::string&, const std::string& config) {
         write_config(config, "");
         return std::vector<std::string>{"tune", config, "--simulate", "--quiet"};
       },
       "rctune-run.h5"},
  };
}

std::string describe(const Writer& w, const Payload& p, bool force) {
  return "writer: " + w.name + "\npayload: " + p.name + (force ? "\nwith --force" : "");
}

TEST(Overwrite, NoWriterEverReplacesAFileThatIsThereButATraceWithForce) {
  for (const Writer& w : writers()) {
    for (const Payload& p : payloads()) {
      for (const bool force : {false, true}) {
        const std::string what = describe(w, p, force);
        TempDir dir;
        const std::string path = dir.file(w.fixed_name.empty() ? "out.h5" : w.fixed_name);
        const bool config_is_target = p.name == "the config itself";
        const std::string config = config_is_target ? path : dir.file("run.yaml");
        std::vector<std::string> args = w.args(dir, path, config);
        p.make(dir, path, config);
        if (force) args.push_back("--force");
        const Snapshot before = snapshot(path);
        const Snapshot target_before = snapshot(dir.file("target.txt"));
        const CliResult r = run_rctune_args(args, dir.path().string());
        if (force && p.replaceable_with_force) {
          ASSERT_EQ(r.exit_code, 0) << what << "\n" << r.output;
          const runlog::RunLog run = runlog::read_run_log(path);
          EXPECT_EQ(run.info.config_path, config) << what << ": the file is this run's trace now";
          EXPECT_TRUE(run.finished()) << what;
          EXPECT_EQ(runlog::measured_samples(run.tasks.at(0)).size(), 4u) << what;
          for (const auto& e : fs::directory_iterator(dir.path()))
            EXPECT_EQ(e.path().filename().string().find(".rctune-new"), std::string::npos)
                << what << ": a temporary file was left: " << e.path();
          continue;
        }
        EXPECT_EQ(r.exit_code, 2) << what << "\n" << r.output;
        EXPECT_NE(r.output.find("rctune: error:"), std::string::npos) << what << "\n" << r.output;
        const std::string named = "'" + (w.fixed_name.empty() ? path : w.fixed_name) + "'";
        EXPECT_NE(r.output.find(named), std::string::npos) << what << ": the message names the file\n"
                                                           << r.output;
        EXPECT_EQ(snapshot(path), before) << what << ": the file changed\n" << r.output;
        EXPECT_EQ(snapshot(dir.file("target.txt")), target_before) << what << ": a link's target changed";
        EXPECT_EQ(snapshot(dir.file("nowhere.h5")).kind, "missing") << what << ": written through a link";
        EXPECT_EQ(r.output.find("HDF5-DIAG"), std::string::npos) << what << "\n" << r.output;
      }
    }
  }
}

// The caches are directories rctune writes into (each file under a temporary name, renamed into
// place): pointed at anything that is not a directory, they fail with the path and change nothing.
TEST(Overwrite, NoCacheIsEverWrittenOverAFile) {
  struct Cache {
    std::string name;
    std::function<std::vector<std::string>(const TempDir&, const std::string& path)> args;
  };
  const std::vector<Cache> caches = {
      {"the kernel cache (bench --cache-dir)",
       [](const TempDir&, const std::string& p) {
         return std::vector<std::string>{"bench", "matmul:M=8,N=8,K=8", "--check-only", "--cache-dir", p};
       }},
      {"the LLM response cache (llm.cache_dir)",
       [](const TempDir& d, const std::string& p) {
         std::ofstream(d.file("llm.yaml"))
             << "seed: 5\nbudget: 2\nproposer: llm\ntasks:\n"
                "  - workload: matmul:M=64,N=64,K=64\nllm:\n  cache_dir: "
             << p << "\n  models:\n    - url: http://127.0.0.1:9/v1\n      model: x\n";
         return std::vector<std::string>{"tune",  d.file("llm.yaml"), "--simulate", "--quiet",
                                         "--out", d.file("llm.h5")};
       }},
  };
  for (const Cache& c : caches) {
    for (const Payload& p : payloads()) {
      if (p.name == "a directory" || p.name == "the config itself") continue;  // a directory is a cache
      const std::string what = c.name + "\npayload: " + p.name;
      TempDir dir;
      const std::string path = dir.file("cache");
      std::ofstream(dir.file("run.yaml")) << "seed: 1\n";
      p.make(dir, path, dir.file("run.yaml"));
      const Snapshot before = snapshot(path);
      const Snapshot target_before = snapshot(dir.file("target.txt"));
      const CliResult r = run_rctune_args(c.args(dir, path), dir.path().string());
      EXPECT_EQ(r.exit_code, 2) << what << "\n" << r.output;
      EXPECT_NE(r.output.find("rctune: error:"), std::string::npos) << what << "\n" << r.output;
      EXPECT_NE(r.output.find("'" + path + "'"), std::string::npos) << what << "\n" << r.output;
      EXPECT_EQ(snapshot(path), before) << what;
      EXPECT_EQ(snapshot(dir.file("target.txt")), target_before) << what;
      EXPECT_EQ(snapshot(dir.file("nowhere.h5")).kind, "missing") << what;
    }
  }
}

// Starts rctune with these arguments in `cwd`, its output to `log`; returns its pid.
pid_t start_rctune(const std::vector<std::string>& args, const std::string& cwd, const std::string& log) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  if (chdir(cwd.c_str()) != 0) _exit(127);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(fd, 1);
  dup2(fd, 2);
  std::string bin = rctune_bin();
  std::vector<std::string> copy = args;
  std::vector<char*> argv{bin.data()};
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(bin.c_str(), argv.data());
  _exit(127);
}

TEST(Overwrite, ASecondRunNeverTouchesATraceARunningRunWrites) {
  constexpr int kBudget = 40;
  for (const Writer& w : writers()) {
    TempDir dir;
    const std::string path = dir.file(w.fixed_name.empty() ? "out.h5" : w.fixed_name);
    // The first run takes seconds: each simulated measurement takes 100 ms.
    std::vector<std::string> first = w.args(dir, path, dir.file("first.yaml"));
    write_config(dir.file("first.yaml"), w.name == "the config's out: FILE" ? path : "", kBudget, 0.1);
    const pid_t pid = start_rctune(first, dir.path().string(), dir.file("first.log"));
    ASSERT_GT(pid, 0);
    std::error_code ec;
    for (int i = 0; i < 400 && !(fs::exists(path, ec) && fs::file_size(path, ec) > 0); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(fs::exists(path)) << w.name << ": the first run wrote no trace in 20 s\n"
                                  << file_text(dir.file("first.log"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    struct Second {
      std::string name;
      std::vector<std::string> args;
    };
    std::vector<Second> seconds;
    std::vector<std::string> same = w.args(dir, path, dir.file("second.yaml"));
    seconds.push_back({"the same command", same});
    std::vector<std::string> forced = same;
    forced.push_back("--force");
    seconds.push_back({"the same command with --force", forced});
    seconds.push_back({"a resume of the trace", {"tune", "--resume", path, "--quiet"}});
    for (const Second& s : seconds) {
      const CliResult r = run_rctune_args(s.args, dir.path().string());
      EXPECT_EQ(r.exit_code, 2) << w.name << ", " << s.name << "\n" << r.output;
      EXPECT_NE(r.output.find("rctune: error:"), std::string::npos) << w.name << ", " << s.name << "\n"
                                                                    << r.output;
      EXPECT_NE(
          r.output.find(s.name == "a resume of the trace" || w.fixed_name.empty() ? path : w.fixed_name),
          std::string::npos)
          << w.name << ", " << s.name << "\n"
          << r.output;
      EXPECT_NE(r.output.find("another run is writing it (pid " + std::to_string(pid) + ")"),
                std::string::npos)
          << w.name << ", " << s.name << "\n"
          << r.output;
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0)
        << w.name << ": the first run ended before the second runs were tried; make it slower";
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << w.name << ": the running run failed\n"
                                                               << file_text(dir.file("first.log"));
    const runlog::RunLog run = runlog::read_run_log(path);
    EXPECT_TRUE(run.finished()) << w.name;
    EXPECT_EQ(run.info.resume_times.size(), 0u) << w.name;
    ASSERT_EQ(run.tasks.size(), 1u) << w.name;
    EXPECT_EQ(runlog::measured_samples(run.tasks[0]).size(), static_cast<size_t>(kBudget))
        << w.name << ": the running run lost samples";
  }
}

// Sets a task's sample rows' indices in a trace file directly (HDF5), as an editor could.
void set_sample_index(const std::string& path, hsize_t row, int64_t index) {
  const std::string task = runlog::sanitize_task_name(runlog::read_run_log(path).tasks.at(0).info.name);
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  hid_t d = H5Dopen2(f, ("/tasks/" + task + "/samples").c_str(), H5P_DEFAULT);
  if (d < 0) H5Fclose(f);
  ASSERT_GE(d, 0);
  hid_t mem = H5Tcreate(H5T_COMPOUND, sizeof(int64_t));
  H5Tinsert(mem, "index", 0, H5T_NATIVE_INT64);
  hid_t space = H5Dget_space(d);
  hsize_t one = 1;
  H5Sselect_hyperslab(space, H5S_SELECT_SET, &row, nullptr, &one, nullptr);
  hid_t mspace = H5Screate_simple(1, &one, nullptr);
  EXPECT_GE(H5Dwrite(d, mem, mspace, space, H5P_DEFAULT, &index), 0);
  H5Sclose(mspace);
  H5Sclose(space);
  H5Tclose(mem);
  H5Dclose(d);
  H5Fclose(f);
}

// A finished trace of a hardware run (as far as its attributes say) of the config `config`.
void write_hardware_trace(const std::string& path, const std::string& config) {
  runlog::RunInfo info = runlog::current_run_info();
  info.config_text = file_text(config);
  info.config_path = config;
  info.execution_space = "OpenMP";
  info.strategy = "mcts";
  info.proposer = "heuristic";
  info.seed = 5;
  runlog::RunWriter w = runlog::RunWriter::create(path, info);
  w.finish();
}

TEST(Overwrite, ARefusedResumeLeavesTheTraceByteIdentical) {
  struct Case {
    std::string name;
    // Prepares the trace (a finished simulated run of run.yaml with 6 samples) and returns the
    // arguments of the refused resume.
    std::function<std::vector<std::string>(const TempDir&, const std::string& trace,
                                           const std::string& config)>
        setup;
    std::string says;  // the message names the reason
    bool names_file = true;
  };
  const std::vector<Case> cases = {
      {"another seed",
       [](const TempDir&, const std::string& t, const std::string& c) {
         return std::vector<std::string>{"tune", c, "--resume", t, "--seed", "9"};
       },
       "seed 5"},
      {"another strategy",
       [](const TempDir&, const std::string& t, const std::string&) {
         return std::vector<std::string>{"tune", "--resume", t, "--strategy", "random"};
       },
       "strategy mcts"},
      {"--simulate on a hardware trace",
       [](const TempDir&, const std::string& t, const std::string& c) {
         fs::remove(t);
         write_hardware_trace(t, c);
         return std::vector<std::string>{"tune", "--resume", t, "--simulate"};
       },
       "hardware"},
      {"another config (another task)",
       [](const TempDir& d, const std::string& t, const std::string&) {
         std::ofstream(d.file("other.yaml"))
             << "seed: 5\nbudget: 6\ntasks:\n  - workload: matmul:M=32,N=64,K=64\n";
         return std::vector<std::string>{"tune", d.file("other.yaml"), "--resume", t};
       },
       "tasks[0]"},
      {"another config (other measurement settings)",
       [](const TempDir& d, const std::string& t, const std::string&) {
         std::ofstream(d.file("other.yaml")) << "seed: 5\nbudget: 6\ntasks:\n  - workload: "
                                                "matmul:M=64,N=64,K=64\nmeasure:\n  min_time: 0.5\n";
         return std::vector<std::string>{"tune", d.file("other.yaml"), "--resume", t};
       },
       "measure.min_time"},
      {"a sample row with an out-of-order index",
       [](const TempDir&, const std::string& t, const std::string&) {
         set_sample_index(t, 2, 100);
         return std::vector<std::string>{"tune", "--resume", t, "--budget", "12"};
       },
       "row 3 has index 3, not above 100"},
      {"--force with --resume",
       [](const TempDir&, const std::string& t, const std::string&) {
         return std::vector<std::string>{"tune", "--resume", t, "--force"};
       },
       "--force", false},
  };
  for (const Case& c : cases) {
    TempDir dir;
    const std::string config = write_config(dir.file("run.yaml"), "", 6);
    const std::string path = dir.file("run.h5");
    const CliResult first = run_rctune_args({"tune", config, "--simulate", "--quiet", "--out", path});
    ASSERT_EQ(first.exit_code, 0) << first.output;
    const std::vector<std::string> args = c.setup(dir, path, config);
    const std::string before = file_text(path);
    const CliResult r = run_rctune_args(args, dir.path().string());
    EXPECT_EQ(r.exit_code, 2) << c.name << "\n" << r.output;
    EXPECT_NE(r.output.find("rctune: error:"), std::string::npos) << c.name << "\n" << r.output;
    if (c.names_file) {
      EXPECT_NE(r.output.find(path), std::string::npos) << c.name << "\n" << r.output;
    }
    EXPECT_NE(r.output.find(c.says), std::string::npos) << c.name << ": expected '" << c.says << "'\n"
                                                        << r.output;
    EXPECT_TRUE(file_text(path) == before) << c.name << ": the refused resume changed the trace";
  }
}

// --resume of a path that holds no trace (every payload but the traces): refused, nothing changes.
TEST(Overwrite, AResumeOfAnythingButATraceChangesNothing) {
  for (const Payload& p : payloads()) {
    if (p.name.find("trace") != std::string::npos) continue;
    TempDir dir;
    const std::string path = dir.file("run.h5");
    const std::string config = p.name == "the config itself" ? path : dir.file("run.yaml");
    write_config(config, "");
    p.make(dir, path, config);
    const Snapshot before = snapshot(path);
    const Snapshot target_before = snapshot(dir.file("target.txt"));
    const CliResult r = run_rctune_args({"tune", "--resume", path, "--quiet"}, dir.path().string());
    EXPECT_EQ(r.exit_code, 2) << p.name << "\n" << r.output;
    EXPECT_NE(r.output.find("rctune: error:"), std::string::npos) << p.name << "\n" << r.output;
    EXPECT_NE(r.output.find(path), std::string::npos) << p.name << "\n" << r.output;
    EXPECT_EQ(snapshot(path), before) << p.name;
    EXPECT_EQ(snapshot(dir.file("target.txt")), target_before) << p.name;
    EXPECT_EQ(snapshot(dir.file("nowhere.h5")).kind, "missing") << p.name;
  }
}

TEST(Overwrite, ATraceWithAnOutOfOrderRowKeepsEveryRowForItsReaders) {
  TempDir dir;
  const std::string config = write_config(dir.file("run.yaml"), "", 6);
  const std::string path = dir.file("run.h5");
  ASSERT_EQ(run_rctune_args({"tune", config, "--simulate", "--quiet", "--out", path}).exit_code, 0);
  set_sample_index(path, 2, 100);
  const runlog::RunLog run = runlog::read_run_log(path);
  ASSERT_EQ(run.tasks.at(0).samples.size(), 6u) << "rows after the out-of-order one are still read";
  EXPECT_EQ(run.tasks[0].samples[2].index, 100);
  EXPECT_EQ(run.tasks[0].samples[5].index, 5);
}

TEST(Overwrite, AResumeWithTheSameConfigAndALargerBudgetIsAccepted) {
  TempDir dir;
  const std::string config = write_config(dir.file("run.yaml"), "", 6);
  const std::string path = dir.file("run.h5");
  ASSERT_EQ(run_rctune_args({"tune", config, "--simulate", "--quiet", "--out", path}).exit_code, 0);
  // The same config with another budget and another comment is the same run.
  std::ofstream(config, std::ios::app) << "# a comment\n";
  const CliResult r = run_rctune_args({"tune", config, "--resume", path, "--budget", "9", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(runlog::measured_samples(runlog::read_run_log(path).tasks.at(0)).size(), 9u);
}

TEST(Overwrite, AnEmptyOutIsAnErrorNamingTheKey) {
  TempDir dir;
  std::ofstream(dir.file("run.yaml"))
      << "seed: 5\nbudget: 4\nout: \"\"\ntasks:\n  - workload: matmul:M=64,N=64,K=64\n";
  const CliResult r =
      run_rctune_args({"tune", dir.file("run.yaml"), "--simulate", "--quiet"}, dir.path().string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("run.yaml:3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("out"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir.file("rctune-run.h5")));
  const CliResult opt = run_rctune_args({"tune", dir.file("run.yaml"), "--simulate", "--out", ""});
  EXPECT_NE(opt.exit_code, 0) << opt.output;
  EXPECT_NE(opt.output.find("--out"), std::string::npos) << opt.output;
}

// A disk that fills up while the trace grows (a file size limit: writes fail with EFBIG, as they
// fail with ENOSPC on a full disk), at several sizes, so that the failure meets different commits
// (samples, the tree): the error names the file and the cause, the process exits 2 without
// crashing in HDF5's cleanup, every sample committed before stays readable, and the run resumes.
TEST(Overwrite, AFullDiskEndsTheRunWithTheErrorAndKeepsEveryCommittedSample) {
  for (const int blocks : {192, 512, 2048}) {  // dash's ulimit -f counts 512-byte blocks
    const std::string what = "a file size limit of " + std::to_string(blocks * 512) + " bytes";
    TempDir dir;
    const std::string config = write_config(dir.file("run.yaml"), "", 2000);
    const std::string path = dir.file("run.h5");
    const CliResult r = run_command("trap '' XFSZ; ulimit -f " + std::to_string(blocks) + "; exec " +
                                    shell_quote(rctune_bin()) + " tune " + shell_quote(config) +
                                    " --simulate --quiet --out " + shell_quote(path));
    EXPECT_EQ(r.exit_code, 2) << what << "\n" << r.output;
    EXPECT_NE(r.output.find("rctune: error: trace file '" + path + "'"), std::string::npos) << what << "\n"
                                                                                            << r.output;
    EXPECT_NE(r.output.find("File too large"), std::string::npos) << what << "\n" << r.output;
    EXPECT_EQ(r.output.find("HDF5-DIAG"), std::string::npos) << what << ": HDF5's cleanup\n" << r.output;
    size_t kept = 0;
    try {
      const runlog::RunLog run = runlog::read_run_log(path);
      ASSERT_EQ(run.tasks.size(), 1u) << what;
      const auto& samples = run.tasks[0].samples;
      kept = samples.size();
      for (size_t i = 0; i < samples.size(); ++i)
        EXPECT_EQ(samples[i].index, static_cast<int64_t>(i)) << what;
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << ": the trace is unreadable: " << e.what();
    }
    EXPECT_GT(kept, 5u) << what << ": samples committed before the disk filled up are kept";
    EXPECT_LT(kept, 2000u) << what;
    const CliResult resumed =
        run_rctune_args({"tune", "--resume", path, "--quiet", "--budget", std::to_string(kept + 5)});
    EXPECT_EQ(resumed.exit_code, 0) << what << "\n" << resumed.output;
    if (resumed.exit_code == 0) {
      EXPECT_EQ(runlog::measured_samples(runlog::read_run_log(path).tasks.at(0)).size(), kept + 5) << what;
    }
  }
}

}  // namespace
}  // namespace rctune::testing
