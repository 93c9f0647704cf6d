// A ResNet-50 bottleneck block (layer1: X[1,256,56,56]) built from the kernels of an rctune package,
// next to the same block built from OpenBLAS and a plain reference:
//
//   Y1 = relu(conv1x1(X,  W1) + b1)        conv2d_nchw:...,C=256,K=64,R=1,S=1,pad=0,epilogue=bias+relu
//   Y2 = relu(conv3x3(Y1, W2) + b2)        conv2d_nchw:...,C=64,K=64,R=3,S=3,pad=1,epilogue=bias+relu
//   Y  = relu(conv1x1(Y2, W3) + b3 + X)    conv2d_nchw:...,C=64,K=256,R=1,S=1,pad=0,epilogue=bias+add+relu
//
// NCHW activations, KCRS weights, batch 1, stride 1. The program checks both compositions against
// the reference, then times them in turn and prints the ratio.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "block_main.hpp"

namespace {

using example::Buffer;
using example::Step;

constexpr double kBound = 1e-3;

struct Shape {
  long long size, channels, width;  // H = W = size; block input/output channels; bottleneck width
  long long hw() const { return size * size; }
};

struct Inputs {
  Buffer X, W1, b1, W2, b2, W3, b3;

  Inputs(const Shape& s, unsigned seed)
      : X(s.channels * s.hw()),
        W1(s.width * s.channels),
        b1(s.width),
        W2(s.width * s.width * 9),
        b2(s.width),
        W3(s.channels * s.width),
        b3(s.channels) {
    std::mt19937 rng(seed);
    // Weights scaled by 1/sqrt(fan-in), so that every activation stays of order one.
    auto scaled = [&](Buffer& w, long long fan_in) {
      float a = 1.0f / std::sqrt(static_cast<float>(fan_in));
      example::fill_uniform(w, rng, -a, a);
    };
    example::fill_uniform(X, rng, -1, 1);
    scaled(W1, s.channels);
    scaled(W2, s.width * 9);
    scaled(W3, s.width);
    example::fill_uniform(b1, rng, -0.1f, 0.1f);
    example::fill_uniform(b2, rng, -0.1f, 0.1f);
    example::fill_uniform(b3, rng, -0.1f, 0.1f);
  }
};

// ---- the reference: direct convolutions in double precision ----

// relu(conv(in[C,H,W], w[K,C,R,R]) + bias (+ res)), stride 1, zero padding `pad`, output [K,H,W].
std::vector<double> conv_reference(const std::vector<double>& in, long long C, long long H, const Buffer& w,
                                   long long K, long long R, long long pad, const Buffer& bias,
                                   const std::vector<double>* res) {
  std::vector<double> out(K * H * H);
  for (long long k = 0; k < K; ++k)
    for (long long p = 0; p < H; ++p)
      for (long long q = 0; q < H; ++q) {
        double acc = bias[k];
        for (long long c = 0; c < C; ++c)
          for (long long r = 0; r < R; ++r)
            for (long long s = 0; s < R; ++s) {
              long long h = p + r - pad, x = q + s - pad;
              if (h >= 0 && h < H && x >= 0 && x < H)
                acc += in[(c * H + h) * H + x] * w[((k * C + c) * R + r) * R + s];
            }
        long long o = (k * H + p) * H + q;
        if (res) acc += (*res)[o];
        out[o] = std::max(acc, 0.0);
      }
  return out;
}

std::vector<double> reference(const Shape& s, const Inputs& in) {
  std::vector<double> x(in.X.data(), in.X.data() + in.X.size());
  std::vector<double> y1 = conv_reference(x, s.channels, s.size, in.W1, s.width, 1, 0, in.b1, nullptr);
  std::vector<double> y2 = conv_reference(y1, s.width, s.size, in.W2, s.width, 3, 1, in.b2, nullptr);
  return conv_reference(y2, s.width, s.size, in.W3, s.channels, 1, 0, in.b3, &x);
}

// ---- the block as a user of OpenBLAS writes it ----

// Y[K,HW] = relu(Y + bias[k]) in place.
void bias_relu(float* y, const float* bias, int K, int hw) {
  for (int k = 0; k < K; ++k)
    for (int i = 0; i < hw; ++i)
      y[std::size_t(k) * hw + i] = std::max(y[std::size_t(k) * hw + i] + bias[k], 0.0f);
}

// The 3x3, padding 1 patches of in[C,H,H] as the columns of col[C*9, H*H].
void im2col_3x3(const float* in, int C, int H, float* col) {
  for (int c = 0; c < C; ++c)
    for (int r = 0; r < 3; ++r)
      for (int s = 0; s < 3; ++s) {
        float* row = col + std::size_t((c * 3 + r) * 3 + s) * H * H;
        for (int p = 0; p < H; ++p) {
          int h = p + r - 1;
          for (int q = 0; q < H; ++q) {
            int x = q + s - 1;
            row[p * H + q] = h >= 0 && h < H && x >= 0 && x < H ? in[(std::size_t(c) * H + h) * H + x] : 0.0f;
          }
        }
      }
}

struct OpenBlasBlock {
  OpenBlasBlock(const Shape& s, const Inputs& in)
      : shape(s),
        in(in),
        Y1(s.width * s.hw()),
        col(s.width * 9 * s.hw()),
        Y2(s.width * s.hw()),
        Y(s.channels * s.hw()) {}

  void operator()() {
    const int C = int(shape.channels), K = int(shape.width), H = int(shape.size), hw = int(shape.hw());
    // 1x1 convolution: W1[K,C] x X[C,HW].
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, K, hw, C, 1, in.W1.data(), C, in.X.data(), hw, 0,
                Y1.data(), hw);
    bias_relu(Y1.data(), in.b1.data(), K, hw);
    // 3x3 convolution: W2[K,K*9] x im2col(Y1)[K*9,HW].
    im2col_3x3(Y1.data(), K, H, col.data());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, K, hw, K * 9, 1, in.W2.data(), K * 9, col.data(),
                hw, 0, Y2.data(), hw);
    bias_relu(Y2.data(), in.b2.data(), K, hw);
    // 1x1 convolution back to C channels, then bias, the residual X and relu.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, C, hw, K, 1, in.W3.data(), K, Y2.data(), hw, 0,
                Y.data(), hw);
    for (int c = 0; c < C; ++c)
      for (int i = 0; i < hw; ++i) {
        std::size_t o = std::size_t(c) * hw + i;
        Y[o] = std::max(Y[o] + in.b3[c] + in.X[o], 0.0f);
      }
  }

  Shape shape;
  const Inputs& in;
  Buffer Y1, col, Y2, Y;
};

// ---- the block as three calls of the package ----

std::string conv_spec(const Shape& s, long long C, long long K, int R, const char* epilogue) {
  const std::string H = std::to_string(s.size), r = std::to_string(R);
  return "conv2d_nchw:N=1,C=" + std::to_string(C) + ",H=" + H + ",W=" + H + ",K=" + std::to_string(K) +
         ",R=" + r + ",S=" + r + ",stride=1,pad=" + std::to_string(R / 2) + ",epilogue=" + epilogue;
}

struct PackageBlock {
  PackageBlock(const Shape& s, Inputs& in)
      : Y1(s.width * s.hw()), Y2(s.width * s.hw()), Y(s.channels * s.hw()) {
    const long long C = s.channels, K = s.width, H = s.size;
    steps = {
        example::make_step(conv_spec(s, C, K, 1, "bias+relu"), {{"X", {1, C, H, H}, &in.X},
                                                                {"W", {K, C, 1, 1}, &in.W1},
                                                                {"bias", {K}, &in.b1},
                                                                {"Y", {1, K, H, H}, &Y1}}),
        example::make_step(conv_spec(s, K, K, 3, "bias+relu"), {{"X", {1, K, H, H}, &Y1},
                                                                {"W", {K, K, 3, 3}, &in.W2},
                                                                {"bias", {K}, &in.b2},
                                                                {"Y", {1, K, H, H}, &Y2}}),
        example::make_step(conv_spec(s, K, C, 1, "bias+add+relu"), {{"X", {1, K, H, H}, &Y2},
                                                                    {"W", {C, K, 1, 1}, &in.W3},
                                                                    {"bias", {C}, &in.b3},
                                                                    {"res0", {1, C, H, H}, &in.X},
                                                                    {"Y", {1, C, H, H}, &Y}}),
    };
  }

  void operator()() const { example::run_steps(steps); }

  Buffer Y1, Y2, Y;
  std::vector<Step> steps;
};

}  // namespace

int main(int argc, char** argv) {
  long long size = 56, channels = 256, width = 64;
  example::RunOptions run;
  example::parse_args(
      argc, argv,
      "A ResNet-50 bottleneck block (1x1, 3x3 and 1x1 convolutions with bias, relu and the\n"
      "residual) from the kernels of an rctune package, checked against a plain reference and\n"
      "timed against the same block from OpenBLAS (im2col + sgemm; one thread each).",
      {{"--size", &size, 1, 1 << 16, "height and width of the activations"},
       {"--channels", &channels, 1, 1 << 20, "input and output channels of the block"},
       {"--width", &width, 1, 1 << 20, "channels inside the bottleneck"}},
      run);
  const Shape s{size, channels, width};
  const std::string shape = "size=" + std::to_string(s.size) + " channels=" + std::to_string(s.channels) +
                            " width=" + std::to_string(s.width);
  // The im2col buffer (width*9 x size^2) or the activations are the largest matrices sgemm sees.
  example::require_int_sized(
      argv[0], std::max({s.hw() * s.channels, s.hw() * s.width * 9, s.channels * s.width}), shape);
  return example::run_block<Inputs, PackageBlock, OpenBlasBlock>("resnet_bottleneck", shape, run, s,
                                                                 reference, kBound);
}
