// A Llama-3 decoder MLP block built from the kernels of an rctune package, next to the same block
// built from OpenBLAS and a plain reference:
//
//   Xn = RMSNorm(X) * gamma      rmsnorm:M=T,N=D
//   G  = silu(Xn Wg)             matmul:M=T,N=F,K=D,epilogue=silu
//   H  = (Xn Wu) * G             matmul:M=T,N=F,K=D,epilogue=mul
//   Y  = H Wd                    matmul:M=T,N=D,K=F
//
// X[T,D] (T tokens, hidden size D), Wg and Wu [D,F], Wd [F,D], row-major. The program checks both
// compositions against the reference, then times them in turn and prints the ratio.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "block_main.hpp"

namespace {

using example::Arg;
using example::Buffer;
using example::Step;

constexpr float kEps = 1e-6f;  // the rmsnorm operator's default eps (the spec leaves it out)
constexpr double kBound = 1e-3;

struct Shape {
  long long T, D, F;
};

struct Inputs {
  Buffer X, gamma, Wg, Wu, Wd;

  Inputs(const Shape& s, unsigned seed)
      : X(s.T * s.D), gamma(s.D), Wg(s.D * s.F), Wu(s.D * s.F), Wd(s.F * s.D) {
    std::mt19937 rng(seed);
    // Weights scaled by 1/sqrt(fan-in), so that every intermediate stays of order one.
    float wd = 1.0f / std::sqrt(static_cast<float>(s.D)), wf = 1.0f / std::sqrt(static_cast<float>(s.F));
    example::fill_uniform(X, rng, -1, 1);
    example::fill_uniform(gamma, rng, 0.5f, 1.5f);
    example::fill_uniform(Wg, rng, -wd, wd);
    example::fill_uniform(Wu, rng, -wd, wd);
    example::fill_uniform(Wd, rng, -wf, wf);
  }
};

// The block in double precision, in straightforward loops.
std::vector<double> reference(const Shape& s, const Inputs& in) {
  const long long T = s.T, D = s.D, F = s.F;
  std::vector<double> xn(T * D), h(T * F), y(T * D, 0.0);
  for (long long t = 0; t < T; ++t) {
    double ms = 0;
    for (long long d = 0; d < D; ++d) ms += double(in.X[t * D + d]) * in.X[t * D + d];
    double scale = 1 / std::sqrt(ms / D + kEps);
    for (long long d = 0; d < D; ++d) xn[t * D + d] = in.X[t * D + d] * scale * in.gamma[d];
  }
  for (long long t = 0; t < T; ++t)
    for (long long f = 0; f < F; ++f) {
      double g = 0, u = 0;
      for (long long d = 0; d < D; ++d) {
        g += xn[t * D + d] * in.Wg[d * F + f];
        u += xn[t * D + d] * in.Wu[d * F + f];
      }
      h[t * F + f] = u * (g / (1 + std::exp(-g)));
    }
  for (long long t = 0; t < T; ++t)
    for (long long d = 0; d < D; ++d) {
      double acc = 0;
      for (long long f = 0; f < F; ++f) acc += h[t * F + f] * in.Wd[f * D + d];
      y[t * D + d] = acc;
    }
  return y;
}

// The block as a user of OpenBLAS writes it: the three projections are sgemm calls, RMSNorm and the
// silu gating plain loops.
struct OpenBlasBlock {
  OpenBlasBlock(const Shape& s, const Inputs& in)
      : shape(s), in(in), Xn(s.T * s.D), G(s.T * s.F), H(s.T * s.F), Y(s.T * s.D) {}

  void operator()() {
    const int T = int(shape.T), D = int(shape.D), F = int(shape.F);
    for (int t = 0; t < T; ++t) {
      const float* x = in.X.data() + std::size_t(t) * D;
      float ss = 0;
      for (int d = 0; d < D; ++d) ss += x[d] * x[d];
      float scale = 1 / std::sqrt(ss / D + kEps);
      for (int d = 0; d < D; ++d) Xn[std::size_t(t) * D + d] = x[d] * scale * in.gamma[d];
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, F, D, 1, Xn.data(), D, in.Wg.data(), F, 0,
                G.data(), F);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, F, D, 1, Xn.data(), D, in.Wu.data(), F, 0,
                H.data(), F);
    for (std::size_t i = 0; i < H.size(); ++i) H[i] *= G[i] / (1 + std::exp(-G[i]));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, D, F, 1, H.data(), F, in.Wd.data(), D, 0,
                Y.data(), D);
  }

  Shape shape;
  const Inputs& in;
  Buffer Xn, G, H, Y;
};

// The block as four calls of the package.
struct PackageBlock {
  PackageBlock(const Shape& s, Inputs& in) : Xn(s.T * s.D), G(s.T * s.F), H(s.T * s.F), Y(s.T * s.D) {
    const std::string T = std::to_string(s.T), D = std::to_string(s.D), F = std::to_string(s.F);
    steps = {
        example::make_step("rmsnorm:M=" + T + ",N=" + D,
                           {{"X", {s.T, s.D}, &in.X}, {"gamma", {s.D}, &in.gamma}, {"Y", {s.T, s.D}, &Xn}}),
        example::make_step("matmul:M=" + T + ",N=" + F + ",K=" + D + ",epilogue=silu",
                           {{"A", {s.T, s.D}, &Xn}, {"B", {s.D, s.F}, &in.Wg}, {"C", {s.T, s.F}, &G}}),
        example::make_step("matmul:M=" + T + ",N=" + F + ",K=" + D + ",epilogue=mul",
                           {{"A", {s.T, s.D}, &Xn},
                            {"B", {s.D, s.F}, &in.Wu},
                            {"gate0", {s.T, s.F}, &G},
                            {"C", {s.T, s.F}, &H}}),
        example::make_step("matmul:M=" + T + ",N=" + D + ",K=" + F,
                           {{"A", {s.T, s.F}, &H}, {"B", {s.F, s.D}, &in.Wd}, {"C", {s.T, s.D}, &Y}}),
    };
  }

  void operator()() const { example::run_steps(steps); }

  Buffer Xn, G, H, Y;
  std::vector<Step> steps;
};

}  // namespace

int main(int argc, char** argv) {
  long long tokens = 32, hidden = 1024, ffn = 3584;
  example::RunOptions run;
  example::parse_args(argc, argv,
                      "A Llama-3 decoder MLP block (RMSNorm, silu-gated up projection, down projection)\n"
                      "from the kernels of an rctune package, checked against a plain reference and timed\n"
                      "against the same block from OpenBLAS (one thread each).",
                      {{"--tokens", &tokens, 1, 1 << 20, "tokens T (rows of X)"},
                       {"--hidden", &hidden, 1, 1 << 20, "hidden size D"},
                       {"--ffn", &ffn, 1, 1 << 20, "feed-forward size F"}},
                      run);
  const Shape s{tokens, hidden, ffn};
  const std::string shape =
      "tokens=" + std::to_string(s.T) + " hidden=" + std::to_string(s.D) + " ffn=" + std::to_string(s.F);
  example::require_int_sized(argv[0], std::max({s.T * s.F, s.D * s.F, s.T * s.D}), shape);
  return example::run_block<Inputs, PackageBlock, OpenBlasBlock>("llama_mlp", shape, run, s, reference,
                                                                 kBound);
}
