// Loading a model: each way a file can be wrong gets one clear error naming the cause.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "model/graph_builder.h"

using rctune::model::ModelError;
using rctune::testing::GraphBuilder;

namespace {

// The message of the ModelError that `f` throws ("" when it throws none).
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

GraphBuilder relu_graph(std::vector<rctune::testing::Dim> shape) {
  GraphBuilder g;
  g.output(g.op("Relu", {g.input("x", std::move(shape))}));
  return g;
}

}  // namespace

TEST(LoadModel, AMissingFileIsNamedAsUnreadable) {
  std::string msg = error_of([] { rctune::model::load_model("/nonexistent/model.onnx", {}); });
  EXPECT_TRUE(has(msg, "cannot read the model '/nonexistent/model.onnx'")) << msg;
}

TEST(LoadModel, ADirectoryIsNotReadAsAModel) {
  std::string msg =
      error_of([] { rctune::model::load_model(std::filesystem::temp_directory_path().string(), {}); });
  EXPECT_TRUE(has(msg, "not a regular file")) << msg;
}

TEST(LoadModel, BytesThatAreNotAProtobufAreNotAnOnnxModel) {
  std::string msg = error_of([] { rctune::model::prepare_model("\xff\xff\xff garbage", "bad.onnx", {}); });
  EXPECT_TRUE(has(msg, "'bad.onnx' is not an ONNX model")) << msg;
}

TEST(LoadModel, ATruncatedModelIsNotAnOnnxModel) {
  std::string bytes = relu_graph({4, 4}).bytes();
  std::string msg =
      error_of([&] { rctune::model::prepare_model(bytes.substr(0, bytes.size() / 2), "cut.onnx", {}); });
  EXPECT_TRUE(has(msg, "'cut.onnx' is not an ONNX model")) << msg;
}

TEST(LoadModel, AnEmptyFileIsNamedEmpty) {
  std::string msg = error_of([] { rctune::model::prepare_model("", "empty.onnx", {}); });
  EXPECT_TRUE(has(msg, "is empty")) << msg;
}

TEST(LoadModel, AnUnboundSymbolicDimensionNamesTheDimensionAndTheInput) {
  auto g = relu_graph({"batch", 16});
  std::string msg = error_of([&] { g.load(); });
  EXPECT_TRUE(has(msg, "dimension 0 of input 'x' is the symbolic dimension 'batch'")) << msg;
  EXPECT_TRUE(has(msg, "--dim batch=N")) << msg;
}

TEST(LoadModel, ANegativeDimensionIsRefused) {
  auto g = relu_graph({4, 4});
  g.proto()
      .mutable_graph()
      ->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(1)
      ->set_dim_value(-3);
  std::string msg = error_of([&] { g.load(); });
  EXPECT_TRUE(has(msg, "dimension 1 of input 'x' is negative")) << msg;
}

TEST(LoadModel, AHugeBoundDimensionIsRefused) {
  auto g = relu_graph({"batch", 4});
  std::string msg = error_of([&] { g.load({{"batch", int64_t{1} << 40}}); });
  EXPECT_TRUE(has(msg, "more than the 16777216")) << msg;
}

TEST(LoadModel, AGraphWithACycleIsRefused) {
  GraphBuilder g;
  std::string x = g.input("x", {4});
  g.op("Add", {x, "second_out"}, "first");
  g.op("Relu", {"first_out"}, "second");
  std::string msg = error_of([&] { g.load(); });
  EXPECT_TRUE(has(msg, "reads 'second_out'")) << msg;
  EXPECT_TRUE(has(msg, "cycle")) << msg;
}

TEST(LoadModel, AGraphWithMoreNodesThanTheLimitIsRefused) {
  GraphBuilder g;
  std::string v = g.input("x", {4});
  for (int i = 0; i < 11; ++i) v = g.op("Relu", {v});
  rctune::model::ModelLimits limits;
  limits.max_nodes = 10;
  std::string msg = error_of([&] { g.load({}, limits); });
  EXPECT_TRUE(has(msg, "has 11 nodes, more than the 10")) << msg;
}

TEST(LoadModel, AnOpsetNewerThanTheLibraryIsRefused) {
  GraphBuilder g(99);
  g.output(g.op("Relu", {g.input("x", {4})}));
  std::string msg = error_of([&] { g.load(); });
  EXPECT_TRUE(has(msg, "uses opset 99")) << msg;
}

TEST(LoadModel, ShapeInferenceGivesIntermediateShapes) {
  GraphBuilder g;
  g.output(g.op("MatMul", {g.input("a", {"batch", 8}), g.input("b", {8, 3})}, "mm"));
  auto m = g.load({{"batch", 5}});
  bool found = false;
  for (const auto& v : m.proto.graph().output())
    if (v.name() == "mm_out") {
      const auto& s = v.type().tensor_type().shape();
      ASSERT_EQ(s.dim_size(), 2);
      EXPECT_EQ(s.dim(0).dim_value(), 5);
      EXPECT_EQ(s.dim(1).dim_value(), 3);
      found = true;
    }
  EXPECT_TRUE(found);
}
