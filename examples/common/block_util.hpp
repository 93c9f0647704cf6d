// What both block examples share that has nothing to do with the package: aligned buffers, random
// inputs, the command line, the comparison with the reference, and the alternating timing.
#pragma once

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace example {

// Exit codes of the examples.
constexpr int kExitMismatch = 1;  // an output differs from the reference (or another runtime error)
constexpr int kExitNotTuned = 2;  // --require-tuned and the package lacks a kernel
constexpr int kExitUsage = 64;    // bad command line

// A dense float buffer, 64-byte aligned as the package asks.
class Buffer {
 public:
  explicit Buffer(std::size_t n) : n_(n), p_(allocate(n), &std::free) {}
  float* data() { return p_.get(); }
  const float* data() const { return p_.get(); }
  std::size_t size() const { return n_; }
  float& operator[](std::size_t i) { return p_.get()[i]; }
  float operator[](std::size_t i) const { return p_.get()[i]; }

 private:
  static float* allocate(std::size_t n) {
    std::size_t bytes = (std::max<std::size_t>(n, 1) * sizeof(float) + 63) / 64 * 64;
    auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!p) throw std::bad_alloc();
    return p;
  }
  std::size_t n_;
  std::unique_ptr<float, decltype(&std::free)> p_;
};

inline void fill_uniform(Buffer& b, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = d(rng);
}

// ---- command line: --name VALUE (whole numbers in a range) and --flag ----

struct IntOption {
  const char* name;  // "--tokens"
  long long* value;  // holds the default; receives the value
  long long min, max;
  const char* help;
};

// The options of both programs besides the block's shape.
struct RunOptions {
  long long repeat = 11;       // timing rounds
  bool require_tuned = false;  // stop unless every step has a tuned kernel
  bool list_only = false;      // only print which steps have tuned kernels
};

struct FlagOption {
  const char* name;
  bool* value;
  const char* help;
};

inline void print_usage(std::FILE* to, const char* program, const char* summary,
                        const std::vector<IntOption>& ints, const std::vector<FlagOption>& flags) {
  std::fprintf(to, "usage: %s [options]\n%s\n\noptions:\n", program, summary);
  for (const auto& o : ints)
    std::fprintf(to, "  %-20s %s (%lld to %lld; default %lld)\n", (std::string(o.name) + " N").c_str(),
                 o.help, o.min, o.max, *o.value);
  for (const auto& f : flags) std::fprintf(to, "  %-20s %s\n", f.name, f.help);
  std::fprintf(to, "  %-20s %s\n", "--help", "this text");
  std::fprintf(to,
               "\nexit status: 0 ok, %d an output differs from the reference, %d a kernel is not tuned "
               "(--require-tuned), %d bad command line\n",
               kExitMismatch, kExitNotTuned, kExitUsage);
}

// Parses argv into the block's shape options and `run`; a bad argument is named on stderr with the
// usage, and the program exits (kExitUsage).
inline void parse_args(int argc, char** argv, const char* summary, std::vector<IntOption> ints,
                       RunOptions& run) {
  // Line-buffered stdout: the result lines and the package's notices on stderr stay in order.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  ints.push_back({"--repeat", &run.repeat, 1, 1000,
                  "timing rounds (package and OpenBLAS in turn; the median is printed)"});
  const std::vector<FlagOption> flags = {
      {"--require-tuned", &run.require_tuned,
       "stop (exit 2) unless the package holds a tuned kernel of every step"},
      {"--list", &run.list_only, "only print which steps the package holds tuned kernels of"}};
  const char* program = argc > 0 ? argv[0] : "example";
  auto fail = [&](const std::string& why) {
    std::fprintf(stderr, "%s: %s\n\n", program, why.c_str());
    print_usage(stderr, program, summary, ints, flags);
    std::exit(kExitUsage);
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      print_usage(stdout, program, summary, ints, flags);
      std::exit(0);
    }
    bool known = false;
    for (const auto& f : flags)
      if (a == f.name) *f.value = known = true;
    for (const auto& o : ints) {
      if (a != o.name) continue;
      known = true;
      if (i + 1 >= argc) fail(a + ": expects a value");
      const std::string text = argv[++i];
      char* end = nullptr;
      errno = 0;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno == ERANGE || v < o.min || v > o.max)
        fail(a + ": expected a whole number from " + std::to_string(o.min) + " to " + std::to_string(o.max) +
             ", got '" + text + "'");
      *o.value = v;
    }
    if (!known) fail("unknown argument '" + a + "'");
  }
}

// Exits (kExitUsage) when the shape's largest matrix is too large for cblas_sgemm's int sizes.
inline void require_int_sized(const char* program, long long largest_matrix, const std::string& shape) {
  if (largest_matrix <= std::numeric_limits<int>::max()) return;
  std::fprintf(stderr, "%s: %s: a matrix of %lld elements, more than cblas_sgemm takes (%d)\n", program,
               shape.c_str(), largest_matrix, std::numeric_limits<int>::max());
  std::exit(kExitUsage);
}

// ---- comparison with the reference ----

// The largest difference from the reference relative to the reference's largest magnitude (infinite
// when an output is not finite).
inline double max_relative_error(const Buffer& got, const std::vector<double>& want) {
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (!std::isfinite(got[i])) return std::numeric_limits<double>::infinity();
    worst = std::max(worst, std::abs(static_cast<double>(got[i]) - want[i]));
    scale = std::max(scale, std::abs(want[i]));
  }
  return scale > 0 ? worst / scale : worst;
}

// Prints the check line of one implementation; true when it is within `bound`.
inline bool check_output(const char* implementation, const Buffer& got, const std::vector<double>& want,
                         double bound) {
  double e = max_relative_error(got, want);
  bool ok = e <= bound;
  std::printf("check: %s %s max_rel_err=%.3g bound=%.0e\n", implementation, ok ? "ok" : "MISMATCH", e, bound);
  return ok;
}

// ---- timing ----

struct Timing {
  double package_ms, openblas_ms;
  int rounds, calls_per_round;
};

inline double seconds_of(const std::function<void()>& f, int calls) {
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Times the two blocks in turn in the same process: two warm-up calls of each, then `rounds` rounds,
// each timing both blocks (in alternating order) over the same number of calls (enough for the
// slower block to take about 20 ms); the median time per call of each.
inline Timing time_alternating(const std::function<void()>& package, const std::function<void()>& openblas,
                               int rounds) {
  double one = std::max(seconds_of(package, 2), seconds_of(openblas, 2)) / 2;
  int calls = static_cast<int>(std::clamp(std::ceil(0.02 / std::max(one, 1e-9)), 1.0, 1e6));
  std::vector<double> p, o;
  for (int r = 0; r < rounds; ++r) {
    if (r % 2 == 0) {
      p.push_back(seconds_of(package, calls));
      o.push_back(seconds_of(openblas, calls));
    } else {
      o.push_back(seconds_of(openblas, calls));
      p.push_back(seconds_of(package, calls));
    }
  }
  return {median(p) / calls * 1e3, median(o) / calls * 1e3, rounds, calls};
}

inline void print_timing(const char* block, const Timing& t) {
  std::printf("time: package %.4f ms, OpenBLAS %.4f ms per block (median of %d rounds of %d calls each)\n",
              t.package_ms, t.openblas_ms, t.rounds, t.calls_per_round);
  std::printf("result: block=%s package_ms=%.4f openblas_ms=%.4f speedup=%.3f\n", block, t.package_ms,
              t.openblas_ms, t.openblas_ms / t.package_ms);
}

}  // namespace example
