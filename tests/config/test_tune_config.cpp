// Run configs: every mistake a user can make gets a message naming the file, the line and the key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "rctune/build_config.h"
#include "rctune/config/tune_config.h"

using rctune::config::ConfigError;
using rctune::config::parse_tune_config;

namespace {

// The message of the ConfigError that parsing `yaml` throws ("" when it parses).
std::string error_of(const std::string& yaml) {
  try {
    parse_tune_config(yaml, "run.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// A config that is refused: each row is one old test, naming what the error message must say.
struct RefusedConfig {
  const char* name;                    // the test's name
  std::string yaml;                    // the config's text
  std::vector<std::string> fragments;  // parts of the error message
};

void PrintTo(const RefusedConfig& c, std::ostream* os) { *os << c.name << ":\n" << c.yaml; }

const RefusedConfig kRefusedConfigs[] = {
    {"UnknownKeyNamesFileLineAndKnownKeys",
     "tasks: ['matmul:M=8,N=8,K=8']\nbudgte: 10\n",
     {"run.yaml:2:1: budgte: unknown key", "budget"}},
    {"UnknownNestedKeyNamesItsSection",
     "tasks: ['matmul:M=8,N=8,K=8']\nmcts:\n  explore: 2\n",
     {"run.yaml:3:3: mcts.explore: unknown key"}},
    {"AConfigCannotChooseTheKernelCache",
     "tasks: ['softmax:M=4,N=8']\nmeasure:\n  cache_dir: ./planted\n",
     {":3:", "measure.cache_dir", "--cache-dir"}},
    {"UnknownChoiceListsTheChoices",
     "tasks: ['matmul:M=8,N=8,K=8']\nstrategy: annealing\n",
     {"strategy: 'annealing' is not one of mcts, evolutionary, random"}},
    {"BadWorkloadSpecPointsAtTheTask",
     "tasks:\n  - workload: matmul:M=-3\n",
     {"run.yaml:2:15: tasks[0].workload:", "M"}},
    {"InvalidYamlNamesThePosition", "tasks: [matmul:M=8\nbudget: 3\n", {"run.yaml:", "not valid YAML"}},
    {"MaxRepeatsBelowMinRepeatsIsAnError",
     "tasks: ['matmul:M=8,N=8,K=8']\nmeasure: {min_repeats: 5, max_repeats: 2}\n",
     {"measure.max_repeats: must be at least min_repeats"}},
    {"UnquotedSpecInFlowListGetsAHint", "tasks: [matmul:M=8,N=8,K=8]\n", {"must be quoted"}},
    {"AnEmptyDatabaseIsAnError",
     "tasks: ['matmul:M=8,N=8,K=8']\ndatabase: ''\n",
     {"run.yaml:2:", "database: must not be empty"}},
    {"AnUnknownSchedulerListsTheSchedulers",
     "tasks: ['matmul:M=8,N=8,K=8']\nscheduler: greedy\n",
     {"run.yaml:2:", "scheduler: 'greedy' is not one of gradient, round_robin, per_task"}},
    {"ATaskNameWithAControlCharacterIsRefused",
     "tasks:\n  - workload: matmul:M=8,N=8,K=8\n    name: \"a\\x1b[2Jb\"\n",
     {"run.yaml:3:", "tasks[0].name", "letters, digits"}},
    {"TwoTasksOfOneNameAreRefused",
     "tasks:\n  - {workload: 'matmul:M=8,N=8,K=8', name: fc}\n  - {workload: 'softmax:M=4,N=8', name: fc}\n",
     {"run.yaml:3:", "tasks[1].name", "already the name of tasks[0]"}},
};

class TuneConfigRefuses : public ::testing::TestWithParam<RefusedConfig> {};

TEST_P(TuneConfigRefuses, AConfigWithAnErrorTheMessageNames) {
  const RefusedConfig& c = GetParam();
  const std::string e = error_of(c.yaml);
  for (const std::string& fragment : c.fragments) EXPECT_NE(e.find(fragment), std::string::npos) << e;
}

INSTANTIATE_TEST_SUITE_P(TuneConfig, TuneConfigRefuses, ::testing::ValuesIn(kRefusedConfigs),
                         [](const ::testing::TestParamInfo<RefusedConfig>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace

TEST(TuneConfig, DefaultsFillEverythingNotGiven) {
  auto c = parse_tune_config("tasks: ['matmul:M=8,N=8,K=8']\n");
  ASSERT_EQ(c.tasks.size(), 1u);
  EXPECT_EQ(c.tasks[0].workload.name, "matmul:M=8,N=8,K=8,dtype=f32");
  EXPECT_EQ(c.strategy, "mcts");
  EXPECT_EQ(c.proposer, "heuristic");
  EXPECT_EQ(c.budget, 64);
  EXPECT_EQ(c.mcts.branching, 2);
  EXPECT_DOUBLE_EQ(c.mcts.exploration, 1.4142135623730951);
  EXPECT_EQ(c.evolutionary.population, 512);
  EXPECT_DOUBLE_EQ(c.evolutionary.mutation_probability, 0.85);
}

TEST(TuneConfig, ReadsEverySection) {
  auto c = parse_tune_config(
      "seed: 7\nbudget: 100\nstrategy: evolutionary\nproposer: random\nout: x.h5\n"
      "tasks:\n  - workload: softmax:M=4,N=8\n    weight: 2.5\n    budget: 10\n"
      "measure: {min_time: 0.5, min_repeats: 2, max_repeats: 9, warmup: 0, flush_cache: true, pin_core: '0',"
      " timeout: 5, flags: -O2}\n"
      "mcts: {exploration: 2, branching: 4, root_samples: 5, measure_batch: 3, epsilon: 0.1, history_depth: "
      "2,"
      " rollout_depth: 7}\n"
      "evolutionary: {population: 64, init_measured_ratio: 0.5, genetic_iterations: 2, mutation_probability: "
      "0.5,"
      " epsilon: 0, measure_batch: 8}\n"
      "cost_model: {kind: none, min_samples: 3}\n");
  EXPECT_EQ(c.seed, 7u);
  EXPECT_EQ(c.budget, 100);
  EXPECT_EQ(c.strategy, "evolutionary");
  EXPECT_EQ(c.tasks[0].budget, 10);
  EXPECT_DOUBLE_EQ(c.tasks[0].weight, 2.5);
  EXPECT_TRUE(c.measure.flush_cache);
  EXPECT_EQ(c.measure.pin_core, "0");
  EXPECT_EQ(c.measure.flags, "-O2");
  EXPECT_EQ(c.mcts.branching, 4);
  EXPECT_EQ(c.mcts.rollout_depth, 7);
  EXPECT_EQ(c.evolutionary.population, 64);
  EXPECT_EQ(c.cost_model.kind, "none");
}

TEST(TuneConfig, DatabaseNamesTheTuningDatabaseAndIsNoneByDefault) {
  EXPECT_EQ(parse_tune_config("tasks: ['matmul:M=8,N=8,K=8']\n").database, "");
  EXPECT_EQ(parse_tune_config("tasks: ['matmul:M=8,N=8,K=8']\ndatabase: /shared/rctune-db\n").database,
            "/shared/rctune-db");
}

TEST(TuneConfig, TheSchedulerIsGradientForSeveralTasksAndPerTaskForOne) {
  EXPECT_EQ(rctune::config::effective_scheduler(parse_tune_config("tasks: ['matmul:M=8,N=8,K=8']\n")),
            "per_task");
  EXPECT_EQ(rctune::config::effective_scheduler(
                parse_tune_config("tasks: ['matmul:M=8,N=8,K=8', 'softmax:M=4,N=8']\n")),
            "gradient");
  EXPECT_EQ(rctune::config::effective_scheduler(parse_tune_config(
                "scheduler: round_robin\ntasks: ['matmul:M=8,N=8,K=8', 'softmax:M=4,N=8']\n")),
            "round_robin");
}

TEST(TuneConfig, ATaskNameIsRead) {
  const auto c = parse_tune_config("tasks:\n  - {workload: 'matmul:M=8,N=8,K=8', name: layer3.0.conv2}\n");
  EXPECT_EQ(c.tasks.at(0).name, "layer3.0.conv2");
}

TEST(TuneConfig, InlineWorkloadDefinition) {
  auto c = parse_tune_config(
      "tasks:\n"
      "  - workload:\n"
      "      name: scale\n"
      "      tensors: {X: 'f32[4, 4]', Y: 'f32[4, 4]'}\n"
      "      stages: ['Y[i, j] = X[i, j] * 2.0']\n");
  EXPECT_EQ(c.tasks[0].workload.name, "scale");
  EXPECT_EQ(c.tasks[0].workload.stages.size(), 1u);
}

TEST(TuneConfig, WrongTypeIsNamed) {
  std::string e = error_of("tasks: ['matmul:M=8,N=8,K=8']\nbudget: lots\n");
  EXPECT_NE(e.find("run.yaml:2:9: budget: expected a whole number, got 'lots'"), std::string::npos) << e;
  e = error_of("tasks: ['matmul:M=8,N=8,K=8']\nmeasure: {flush_cache: maybe}\n");
  EXPECT_NE(e.find("measure.flush_cache: expected true or false"), std::string::npos) << e;
}

TEST(TuneConfig, OutOfRangeValueIsNamed) {
  std::string e = error_of("tasks: ['matmul:M=8,N=8,K=8']\nmcts: {epsilon: 1.5}\n");
  EXPECT_NE(e.find("mcts.epsilon: must be between 0 and 1, got 1.5"), std::string::npos) << e;
  e = error_of("tasks: ['matmul:M=8,N=8,K=8']\nbudget: 0\n");
  EXPECT_NE(e.find("budget: must be between 1"), std::string::npos) << e;
}

TEST(TuneConfig, MissingTasksIsAnError) {
  EXPECT_NE(error_of("budget: 3\n").find("tasks: missing"), std::string::npos);
  EXPECT_NE(error_of("tasks: []\n").find("tasks: expected a non-empty list"), std::string::npos);
}

TEST(TuneConfig, WorkloadFilePathIsRelativeToTheConfig) {
  auto dir = std::filesystem::temp_directory_path() / "rctune-test-tune-config";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "op.yaml") << "tensors: {A: 'f32[3]', B: 'f32[3]'}\nstages: ['B[i] = A[i] + 1.0']\n";
  std::ofstream(dir / "run.yaml") << "tasks: [op.yaml]\n";
  auto c = rctune::config::load_tune_config((dir / "run.yaml").string());
  EXPECT_EQ(c.tasks[0].workload.name, "op");
}

TEST(TuneConfig, MissingFileIsNamed) {
  try {
    rctune::config::load_tune_config("/nonexistent/run.yaml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/run.yaml: cannot read"), std::string::npos)
        << e.what();
  }
}

TEST(TuneConfig, QuickstartConfigIsValid) {
  auto c = rctune::config::load_tune_config(std::string(RCTUNE_SOURCE_DIR) + "/configs/quickstart.yaml");
  EXPECT_EQ(c.tasks.size(), 2u);
  EXPECT_NE(c.text.find("quickstart"), std::string::npos);
}

TEST(TuneConfig, ReadsTheDistSection) {
  auto c = parse_tune_config(
      "tasks: ['matmul:M=8,N=8,K=8']\n"
      "measure: {simulated_latency: 0.25}\n"
      "dist: {group_size: 4, sync_every: 6, exclusive_measurement: true, llm_batch_window: 0.5, "
      "tree_interval: 5}\n");
  EXPECT_EQ(c.dist.group_size, 4);
  EXPECT_EQ(c.dist.sync_every, 6);
  EXPECT_TRUE(c.dist.exclusive_measurement);
  EXPECT_DOUBLE_EQ(c.dist.llm_batch_window, 0.5);
  EXPECT_DOUBLE_EQ(c.dist.tree_interval, 5);
  EXPECT_DOUBLE_EQ(c.measure.simulated_latency, 0.25);
}

TEST(TuneConfig, DistDefaultsPutAllRanksInOneGroup) {
  auto c = parse_tune_config("tasks: ['matmul:M=8,N=8,K=8']\n");
  EXPECT_EQ(c.dist.group_size, 0);
  EXPECT_EQ(c.dist.sync_every, 12);
  EXPECT_FALSE(c.dist.exclusive_measurement);
}

TEST(TuneConfig, BadDistKeyIsNamed) {
  std::string e = error_of("tasks: ['matmul:M=8,N=8,K=8']\ndist:\n  groups: 2\n");
  EXPECT_NE(e.find("run.yaml:3:3: dist.groups: unknown key"), std::string::npos) << e;
  EXPECT_NE(e.find("group_size"), std::string::npos) << e;
  e = error_of("tasks: ['matmul:M=8,N=8,K=8']\ndist: {sync_every: -1}\n");
  EXPECT_NE(e.find("dist.sync_every: must be between 0"), std::string::npos) << e;
}
