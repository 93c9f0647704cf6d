#include "rctune/runtime/measurer.h"

#include <sched.h>

#include <stdexcept>

#include "file_lock.h"
#include "rctune/runtime/environment_error.h"

namespace rctune::runtime {

Measurer::Measurer(JitOptions jit, WorkerOptions worker) : jit_(std::move(jit)), worker_(std::move(worker)) {}

Measurement Measurer::measure(const MeasureInput& in, const MeasureOptions& opts) {
  Measurement m;
  const CompileResult kc = jit_.compile(in.kernel_source, in.kernel_kind);
  m.compile_seconds = kc.seconds;
  m.cache_hit = kc.cache_hit;
  m.used_pch = kc.used_pch;
  m.source_path = kc.source_path;
  m.so_path = kc.ok ? kc.so_path : "";
  if (!kc.ok) {
    m.status = Status::CompileError;
    m.message = "kernel does not compile (" + kc.source_path + "):\n" + kc.message;
    return m;
  }
  const CompileResult rc = jit_.compile(in.reference_source, SourceKind::Plain);
  m.reference_compile_seconds = rc.seconds;
  if (!rc.ok) {
    m.status = Status::CompileError;
    m.message = "reference does not compile (" + rc.source_path + "):\n" + rc.message;
    return m;
  }

  WorkerRequest req;
  static_cast<KernelRunOptions&>(req) = opts;
  req.buffers = in.buffers;
  req.kernel_so = kc.so_path;
  req.reference_so = rc.so_path;
  req.reduction_length = in.reduction_length;
  req.time_budget_s = 0.75 * opts.timeout_s;

  WorkerReply reply;
  try {
    FileLock lock(opts.run_lock, FileLock::Mode::Required);
    reply = worker_.request(req, opts.timeout_s);
  } catch (const EnvironmentError&) {  // the worker or the lock: the machine's fault, not the kernel's
    throw;
  } catch (const std::exception& e) {
    m.status = Status::RuntimeError;
    m.message = e.what();
    return m;
  }
  switch (reply.kind) {
    case WorkerReply::Kind::Ok:
      m.status = reply.response.status;
      m.message = reply.response.message;
      m.times = reply.response.times;
      m.errors = reply.response.errors;
      break;
    case WorkerReply::Kind::Timeout:
      m.status = Status::Timeout;
      m.message = "kernel timed out: " + reply.message;
      break;
    case WorkerReply::Kind::Died:
      m.status = Status::RuntimeError;
      m.message = "kernel crashed: " + reply.message;
      break;
    case WorkerReply::Kind::ProtocolError:
      m.status = Status::RuntimeError;
      m.message = reply.message;
      break;
  }
  return m;
}

int default_pin_core() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
  for (int c = CPU_SETSIZE - 1; c >= 0; --c)
    if (CPU_ISSET(c, &set)) return c;
  return -1;
}

int parse_pin_core(const std::string& text) {
  if (text == "auto") return default_pin_core();
  if (text == "none") return -1;
  size_t used = 0;
  int core = -1;
  try {
    core = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || core < 0)
    throw std::invalid_argument("--pin-core takes auto, none or a core number, not '" + text + "'");
  return core;
}

}  // namespace rctune::runtime
