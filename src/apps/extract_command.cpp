// rctune extract MODEL.onnx: the run config of a model's distinct workloads (docs/models.md).
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "rctune/apps/commands.h"
#include "rctune/apps/terminal_text.h"
#include "rctune/model/extract.h"
#include "rctune/model/run_config_writer.h"

namespace rctune::apps {

namespace {

// --dim NAME=VALUE; --batch and --seq first, so that an explicit --dim wins.
model::DimBindings bindings(const ExtractArgs& a) {
  model::DimBindings dims;
  if (a.batch > 0)
    for (const auto& n : model::batch_dim_names()) dims[n] = a.batch;
  if (a.seq > 0)
    for (const auto& n : model::sequence_dim_names()) dims[n] = a.seq;
  const int64_t max_dim = model::ModelLimits{}.max_dim;
  for (const auto& d : a.dims) {
    auto eq = d.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::invalid_argument("--dim '" + d + "': expected NAME=VALUE, e.g. --dim batch=1");
    std::string name = d.substr(0, eq), text = d.substr(eq + 1);
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < 1 || v > max_dim)
      throw std::invalid_argument("--dim '" + d + "': the value must be an integer from 1 to " +
                                  std::to_string(max_dim));
    dims[name] = v;
  }
  return dims;
}

// The trace the config names: the config's file name with .h5, or the model's.
std::string trace_name(const ExtractArgs& a) {
  std::filesystem::path p = a.out.empty() ? a.model : a.out;
  return p.stem().string() + ".h5";
}

void print_summary(std::FILE* f, const model::Extraction& e) {
  std::fprintf(f, "%-40s %7s  %s\n", "task (first layer)", "weight", "workload");
  for (const auto& t : e.tasks)
    std::fprintf(f, "%-40s %7lld  %s\n", t.name.c_str(), static_cast<long long>(t.weight),
                 t.workload.c_str());
  if (!e.not_tuned.empty()) {
    std::fprintf(f, "\nnot tuned:\n");
    for (const auto& n : e.not_tuned)
      std::fprintf(f, "  %-28s x%-6lld %s\n", n.op_type.c_str(), static_cast<long long>(n.count),
                   terminal_safe(n.reason).c_str());
  }
  int64_t layers = 0;
  for (const auto& t : e.tasks) layers += t.weight;
  std::fprintf(f, "\n%zu tasks from %lld layers; %lld nodes\n", e.tasks.size(),
               static_cast<long long>(layers), static_cast<long long>(e.nodes));
}

}  // namespace

int run_extract(const ExtractArgs& a) {
  model::LoadedModel m = model::load_model(a.model, bindings(a));
  // A --dim the model does not use is most likely a misspelt name.
  for (const auto& d : a.dims) {
    std::string name = d.substr(0, d.find('='));
    if (!m.bound.count(name))
      std::cerr << "rctune: warning: --dim " << terminal_safe(name)
                << " names no symbolic dimension of the model's inputs\n";
  }
  model::Extraction e = model::extract_tasks(m);
  // Without --out the config goes to stdout and the summary to stderr.
  std::FILE* summary = a.out.empty() ? stderr : stdout;
  print_summary(summary, e);
  if (e.tasks.empty()) {
    std::cerr << "rctune: error: " << terminal_safe(a.model)
              << ": no node maps to a tuned operator (see the list above); no run config written\n";
    return 1;
  }
  std::string yaml = model::run_config_yaml(e, trace_name(a));
  if (a.out.empty()) {
    std::cout << yaml;
    return 0;
  }
  std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
  out << yaml;
  out.close();
  if (!out) throw std::runtime_error("cannot write the run config '" + a.out + "'");
  std::fprintf(summary, "wrote %s\n", terminal_safe(a.out).c_str());
  return 0;
}

}  // namespace rctune::apps
