#include "rctune/model/extract.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "model/graph_index.h"
#include "model/patterns.h"

namespace rctune::model {

namespace {

using detail::GraphIndex;
using detail::Outcome;

const std::set<std::string> kElementwise = {"Add",  "Sub",        "Mul",  "Div", "Pow",  "Sqrt",
                                            "Relu", "Sigmoid",    "Tanh", "Erf", "Clip", "Exp",
                                            "Neg",  "Reciprocal", "Max",  "Min", "Abs"};

std::string op_label(const onnx::NodeProto& n) {
  return safe_name(n.domain().empty() || n.domain() == "ai.onnx" ? n.op_type()
                                                                 : n.domain() + "." + n.op_type());
}

std::string default_reason(const onnx::NodeProto& n) {
  if (!n.domain().empty() && n.domain() != "ai.onnx") return "operator of another domain";
  if (n.op_type() == "If" || n.op_type() == "Loop" || n.op_type() == "Scan")
    return "control flow; its subgraphs are not searched";
  if (n.op_type() == "Constant") return "a constant: no computation";
  if (kElementwise.count(n.op_type())) return "elementwise, not fused into a matmul or convolution";
  return "no operator for it in the library";
}

std::optional<Outcome> match(const GraphIndex& g, int node, int64_t opset) {
  using Matcher = std::function<std::optional<Outcome>(const GraphIndex&, int)>;
  static const std::vector<Matcher> matchers = {
      detail::match_matmul,
      detail::match_gemm,
      detail::match_conv,
      detail::match_layernorm_op,
      detail::match_decomposed_layernorm,
      detail::match_decomposed_rmsnorm,
  };
  if (auto o = detail::match_softmax(g, node, opset)) return o;
  for (const auto& m : matchers)
    if (auto o = m(g, node)) return o;
  return std::nullopt;
}

}  // namespace

std::string safe_name(const std::string& text) {
  constexpr size_t kMax = 80;
  std::string out;
  for (char c : text) {
    if (out.size() == kMax) break;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == ':' || c == '/' || c == '-';
    out += ok ? c : '_';
  }
  return out.empty() ? "_" : out;
}

Extraction extract_tasks(const LoadedModel& model) {
  const auto& graph = model.proto.graph();
  GraphIndex g(graph);
  Extraction e;
  e.source = model.source;
  e.graph_name = safe_name(graph.name());
  e.opset = model.opset;
  e.bound = model.bound;
  e.nodes = graph.node_size();
  std::map<std::string, size_t> task_of;
  std::map<int, std::string> reason_of;
  for (int i = 0; i < g.size(); ++i) {
    if (g.taken(i)) continue;
    auto o = match(g, i, model.opset);
    if (!o) continue;
    if (!o->tuned) {
      reason_of[i] = o->reason;
      continue;
    }
    for (int n : o->nodes) g.take(n);
    auto [it, fresh] = task_of.emplace(o->workload, e.tasks.size());
    if (fresh) e.tasks.push_back({g.node_label(i), o->workload, 0, {}, {}});
    ExtractedTask& t = e.tasks[it->second];
    t.weight += 1;
    t.layers.push_back(g.node_label(i));
    for (const auto& note : o->notes)
      if (std::find(t.notes.begin(), t.notes.end(), note) == t.notes.end()) t.notes.push_back(note);
  }
  std::map<std::pair<std::string, std::string>, size_t> listed;
  for (int i = 0; i < g.size(); ++i) {
    if (g.taken(i)) continue;
    auto it = reason_of.find(i);
    std::string reason = it != reason_of.end() ? it->second : default_reason(g.node(i));
    std::string op = op_label(g.node(i));
    auto [pos, fresh] = listed.emplace(std::make_pair(op, reason), e.not_tuned.size());
    if (fresh) e.not_tuned.push_back({op, 0, reason});
    e.not_tuned[pos->second].count += 1;
  }
  return e;
}

}  // namespace rctune::model
