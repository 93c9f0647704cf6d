// Row operators: Softmax, LayerNormalization, and the decomposed LayerNorm and RMSNorm that
// exporters emit below opset 17 (docs/models.md shows the recognised node chains).
#include <cmath>
#include <cstdio>

#include "model/patterns.h"

namespace rctune::model::detail {

namespace {

bool is_op(const onnx::NodeProto& n, const char* op) { return n.domain().empty() && n.op_type() == op; }

// The single reader of `value` when it is the operation `op`; else -1.
int next(const GraphIndex& g, const std::string& value, const char* op) {
  int c = g.single_consumer(value);
  return c >= 0 && is_op(g.node(c), op) ? c : -1;
}

// The input of a binary node that is not `value` ("" when both are).
std::string other_input(const onnx::NodeProto& n, const std::string& value) {
  if (n.input_size() != 2 || input_at(n, 0) == input_at(n, 1)) return "";
  return input_at(n, 0) == value ? input_at(n, 1) : input_at(n, 0);
}

bool scalar_is(const GraphIndex& g, const std::string& v, double want) {
  auto s = g.scalar(v);
  return s && std::fabs(*s - want) <= 1e-6 * std::fabs(want);
}

// ReduceMean over the last axis of a tensor of rank `rank`, keeping the dimension.
bool mean_over_last_axis(const onnx::NodeProto& n, size_t rank) {
  if (!is_op(n, "ReduceMean") || n.input_size() != 1 || attr_int(n, "keepdims", 1) != 1) return false;
  auto axes = attr_ints(n, "axes");
  return axes.size() == 1 && (axes[0] == -1 || axes[0] == static_cast<int64_t>(rank) - 1);
}

// The shortest decimal text that reads back as the same float: a float32 1e-5 is "1e-05".
std::string eps_text(double eps) {
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, eps);
    if (static_cast<float>(std::strtod(buf, nullptr)) == static_cast<float>(eps)) break;
  }
  return buf;
}

// Squaring `x`: Pow(x, 2) or Mul(x, x).
bool squares(const GraphIndex& g, const onnx::NodeProto& n, const std::string& x) {
  if (is_op(n, "Pow")) return n.input_size() == 2 && input_at(n, 0) == x && scalar_is(g, input_at(n, 1), 2.0);
  return is_op(n, "Mul") && n.input_size() == 2 && input_at(n, 0) == x && input_at(n, 1) == x;
}

// The optional Mul by gamma[N] (and Add of beta[N]) that ends a normalisation.
void affine_tail(const GraphIndex& g, std::string& out, int64_t N, std::vector<int>& nodes, bool with_beta) {
  for (const char* op : {"Mul", "Add"}) {
    if (std::string(op) == "Add" && !with_beta) return;
    int c = next(g, out, op);
    if (c < 0) return;
    std::string p = other_input(g.node(c), out);
    auto s = g.shape(p);
    if (p.empty() || !g.is_constant_like(p) || !s || *s != Shape{N}) return;
    nodes.push_back(c);
    out = output_at(g.node(c), 0);
  }
}

Outcome row_task(const GraphIndex& g, const char* op, const std::string& x, const std::optional<double>& eps,
                 std::vector<int> nodes) {
  auto s = g.shape(x);
  if (!s || s->empty()) return not_tuned("shape not known after shape inference");
  std::string reason;
  std::string dtype = operator_dtype(g, x, &reason);
  if (dtype.empty()) return not_tuned(reason);
  Params p = {{"M", std::to_string(product(*s, 0, s->size() - 1))}, {"N", std::to_string(s->back())}};
  if (eps) p.push_back({"eps", eps_text(*eps)});
  Outcome o = task_outcome(op, p, dtype, nodes.front(), {});
  o.nodes = std::move(nodes);
  return o;
}

}  // namespace

std::optional<Outcome> match_softmax(const GraphIndex& g, int node, int64_t opset) {
  const auto& n = g.node(node);
  if (!is_op(n, "Softmax") || n.input_size() != 1) return std::nullopt;
  auto s = g.shape(input_at(n, 0));
  if (!s || s->empty()) return not_tuned("shape not known after shape inference");
  int64_t rank = static_cast<int64_t>(s->size());
  int64_t axis = attr_int(n, "axis", opset >= 13 ? -1 : 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return not_tuned("axis out of range");
  std::string reason;
  std::string dtype = operator_dtype(g, input_at(n, 0), &reason);
  if (dtype.empty()) return not_tuned(reason);
  // From opset 13 Softmax normalises along one axis; before, over the flattened trailing axes.
  if (opset >= 13 && axis != rank - 1) return not_tuned("softmax along an axis other than the last");
  return task_outcome(
      "softmax",
      {{"M", std::to_string(product(*s, 0, axis))}, {"N", std::to_string(product(*s, axis, rank))}}, dtype,
      node, {});
}

std::optional<Outcome> match_layernorm_op(const GraphIndex& g, int node) {
  const auto& n = g.node(node);
  if (!is_op(n, "LayerNormalization") || n.input_size() < 2) return std::nullopt;
  auto s = g.shape(input_at(n, 0));
  if (!s || s->empty()) return not_tuned("shape not known after shape inference");
  int64_t axis = attr_int(n, "axis", -1);
  if (axis != -1 && axis != static_cast<int64_t>(s->size()) - 1)
    return not_tuned("normalises more than the last axis");
  return row_task(g, "layernorm", input_at(n, 0), attr_float(n, "epsilon", 1e-5f), {node});
}

// ReduceMean(x) -> Sub(x, mean) -> {Pow(d, 2) | Mul(d, d)} -> ReduceMean -> Add eps -> Sqrt ->
// Div(d, sqrt) [-> Mul gamma -> Add beta].
std::optional<Outcome> match_decomposed_layernorm(const GraphIndex& g, int node) {
  const auto& mean = g.node(node);
  auto xs = g.shape(mean.input_size() ? input_at(mean, 0) : "");
  if (!xs || !mean_over_last_axis(mean, xs->size())) return std::nullopt;
  const std::string& x = input_at(mean, 0);
  int sub = next(g, output_at(mean, 0), "Sub");
  if (sub < 0 || input_at(g.node(sub), 0) != x) return std::nullopt;
  const std::string& d = output_at(g.node(sub), 0);
  const auto& readers = g.consumers(d);
  if (readers.size() != 2 || g.is_graph_output(d)) return std::nullopt;
  int sq = -1, div = -1;
  for (int c : readers) {
    if (g.taken(c)) return std::nullopt;
    if (squares(g, g.node(c), d)) sq = c;
    if (is_op(g.node(c), "Div") && input_at(g.node(c), 0) == d) div = c;
  }
  if (sq < 0 || div < 0) return std::nullopt;
  int var = g.single_consumer(output_at(g.node(sq), 0));
  if (var < 0 || !mean_over_last_axis(g.node(var), xs->size())) return std::nullopt;
  int add = next(g, output_at(g.node(var), 0), "Add");
  if (add < 0) return std::nullopt;
  auto eps = g.scalar(other_input(g.node(add), output_at(g.node(var), 0)));
  int sqrt = next(g, output_at(g.node(add), 0), "Sqrt");
  if (!eps || sqrt < 0 || g.single_consumer(output_at(g.node(sqrt), 0)) != div ||
      input_at(g.node(div), 1) != output_at(g.node(sqrt), 0))
    return std::nullopt;
  std::vector<int> nodes = {node, sub, sq, var, add, sqrt, div};
  std::string out = output_at(g.node(div), 0);
  affine_tail(g, out, xs->back(), nodes, true);
  return row_task(g, "layernorm", x, eps, nodes);
}

// {Pow(x, 2) | Mul(x, x)} -> ReduceMean -> Add eps -> Sqrt -> {Div(x, sqrt) | Div(1, sqrt) or
// Reciprocal -> Mul(x, .)}, or Pow(., -0.5) in place of Sqrt and the reciprocal [-> Mul gamma].
std::optional<Outcome> match_decomposed_rmsnorm(const GraphIndex& g, int node) {
  const auto& sq = g.node(node);
  if (sq.input_size() != 2 || !squares(g, sq, input_at(sq, 0))) return std::nullopt;
  const std::string& x = input_at(sq, 0);
  auto xs = g.shape(x);
  int mean = g.single_consumer(output_at(sq, 0));
  if (!xs || mean < 0 || !mean_over_last_axis(g.node(mean), xs->size())) return std::nullopt;
  int add = next(g, output_at(g.node(mean), 0), "Add");
  if (add < 0) return std::nullopt;
  auto eps = g.scalar(other_input(g.node(add), output_at(g.node(mean), 0)));
  if (!eps) return std::nullopt;
  std::vector<int> nodes = {node, mean, add};
  const std::string& a = output_at(g.node(add), 0);
  int c = g.single_consumer(a);
  if (c < 0) return std::nullopt;
  const auto& cn = g.node(c);
  std::string inv;  // 1 / sqrt(mean square + eps)
  std::string out;
  if (is_op(cn, "Pow") && input_at(cn, 0) == a && scalar_is(g, input_at(cn, 1), -0.5)) {
    nodes.push_back(c);
    inv = output_at(cn, 0);
  } else if (is_op(cn, "Sqrt")) {
    nodes.push_back(c);
    const std::string& s = output_at(cn, 0);
    int r = g.single_consumer(s);
    if (r < 0) return std::nullopt;
    const auto& rn = g.node(r);
    if (is_op(rn, "Div") && input_at(rn, 0) == x && input_at(rn, 1) == s) {
      nodes.push_back(r);
      out = output_at(rn, 0);
    } else if ((is_op(rn, "Div") && input_at(rn, 1) == s && scalar_is(g, input_at(rn, 0), 1.0)) ||
               is_op(rn, "Reciprocal")) {
      nodes.push_back(r);
      inv = output_at(rn, 0);
    } else {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  if (out.empty()) {
    int m = next(g, inv, "Mul");
    if (m < 0 || other_input(g.node(m), inv) != x) return std::nullopt;
    nodes.push_back(m);
    out = output_at(g.node(m), 0);
  }
  affine_tail(g, out, xs->back(), nodes, false);
  return row_task(g, "rmsnorm", x, eps, nodes);
}

}  // namespace rctune::model::detail
