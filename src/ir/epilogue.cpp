#include "ir/epilogue.h"

#include "rctune/ir/check.h"
#include "rctune/ir/operators.h"
#include "rctune/ir/text.h"

namespace rctune::ir::detail {

namespace {

struct OpName {
  EpilogueOp op;
  const char* name;
};

constexpr OpName kOps[] = {
    {EpilogueOp::Bias, "bias"},          {EpilogueOp::Add, "add"},         {EpilogueOp::Mul, "mul"},
    {EpilogueOp::Relu, "relu"},          {EpilogueOp::Relu6, "relu6"},     {EpilogueOp::Gelu, "gelu"},
    {EpilogueOp::GeluTanh, "gelu_tanh"}, {EpilogueOp::Sigmoid, "sigmoid"}, {EpilogueOp::Silu, "silu"},
};

const char* name_of(EpilogueOp op) {
  for (const auto& o : kOps)
    if (o.op == op) return o.name;
  RCTUNE_CHECK(!"every epilogue op has a name");
  return "";
}

// silu and gelu_tanh read their operand more than once, so a chain's expression grows with their
// product; both limits keep the generated stage small (real models chain two or three ops).
constexpr size_t kMaxOps = 16;
constexpr int kMaxCopies = 64;

int copies(EpilogueOp op) { return op == EpilogueOp::Silu ? 2 : op == EpilogueOp::GeluTanh ? 4 : 1; }

// An expression's text and how loosely it binds: a sum, a product, or an atom (read or call).
enum Level { Sum, Product, Atom };
struct Term {
  std::string s;
  Level level;
};

// `t` as an operand of '*'.
std::string factor(const Term& t) { return t.level < Product ? "(" + t.s + ")" : t.s; }

}  // namespace

std::string epilogue_op_names() {
  std::vector<std::string> names;
  for (const auto& o : kOps) names.push_back(o.name);
  return join(names);
}

std::vector<EpilogueOp> parse_epilogue(const std::string& text, const std::string& spec) {
  auto bad = [&](const std::string& why) {
    return OperatorSpecError("workload spec '" + spec + "': epilogue '" + text + "': " + why +
                             " (valid ops, joined by '+': " + epilogue_op_names() + "; or none)");
  };
  if (text == "none") return {};
  std::vector<EpilogueOp> ops;
  int total = 1;
  size_t start = 0;
  while (true) {
    size_t plus = text.find('+', start);
    std::string item =
        trim(text.substr(start, plus == std::string::npos ? std::string::npos : plus - start), " \t");
    if (item.empty()) throw bad("empty op");
    if (item == "none") throw bad("'none' cannot be combined with other ops");
    const OpName* found = nullptr;
    for (const auto& o : kOps)
      if (item == o.name) found = &o;
    if (!found) throw bad("unknown op '" + item + "'");
    ops.push_back(found->op);
    if (ops.size() > kMaxOps) throw bad("more than " + std::to_string(kMaxOps) + " ops");
    total *= copies(found->op);
    if (total > kMaxCopies)
      throw bad("the fused expression repeats the result " + std::to_string(total) +
                " times (silu uses its operand twice, gelu_tanh four times); at most " +
                std::to_string(kMaxCopies));
    if (plus == std::string::npos) break;
    start = plus + 1;
  }
  return ops;
}

std::string epilogue_text(const std::vector<EpilogueOp>& ops) {
  if (ops.empty()) return "none";
  std::vector<std::string> names;
  for (EpilogueOp op : ops) names.push_back(name_of(op));
  return join(names, "+");
}

std::vector<EpilogueInput> epilogue_inputs(const std::vector<EpilogueOp>& ops) {
  std::vector<EpilogueInput> in;
  int biases = 0, residuals = 0, gates = 0;
  for (EpilogueOp op : ops) {
    if (op == EpilogueOp::Bias) {
      in.push_back({biases == 0 ? "bias" : "bias" + std::to_string(biases), true});
      ++biases;
    } else if (op == EpilogueOp::Add) {
      in.push_back({"res" + std::to_string(residuals++), false});
    } else if (op == EpilogueOp::Mul) {
      in.push_back({"gate" + std::to_string(gates++), false});
    }
  }
  return in;
}

std::string epilogue_expression(const std::vector<EpilogueOp>& ops, const std::string& result,
                                const std::string& index, const std::string& channel) {
  std::vector<EpilogueInput> inputs = epilogue_inputs(ops);
  size_t next_input = 0;
  auto read = [&](bool per_channel) {
    const EpilogueInput& in = inputs.at(next_input++);
    RCTUNE_CHECK(in.per_channel == per_channel);  // the inputs are listed in the order of the ops
    return in.name + "[" + (per_channel ? channel : index) + "]";
  };
  Term x{result, Atom};
  for (EpilogueOp op : ops) {
    switch (op) {
      case EpilogueOp::Bias:
        x = {x.s + " + " + read(true), Sum};
        break;
      case EpilogueOp::Add:
        x = {x.s + " + " + read(false), Sum};
        break;
      case EpilogueOp::Mul:
        x = {factor(x) + " * " + read(false), Product};
        break;
      case EpilogueOp::Relu:
        x = {"relu(" + x.s + ")", Atom};
        break;
      case EpilogueOp::Relu6:
        x = {"min(max(" + x.s + ", 0.0), 6.0)", Atom};
        break;
      case EpilogueOp::Gelu:
        x = {"gelu(" + x.s + ")", Atom};
        break;
      case EpilogueOp::GeluTanh: {
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), with sqrt(2/pi) multiplied in.
        std::string f = factor(x);
        x = {"0.5 * " + f + " * (1.0 + tanh(" + f + " * (0.7978845608028654 + 0.035677408136300125 * " + f +
                 " * " + f + ")))",
             Product};
        break;
      }
      case EpilogueOp::Sigmoid:
        x = {"sigmoid(" + x.s + ")", Atom};
        break;
      case EpilogueOp::Silu:
        x = {factor(x) + " * sigmoid(" + x.s + ")", Product};
        break;
    }
  }
  return x.s;
}

}  // namespace rctune::ir::detail
