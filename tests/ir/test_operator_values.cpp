// The library operators compute what their names promise: each is evaluated with the reference
// evaluator (ir/interpreter.h) on small random inputs and compared with plain loops written here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "rctune/ir/interpreter.h"
#include "rctune/ir/operators.h"

using namespace rctune::ir;

namespace {

// Buffers for every tensor of w, inputs random in [-scale, scale], computed tensors zero.
struct Evaluated {
  Workload w;
  std::vector<std::vector<double>> buf;

  explicit Evaluated(const std::string& spec, unsigned seed = 1, double scale = 1.0)
      : w(make_operator(spec)) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(-scale, scale);
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

// ---------------------------------------------------------------- fused epilogues

namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// One epilogue op applied by hand; `in` is the op's input tensor element (bias, residual or gate).
double apply(const std::string& op, double x, double in) {
  if (op == "bias" || op == "add") return x + in;
  if (op == "mul") return x * in;
  if (op == "relu") return std::max(x, 0.0);
  if (op == "relu6") return std::min(std::max(x, 0.0), 6.0);
  if (op == "gelu") return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  if (op == "gelu_tanh") return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
  if (op == "sigmoid") return sigmoid(x);
  if (op == "silu") return x * sigmoid(x);
  ADD_FAILURE() << "no such op " << op;
  return 0;
}

// The element of op's input tensor that the epilogue of a 3x4 matmul reads at (i, j); 0 for ops without one.
double matmul_input(Evaluated& r, const std::string& op, int i, int j) {
  if (op == "bias") return r["bias"][j];
  if (op == "add") return r["res0"][i * 4 + j];
  if (op == "mul") return r["gate0"][i * 4 + j];
  return 0;
}

// AB of matmul:M=3,N=4,K=16 (inputs in [-3, 3], so that results reach beyond [0, 6] on both sides).
std::vector<double> matmul_3x4(Evaluated& r) {
  std::vector<double> ab(12, 0.0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 16; ++k) ab[i * 4 + j] += r["A"][i * 16 + k] * r["B"][k * 4 + j];
  return ab;
}

}  // namespace

TEST(OperatorValues, EachEpilogueOpOnMatmulMatchesItsFormula) {
  for (const std::string op :
       {"bias", "add", "mul", "relu", "relu6", "gelu", "gelu_tanh", "sigmoid", "silu"}) {
    Evaluated r("matmul:M=3,N=4,K=16,epilogue=" + op, 3, 3.0);
    std::vector<double> ab = matmul_3x4(r);
    ASSERT_GT(*std::max_element(ab.begin(), ab.end()), 6.0) << "the inputs do not reach relu6's clip";
    ASSERT_LT(*std::min_element(ab.begin(), ab.end()), 0.0);
    expect_near_all(r["AB"], ab);
    std::vector<double> want(12);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) {
        double in = matmul_input(r, op, i, j);
        want[i * 4 + j] = apply(op, ab[i * 4 + j], in);
      }
    expect_near_all(r["C"], want, 1e-12);
  }
}

TEST(OperatorValues, EpilogueChainAppliesLeftToRight) {
  for (const std::string chain : {"bias+relu", "relu+bias", "mul+silu+add", "add+gelu_tanh+mul+relu6"}) {
    Evaluated r("matmul:M=3,N=4,K=16,epilogue=" + chain, 5, 3.0);
    std::vector<double> ab = matmul_3x4(r), want(12);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) {
        double x = ab[i * 4 + j];
        size_t start = 0;
        while (start <= chain.size()) {
          size_t plus = std::min(chain.find('+', start), chain.size());
          std::string op = chain.substr(start, plus - start);
          double in = matmul_input(r, op, i, j);
          x = apply(op, x, in);
          start = plus + 1;
        }
        want[i * 4 + j] = x;
      }
    expect_near_all(r["C"], want, 1e-12);
  }
}

TEST(OperatorValues, Conv2dNchwBiasAddReluIsConvThenBiasThenResidualThenRelu) {
  const int N = 2, C = 3, H = 7, W = 6, K = 4, R = 3, S = 3, P = 7, Q = 6;
  Evaluated r("conv2d_nchw:N=2,C=3,H=7,W=6,K=4,R=3,S=3,stride=1,pad=1,epilogue=bias+add+relu");
  std::vector<double> conv = conv_nchw(r["X"], r["W"], N, C, H, W, K, R, S, 1, 1, 1, P, Q), want(conv.size());
  for (int n = 0; n < N; ++n)
    for (int k = 0; k < K; ++k)
      for (int pq = 0; pq < P * Q; ++pq) {
        size_t at = static_cast<size_t>((n * K + k) * P * Q + pq);
        want[at] = std::max(conv[at] + r["bias"][k] + r["res0"][at], 0.0);
      }
  expect_near_all(r["Y"], want);
}

TEST(OperatorValues, Conv2dNhwcBiasIsIndexedByTheLastAxis) {
  Evaluated r("conv2d_nhwc:N=1,C=2,H=4,W=4,K=3,R=1,S=1,pad=0,epilogue=bias");
  std::vector<double> want(16 * 3);
  for (int pq = 0; pq < 16; ++pq)
    for (int k = 0; k < 3; ++k) {
      double acc = 0;
      for (int c = 0; c < 2; ++c) acc += r["X"][pq * 2 + c] * r["W"][c * 3 + k];
      want[pq * 3 + k] = acc + r["bias"][k];
    }
  expect_near_all(r["Y"], want);
}

TEST(OperatorValues, DepthwiseBiasRelu6ClipsPerChannel) {
  const int C = 3, H = 5, W = 5, P = 5, Q = 5;
  Evaluated r("depthwise_conv2d:N=1,C=3,H=5,W=5,R=3,S=3,epilogue=bias+relu6", 2, 4.0);
  std::vector<double> want(C * P * Q);
  bool clipped = false;
  for (int c = 0; c < C; ++c)
    for (int p = 0; p < P; ++p)
      for (int q = 0; q < Q; ++q) {
        double acc = 0;
        for (int rr = 0; rr < 3; ++rr)
          for (int s = 0; s < 3; ++s) {
            int h = p + rr - 1, w = q + s - 1;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            acc += r["X"][(c * H + h) * W + w] * r["W"][(c * 3 + rr) * 3 + s];
          }
        double x = acc + r["bias"][c];
        clipped = clipped || x > 6;
        want[(c * P + p) * Q + q] = std::min(std::max(x, 0.0), 6.0);
      }
  EXPECT_TRUE(clipped) << "no value reached relu6's upper clip";
  expect_near_all(r["Y"], want);
}

TEST(OperatorValues, BatchMatmulSiluTimesGateIsLlamasMlpGate) {
  const int B = 2, M = 3, N = 4, K = 5;
  Evaluated r("batch_matmul:B=2,M=3,N=4,K=5,epilogue=silu+mul");
  std::vector<double> want(B * M * N);
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        double acc = 0;
        for (int k = 0; k < K; ++k) acc += r["A"][(b * M + i) * K + k] * r["B"][(b * K + k) * N + j];
        int at = (b * M + i) * N + j;
        want[at] = acc * sigmoid(acc) * r["gate0"][at];
      }
  expect_near_all(r["C"], want);
}
