// The library operators compute what their names promise: each is evaluated with the reference
// evaluator (ir/interpreter.h) on small random inputs and compared with plain loops written here.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "rctune/ir/interpreter.h"
#include "rctune/ir/operators.h"

using namespace rctune::ir;

namespace {

// Buffers for every tensor of w, inputs random in [-1, 1], computed tensors zero.
struct Evaluated {
  Workload w;
  std::vector<std::vector<double>> buf;

  explicit Evaluated(const std::string& spec, unsigned seed = 1) : w(make_operator(spec)) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    for (const auto& t : w.tensors) {
      std::vector<double> b(static_cast<size_t>(t.num_elements()), 0.0);
      if (!w.find_stage(t.name))
        for (auto& x : b) x = u(rng);
      buf.push_back(std::move(b));
    }
    evaluate_workload(w, buf);
  }
  std::vector<double>& operator[](const std::string& name) {
    for (size_t i = 0; i < w.tensors.size(); ++i)
      if (w.tensors[i].name == name) return buf[i];
    ADD_FAILURE() << "no tensor " << name;
    static std::vector<double> none;
    return none;
  }
};

void expect_near_all(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-9) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], tol) << "element " << i;
}

}  // namespace

TEST(OperatorValues, MatmulAndBatchMatmul) {
  Evaluated r("matmul:M=5,N=7,K=3");
  std::vector<double> want(35, 0.0);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 7; ++j)
      for (int k = 0; k < 3; ++k) want[i * 7 + j] += r["A"][i * 3 + k] * r["B"][k * 7 + j];
  expect_near_all(r["C"], want);

  Evaluated b("batch_matmul:B=2,M=3,N=4,K=5");
  std::vector<double> bw(2 * 3 * 4, 0.0);
  for (int n = 0; n < 2; ++n)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j)
        for (int k = 0; k < 5; ++k)
          bw[(n * 3 + i) * 4 + j] += b["A"][(n * 3 + i) * 5 + k] * b["B"][(n * 5 + k) * 4 + j];
  expect_near_all(b["C"], bw);
}

TEST(OperatorValues, DenseAndDenseGelu) {
  for (bool gelu : {false, true}) {
    Evaluated r(std::string(gelu ? "dense_gelu" : "dense") + ":M=4,N=6,K=5");
    std::vector<double> want(24, 0.0);
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 6; ++j) {
        double acc = 0;
        for (int k = 0; k < 5; ++k) acc += r["X"][i * 5 + k] * r["W"][k * 6 + j];
        double x = acc + r["bias"][j];
        want[i * 6 + j] = gelu ? 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))) : x;
      }
    expect_near_all(r["Y"], want);
  }
}

namespace {

// Plain NCHW convolution with zero padding.
std::vector<double> conv_nchw(const std::vector<double>& X, const std::vector<double>& W, int N, int C, int H,
                              int Wd, int K, int R, int S, int stride, int pad, int dil, int P, int Q) {
  std::vector<double> Y(static_cast<size_t>(N * K * P * Q), 0.0);
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k)
      for (int p = 0; p < P; ++p)
        for (int q = 0; q < Q; ++q) {
          double acc = 0;
          for (int c = 0; c < C; ++c)
            for (int r = 0; r < R; ++r)
              for (int s = 0; s < S; ++s) {
                int h = p * stride + r * dil - pad, w = q * stride + s * dil - pad;
                if (h < 0 || h >= H || w < 0 || w >= Wd) continue;
                acc += X[((n * C + c) * H + h) * Wd + w] * W[((k * C + c) * R + r) * S + s];
              }
          Y[((n * K + k) * P + p) * Q + q] = acc;
        }
  return Y;
}

}  // namespace

TEST(OperatorValues, Conv2dNchwStridedPaddedDilated) {
  struct Case {
    int stride, pad, dil;
  };
  for (Case c : {Case{1, 1, 1}, Case{2, 1, 1}, Case{2, 2, 2}, Case{3, 0, 1}}) {
    int N = 2, C = 3, H = 9, W = 8, K = 4, R = 3, S = 2;
    std::string spec = "conv2d_nchw:N=2,C=3,H=9,W=8,K=4,R=3,S=2,stride=" + std::to_string(c.stride) +
                       ",pad=" + std::to_string(c.pad) + ",dilation=" + std::to_string(c.dil);
    Evaluated r(spec);
    const Tensor* y = r.w.find_tensor("Y");
    int P = static_cast<int>(y->shape[2]), Q = static_cast<int>(y->shape[3]);
    EXPECT_EQ(P, (H + 2 * c.pad - c.dil * (R - 1) - 1) / c.stride + 1) << spec;
    EXPECT_EQ(Q, (W + 2 * c.pad - c.dil * (S - 1) - 1) / c.stride + 1) << spec;
    expect_near_all(r["Y"], conv_nchw(r["X"], r["W"], N, C, H, W, K, R, S, c.stride, c.pad, c.dil, P, Q));
  }
}

TEST(OperatorValues, Conv2dNhwcMatchesNchwOnTransposedData) {
  const int N = 1, C = 3, H = 7, W = 6, K = 2, R = 3, S = 3, P = 4, Q = 3;
  Evaluated r("conv2d_nhwc:N=1,C=3,H=7,W=6,K=2,R=3,S=3,stride=2,pad=1");
  std::vector<double> X(N * C * H * W), Wt(K * C * R * S);
  for (int h = 0; h < H; ++h)
    for (int w = 0; w < W; ++w)
      for (int c = 0; c < C; ++c) X[(c * H + h) * W + w] = r["X"][(h * W + w) * C + c];
  for (int rr = 0; rr < R; ++rr)
    for (int s = 0; s < S; ++s)
      for (int c = 0; c < C; ++c)
        for (int k = 0; k < K; ++k)
          Wt[((k * C + c) * R + rr) * S + s] = r["W"][((rr * S + s) * C + c) * K + k];
  std::vector<double> nchw = conv_nchw(X, Wt, N, C, H, W, K, R, S, 2, 1, 1, P, Q);
  std::vector<double> want(nchw.size());
  for (int p = 0; p < P; ++p)
    for (int q = 0; q < Q; ++q)
      for (int k = 0; k < K; ++k) want[(p * Q + q) * K + k] = nchw[(k * P + p) * Q + q];
  expect_near_all(r["Y"], want);
}

TEST(OperatorValues, DepthwiseConv) {
  const int C = 3, H = 6, W = 5, R = 3, S = 3, P = 3, Q = 3;
  Evaluated r("depthwise_conv2d:N=1,C=3,H=6,W=5,R=3,S=3,stride=2,pad=1");
  std::vector<double> want(C * P * Q, 0.0);
  for (int c = 0; c < C; ++c)
    for (int p = 0; p < P; ++p)
      for (int q = 0; q < Q; ++q)
        for (int rr = 0; rr < R; ++rr)
          for (int s = 0; s < S; ++s) {
            int h = p * 2 + rr - 1, w = q * 2 + s - 1;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            want[(c * P + p) * Q + q] += r["X"][(c * H + h) * W + w] * r["W"][(c * R + rr) * S + s];
          }
  expect_near_all(r["Y"], want);
}

TEST(OperatorValues, SoftmaxRowsSumToOne) {
  Evaluated r("softmax:M=3,N=7");
  for (int i = 0; i < 3; ++i) {
    double mx = -INFINITY, sum = 0, ysum = 0;
    for (int j = 0; j < 7; ++j) mx = std::max(mx, r["X"][i * 7 + j]);
    for (int j = 0; j < 7; ++j) sum += std::exp(r["X"][i * 7 + j] - mx);
    for (int j = 0; j < 7; ++j) {
      EXPECT_NEAR(r["Y"][i * 7 + j], std::exp(r["X"][i * 7 + j] - mx) / sum, 1e-12);
      ysum += r["Y"][i * 7 + j];
    }
    EXPECT_NEAR(ysum, 1.0, 1e-12);
  }
}

TEST(OperatorValues, LayernormAndRmsnorm) {
  const int M = 3, N = 8;
  Evaluated l("layernorm:M=3,N=8,eps=1e-05");
  for (int i = 0; i < M; ++i) {
    double mean = 0, var = 0;
    for (int j = 0; j < N; ++j) mean += l["X"][i * N + j] / N;
    for (int j = 0; j < N; ++j) var += (l["X"][i * N + j] - mean) * (l["X"][i * N + j] - mean) / N;
    for (int j = 0; j < N; ++j) {
      double want = (l["X"][i * N + j] - mean) / std::sqrt(var + 1e-5) * l["gamma"][j] + l["beta"][j];
      EXPECT_NEAR(l["Y"][i * N + j], want, 1e-12);
    }
  }
  Evaluated r("rmsnorm:M=3,N=8");
  for (int i = 0; i < M; ++i) {
    double ms = 0;
    for (int j = 0; j < N; ++j) ms += r["X"][i * N + j] * r["X"][i * N + j] / N;
    for (int j = 0; j < N; ++j)
      EXPECT_NEAR(r["Y"][i * N + j], r["X"][i * N + j] / std::sqrt(ms + 1e-6) * r["gamma"][j], 1e-12);
  }
}

TEST(OperatorValues, AttentionIsSoftmaxOfScaledScoresTimesV) {
  const int B = 2, S = 3, SK = 5, D = 4;
  Evaluated r("attention:B=2,S=3,D=4,SK=5");
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < S; ++i) {
      std::vector<double> s(SK);
      double mx = -INFINITY, sum = 0;
      for (int j = 0; j < SK; ++j) {
        double acc = 0;
        for (int d = 0; d < D; ++d) acc += r["Q"][(b * S + i) * D + d] * r["K"][(b * SK + j) * D + d];
        s[j] = acc * scale;
        mx = std::max(mx, s[j]);
      }
      for (int j = 0; j < SK; ++j) sum += std::exp(s[j] - mx);
      for (int d = 0; d < D; ++d) {
        double o = 0;
        for (int j = 0; j < SK; ++j) o += std::exp(s[j] - mx) / sum * r["V"][(b * SK + j) * D + d];
        EXPECT_NEAR(r["O"][(b * S + i) * D + d], o, 1e-12) << b << " " << i << " " << d;
      }
    }
}
