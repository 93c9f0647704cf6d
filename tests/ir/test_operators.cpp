#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rctune/ir/operators.h"
#include "rctune/ir/parser.h"

using namespace rctune::ir;

namespace {

std::string spec_error(const std::string& spec) {
  try {
    make_operator(spec);
  } catch (const OperatorSpecError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an OperatorSpecError for " << spec;
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::vector<int64_t> shape_of(const Workload& w, const std::string& t) {
  const Tensor* p = w.find_tensor(t);
  EXPECT_TRUE(p) << t;
  return p ? p->shape : std::vector<int64_t>{};
}

}  // namespace

TEST(Operators, EveryOperatorBuildsWithDefaultsAndValidates) {
  for (const auto& name : operator_names()) {
    Workload w = make_operator(name);
    EXPECT_EQ(w.validate(), "") << name;
    EXPECT_GT(w.flops(), 0) << name;
    ASSERT_EQ(w.outputs.size(), 1u) << name;
    EXPECT_EQ(w.outputs[0], w.stages.back().output) << name;
    EXPECT_EQ(w.name.rfind(name + ":", 0), 0u) << w.name;
  }
}

TEST(Operators, EveryOperatorBuildsInF64) {
  for (const auto& name : operator_names()) {
    Workload w = make_operator(name + ":dtype=f64");
    for (const auto& t : w.tensors) EXPECT_EQ(t.dtype, DType::F64) << name << " " << t.name;
    EXPECT_TRUE(contains(w.name, "dtype=f64")) << w.name;
  }
}

TEST(Operators, LibraryListsNamesAndDescriptions) {
  std::vector<std::string> expected = {
      "matmul",           "batch_matmul", "dense",     "dense_gelu", "conv2d_nchw", "conv2d_nhwc",
      "depthwise_conv2d", "softmax",      "layernorm", "rmsnorm",    "attention"};
  EXPECT_EQ(operator_names(), expected);
  for (const auto& n : expected) EXPECT_FALSE(operator_description(n).empty()) << n;
  EXPECT_EQ(operator_library().size(), expected.size());
  EXPECT_TRUE(is_operator_spec("matmul:M=4"));
  EXPECT_FALSE(is_operator_spec("configs/x.yaml"));
}

TEST(Operators, MatmulShapesAndFlops) {
  Workload w = make_operator("matmul:M=64,N=32,K=16");
  EXPECT_EQ(shape_of(w, "A"), (std::vector<int64_t>{64, 16}));
  EXPECT_EQ(shape_of(w, "B"), (std::vector<int64_t>{16, 32}));
  EXPECT_EQ(shape_of(w, "C"), (std::vector<int64_t>{64, 32}));
  EXPECT_DOUBLE_EQ(w.flops(), 2.0 * 64 * 32 * 16);
  EXPECT_EQ(w.input_names(), (std::vector<std::string>{"A", "B"}));
}

TEST(Operators, CanonicalNameListsEveryParameterInDeclarationOrder) {
  EXPECT_EQ(make_operator("matmul:K=16,M=64,N=32").name, "matmul:M=64,N=32,K=16,dtype=f32");
  EXPECT_EQ(make_operator("matmul").name, "matmul:M=1024,N=1024,K=1024,dtype=f32");
  EXPECT_EQ(canonical_operator_spec(" matmul : N = 8 "), "matmul:M=1024,N=8,K=1024,dtype=f32");
  EXPECT_EQ(make_operator("layernorm:M=4,N=8").name, "layernorm:M=4,N=8,eps=1e-05,dtype=f32");
  EXPECT_EQ(make_operator("attention:B=2,S=16,D=8").name, "attention:B=2,S=16,D=8,SK=16,dtype=f32");
}

TEST(Operators, CanonicalNameBuildsTheSameWorkload) {
  Workload a = make_operator("conv2d_nchw:C=8,K=4,H=10,W=10,stride=2");
  Workload b = make_operator(a.name);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(to_string(a), to_string(b));
}

TEST(Operators, BatchMatmulShapesAndFlops) {
  Workload w = make_operator("batch_matmul:B=3,M=8,N=4,K=5");
  EXPECT_EQ(shape_of(w, "C"), (std::vector<int64_t>{3, 8, 4}));
  EXPECT_DOUBLE_EQ(w.flops(), 2.0 * 3 * 8 * 4 * 5);
}

TEST(Operators, DenseIsMatmulThenBias) {
  Workload w = make_operator("dense:M=8,N=4,K=5");
  ASSERT_EQ(w.stages.size(), 2u);
  EXPECT_EQ(shape_of(w, "bias"), (std::vector<int64_t>{4}));
  EXPECT_EQ(w.role("XW"), TensorRole::Intermediate);
  EXPECT_EQ(w.outputs, (std::vector<std::string>{"Y"}));
  EXPECT_DOUBLE_EQ(w.flops(), 2.0 * 8 * 4 * 5 + 8 * 4);
}

TEST(Operators, DenseGeluFusesBiasAndGelu) {
  Workload w = make_operator("dense_gelu:M=8,N=4,K=5");
  ASSERT_EQ(w.stages.size(), 2u);
  EXPECT_EQ(to_string(w.stages[1].body), "gelu(XW[i, j] + bias[j])");
  EXPECT_DOUBLE_EQ(w.flops(), 2.0 * 8 * 4 * 5 + 2.0 * 8 * 4);
}

TEST(Operators, Conv2dNchwDefaultIsResNetLayer) {
  Workload w = make_operator("conv2d_nchw");
  EXPECT_EQ(shape_of(w, "Y"), (std::vector<int64_t>{1, 64, 56, 56}));
  EXPECT_DOUBLE_EQ(w.flops(), 2.0 * 64 * 56 * 56 * 64 * 3 * 3);
  EXPECT_EQ(to_string(w.stages[0].body), "X[n, c, p + r - 1, q + s - 1] * W[k, c, r, s]");
}

TEST(Operators, Conv2dStridedPaddedDilatedOutputSize) {
  Workload a = make_operator("conv2d_nchw:N=2,C=3,H=32,W=30,K=8,R=3,S=3,stride=2,pad=1");
  EXPECT_EQ(shape_of(a, "Y"), (std::vector<int64_t>{2, 8, 16, 15}));
  EXPECT_EQ(to_string(a.stages[0].body), "X[n, c, p * 2 + r - 1, q * 2 + s - 1] * W[k, c, r, s]");
  EXPECT_DOUBLE_EQ(a.flops(), 2.0 * 2 * 8 * 16 * 15 * 3 * 3 * 3);
  Workload b = make_operator("conv2d_nchw:C=4,H=16,W=16,K=4,R=3,S=3,pad=0,dilation=2");
  EXPECT_EQ(shape_of(b, "Y"), (std::vector<int64_t>{1, 4, 12, 12}));
  EXPECT_EQ(to_string(b.stages[0].body), "X[n, c, p + r * 2, q + s * 2] * W[k, c, r, s]");
  Workload c = make_operator("conv2d_nchw:C=4,H=7,W=7,K=4,R=1,S=1,stride=2,pad=0");
  EXPECT_EQ(shape_of(c, "Y"), (std::vector<int64_t>{1, 4, 4, 4}));
}

TEST(Operators, Conv2dNhwcLayout) {
  Workload w = make_operator("conv2d_nhwc:N=1,C=3,H=8,W=8,K=5,R=3,S=3,stride=1,pad=1");
  EXPECT_EQ(shape_of(w, "X"), (std::vector<int64_t>{1, 8, 8, 3}));
  EXPECT_EQ(shape_of(w, "W"), (std::vector<int64_t>{3, 3, 3, 5}));
  EXPECT_EQ(shape_of(w, "Y"), (std::vector<int64_t>{1, 8, 8, 5}));
  EXPECT_DOUBLE_EQ(w.flops(), 2.0 * 8 * 8 * 5 * 3 * 3 * 3);
}

TEST(Operators, DepthwiseConvShapesAndFlops) {
  Workload w = make_operator("depthwise_conv2d:C=16,H=14,W=14,stride=2");
  EXPECT_EQ(shape_of(w, "W"), (std::vector<int64_t>{16, 3, 3}));
  EXPECT_EQ(shape_of(w, "Y"), (std::vector<int64_t>{1, 16, 7, 7}));
  ASSERT_EQ(w.stages[0].reduce_axes.size(), 2u);
  EXPECT_DOUBLE_EQ(w.flops(), 2.0 * 16 * 7 * 7 * 3 * 3);
}

TEST(Operators, SoftmaxStagesAndIntermediates) {
  Workload w = make_operator("softmax:M=4,N=8");
  ASSERT_EQ(w.stages.size(), 3u);
  EXPECT_EQ(w.stages[0].op, ReduceOp::Max);
  EXPECT_EQ(w.stages[1].op, ReduceOp::Sum);
  EXPECT_EQ(w.stages[2].op, ReduceOp::None);
  EXPECT_EQ(w.role("row_max"), TensorRole::Intermediate);
  EXPECT_EQ(w.role("row_sum"), TensorRole::Intermediate);
  EXPECT_EQ(w.role("Y"), TensorRole::Output);
  EXPECT_EQ(w.input_names(), (std::vector<std::string>{"X"}));
}

TEST(Operators, LayernormAndRmsnorm) {
  Workload l = make_operator("layernorm:M=4,N=8,eps=0.001");
  ASSERT_EQ(l.stages.size(), 3u);
  EXPECT_EQ(l.input_names(), (std::vector<std::string>{"X", "gamma", "beta"}));
  EXPECT_TRUE(contains(to_string(l.stages[2].body), "0.001")) << to_string(l.stages[2].body);
  Workload r = make_operator("rmsnorm:M=4,N=8");
  ASSERT_EQ(r.stages.size(), 2u);
  EXPECT_EQ(r.input_names(), (std::vector<std::string>{"X", "gamma"}));
  EXPECT_EQ(r.name, "rmsnorm:M=4,N=8,eps=1e-06,dtype=f32");
}

TEST(Operators, AttentionStagesShapesAndKeyLength) {
  Workload w = make_operator("attention:B=2,S=16,D=8,SK=32");
  ASSERT_EQ(w.stages.size(), 5u);
  EXPECT_EQ(shape_of(w, "K"), (std::vector<int64_t>{2, 32, 8}));
  EXPECT_EQ(shape_of(w, "scores"), (std::vector<int64_t>{2, 16, 32}));
  EXPECT_EQ(shape_of(w, "O"), (std::vector<int64_t>{2, 16, 8}));
  EXPECT_EQ(w.input_names(), (std::vector<std::string>{"Q", "K", "V"}));
  for (const char* t : {"scores", "row_max", "row_sum", "P"})
    EXPECT_EQ(w.role(t), TensorRole::Intermediate) << t;
  EXPECT_DOUBLE_EQ(w.stages[0].flops(), 2.0 * 2 * 16 * 32 * 8);
  EXPECT_DOUBLE_EQ(w.stages[4].flops(), 2.0 * 2 * 16 * 32 * 8);
  EXPECT_TRUE(contains(operator_source("attention:D=64"), "* 0.125)"));
}

TEST(Operators, SourceTextParsesToTheSameWorkload) {
  std::string text = operator_source("softmax:M=4,N=8");
  Workload w = parse_workload(text, "x");
  EXPECT_EQ(w.stages.size(), 3u);
}

// ---------------------------------------------------------------- errors

TEST(OperatorErrors, UnknownOperatorListsKnownOnes) {
  std::string e = spec_error("matmull:M=4");
  EXPECT_TRUE(contains(e, "unknown operator 'matmull'")) << e;
  EXPECT_TRUE(contains(e, "matmul, batch_matmul")) << e;
}

TEST(OperatorErrors, UnknownParameterListsValidOnes) {
  std::string e = spec_error("matmul:M=4,Q=3");
  EXPECT_TRUE(contains(e, "unknown parameter 'Q'")) << e;
  EXPECT_TRUE(contains(e, "M, N, K, dtype")) << e;
}

TEST(OperatorErrors, InvalidValues) {
  EXPECT_TRUE(contains(spec_error("matmul:M=abc"), "M must be an integer, got 'abc'"));
  EXPECT_TRUE(contains(spec_error("matmul:M=0"), "M must be at least 1"));
  EXPECT_TRUE(contains(spec_error("matmul:M=-3"), "M must be at least 1"));
  EXPECT_TRUE(contains(spec_error("matmul:M=4.5"), "must be an integer"));
  EXPECT_TRUE(contains(spec_error("conv2d_nchw:pad=-1"), "pad must be at least 0"));
  EXPECT_TRUE(contains(spec_error("layernorm:eps=0"), "eps must be positive"));
  EXPECT_TRUE(contains(spec_error("layernorm:eps=x"), "eps must be a number"));
  EXPECT_TRUE(contains(spec_error("matmul:dtype=f16"), "dtype must be f32 or f64"));
}

TEST(OperatorErrors, MalformedParameterList) {
  EXPECT_TRUE(contains(spec_error("matmul:M=4,M=8"), "given twice"));
  EXPECT_TRUE(contains(spec_error("matmul:M"), "has no value"));
  EXPECT_TRUE(contains(spec_error("matmul:M=4,,N=2"), "empty parameter"));
  EXPECT_TRUE(contains(spec_error("matmul:M="), "has no value"));
  EXPECT_TRUE(contains(spec_error(":M=4"), "no operator name"));
}

TEST(OperatorErrors, FilterLargerThanInput) {
  std::string e = spec_error("conv2d_nchw:H=4,W=4,R=7,S=7,pad=0");
  EXPECT_TRUE(contains(e, "larger than the padded input")) << e;
}

TEST(OperatorErrors, DescriptionOfUnknownOperator) {
  EXPECT_THROW(operator_description("nope"), OperatorSpecError);
}
