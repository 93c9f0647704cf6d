#include "rctune/model/run_config_writer.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

namespace rctune::model {

namespace {

// The reasons come from this program but carry numbers and names of the model: kept to one line.
std::string one_line(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

std::string layer_list(const std::vector<std::string>& layers) {
  constexpr size_t kShown = 6;
  std::string s;
  for (size_t i = 0; i < layers.size() && i < kShown; ++i) s += (i ? ", " : "") + layers[i];
  if (layers.size() > kShown) s += " and " + std::to_string(layers.size() - kShown) + " more";
  return s;
}

}  // namespace

std::string run_config_yaml(const Extraction& e, const std::string& out_trace) {
  std::ostringstream y;
  int64_t layers = 0;
  for (const auto& t : e.tasks) layers += t.weight;
  y << "# Run config of the ONNX model " << safe_name(std::filesystem::path(e.source).filename().string())
    << ", written by `rctune extract` (docs/models.md).\n";
  y << "# graph " << e.graph_name << ", opset " << e.opset << ", " << e.nodes << " nodes\n";
  y << "# bound dimensions:";
  if (e.bound.empty()) y << " none";
  for (const auto& [name, value] : e.bound) y << " " << safe_name(name) << "=" << value;
  y << "\n# " << e.tasks.size() << " tasks from " << layers
    << " layers; a task's weight is the number of layers with its workload.\n";
  if (e.not_tuned.empty()) {
    y << "# Not tuned: nothing (every node is part of a task).\n";
  } else {
    y << "# Not tuned (no task covers these nodes):\n";
    for (const auto& n : e.not_tuned)
      y << "#   " << n.op_type << " x" << n.count << ": " << one_line(n.reason) << "\n";
  }
  // The budget is the model's: 32 samples per task on average, shared by the gradient scheduler.
  y << "seed: 1\nbudget: " << 32 * std::max<size_t>(1, e.tasks.size())
    << "                # samples for the whole model\nscheduler: gradient\nstrategy: mcts\nproposer: "
       "heuristic\n";
  // A file name, never a path (the config may travel to another directory), in the safe charset:
  // nothing in it needs escaping inside the quotes.
  y << "out: \"" << safe_name(std::filesystem::path(out_trace).filename().string()) << "\"\n";
  y << "tasks:\n";
  std::set<std::string> names;
  for (const auto& t : e.tasks) {
    // Named after its first layer, in the config's charset; unique (a second layer of one name
    // gets "#2").
    std::string name = safe_name(t.name);
    for (int k = 2; !names.insert(name).second; ++k) name = safe_name(t.name) + "#" + std::to_string(k);
    y << "  # " << t.name << " (" << t.weight << (t.weight == 1 ? " layer" : " layers") << ")";
    if (t.weight > 1) y << ": " << layer_list(t.layers);
    y << "\n";
    for (const auto& note : t.notes) y << "  # " << one_line(note) << "\n";
    y << "  - name: \"" << name << "\"\n    workload: " << t.workload << "\n    weight: " << t.weight << "\n";
  }
  return y.str();
}

}  // namespace rctune::model
