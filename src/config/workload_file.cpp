#include "rctune/config/workload_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "rctune/config/input_file.h"
#include "rctune/config/yaml_keys.h"
#include "rctune/ir/limits.h"
#include "rctune/ir/names.h"
#include "rctune/ir/operators.h"
#include "rctune/ir/parser.h"
#include "rctune/ir/text.h"

namespace rctune::config {

namespace {

const char* const kKeys[] = {"name", "tensors", "stages", "outputs"};

struct Ctx {
  const std::string& file;
  const std::string& text;
  const std::string& prefix;

  [[noreturn]] void fail(const YAML::Node& n, const std::string& key, const std::string& reason) const {
    YAML::Mark m = n.Mark();
    bool known = m.line >= 0;
    throw WorkloadFileError(file, known ? m.line + 1 : 0, known ? m.column + 1 : 0, prefix + key, reason);
  }
  [[noreturn]] void fail(const ir::ParseError& e, const std::string& key) const {
    std::string reason = e.reason();
    std::string what = e.what();
    size_t nl = what.find('\n');
    if (nl != std::string::npos) reason += what.substr(nl);  // the offending text and the caret
    throw WorkloadFileError(file, e.line(), e.column(), prefix + key, reason);
  }

  // Where the characters of a scalar start: yaml-cpp marks a quoted scalar at its quote and a block
  // scalar at its indicator ('|' or '>'); the file text tells which.
  ir::SourcePos pos_of(const YAML::Node& n) const {
    YAML::Mark m = n.Mark();
    ir::SourcePos p{std::max(0, m.line), std::max(0, m.column)};
    if (m.pos < 0 || static_cast<size_t>(m.pos) >= text.size()) return p;
    char c = text[static_cast<size_t>(m.pos)];
    if (c == '"' || c == '\'') {
      p.column_offset += 1;
    } else if (c == '|' || c == '>') {
      size_t nl = text.find('\n', static_cast<size_t>(m.pos));
      if (nl != std::string::npos) {
        p.line_offset += 1;
        size_t first = text.find_first_not_of(' ', nl + 1);
        p.column_offset = first == std::string::npos ? 0 : static_cast<int>(first - nl - 1);
      }
    }
    return p;
  }

  std::string scalar(const YAML::Node& n, const std::string& key, const std::string& what) const {
    if (!n.IsScalar()) fail(n, key, "expected " + what);
    return n.Scalar();
  }
};

}  // namespace

ir::Workload workload_from_yaml(const YAML::Node& root, const std::string& file,
                                const std::string& default_name, const std::string& file_text,
                                const std::string& key_prefix) {
  Ctx ctx{file, file_text, key_prefix};
  if (!root.IsMap())
    ctx.fail(root, "", "a workload is a mapping with the keys name, tensors, stages and outputs");
  for (auto it = root.begin(); it != root.end(); ++it) {
    std::string k = it->first.IsScalar() ? it->first.Scalar() : "?";
    if (std::find(std::begin(kKeys), std::end(kKeys), k) == std::end(kKeys))
      ctx.fail(it->first, k, "unknown key (valid: name, tensors, stages, outputs)");
  }

  ir::Workload w;
  w.name = default_name;
  if (root["name"]) {
    w.name = ctx.scalar(root["name"], "name", "a string");
    if (std::string e = ir::workload_name_problem(w.name); !e.empty()) ctx.fail(root["name"], "name", e);
  } else if (std::string e = ir::workload_name_problem(w.name); !e.empty()) {
    ctx.fail(root, "name",
             "no name given, and the default, the file name without its extension, is not valid: " + e +
                 "; give the workload a name: key");
  }

  // tensors: NAME: TYPE
  YAML::Node tensors = root["tensors"];
  if (!tensors) ctx.fail(root, "tensors", "missing (map each tensor name to its type, e.g. A: f32[128, 64])");
  if (!tensors.IsMap() || tensors.size() == 0)
    ctx.fail(tensors, "tensors", "expected a mapping from tensor names to types, e.g. A: f32[128, 64]");
  for (auto it = tensors.begin(); it != tensors.end(); ++it) {
    std::string name = ctx.scalar(it->first, "tensors", "a tensor name");
    // The name must be a valid identifier of the expression syntax (checked before it is printed).
    if (std::string e = ir::identifier_problem(name); !e.empty())
      ctx.fail(it->first, "tensors." + ir::quote_name(name), "tensor " + e);
    std::string key = "tensors." + name;
    std::string type = ctx.scalar(it->second, key, "a type such as f32[128, 64]");
    if (w.tensors.size() == ir::kMaxTensors)
      ctx.fail(it->first, key, "more than " + std::to_string(ir::kMaxTensors) + " tensors (the limit)");
    if (w.find_tensor(name)) ctx.fail(it->first, key, "tensor '" + name + "' is declared twice");
    try {
      w.tensors.push_back(ir::parse_tensor_type(name, type, ctx.pos_of(it->second)));
    } catch (const ir::ParseError& e) {
      ctx.fail(e, key);
    }
  }

  // stages: list of statements
  YAML::Node stages = root["stages"];
  if (!stages)
    ctx.fail(root, "stages", "missing (a list of statements such as C[i, j] += A[i, k] * B[k, j])");
  if (!stages.IsSequence() || stages.size() == 0)
    ctx.fail(stages, "stages", "expected a list of statements such as - C[i, j] += A[i, k] * B[k, j]");
  std::vector<YAML::Node> stage_nodes;
  for (size_t i = 0; i < stages.size(); ++i) {
    YAML::Node s = stages[i];
    std::string key = "stages[" + std::to_string(i) + "]";
    if (i == ir::kMaxStages)
      ctx.fail(s, key, "more than " + std::to_string(ir::kMaxStages) + " stages (the limit)");
    std::string text = ctx.scalar(s, key, "a statement such as C[i, j] += A[i, k] * B[k, j]");
    ir::Stage st;
    try {
      st = ir::parse_stage(text, w.tensors, ctx.pos_of(s));
    } catch (const ir::ParseError& e) {
      ctx.fail(e, key);
    }
    if (int prev = w.stage_index(st.output); prev >= 0)
      ctx.fail(s, key,
               "tensor '" + st.output + "' is already computed by stages[" + std::to_string(prev) + "]");
    w.stages.push_back(std::move(st));
    stage_nodes.push_back(s);
  }

  for (size_t i = 0; i < w.stages.size(); ++i)
    for (const auto& in : w.stages[i].inputs())
      if (int j = w.stage_index(in); j > static_cast<int>(i))
        ctx.fail(
            stage_nodes[i], "stages[" + std::to_string(i) + "]",
            "reads '" + in + "' before stages[" + std::to_string(j) + "] computes it; list producers first");

  // outputs: [C, D] or C
  if (YAML::Node outs = root["outputs"]) {
    std::vector<YAML::Node> items;
    if (outs.IsScalar())
      items.push_back(outs);
    else if (outs.IsSequence() && outs.size() > 0)
      for (size_t i = 0; i < outs.size(); ++i) items.push_back(outs[i]);
    else
      ctx.fail(outs, "outputs", "expected a tensor name or a list of them, e.g. [C]");
    for (size_t i = 0; i < items.size(); ++i) {
      std::string key = outs.IsScalar() ? "outputs" : "outputs[" + std::to_string(i) + "]";
      std::string o = ctx.scalar(items[i], key, "a tensor name");
      if (!w.find_tensor(o)) ctx.fail(items[i], key, "unknown tensor '" + o + "'");
      if (!w.find_stage(o)) ctx.fail(items[i], key, "tensor '" + o + "' is not computed by any stage");
      if (std::find(w.outputs.begin(), w.outputs.end(), o) != w.outputs.end())
        ctx.fail(items[i], key, "'" + o + "' is listed twice");
      w.outputs.push_back(o);
    }
  } else {
    w.outputs = ir::default_outputs(w);
  }

  std::string err = w.validate();
  if (!err.empty()) ctx.fail(root, "", "invalid workload: " + err);
  return w;
}

ir::Workload parse_workload_yaml(const std::string& yaml_text, const std::string& source_name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    throw WorkloadFileError(source_name, e.mark.line + 1, e.mark.column + 1, "",
                            "YAML syntax error: " + e.msg);
  }
  if (!root || root.IsNull()) throw WorkloadFileError(source_name, 0, 0, "", "the workload file is empty");
  try {
    check_unique_keys(yaml_text, source_name);
  } catch (const WorkloadFileError&) {
    throw;
  } catch (const ConfigError& e) {
    throw WorkloadFileError(e.file(), e.line(), e.column(), e.key(), e.reason());
  }
  std::string stem = std::filesystem::path(source_name).stem().string();
  if (stem.empty() || source_name == "<string>") stem = "workload";
  return workload_from_yaml(root, source_name, stem, yaml_text);
}

ir::Workload load_workload_file(const std::string& path) {
  std::string text;
  try {
    text = read_input_file(path, "the workload file");
  } catch (const ConfigError& e) {
    throw WorkloadFileError(e.file(), e.line(), e.column(), e.key(), e.reason());
  }
  return parse_workload_yaml(text, path);
}

ir::Workload load_workload(const std::string& spec_or_path) {
  if (ir::is_operator_spec(spec_or_path)) return ir::make_operator(spec_or_path);
  std::error_code ec;
  const std::string& s = spec_or_path;
  bool yaml_name = s.size() > 5 && (s.ends_with(".yaml") || s.ends_with(".yml"));
  // Anything at that path (a directory, a device too) is read as a file, which names what is wrong.
  if (std::filesystem::exists(std::filesystem::symlink_status(s, ec)) || yaml_name)
    return load_workload_file(s);
  throw std::invalid_argument(
      "workload '" + s + "' is neither a library operator (known: " + ir::join(ir::operator_names()) +
      "; write NAME:P=v,...) nor a workload file (" + s + ": " + std::strerror(ENOENT) + ")");
}

}  // namespace rctune::config
