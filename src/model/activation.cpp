// Activations written as regions of scalar elementwise nodes: Relu, Clip(0, 6), Sigmoid, x *
// Sigmoid(x), and Gelu in its erf and tanh forms as exporters decompose them (Div by sqrt(2), Erf,
// Add 1, Mul, Mul 0.5; Pow 3, Mul 0.044715, Add, Mul sqrt(2/pi), Tanh, Add 1, Mul, Mul 0.5), in any
// order of the commutative operations. The region's function is evaluated at sample points and
// compared with each activation, so every arrangement of the same arithmetic is recognised.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "model/patterns.h"

namespace rctune::model::detail {

namespace {

constexpr size_t kMaxRegion = 24;

const std::set<std::string> kUnary = {"Relu", "Sigmoid", "Tanh",       "Erf", "Sqrt",
                                      "Exp",  "Neg",     "Reciprocal", "Abs"};
const std::set<std::string> kBinary = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min"};

struct Known {
  const char* name;
  std::function<double(double)> f;
};

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

const std::vector<Known>& known() {
  static const std::vector<Known> k = {
      {"relu", [](double x) { return std::max(x, 0.0); }},
      {"relu6", [](double x) { return std::min(std::max(x, 0.0), 6.0); }},
      {"sigmoid", sigmoid},
      {"silu", [](double x) { return x * sigmoid(x); }},
      {"gelu", [](double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }},
      {"gelu_tanh",
       [](double x) {
         return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
       }},
  };
  return k;
}

const std::vector<double> kSamples = {-5, -3, -2, -1.5, -1, -0.5, -0.1, 0.05, 0.3, 0.8, 1.2, 2, 3.5, 6.5};

// The node's operand `i` at one sample: the region's value, a scalar constant, or nullopt.
std::optional<double> operand(const GraphIndex& g, const std::map<std::string, double>& env,
                              const std::string& v) {
  if (auto it = env.find(v); it != env.end()) return it->second;
  return g.scalar(v);
}

std::optional<double> eval_node(const GraphIndex& g, const onnx::NodeProto& n,
                                const std::map<std::string, double>& env) {
  const std::string& op = n.op_type();
  auto a = operand(g, env, n.input(0));
  if (!a) return std::nullopt;
  double x = *a;
  if (op == "Clip") {
    double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
    if (n.input_size() > 1 && !n.input(1).empty()) {
      auto v = operand(g, env, n.input(1));
      if (!v) return std::nullopt;
      lo = *v;
    }
    if (n.input_size() > 2 && !n.input(2).empty()) {
      auto v = operand(g, env, n.input(2));
      if (!v) return std::nullopt;
      hi = *v;
    }
    if (n.input_size() == 1) {
      lo = attr_float(n, "min", -std::numeric_limits<float>::max());
      hi = attr_float(n, "max", std::numeric_limits<float>::max());
    }
    return std::min(std::max(x, lo), hi);
  }
  if (kUnary.count(op)) {
    if (op == "Relu") return std::max(x, 0.0);
    if (op == "Sigmoid") return sigmoid(x);
    if (op == "Tanh") return std::tanh(x);
    if (op == "Erf") return std::erf(x);
    if (op == "Sqrt") return std::sqrt(x);
    if (op == "Exp") return std::exp(x);
    if (op == "Neg") return -x;
    if (op == "Reciprocal") return 1.0 / x;
    return std::fabs(x);
  }
  auto b = operand(g, env, n.input(1));
  if (!b) return std::nullopt;
  double y = *b;
  if (op == "Add") return x + y;
  if (op == "Sub") return x - y;
  if (op == "Mul") return x * y;
  if (op == "Div") return x / y;
  if (op == "Pow") return std::pow(x, y);
  if (op == "Max") return std::max(x, y);
  return std::min(x, y);
}

// A node that may join the region: scalar elementwise, reading only region values and known
// scalars, with the shape of the region's input.
bool joins(const GraphIndex& g, int c, const std::set<std::string>& vals, const Shape& shape) {
  const auto& n = g.node(c);
  if (g.taken(c) || !n.domain().empty() || n.output_size() != 1) return false;
  const std::string& op = n.op_type();
  size_t arity = kUnary.count(op) ? 1 : kBinary.count(op) ? 2 : op == "Clip" ? 0 : 99;
  if (arity == 99) return false;
  if (arity != 0 && static_cast<size_t>(n.input_size()) != arity) return false;
  if (op == "Clip" && (n.input_size() < 1 || n.input_size() > 3)) return false;
  bool reads_region = false;
  for (int i = 0; i < n.input_size(); ++i) {
    const std::string& in = n.input(i);
    if (in.empty() && op == "Clip" && i > 0) continue;
    if (vals.count(in))
      reads_region = true;
    else if (!g.scalar(in))
      return false;
  }
  if (!reads_region) return false;
  auto s = g.shape(n.output(0));
  return s && *s == shape;
}

}  // namespace

std::optional<Activation> match_activation(const GraphIndex& g, const std::string& value) {
  auto shape = g.shape(value);
  if (!shape || g.is_graph_output(value) || g.consumers(value).empty()) return std::nullopt;
  // Grow the largest region of scalar elementwise nodes fed by `value`.
  std::vector<int> region;
  std::set<std::string> vals = {value};
  for (bool grew = true; grew && region.size() < kMaxRegion;) {
    grew = false;
    for (const std::string& v : std::vector<std::string>(vals.begin(), vals.end()))
      for (int c : g.consumers(v))
        if (std::find(region.begin(), region.end(), c) == region.end() && region.size() < kMaxRegion &&
            joins(g, c, vals, *shape)) {
          region.push_back(c);
          vals.insert(g.node(c).output(0));
          grew = true;
        }
  }
  std::sort(region.begin(), region.end());
  std::optional<Activation> best;
  for (int end : region) {
    // The nodes of the region that `end` depends on.
    std::set<int> sub = {end};
    for (auto it = region.rbegin(); it != region.rend(); ++it) {
      if (!sub.count(*it)) continue;
      for (const auto& in : g.node(*it).input()) {
        int p = g.producer(in);
        if (p >= 0 && std::find(region.begin(), region.end(), p) != region.end()) sub.insert(p);
      }
    }
    if (best && sub.size() <= best->nodes.size()) continue;
    // Every value inside must be read only inside: the region becomes one fused stage.
    std::vector<std::string> inner = {value};
    for (int i : sub)
      if (i != end) inner.push_back(g.node(i).output(0));
    bool closed = std::all_of(inner.begin(), inner.end(), [&](const std::string& v) {
      const auto& cs = g.consumers(v);
      return !g.is_graph_output(v) &&
             std::all_of(cs.begin(), cs.end(), [&](int c) { return sub.count(c) > 0; });
    });
    if (!closed) continue;
    for (const Known& k : known()) {
      bool same = std::all_of(kSamples.begin(), kSamples.end(), [&](double x) {
        std::map<std::string, double> env = {{value, x}};
        for (int i : sub) {
          auto r = eval_node(g, g.node(i), env);
          if (!r) return false;
          env[g.node(i).output(0)] = *r;
        }
        double want = k.f(x), got = env[g.node(end).output(0)];
        return std::isfinite(got) && std::fabs(got - want) <= 1e-5 * (1.0 + std::fabs(want));
      });
      if (same) {
        best = Activation{k.name, g.node(end).output(0), std::vector<int>(sub.begin(), sub.end())};
        break;
      }
    }
  }
  return best;
}

}  // namespace rctune::model::detail
