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
  if (n.input_size() != 2 || n.input(0) == n.input(1)) return "";
  return n.input(0) == value ? n.input(1) : n.input(0);
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
  if (is_op(n, "Pow")) return n.input_size() == 2 && n.input(0) == x && scalar_is(g, n.input(1), 2.0);
  return is_op(n, "Mul") && n.input_size() == 2 && n.input(0) == x && n.input(1) == x;
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
    out = g.node(c).output(0);
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
  return task_outcome(op, p, dtype, {}, std::move(nodes));
}

}  // namespace

std::optional<Outcome> match_softmax(const GraphIndex& g, int node, int64_t opset) {
  const auto& n = g.node(node);
  if (!is_op(n, "Softmax") || n.input_size() != 1) return std::nullopt;
  auto s = g.shape(n.input(0));
  if (!s || s->empty()) return not_tuned("shape not known after shape inference");
  int64_t rank = static_cast<int64_t>(s->size());
  int64_t axis = attr_int(n, "axis", opset >= 13 ? -1 : 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return not_tuned("axis out of range");
  std::string reason;
  std::string dtype = operator_dtype(g, n.input(0), &reason);
  if (dtype.empty()) return not_tuned(reason);
  // From opset 13 Softmax normalises along one axis; before, over the flattened trailing axes.
  if (opset >= 13 && axis != rank - 1) return not_tuned("softmax along an axis other than the last");
  return task_outcome(
      "softmax",
      {{"M", std::to_string(product(*s, 0, axis))}, {"N", std::to_string(product(*s, axis, rank))}}, dtype,
      {}, {node});
}

std::optional<Outcome> match_layernorm_op(const GraphIndex& g, int node) {
  const auto& n = g.node(node);
  if (!is_op(n, "LayerNormalization") || n.input_size() < 2) return std::nullopt;
  auto s = g.shape(n.input(0));
  if (!s || s->empty()) return not_tuned("shape not known after shape inference");
  int64_t axis = attr_int(n, "axis", -1);
  if (axis != -1 && axis != static_cast<int64_t>(s->size()) - 1)
    return not_tuned("normalises more than the last axis");
  return row_task(g, "layernorm", n.input(0), attr_float(n, "epsilon", 1e-5f), {node});
}

// ReduceMean(x) -> Sub(x, mean) -> {Pow(d, 2) | Mul(d, d)} -> ReduceMean -> Add eps -> Sqrt ->
// Div(d, sqrt) [-> Mul gamma -> Add beta].
std::optional<Outcome> match_decomposed_layernorm(const GraphIndex& g, int node) {
  const auto& mean = g.node(node);
  auto xs = g.shape(mean.input_size() ? mean.input(0) : "");
  if (!xs || !mean_over_last_axis(mean, xs->size())) return std::nullopt;
  const std::string& x = mean.input(0);
  int sub = next(g, mean.output(0), "Sub");
  if (sub < 0 || g.node(sub).input(0) != x) return std::nullopt;
  const std::string& d = g.node(sub).output(0);
  const auto& readers = g.consumers(d);
  if (readers.size() != 2 || g.is_graph_output(d)) return std::nullopt;
  int sq = -1, div = -1;
  for (int c : readers) {
    if (g.taken(c)) return std::nullopt;
    if (squares(g, g.node(c), d)) sq = c;
    if (is_op(g.node(c), "Div") && g.node(c).input(0) == d) div = c;
  }
  if (sq < 0 || div < 0) return std::nullopt;
  int var = g.single_consumer(g.node(sq).output(0));
  if (var < 0 || !mean_over_last_axis(g.node(var), xs->size())) return std::nullopt;
  int add = next(g, g.node(var).output(0), "Add");
  if (add < 0) return std::nullopt;
  auto eps = g.scalar(other_input(g.node(add), g.node(var).output(0)));
  int sqrt = next(g, g.node(add).output(0), "Sqrt");
  if (!eps || sqrt < 0 || g.single_consumer(g.node(sqrt).output(0)) != div ||
      g.node(div).input(1) != g.node(sqrt).output(0))
    return std::nullopt;
  std::vector<int> nodes = {node, sub, sq, var, add, sqrt, div};
  std::string out = g.node(div).output(0);
  affine_tail(g, out, xs->back(), nodes, true);
  return row_task(g, "layernorm", x, eps, nodes);
}

// {Pow(x, 2) | Mul(x, x)} -> ReduceMean -> Add eps -> Sqrt -> {Div(x, sqrt) | Div(1, sqrt) or
// Reciprocal -> Mul(x, .)}, or Pow(., -0.5) in place of Sqrt and the reciprocal [-> Mul gamma].
std::optional<Outcome> match_decomposed_rmsnorm(const GraphIndex& g, int node) {
  const auto& sq = g.node(node);
  if (sq.input_size() != 2 || !squares(g, sq, sq.input(0))) return std::nullopt;
  const std::string& x = sq.input(0);
  auto xs = g.shape(x);
  int mean = g.single_consumer(sq.output(0));
  if (!xs || mean < 0 || !mean_over_last_axis(g.node(mean), xs->size())) return std::nullopt;
  int add = next(g, g.node(mean).output(0), "Add");
  if (add < 0) return std::nullopt;
  auto eps = g.scalar(other_input(g.node(add), g.node(mean).output(0)));
  if (!eps) return std::nullopt;
  std::vector<int> nodes = {node, mean, add};
  const std::string& a = g.node(add).output(0);
  int c = g.single_consumer(a);
  if (c < 0) return std::nullopt;
  const auto& cn = g.node(c);
  std::string inv;  // 1 / sqrt(mean square + eps)
  std::string out;
  if (is_op(cn, "Pow") && cn.input(0) == a && scalar_is(g, cn.input(1), -0.5)) {
    nodes.push_back(c);
    inv = cn.output(0);
  } else if (is_op(cn, "Sqrt")) {
    nodes.push_back(c);
    const std::string& s = cn.output(0);
    int r = g.single_consumer(s);
    if (r < 0) return std::nullopt;
    const auto& rn = g.node(r);
    if (is_op(rn, "Div") && rn.input(0) == x && rn.input(1) == s) {
      nodes.push_back(r);
      out = rn.output(0);
    } else if ((is_op(rn, "Div") && rn.input(1) == s && scalar_is(g, rn.input(0), 1.0)) ||
               is_op(rn, "Reciprocal")) {
      nodes.push_back(r);
      inv = rn.output(0);
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
    out = g.node(m).output(0);
  }
  affine_tail(g, out, xs->back(), nodes, false);
  return row_task(g, "rmsnorm", x, eps, nodes);
}

}  // namespace rctune::model::detail
