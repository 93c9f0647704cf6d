// Float32 vector math emitted into kernels (rctune_vexp, ...): accuracy against the double-precision
// std:: functions over the whole float range, special values, and every vector width.
#include <limits>

#include "../src/codegen/vmath.h"
#include "codegen/codegen_test_util.h"

namespace rctune::codegen::testing {
namespace {

const std::vector<std::string> kNames = {"exp", "log", "tanh", "erf", "gelu", "sigmoid", "sqrt", "rsqrt"};

// The vector math for `lanes` lanes plus a driver: eval(fn, in, out, n) applies kNames[fn] to n
// floats (n a multiple of lanes).
std::string driver_source(int64_t lanes) {
  std::string vt = "v" + std::to_string(lanes) + "f";
  std::string s = "#include <cstdint>\n#include <cstring>\ntypedef float " + vt +
                  " __attribute__((vector_size(" + std::to_string(lanes * 4) + ")));\n";
  s += detail::vector_math_source(vt, lanes, std::set<std::string>(kNames.begin(), kNames.end()));
  s += "extern \"C\" void eval(int fn, const float* in, float* out, long n) {\n"
       "  for (long i = 0; i < n; i += " +
       std::to_string(lanes) + ") {\n    " + vt + " x, y;\n    std::memcpy(&x, in + i, sizeof x);\n";
  s += "    switch (fn) {\n";
  for (size_t k = 0; k < kNames.size(); ++k)
    s += "      case " + std::to_string(k) + ": y = rctune_v" + kNames[k] + "(x); break;\n";
  s += "      default: y = x;\n    }\n    std::memcpy(out + i, &y, sizeof y);\n  }\n}\n";
  return s;
}

double truth(const std::string& fn, double x) {
  if (fn == "exp") return std::exp(x);
  if (fn == "log") return std::log(x);
  if (fn == "tanh") return std::tanh(x);
  if (fn == "erf") return std::erf(x);
  if (fn == "gelu") return 0.5 * x * std::erfc(-x / std::sqrt(2.0));  // no cancellation in the tail
  if (fn == "sigmoid") return 1.0 / (1.0 + std::exp(-x));
  if (fn == "sqrt") return std::sqrt(x);
  return 1.0 / std::sqrt(x);
}

using EvalFn = void (*)(int, const float*, float*, long);

class VectorMath : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (int64_t lanes : {16, 8, 4, 2}) {
      auto lib = std::make_unique<Library>();
      std::string err = lib->load(driver_source(lanes), "vmath" + std::to_string(lanes), false,
                                  "-O2 -march=native -Wall -Wextra -Werror");
      ASSERT_EQ(err, "");
      libs_[lanes] = std::move(lib);
    }
  }
  static void TearDownTestSuite() { libs_.clear(); }

  static std::vector<float> run(const std::string& fn, std::vector<float> in, int64_t lanes = 16) {
    while (in.size() % 16) in.push_back(1.0f);
    std::vector<float> out(in.size());
    auto eval = reinterpret_cast<EvalFn>(libs_.at(lanes)->symbol("eval"));
    int k = static_cast<int>(std::find(kNames.begin(), kNames.end(), fn) - kNames.begin());
    eval(k, in.data(), out.data(), static_cast<long>(in.size()));
    return out;
  }
  // A dense sweep of [lo, hi] plus every binade from 2^-60 to 2^40 (both signs unless positive)
  // and some subnormals.
  static std::vector<float> inputs(double lo, double hi, bool positive) {
    std::vector<float> in;
    const int n = 400000;
    for (int i = 0; i <= n; ++i) in.push_back(static_cast<float>(lo + (hi - lo) * i / n));
    for (int e = -60; e < 40; ++e)
      for (int k = 0; k < 200; ++k) {
        float x = static_cast<float>(std::ldexp(1.0 + k / 200.0, e));
        in.push_back(x);
        if (!positive) in.push_back(-x);
      }
    for (int k = 1; k < 200; ++k) in.push_back(static_cast<float>(std::ldexp(k / 200.0, -126)));
    return in;
  }
  struct Errors {
    double rel = 0, abs = 0;  // max relative error (normal results), max absolute error (|truth| <= 1)
    float worst_rel_x = 0;
  };
  // Compares against the double-precision truth. Results that are 0, inf or NaN in float must match
  // exactly (or both be below the smallest subnormal).
  static Errors errors(const std::string& fn, const std::vector<float>& in, int64_t lanes = 16) {
    std::vector<float> out = run(fn, in, lanes);
    Errors e;
    for (size_t i = 0; i < in.size(); ++i) {
      double r = truth(fn, in[i]), g = out[i];
      float rf = static_cast<float>(r);
      if (std::isnan(r) || std::isinf(rf) || rf == 0) {
        bool same =
            (std::isnan(r) && std::isnan(g)) || g == rf || (std::fabs(r) < 1e-44 && std::fabs(g) < 2e-45);
        EXPECT_TRUE(same) << fn << "(" << in[i] << ") = " << g << ", expected " << r;
        continue;
      }
      double ae = std::fabs(g - r);
      if (std::fabs(r) >= std::numeric_limits<float>::min() && ae / std::fabs(r) > e.rel) {
        e.rel = ae / std::fabs(r);
        e.worst_rel_x = in[i];
      }
      if (std::fabs(r) <= 1) e.abs = std::max(e.abs, ae);
    }
    return e;
  }

  static std::map<int64_t, std::unique_ptr<Library>> libs_;
};
std::map<int64_t, std::unique_ptr<Library>> VectorMath::libs_;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST_F(VectorMath, ExpIsWithinTwoUlpOverTheFloatRange) {
  Errors e = errors("exp", inputs(-120, 100, false));
  EXPECT_LT(e.rel, 2.4e-7) << "at x = " << e.worst_rel_x;
}

TEST_F(VectorMath, ExpOfMinusInfinityAndLargeNegativeIsZero) {
  std::vector<float> out = run("exp", {-kInf, -1e30f, -200.0f, -104.0f, kInf, 89.0f, 1e30f, kNaN, 0.0f});
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_EQ(out[2], 0.0f);
  EXPECT_EQ(out[3], 0.0f);
  EXPECT_EQ(out[4], kInf);
  EXPECT_EQ(out[5], kInf);
  EXPECT_EQ(out[6], kInf);
  EXPECT_TRUE(std::isnan(out[7]));
  EXPECT_EQ(out[8], 1.0f);
}

TEST_F(VectorMath, ExpHasSubnormalResults) {
  std::vector<float> out = run("exp", {-100.0f, -95.0f, -88.0f});
  for (int i = 0; i < 3; ++i) {
    double r = std::exp(std::vector<double>{-100, -95, -88}[i]);
    EXPECT_NEAR(out[i], r, 1.5e-45 + 2e-7 * r);
  }
}

TEST_F(VectorMath, LogIsWithinTwoUlpAndHandlesSpecialValues) {
  Errors e = errors("log", inputs(1e-6, 100, true));
  EXPECT_LT(e.rel, 2.4e-7) << "at x = " << e.worst_rel_x;
  std::vector<float> out = run("log", {0.0f, -1.0f, kInf, kNaN, 1.0f, 1e-40f});
  EXPECT_EQ(out[0], -kInf);
  EXPECT_TRUE(std::isnan(out[1]));
  EXPECT_EQ(out[2], kInf);
  EXPECT_TRUE(std::isnan(out[3]));
  EXPECT_EQ(out[4], 0.0f);
  EXPECT_NEAR(out[5], std::log(1e-40), 1e-5);
}

TEST_F(VectorMath, TanhIsAccurateNearZeroAndSaturates) {
  Errors e = errors("tanh", inputs(-20, 20, false));
  EXPECT_LT(e.rel, 3e-7) << "at x = " << e.worst_rel_x;
  std::vector<float> out = run("tanh", {kInf, -kInf, 1e-30f, -100.0f});
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -1.0f);
  EXPECT_EQ(out[2], 1e-30f);
  EXPECT_EQ(out[3], -1.0f);
}

TEST_F(VectorMath, ErfHasAbsoluteErrorBelowOnePointFiveE7) {
  Errors e = errors("erf", inputs(-10, 10, false));
  EXPECT_LT(e.abs, 1.5e-7);
  EXPECT_LT(e.rel, 3e-7) << "at x = " << e.worst_rel_x;
  std::vector<float> out = run("erf", {kInf, -kInf});
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -1.0f);
}

// The negative tail of gelu comes from erfc directly: no cancellation in 1 + erf. Its relative
// error grows with x^2 (the rounding of x^2 in e^(-x^2 / 2)): about 2e-6 at x = -5 and 1.5e-5 at
// x = -13, where gelu is below 1e-37.
TEST_F(VectorMath, GeluIsAccurateIncludingTheNegativeTail) {
  Errors e = errors("gelu", inputs(-20, 20, false));
  EXPECT_LT(e.abs, 2e-7);
  EXPECT_LT(e.rel, 3e-5) << "at x = " << e.worst_rel_x;
  Errors near = errors("gelu", inputs(-5, 20, true));
  EXPECT_LT(near.rel, 3e-6) << "at x = " << near.worst_rel_x;
  std::vector<float> out = run("gelu", {-kInf, -1e30f, kInf});
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_EQ(out[2], kInf);
}

TEST_F(VectorMath, SigmoidIsAccurateAndSaturates) {
  Errors e = errors("sigmoid", inputs(-100, 100, false));
  EXPECT_LT(e.rel, 3e-7) << "at x = " << e.worst_rel_x;
  std::vector<float> out = run("sigmoid", {-kInf, kInf, 0.0f});
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 1.0f);
  EXPECT_EQ(out[2], 0.5f);
}

TEST_F(VectorMath, SqrtAndRsqrtAreCorrectlyRoundedOrClose) {
  Errors s = errors("sqrt", inputs(0, 1e6, true));
  EXPECT_LT(s.rel, 6e-8);
  Errors r = errors("rsqrt", inputs(1e-6, 1e6, true));
  EXPECT_LT(r.rel, 1.2e-7);
  std::vector<float> out = run("sqrt", {-1.0f, 0.0f, kInf});
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_EQ(out[2], kInf);
}

TEST_F(VectorMath, EveryVectorWidthGivesTheSameResults) {
  std::vector<float> in = inputs(-50, 50, false);
  for (const auto& fn : kNames) {
    std::vector<float> x = in;
    if (fn == "log" || fn == "sqrt" || fn == "rsqrt")
      for (auto& v : x) v = std::fabs(v);
    std::vector<float> ref = run(fn, x, 16);
    for (int64_t lanes : {8, 4, 2}) {
      std::vector<float> got = run(fn, x, lanes);
      size_t diff = 0;
      for (size_t i = 0; i < x.size(); ++i)
        if (!(got[i] == ref[i] || (std::isnan(got[i]) && std::isnan(ref[i])))) ++diff;
      EXPECT_EQ(diff, 0u) << fn << " on " << lanes << " lanes";
    }
  }
}

}  // namespace
}  // namespace rctune::codegen::testing
