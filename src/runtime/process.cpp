#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "rctune/runtime/environment_error.h"

namespace rctune::runtime::detail {

ProcessResult run_process(const std::vector<std::string>& argv, double timeout_s) {
  ProcessResult res;
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    res.error = std::string("pipe: ") + std::strerror(errno);
    return res;
  }
  int exec_err[2];  // reports an exec failure from the child
  if (pipe2(exec_err, O_CLOEXEC) != 0) {
    res.error = std::string("pipe: ") + std::strerror(errno);
    close(fds[0]);
    close(fds[1]);
    return res;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    res.error = std::string("fork: ") + std::strerror(errno);
    close(fds[0]);
    close(fds[1]);
    close(exec_err[0]);
    close(exec_err[1]);
    return res;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec. It dies with the tuner and lets the tuner
    // alone answer SIGTERM and SIGUSR1 (a scheduler signals every process of a job step): the tuner
    // stops after the measurement in flight, whose compilation must finish.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    signal(SIGTERM, SIG_IGN);
    signal(SIGUSR1, SIG_IGN);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    execvp(cargv[0], cargv.data());
    int e = errno;
    ssize_t ignored = write(exec_err[1], &e, sizeof e);
    (void)ignored;
    _exit(127);
  }
  close(fds[1]);
  close(exec_err[1]);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  char buf[65536];
  bool open_out = true;
  while (open_out) {
    const double left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      kill(pid, SIGKILL);
      res.timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = poll(&p, 1, static_cast<int>(std::min(left * 1000.0, 1000.0)) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r > 0) {
      const ssize_t n = read(fds[0], buf, sizeof buf);
      if (n > 0) {
        res.output.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        open_out = false;
      }
    }
  }
  close(fds[0]);
  int status = 0;
  struct rusage ru {};
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  res.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                    static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  int e = 0;
  if (read(exec_err[0], &e, sizeof e) == static_cast<ssize_t>(sizeof e)) {
    res.error = "cannot run '" + argv[0] + "': " + std::strerror(e);
  }
  close(exec_err[0]);
  if (WIFEXITED(status)) {
    res.exited = !res.timed_out;
    res.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    res.signal = WTERMSIG(status);
  }
  return res;
}

std::string signal_description(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  const char* desc = sigdescr_np(sig);
  std::string s = abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
  if (desc) s += std::string(" (") + desc + ")";
  return s;
}

std::string temp_suffix() {
  static std::atomic<unsigned> counter{0};
  return ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter.fetch_add(1));
}

void write_file_atomic(const std::string& path, const std::string& data) {
  const std::string tmp = path + temp_suffix();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw EnvironmentError("cannot create '" + tmp + "': " + std::strerror(errno));
  auto fail = [&](const char* what, int e) {
    ::unlink(tmp.c_str());
    throw EnvironmentError(std::string(what) + " '" + tmp + "': " + std::strerror(e));
  };
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      fail("cannot write", e);
    }
    off += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) fail("cannot write", errno);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw EnvironmentError("cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(e));
  }
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

void make_dirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec && !std::filesystem::is_directory(path)) {
    throw EnvironmentError("cannot create the directory '" + path + "': " + ec.message());
  }
}

}  // namespace rctune::runtime::detail
