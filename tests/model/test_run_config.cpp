// The run config `rctune extract` writes: it parses as a run config, carries its weights, lists
// what is not tuned, and no name from the model reaches it unchecked.
#include <gtest/gtest.h>

#include "model/graph_builder.h"
#include "rctune/config/tune_config.h"
#include "rctune/model/run_config_writer.h"

using rctune::testing::GraphBuilder;

namespace {

// Two softmaxes of one shape, one of another, and a MaxPool.
rctune::model::Extraction softmax_model(const std::string& first_name) {
  GraphBuilder g;
  std::string a = g.op("Softmax", {g.input("a", {4, 16})}, first_name);
  std::string b = g.op("Softmax", {a}, "second");
  g.output(g.op("Softmax", {g.input("c", {2, 8})}, "third"));
  std::string p = g.op("MaxPool", {g.input("img", {1, 1, 4, 4})});
  g.attr("kernel_shape", {2, 2});
  g.output(b);
  g.output(p);
  return g.extract();
}

}  // namespace

TEST(RunConfig, ParsesAsARunConfigWithTheWeights) {
  auto cfg =
      rctune::config::parse_tune_config(rctune::model::run_config_yaml(softmax_model("first"), "run.h5"));
  ASSERT_EQ(cfg.tasks.size(), 2u);
  EXPECT_EQ(cfg.tasks[0].workload.name, "softmax:M=4,N=16,dtype=f32");
  EXPECT_EQ(cfg.tasks[0].weight, 2.0);
  EXPECT_EQ(cfg.tasks[1].workload.name, "softmax:M=2,N=8,dtype=f32");
  EXPECT_EQ(cfg.tasks[1].weight, 1.0);
  EXPECT_EQ(cfg.out, "run.h5");
}

TEST(RunConfig, ListsWhatIsNotTunedInItsHeader) {
  std::string yaml = rctune::model::run_config_yaml(softmax_model("first"), "run.h5");
  EXPECT_NE(yaml.find("#   MaxPool x1: no operator for it in the library\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("# first (2 layers): first, second\n"), std::string::npos) << yaml;
}

TEST(RunConfig, HostileNodeNamesAndTracePathsReachItOnlyAsSafeText) {
  std::string hostile = "x\"\n- workload: matmul:M=1\ntasks: []\n# \x1b[2J";
  auto e = softmax_model(hostile);
  EXPECT_EQ(e.tasks[0].name, "x__-_workload:_matmul:M_1_tasks:________2J");
  std::string yaml = rctune::model::run_config_yaml(e, "../evil\"\n.h5");
  auto cfg = rctune::config::parse_tune_config(yaml);
  EXPECT_EQ(cfg.tasks.size(), 2u);
  EXPECT_EQ(cfg.out, "evil__.h5");
}
