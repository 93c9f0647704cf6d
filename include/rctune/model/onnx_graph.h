// Loading an ONNX model for `rctune extract`: read the file, parse the protobuf, check its size and
// order, bind the symbolic dimensions of its inputs, run ONNX's shape inference. Every failure a
// user can cause is a ModelError whose message names the file and the cause.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace rctune::model {

class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Limits on what a model file may hold; the defaults admit every published model.
struct ModelLimits {
  int64_t max_file_bytes = int64_t{2} << 30;  // protobuf's own limit
  int64_t max_nodes = 1'000'000;              // nodes of the main graph
  int64_t max_dim = int64_t{1} << 24;         // any one tensor dimension, bound or stored
};

// Values for symbolic dimensions, by name (--dim NAME=VALUE, --batch, --seq).
using DimBindings = std::map<std::string, int64_t>;

// The symbolic dimension names that `rctune extract --batch N` and `--seq N` bind
// (docs/models.md lists them).
const std::vector<std::string>& batch_dim_names();
const std::vector<std::string>& sequence_dim_names();

struct LoadedModel {
  onnx::ModelProto proto;  // with bound dimensions and inferred shapes
  std::string source;      // the file's path, for messages
  int64_t opset = 0;       // of the default ONNX domain
  DimBindings bound;       // the bindings the graph's inputs used
};

// The highest opset of the default domain this build's ONNX library knows.
int64_t max_known_opset();

// Reads and prepares `path`. Throws ModelError: unreadable file, not an ONNX model (protobuf does
// not parse, or no graph), unsupported opset, a node reading a value no earlier node produces (a
// cycle or unsorted graph), too many nodes, a negative or too large dimension, a symbolic input
// dimension without a binding (naming the dimension and the input).
LoadedModel load_model(const std::string& path, const DimBindings& dims, const ModelLimits& limits = {});
// The same for bytes already in memory; `source` names them in messages.
LoadedModel prepare_model(const std::string& bytes, const std::string& source, const DimBindings& dims,
                          const ModelLimits& limits = {});

}  // namespace rctune::model
