#include "rctune/config/tune_config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <type_traits>
#include <utility>

#include "rctune/config/compiler_flags.h"
#include "rctune/config/input_file.h"
#include "rctune/config/limits.h"
#include "rctune/config/url_credentials.h"
#include "rctune/config/workload_file.h"
#include "rctune/config/yaml_keys.h"
#include "rctune/ir/operators.h"
#include "rctune/ir/text.h"

namespace rctune::config {

namespace {

// A task name the user gave: shown in terminals, reports and file names of others, so a short
// text of harmless characters.
bool task_name_ok(const std::string& name) {
  if (name.empty() || name.size() > 200) return false;
  for (char ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && !std::strchr("._-+/:#[]", ch)) return false;
  return true;
}

// Reads one YAML mapping of the config: every key it takes is read through a typed getter that
// checks the value; finish() reports any key that no getter asked for.
class MapReader {
 public:
  MapReader(const YAML::Node& node, const std::string& file, std::string prefix)
      : node_(node), file_(file), prefix_(std::move(prefix)) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) fail(node_, "", "expected a mapping of keys to values");
  }

  [[noreturn]] void fail(const YAML::Node& n, const std::string& key, const std::string& reason) const {
    YAML::Mark m = n.Mark();
    bool known = m.line >= 0;
    std::string full = prefix_ + key;
    if (!full.empty() && full.back() == '.') full.pop_back();
    throw ConfigError(file_, known ? m.line + 1 : 0, known ? m.column + 1 : 0, full, reason);
  }

  YAML::Node take(const std::string& key) {
    seen_.insert(key);
    return present() ? node_[key] : YAML::Node();
  }

  std::string string(const std::string& key, const std::string& def,
                     const std::vector<std::string>& allowed = {}) {
    YAML::Node n = take(key);
    if (!n || n.IsNull()) return def;
    if (!n.IsScalar()) fail(n, key, "expected a string");
    std::string v = n.Scalar();
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), v) == allowed.end())
      fail(n, key, "'" + v + "' is not one of " + ir::join(allowed));
    return v;
  }

  double number(const std::string& key, double def, double lo, double hi) {
    YAML::Node n = take(key);
    if (!n || n.IsNull()) return def;
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v))
      fail(n, key, "expected a number, got '" + text_of(n) + "'");
    check_range(n, key, v, lo, hi);
    return v;
  }

  int64_t integer(const std::string& key, int64_t def, int64_t lo, int64_t hi) {
    YAML::Node n = take(key);
    if (!n || n.IsNull()) return def;
    int64_t v = 0;
    if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v))
      fail(n, key, "expected a whole number, got '" + text_of(n) + "'");
    if (std::string e = range_error(v, IntRange{lo, hi}, n.Scalar()); !e.empty()) fail(n, key, e);
    return v;
  }

  bool boolean(const std::string& key, bool def) {
    YAML::Node n = take(key);
    if (!n || n.IsNull()) return def;
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v))
      fail(n, key, "expected true or false, got '" + text_of(n) + "'");
    return v;
  }

  // Unknown keys are mistakes (a typo would otherwise silently keep a default).
  void finish(const std::vector<std::string>& known) const {
    if (!present()) return;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      std::string k = it->first.Scalar();
      if (!seen_.count(k)) fail(it->first, k, "unknown key; the keys here are " + ir::join(known));
    }
  }

  bool present() const { return node_ && node_.IsMap(); }
  // The node of a key (for messages about it), without inserting anything.
  YAML::Node at(const std::string& key) const {
    const YAML::Node& c = node_;
    return present() ? c[key] : YAML::Node();
  }
  const std::string& prefix() const { return prefix_; }

 private:
  static std::string text_of(const YAML::Node& n) { return n.IsScalar() ? n.Scalar() : "a list or mapping"; }
  void check_range(const YAML::Node& n, const std::string& key, double v, double lo, double hi) const {
    if (std::string e = range_error(v, lo, hi, n.Scalar()); !e.empty()) fail(n, key, e);
  }

  YAML::Node node_;
  std::string file_;
  std::string prefix_;
  std::set<std::string> seen_;
};

constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();

// Reads a section whose keys config::for_each_key lists: whole numbers into int fields, numbers into
// double ones, each within its range; any other key is refused.
template <typename Config>
void read_keys(MapReader& r, Config& c) {
  std::vector<std::string> keys;
  for_each_key(c, [&](const char* key, auto& field, auto lo, auto hi) {
    if constexpr (std::is_same_v<std::remove_reference_t<decltype(field)>, int>)
      field = static_cast<int>(r.integer(key, field, lo, hi));
    else
      field = r.number(key, field, lo, hi);
    keys.push_back(key);
  });
  r.finish(keys);
}

ir::Workload task_workload(MapReader& r, const YAML::Node& task, const YAML::Node& n, const std::string& key,
                           const std::string& file, const std::string& text) {
  if (!n)
    r.fail(task, key,
           "missing: an operator spec (matmul:M=512,N=512,K=512), a workload file or an inline workload");
  if (n.IsMap()) return workload_from_yaml(n, file, "task", text, r.prefix() + key + ".");
  if (!n.IsScalar()) r.fail(n, key, "expected an operator spec, a workload file path or an inline workload");
  std::string spec = n.Scalar();
  try {
    if (ir::is_operator_spec(spec)) return ir::make_operator(spec);
    // A relative path is relative to the config file.
    std::filesystem::path p(spec);
    if (p.is_relative() && file != "<string>") p = std::filesystem::path(file).parent_path() / p;
    return load_workload(p.string());
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    std::string hint;
    if (spec.find(':') == std::string::npos && spec.find('=') != std::string::npos)
      hint = " (an operator spec inside a [ ] list must be quoted: its commas separate the list's items)";
    r.fail(n, key, e.what() + hint);
  }
}

// The config names the server and the variable whose value is sent to it as the API key: a config
// from someone else must not be able to send any other secret of the environment (cloud keys,
// tokens) to its server. The variable's name ends in _API_KEY (OPENAI_API_KEY, RCTUNE_API_KEY).
std::string api_key_variable_problem(const std::string& name) {
  if (name.empty()) return "";
  static const std::string kSuffix = "_API_KEY";
  bool ok = name.size() > kSuffix.size() &&
            name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0 &&
            std::isupper(static_cast<unsigned char>(name[0]));
  for (char ch : name)
    ok = ok && (std::isupper(static_cast<unsigned char>(ch)) ||
                std::isdigit(static_cast<unsigned char>(ch)) || ch == '_');
  if (ok) return "";
  return "'" + name +
         "' is not an API key variable: the config chooses the server the key is sent to, so it may "
         "only name a variable whose name is capitals, digits and '_' ending in _API_KEY (OPENAI_API_KEY, "
         "RCTUNE_API_KEY); export the key under such a name";
}

// A relative path in the config is relative to the config file.
std::string config_relative(const std::string& path, const std::string& file) {
  std::filesystem::path p(path);
  if (path.empty() || p.is_absolute() || file == "<string>") return path;
  return (std::filesystem::path(file).parent_path() / p).string();
}

// A prompt template's text is sent to the model's server, which the config chooses: a config from
// someone else must not choose which of the user's files that is. A template is a file in the
// config's directory or below it: a relative path without "..", and no symbolic link out of it.
std::string prompt_template_problem(const std::string& path, const std::string& file) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  bool up = false;
  for (const auto& part : p) up = up || part == "..";
  if (p.is_absolute() || up)
    return "a prompt template is a file in the config's directory or below it (a relative path without "
           "'..'): its text is sent to the model's server, and a config from someone else must not choose "
           "which of your files that is";
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(
      file == "<string>" ? fs::current_path(ec) : fs::absolute(fs::path(file), ec).parent_path(), ec);
  const fs::path target = fs::weakly_canonical(config_relative(path, file), ec);
  if (ec) return "";  // not there: reading it says why
  auto b = base.begin();
  auto t = target.begin();
  for (; b != base.end(); ++b, ++t)
    if (t == target.end() || *t != *b)
      return "'" + path + "' leads outside the config's directory (to " + target.string() +
             "): a prompt template's text is sent to the model's server, so it must be a file beside the "
             "config";
  return "";
}

LlmConfig llm_section(MapReader& top, const std::string& file) {
  LlmConfig c;
  MapReader r(top.take("llm"), file, "llm.");
  c.concurrency = static_cast<int>(r.integer("concurrency", c.concurrency, 1, 1024));
  c.cache_dir = config_relative(r.string("cache_dir", c.cache_dir), file);
  c.offline = r.boolean("offline", c.offline);
  c.escalate_after = static_cast<int>(r.integer("escalate_after", c.escalate_after, 1, 1'000'000));
  c.max_response_bytes = r.integer("max_response_bytes", c.max_response_bytes, 1024, int64_t{1} << 30);
  MapReader prompts(r.take("prompts"), file, "llm.prompts.");
  for (const auto& [key, slot] : {std::pair{"system", &c.system_prompt}, std::pair{"user", &c.user_prompt}}) {
    const std::string path = prompts.string(key, "");
    if (path.empty()) continue;
    if (const std::string e = prompt_template_problem(path, file); !e.empty())
      prompts.fail(prompts.at(key), key, e);
    *slot = config_relative(path, file);
  }
  prompts.finish({"system", "user"});
  YAML::Node models = r.take("models");
  if (models && !models.IsNull()) {
    if (!models.IsSequence()) r.fail(models, "models", "expected a list of models, each with url and model");
    for (size_t i = 0; i < models.size(); ++i) {
      MapReader m(models[i], file, "llm.models[" + std::to_string(i) + "].");
      if (!m.present()) m.fail(models[i], "", "expected a mapping with url and model");
      LlmModelConfig mc;
      mc.url = m.string("url", "");
      if (!url_error(mc.url).empty())
        m.fail(m.at("url").IsDefined() ? m.at("url") : models[i], "url",
               mc.url.empty() ? "missing: the endpoint's base URL, e.g. http://localhost:8000/v1"
                              : "expected an http:// or https:// URL, got '" + url_for_display(mc.url) + "'");
      if (const std::string problem = url_credential_problem(mc.url); !problem.empty())
        m.fail(m.at("url"), "url", problem);
      mc.model = m.string("model", "");
      if (mc.model.empty()) m.fail(models[i], "model", "missing: the model name the endpoint serves");
      mc.name = m.string("name", mc.model);
      mc.temperature = m.number("temperature", mc.temperature, 0, 2);
      mc.max_tokens = static_cast<int>(m.integer("max_tokens", mc.max_tokens, 1, 1'000'000));
      mc.timeout = m.number("timeout", mc.timeout, 0.001, 86400);
      mc.api_key_env = m.string("api_key_env", "");
      if (const std::string e = api_key_variable_problem(mc.api_key_env); !e.empty())
        m.fail(m.at("api_key_env"), "api_key_env", e);
      mc.price_prompt = m.number("price_prompt", 0, 0, 1e6);
      mc.price_completion = m.number("price_completion", 0, 0, 1e6);
      mc.max_retries = static_cast<int>(m.integer("max_retries", mc.max_retries, 0, 100));
      YAML::Node h = m.take("headers");
      if (h && !h.IsNull()) {
        if (!h.IsMap()) m.fail(h, "headers", "expected a mapping of header names to values");
        for (auto it = h.begin(); it != h.end(); ++it) {
          if (!it->second.IsScalar())
            m.fail(it->second, "headers." + it->first.Scalar(), "expected a string");
          std::string lower = it->first.Scalar();
          for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          if (lower == "authorization" || lower == "api-key" || lower == "x-api-key")
            m.fail(
                it->first, "headers." + it->first.Scalar(),
                "a credential does not belong in the config (it is recorded in the trace): put the key in an "
                "environment variable and name it with api_key_env");
          mc.headers.emplace_back(it->first.Scalar(), it->second.Scalar());
        }
      }
      m.finish({"name", "url", "model", "temperature", "max_tokens", "timeout", "api_key_env", "headers",
                "price_prompt", "price_completion", "max_retries"});
      c.models.push_back(std::move(mc));
    }
  }
  r.finish(
      {"models", "concurrency", "cache_dir", "offline", "escalate_after", "prompts", "max_response_bytes"});
  return c;
}

}  // namespace

TuneConfig parse_tune_config(const std::string& yaml_text, const std::string& source_name) {
  TuneConfig c;
  c.source = source_name;
  c.text = yaml_text;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source_name, e.mark.line + 1, e.mark.column + 1, "", "not valid YAML: " + e.msg);
  }
  if (!root || root.IsNull()) throw ConfigError(source_name, 0, 0, "", "the config is empty");
  check_unique_keys(yaml_text, source_name);
  MapReader top(root, source_name, "");
  if (!top.present()) top.fail(root, "", "expected a mapping with the keys tasks, budget, strategy, ...");

  c.seed = static_cast<uint64_t>(top.integer("seed", 1, limits::kSeed.lo, limits::kSeed.hi));
  c.budget = top.integer("budget", c.budget, limits::kBudget.lo, limits::kBudget.hi);
  c.strategy = top.string("strategy", c.strategy, {"mcts", "evolutionary", "random"});
  c.proposer = top.string("proposer", c.proposer, {"heuristic", "random", "llm"});
  c.scheduler = top.string("scheduler", c.scheduler, {"gradient", "round_robin", "per_task"});
  c.out = top.string("out", c.out);
  if (c.out.empty())
    top.fail(static_cast<const YAML::Node&>(root)["out"], "out",
             "must not be empty: the path of the run's trace (leave the key out for rctune-run.h5)");

  c.resume_or_start = top.boolean("resume_or_start", c.resume_or_start);
  c.database = top.string("database", c.database);
  if (c.database.empty() && static_cast<const YAML::Node&>(root)["database"])
    top.fail(static_cast<const YAML::Node&>(root)["database"], "database",
             "must not be empty: the directory of the tuning database (leave the key out to store nothing)");

  YAML::Node tasks = top.take("tasks");
  if (!tasks) top.fail(root, "tasks", "missing: a list of tasks, each with a workload");
  if (!tasks.IsSequence() || tasks.size() == 0)
    top.fail(tasks, "tasks", "expected a non-empty list of tasks");
  for (size_t i = 0; i < tasks.size(); ++i) {
    std::string prefix = "tasks[" + std::to_string(i) + "].";
    YAML::Node t = tasks[i];
    TaskConfig task;
    if (t.IsScalar()) {  // shorthand: just the workload
      MapReader r(YAML::Node(), source_name, prefix);
      task.workload = task_workload(r, t, t, "workload", source_name, yaml_text);
    } else {
      MapReader r(t, source_name, prefix);
      if (!r.present()) r.fail(t, "", "expected a workload or a mapping with workload, name, weight, budget");
      task.workload = task_workload(r, t, r.take("workload"), "workload", source_name, yaml_text);
      task.name = r.string("name", "");
      if (t["name"] && !task_name_ok(task.name))
        r.fail(t["name"], "name",
               "a task name is 1 to 200 characters of letters, digits and . _ - + / : # [ ] (it names the "
               "task in "
               "the trace, the report and the tuning database)");
      task.weight = r.number("weight", 1.0, 1e-9, 1e9);
      task.budget = r.integer("budget", 0, limits::kBudget.lo, limits::kBudget.hi);
      r.finish({"workload", "name", "weight", "budget"});
    }
    c.tasks.push_back(std::move(task));
  }
  // Task names are unique: two tasks of one name would share a trace group and a database key.
  for (size_t i = 0; i < c.tasks.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (!c.tasks[i].name.empty() && c.tasks[i].name == c.tasks[j].name)
        top.fail(
            tasks[i]["name"], "tasks[" + std::to_string(i) + "].name",
            "the name '" + c.tasks[i].name + "' is already the name of tasks[" + std::to_string(j) + "]");

  MapReader m(top.take("measure"), source_name, "measure.");
  c.measure.min_time = m.number("min_time", c.measure.min_time, limits::kMinTime.lo, limits::kMinTime.hi);
  c.measure.min_repeats = static_cast<int>(m.integer("min_repeats", c.measure.min_repeats, 1, 1'000'000));
  c.measure.max_repeats = static_cast<int>(m.integer("max_repeats", c.measure.max_repeats, 1, 1'000'000));
  if (c.measure.max_repeats < c.measure.min_repeats)
    m.fail(m.at("max_repeats"), "max_repeats", "must be at least min_repeats");
  c.measure.warmup = static_cast<int>(m.integer("warmup", c.measure.warmup, 0, 1000));
  c.measure.flush_cache = m.boolean("flush_cache", c.measure.flush_cache);
  c.measure.pin_core = m.string("pin_core", c.measure.pin_core);
  if (std::string e = pin_core_error(c.measure.pin_core); !e.empty()) m.fail(m.at("pin_core"), "pin_core", e);
  c.measure.timeout = m.number("timeout", c.measure.timeout, limits::kTimeout.lo, limits::kTimeout.hi);
  c.measure.flags = m.string("flags", c.measure.flags);
  if (std::string e = compiler_flags_problem(c.measure.flags); !e.empty()) m.fail(m.at("flags"), "flags", e);
  // The kernel cache holds compiled code that rctune loads: a config, which may come from others,
  // cannot choose it (`rctune tune --cache-dir`, XDG_CACHE_HOME).
  if (YAML::Node n = m.take("cache_dir"); n && !n.IsNull())
    m.fail(n, "cache_dir",
           "a config cannot choose the kernel cache: it holds compiled code that rctune loads and runs, so "
           "a config from someone else could name a directory of their kernels; use `rctune tune --cache-dir "
           "DIR` or XDG_CACHE_HOME");
  c.measure.simulated_latency = m.number("simulated_latency", c.measure.simulated_latency, 0, 3600);
  m.finish({"min_time", "min_repeats", "max_repeats", "warmup", "flush_cache", "pin_core", "timeout", "flags",
            "cache_dir", "simulated_latency"});

  MapReader mc(top.take("mcts"), source_name, "mcts.");
  read_keys(mc, c.mcts);
  MapReader ev(top.take("evolutionary"), source_name, "evolutionary.");
  read_keys(ev, c.evolutionary);

  MapReader cm(top.take("cost_model"), source_name, "cost_model.");
  c.cost_model.kind = cm.string("kind", c.cost_model.kind, {"xgboost", "none"});
  c.cost_model.min_samples =
      static_cast<int>(cm.integer("min_samples", c.cost_model.min_samples, 1, kMaxInt));
  cm.finish({"kind", "min_samples"});

  c.llm = llm_section(top, source_name);

  MapReader di(top.take("dist"), source_name, "dist.");
  c.dist.group_size = static_cast<int>(di.integer("group_size", c.dist.group_size, 0, kMaxInt));
  c.dist.sync_every = static_cast<int>(di.integer("sync_every", c.dist.sync_every, 0, kMaxInt));
  c.dist.exclusive_measurement = di.boolean("exclusive_measurement", c.dist.exclusive_measurement);
  c.dist.llm_batch_window = di.number("llm_batch_window", c.dist.llm_batch_window, 0, 60);
  c.dist.tree_interval = di.number("tree_interval", c.dist.tree_interval, 0, 1e9);
  di.finish({"group_size", "sync_every", "exclusive_measurement", "llm_batch_window", "tree_interval"});

  top.finish({"seed", "budget", "scheduler", "strategy", "proposer", "out", "resume_or_start", "database",
              "tasks", "measure", "mcts", "evolutionary", "cost_model", "llm", "dist"});
  return c;
}

std::string effective_scheduler(const TuneConfig& c) {
  if (!c.scheduler.empty()) return c.scheduler;
  return c.tasks.size() > 1 ? "gradient" : "per_task";
}

TuneConfig load_tune_config(const std::string& path) {
  return parse_tune_config(read_input_file(path, "the config file"), path);
}

}  // namespace rctune::config
