// Supervision of `rctune-worker` processes from the tuner: spawn, send a request, wait with a
// timeout, kill and restart a worker that hangs or dies. Nothing a worker does can take the
// calling process down.
#pragma once

#include <sys/types.h>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rctune/runtime/protocol.h"

namespace rctune::runtime {

struct WorkerOptions {
  std::string worker_path;          // empty: find_worker_executable()
  bool enable_test_faults = false;  // sets RCTUNE_WORKER_TEST_FAULTS=1 in the worker (tests only)
  double startup_timeout_s = 60;    // time allowed for the worker's ready line
};

// Path of rctune-worker: $RCTUNE_WORKER, else next to the running executable, else the build
// tree's bin/ (RCTUNE_WORKER_PATH). Throws EnvironmentError if none is executable.
std::string find_worker_executable();

// Result of one exchange with a worker process.
struct WorkerReply {
  enum class Kind { Ok, Timeout, Died, ProtocolError } kind = Kind::Ok;
  WorkerResponse response;  // valid when kind == Ok
  std::string message;      // what went wrong otherwise (signal name, exit status, stderr tail)
};

// One supervised worker process. Not thread-safe: use one per thread (or a WorkerPool).
class WorkerProcess {
 public:
  explicit WorkerProcess(WorkerOptions opts = {});
  ~WorkerProcess();
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  // Sends `req` and waits up to `timeout_s` for the answer. Starts the worker if it is not
  // running. On timeout the worker is killed (SIGKILL); on death it is reaped. Either way the
  // next call starts a fresh one. Throws EnvironmentError only if the worker cannot be started
  // (never the kernel's fault: the measurement stops the run, rctune/runtime/environment_error.h).
  WorkerReply request(const WorkerRequest& req, double timeout_s);

  void start();  // starts the worker if it is not running (waits for its ready line)
  void stop();   // asks the worker to quit, kills it if it does not within 2 s
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int restarts() const { return restarts_; }              // workers started after the first
  const nlohmann::json& hello() const { return hello_; }  // the worker's ready line

 private:
  enum class ReadResult { Line, Timeout, Eof };
  ReadResult read_line(std::string& line, double timeout_s);
  std::string reap(bool kill_first);  // kills/waits the child; returns how it ended
  void drain_stderr();

  WorkerOptions opts_;
  pid_t pid_ = -1;
  int sock_ = -1;    // request/response channel (socketpair: no SIGPIPE for us)
  int err_fd_ = -1;  // the worker's stderr
  std::string inbuf_;
  std::string err_tail_;  // last few KB of the worker's stderr
  nlohmann::json hello_;
  uint64_t next_id_ = 1;
  int starts_ = 0;
  int restarts_ = 0;
};

// A fixed set of workers for measuring from several threads at once. acquire() blocks until a
// worker is free.
class WorkerPool {
 public:
  WorkerPool(int size, WorkerOptions opts = {});
  int size() const { return static_cast<int>(workers_.size()); }

  class Lease {
   public:
    Lease(WorkerPool* pool, int index) : pool_(pool), index_(index) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), index_(o.index_) { o.pool_ = nullptr; }
    Lease(const Lease&) = delete;
    ~Lease();
    WorkerProcess& operator*() const { return *pool_->workers_[index_]; }
    WorkerProcess* operator->() const { return pool_->workers_[index_].get(); }
    int index() const { return index_; }

   private:
    WorkerPool* pool_;
    int index_;
  };
  Lease acquire();

 private:
  std::vector<std::unique_ptr<WorkerProcess>> workers_;
  std::vector<bool> busy_;
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace rctune::runtime
