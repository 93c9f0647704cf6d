// bench/kernels: one table, measured in one run, of generated kernels against vendor libraries.
//
// For each shape: the unscheduled kernel, the example schedule from configs/examples/, single-threaded
// OpenBLAS (sgemm; looped over the batch for batch_matmul; im2col + sgemm for conv2d) and Kokkos
// Kernels gemm (KokkosBlas::gemm on the default execution space), as GFLOP/s and as the ratio to
// OpenBLAS. Generated kernels run in the rctune worker (checked against the reference first);
// the library baselines run in this process with the same timing method (warm-up, then repeats
// until a minimum time, median).
//
// Usage: bench/kernels [--quick] [--min-time S] [--examples DIR] [--only NAME]
#include <cblas.h>
#include <dlfcn.h>
#include <sched.h>

#include <Kokkos_Core.hpp>
#include <KokkosBlas3_gemm.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "rctune/build_config.h"
#include "rctune/config/workload_file.h"
#include "rctune/runtime/evaluate.h"
#include "rctune/runtime/protocol.h"

namespace {

using rctune::runtime::TimingStats;

struct Row {
  std::string name;
  std::string spec;
  std::string example;  // file name in configs/examples (without .sched)
  enum class Baseline { Gemm, BatchGemm, Conv, None } baseline;
  int64_t b = 1, m = 0, n = 0, k = 0;  // gemm shapes (per batch)
};

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

TimingStats time_it(const std::function<void()>& f, double min_time) {
  f();  // warm-up
  std::vector<double> t;
  double total = 0;
  while ((total < min_time || t.size() < 3) && t.size() < 1000) {
    double s = seconds_now();
    f();
    double d = seconds_now() - s;
    t.push_back(d);
    total += d;
  }
  return rctune::runtime::summarize_times(t);
}

std::vector<float> random_vec(size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = u(g);
  return v;
}

double openblas_gemm(const Row& r, double min_time) {
  auto A = random_vec(static_cast<size_t>(r.b * r.m * r.k), 1), B = random_vec(static_cast<size_t>(r.b * r.k * r.n), 2);
  std::vector<float> C(static_cast<size_t>(r.b * r.m * r.n));
  auto t = time_it(
      [&] {
        for (int64_t i = 0; i < r.b; ++i)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(r.m), static_cast<int>(r.n),
                      static_cast<int>(r.k), 1.0f, A.data() + i * r.m * r.k, static_cast<int>(r.k),
                      B.data() + i * r.k * r.n, static_cast<int>(r.n), 0.0f, C.data() + i * r.m * r.n,
                      static_cast<int>(r.n));
      },
      min_time);
  return 2.0 * static_cast<double>(r.b * r.m * r.n * r.k) / t.median_s * 1e-9;
}

double kokkos_gemm(const Row& r, double min_time) {
  using View = Kokkos::View<float**, Kokkos::LayoutRight>;
  View A("A", r.m, r.k), B("B", r.k, r.n), C("C", r.m, r.n);
  Kokkos::deep_copy(A, 0.5f);
  Kokkos::deep_copy(B, 0.25f);
  auto t = time_it(
      [&] {
        for (int64_t i = 0; i < r.b; ++i) KokkosBlas::gemm("N", "N", 1.0f, A, B, 0.0f, C);
        Kokkos::fence();
      },
      min_time);
  return 2.0 * static_cast<double>(r.b * r.m * r.n * r.k) / t.median_s * 1e-9;
}

// conv2d NCHW, stride 1, pad 1, 3x3 via im2col + sgemm: the usual library baseline.
double openblas_conv(int64_t C, int64_t K, int64_t H, int64_t W, double min_time) {
  const int64_t R = 3, S = 3, P = 1;
  auto X = random_vec(static_cast<size_t>(C * H * W), 1), Wt = random_vec(static_cast<size_t>(K * C * R * S), 2);
  std::vector<float> col(static_cast<size_t>(C * R * S * H * W)), Y(static_cast<size_t>(K * H * W));
  auto t = time_it(
      [&] {
        for (int64_t c = 0; c < C; ++c)
          for (int64_t r = 0; r < R; ++r)
            for (int64_t s = 0; s < S; ++s) {
              float* dst = col.data() + ((c * R + r) * S + s) * H * W;
              for (int64_t h = 0; h < H; ++h)
                for (int64_t w = 0; w < W; ++w) {
                  int64_t y = h + r - P, x = w + s - P;
                  dst[h * W + w] = (y >= 0 && y < H && x >= 0 && x < W) ? X[static_cast<size_t>((c * H + y) * W + x)] : 0.f;
                }
            }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(K), static_cast<int>(H * W),
                    static_cast<int>(C * R * S), 1.0f, Wt.data(), static_cast<int>(C * R * S), col.data(),
                    static_cast<int>(H * W), 0.0f, Y.data(), static_cast<int>(H * W));
      },
      min_time);
  return 2.0 * static_cast<double>(K * C * R * S * H * W) / t.median_s * 1e-9;
}

std::string read_file(const std::string& p) {
  std::ifstream in(p);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

}  // namespace

int main(int argc, char** argv) {
  double min_time = 0.3;
  bool quick = false;
  std::string examples = std::string(RCTUNE_SOURCE_DIR) + "/configs/examples";
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") quick = true;
    else if (a == "--min-time" && i + 1 < argc) min_time = std::atof(argv[++i]);
    else if (a == "--examples" && i + 1 < argc) examples = argv[++i];
    else if (a == "--only" && i + 1 < argc) only = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--quick] [--min-time S] [--examples DIR] [--only NAME]\n", argv[0]);
      return 2;
    }
  }
  // One thread for OpenBLAS: the generated kernels run on one core too (Kokkos Serial here).
  if (auto set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
  Kokkos::initialize(argc, argv);
  int rc = 0;
  {
    std::vector<Row> rows = {
        {"matmul 512^3", "matmul:M=512,N=512,K=512", "matmul", Row::Baseline::Gemm, 1, 512, 512, 512},
        {"matmul 1024^3", "matmul:M=1024,N=1024,K=1024", "matmul", Row::Baseline::Gemm, 1, 1024, 1024, 1024},
        {"matmul 2048^3", "matmul:M=2048,N=2048,K=2048", "matmul", Row::Baseline::Gemm, 1, 2048, 2048, 2048},
        {"matmul 128x4096x4096", "matmul:M=128,N=4096,K=4096", "matmul", Row::Baseline::Gemm, 1, 128, 4096, 4096},
        {"conv2d resnet50 3x3", "conv2d_nchw:N=1,C=64,H=56,W=56,K=64,R=3,S=3,stride=1,pad=1", "conv2d_nchw",
         Row::Baseline::Conv},
        {"batch_matmul 16x16x2048x7168", "batch_matmul:B=16,M=16,N=2048,K=7168", "batch_matmul",
         Row::Baseline::BatchGemm, 16, 16, 2048, 7168},
        {"attention B=8,S=256,D=64", "attention:B=8,S=256,D=64", "attention", Row::Baseline::None},
    };
    if (quick) rows = {rows[0], rows[4]};
    rctune::runtime::Measurer measurer;
    rctune::runtime::MeasureOptions mo;
    mo.timing.min_time_s = min_time;
    // Library baselines in this process and generated kernels in the worker run on the same core.
    mo.pin_core = rctune::runtime::default_pin_core();
    if (mo.pin_core >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(mo.pin_core, &set);
      sched_setaffinity(0, sizeof set, &set);
    }
    mo.timeout_s = 600;
    std::printf("bench/kernels: GFLOP/s on one core, median of runs of at least %.2f s each; ratio = / OpenBLAS\n",
                min_time);
    std::printf("%-30s %12s %12s %12s %12s %10s %10s\n", "shape", "unscheduled", "example", "OpenBLAS",
                "KokkosKern", "ex/BLAS", "KK/BLAS");
    for (const auto& r : rows) {
      if (!only.empty() && r.name.find(only) == std::string::npos) continue;
      rctune::ir::Workload w = rctune::config::load_workload(r.spec);
      std::string sched = read_file(examples + "/" + r.example + ".sched");
      auto ex = rctune::runtime::evaluate(measurer, rctune::runtime::build_program(w, sched), mo);
      // The unscheduled kernel is slow (up to minutes at 2048^3): one timed run after the check.
      rctune::runtime::MeasureOptions once = mo;
      once.timing.warmup = 0;
      once.timing.min_repeats = 1;
      once.timing.min_time_s = 0;
      auto un = rctune::runtime::evaluate(measurer, rctune::runtime::build_program(w, ""), once);
      double blas = 0, kk = 0;
      if (r.baseline == Row::Baseline::Gemm || r.baseline == Row::Baseline::BatchGemm) {
        blas = openblas_gemm(r, min_time);
        kk = kokkos_gemm(r, min_time);
      } else if (r.baseline == Row::Baseline::Conv) {
        blas = openblas_conv(64, 64, 56, 56, min_time);
      }
      auto cell = [](const rctune::runtime::Measurement& m) {
        char b[32];
        if (m.ok()) std::snprintf(b, sizeof b, "%.2f", m.gflops);
        else std::snprintf(b, sizeof b, "%s", rctune::runtime::status_name(m.status));
        return std::string(b);
      };
      auto ratio = [&](double x) {
        char b[32];
        if (blas > 0 && x > 0) std::snprintf(b, sizeof b, "%.2f", x / blas);
        else std::snprintf(b, sizeof b, "-");
        return std::string(b);
      };
      char bl[32], kb[32];
      std::snprintf(bl, sizeof bl, blas > 0 ? "%.2f" : "-", blas);
      std::snprintf(kb, sizeof kb, kk > 0 ? "%.2f" : "-", kk);
      std::printf("%-30s %12s %12s %12s %12s %10s %10s\n", r.name.c_str(), cell(un).c_str(), cell(ex).c_str(), bl,
                  kb, ratio(ex.ok() ? ex.gflops : 0).c_str(), ratio(kk).c_str());
      if (!ex.ok()) {
        std::printf("    example schedule: %s\n", ex.message.c_str());
        rc = 1;
      }
      std::fflush(stdout);
    }
  }
  Kokkos::finalize();
  return rc;
}
