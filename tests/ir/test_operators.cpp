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

// ---------------------------------------------------------------- fused epilogues

namespace {

const std::vector<std::string> kEpilogueOps = {"bias", "add",       "mul",     "relu", "relu6",
                                               "gelu", "gelu_tanh", "sigmoid", "silu"};

// The operators that take an epilogue, with a small spec each and the name of the output.
struct Fusable {
  std::string spec, output, result;
};
const std::vector<Fusable> kFusable = {
    {"matmul:M=8,N=4,K=5", "C", "AB"},
    {"batch_matmul:B=2,M=3,N=4,K=5", "C", "AB"},
    {"conv2d_nchw:N=1,C=3,H=6,W=6,K=4", "Y", "conv"},
    {"conv2d_nhwc:N=1,C=3,H=6,W=6,K=4", "Y", "conv"},
    {"depthwise_conv2d:N=1,C=3,H=6,W=6", "Y", "conv"},
};

}  // namespace

TEST(OperatorEpilogues, EveryOpBuildsOnEveryFusableOperatorAsTwoStages) {
  for (const auto& f : kFusable)
    for (const auto& op : kEpilogueOps) {
      Workload w = make_operator(f.spec + ",epilogue=" + op);
      EXPECT_EQ(w.validate(), "") << w.name;
      ASSERT_EQ(w.stages.size(), 2u) << w.name;
      EXPECT_EQ(w.stages[0].output, f.result) << w.name;
      EXPECT_EQ(w.stages[1].op, ReduceOp::None) << w.name;
      EXPECT_EQ(w.outputs, (std::vector<std::string>{f.output})) << w.name;
      EXPECT_EQ(w.role(f.result), TensorRole::Intermediate) << w.name;
      EXPECT_EQ(shape_of(w, f.result), shape_of(w, f.output)) << w.name;
    }
}

TEST(OperatorEpilogues, EveryOpHasItsFormulaInTheElementwiseStage) {
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"bias", "AB[i, j] + bias[j]"},
      {"add", "AB[i, j] + res0[i, j]"},
      {"mul", "AB[i, j] * gate0[i, j]"},
      {"relu", "relu(AB[i, j])"},
      {"relu6", "min(max(AB[i, j], 0.0), 6.0)"},
      {"gelu", "gelu(AB[i, j])"},
      {"sigmoid", "sigmoid(AB[i, j])"},
      {"silu", "AB[i, j] * sigmoid(AB[i, j])"},
  };
  for (const auto& [op, body] : bodies) {
    Workload w = make_operator("matmul:M=8,N=4,K=5,epilogue=" + op);
    EXPECT_EQ(to_string(w.stages[1].body), body) << op;
  }
  std::string tanh_form = to_string(make_operator("matmul:M=8,N=4,K=5,epilogue=gelu_tanh").stages[1].body);
  EXPECT_TRUE(contains(tanh_form, "tanh(")) << tanh_form;
}

TEST(OperatorEpilogues, ChainAppliesLeftToRightWithParenthesesWhereNeeded) {
  Workload w = make_operator("conv2d_nchw:N=1,C=3,H=6,W=6,K=4,epilogue=bias+add+relu");
  EXPECT_EQ(to_string(w.stages[1].body), "relu(conv[n, k, p, q] + bias[k] + res0[n, k, p, q])");
  Workload m = make_operator("matmul:M=8,N=4,K=5,epilogue=bias+mul+silu");
  EXPECT_EQ(to_string(m.stages[1].body),
            "(AB[i, j] + bias[j]) * gate0[i, j] * sigmoid((AB[i, j] + bias[j]) * gate0[i, j])");
}

TEST(OperatorEpilogues, BiasIsPerOutputChannel) {
  EXPECT_EQ(shape_of(make_operator("matmul:M=8,N=4,K=5,epilogue=bias"), "bias"), (std::vector<int64_t>{4}));
  EXPECT_EQ(shape_of(make_operator("batch_matmul:B=2,M=3,N=7,K=5,epilogue=bias"), "bias"),
            (std::vector<int64_t>{7}));
  Workload nchw = make_operator("conv2d_nchw:N=1,C=3,H=6,W=6,K=5,epilogue=bias");
  EXPECT_EQ(shape_of(nchw, "bias"), (std::vector<int64_t>{5}));
  EXPECT_EQ(to_string(nchw.stages[1].body), "conv[n, k, p, q] + bias[k]");
  Workload nhwc = make_operator("conv2d_nhwc:N=1,C=3,H=6,W=6,K=5,epilogue=bias");
  EXPECT_EQ(shape_of(nhwc, "bias"), (std::vector<int64_t>{5}));
  EXPECT_EQ(to_string(nhwc.stages[1].body), "conv[n, p, q, k] + bias[k]");
  Workload dw = make_operator("depthwise_conv2d:N=1,C=3,H=6,W=6,epilogue=bias");
  EXPECT_EQ(shape_of(dw, "bias"), (std::vector<int64_t>{3}));
  EXPECT_EQ(to_string(dw.stages[1].body), "conv[n, c, p, q] + bias[c]");
}

TEST(OperatorEpilogues, EachAddAndMulGetsItsOwnInputInChainOrder) {
  Workload w = make_operator("matmul:M=8,N=4,K=5,epilogue=bias+add+mul+add+mul+bias");
  EXPECT_EQ(w.input_names(),
            (std::vector<std::string>{"A", "B", "bias", "res0", "gate0", "res1", "gate1", "bias1"}));
  for (const auto* t : {"res0", "res1", "gate0", "gate1"})
    EXPECT_EQ(shape_of(w, t), (std::vector<int64_t>{8, 4})) << t;
  EXPECT_EQ(shape_of(w, "bias1"), (std::vector<int64_t>{4}));
}

TEST(OperatorEpilogues, CanonicalNamePutsTheEpilogueAfterDtypeInChainOrder) {
  EXPECT_EQ(make_operator("matmul:epilogue=silu+mul,dtype=f64,M=8,N=4,K=5").name,
            "matmul:M=8,N=4,K=5,dtype=f64,epilogue=silu+mul");
  EXPECT_EQ(canonical_operator_spec("matmul:M=8,N=4,K=5,epilogue=mul+silu"),
            "matmul:M=8,N=4,K=5,dtype=f32,epilogue=mul+silu");
  EXPECT_EQ(
      canonical_operator_spec("conv2d_nchw:epilogue= bias + relu "),
      "conv2d_nchw:N=1,C=64,H=56,W=56,K=64,R=3,S=3,stride=1,pad=1,dilation=1,dtype=f32,epilogue=bias+relu");
}

TEST(OperatorEpilogues, CanonicalNameOfAFusedWorkloadBuildsTheSameWorkload) {
  Workload a = make_operator("conv2d_nhwc:C=8,K=4,H=10,W=10,stride=2,epilogue=bias+add+relu6");
  Workload b = make_operator(a.name);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(to_string(a), to_string(b));
}

TEST(OperatorEpilogues, NoneIsLeftOutOfTheNameAndChangesNothing) {
  for (const auto& f : kFusable) {
    Workload plain = make_operator(f.spec);
    Workload none = make_operator(f.spec + ",epilogue=none");
    EXPECT_EQ(none.name, plain.name);
    EXPECT_FALSE(contains(none.name, "epilogue")) << none.name;
    EXPECT_EQ(operator_source(f.spec + ",epilogue=none"), operator_source(f.spec));
    EXPECT_EQ(none.stages.size(), 1u) << none.name;
  }
}

TEST(OperatorEpilogues, LibraryListsTheEpilogueParameterOnlyOnFusableOperators) {
  for (const auto& info : operator_library()) {
    bool has = false;
    for (const auto& p : info.params)
      if (p.name == "epilogue") {
        has = true;
        EXPECT_EQ(p.default_value, "none");
        for (const auto& op : kEpilogueOps) EXPECT_TRUE(contains(p.description, op)) << op;
      }
    bool fusable = info.name == "matmul" || info.name == "batch_matmul" || info.name == "conv2d_nchw" ||
                   info.name == "conv2d_nhwc" || info.name == "depthwise_conv2d";
    EXPECT_EQ(has, fusable) << info.name;
  }
}

TEST(OperatorEpilogueErrors, UnknownOpNamesTheSpecTheOpAndTheValidOps) {
  std::string e = spec_error("matmul:M=4,epilogue=bias+swish");
  EXPECT_TRUE(contains(e, "matmul:M=4,epilogue=bias+swish")) << e;
  EXPECT_TRUE(contains(e, "unknown op 'swish'")) << e;
  EXPECT_TRUE(contains(e, "bias, add, mul, relu, relu6, gelu, gelu_tanh, sigmoid, silu")) << e;
}

TEST(OperatorEpilogueErrors, OpNamesAreCaseSensitive) {
  EXPECT_TRUE(contains(spec_error("matmul:epilogue=ReLU"), "unknown op 'ReLU'"));
}

TEST(OperatorEpilogueErrors, EmptyChainOrEmptyOp) {
  EXPECT_TRUE(contains(spec_error("matmul:epilogue="), "epilogue has no value"));
  EXPECT_TRUE(contains(spec_error("matmul:epilogue=+"), "empty op"));
  EXPECT_TRUE(contains(spec_error("matmul:epilogue=relu+"), "empty op"));
  EXPECT_TRUE(contains(spec_error("matmul:epilogue=bias++relu"), "empty op"));
}

TEST(OperatorEpilogueErrors, NoneMixedWithOps) {
  std::string e = spec_error("conv2d_nchw:epilogue=none+relu");
  EXPECT_TRUE(contains(e, "'none' cannot be combined with other ops")) << e;
  EXPECT_TRUE(contains(spec_error("conv2d_nchw:epilogue=relu+none"), "'none' cannot be combined"));
}

TEST(OperatorEpilogueErrors, OperatorsWithoutAnEpilogueRefuseTheParameter) {
  for (const auto* spec : {"softmax:epilogue=relu", "dense:epilogue=relu", "attention:epilogue=relu"}) {
    std::string e = spec_error(spec);
    EXPECT_TRUE(contains(e, "unknown parameter 'epilogue'")) << e;
  }
}

TEST(OperatorEpilogueErrors, ChainsThatRepeatTheResultTooOftenAreRefused) {
  // gelu_tanh reads its operand four times, so three of them repeat the result 64 times (the most).
  EXPECT_NO_THROW(make_operator("matmul:M=4,N=4,K=4,epilogue=gelu_tanh+gelu_tanh+gelu_tanh"));
  std::string e = spec_error("matmul:M=4,N=4,K=4,epilogue=gelu_tanh+gelu_tanh+gelu_tanh+silu");
  EXPECT_TRUE(contains(e, "repeats the result 128 times")) << e;
  std::string many;
  for (int i = 0; i < 17; ++i) many += (i ? "+" : "") + std::string("relu");
  EXPECT_TRUE(contains(spec_error("matmul:epilogue=" + many), "more than 16 ops"));
}

namespace {

TEST(ReducedOperator, CutsTheRowsSoThatTheWorkIsAtMostTheLimit) {
  const auto r = reduced_operator("matmul:M=128,N=4096,K=4096", 1e8);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->spec, "matmul:M=2,N=4096,K=4096,dtype=f32");
  EXPECT_EQ(r->param, "M");
  EXPECT_EQ(r->full, 128);
  EXPECT_EQ(r->reduced, 2);
  EXPECT_LE(make_operator(r->spec).flops(), 1e8);
}

TEST(ReducedOperator, KeepsEveryOtherParameterAndTheEpilogue) {
  const auto r =
      reduced_operator("conv2d_nchw:C=256,H=56,W=56,K=256,R=3,S=3,stride=2,epilogue=bias+add+relu", 1e7);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->param, "K");
  EXPECT_EQ(r->spec, "conv2d_nchw:N=1,C=256,H=56,W=56,K=" + std::to_string(r->reduced) +
                         ",R=3,S=3,stride=2,pad=1,dilation=1,dtype=f32,epilogue=bias+add+relu");
}

TEST(ReducedOperator, WorkScalesWithTheRowsOfEveryOperator) {
  for (const std::string& name : operator_names()) {
    const Workload full = make_operator(name);
    const auto r = reduced_operator(name, full.flops() / 3);
    ASSERT_TRUE(r.has_value()) << name;
    const Workload small = make_operator(r->spec);
    EXPECT_LT(small.flops(), full.flops()) << name;
    EXPECT_NEAR(full.flops() / small.flops(), static_cast<double>(r->full) / static_cast<double>(r->reduced),
                1e-9 * full.flops() / small.flops())
        << name << ": the work is linear in " << r->param;
  }
}

TEST(ReducedOperator, ASmallOperatorIsLeftAsItIs) {
  EXPECT_FALSE(reduced_operator("matmul:M=64,N=64,K=64", 1e8).has_value());
  EXPECT_FALSE(reduced_operator("matmul:M=1,N=4096,K=4096", 1e3).has_value()) << "one row cannot be cut";
}

TEST(ReducedOperator, ANonOperatorSpecIsRefused) {
  EXPECT_THROW(reduced_operator("no_such_op:M=4", 1e8), OperatorSpecError);
}

}  // namespace

namespace {

TEST(OperatorSpecOf, AnOperatorIsItsCanonicalSpec) {
  EXPECT_EQ(operator_spec_of(make_operator("matmul:M=8,N=8,K=8")), "matmul:M=8,N=8,K=8,dtype=f32");
}

TEST(OperatorSpecOf, AHandWrittenWorkloadNamedLikeAnOperatorIsNone) {
  const std::string spec = "softmax:M=4,N=8,dtype=f32";
  EXPECT_EQ(operator_spec_of(parse_workload(operator_source(spec), spec)), spec) << "the same stages";
  std::string other = operator_source(spec);
  other.replace(other.find("exp("), 4, "tanh(");
  EXPECT_FALSE(operator_spec_of(parse_workload(other, spec)).has_value()) << "other stages";
  EXPECT_FALSE(operator_spec_of(parse_workload(operator_source(spec), "softmax")).has_value())
      << "a bare operator name is not this operator's spec";
}

}  // namespace
