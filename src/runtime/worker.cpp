#include "rctune/runtime/worker.h"

#include "rctune/ir/limits.h"
#include "rctune/ir/text.h"

#include <dlfcn.h>
#include <sched.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace rctune::runtime {

using nlohmann::json;

namespace {

using KernelFn = void (*)(void* const*);
using ReferenceFn = void (*)(double* const*);
using Clock = std::chrono::steady_clock;

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t buffer_key(uint64_t seed, int buffer_index) {
  return splitmix64(splitmix64(seed) ^ (0x632be59bd9b4e019ULL * static_cast<uint64_t>(buffer_index + 1)));
}

double value_from_key(uint64_t key, int64_t i) {
  const uint64_t x = splitmix64(key + static_cast<uint64_t>(i));
  return static_cast<double>(x >> 11) * 0x1.0p-52 - 1.0;  // [-1, 1)
}

// 64-byte aligned, zero-initialised storage.
struct Buffer {
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::unique_ptr<void, Free> ptr;
  int64_t n = 0;
  bool f64 = false;
  Buffer(int64_t elements, bool is_f64) : n(elements), f64(is_f64) {
    size_t bytes = static_cast<size_t>(std::max<int64_t>(elements, 1)) * (is_f64 ? 8 : 4);
    bytes = (bytes + 63) / 64 * 64;
    ptr.reset(std::aligned_alloc(64, bytes));
    if (!ptr) throw std::runtime_error("out of memory allocating " + std::to_string(bytes) + " bytes");
    std::memset(ptr.get(), 0, bytes);
  }
  double get(int64_t i) const {
    return f64 ? static_cast<const double*>(ptr.get())[i] : static_cast<const float*>(ptr.get())[i];
  }
  void set(int64_t i, double v) {
    if (f64) {
      static_cast<double*>(ptr.get())[i] = v;
    } else {
      static_cast<float*>(ptr.get())[i] = static_cast<float>(v);
    }
  }
};

// Loaded shared objects, least recently used first; at most kMaxLibs stay open.
class LibraryCache {
 public:
  void* symbol(const std::string& path, const char* name) {
    void* handle = nullptr;
    for (auto it = libs_.begin(); it != libs_.end(); ++it) {
      if (it->first == path) {
        handle = it->second;
        libs_.splice(libs_.end(), libs_, it);
        break;
      }
    }
    if (!handle) {
      handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!handle) throw std::runtime_error(std::string("cannot load '") + path + "': " + dlerror());
      libs_.emplace_back(path, handle);
      while (libs_.size() > kMaxLibs) {
        dlclose(libs_.front().second);
        libs_.pop_front();
      }
    }
    dlerror();
    void* sym = dlsym(handle, name);
    if (!sym) throw std::runtime_error("'" + path + "' does not export " + name);
    return sym;
  }

 private:
  static constexpr size_t kMaxLibs = 64;
  std::list<std::pair<std::string, void*>> libs_;
};

// Reference outputs per (reference_so, seed, buffers): the reference is slow (serial, double).
class ReferenceCache {
 public:
  const std::vector<std::vector<double>>* find(const std::string& key) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->first == key) {
        entries_.splice(entries_.end(), entries_, it);
        return &entries_.back().second;
      }
    }
    return nullptr;
  }
  const std::vector<std::vector<double>>* insert(const std::string& key, std::vector<std::vector<double>> v) {
    entries_.emplace_back(key, std::move(v));
    while (entries_.size() > kMaxEntries) entries_.pop_front();
    return &entries_.back().second;
  }

 private:
  static constexpr size_t kMaxEntries = 8;
  std::list<std::pair<std::string, std::vector<std::vector<double>>>> entries_;
};

LibraryCache& libraries() {
  static LibraryCache c;
  return c;
}
ReferenceCache& references() {
  static ReferenceCache c;
  return c;
}

void flush_caches() {
  static std::vector<char> junk(64 << 20);
  static char round = 0;
  ++round;
  for (size_t i = 0; i < junk.size(); i += 64) junk[i] = static_cast<char>(junk[i] + round);
}

[[noreturn]] void inject_fault(const std::string& fault) {
  if (fault == "segfault") {
    volatile int* p = nullptr;
    *p = 1;
    std::raise(SIGSEGV);
  } else if (fault == "abort") {
    std::abort();
  } else if (fault == "exit") {
    std::_Exit(3);
  }
  // "hang": spin like an infinite loop in a kernel would.
  volatile uint64_t x = 0;
  for (;;) x = x + 1;
}

std::string index_string(const std::vector<int64_t>& shape, int64_t flat) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    const int64_t e = std::max<int64_t>(shape[d], 1);
    idx[d] = flat % e;
    flat /= e;
  }
  std::string s = "[";
  for (size_t d = 0; d < idx.size(); ++d) s += (d ? ", " : "") + std::to_string(idx[d]);
  return s + "]";
}

// A number in an error message: six significant digits.
std::string fmt(double v) { return ir::fmt("%.6g", v); }

void pin_to_core(int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    throw std::runtime_error("cannot pin the worker to core " + std::to_string(core) + ": " +
                             std::strerror(errno));
  }
}

}  // namespace

double input_value(uint64_t seed, int buffer_index, int64_t i) {
  return value_from_key(buffer_key(seed, buffer_index), i);
}

namespace {

// Why a request's test_fault is refused ("" when there is none or it may be injected).
std::string test_fault_refusal(const WorkerRequest& req, bool test_faults_enabled) {
  if (req.test_fault.empty()) return "";
  if (!test_faults_enabled)
    return std::string("request field test_fault is accepted only when the worker runs with ") +
           kTestFaultsEnv + "=1";
  if (req.test_fault != "segfault" && req.test_fault != "hang" && req.test_fault != "abort" &&
      req.test_fault != "exit")
    return "unknown test_fault '" + req.test_fault + "' (segfault, hang, abort, exit)";
  return "";
}

// Why the buffers cannot be allocated ("" when they fit): the candidate's buffers plus the
// reference's double copies, checked before anything is allocated.
std::string buffers_too_large(const WorkerRequest& req) {
  int64_t bytes = 0;
  bool overflow = false;
  for (const auto& spec : req.buffers) {
    auto b = ir::checked_mul(spec.num_elements(), (spec.dtype == "f64" ? 8 : 4) + 8);
    auto sum = b ? ir::checked_add(bytes, *b) : std::nullopt;
    overflow = overflow || !sum;
    if (sum) bytes = *sum;
  }
  if (overflow) bytes = INT64_MAX;
  return ir::check_fits_in_memory(bytes, "the measurement's buffers (with the reference's copies)");
}

// Candidate buffers: inputs random, everything the kernel writes poisoned with NaN so that an
// element it forgets to write is caught.
std::vector<Buffer> candidate_buffers(const WorkerRequest& req) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<Buffer> bufs;
  bufs.reserve(req.buffers.size());
  for (size_t b = 0; b < req.buffers.size(); ++b) {
    const auto& spec = req.buffers[b];
    bufs.emplace_back(spec.num_elements(), spec.dtype == "f64");
    Buffer& buf = bufs.back();
    if (spec.role == BufferRole::Input) {
      const uint64_t key = buffer_key(req.seed, static_cast<int>(b));
      for (int64_t i = 0; i < buf.n; ++i) buf.set(i, value_from_key(key, i));
    } else {
      for (int64_t i = 0; i < buf.n; ++i) buf.set(i, nan);
    }
  }
  return bufs;
}

// The reference's outputs on the same input values, as double: cached per reference library,
// seed and buffer layout. Null (and `error` set) when the reference throws.
const std::vector<std::vector<double>>* reference_outputs(const WorkerRequest& req, ReferenceFn reference,
                                                          const std::vector<Buffer>& bufs, bool& cached,
                                                          std::string& error) {
  std::string ref_key = req.reference_so + "|" + std::to_string(req.seed);
  for (const auto& spec : req.buffers) {
    ref_key += "|" + spec.name + ":" + spec.dtype + ":" + role_name(spec.role);
    for (int64_t d : spec.shape) ref_key += "," + std::to_string(d);
  }
  const std::vector<std::vector<double>>* ref_out = references().find(ref_key);
  cached = ref_out != nullptr;
  if (ref_out) return ref_out;
  std::vector<std::vector<double>> dbl(req.buffers.size());
  std::vector<double*> dargs;
  for (size_t b = 0; b < req.buffers.size(); ++b) {
    dbl[b].resize(static_cast<size_t>(std::max<int64_t>(bufs[b].n, 1)));
    for (int64_t i = 0; i < bufs[b].n; ++i) dbl[b][i] = bufs[b].get(i);  // inputs exact, others NaN
    dargs.push_back(dbl[b].data());
  }
  try {
    reference(dargs.data());
  } catch (const std::exception& e) {
    error = std::string("reference kernel threw: ") + e.what();
    return nullptr;
  }
  std::vector<std::vector<double>> outs;
  for (size_t b = 0; b < req.buffers.size(); ++b) {
    if (req.buffers[b].role == BufferRole::Output) outs.push_back(std::move(dbl[b]));
  }
  return references().insert(ref_key, std::move(outs));
}

// Compares the candidate's outputs with the reference's within each output's tolerance; fills
// res.errors, and on a mismatch sets res.status to WrongResult with a message naming the first bad
// element.
void compare_outputs(const WorkerRequest& req, const std::vector<Buffer>& bufs,
                     const std::vector<std::vector<double>>& ref_out, WorkerResponse& res) {
  size_t out_index = 0;
  std::string first_msg;
  for (size_t b = 0; b < req.buffers.size(); ++b) {
    const auto& spec = req.buffers[b];
    if (spec.role != BufferRole::Output) continue;
    const std::vector<double>& ref = ref_out[out_index++];
    const Buffer& got = bufs[b];
    double sq = 0;
    int64_t finite = 0;
    for (int64_t i = 0; i < got.n; ++i) {
      if (std::isfinite(ref[i])) {
        sq += ref[i] * ref[i];
        ++finite;
      }
    }
    const double rms = finite ? std::sqrt(sq / static_cast<double>(finite)) : 0.0;
    const ResolvedTolerance tol = default_tolerance(spec.dtype, req.reduction_length, rms, req.tolerance);
    if (res.errors.first_bad_buffer.empty()) {
      res.errors.atol = tol.atol;
      res.errors.rtol = tol.rtol;
    }
    int64_t bad = 0;
    for (int64_t i = 0; i < got.n; ++i) {
      const double c = got.get(i), r = ref[i];
      if (c == r || (std::isnan(c) && std::isnan(r))) continue;
      const double diff = std::fabs(c - r);
      const double d_abs = std::isnan(diff) ? std::numeric_limits<double>::infinity() : diff;
      res.errors.max_abs = std::max(res.errors.max_abs, d_abs);
      if (r != 0) res.errors.max_rel = std::max(res.errors.max_rel, d_abs / std::fabs(r));
      if (!(diff <= tol.atol + tol.rtol * std::fabs(r))) {
        if (bad == 0 && res.errors.first_bad_buffer.empty()) {
          res.errors.first_bad_buffer = spec.name;
          res.errors.first_bad_index = i;
          res.errors.expected = r;
          res.errors.got = c;
          res.errors.atol = tol.atol;
          res.errors.rtol = tol.rtol;
          first_msg = "output " + spec.name + index_string(spec.shape, i) + " (flat index " +
                      std::to_string(i) + "): expected " + fmt(r) + ", got " + fmt(c) + " (atol " +
                      fmt(tol.atol) + ", rtol " + fmt(tol.rtol) + ")";
        }
        ++bad;
      }
    }
    res.errors.bad_count += bad;
  }
  if (res.errors.bad_count > 0) {
    res.status = Status::WrongResult;
    res.message = std::to_string(res.errors.bad_count) +
                  " output element(s) outside tolerance; first: " + first_msg + "; max abs error " +
                  fmt(res.errors.max_abs) + ", max rel error " + fmt(res.errors.max_rel);
  }
}

// Times the kernel. Each sample times `batch` back-to-back runs and records their mean, so that
// kernels of a few microseconds are not dominated by the clock; with a cache flush, one run per
// sample. A kernel slower than the request's time budget allows stops early with what it has.
TimingStats time_kernel(const WorkerRequest& req, KernelFn kernel, const std::vector<void*>& args,
                        double first_run_s, Clock::time_point request_start) {
  const TimingOptions& t = req.timing;
  const double elapsed = std::chrono::duration<double>(Clock::now() - request_start).count();
  const bool slow =
      first_run_s > t.min_time_s || (req.time_budget_s > 0 && elapsed + 2 * first_run_s > req.time_budget_s);
  const int warmup = slow ? 0 : std::max(t.warmup, 0);
  double estimate = first_run_s;
  for (int i = 0; i < warmup; ++i) {
    const auto w0 = Clock::now();
    kernel(args.data());
    estimate = std::min(estimate, std::chrono::duration<double>(Clock::now() - w0).count());
  }
  constexpr double kMinSampleS = 50e-6;
  int64_t batch = 1;
  if (!req.flush_cache && estimate < kMinSampleS) {
    batch =
        std::min<int64_t>(static_cast<int64_t>(std::ceil(kMinSampleS / std::max(estimate, 1e-9))), 1000000);
  }
  std::vector<double> times;
  double total = 0;
  const int max_repeats = std::max(t.max_repeats, 1);
  while (static_cast<int>(times.size()) < max_repeats &&
         (static_cast<int>(times.size()) < t.min_repeats || total < t.min_time_s)) {
    if (req.flush_cache) flush_caches();
    const auto t0 = Clock::now();
    for (int64_t r = 0; r < batch; ++r) kernel(args.data());
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    times.push_back(s / static_cast<double>(batch));
    total += s;
    if (req.time_budget_s > 0 &&
        std::chrono::duration<double>(Clock::now() - request_start).count() + s > req.time_budget_s) {
      break;  // a slow kernel: report what was measured rather than run into the timeout
    }
  }
  TimingStats stats = summarize_times(std::move(times));
  stats.batch = static_cast<int>(batch);
  return stats;
}

}  // namespace

WorkerResponse handle_request(const WorkerRequest& req, bool test_faults_enabled) {
  const auto request_start = Clock::now();
  WorkerResponse res;
  res.id = req.id;
  res.status = Status::RuntimeError;
  res.message = test_fault_refusal(req, test_faults_enabled);
  if (!res.message.empty()) return res;
  if (!req.test_fault.empty()) inject_fault(req.test_fault);
  if (req.pin_core >= 0) pin_to_core(req.pin_core);
  if (req.reference_so.empty()) throw std::runtime_error("request has no reference_so");
  res.message = buffers_too_large(req);
  if (!res.message.empty()) return res;

  auto kernel = reinterpret_cast<KernelFn>(libraries().symbol(req.kernel_so, "rctune_kernel"));
  auto reference = reinterpret_cast<ReferenceFn>(libraries().symbol(req.reference_so, "rctune_reference"));
  std::vector<Buffer> bufs = candidate_buffers(req);
  std::vector<void*> args;
  for (Buffer& b : bufs) args.push_back(b.ptr.get());
  const std::vector<std::vector<double>>* ref_out =
      reference_outputs(req, reference, bufs, res.reference_cached, res.message);
  if (!ref_out) return res;

  // Correctness run.
  const auto c0 = Clock::now();
  try {
    kernel(args.data());
  } catch (const std::exception& e) {
    res.message = std::string("kernel threw: ") + e.what();
    return res;
  } catch (...) {
    res.message = "kernel threw an exception";
    return res;
  }
  const double first_run_s = std::chrono::duration<double>(Clock::now() - c0).count();
  compare_outputs(req, bufs, *ref_out, res);
  if (res.status == Status::WrongResult) return res;
  res.status = Status::Ok;
  if (req.check_only) return res;
  res.times = time_kernel(req, kernel, args, first_run_s, request_start);
  return res;
}

namespace {

bool write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int run_worker_loop(int in_fd, int out_fd, const json& hello) {
  const char* env = std::getenv(kTestFaultsEnv);
  const bool faults = env && std::string(env) == "1";
  json ready = hello;
  ready["op"] = "ready";
  ready["pid"] = static_cast<int64_t>(getpid());
  ready["test_faults"] = faults;
  if (!write_all(out_fd, ready.dump() + "\n")) return 1;

  std::string buf;
  char chunk[65536];
  for (;;) {
    size_t nl;
    while ((nl = buf.find('\n')) == std::string::npos) {
      const ssize_t n = read(in_fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return 0;  // EOF: the tuner went away
      buf.append(chunk, static_cast<size_t>(n));
    }
    const std::string line = buf.substr(0, nl);
    buf.erase(0, nl + 1);
    if (line.empty()) continue;

    json out;
    uint64_t id = 0;
    try {
      const json j = json::parse(line);
      id = j.value("id", uint64_t{0});
      const std::string op = j.value("op", std::string("measure"));
      if (op == "quit") return 0;
      if (op == "ping") {
        out = {{"op", "pong"}, {"id", id}};
      } else if (op == "measure") {
        out = to_json(handle_request(request_from_json(j), faults));
      } else {
        throw std::invalid_argument("unknown op '" + op + "' (measure, ping, quit)");
      }
    } catch (const std::exception& e) {
      WorkerResponse r;
      r.id = id;
      r.status = Status::RuntimeError;
      r.message = e.what();
      out = to_json(r);
    }
    if (!write_all(out_fd, out.dump(-1, ' ', false, json::error_handler_t::replace) + "\n")) return 1;
  }
}

}  // namespace rctune::runtime
