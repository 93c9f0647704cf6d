// The distinct tunable workloads of an ONNX model (docs/models.md): matmuls and convolutions with
// their fused elementwise epilogues, softmax, layer and RMS normalisation (as operators or as the
// decomposed patterns exporters emit). Layers with the same canonical workload are one task whose
// weight counts them; every node that no task covers is listed as not tuned, with a reason.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rctune/model/onnx_graph.h"

namespace rctune::model {

struct ExtractedTask {
  std::string name;                 // the first layer's node name, in a safe charset
  std::string workload;             // canonical operator spec, with ",epilogue=..." when fused
  int64_t weight = 0;               // how many layers share the workload
  std::vector<std::string> layers;  // node names of the anchoring node of each layer (safe charset)
  std::vector<std::string> notes;   // how the graph maps onto the workload (e.g. a transposed weight)
};

struct NotTuned {
  std::string op_type;  // "MaxPool", or "domain.Op" outside the default domain (safe charset)
  int64_t count = 0;
  std::string reason;
};

struct Extraction {
  std::string source;  // the model file
  std::string graph_name;
  int64_t opset = 0;
  DimBindings bound;
  int64_t nodes = 0;
  std::vector<ExtractedTask> tasks;  // in the order of their first layer
  std::vector<NotTuned> not_tuned;   // by first occurrence
};

Extraction extract_tasks(const LoadedModel& model);

// Characters outside [A-Za-z0-9_.:/-] become '_', and the text is cut to 80 characters: names from
// the model reach the YAML and the terminal only in this form.
std::string safe_name(const std::string& text);

}  // namespace rctune::model
