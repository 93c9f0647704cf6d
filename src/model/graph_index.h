// The main graph of a loaded model seen from its values: who produces and who reads each value,
// its static shape and element type when known, constant scalars, and which nodes a task has
// already taken. The pattern matchers (model/patterns.h) read the graph only through this.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <onnx/onnx_pb.h>

namespace rctune::model::detail {

using Shape = std::vector<int64_t>;

class GraphIndex {
 public:
  explicit GraphIndex(const onnx::GraphProto& g);

  const onnx::GraphProto& graph() const { return g_; }
  int size() const { return g_.node_size(); }
  const onnx::NodeProto& node(int i) const { return g_.node(i); }

  // The fully known static shape of a value; nullopt when inference left any dimension unknown.
  std::optional<Shape> shape(const std::string& value) const;
  // "f32", "f64", or "" for another element type (or an unknown one).
  std::string dtype(const std::string& value) const;
  // The ONNX element type name ("FLOAT16"), for reasons.
  std::string elem_type_name(const std::string& value) const;

  // An initializer or an input of the graph: weights and other values fixed before a run.
  bool is_constant_like(const std::string& value) const;
  // The value of a one-element initializer or Constant node output; nullopt when not known here.
  std::optional<double> scalar(const std::string& value) const;

  // The nodes that read the value (each once), and whether the value leaves the graph.
  const std::vector<int>& consumers(const std::string& value) const;
  bool is_graph_output(const std::string& value) const { return outputs_.count(value) > 0; }
  // The one node that reads `value`, when it has exactly one reader, is not a graph output and is
  // not taken; else -1.
  int single_consumer(const std::string& value) const;
  int producer(const std::string& value) const;

  bool taken(int node) const { return taken_[node]; }
  void take(int node) { taken_[node] = true; }

  // The node's name in a safe charset, or "OpType_index" when it has none.
  std::string node_label(int node) const;

 private:
  const onnx::GraphProto& g_;
  std::unordered_map<std::string, const onnx::TypeProto*> types_;
  std::unordered_map<std::string, const onnx::TensorProto*> initializers_;
  std::unordered_set<std::string> inputs_;
  std::unordered_set<std::string> outputs_;
  std::unordered_map<std::string, int> producer_;
  std::unordered_map<std::string, std::vector<int>> consumers_;
  std::vector<bool> taken_;
};

// Attribute helpers: the attribute's value or the default.
int64_t attr_int(const onnx::NodeProto& n, const std::string& name, int64_t def);
float attr_float(const onnx::NodeProto& n, const std::string& name, float def);
std::vector<int64_t> attr_ints(const onnx::NodeProto& n, const std::string& name);
std::string attr_string(const onnx::NodeProto& n, const std::string& name, const std::string& def);

int64_t product(const Shape& s, size_t begin, size_t end);

// The node's input or output `i`, or "" where it has none: the matchers read nodes of any arity.
const std::string& input_at(const onnx::NodeProto& n, int i);
const std::string& output_at(const onnx::NodeProto& n, int i);

}  // namespace rctune::model::detail
