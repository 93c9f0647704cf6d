// bench/halide_peer: a peer that needs no measurements. Halide 14's Adams2019 autoscheduler (a learned
// cost model plus beam search, loaded as a plugin) schedules the same matmul and conv2d workloads that
// rctune tunes; this program times the autoscheduling and the JIT compilation, then runs the scheduled
// pipeline on one thread with rctune's timing method (warm-up, then samples until they add up to
// --min-time and there are at least 3; median) and checks it against a plain C++ reference computed
// in double, with rctune's tolerance rule (docs/runtime.md). docs/peers.md explains the set-up.
//
// Workloads are rctune operator specs (include/rctune/ir/operators.h): matmul (row-major f32,
// C[i,j] = sum_k A[i,k]*B[k,j]) and conv2d_nchw (Y[n,k,p,q] = sum_{c,r,s} X[n,c,p*stride+r*dil-pad,
// q*stride+s*dil-pad] * W[k,c,r,s], zero padding). Halide lists dimensions innermost first, so a
// row-major A[M,K] is the Halide buffer A(k, i).
//
// Usage: bench/halide_peer [--workload SPEC]... [--min-time S] [--format table|json]
//                          [--parallelism P] [--llc BYTES] [--balance B] [--plugin PATH] [--target T]
//                          [--print-schedule]   (the chosen schedule, as Halide C++, on stderr)
//                          [--direct]           (reduce into the output Func: no accumulator stage)
// Exit status: 0 when every result is correct, 1 when one is wrong, 2 on a usage or set-up error.
#include <sys/resource.h>

#include <Halide.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "rctune/ir/operators.h"
#include "rctune/ir/workload.h"

namespace {

struct Options {
  std::vector<std::string> workloads;
  double min_time = 0.2;
  bool json = false;
  int parallelism = 16;
  uint64_t llc_bytes = 16ull * 1024 * 1024;
  float balance = 40;
  std::string plugin = RCTUNE_HALIDE_ADAMS2019_PLUGIN;
  std::string target = "host";
  bool print_schedule = false;
  bool direct = false;  // reduce straight into the output Func, without the accumulator stage
};

const std::vector<std::string> kDefaultWorkloads = {
    "matmul:M=512,N=512,K=512",
    "matmul:M=1024,N=1024,K=1024",
    "conv2d_nchw:N=1,C=64,H=56,W=56,K=64,R=3,S=3,stride=1,pad=1",
    "conv2d_nchw:N=1,C=64,H=28,W=28,K=64,R=3,S=3,stride=1,pad=1",
};

// What one workload needs: the Halide pipeline with its inputs bound, the output buffer, the
// reference output and the reduction length (for the tolerance).
struct Problem {
  Halide::Pipeline pipeline;
  Halide::Buffer<float> output;
  std::vector<Halide::Buffer<float>> inputs;  // kept alive while the ImageParams point at them
  std::vector<double> reference;              // in the output buffer's element order
  int64_t reduction_length = 1;
};

struct Result {
  std::string workload;  // canonical rctune spec
  double autoschedule_s = 0, compile_s = 0;
  double median_s = 0, min_s = 0, gflops = 0;
  int repeats = 0;
  double cpu_per_wall = 0;  // process CPU time / wall time while timing: at most about 1 on one thread
  int os_threads = 0;       // threads of this process after timing (the Halide thread pool included)
  double max_abs = 0, max_rel = 0;
  int64_t failures = 0;
  bool ok = false;
};

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The "Threads:" line of /proc/self/status.
int os_thread_count() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  int n = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "Threads: %d", &n) == 1) break;
  std::fclose(f);
  return n;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// "matmul:M=512,N=512,K=512,dtype=f32" -> {M: 512, ...}
std::map<std::string, std::string> spec_params(const std::string& canonical) {
  std::map<std::string, std::string> out;
  auto colon = canonical.find(':');
  if (colon == std::string::npos) return out;
  std::stringstream ss(canonical.substr(colon + 1));
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto eq = item.find('=');
    if (eq != std::string::npos) out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

int64_t int_param(const std::map<std::string, std::string>& p, const std::string& name) {
  auto it = p.find(name);
  if (it == p.end()) throw std::invalid_argument("the spec has no parameter " + name);
  return std::stoll(it->second);
}

Halide::Buffer<float> random_buffer(const std::vector<int>& sizes, unsigned seed) {
  Halide::Buffer<float> b(sizes);
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  b.for_each_value([&](float& x) { x = u(g); });
  return b;
}

// Fixes an ImageParam's shape (dense, innermost first) so the compiled code knows it, as rctune's
// generated kernels do, and tells the autoscheduler the same sizes.
void fix_shape(Halide::OutputImageParam p, const std::vector<int>& sizes) {
  int stride = 1;
  for (size_t d = 0; d < sizes.size(); ++d) {
    p.dim(static_cast<int>(d)).set_bounds(0, sizes[d]).set_stride(stride).set_estimate(0, sizes[d]);
    stride *= sizes[d];
  }
}

// The output stage. By default the reduction `acc` is its own Func and the output copies it, the usual
// Halide idiom: it lets the autoscheduler compute the reduction per tile of the output, with the
// accumulators in registers (without it, Adams2019 leaves matmul several times slower).
// With --direct the reduction is the output itself.
Halide::Func output_of(const Halide::Func& acc, bool direct, const std::vector<Halide::Var>& vars) {
  if (direct) return acc;
  Halide::Func out("out");
  std::vector<Halide::Expr> args(vars.begin(), vars.end());
  out(vars) = acc(args);
  return out;
}

Problem make_matmul(const std::map<std::string, std::string>& p, bool direct) {
  const int M = static_cast<int>(int_param(p, "M")), N = static_cast<int>(int_param(p, "N")),
            K = static_cast<int>(int_param(p, "K"));
  Halide::ImageParam A(Halide::Float(32), 2, "A"), B(Halide::Float(32), 2, "B");
  Halide::Var i("i"), j("j");
  Halide::RDom k(0, K, "k");
  Halide::Func acc("acc");
  acc(j, i) = 0.0f;
  acc(j, i) += A(k, i) * B(j, k);
  Halide::Func C = output_of(acc, direct, {j, i});
  fix_shape(A, {K, M});
  fix_shape(B, {N, K});
  fix_shape(C.output_buffer(), {N, M});
  C.set_estimates({{0, N}, {0, M}});

  Problem pr;
  pr.inputs = {random_buffer({K, M}, 1), random_buffer({N, K}, 2)};
  A.set(pr.inputs[0]);
  B.set(pr.inputs[1]);
  pr.output = Halide::Buffer<float>(N, M);
  pr.pipeline = Halide::Pipeline(C);
  pr.reduction_length = K;

  const float* a = pr.inputs[0].data();
  const float* b = pr.inputs[1].data();
  pr.reference.assign(static_cast<size_t>(M) * N, 0.0);
  for (int64_t r = 0; r < M; ++r) {
    double* row = pr.reference.data() + r * N;
    for (int64_t kk = 0; kk < K; ++kk) {
      double av = a[r * K + kk];
      const float* brow = b + kk * N;
      for (int64_t c = 0; c < N; ++c) row[c] += av * brow[c];
    }
  }
  return pr;
}

Problem make_conv2d_nchw(const std::map<std::string, std::string>& p, bool direct) {
  const int N = static_cast<int>(int_param(p, "N")), C = static_cast<int>(int_param(p, "C")),
            H = static_cast<int>(int_param(p, "H")), W = static_cast<int>(int_param(p, "W")),
            K = static_cast<int>(int_param(p, "K")), R = static_cast<int>(int_param(p, "R")),
            S = static_cast<int>(int_param(p, "S")), stride = static_cast<int>(int_param(p, "stride")),
            pad = static_cast<int>(int_param(p, "pad")), dil = static_cast<int>(int_param(p, "dilation"));
  const int P = (H + 2 * pad - dil * (R - 1) - 1) / stride + 1;
  const int Q = (W + 2 * pad - dil * (S - 1) - 1) / stride + 1;

  Halide::ImageParam X(Halide::Float(32), 4, "X"), Wt(Halide::Float(32), 4, "W");
  Halide::Var q("q"), pv("p"), k("k"), n("n");
  Halide::RDom red(0, S, 0, R, 0, C, "red");  // s innermost: unit-stride reads of X
  Halide::Expr undef;
  Halide::Func Xpad = Halide::BoundaryConditions::constant_exterior(
      X, 0.0f, {{0, W}, {0, H}, {undef, undef}, {undef, undef}});
  Halide::Func acc("acc");
  acc(q, pv, k, n) = 0.0f;
  acc(q, pv, k, n) += Xpad(q * stride + red.x * dil - pad, pv * stride + red.y * dil - pad, red.z, n) *
                      Wt(red.x, red.y, red.z, k);
  Halide::Func Y = output_of(acc, direct, {q, pv, k, n});
  fix_shape(X, {W, H, C, N});
  fix_shape(Wt, {S, R, C, K});
  fix_shape(Y.output_buffer(), {Q, P, K, N});
  Y.set_estimates({{0, Q}, {0, P}, {0, K}, {0, N}});

  Problem pr;
  pr.inputs = {random_buffer({W, H, C, N}, 1), random_buffer({S, R, C, K}, 2)};
  X.set(pr.inputs[0]);
  Wt.set(pr.inputs[1]);
  pr.output = Halide::Buffer<float>(std::vector<int>{Q, P, K, N});
  pr.pipeline = Halide::Pipeline(Y);
  pr.reduction_length = static_cast<int64_t>(C) * R * S;

  const float* x = pr.inputs[0].data();
  const float* w = pr.inputs[1].data();
  pr.reference.assign(static_cast<size_t>(N) * K * P * Q, 0.0);
  for (int64_t in = 0; in < N; ++in)
    for (int64_t ik = 0; ik < K; ++ik)
      for (int64_t ip = 0; ip < P; ++ip)
        for (int64_t iq = 0; iq < Q; ++iq) {
          double acc = 0;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t r = 0; r < R; ++r) {
              int64_t h = ip * stride + r * dil - pad;
              if (h < 0 || h >= H) continue;
              for (int64_t s = 0; s < S; ++s) {
                int64_t ww = iq * stride + s * dil - pad;
                if (ww < 0 || ww >= W) continue;
                acc += static_cast<double>(x[((in * C + c) * H + h) * W + ww]) *
                       w[((ik * C + c) * R + r) * S + s];
              }
            }
          pr.reference[static_cast<size_t>(((in * K + ik) * P + ip) * Q + iq)] = acc;
        }
  return pr;
}

// rctune's rule (docs/runtime.md, Tolerances): |c - r| <= atol + rtol * |r|.
void check(const Problem& pr, Result& res) {
  const float* out = pr.output.data();
  const size_t count = pr.reference.size();
  double sum_sq = 0;
  for (double r : pr.reference) sum_sq += r * r;
  const double rms = std::sqrt(sum_sq / static_cast<double>(count));
  const double rtol = 1e-4 * std::sqrt(static_cast<double>(std::max<int64_t>(pr.reduction_length, 1)));
  const double atol = rtol * std::max(rms, 1e-3);
  for (size_t e = 0; e < count; ++e) {
    double r = pr.reference[e], c = out[e], d = std::fabs(c - r);
    if (std::isnan(c)) d = INFINITY;
    res.max_abs = std::max(res.max_abs, d);
    if (r != 0) res.max_rel = std::max(res.max_rel, d / std::fabs(r));
    if (!(d <= atol + rtol * std::fabs(r))) ++res.failures;
  }
  res.ok = res.failures == 0;
}

Result run_workload(const std::string& spec, const Options& opt) {
  Result res;
  res.workload = rctune::ir::canonical_operator_spec(spec);
  const double flops = rctune::ir::make_operator(spec).flops();
  auto params = spec_params(res.workload);
  if (params.count("dtype") && params["dtype"] != "f32")
    throw std::invalid_argument("only dtype=f32 is supported, got " + res.workload);
  const std::string op = res.workload.substr(0, res.workload.find(':'));
  Problem pr;
  if (op == "matmul") {
    pr = make_matmul(params, opt.direct);
  } else if (op == "conv2d_nchw") {
    pr = make_conv2d_nchw(params, opt.direct);
  } else {
    throw std::invalid_argument("this peer supports matmul and conv2d_nchw only, not " + op);
  }

  Halide::Target target(opt.target == "host" ? Halide::get_host_target().to_string() : opt.target);
  double t0 = seconds_now();
  Halide::AutoSchedulerResults chosen = pr.pipeline.auto_schedule(
      "Adams2019", target, Halide::MachineParams(opt.parallelism, opt.llc_bytes, opt.balance));
  double t1 = seconds_now();
  pr.pipeline.compile_jit(target);
  double t2 = seconds_now();
  res.autoschedule_s = t1 - t0;
  res.compile_s = t2 - t1;
  if (opt.print_schedule)
    std::fprintf(stderr, "// %s, target %s\n%s\n", res.workload.c_str(), target.to_string().c_str(),
                 chosen.schedule_source.c_str());

  auto run_once = [&] { pr.pipeline.realize(pr.output, target); };
  run_once();  // the correctness run
  check(pr, res);

  run_once();  // warm-up
  std::vector<double> times;
  double total = 0, cpu0 = cpu_seconds();
  while ((total < opt.min_time || times.size() < 3) && times.size() < 1000) {
    double s = seconds_now();
    run_once();
    double d = seconds_now() - s;
    times.push_back(d);
    total += d;
  }
  res.cpu_per_wall = (cpu_seconds() - cpu0) / total;
  res.os_threads = os_thread_count();
  std::sort(times.begin(), times.end());
  res.repeats = static_cast<int>(times.size());
  res.min_s = times.front();
  res.median_s = times.size() % 2 ? times[times.size() / 2]
                                  : 0.5 * (times[times.size() / 2 - 1] + times[times.size() / 2]);
  res.gflops = flops / res.median_s * 1e-9;
  return res;
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o;
}

// A JSON number, or null for inf/NaN (a wrong result's error can be either).
std::string jnum(double v, const char* fmt) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

void print_json(const Result& r, const Options& opt) {
  std::string o = "{\"peer\":\"halide14-adams2019\",\"workload\":\"" + json_escape(r.workload) + "\"";
  o += ",\"threads\":1,\"os_threads\":" + std::to_string(r.os_threads);
  o += ",\"parallelism\":" + std::to_string(opt.parallelism);
  o += std::string(",\"accumulator_stage\":") + (opt.direct ? "false" : "true");
  o += ",\"autoschedule_s\":" + jnum(r.autoschedule_s, "%.4f");
  o += ",\"compile_s\":" + jnum(r.compile_s, "%.4f");
  o += ",\"autoschedule_compile_s\":" + jnum(r.autoschedule_s + r.compile_s, "%.4f");
  o += ",\"median_s\":" + jnum(r.median_s, "%.6g") + ",\"min_s\":" + jnum(r.min_s, "%.6g");
  o += ",\"repeats\":" + std::to_string(r.repeats) + ",\"gflops\":" + jnum(r.gflops, "%.3f");
  o += ",\"cpu_per_wall\":" + jnum(r.cpu_per_wall, "%.3f");
  o += ",\"max_abs\":" + jnum(r.max_abs, "%.3g") + ",\"max_rel\":" + jnum(r.max_rel, "%.3g");
  o += ",\"failures\":" + std::to_string(r.failures) + ",\"ok\":" + (r.ok ? "true" : "false") + "}";
  std::printf("%s\n", o.c_str());
  std::fflush(stdout);
}

void print_row(const Result& r) {
  std::printf("%-80s %11.2f %9.2f %9.2f %8.2f %10.2e %10.2e  %s\n", r.workload.c_str(), r.autoschedule_s,
              r.compile_s, r.gflops, r.cpu_per_wall, r.max_abs, r.max_rel, r.ok ? "ok" : "WRONG");
  std::fflush(stdout);
}

int usage(const char* argv0) {
  std::fprintf(
      stderr,
      "usage: %s [--workload SPEC]... [--min-time S] [--format table|json] [--parallelism P]\n"
      "          [--llc BYTES] [--balance B] [--plugin PATH] [--target T]\n"
      "          [--print-schedule] [--direct]\n"
      "SPEC: matmul:M=..,N=..,K=.. or conv2d_nchw:N=..,C=..,H=..,W=..,K=..,R=..,S=..,stride=..,pad=..\n",
      argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--workload" && has_value)
      opt.workloads.push_back(argv[++i]);
    else if (a == "--min-time" && has_value)
      opt.min_time = std::atof(argv[++i]);
    else if (a == "--format" && has_value) {
      std::string f = argv[++i];
      if (f != "table" && f != "json") return usage(argv[0]);
      opt.json = f == "json";
    } else if (a == "--parallelism" && has_value)
      opt.parallelism = std::atoi(argv[++i]);
    else if (a == "--llc" && has_value)
      opt.llc_bytes = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--balance" && has_value)
      opt.balance = static_cast<float>(std::atof(argv[++i]));
    else if (a == "--plugin" && has_value)
      opt.plugin = argv[++i];
    else if (a == "--target" && has_value)
      opt.target = argv[++i];
    else if (a == "--print-schedule")
      opt.print_schedule = true;
    else if (a == "--direct")
      opt.direct = true;
    else
      return usage(argv[0]);
  }
  if (opt.workloads.empty()) opt.workloads = kDefaultWorkloads;
  if (opt.parallelism < 1 || opt.min_time < 0) return usage(argv[0]);

  // One thread, like every rctune measurement: the JIT runtime's thread pool reads this when it starts.
  setenv("HL_NUM_THREADS", "1", 1);
  try {
    Halide::load_plugin(opt.plugin);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "halide_peer: cannot load the Adams2019 plugin %s: %s\n", opt.plugin.c_str(),
                 e.what());
    return 2;
  }

  // Start the JIT (LLVM's set-up, the runtime module) once, untimed, so that the first workload's
  // compile time is comparable with the others'.
  {
    Halide::Func warm("warm");
    Halide::Var x("x");
    warm(x) = x;
    warm.realize({16});
  }

  if (!opt.json) {
    std::printf(
        "bench/halide_peer: Halide 14 Adams2019, MachineParams(%d, %llu, %g), 1 thread, %s; median of "
        "samples adding up to %.2f s\n",
        opt.parallelism, static_cast<unsigned long long>(opt.llc_bytes), static_cast<double>(opt.balance),
        opt.direct ? "reduction into the output" : "accumulator stage", opt.min_time);
    std::printf("%-80s %11s %9s %9s %8s %10s %10s\n", "workload", "autosched_s", "compile_s", "GFLOP/s",
                "cpu/wall", "max_abs", "max_rel");
    std::fflush(stdout);
  }
  bool all_ok = true;
  for (const auto& spec : opt.workloads) {
    Result r;
    try {
      r = run_workload(spec, opt);
    } catch (const std::exception& e) {  // Halide::Error derives from std::runtime_error
      std::fprintf(stderr, "halide_peer: %s: %s\n", spec.c_str(), e.what());
      return 2;
    }
    if (opt.json)
      print_json(r, opt);
    else
      print_row(r);
    if (!r.ok) {
      std::fprintf(stderr,
                   "halide_peer: %s: WRONG result: %lld elements outside the tolerance, max abs %.3g\n",
                   r.workload.c_str(), static_cast<long long>(r.failures), r.max_abs);
      all_ok = false;
    }
  }
  return all_ok ? 0 : 1;
}
