#include "rctune/runtime/worker_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "process.h"
#include "rctune/build_config.h"
#include "rctune/runtime/environment_error.h"
#include "rctune/runtime/worker.h"

extern char** environ;

namespace rctune::runtime {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

bool executable(const std::string& p) { return !p.empty() && access(p.c_str(), X_OK) == 0; }

constexpr size_t kErrTailBytes = 4096;

// The last lines of a worker's stderr, for a message.
std::string tail_lines(const std::string& s, size_t max_chars = 1000) {
  std::string t = s.size() > max_chars ? s.substr(s.size() - max_chars) : s;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  return t;
}

}  // namespace

std::string find_worker_executable() {
  if (const char* env = std::getenv("RCTUNE_WORKER"); env && *env) {
    if (executable(env)) return env;
    throw EnvironmentError(std::string("RCTUNE_WORKER='") + env + "' is not an executable file");
  }
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<size_t>(n));
    dir = dir.substr(0, dir.rfind('/'));
    if (executable(dir + "/rctune-worker")) return dir + "/rctune-worker";
  }
  if (executable(RCTUNE_WORKER_PATH)) return RCTUNE_WORKER_PATH;
  throw EnvironmentError(
      "cannot find the rctune-worker executable: set RCTUNE_WORKER, or install it next to this program");
}

WorkerProcess::WorkerProcess(WorkerOptions opts) : opts_(std::move(opts)) {}

WorkerProcess::~WorkerProcess() { stop(); }

void WorkerProcess::start() {
  if (pid_ > 0) return;
  const std::string path = opts_.worker_path.empty() ? find_worker_executable() : opts_.worker_path;
  spdlog::debug("starting the kernel worker {}", path);

  // Everything the child needs is prepared before fork (no allocation after it).
  std::vector<std::string> env_strings;
  const std::string fault_prefix = std::string(kTestFaultsEnv) + "=";
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, fault_prefix.c_str(), fault_prefix.size()) != 0) env_strings.emplace_back(*e);
  }
  if (opts_.enable_test_faults) env_strings.push_back(fault_prefix + "1");
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string argv0 = path;
  char* argv[] = {argv0.data(), nullptr};

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    throw EnvironmentError("cannot start the worker '" + path + "': socketpair: " + std::strerror(errno));
  }
  int errp[2];
  if (pipe2(errp, O_CLOEXEC) != 0) {
    const int e = errno;
    close(sv[0]);
    close(sv[1]);
    throw EnvironmentError("cannot start the worker '" + path + "': pipe: " + std::strerror(e));
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int e = errno;
    for (int fd : {sv[0], sv[1], errp[0], errp[1]}) close(fd);
    throw EnvironmentError("cannot start the worker '" + path + "': fork: " + std::strerror(e));
  }
  if (pid == 0) {
    // The worker dies with the tuner (the thread that started it, strictly). The tuner alone answers
    // SIGTERM and SIGUSR1 (a scheduler signals every process of a job step): it stops after the
    // measurement in flight, which the worker must finish.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    signal(SIGTERM, SIG_IGN);
    signal(SIGUSR1, SIG_IGN);
    if (getppid() != parent) _exit(1);
    dup2(sv[1], 0);
    dup2(sv[1], 1);
    dup2(errp[1], 2);
    execve(argv[0], argv, envp.data());
    const char msg[] = "rctune-worker: exec failed\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(127);
  }
  close(sv[1]);
  close(errp[1]);
  pid_ = pid;
  sock_ = sv[0];
  err_fd_ = errp[0];
  fcntl(err_fd_, F_SETFL, fcntl(err_fd_, F_GETFL) | O_NONBLOCK);
  inbuf_.clear();
  err_tail_.clear();
  if (starts_++ > 0) ++restarts_;

  std::string line;
  const ReadResult r = read_line(line, opts_.startup_timeout_s);
  std::string why;
  if (r == ReadResult::Line) {
    try {
      hello_ = json::parse(line);
      if (hello_.value("op", std::string()) == "ready") return;
      why = "unexpected first line '" + line + "'";
    } catch (const std::exception& e) {
      why = "unreadable first line '" + line + "'";
    }
  } else {
    why = r == ReadResult::Timeout ? "no ready line within " + std::to_string(opts_.startup_timeout_s) + " s"
                                   : "";
  }
  const std::string ended = reap(r != ReadResult::Eof);
  std::string msg = "rctune-worker '" + path + "' failed to start: " + (why.empty() ? ended : why);
  if (!err_tail_.empty()) msg += "; its stderr: " + tail_lines(err_tail_);
  throw EnvironmentError(msg);
}

void WorkerProcess::drain_stderr() {
  if (err_fd_ < 0) return;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(err_fd_, buf, sizeof buf);
    if (n > 0) {
      err_tail_.append(buf, static_cast<size_t>(n));
      if (err_tail_.size() > kErrTailBytes) err_tail_.erase(0, err_tail_.size() - kErrTailBytes);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {  // EOF: the worker closed stderr (it exited)
      close(err_fd_);
      err_fd_ = -1;
    }
    return;
  }
}

WorkerProcess::ReadResult WorkerProcess::read_line(std::string& line, double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  char buf[65536];
  for (;;) {
    const size_t nl = inbuf_.find('\n');
    if (nl != std::string::npos) {
      line = inbuf_.substr(0, nl);
      inbuf_.erase(0, nl + 1);
      return ReadResult::Line;
    }
    const double left = std::chrono::duration<double>(deadline - Clock::now()).count();
    if (left <= 0) return ReadResult::Timeout;
    pollfd fds[2] = {{sock_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    const int nfds = err_fd_ >= 0 ? 2 : 1;
    const int r = poll(fds, nfds, static_cast<int>(std::min(left * 1000.0, 1000.0)) + 1);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ReadResult::Eof;
    }
    if (nfds == 2 && fds[1].revents) drain_stderr();
    if (fds[0].revents) {
      const ssize_t n = read(sock_, buf, sizeof buf);
      if (n > 0) {
        inbuf_.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        return ReadResult::Eof;
      }
    }
  }
}

std::string WorkerProcess::reap(bool kill_first) {
  if (pid_ <= 0) return "not running";
  if (kill_first) kill(pid_, SIGKILL);
  int status = 0;
  pid_t r = 0;
  // A worker that closed its channel normally exits at once; give it 2 s, then kill it.
  const auto deadline = Clock::now() + std::chrono::seconds(2);
  while ((r = waitpid(pid_, &status, WNOHANG)) == 0) {
    if (Clock::now() > deadline) {
      kill(pid_, SIGKILL);
      while ((r = waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  drain_stderr();
  if (sock_ >= 0) close(sock_);
  if (err_fd_ >= 0) close(err_fd_);
  sock_ = err_fd_ = -1;
  pid_ = -1;
  inbuf_.clear();
  if (r < 0) return "lost (waitpid failed)";
  if (WIFSIGNALED(status)) return "killed by " + detail::signal_description(WTERMSIG(status));
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "ended";
}

WorkerReply WorkerProcess::request(const WorkerRequest& req_in, double timeout_s) {
  // A worker that died while idle (killed from outside, or with the thread that started it) is
  // replaced silently: its death has nothing to do with this request's kernel.
  if (pid_ > 0) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      if (sock_ >= 0) close(sock_);
      if (err_fd_ >= 0) close(err_fd_);
      sock_ = err_fd_ = -1;
      pid_ = -1;
      inbuf_.clear();
    }
  }
  start();
  WorkerRequest req = req_in;
  req.id = next_id_++;
  err_tail_.clear();
  WorkerReply reply;
  const std::string line = to_json(req).dump() + "\n";
  size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = send(sock_, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      reply.kind = WorkerReply::Kind::Died;
      reply.message = "worker " + reap(false) + " before it read the request";
      return reply;
    }
    off += static_cast<size_t>(n);
  }
  std::string out;
  const ReadResult r = read_line(out, timeout_s);
  if (r == ReadResult::Timeout) {
    reap(true);
    reply.kind = WorkerReply::Kind::Timeout;
    char secs[32];
    std::snprintf(secs, sizeof secs, "%g", timeout_s);
    reply.message = std::string("no answer within ") + secs + " s; worker killed (SIGKILL)";
    return reply;
  }
  if (r == ReadResult::Eof) {
    reply.kind = WorkerReply::Kind::Died;
    reply.message = "worker " + reap(false);
    if (!err_tail_.empty()) reply.message += "; its stderr: " + tail_lines(err_tail_);
    return reply;
  }
  try {
    reply.response = response_from_json(json::parse(out));
    if (reply.response.id != req.id)
      throw std::runtime_error("answer to request " + std::to_string(reply.response.id));
    reply.kind = WorkerReply::Kind::Ok;
  } catch (const std::exception& e) {
    reap(true);
    reply.kind = WorkerReply::Kind::ProtocolError;
    reply.message = std::string("unreadable answer from worker (") + e.what() + "): " + out.substr(0, 200);
  }
  return reply;
}

void WorkerProcess::stop() {
  if (pid_ <= 0) return;
  const std::string quit = "{\"op\":\"quit\"}\n";
  if (send(sock_, quit.data(), quit.size(), MSG_NOSIGNAL) < 0) {
    reap(true);
    return;
  }
  reap(false);  // waits up to 2 s, then kills
}

WorkerPool::WorkerPool(int size, WorkerOptions opts) {
  if (size < 1) throw std::invalid_argument("WorkerPool: size must be at least 1");
  for (int i = 0; i < size; ++i) workers_.push_back(std::make_unique<WorkerProcess>(opts));
  busy_.assign(static_cast<size_t>(size), false);
}

WorkerPool::Lease WorkerPool::acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    for (size_t i = 0; i < busy_.size(); ++i) {
      if (!busy_[i]) {
        busy_[i] = true;
        return Lease(this, static_cast<int>(i));
      }
    }
    cv_.wait(lock);
  }
}

WorkerPool::Lease::~Lease() {
  if (!pool_) return;
  {
    std::lock_guard<std::mutex> lock(pool_->mu_);
    pool_->busy_[static_cast<size_t>(index_)] = false;
  }
  pool_->cv_.notify_one();
}

}  // namespace rctune::runtime
