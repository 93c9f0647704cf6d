// Tests of the LLM proposer's prompt (rctune/llm/prompt.h): what the system and user messages
// carry, the default templates against configs/llm/prompts/, loading user templates.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "rctune/build_config.h"
#include "rctune/ir/operators.h"
#include "rctune/llm/prompt.h"
#include "rctune/schedule/lower.h"
#include "rctune/schedule/trace.h"
#include "rctune/search/action.h"
#include "search/strategy_test_util.h"
#include "support/contains.h"
#include "support/file_text.h"

namespace rctune::llm {
namespace {

using rctune::test_support::expect_contains_all;
using rctune::test_support::file_text;

namespace fs = std::filesystem;

search::HardwareDescription test_hardware() { return rctune::testing::fixed_hardware("Test CPU 9000"); }

schedule::State matmul() {
  return schedule::State(std::make_shared<const ir::Workload>(ir::make_operator("matmul:M=64,N=64,K=64")));
}

search::ProgramView view(const schedule::State& s, double gflops, double predicted) {
  search::ProgramView v;
  v.program = ir::to_string(schedule::lower(s));
  v.trace = search::number_steps(s.trace());
  v.gflops = gflops;
  v.speedup = std::isfinite(gflops) ? gflops / 2.0 : search::kNaN;
  v.predicted = predicted;
  v.status = std::isfinite(gflops) ? "ok" : "";
  return v;
}

// A node two actions below the root, with its parent and grandparent, a best program and failures.
search::ProposerInput sample_input() {
  const schedule::State root = matmul();
  const schedule::State parent = schedule::apply_trace(root, "split(C, j, [None, 16])\n");
  const schedule::State node = schedule::apply_trace(parent, "parallel(C, i)\n");
  search::ProposerInput in;
  in.state = node;
  in.history = {view(node, 12.5, 0.75), view(parent, 8.25, 0.5), view(root, search::kNaN, 0.125)};
  in.best = view(node, 12.5, 0.75);
  in.failed = {{"vectorize(C, k)", "step 3 `vectorize(C, k)`: loop k iterates over a reduction axis"}};
  in.hardware = test_hardware();
  in.count = 3;
  in.node = 7;
  in.depth = 2;
  return in;
}

fs::path temp_file(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / ("rctune_test_prompt_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

TEST(Prompt, HasASystemAndAUserMessage) {
  const auto m = build_prompt(sample_input(), PromptTemplates::defaults());
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].role, "system");
  EXPECT_EQ(m[1].role, "user");
}

TEST(Prompt, SystemMessageCarriesThePrimitiveReference) {
  const auto m = build_prompt(sample_input(), PromptTemplates::defaults());
  EXPECT_NE(m[0].content.find(schedule::primitive_reference()), std::string::npos);
}

TEST(Prompt, SystemMessageListsEveryPrimitiveOfTheRegistry) {
  const std::string system = build_prompt(sample_input(), PromptTemplates::defaults())[0].content;
  ASSERT_FALSE(schedule::primitive_registry().empty());
  for (const auto& p : schedule::primitive_registry()) {
    EXPECT_NE(system.find(p.name + "("), std::string::npos) << p.name;
    EXPECT_NE(system.find(p.signature), std::string::npos) << p.signature;
  }
}

TEST(Prompt, SystemMessageExplainsActionsAndTheAnswerFormat) {
  const std::string system = build_prompt(sample_input(), PromptTemplates::defaults())[0].content;
  expect_contains_all(system, {"3: delete", "3: split(C, i, [None, 16])", "```json", "\"proposals\"",
                               "holding 3 proposals", "First reason"});
}

TEST(Prompt, UserMessageShowsTheNumberedTraceOfEachProgramOfTheHistory) {
  const std::string user = build_prompt(sample_input(), PromptTemplates::defaults())[1].content;
  expect_contains_all(
      user, {"## Current program", "## Parent", "## Grandparent",
             "1: split(C, j, [None, 16])\n2: parallel(C, i)\n", "(no steps: the unscheduled program)"});
  // In order: the node, then its parent, then its grandparent.
  EXPECT_LT(user.find("## Current program"), user.find("## Parent"));
  EXPECT_LT(user.find("## Parent"), user.find("## Grandparent"));
}

TEST(Prompt, UserMessageShowsMeasuredAndPredictedPerformance) {
  const std::string user = build_prompt(sample_input(), PromptTemplates::defaults())[1].content;
  EXPECT_NE(user.find("measured: 12.50 GFLOP/s, speedup x6.25"), std::string::npos);
  EXPECT_NE(user.find("measured: 8.25 GFLOP/s"), std::string::npos);
  EXPECT_NE(user.find("\nnot measured\n"), std::string::npos);
  EXPECT_NE(user.find("predicted score: 0.1250"), std::string::npos) << "predicted where nothing is measured";
  EXPECT_EQ(user.find("predicted score: 0.7500"), std::string::npos)
      << "a measurement makes the prediction moot";
}

TEST(Prompt, UserMessageShowsAFailedMeasurementStatus) {
  search::ProposerInput in = sample_input();
  in.history[0].gflops = search::kNaN;
  in.history[0].status = "wrong_result";
  const std::string user = build_prompt(in, PromptTemplates::defaults())[1].content;
  EXPECT_NE(user.find("measurement failed: wrong_result"), std::string::npos);
}

TEST(Prompt, UserMessageShowsTheProgramText) {
  const search::ProposerInput in = sample_input();
  const std::string user = build_prompt(in, PromptTemplates::defaults())[1].content;
  EXPECT_NE(user.find(in.history[0].program), std::string::npos);
  EXPECT_NE(user.find(in.history[2].program), std::string::npos);
}

TEST(Prompt, UserMessageShowsFailedProposalsWithTheirErrors) {
  const std::string user = build_prompt(sample_input(), PromptTemplates::defaults())[1].content;
  EXPECT_NE(user.find("vectorize(C, k)"), std::string::npos);
  EXPECT_NE(user.find("loop k iterates over a reduction axis"), std::string::npos);
}

TEST(Prompt, UserMessageSaysWhenNothingFailed) {
  search::ProposerInput in = sample_input();
  in.failed.clear();
  const std::string user = build_prompt(in, PromptTemplates::defaults())[1].content;
  EXPECT_NE(user.find("# Recent proposals that failed in this part of the search\n\n(none)"),
            std::string::npos);
}

TEST(Prompt, UserMessageShowsWorkloadHardwareBestAndCount) {
  const search::ProposerInput in = sample_input();
  const std::string user = build_prompt(in, PromptTemplates::defaults())[1].content;
  std::string workload = ir::to_string(in.state.workload());
  while (!workload.empty() && workload.back() == '\n') workload.pop_back();
  EXPECT_NE(user.find(workload), std::string::npos);
  EXPECT_NE(user.find("Test CPU 9000, 8 cores"), std::string::npos);
  EXPECT_NE(user.find("Kokkos execution space: OpenMP"), std::string::npos);
  EXPECT_NE(user.find("(the same program as \"Current program\" above)"), std::string::npos);
  EXPECT_NE(user.find("Propose 3 actions"), std::string::npos);
}

TEST(Prompt, BestProgramNotInTheHistoryIsShownWithItsTrace) {
  search::ProposerInput in = sample_input();
  in.best = view(schedule::apply_trace(matmul(), "split(C, i, [None, 4])\n"), 30.0, 0.9);
  const std::string user = build_prompt(in, PromptTemplates::defaults())[1].content;
  const size_t best = user.find("# Best program so far");
  ASSERT_NE(best, std::string::npos);
  EXPECT_NE(user.find("measured: 30.00 GFLOP/s", best), std::string::npos);
  EXPECT_NE(user.find("1: split(C, i, [None, 4])", best), std::string::npos);
}

TEST(Prompt, NoPlaceholderIsLeft) {
  const auto m = build_prompt(sample_input(), PromptTemplates::defaults());
  EXPECT_EQ(m[0].content.find("{{"), std::string::npos);
  EXPECT_EQ(m[1].content.find("{{"), std::string::npos);
}

TEST(Prompt, LongProgramsAreTrimmedAndSaySo) {
  search::ProposerInput in = sample_input();
  std::string program;
  for (int i = 0; i < 500; ++i) program += "line " + std::to_string(i) + " of the program\n";
  in.history[0].program = program;
  const std::string user = build_prompt(in, PromptTemplates::defaults())[1].content;
  EXPECT_NE(user.find("trimmed"), std::string::npos);
  EXPECT_NE(user.find("lines omitted"), std::string::npos);
  EXPECT_NE(user.find("line 0 of the program\n"), std::string::npos);
  EXPECT_NE(user.find("line 499 of the program\n"), std::string::npos);
  EXPECT_EQ(user.find("line 250 of the program\n"), std::string::npos);
  EXPECT_LT(user.size(), program.size());
}

TEST(Prompt, ShortProgramsAreNotTrimmed) {
  const std::string user = build_prompt(sample_input(), PromptTemplates::defaults())[1].content;
  EXPECT_EQ(user.find("trimmed"), std::string::npos);
}

TEST(PromptTemplates, DefaultsEqualTheShippedFiles) {
  const fs::path dir = fs::path(RCTUNE_SOURCE_DIR) / "configs" / "llm" / "prompts";
  ASSERT_TRUE(fs::exists(dir / "system.txt"));
  ASSERT_TRUE(fs::exists(dir / "user.txt"));
  const PromptTemplates t = PromptTemplates::defaults();
  EXPECT_EQ(t.system, file_text(dir / "system.txt"));
  EXPECT_EQ(t.user, file_text(dir / "user.txt"));
}

TEST(PromptTemplates, LoadingTheShippedFilesGivesTheDefaults) {
  const fs::path dir = fs::path(RCTUNE_SOURCE_DIR) / "configs" / "llm" / "prompts";
  const PromptTemplates t = PromptTemplates::load((dir / "system.txt").string(), (dir / "user.txt").string());
  EXPECT_EQ(t.system, PromptTemplates::defaults().system);
  EXPECT_EQ(t.user, PromptTemplates::defaults().user);
}

TEST(PromptTemplates, LoadReplacesATemplateAndKeepsTheOther) {
  const fs::path p = temp_file("system_custom.txt", "Tune it. Give {{count}} ideas.\n{{primitives}}");
  const PromptTemplates t = PromptTemplates::load(p.string(), "");
  EXPECT_EQ(t.system, "Tune it. Give {{count}} ideas.\n{{primitives}}");
  EXPECT_EQ(t.user, PromptTemplates::defaults().user);
  const auto m = build_prompt(sample_input(), t);
  EXPECT_EQ(m[0].content, "Tune it. Give 3 ideas.\n" + schedule::primitive_reference());
}

TEST(PromptTemplates, LoadedUserTemplateIsRendered) {
  const fs::path p = temp_file("user_custom.txt", "W: {{ workload }}\nF: {{failed}}\nN={{count}}");
  const PromptTemplates t = PromptTemplates::load("", p.string());
  const std::string user = build_prompt(sample_input(), t)[1].content;
  EXPECT_EQ(user.rfind("W: ", 0), 0u);
  EXPECT_NE(user.find("loop k iterates over a reduction axis"), std::string::npos);
  EXPECT_NE(user.find("N=3"), std::string::npos);
}

TEST(PromptTemplates, UnknownPlaceholderIsAnErrorNamingItAndTheFile) {
  const fs::path p = temp_file("user_bad.txt", "{{workload}} and {{speed_of_light}}");
  try {
    PromptTemplates::load("", p.string());
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("{{speed_of_light}}"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
  }
}

TEST(PromptTemplates, UserPlaceholderInTheSystemTemplateIsAnError) {
  const fs::path p = temp_file("system_bad.txt", "{{primitives}} {{history}}");
  EXPECT_THROW(PromptTemplates::load(p.string(), ""), std::runtime_error);
}

TEST(PromptTemplates, MissingFileIsAnErrorNamingIt) {
  try {
    PromptTemplates::load("/nonexistent/rctune/system.txt", "");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/rctune/system.txt"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rctune::llm
