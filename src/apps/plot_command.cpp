// `rctune plot TRACE.h5... --out DIR`: figures of tuning runs, drawn by the Python package
// python/rctune_analysis with Debian's h5py and matplotlib (docs/analysis.md says why). The traces
// are checked here first (the errors `rctune report` gives), then the interpreter runs
// `-m rctune_analysis.plot` with the user's values as an argument vector: no shell sees them.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "rctune/apps/commands.h"
#include "rctune/build_config.h"
#include "rctune/config/input_file.h"
#include "rctune/ir/text.h"
#include "rctune/runlog/runlog.h"

extern char** environ;

namespace rctune::apps {
namespace {

constexpr const char* kDefaultPython = "/usr/bin/python3";
constexpr const char* kPackages = "python3 python3-h5py python3-numpy python3-matplotlib";

bool executable_file(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

bool directory(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The interpreter: $RCTUNE_PYTHON when set, else Debian's python3 (the first python3 on PATH may be
// another build without Debian's packages).
std::string python_interpreter() {
  const char* env = std::getenv("RCTUNE_PYTHON");
  const bool from_env = env && *env;
  const std::string python = from_env ? env : kDefaultPython;
  if (!executable_file(python))
    throw std::runtime_error(
        "plot: the Python interpreter '" + python + "'" + (from_env ? " (from RCTUNE_PYTHON)" : "") +
        " is not an executable file; rctune plot needs python3 with h5py, numpy and matplotlib (Debian: "
        "apt-get install " +
        kPackages +
        "; graphviz draws the search trees), or RCTUNE_PYTHON naming such "
        "an interpreter");
  return python;
}

// The directory that holds the package rctune_analysis: beside an installed rctune
// (PREFIX/bin/rctune -> PREFIX/share/rctune/python), else the source tree this build came from.
std::string package_dir() {
  std::vector<std::string> candidates;
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<std::size_t>(n));
    dir = dir.substr(0, dir.rfind('/'));
    candidates.push_back(dir + "/../share/rctune/python");
  }
  candidates.push_back(std::string(RCTUNE_SOURCE_DIR) + "/python");
  for (const std::string& c : candidates)
    if (directory(c + "/rctune_analysis")) return c;
  throw std::runtime_error("plot: cannot find the Python package rctune_analysis (looked in " +
                           ir::join(candidates, ", ") + "): reinstall rctune");
}

// The environment of the interpreter: this one, with the package first on PYTHONPATH and
// matplotlib's non-interactive backend.
std::vector<std::string> child_environment(const std::string& package) {
  std::vector<std::string> env;
  std::string python_path = package;
  for (char** e = environ; *e; ++e) {
    const std::string var = *e;
    if (var.rfind("PYTHONPATH=", 0) == 0) {
      if (var.size() > 11) python_path += ":" + var.substr(11);
    } else if (var.rfind("MPLBACKEND=", 0) != 0) {
      env.push_back(var);
    }
  }
  env.push_back("PYTHONPATH=" + python_path);
  env.push_back("MPLBACKEND=Agg");
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& words) {
  std::vector<char*> p;
  for (std::string& w : words) p.push_back(w.data());
  p.push_back(nullptr);
  return p;
}

// Runs argv[0] with `argv` and `env` (stdout and stderr those of rctune); returns its exit status.
int run_child(std::vector<std::string> argv, std::vector<std::string> env) {
  std::vector<char*> cargv = pointers(argv), cenv = pointers(env);
  int exec_error[2];
  if (pipe2(exec_error, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("plot: pipe: ") + std::strerror(errno));
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("plot: fork: ") + std::strerror(errno));
  if (pid == 0) {
    execve(cargv[0], cargv.data(), cenv.data());
    const int e = errno;
    const ssize_t ignored = write(exec_error[1], &e, sizeof e);
    (void)ignored;
    _exit(127);
  }
  close(exec_error[1]);
  int e = 0;
  const bool exec_failed = read(exec_error[0], &e, sizeof e) == static_cast<ssize_t>(sizeof e);
  close(exec_error[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (exec_failed) throw std::runtime_error("plot: cannot run '" + argv[0] + "': " + std::strerror(e));
  if (WIFSIGNALED(status)) {
    std::cerr << "rctune: error: plot: '" << argv[0] << "' was killed by signal " << WTERMSIG(status) << "\n";
    return 2;
  }
  return WEXITSTATUS(status);
}

}  // namespace

int run_plot(const PlotArgs& a) {
  for (const std::string& path : a.trace_files) {
    config::check_input_file(path, "the trace");
    runlog::read_run_log(path);  // a file that is not a trace fails here, as in `rctune report`
  }
  const std::string python = python_interpreter();
  const std::string package = package_dir();
  // `--option=value`: a value that starts with `-` stays the option's value.
  std::vector<std::string> argv = {python,
                                   "-s",
                                   "-m",
                                   "rctune_analysis.plot",
                                   "--out=" + a.out,
                                   "--format=" + a.format,
                                   "--max-tree-nodes=" + std::to_string(a.max_tree_nodes)};
  if (!a.tasks.empty()) argv.push_back("--tasks=" + ir::join(a.tasks, ","));
  argv.push_back("--");  // the traces' paths are never options, whatever they start with
  argv.insert(argv.end(), a.trace_files.begin(), a.trace_files.end());
  return run_child(std::move(argv), child_environment(package));
}

}  // namespace rctune::apps
