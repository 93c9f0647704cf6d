#include "rctune/model/onnx_graph.h"

#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unordered_set>

namespace rctune::model {

namespace {

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
    if (out.size() > 120) return out + "...'";
  }
  return out + "'";
}

std::string read_model_bytes(const std::string& path, const ModelLimits& limits) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    throw ModelError("cannot read the model " + quoted(path) + ": " +
                     (ec ? ec.message() : std::string("no such file")));
  if (!fs::is_regular_file(st))
    throw ModelError("cannot read the model " + quoted(path) + ": not a regular file");
  auto size = fs::file_size(path, ec);
  if (ec) throw ModelError("cannot read the model " + quoted(path) + ": " + ec.message());
  if (static_cast<int64_t>(size) > limits.max_file_bytes)
    throw ModelError("the model " + quoted(path) + " has " + std::to_string(size) + " bytes, more than the " +
                     std::to_string(limits.max_file_bytes) + " an ONNX protobuf may hold");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError("cannot read the model " + quoted(path) + ": " + std::strerror(errno));
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (in.gcount() != static_cast<std::streamsize>(size))
    throw ModelError("cannot read the model " + quoted(path) + ": short read");
  return bytes;
}

int64_t default_opset(const onnx::ModelProto& m, const std::string& source) {
  int64_t opset = -1;
  for (const auto& imp : m.opset_import())
    if (imp.domain().empty() || imp.domain() == "ai.onnx") opset = imp.version();
  if (opset < 0) throw ModelError(quoted(source) + " imports no opset of the default ONNX domain");
  if (opset < 7 || opset > max_known_opset())
    throw ModelError(quoted(source) + " uses opset " + std::to_string(opset) +
                     " of the ONNX domain; rctune extract reads opsets 7 to " +
                     std::to_string(max_known_opset()));
  return opset;
}

// ONNX graphs are topologically sorted and in SSA form: every input is a graph input, an
// initializer or the output of an earlier node, and no value is produced twice.
void check_order(const onnx::GraphProto& g, const std::string& source, const ModelLimits& limits) {
  if (g.node_size() > limits.max_nodes)
    throw ModelError(quoted(source) + " has " + std::to_string(g.node_size()) + " nodes, more than the " +
                     std::to_string(limits.max_nodes) + " rctune extract reads");
  std::unordered_set<std::string> defined;
  for (const auto& v : g.input()) defined.insert(v.name());
  for (const auto& t : g.initializer()) defined.insert(t.name());
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    for (const auto& in : n.input())
      if (!in.empty() && !defined.count(in))
        throw ModelError(
            quoted(source) + ": node " + std::to_string(i) + " " + quoted(n.name()) + " (" + n.op_type() +
            ") reads " + quoted(in) +
            ", which no earlier node, input or initializer produces: the graph has a cycle, is not "
            "in topological order or is incomplete");
    for (const auto& out : n.output())
      if (!out.empty() && !defined.insert(out).second)
        throw ModelError(quoted(source) + ": node " + std::to_string(i) + " " + quoted(n.name()) +
                         " writes " + quoted(out) + ", which is already defined");
  }
}

void check_dim(int64_t v, const std::string& what, const std::string& source, const ModelLimits& limits) {
  if (v < 0) throw ModelError(quoted(source) + ": " + what + " is negative (" + std::to_string(v) + ")");
  if (v > limits.max_dim)
    throw ModelError(quoted(source) + ": " + what + " is " + std::to_string(v) + ", more than the " +
                     std::to_string(limits.max_dim) + " rctune extract takes");
}

std::string axis_of(const std::string& input, int axis) {
  return "dimension " + std::to_string(axis) + " of input " + quoted(input);
}

// Replaces the symbolic dimensions of the graph's inputs by their bound values; the shapes of
// outputs and intermediate values are inferred again from those.
DimBindings bind_dims(onnx::GraphProto& g, const DimBindings& dims, const std::string& source,
                      const ModelLimits& limits) {
  std::unordered_set<std::string> initializers;
  for (const auto& t : g.initializer()) initializers.insert(t.name());
  DimBindings used;
  for (auto& v : *g.mutable_input()) {
    if (initializers.count(v.name())) continue;  // an initializer's input entry: its data has the shape
    if (!v.type().has_tensor_type()) continue;
    auto* tt = v.mutable_type()->mutable_tensor_type();
    if (!tt->has_shape()) continue;
    auto* shape = tt->mutable_shape();
    for (int a = 0; a < shape->dim_size(); ++a) {
      auto* d = shape->mutable_dim(a);
      if (d->has_dim_value()) {
        check_dim(d->dim_value(), axis_of(v.name(), a), source, limits);
      } else if (d->has_dim_param() && !d->dim_param().empty()) {
        auto it = dims.find(d->dim_param());
        if (it == dims.end())
          throw ModelError(quoted(source) + ": " + axis_of(v.name(), a) + " is the symbolic dimension " +
                           quoted(d->dim_param()) + ", which has no value: pass --dim " + d->dim_param() +
                           "=N (or --batch N / --seq N for the common names, docs/models.md)");
        check_dim(it->second, "the value of " + quoted(it->first), source, limits);
        used[it->first] = it->second;
        d->set_dim_value(it->second);
      } else {
        throw ModelError(quoted(source) + ": " + axis_of(v.name(), a) +
                         " has neither a size nor a name; rctune extract needs static shapes");
      }
    }
  }
  g.clear_value_info();
  for (auto& v : *g.mutable_output()) {
    if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) continue;
    for (auto& d : *v.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim()) {
      if (!d.has_dim_param()) continue;
      auto it = dims.find(d.dim_param());
      if (it != dims.end())
        d.set_dim_value(it->second);
      else
        d.clear_dim_param();
    }
  }
  return used;
}

void check_inferred_dims(const onnx::GraphProto& g, const std::string& source, const ModelLimits& limits) {
  auto check = [&](const onnx::ValueInfoProto& v) {
    if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) return;
    const auto& s = v.type().tensor_type().shape();
    for (int a = 0; a < s.dim_size(); ++a)
      if (s.dim(a).has_dim_value())
        check_dim(s.dim(a).dim_value(), "dimension " + std::to_string(a) + " of " + quoted(v.name()), source,
                  limits);
  };
  for (const auto& v : g.value_info()) check(v);
  for (const auto& v : g.output()) check(v);
  for (const auto& t : g.initializer())
    for (int a = 0; a < t.dims_size(); ++a)
      check_dim(t.dims(a), "dimension " + std::to_string(a) + " of initializer " + quoted(t.name()), source,
                limits);
}

}  // namespace

const std::vector<std::string>& batch_dim_names() {
  static const std::vector<std::string> names = {"batch", "batch_size", "batchsize", "bs", "N", "B"};
  return names;
}

const std::vector<std::string>& sequence_dim_names() {
  static const std::vector<std::string> names = {
      "seq",          "seq_len", "seqlen",     "seq_length", "sequence", "sequence_length",
      "sequence_len", "tokens",  "num_tokens", "S",          "L",        "T"};
  return names;
}

int64_t max_known_opset() {
  const auto& map = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto it = map.find(onnx::ONNX_DOMAIN);
  return it == map.end() ? 0 : it->second.second;
}

LoadedModel prepare_model(const std::string& bytes, const std::string& source, const DimBindings& dims,
                          const ModelLimits& limits) {
  LoadedModel m;
  m.source = source;
  if (bytes.empty()) throw ModelError(quoted(source) + " is empty, not an ONNX model");
  if (static_cast<int64_t>(bytes.size()) > limits.max_file_bytes)
    throw ModelError(quoted(source) + " is larger than an ONNX protobuf may be");
  if (!m.proto.ParseFromString(bytes))
    throw ModelError(quoted(source) +
                     " is not an ONNX model: the protobuf does not parse (malformed or another format)");
  if (!m.proto.has_graph() || m.proto.graph().node_size() == 0 || m.proto.ir_version() <= 0)
    throw ModelError(quoted(source) + " is not an ONNX model: it has no IR version or no graph nodes");
  m.opset = default_opset(m.proto, source);
  auto* g = m.proto.mutable_graph();
  check_order(*g, source, limits);
  m.bound = bind_dims(*g, dims, source, limits);
  try {
    onnx::ShapeInferenceOptions options(/*check_type=*/false, /*error_mode=*/0, /*data_prop=*/true);
    onnx::shape_inference::InferShapes(m.proto, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    throw ModelError(quoted(source) + ": ONNX shape inference failed: " + e.what());
  }
  check_inferred_dims(m.proto.graph(), source, limits);
  return m;
}

LoadedModel load_model(const std::string& path, const DimBindings& dims, const ModelLimits& limits) {
  return prepare_model(read_model_bytes(path, limits), path, dims, limits);
}

}  // namespace rctune::model
