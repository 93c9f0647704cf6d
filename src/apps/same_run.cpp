#include "rctune/apps/same_run.h"

#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "rctune/dist/run_setup.h"

namespace rctune::apps {

namespace {

template <typename T>
std::string text(const T& v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

// key, value in the trace, value in the config
using Setting = std::pair<std::string, std::string>;

std::vector<Setting> settings(const config::TuneConfig& c) {
  std::vector<Setting> s;
  auto add = [&](const std::string& k, const std::string& v) { s.emplace_back(k, v); };
  const std::vector<std::string> names = dist::task_names(c);
  add("tasks (number of)", text(c.tasks.size()));
  for (std::size_t i = 0; i < c.tasks.size(); ++i) {
    const std::string k = "tasks[" + std::to_string(i) + "]";
    add(k + " (name)", names[i]);
    add(k + ".workload", ir::to_string(c.tasks[i].workload));
    add(k + ".weight", text(c.tasks[i].weight));
  }
  add("scheduler", config::effective_scheduler(c));
  const auto& m = c.measure;
  add("measure.flags", m.flags);
  add("measure.min_time", text(m.min_time));
  add("measure.min_repeats", text(m.min_repeats));
  add("measure.max_repeats", text(m.max_repeats));
  add("measure.warmup", text(m.warmup));
  add("measure.flush_cache", text(m.flush_cache));
  config::for_each_key(
      c.mcts, [&](const char* key, const auto& v, auto, auto) { add(std::string("mcts.") + key, text(v)); });
  config::for_each_key(c.evolutionary, [&](const char* key, const auto& v, auto, auto) {
    add(std::string("evolutionary.") + key, text(v));
  });
  add("cost_model.kind", c.cost_model.kind);
  add("cost_model.min_samples", text(c.cost_model.min_samples));
  return s;
}

}  // namespace

void require_same_run(const config::TuneConfig& recorded, const config::TuneConfig& given,
                      const std::string& trace_path) {
  const std::vector<Setting> a = settings(recorded), b = settings(given);
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] == b[i]) continue;
    const std::string& key = a[i].first == b[i].first ? a[i].first : "tasks";
    throw std::runtime_error(trace_path + ": cannot resume: " + given.source +
                             " is not the config the run was started with (" + key + ": '" + a[i].second +
                             "' in the trace, '" + b[i].second +
                             "' in the config); resume with the trace's own config (rctune tune --resume " +
                             trace_path + "), or start a new run with another --out");
  }
}

}  // namespace rctune::apps
