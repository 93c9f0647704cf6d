// Extraction of small graphs of every supported pattern, checked against the expected tasks,
// weights and not-tuned lists (docs/models.md).
#include <gtest/gtest.h>

#include <cmath>

#include "model/graph_builder.h"

using rctune::testing::GraphBuilder;
using rctune::testing::not_tuned_lines;
using rctune::testing::task_lines;
using Lines = std::vector<std::string>;

namespace {

// x[M,K] @ w[K,N] (+ bias[N]) -> the matmul's output.
std::string linear(GraphBuilder& g, const std::string& x, int K, int N, const std::string& name, bool bias) {
  std::string y = g.op("MatMul", {x, g.input(name + ".w", {K, N})}, name);
  if (bias) y = g.op("Add", {y, g.input(name + ".b", {N})}, name + ".bias");
  return y;
}

std::string gelu_erf(GraphBuilder& g, const std::string& x) {
  std::string e = g.op("Erf", {g.op("Div", {x, g.scalar(std::sqrt(2.0f))})});
  return g.op("Mul", {g.op("Mul", {x, g.op("Add", {e, g.scalar(1.0f)})}), g.scalar(0.5f)});
}

// The extraction of `g` has exactly the tasks `tasks` and the not-tuned lines `not_tuned`.
void expect_extraction(GraphBuilder& g, const Lines& tasks, const Lines& not_tuned) {
  const auto e = g.extract();
  EXPECT_EQ(task_lines(e), tasks);
  EXPECT_EQ(not_tuned_lines(e), not_tuned);
}

// The extraction is the one task `line` whose one note contains `note`.
void expect_task_with_note(const rctune::model::Extraction& e, const std::string& line,
                           const std::string& note) {
  EXPECT_EQ(task_lines(e), Lines{line});
  ASSERT_EQ(e.tasks.size(), 1u);
  ASSERT_EQ(e.tasks[0].notes.size(), 1u);
  EXPECT_NE(e.tasks[0].notes[0].find(note), std::string::npos) << e.tasks[0].notes[0];
}

}  // namespace

TEST(ExtractMatMul, TwoDimensionalMatMulIsOneMatmulTask) {
  GraphBuilder g;
  g.output(linear(g, g.input("x", {32, 64}), 64, 16, "fc", false));
  auto e = g.extract();
  EXPECT_EQ(task_lines(e), Lines{"matmul:M=32,N=16,K=64,dtype=f32 x1"});
  EXPECT_EQ(e.tasks[0].name, "fc");
  EXPECT_TRUE(e.not_tuned.empty());
}

TEST(ExtractMatMul, BatchDimensionsOfTheActivationFoldIntoM) {
  GraphBuilder g;
  g.output(linear(g, g.input("x", {2, 8, 64}), 64, 16, "fc", false));
  EXPECT_EQ(task_lines(g.extract()), Lines{"matmul:M=16,N=16,K=64,dtype=f32 x1"});
}

TEST(ExtractMatMul, BatchedOperandsOnBothSidesAreBatchMatmul) {
  GraphBuilder g;
  g.output(g.op("MatMul", {g.input("q", {2, 4, 8, 16}), g.input("k", {2, 4, 16, 8})}, "scores"));
  EXPECT_EQ(task_lines(g.extract()), Lines{"batch_matmul:B=8,M=8,N=8,K=16,dtype=f32 x1"});
}

TEST(ExtractMatMul, BroadcastBatchCountsTheFullBatchAndSaysSo) {
  GraphBuilder g;
  g.output(g.op("MatMul", {g.input("q", {2, 4, 8, 16}), g.input("k", {2, 1, 16, 8})}, "scores"));
  expect_task_with_note(g.extract(), "batch_matmul:B=8,M=8,N=8,K=16,dtype=f32 x1", "broadcast");
}

TEST(ExtractGemm, LinearWithTransposedWeightIsMatmulWithBiasAndANote) {
  GraphBuilder g;
  g.op("Gemm", {g.input("x", {1, 2048}), g.input("fc.weight", {1000, 2048}), g.input("fc.bias", {1000})},
       "fc");
  g.attr("transB", int64_t{1});
  g.output("fc_out");
  expect_task_with_note(g.extract(), "matmul:M=1,N=1000,K=2048,dtype=f32,epilogue=bias x1", "used as [K,N]");
}

TEST(ExtractGemm, TransposedActivationIsNotTuned) {
  GraphBuilder g;
  g.op("Gemm", {g.input("x", {64, 8}), g.input("w", {64, 32})}, "fc");
  g.attr("transA", int64_t{1});
  g.output("fc_out");
  auto e = g.extract();
  EXPECT_TRUE(e.tasks.empty());
  EXPECT_EQ(not_tuned_lines(e), Lines{"Gemm x1: transA = 1 (a transposed activation)"});
}

TEST(ExtractConv, ConvWithBiasAndReluFusesBoth) {
  GraphBuilder g;
  g.op("Conv", {g.input("x", {1, 64, 56, 56}), g.input("w", {64, 64, 3, 3}), g.input("b", {64})}, "conv");
  g.attr("pads", {1, 1, 1, 1});
  g.output(g.op("Relu", {"conv_out"}));
  EXPECT_EQ(task_lines(g.extract()), Lines{"conv2d_nchw:N=1,C=64,H=56,W=56,K=64,R=3,S=3,stride=1,pad=1,"
                                           "dilation=1,dtype=f32,epilogue=bias+relu x1"});
}

TEST(ExtractConv, StrideAndDilationAreRead) {
  GraphBuilder g;
  g.op("Conv", {g.input("x", {1, 8, 32, 32}), g.input("w", {16, 8, 3, 3})}, "conv");
  g.attr("pads", {2, 2, 2, 2}).attr("strides", {2, 2}).attr("dilations", {2, 2});
  g.output("conv_out");
  EXPECT_EQ(task_lines(g.extract()),
            Lines{"conv2d_nchw:N=1,C=8,H=32,W=32,K=16,R=3,S=3,stride=2,pad=2,dilation=2,dtype=f32 x1"});
}

TEST(ExtractConv, ResidualAddAndReluAfterTheBiasFuse) {
  GraphBuilder g;
  std::string x = g.input("x", {1, 16, 8, 8});
  g.op("Conv", {x, g.input("w", {16, 16, 1, 1}), g.input("b", {16})}, "conv");
  g.output(g.op("Relu", {g.op("Add", {"conv_out", x})}));
  EXPECT_EQ(task_lines(g.extract()), Lines{"conv2d_nchw:N=1,C=16,H=8,W=8,K=16,R=1,S=1,stride=1,pad=0,"
                                           "dilation=1,dtype=f32,epilogue=bias+add+relu x1"});
}

TEST(ExtractConv, GroupsEqualToChannelsAreDepthwiseWithRelu6) {
  GraphBuilder g;
  g.op("Conv", {g.input("x", {1, 32, 16, 16}), g.input("w", {32, 1, 3, 3}), g.input("b", {32})}, "dw");
  g.attr("group", int64_t{32}).attr("pads", {1, 1, 1, 1}).attr("strides", {2, 2});
  g.output(g.op("Clip", {"dw_out", g.scalar(0.0f), g.scalar(6.0f)}));
  EXPECT_EQ(task_lines(g.extract()), Lines{"depthwise_conv2d:N=1,C=32,H=16,W=16,R=3,S=3,stride=2,pad=1,"
                                           "dilation=1,dtype=f32,epilogue=bias+relu6 x1"});
}

TEST(ExtractConv, OtherGroupCountsAreNotTuned) {
  GraphBuilder g;
  g.op("Conv", {g.input("x", {1, 32, 16, 16}), g.input("w", {32, 8, 3, 3})}, "grouped");
  g.attr("group", int64_t{4});
  g.output("grouped_out");
  EXPECT_EQ(not_tuned_lines(g.extract()), Lines{"Conv x1: grouped convolution (1 < group < channels)"});
}

TEST(ExtractConv, AsymmetricPaddingIsNotTuned) {
  GraphBuilder g;
  g.op("Conv", {g.input("x", {1, 8, 16, 16}), g.input("w", {8, 8, 3, 3})}, "conv");
  g.attr("pads", {0, 0, 1, 1});
  g.output("conv_out");
  EXPECT_EQ(not_tuned_lines(g.extract()), Lines{"Conv x1: asymmetric padding"});
}

TEST(ExtractConv, StridesThatDifferPerAxisAreNotTuned) {
  GraphBuilder g;
  g.op("Conv", {g.input("x", {1, 8, 16, 16}), g.input("w", {8, 8, 3, 3})}, "conv");
  g.attr("strides", {1, 2});
  g.output("conv_out");
  EXPECT_EQ(not_tuned_lines(g.extract()), Lines{"Conv x1: strides differ per axis"});
}

TEST(ExtractEpilogue, BiasAndErfGeluAsExportedFuseIntoTheMatmul) {
  GraphBuilder g;
  g.output(gelu_erf(g, linear(g, g.input("x", {128, 768}), 768, 3072, "ffn", true)));
  auto e = g.extract();
  EXPECT_EQ(task_lines(e), Lines{"matmul:M=128,N=3072,K=768,dtype=f32,epilogue=bias+gelu x1"});
  EXPECT_TRUE(e.not_tuned.empty());
}

TEST(ExtractEpilogue, ErfGeluWithTheHalfTakenFirstIsRecognised) {
  GraphBuilder g;
  std::string y = linear(g, g.input("x", {4, 8}), 8, 8, "fc", false);
  std::string half = g.op("Mul", {y, g.scalar(0.5f)});
  std::string e = g.op("Erf", {g.op("Mul", {y, g.scalar(0.70710678f)})});
  g.output(g.op("Mul", {half, g.op("Add", {g.scalar(1.0f), e})}));
  EXPECT_EQ(task_lines(g.extract()), Lines{"matmul:M=4,N=8,K=8,dtype=f32,epilogue=gelu x1"});
}

TEST(ExtractEpilogue, TanhGeluIsTellsApartFromErfGelu) {
  GraphBuilder g;
  std::string x = linear(g, g.input("x", {4, 8}), 8, 8, "fc", false);
  std::string cube = g.op("Mul", {g.op("Pow", {x, g.scalar(3.0f)}), g.scalar(0.044715f)});
  std::string inner = g.op("Mul", {g.op("Add", {x, cube}), g.scalar(0.7978845608f)});
  std::string t = g.op("Add", {g.op("Tanh", {inner}), g.scalar(1.0f)});
  g.output(g.op("Mul", {g.op("Mul", {x, g.scalar(0.5f)}), t}));
  EXPECT_EQ(task_lines(g.extract()), Lines{"matmul:M=4,N=8,K=8,dtype=f32,epilogue=gelu_tanh x1"});
}

TEST(ExtractEpilogue, ScalarsFromConstantNodesAreReadAndTheConstantsListed) {
  GraphBuilder g;
  std::string y = linear(g, g.input("x", {4, 8}), 8, 8, "fc", false);
  std::string zero = g.op("Constant", {}, "zero");
  g.attr("value_float", 0.0f);
  std::string six = g.op("Constant", {}, "six");
  g.attr("value_float", 6.0f);
  g.output(g.op("Clip", {y, zero, six}));
  expect_extraction(g, {"matmul:M=4,N=8,K=8,dtype=f32,epilogue=relu6 x1"},
                    {"Constant x2: a constant: no computation"});
}

TEST(ExtractEpilogue, OnnxRuntimeFusedGeluNodesAreGelu) {
  GraphBuilder g;
  std::string y = g.domain_op("com.microsoft", "Gelu", {linear(g, g.input("x", {4, 8}), 8, 8, "fc", true)});
  g.output(y);
  EXPECT_EQ(task_lines(g.extract()), Lines{"matmul:M=4,N=8,K=8,dtype=f32,epilogue=bias+gelu x1"});
}

TEST(ExtractEpilogue, AChainTheLibraryRefusesIsCutAndTheRestListed) {
  GraphBuilder g;
  std::string y = linear(g, g.input("x", {4, 8}), 8, 8, "fc", false);
  for (int i = 0; i < 4; ++i) y = g.domain_op("com.microsoft", "FastGelu", {y});
  g.output(y);
  auto e = g.extract();
  EXPECT_EQ(task_lines(e), Lines{"matmul:M=4,N=8,K=8,dtype=f32,epilogue=gelu_tanh+gelu_tanh+gelu_tanh x1"});
  EXPECT_EQ(not_tuned_lines(e), Lines{"com.microsoft.FastGelu x1: operator of another domain"});
  ASSERT_EQ(e.tasks[0].notes.size(), 2u);
  EXPECT_EQ(e.tasks[0].notes[0].rfind("epilogue cut after 3 ops: ", 0), 0u) << e.tasks[0].notes[0];
}

TEST(ExtractEpilogue, SiluTimesUpProjectionFusesIntoTheGateMatmul) {
  GraphBuilder g;
  std::string x = g.input("x", {16, 64});
  std::string gate = linear(g, x, 64, 128, "gate", false);
  std::string up = linear(g, x, 64, 128, "up", false);
  std::string act = g.op("Mul", {gate, g.op("Sigmoid", {gate})});
  g.output(linear(g, g.op("Mul", {act, up}), 128, 64, "down", false));
  EXPECT_EQ(task_lines(g.extract()),
            (Lines{"matmul:M=16,N=128,K=64,dtype=f32,epilogue=silu+mul x1",
                   "matmul:M=16,N=128,K=64,dtype=f32 x1", "matmul:M=16,N=64,K=128,dtype=f32 x1"}));
}

TEST(ExtractEpilogue, SigmoidAloneIsSigmoid) {
  GraphBuilder g;
  g.output(g.op("Sigmoid", {linear(g, g.input("x", {4, 8}), 8, 8, "fc", false)}));
  EXPECT_EQ(task_lines(g.extract()), Lines{"matmul:M=4,N=8,K=8,dtype=f32,epilogue=sigmoid x1"});
}

TEST(ExtractEpilogue, AResultWithTwoReadersIsNotFused) {
  GraphBuilder g;
  std::string y = linear(g, g.input("x", {4, 8}), 8, 8, "fc", false);
  g.output(g.op("Relu", {y}));
  g.output(g.op("Add", {y, g.input("r", {4, 8})}));
  expect_extraction(g, {"matmul:M=4,N=8,K=8,dtype=f32 x1"},
                    {"Relu x1: elementwise, not fused into a matmul or convolution",
                     "Add x1: elementwise, not fused into a matmul or convolution"});
}

TEST(ExtractEpilogue, AnAddOfAComputedVectorIsNotABias) {
  GraphBuilder g;
  std::string v = g.op("Relu", {g.input("v", {8})});
  g.output(g.op("Add", {linear(g, g.input("x", {4, 8}), 8, 8, "fc", false), v}));
  auto e = g.extract();
  EXPECT_EQ(task_lines(e), Lines{"matmul:M=4,N=8,K=8,dtype=f32 x1"});
  EXPECT_EQ(not_tuned_lines(e).size(), 2u);
}

TEST(ExtractEpilogue, AScaleByAConstantEndsTheChainAndIsListed) {
  GraphBuilder g;
  std::string y = g.op("Div", {linear(g, g.input("x", {4, 8}), 8, 8, "fc", false), g.scalar(8.0f)});
  g.output(g.op("Relu", {y}));
  expect_extraction(g, {"matmul:M=4,N=8,K=8,dtype=f32 x1"},
                    {"Div x1: elementwise, not fused into a matmul or convolution",
                     "Relu x1: elementwise, not fused into a matmul or convolution"});
}

TEST(ExtractRows, SoftmaxOnTheLastAxisHasTheOtherAxesAsRows) {
  GraphBuilder g;
  g.op("Softmax", {g.input("s", {2, 12, 128, 128})}, "softmax");
  g.attr("axis", int64_t{-1});
  g.output("softmax_out");
  EXPECT_EQ(task_lines(g.extract()), Lines{"softmax:M=3072,N=128,dtype=f32 x1"});
}

TEST(ExtractRows, SoftmaxOnAnotherAxisIsNotTuned) {
  GraphBuilder g;
  g.op("Softmax", {g.input("s", {4, 8, 16})}, "softmax");
  g.attr("axis", int64_t{1});
  g.output("softmax_out");
  EXPECT_EQ(not_tuned_lines(g.extract()), Lines{"Softmax x1: softmax along an axis other than the last"});
}

TEST(ExtractRows, LayerNormalizationOperatorIsLayernorm) {
  GraphBuilder g;
  g.op("LayerNormalization", {g.input("x", {1, 128, 768}), g.input("gamma", {768}), g.input("beta", {768})},
       "ln");
  g.attr("epsilon", 1e-12f);
  g.output("ln_out");
  EXPECT_EQ(task_lines(g.extract()), Lines{"layernorm:M=128,N=768,eps=1e-12,dtype=f32 x1"});
}

TEST(ExtractRows, DecomposedLayerNormIsOneLayernormTask) {
  GraphBuilder g;
  std::string x = g.input("x", {1, 128, 768});
  g.op("ReduceMean", {x}, "ln.mean");
  g.attr("axes", {-1});
  std::string d = g.op("Sub", {x, "ln.mean_out"});
  g.op("ReduceMean", {g.op("Pow", {d, g.scalar(2.0f)})});
  g.attr("axes", {-1});
  std::string var = g.proto().graph().node(g.proto().graph().node_size() - 1).output(0);
  std::string y = g.op("Div", {d, g.op("Sqrt", {g.op("Add", {var, g.scalar(1e-5f)})})});
  y = g.op("Add", {g.op("Mul", {y, g.input("gamma", {768})}), g.input("beta", {768})});
  g.output(y);
  auto e = g.extract();
  EXPECT_EQ(task_lines(e), Lines{"layernorm:M=128,N=768,eps=1e-05,dtype=f32 x1"});
  EXPECT_EQ(e.tasks[0].name, "ln.mean");
  EXPECT_TRUE(e.not_tuned.empty());
}

// Pow(x, 2), ReduceMean, Add eps, Sqrt, then the inverse `tail` and a Mul by gamma.
std::string rmsnorm(GraphBuilder& g, const std::string& x, bool reciprocal) {
  std::string sq = g.op("Pow", {x, g.scalar(2.0f)}, "rms.pow");
  g.op("ReduceMean", {sq});
  g.attr("axes", {-1});
  std::string ms = g.proto().graph().node(g.proto().graph().node_size() - 1).output(0);
  std::string s = g.op("Sqrt", {g.op("Add", {ms, g.scalar(1e-6f)})});
  std::string y = reciprocal ? g.op("Mul", {x, g.op("Reciprocal", {s})}) : g.op("Div", {x, s});
  return g.op("Mul", {y, g.input("gamma", {4096})});
}

TEST(ExtractRows, DecomposedRmsNormWithReciprocalIsRmsnorm) {
  GraphBuilder g;
  g.output(rmsnorm(g, g.input("x", {1, 128, 4096}), true));
  auto e = g.extract();
  EXPECT_EQ(task_lines(e), Lines{"rmsnorm:M=128,N=4096,eps=1e-06,dtype=f32 x1"});
  EXPECT_TRUE(e.not_tuned.empty());
}

TEST(ExtractRows, DecomposedRmsNormDividingByTheRootIsRmsnorm) {
  GraphBuilder g;
  g.output(rmsnorm(g, g.input("x", {16, 4096}), false));
  EXPECT_EQ(task_lines(g.extract()), Lines{"rmsnorm:M=16,N=4096,eps=1e-06,dtype=f32 x1"});
}

TEST(ExtractTasks, LayersWithTheSameWorkloadAreOneTaskNamedAfterTheFirst) {
  GraphBuilder g;
  std::string x = g.input("x", {8, 64});
  std::string a = linear(g, x, 64, 64, "layer0", true);
  std::string b = linear(g, g.op("Relu", {a}), 64, 64, "layer1", true);
  std::string c = linear(g, g.op("Relu", {b}), 64, 32, "head", false);
  g.output(c);
  auto e = g.extract();
  EXPECT_EQ(task_lines(e), (Lines{"matmul:M=8,N=64,K=64,dtype=f32,epilogue=bias+relu x2",
                                  "matmul:M=8,N=32,K=64,dtype=f32 x1"}));
  EXPECT_EQ(e.tasks[0].name, "layer0");
  EXPECT_EQ(e.tasks[0].layers, (std::vector<std::string>{"layer0", "layer1"}));
}

TEST(ExtractTasks, AnUnsupportedOperatorIsListedWithItsCount) {
  GraphBuilder g;
  std::string x = g.input("x", {1, 8, 16, 16});
  std::string p = g.op("MaxPool", {x});
  g.attr("kernel_shape", {2, 2});
  std::string q = g.op("MaxPool", {p});
  g.attr("kernel_shape", {2, 2});
  g.output(q);
  auto e = g.extract();
  EXPECT_TRUE(e.tasks.empty());
  EXPECT_EQ(not_tuned_lines(e), Lines{"MaxPool x2: no operator for it in the library"});
}

TEST(ExtractTasks, AnOperatorOfAnotherDomainIsListedUnderItsDomain) {
  GraphBuilder g;
  std::string y = g.domain_op("com.example", "FancyOp", {g.input("x", {4, 4})});
  g.output(y);
  EXPECT_EQ(not_tuned_lines(g.extract()), Lines{"com.example.FancyOp x1: operator of another domain"});
}

TEST(ExtractTasks, DoubleTensorsGiveF64AndHalfTensorsAreNotTuned) {
  GraphBuilder g;
  std::string a = g.input("a", {4, 8}, onnx::TensorProto::DOUBLE);
  g.output(g.op("MatMul", {a, g.input("b", {8, 2}, onnx::TensorProto::DOUBLE)}, "f64"),
           onnx::TensorProto::DOUBLE);
  std::string h = g.input("h", {4, 8}, onnx::TensorProto::FLOAT16);
  g.output(g.op("MatMul", {h, g.input("w", {8, 2}, onnx::TensorProto::FLOAT16)}, "f16"),
           onnx::TensorProto::FLOAT16);
  auto e = g.extract();
  EXPECT_EQ(task_lines(e), Lines{"matmul:M=4,N=2,K=8,dtype=f64 x1"});
  EXPECT_EQ(not_tuned_lines(e),
            Lines{"MatMul x1: element type FLOAT16 (the operators take float and double)"});
}

TEST(ExtractTasks, SymbolicDimensionsTakeTheirBoundValues) {
  GraphBuilder g;
  g.output(linear(g, g.input("x", {"batch", "seq", 64}), 64, 16, "fc", false));
  auto e = g.extract({{"batch", 2}, {"seq", 128}, {"unused", 9}});
  EXPECT_EQ(task_lines(e), Lines{"matmul:M=256,N=16,K=64,dtype=f32 x1"});
  EXPECT_EQ(e.bound, (rctune::model::DimBindings{{"batch", 2}, {"seq", 128}}));
}

TEST(ExtractTasks, ANodeWithTooFewInputsIsListedNotMatched) {
  GraphBuilder g;
  std::string x = g.input("x", {4, 8});
  std::string sq = g.op("Pow", {x, g.scalar(2.0f)});
  g.op("ReduceMean", {sq});
  g.attr("axes", {-1});
  std::string ms = g.proto().graph().node(g.proto().graph().node_size() - 1).output(0);
  std::string s = g.op("Sqrt", {g.op("Add", {ms, g.scalar(1e-6f)})});
  g.output(g.op("Div", {s}));  // a Div with one operand
  auto e = g.extract();
  EXPECT_TRUE(e.tasks.empty());
  EXPECT_EQ(e.not_tuned.size(), 5u);
}
