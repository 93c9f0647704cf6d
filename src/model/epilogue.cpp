// Task outcomes and the epilogue chain that follows a matmul or a convolution.
#include <algorithm>

#include "model/patterns.h"
#include "rctune/ir/operators.h"

namespace rctune::model::detail {

Outcome not_tuned(std::string reason) {
  Outcome o;
  o.reason = std::move(reason);
  return o;
}

Outcome task_outcome(const std::string& op, const Params& params, const std::string& dtype,
                     const std::vector<std::string>& epilogue, std::vector<int> nodes) {
  std::string spec = op + ":";
  for (const auto& [name, value] : params) spec += name + "=" + value + ",";
  spec += "dtype=" + dtype;
  Outcome o;
  try {
    o.workload = ir::canonical_operator_spec(spec);
  } catch (const ir::OperatorSpecError& e) {
    return not_tuned(e.what());
  }
  if (!epilogue.empty()) {
    o.workload += ",epilogue=";
    for (size_t i = 0; i < epilogue.size(); ++i) o.workload += (i ? "+" : "") + epilogue[i];
  }
  o.tuned = true;
  o.nodes = std::move(nodes);
  return o;
}

std::string operator_dtype(const GraphIndex& g, const std::string& value, std::string* reason) {
  std::string d = g.dtype(value);
  if (d.empty())
    *reason = "element type " + g.elem_type_name(value) + " (the operators take float and double)";
  return d;
}

void fuse_epilogue(const GraphIndex& g, std::string value, const EpilogueShapes& shapes,
                   std::vector<std::string>& ops, std::vector<int>& nodes) {
  constexpr size_t kMaxOps = 8;
  while (ops.size() < kMaxOps) {
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
            ops.push_back(op);
            nodes.push_back(c);
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
        ops.push_back(n.op_type() == "Gelu" ? "gelu" : "gelu_tanh");
        nodes.push_back(c);
        value = n.output(0);
        continue;
      }
    }
    auto a = match_activation(g, value);
    if (!a) break;
    ops.push_back(a->name);
    nodes.insert(nodes.end(), a->nodes.begin(), a->nodes.end());
    value = a->output;
  }
}

}  // namespace rctune::model::detail
