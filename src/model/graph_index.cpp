#include "model/graph_index.h"

#include <cstring>

#include "rctune/model/extract.h"

namespace rctune::model::detail {

namespace {

const std::vector<int> kNone;

// The single element of a tensor, from its typed field or its little-endian raw bytes.
std::optional<double> single_element(const onnx::TensorProto& t) {
  int64_t n = 1;
  for (int64_t d : t.dims()) n *= d;
  if (n != 1 || t.data_location() == onnx::TensorProto::EXTERNAL) return std::nullopt;
  const std::string& raw = t.raw_data();
  auto from_raw = [&](auto zero) -> std::optional<double> {
    if (raw.size() != sizeof(zero)) return std::nullopt;
    std::memcpy(&zero, raw.data(), sizeof(zero));
    return static_cast<double>(zero);
  };
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (t.float_data_size() == 1) return t.float_data(0);
      return from_raw(float{});
    case onnx::TensorProto::DOUBLE:
      if (t.double_data_size() == 1) return t.double_data(0);
      return from_raw(double{});
    case onnx::TensorProto::INT64:
      if (t.int64_data_size() == 1) return static_cast<double>(t.int64_data(0));
      return from_raw(int64_t{});
    case onnx::TensorProto::INT32:
      if (t.int32_data_size() == 1) return t.int32_data(0);
      return from_raw(int32_t{});
    default:
      return std::nullopt;
  }
}

}  // namespace

GraphIndex::GraphIndex(const onnx::GraphProto& g) : g_(g), taken_(g.node_size(), false) {
  for (const auto& v : g.input()) {
    types_[v.name()] = &v.type();
    inputs_.insert(v.name());
  }
  for (const auto& v : g.value_info()) types_[v.name()] = &v.type();
  for (const auto& v : g.output()) {
    types_[v.name()] = &v.type();
    outputs_.insert(v.name());
  }
  for (const auto& t : g.initializer()) initializers_[t.name()] = &t;
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    for (const auto& out : n.output())
      if (!out.empty()) producer_[out] = i;
    for (const auto& in : n.input()) {
      if (in.empty()) continue;
      auto& c = consumers_[in];
      if (c.empty() || c.back() != i) c.push_back(i);
    }
  }
}

std::optional<Shape> GraphIndex::shape(const std::string& value) const {
  if (auto it = initializers_.find(value); it != initializers_.end())
    return Shape(it->second->dims().begin(), it->second->dims().end());
  auto it = types_.find(value);
  if (it == types_.end() || !it->second->has_tensor_type() || !it->second->tensor_type().has_shape())
    return std::nullopt;
  Shape s;
  for (const auto& d : it->second->tensor_type().shape().dim()) {
    if (!d.has_dim_value()) return std::nullopt;
    s.push_back(d.dim_value());
  }
  return s;
}

static int32_t elem_type_of(const std::unordered_map<std::string, const onnx::TypeProto*>& types,
                            const std::unordered_map<std::string, const onnx::TensorProto*>& inits,
                            const std::string& value) {
  if (auto it = inits.find(value); it != inits.end()) return it->second->data_type();
  auto it = types.find(value);
  if (it == types.end() || !it->second->has_tensor_type()) return onnx::TensorProto::UNDEFINED;
  return it->second->tensor_type().elem_type();
}

std::string GraphIndex::dtype(const std::string& value) const {
  switch (elem_type_of(types_, initializers_, value)) {
    case onnx::TensorProto::FLOAT:
      return "f32";
    case onnx::TensorProto::DOUBLE:
      return "f64";
    default:
      return "";
  }
}

std::string GraphIndex::elem_type_name(const std::string& value) const {
  int32_t t = elem_type_of(types_, initializers_, value);
  if (!onnx::TensorProto_DataType_IsValid(t)) return "unknown";
  return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(t));
}

bool GraphIndex::is_constant_like(const std::string& value) const {
  if (initializers_.count(value) || inputs_.count(value)) return true;
  int p = producer(value);
  return p >= 0 && g_.node(p).op_type() == "Constant";
}

std::optional<double> GraphIndex::scalar(const std::string& value) const {
  if (auto it = initializers_.find(value); it != initializers_.end()) return single_element(*it->second);
  int p = producer(value);
  if (p < 0 || g_.node(p).op_type() != "Constant" || !g_.node(p).domain().empty()) return std::nullopt;
  for (const auto& a : g_.node(p).attribute()) {
    if (a.name() == "value" && a.has_t()) return single_element(a.t());
    if (a.name() == "value_float") return a.f();
    if (a.name() == "value_int") return static_cast<double>(a.i());
  }
  return std::nullopt;
}

const std::vector<int>& GraphIndex::consumers(const std::string& value) const {
  auto it = consumers_.find(value);
  return it == consumers_.end() ? kNone : it->second;
}

int GraphIndex::single_consumer(const std::string& value) const {
  const auto& c = consumers(value);
  if (c.size() != 1 || is_graph_output(value) || taken_[c[0]]) return -1;
  return c[0];
}

int GraphIndex::producer(const std::string& value) const {
  auto it = producer_.find(value);
  return it == producer_.end() ? -1 : it->second;
}

std::string GraphIndex::node_label(int node) const {
  const auto& n = g_.node(node);
  if (!n.name().empty()) return safe_name(n.name());
  return safe_name(n.op_type() + "_" + std::to_string(node));
}

int64_t attr_int(const onnx::NodeProto& n, const std::string& name, int64_t def) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.i();
  return def;
}

float attr_float(const onnx::NodeProto& n, const std::string& name, float def) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.f();
  return def;
}

std::vector<int64_t> attr_ints(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return {a.ints().begin(), a.ints().end()};
  return {};
}

std::string attr_string(const onnx::NodeProto& n, const std::string& name, const std::string& def) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.s();
  return def;
}

const std::string& input_at(const onnx::NodeProto& n, int i) {
  static const std::string kEmpty;
  return i < n.input_size() ? n.input(i) : kEmpty;
}

const std::string& output_at(const onnx::NodeProto& n, int i) {
  static const std::string kEmpty;
  return i < n.output_size() ? n.output(i) : kEmpty;
}

int64_t product(const Shape& s, size_t begin, size_t end) {
  // Saturates: each dimension is at most ModelLimits::max_dim (2^24), the product at 2^62.
  constexpr int64_t kCap = int64_t{1} << 62;
  int64_t p = 1;
  for (size_t i = begin; i < end && i < s.size(); ++i) {
    if (s[i] == 0) return 0;
    p = (p > kCap / s[i]) ? kCap : p * s[i];
  }
  return p;
}

}  // namespace rctune::model::detail
