// The run configuration of `rctune tune` (YAML): which tasks to tune, with which strategy and
// budget, how to measure. Every key is validated: an unknown key, a value of the wrong type or out
// of range is a ConfigError naming the file, the line and the key. docs/config.md documents every
// key; configs/quickstart.yaml is a complete example.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rctune/config/error.h"
#include "rctune/config/evolutionary_config.h"
#include "rctune/config/mcts_config.h"
#include "rctune/ir/workload.h"

namespace rctune::config {

struct TaskConfig {
  std::string name;       // the task's name ("": its workload's name); unique in the run
  ir::Workload workload;  // from an operator spec, a workload file, or an inline definition
  double weight = 1.0;    // occurrences in the model: its share of the model's latency
  int64_t budget = 0;     // samples for this task: per_task, exactly (0: the run's budget); other
                          // schedulers, at most (0: no limit of its own)
};

struct MeasureConfig {
  double min_time = 0.1;  // s of timed runs per candidate (at least min_repeats runs)
  int min_repeats = 3;
  int max_repeats = 1000;
  int warmup = 1;
  bool flush_cache = false;
  std::string pin_core = "auto";  // auto | none | core number
  double timeout = 60;            // s a kernel may run before it is killed
  std::string flags;              // compiler flags; empty: the configure-time default
  std::string cache_dir;          // kernel cache; empty: $XDG_CACHE_HOME/rctune
  double simulated_latency = 0;   // s each simulated measurement takes (rctune tune --simulate)
};

struct CostModelConfig {
  std::string kind = "xgboost";  // xgboost | none
  int min_samples = 8;           // measured samples before the model replaces the analytic score
};

// One language model behind an OpenAI-compatible endpoint (docs/llm.md).
struct LlmModelConfig {
  std::string name;   // label in reports; default: the model
  std::string url;    // base URL, e.g. http://localhost:8000/v1
  std::string model;  // the request's "model"
  double temperature = 0.7;
  int max_tokens = 2048;
  double timeout = 120;     // s per attempt
  std::string api_key_env;  // environment variable holding the API key ("": none)
  std::vector<std::pair<std::string, std::string>> headers;  // extra HTTP headers
  double price_prompt = 0;                                   // USD per million prompt tokens
  double price_completion = 0;                               // USD per million completion tokens
  int max_retries = 4;
};

struct LlmConfig {
  std::vector<LlmModelConfig> models;             // cheapest first
  int concurrency = 4;                            // requests in flight at once
  std::string cache_dir;                          // response cache; "": $XDG_CACHE_HOME/rctune/llm
  bool offline = false;                           // answer from the response cache only
  int escalate_after = 2;                         // non-improving proposals before the next model is asked
  int64_t max_response_bytes = int64_t{4} << 20;  // the most bytes of one answer body (after decompression)
  std::string system_prompt;                      // template files ("": the built-in ones)
  std::string user_prompt;
};

// Many MPI ranks (docs/dist.md): ignored by a run of one rank.
struct DistConfig {
  int group_size = 0;   // ranks that tune one task together; 0: all ranks
  int sync_every = 12;  // a rank shares root statistics and results every this many samples; 0: never
  bool exclusive_measurement =
      false;                       // ranks on one node run kernels one at a time (compilation stays parallel)
  double llm_batch_window = 0.05;  // s rank 0 waits to gather LLM requests of several ranks into one batch
  double tree_interval = 30;  // s between writes of the merged tree while a task runs (at synchronisations)
};

struct TuneConfig {
  std::string source;  // the file's path (or "<string>")
  std::string text;    // the file's text, recorded in the run's trace
  uint64_t seed = 1;
  int64_t budget = 64;            // samples: of the whole run (gradient, round_robin) or per task (per_task)
  std::string scheduler;          // gradient | round_robin | per_task; "": effective_scheduler()
  std::string strategy = "mcts";  // mcts | evolutionary | random
  std::string proposer = "heuristic";  // heuristic | random | llm
  std::string out = "rctune-run.h5";   // the run's HDF5 trace
  std::string database;                // the tuning database the run's best schedules go to ("": none)
  bool resume_or_start = false;        // `rctune tune` continues `out` when it exists (requeued jobs)
  std::vector<TaskConfig> tasks;
  MeasureConfig measure;
  MctsConfig mcts;
  EvolutionaryConfig evolutionary;
  CostModelConfig cost_model;
  LlmConfig llm;
  DistConfig dist;
};

// The run's task scheduler: the one the config names, else gradient for more than one task and
// per_task for one (the same thing then).
std::string effective_scheduler(const TuneConfig& c);

TuneConfig load_tune_config(const std::string& path);
TuneConfig parse_tune_config(const std::string& yaml_text, const std::string& source_name = "<string>");

}  // namespace rctune::config
