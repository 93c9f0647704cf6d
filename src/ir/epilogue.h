// Fused elementwise epilogues of the library operators (internal to the ir module): the `epilogue`
// parameter of matmul, batch_matmul and the convolutions, e.g. "bias+add+relu". The chain is applied
// left to right to the operator's result, in one elementwise stage after the reduction stage, as
// TVM's operator fusion turns "conv2d -> add -> relu" into one kernel. docs/workloads.md lists the ops.
#pragma once

#include <string>
#include <vector>

namespace rctune::ir::detail {

enum class EpilogueOp { Bias, Add, Mul, Relu, Relu6, Gelu, GeluTanh, Sigmoid, Silu };

// "bias, add, mul, relu, relu6, gelu, gelu_tanh, sigmoid, silu".
std::string epilogue_op_names();

// Parses "none" (no ops) or "op+op+...". Throws OperatorSpecError naming `spec`, the bad op and the
// valid ops for an unknown op, an empty op or chain, or "none" mixed with ops.
std::vector<EpilogueOp> parse_epilogue(const std::string& text, const std::string& spec);

// The canonical text: the op names joined by '+', "none" for an empty chain.
std::string epilogue_text(const std::vector<EpilogueOp>& ops);

// One input tensor of an epilogue: bias (the channel's extent) or a residual / gate (the output's shape).
struct EpilogueInput {
  std::string name;  // "bias", "bias1", ..., "res0", "res1", ..., "gate0", "gate1", ...
  bool per_channel;  // bias: indexed by the channel alone
};
std::vector<EpilogueInput> epilogue_inputs(const std::vector<EpilogueOp>& ops);

// The right-hand side of the elementwise stage: the chain applied to `result` (a read of the
// reduction's output, e.g. "AB[i, j]"), reading bias[channel] and res0[index]/gate0[index].
std::string epilogue_expression(const std::vector<EpilogueOp>& ops, const std::string& result,
                                const std::string& index, const std::string& channel);

}  // namespace rctune::ir::detail
