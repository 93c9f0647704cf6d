// The generic kernels that an exported package falls back to (src/package/runtime/generic_kernels.hpp)
// agree with rctune's operator library: the same specs accepted, the same canonical text and buffers,
// and the same values as rctune's reference evaluator.
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "package/runtime/generic_kernels.hpp"
#include "rctune/build_config.h"
#include "rctune/ir/interpreter.h"
#include "rctune/ir/operators.h"

namespace gk = rctune_generic;
namespace ir = rctune::ir;

namespace {

gk::Spec parsed(const std::string& text) {
  gk::Spec s;
  std::string why;
  EXPECT_TRUE(gk::parse_spec(text, &s, &why)) << text << ": " << why;
  return s;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Runs `spec` with the generic kernel and with rctune's reference evaluator on the same random
// inputs (uniform in [-scale, scale]) and compares every output element.
void expect_matches_interpreter(const std::string& spec, double scale = 1.0, unsigned seed = 7) {
  SCOPED_TRACE(spec);
  const ir::Workload w = ir::make_operator(spec);
  const gk::Spec s = parsed(spec);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-scale, scale);
  std::vector<std::vector<double>> ref;
  for (const auto& t : w.tensors) {
    std::vector<double> b(static_cast<size_t>(t.num_elements()), 0.0);
    if (w.role(t.name) == ir::TensorRole::Input)
      for (auto& x : b) x = u(rng);
    ref.push_back(std::move(b));
  }
  const bool f32 = w.tensors.front().dtype == ir::DType::F32;
  // The generic kernel's buffers: the workload's non-intermediate tensors, in the dtype; inputs
  // rounded to it first, so that both sides read the same values.
  std::vector<std::vector<float>> fbuf;
  std::vector<std::vector<double>> dbuf;
  std::vector<size_t> index;  // workload tensor of each buffer
  for (size_t i = 0; i < w.tensors.size(); ++i) {
    if (w.role(w.tensors[i].name) == ir::TensorRole::Intermediate) continue;
    index.push_back(i);
    if (f32) {
      for (auto& x : ref[i]) x = static_cast<float>(x);
      fbuf.emplace_back(ref[i].begin(), ref[i].end());
    } else {
      dbuf.push_back(ref[i]);
    }
  }
  std::vector<void*> ptrs;
  for (size_t b = 0; b < index.size(); ++b)
    ptrs.push_back(f32 ? static_cast<void*>(fbuf[b].data()) : static_cast<void*>(dbuf[b].data()));
  ir::evaluate_workload(w, ref);
  gk::run(s, ptrs.data());
  const double tol = f32 ? 2e-4 : 1e-11;
  size_t outputs = 0;
  for (size_t b = 0; b < index.size(); ++b) {
    if (w.role(w.tensors[index[b]].name) != ir::TensorRole::Output) continue;
    ++outputs;
    const auto& want = ref[index[b]];
    for (size_t e = 0; e < want.size(); ++e) {
      const double got = f32 ? fbuf[b][e] : dbuf[b][e];
      ASSERT_NEAR(got, want[e], tol * std::max(1.0, std::fabs(want[e])))
          << w.tensors[index[b]].name << " element " << e;
    }
  }
  EXPECT_EQ(outputs, 1u);
}

// Small specs of every operator: strides, padding, dilation, non-square shapes, f64, epilogues.
const std::vector<std::string>& sample_specs() {
  static const std::vector<std::string> specs = {
      "matmul:M=5,N=7,K=3",
      "matmul:M=4,N=6,K=9,epilogue=bias+add+relu",
      "matmul:M=3,N=5,K=4,dtype=f64,epilogue=mul",
      "matmul:M=2,N=3,K=5,epilogue=silu",
      "matmul:M=4,N=5,K=32,epilogue=gelu_tanh+relu6",  // values beyond 6 and below -3
      "matmul:M=3,N=4,K=5,dtype=f64,epilogue=bias+sigmoid+mul+gelu",
      "matmul:M=2,N=3,K=2,epilogue=bias+bias+add+add+mul+mul",
      "batch_matmul:B=2,M=3,N=4,K=5",
      "batch_matmul:B=3,M=2,N=5,K=3,dtype=f64,epilogue=bias+silu",
      "dense:M=4,N=6,K=5",
      "dense:M=3,N=2,K=7,dtype=f64",
      "dense_gelu:M=4,N=6,K=5",
      "dense_gelu:M=2,N=3,K=4,dtype=f64",
      "conv2d_nchw:N=2,C=3,H=7,W=6,K=4,R=3,S=2,stride=2,pad=1",
      "conv2d_nchw:N=1,C=2,H=9,W=8,K=3,R=3,S=3,pad=2,dilation=2,epilogue=bias+add+relu",
      "conv2d_nchw:N=1,C=2,H=5,W=4,K=2,R=1,S=1,pad=0,dtype=f64,epilogue=relu6",
      "conv2d_nchw:N=1,C=1,H=3,W=3,K=2,R=3,S=3,stride=3,pad=2,epilogue=bias+gelu_tanh",
      "conv2d_nhwc:N=2,C=3,H=7,W=6,K=4,R=3,S=2,stride=2,pad=1",
      "conv2d_nhwc:N=1,C=2,H=9,W=8,K=3,R=3,S=3,pad=2,dilation=2,epilogue=bias+add+relu",
      "conv2d_nhwc:N=1,C=2,H=5,W=4,K=2,R=1,S=1,pad=0,dtype=f64,epilogue=mul+sigmoid",
      "depthwise_conv2d:N=2,C=3,H=7,W=5,R=3,S=3,stride=2,pad=1",
      "depthwise_conv2d:N=1,C=2,H=8,W=9,R=3,S=2,pad=2,dilation=2,epilogue=bias+gelu",
      "depthwise_conv2d:N=1,C=3,H=5,W=5,R=2,S=2,pad=0,dtype=f64,epilogue=add+silu",
      "softmax:M=3,N=7",
      "softmax:M=2,N=5,dtype=f64",
      "layernorm:M=3,N=8",
      "layernorm:M=2,N=5,eps=0.01,dtype=f64",
      "rmsnorm:M=4,N=5",
      "rmsnorm:M=3,N=6,eps=1e-3,dtype=f64",
      "attention:B=2,S=3,D=4",
      "attention:B=2,S=3,D=5,SK=6",
      "attention:B=1,S=4,D=3,SK=2,dtype=f64",
  };
  return specs;
}

void expect_operator_matches(const std::string& op, double scale = 1.0) {
  int n = 0;
  for (const auto& spec : sample_specs())
    if (spec.substr(0, spec.find(':')) == op) {
      expect_matches_interpreter(spec, scale);
      ++n;
    }
  EXPECT_GE(n, 2) << op;
}

std::string refusal(const std::string& spec) {
  gk::Spec s;
  std::string why;
  EXPECT_FALSE(gk::parse_spec(spec, &s, &why)) << spec;
  return why;
}

bool rctune_accepts(const std::string& spec) {
  try {
    ir::make_operator(spec);
    return true;
  } catch (const ir::OperatorSpecError&) {
    return false;
  }
}

// Writes `source` to a file beside the test's cache and compiles it with `compiler`; skips when the
// compiler is missing.
void expect_compiles_clean(const std::string& compiler, const std::string& source, const std::string& name) {
  if (std::system(("command -v " + compiler + " >/dev/null 2>&1").c_str()) != 0)
    GTEST_SKIP() << compiler << " is not installed";
  const auto dir = std::filesystem::temp_directory_path() / ("rctune_generic_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / (name + ".cpp");
  std::ofstream(file) << source;
  const std::string cmd = compiler + " -std=c++17 -Wall -Wextra -Werror -pedantic -O2 -I" +
                          RCTUNE_SOURCE_DIR + "/src -c " + file.string() + " -o " +
                          (dir / (name + ".o")).string() + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::filesystem::remove_all(dir);
}

const char* kUsesEveryEntryPoint =
    "#include \"package/runtime/generic_kernels.hpp\"\n"
    "int f(void* const* b) {\n"
    "  rctune_generic::Spec s; std::string why;\n"
    "  if (!rctune_generic::parse_spec(\"matmul:M=2\", &s, &why)) return 1;\n"
    "  rctune_generic::run(s, b);\n"
    "  return static_cast<int>(rctune_generic::tensors(s).size());\n"
    "}\n";
const char* kUsesParseSpecOnly =
    "#include \"package/runtime/generic_kernels.hpp\"\n"
    "bool g(const std::string& t) { rctune_generic::Spec s; return rctune_generic::parse_spec(t, &s, "
    "nullptr); }\n";

}  // namespace

TEST(GenericKernels, MatmulMatchesTheReferenceEvaluator) { expect_operator_matches("matmul", 2.0); }
TEST(GenericKernels, BatchMatmulMatchesTheReferenceEvaluator) { expect_operator_matches("batch_matmul"); }
TEST(GenericKernels, DenseMatchesTheReferenceEvaluator) { expect_operator_matches("dense"); }
TEST(GenericKernels, DenseGeluMatchesTheReferenceEvaluator) { expect_operator_matches("dense_gelu"); }
TEST(GenericKernels, Conv2dNchwMatchesTheReferenceEvaluator) { expect_operator_matches("conv2d_nchw", 2.0); }
TEST(GenericKernels, Conv2dNhwcMatchesTheReferenceEvaluator) { expect_operator_matches("conv2d_nhwc", 2.0); }
TEST(GenericKernels, DepthwiseConv2dMatchesTheReferenceEvaluator) {
  expect_operator_matches("depthwise_conv2d");
}
TEST(GenericKernels, SoftmaxMatchesTheReferenceEvaluator) { expect_operator_matches("softmax", 4.0); }
TEST(GenericKernels, LayernormMatchesTheReferenceEvaluator) { expect_operator_matches("layernorm"); }
TEST(GenericKernels, RmsnormMatchesTheReferenceEvaluator) { expect_operator_matches("rmsnorm"); }
TEST(GenericKernels, AttentionMatchesTheReferenceEvaluator) { expect_operator_matches("attention", 2.0); }

TEST(GenericKernels, TheSamplesCoverEveryOperatorAndEpilogueOp) {
  std::string all;
  for (const auto& s : sample_specs()) all += s + "\n";
  for (const auto& op : ir::operator_names()) EXPECT_TRUE(contains(all, op + ":")) << op;
  for (const char* e : {"bias", "add", "mul", "relu", "relu6", "gelu", "gelu_tanh", "sigmoid", "silu"})
    EXPECT_TRUE(contains(all, std::string("+") + e) || contains(all, std::string("=") + e)) << e;
}

TEST(GenericKernels, TensorsAreTheWorkloadsInputsAndOutputsInDeclarationOrder) {
  for (const auto& spec : sample_specs()) {
    SCOPED_TRACE(spec);
    const ir::Workload w = ir::make_operator(spec);
    std::vector<gk::Tensor> want;
    for (const auto& t : w.tensors) {
      const ir::TensorRole role = w.role(t.name);
      if (role == ir::TensorRole::Intermediate) continue;
      want.push_back({t.name, t.dtype == ir::DType::F32 ? gk::DType::f32 : gk::DType::f64, t.shape,
                      role == ir::TensorRole::Output});
    }
    const std::vector<gk::Tensor> got = gk::tensors(parsed(spec));
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].name, want[i].name);
      EXPECT_EQ(got[i].dtype, want[i].dtype) << got[i].name;
      EXPECT_EQ(got[i].shape, want[i].shape) << got[i].name;
      EXPECT_EQ(got[i].output, want[i].output) << got[i].name;
    }
  }
}

TEST(GenericKernels, CanonicalSpecIsRctunes) {
  std::vector<std::string> specs = sample_specs();
  for (const auto& op : ir::operator_names()) specs.push_back(op);
  specs.insert(specs.end(), {
                                " matmul : K = 8 , M = 05 ",
                                "matmul:",
                                "matmul:epilogue=none",
                                "matmul:epilogue= bias + relu ,dtype=float64",
                                "batch_matmul:dtype=float32,K=3,B=1",
                                "conv2d_nhwc:pad=0,dilation=1,stride=1,R=1,S=1",
                                "depthwise_conv2d:C=8,epilogue=relu",
                                "layernorm:eps=1e-5",
                                "layernorm:eps=0.00001",
                                "layernorm:eps=1E-05",
                                "layernorm:eps=.00001",
                                "layernorm:eps=5.",
                                "layernorm:eps=1500",
                                "layernorm:eps=1e20",
                                "layernorm:eps=123456.789",
                                "layernorm:eps=1e-310",
                                "layernorm:eps=4.9e-324",
                                "rmsnorm:eps=0.1,N=3",
                                "rmsnorm:eps=2.5e-7",
                                "attention:SK=7,S=5",
                                "attention:S=9",
                            });
  for (const auto& spec : specs) EXPECT_EQ(parsed(spec).canonical, ir::canonical_operator_spec(spec)) << spec;
}

TEST(GenericKernels, NumbersAreWrittenAsRctuneWritesThem) {
  // rctune writes a number with std::to_chars (shortest round trip) and ".0" after an integer.
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> mantissa(1.0, 10.0);
  std::uniform_int_distribution<int> exponent(-320, 300);
  for (int i = 0; i < 3000; ++i) {
    double v = mantissa(rng) * std::pow(10.0, exponent(rng));
    if (i % 3 == 0) v = std::round(mantissa(rng) * 1e4) / 1e4;  // short decimals
    if (!(v > 0) || !std::isfinite(v)) continue;
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    std::string want(buf, r.ptr);
    if (want.find_first_of(".eE") == std::string::npos) want += ".0";
    ASSERT_EQ(gk::detail::format_double(v), want);
  }
}

TEST(GenericKernels, ParameterTableIsTheOperatorLibrarys) {
  const auto& lib = ir::operator_library();
  const auto& table = gk::detail::operator_table();
  ASSERT_EQ(table.size(), lib.size());
  for (size_t i = 0; i < lib.size(); ++i) {
    EXPECT_EQ(table[i].name, lib[i].name);
    ASSERT_EQ(table[i].params.size(), lib[i].params.size()) << lib[i].name;
    for (size_t j = 0; j < lib[i].params.size(); ++j) {
      EXPECT_EQ(table[i].params[j].name, lib[i].params[j].name) << lib[i].name;
      EXPECT_EQ(table[i].params[j].default_value, lib[i].params[j].default_value)
          << lib[i].name << " " << lib[i].params[j].name;
    }
  }
}

TEST(GenericKernels, ParamsListEveryParameterInCanonicalOrder) {
  const gk::Spec s = parsed("conv2d_nchw:K=8,epilogue=bias+relu,pad=0");
  EXPECT_EQ(s.op, "conv2d_nchw");
  std::string text;
  for (const auto& [k, v] : s.params) text += (text.empty() ? "" : ",") + k + "=" + v;
  EXPECT_EQ(text, "N=1,C=64,H=56,W=56,K=8,R=3,S=3,stride=1,pad=0,dilation=1,dtype=f32,epilogue=bias+relu");
  EXPECT_EQ(parsed("matmul").params.back(), (std::pair<std::string, std::string>{"epilogue", "none"}));
}

TEST(GenericKernels, MalformedSpecsAreRefusedWithTheProblemNamed) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"matmull:M=4", "unknown operator 'matmull'"},
      {":M=4", "no operator name"},
      {"matmul:Q=4", "unknown parameter 'Q'"},
      {"matmul:M=4,M=5", "parameter M is given twice"},
      {"matmul:M=four", "parameter M must be an integer, got 'four'"},
      {"matmul:M=+5", "must be an integer"},
      {"matmul:M=4x", "must be an integer"},
      {"matmul:M=0", "parameter M must be at least 1, got 0"},
      {"matmul:M=1099511627777", "must be at most 2^40"},
      {"matmul:M=99999999999999999999", "must be an integer"},
      {"matmul:M=", "parameter M has no value"},
      {"matmul:M", "has no value; write NAME=VALUE"},
      {"matmul:M=4,", "empty parameter between commas"},
      {"matmul:dtype=f16", "parameter dtype must be f32 or f64, got 'f16'"},
      {"conv2d_nchw:pad=-1", "parameter pad must be at least 0"},
      {"attention:SK=0", "parameter SK must be at least 1"},
      {"layernorm:eps=abc", "parameter eps must be a number, got 'abc'"},
      {"layernorm:eps=0", "parameter eps must be positive"},
      {"layernorm:eps=-1e-5", "parameter eps must be positive"},
      {"layernorm:eps=1e-400", "must be a number"},
      {"layernorm:eps=1e400", "must be a number"},
      {"layernorm:eps=inf", "must be a number"},
      {"layernorm:eps=0x1p-3", "must be a number"},
      {"layernorm:eps=1e", "must be a number"},
      {"conv2d_nchw:H=2,W=8,R=3,S=3,pad=0", "larger than the padded input height"},
      {"conv2d_nhwc:H=8,W=4,R=3,S=3,pad=0,dilation=2", "larger than the padded input width"},
      {"depthwise_conv2d:R=1099511627776,dilation=1099511627776", "overflows 64-bit integers"},
      {"matmul:epilogue=bias+tanh", "unknown op 'tanh'"},
      {"matmul:epilogue=bias++relu", "empty op"},
      {"matmul:epilogue=none+relu", "'none' cannot be combined"},
      {"matmul:epilogue=gelu_tanh+gelu_tanh+gelu_tanh+gelu_tanh", "repeats the result 256 times"},
      {"matmul:epilogue=relu+relu+relu+relu+relu+relu+relu+relu+relu+relu+relu+relu+relu+relu+relu+relu+relu",
       "more than 16 ops"},
      {"dense:epilogue=relu", "unknown parameter 'epilogue'"},
      {"matmul:M=1099511627776,N=1099511627776,K=1", "tensor C has"},
      {"matmul:M=65536,N=65536,K=1099511627776", "points (the limit is 2^62)"},
      {"conv2d_nchw:N=1,C=1,K=1,H=1048576,W=1073741824,R=1,S=1,stride=1099511627776,pad=1099511627776",
       "the window read of X"},
  };
  for (const auto& [spec, part] : cases) {
    const std::string why = refusal(spec);
    EXPECT_TRUE(contains(why, part)) << spec << ": " << why;
    EXPECT_TRUE(contains(why, "workload spec '")) << spec << ": " << why;
  }
}

TEST(GenericKernels, ParseSpecAcceptsExactlyWhatMakeOperatorAccepts) {
  const std::vector<std::string> specs = {
      "matmull:M=4",
      "matmul:Q=4",
      "matmul:M=0",
      "matmul:M=1099511627777",
      "matmul:M=1099511627776",
      "matmul:M=1099511627776,N=1099511627776,K=1",
      "matmul:M=65536,N=65536,K=1099511627776",
      "matmul:M=65536,N=65536,K=1073741824",
      "matmul:M=268435456,N=256,K=268435456",
      "batch_matmul:B=1024,M=1024,N=1024,K=4096",
      "layernorm:eps=1e-400",
      "layernorm:eps=1e-310",
      "layernorm:eps=-0",
      "conv2d_nchw:H=2,W=8,R=3,S=3,pad=0",
      "conv2d_nchw:H=1,W=1,R=3,S=3,pad=1",
      "conv2d_nchw:H=1,W=1,R=3,S=3,pad=0",
      "conv2d_nhwc:H=5,W=5,R=3,S=3,pad=0,dilation=2",
      "conv2d_nhwc:H=4,W=5,R=3,S=3,pad=0,dilation=2",
      "depthwise_conv2d:R=1099511627776,dilation=1099511627776",
      "conv2d_nchw:N=1,C=1,K=1,H=1048576,W=1073741824,R=1,S=1,stride=1099511627776,pad=1099511627776",
      "conv2d_nchw:N=1,C=1,K=1,H=4,W=4,R=1,S=1,stride=1099511627776,pad=1099511627776",
      "conv2d_nhwc:N=1,C=1024,K=1,H=4,W=1024,R=1,S=1,stride=1099511627776,pad=1099511627776",
      "conv2d_nchw:N=1024,C=1024,K=1024,H=1024,W=1024,R=1024,S=1024,pad=600",
      "attention:B=1048576,S=1048576,SK=1048576,D=1",
      "attention:B=1024,S=1048576,SK=1048576,D=1",
      "matmul:epilogue=gelu_tanh+gelu_tanh+gelu_tanh",
      "matmul:epilogue=gelu_tanh+gelu_tanh+gelu_tanh+gelu_tanh",
      "matmul:epilogue=silu+silu+silu+silu+silu+silu",
      "matmul:epilogue=silu+silu+silu+silu+silu+silu+silu",
      "matmul:epilogue=relu6+relu6+relu6+relu6+relu6+relu6+relu6+relu6+relu6+relu6+relu6+relu6+relu6+relu6+"
      "relu6+"
      "relu6",
      "matmul:epilogue=bias+add+mul+bias+add+mul+bias+add+mul+bias+add+mul+bias+add+mul+sigmoid",
      "matmul:epilogue=bias+add+mul+bias+add+mul+bias+add+mul+bias+add+mul+bias+add+mul+sigmoid+relu",
  };
  for (const auto& spec : specs) {
    gk::Spec s;
    std::string why;
    EXPECT_EQ(gk::parse_spec(spec, &s, &why), rctune_accepts(spec)) << spec << ": " << why;
  }
}

TEST(GenericKernels, RandomSpecsAreAcceptedAndCanonicalisedAsMakeOperatorDoes) {
  // Random parameters of every operator, small and huge, valid and not: shapes near the filter and
  // size limits, epilogue chains near their length and repetition limits.
  const std::vector<std::string> ints = {"0",
                                         "1",
                                         "2",
                                         "3",
                                         "5",
                                         "7",
                                         "-1",
                                         "1024",
                                         "65536",
                                         "1048576",
                                         "268435456",
                                         "1073741824",
                                         "4294967296",
                                         "1099511627776",
                                         "1099511627777",
                                         "x"};
  const std::vector<std::string> floats = {"1e-5", "0.5", "3", "0", "-1", "1e-320", "1e400", "2.5e-7", "x"};
  const std::vector<std::string> eps_ops = {"bias", "add",       "mul",     "relu", "relu6",
                                            "gelu", "gelu_tanh", "sigmoid", "silu", "tanh"};
  std::mt19937 rng(11);
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  int accepted = 0, refused = 0;
  for (int i = 0; i < 4000; ++i) {
    const auto& info = ir::operator_library()[rng() % ir::operator_library().size()];
    std::string spec = info.name, sep = ":";
    for (const auto& param : info.params) {
      if (rng() % 3 == 0) continue;
      std::string v;
      if (param.name == "dtype") {
        v = pick({"f32", "f64", "float64", "f16"});
      } else if (param.name == "eps") {
        v = pick(floats);
      } else if (param.name == "epilogue") {
        const size_t n = rng() % 18;
        for (size_t k = 0; k < n; ++k) v += (k ? "+" : "") + pick(eps_ops);
        if (v.empty()) v = "none";
      } else {
        v = rng() % 2 ? pick(ints) : std::to_string(1 + rng() % 9);
      }
      spec += sep + param.name + "=" + v;
      sep = ",";
    }
    gk::Spec s;
    std::string why;
    const bool ok = gk::parse_spec(spec, &s, &why);
    ASSERT_EQ(ok, rctune_accepts(spec)) << spec << ": " << why;
    if (ok) {
      EXPECT_EQ(s.canonical, ir::canonical_operator_spec(spec)) << spec;
      ++accepted;
    } else {
      ++refused;
    }
  }
  EXPECT_GT(accepted, 400);
  EXPECT_GT(refused, 400);
}

TEST(GenericKernels, RunAndTensorsRefuseASpecThatParseSpecRefuses) {
  gk::Spec s;
  s.op = "matmul";
  s.canonical = "matmul:M=0";
  EXPECT_THROW(gk::tensors(s), std::invalid_argument);
  EXPECT_THROW(gk::run(s, nullptr), std::invalid_argument);
}

TEST(GenericKernels, RunRefusesANullBuffer) {
  const gk::Spec s = parsed("matmul:M=2,N=2,K=2");
  std::vector<float> a(4), c(4);
  void* buffers[] = {a.data(), nullptr, c.data()};
  EXPECT_THROW(gk::run(s, buffers), std::invalid_argument);
}

TEST(GenericKernels, HeaderCompilesWarningFreeWithGcc) {
  expect_compiles_clean("g++", kUsesEveryEntryPoint, "every_entry_point");
  expect_compiles_clean("g++", kUsesParseSpecOnly, "parse_spec_only");
}

TEST(GenericKernels, HeaderCompilesWarningFreeWithClang) {
  expect_compiles_clean("clang++", kUsesEveryEntryPoint, "every_entry_point");
  expect_compiles_clean("clang++", kUsesParseSpecOnly, "parse_spec_only");
}
