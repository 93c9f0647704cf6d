// The pattern matchers of `rctune extract` (docs/models.md lists what each recognises). Each looks
// at one node of the graph: when the node starts a pattern it returns the outcome, a task (the
// canonical workload and the nodes it covers) or the reason the node is not tuned; when the node
// starts no pattern it returns nullopt.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/graph_index.h"

namespace rctune::model::detail {

struct Outcome {
  bool tuned = false;
  std::string workload;            // canonical spec (tuned)
  std::string reason;              // why not (not tuned)
  std::vector<int> nodes;          // the nodes the task covers, the anchor first (tuned)
  std::vector<std::string> notes;  // how the graph maps onto the workload
};

Outcome not_tuned(std::string reason);

// One op of an epilogue chain and the nodes it covers (none for the anchor's own bias input).
struct EpilogueStep {
  std::string op;  // bias, add, mul, relu, relu6, gelu, gelu_tanh, sigmoid, silu
  std::vector<int> nodes;
};

// The task of the anchor `node`: the canonical spec of op:params with dtype and the epilogue chain.
// A chain the operator library refuses (too long, docs/workloads.md) is cut from its end until it
// is accepted, the cut nodes staying outside the task; a spec refused even without its fusible
// steps (a size out of range) is a not-tuned outcome with the library's reason.
using Params = std::vector<std::pair<std::string, std::string>>;
Outcome task_outcome(const std::string& op, const Params& params, const std::string& dtype, int node,
                     const std::vector<EpilogueStep>& steps);
// A dtype the operators take ("f32", "f64") for the value, or the not-tuned reason in *reason.
std::string operator_dtype(const GraphIndex& g, const std::string& value, std::string* reason);

// What an epilogue may read besides the anchor's result.
struct EpilogueShapes {
  Shape output;                    // the anchor's result: "add" and "mul" read tensors of this shape
  std::vector<Shape> bias_shapes;  // shapes of a per-channel vector for "bias"
};

// Follows the anchor's result `value` through the elementwise operations that fuse into it
// (bias, add, mul, relu, relu6, gelu, gelu_tanh, sigmoid, silu) and appends them to `steps`; stops
// at a value with more than one reader outside a recognised activation.
void fuse_epilogue(const GraphIndex& g, std::string value, const EpilogueShapes& shapes,
                   std::vector<EpilogueStep>& steps);

// A region of scalar elementwise nodes that computes one known activation of `value`: its name and
// the nodes (nullopt when none). Recognises every arrangement of the decomposed forms, since it
// evaluates the region at sample points.
struct Activation {
  std::string name;
  std::string output;
  std::vector<int> nodes;
};
std::optional<Activation> match_activation(const GraphIndex& g, const std::string& value);

// Anchors: MatMul, Gemm, Conv.
std::optional<Outcome> match_matmul(const GraphIndex& g, int node);
std::optional<Outcome> match_gemm(const GraphIndex& g, int node);
std::optional<Outcome> match_conv(const GraphIndex& g, int node);
// Row operators: Softmax, LayerNormalization, and the decomposed LayerNorm (from its first
// ReduceMean) and RMSNorm (from its Pow or Mul x*x).
std::optional<Outcome> match_softmax(const GraphIndex& g, int node, int64_t opset);
std::optional<Outcome> match_layernorm_op(const GraphIndex& g, int node);
std::optional<Outcome> match_decomposed_layernorm(const GraphIndex& g, int node);
std::optional<Outcome> match_decomposed_rmsnorm(const GraphIndex& g, int node);

}  // namespace rctune::model::detail
