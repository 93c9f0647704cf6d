// Task outcomes and the epilogue chain that follows a matmul or a convolution.
#include <algorithm>

#include "model/patterns.h"
#include "rctune/ir/operators.h"
#include "rctune/ir/text.h"

namespace rctune::model::detail {

Outcome not_tuned(std::string reason) {
  Outcome o;
  o.reason = std::move(reason);
  return o;
}

Outcome task_outcome(const std::string& op, const Params& params, const std::string& dtype, int node,
                     const std::vector<EpilogueStep>& steps) {
  std::string base = op + ":";
  for (const auto& [name, value] : params) base += name + "=" + value + ",";
  base += "dtype=" + dtype;
  // The leading steps without nodes are the anchor's own inputs (a Conv's or Gemm's bias): kept.
  size_t fixed = 0;
  while (fixed < steps.size() && steps[fixed].nodes.empty()) ++fixed;
  std::string reason;
  for (size_t kept = steps.size();; --kept) {
    std::vector<std::string> ops;
    for (size_t i = 0; i < kept; ++i) ops.push_back(steps[i].op);
    try {
      Outcome o;
      o.workload = ir::canonical_operator_spec(ops.empty() ? base : base + ",epilogue=" + ir::join(ops, "+"));
      o.tuned = true;
      o.nodes = {node};
      for (size_t i = 0; i < kept; ++i)
        o.nodes.insert(o.nodes.end(), steps[i].nodes.begin(), steps[i].nodes.end());
      if (kept < steps.size())
        o.notes.push_back("epilogue cut after " + std::to_string(kept) + " ops: " + reason);
      return o;
    } catch (const ir::OperatorSpecError& e) {
      reason = e.what();
    }
    if (kept == fixed) return not_tuned(reason);
  }
}

std::string operator_dtype(const GraphIndex& g, const std::string& value, std::string* reason) {
  std::string d = g.dtype(value);
  if (d.empty())
    *reason = "element type " + g.elem_type_name(value) + " (the operators take float and double)";
  return d;
}

void fuse_epilogue(const GraphIndex& g, std::string value, const EpilogueShapes& shapes,
                   std::vector<EpilogueStep>& steps) {
  constexpr size_t kMaxOps = 16;  // the operator library's longest chain
  while (steps.size() < kMaxOps) {
    int c = g.single_consumer(value);
    if (c >= 0) {
      const auto& n = g.node(c);
      bool add = n.op_type() == "Add", mul = n.op_type() == "Mul";
      if (n.domain().empty() && (add || mul) && n.input_size() == 2 && n.output_size() == 1 &&
          n.input(0) != n.input(1)) {
        const std::string& other = n.input(0) == value ? n.input(1) : n.input(0);
        auto os = g.shape(other), rs = g.shape(n.output(0));
        if (os && rs && *rs == shapes.output) {
          std::string op;
          if (add && g.is_constant_like(other) &&
              std::find(shapes.bias_shapes.begin(), shapes.bias_shapes.end(), *os) !=
                  shapes.bias_shapes.end())
            op = "bias";
          else if (*os == shapes.output)
            op = add ? "add" : "mul";
          if (!op.empty()) {
            steps.push_back({op, {c}});
            value = n.output(0);
            continue;
          }
        }
      }
    }
    // ONNX Runtime's fused Gelu nodes (com.microsoft): Gelu is the erf form, FastGelu the tanh form.
    if (c >= 0) {
      const auto& n = g.node(c);
      if (n.domain() == "com.microsoft" && (n.op_type() == "Gelu" || n.op_type() == "FastGelu") &&
          n.input_size() == 1 && n.output_size() == 1) {
        steps.push_back({n.op_type() == "Gelu" ? "gelu" : "gelu_tanh", {c}});
        value = n.output(0);
        continue;
      }
    }
    auto a = match_activation(g, value);
    if (!a) break;
    steps.push_back({a->name, a->nodes});
    value = a->output;
  }
}

}  // namespace rctune::model::detail
