// The run config `rctune extract` writes: it parses as a run config, carries its weights, lists
// what is not tuned, and no name from the model reaches it unchecked.
#include <gtest/gtest.h>

#include <filesystem>

#include "apps/cli_runner.h"
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

TEST(RunConfig, FusedEpiloguesParseAsTheirWorkloads) {
  GraphBuilder g;
  std::string x = g.input("x", {1, 16, 8, 8});
  g.op("Conv", {x, g.input("w", {16, 16, 3, 3}), g.input("b", {16})}, "conv");
  g.attr("pads", {1, 1, 1, 1});
  g.output(g.op("Relu", {g.op("Add", {"conv_out", x})}));
  auto cfg = rctune::config::parse_tune_config(rctune::model::run_config_yaml(g.extract(), "run.h5"));
  ASSERT_EQ(cfg.tasks.size(), 1u);
  EXPECT_EQ(
      cfg.tasks[0].workload.name,
      "conv2d_nchw:N=1,C=16,H=8,W=8,K=16,R=3,S=3,stride=1,pad=1,dilation=1,dtype=f32,epilogue=bias+add+relu");
}

TEST(RunConfig, TheShippedModelConfigsParse) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(rctune::testing::source_dir()) / "configs" / "models";
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    auto cfg = rctune::config::load_tune_config(entry.path().string());
    EXPECT_FALSE(cfg.tasks.empty()) << entry.path();
    for (const auto& t : cfg.tasks) EXPECT_GE(t.weight, 1.0) << entry.path() << " " << t.workload.name;
  }
  EXPECT_EQ(files, 6);
}
