// `rctune report`: runs the real binary on traces written with runlog::RunWriter whose samples are
// known, and checks the numbers in the table, CSV and JSON output, and the errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "apps/cli_runner.h"
#include "rctune/runlog/writer.h"
#include "runlog/runlog_test_util.h"

namespace rctune {
namespace {

using runlog::SampleStatus;
using testing::run_rctune;

const char* kBestTrace = "split(C, i, [None, 8])\nparallel(C, i.0)";

runlog::SampleRecord sample(int64_t index, SampleStatus status, double gflops,
                            const std::string& proposer = "heuristic", const std::string& trace_text = "") {
  runlog::SampleRecord s;
  s.index = index;
  s.wall_time = static_cast<double>(index) + 0.5;
  s.strategy = "mcts";
  s.proposer = proposer;
  s.trace = trace_text;
  s.status = status;
  if (status == SampleStatus::Ok) {
    s.gflops = gflops;
    s.median_s = 1.0 / gflops;
  } else {
    s.error = "failed";
  }
  return s;
}

runlog::TaskInfo task(const std::string& name, double reference_gflops, double weight = 1) {
  runlog::TaskInfo t;
  t.name = name;
  t.weight = weight;
  t.workload = name;
  t.flops = 1e9;
  t.reference_gflops = reference_gflops;
  t.reference_seconds = reference_gflops > 0 ? 1.0 / reference_gflops : 0;
  return t;
}

// Task "matmul_64" (unscheduled 10 GFLOP/s, library 40 GFLOP/s):
//   index   0   1        2        3   4        5   6   7          8
//   status  ok  illegal  compile  ok  illegal  ok  ok  wrong      ok
//   GFLOP/s 20                    50           73  80             79
// Measured: 7 (illegal 2, failed 2). Best 80 at sample 6 (wall 6.5 s, 5th measured sample):
// x8 unscheduled, x2 library. 90% (72) first reached by sample 5, the 4th measured; 95% (76) by
// sample 6, the 5th.
// Task "softmax_8" (unscheduled 2 GFLOP/s, no library): ok 4, ok 5 -> best 5, x2.5, 90% and 95%
// both at the 2nd sample.
// As a model (1 GFLOP per run): matmul_64 weight 3, best 12.5 ms -> 37.5 ms (unscheduled 300 ms,
// library 75 ms); softmax_8 weight 2, best 200 ms -> 400 ms (unscheduled 1000 ms). Tuned 437.5 ms,
// unscheduled 1300 ms (2.97x); library over matmul_64 only: 75 ms against 37.5 ms tuned (2.00x).
// Shares: softmax_8 91.4%, matmul_64 8.6%.
void write_run(const std::string& path, bool finish) {
  runlog::RunWriter w = runlog::RunWriter::create(path, runlog::testing::sample_run_info());
  auto a = w.begin_task(task("matmul_64", 10, 3));
  w.set_library(a, "openblas_sgemm", 1.0 / 40, 40);
  w.append_sample(a, sample(0, SampleStatus::Ok, 20));
  w.append_sample(a, sample(1, SampleStatus::Illegal, 0));
  w.append_sample(a, sample(2, SampleStatus::CompileError, 0));
  w.append_sample(a, sample(3, SampleStatus::Ok, 50));
  w.append_sample(a, sample(4, SampleStatus::Illegal, 0));
  w.append_sample(a, sample(5, SampleStatus::Ok, 73));
  w.append_sample(a, sample(6, SampleStatus::Ok, 80, "llm", kBestTrace));
  w.append_sample(a, sample(7, SampleStatus::WrongResult, 0));
  w.append_sample(a, sample(8, SampleStatus::Ok, 79));
  auto b = w.begin_task(task("softmax_8", 2, 2));
  w.append_sample(b, sample(0, SampleStatus::Ok, 4));
  w.append_sample(b, sample(1, SampleStatus::Ok, 5, "random", "parallel(Y, i)"));
  if (finish) w.finish();
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  for (std::string s; in >> s;) w.push_back(s);
  return w;
}

// The output line that starts with `prefix`, or "".
std::string line_starting(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) return line;
  return "";
}

// RFC 4180 records (quoted fields may hold commas, quotes and newlines).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false, any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"')
        field += '"', ++i;
      else if (c == '"')
        quoted = false;
      else
        field += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field), field.clear();
    } else if (c == '\n') {
      rows.back().push_back(field), field.clear();
      rows.emplace_back();
    } else {
      field += c;
    }
    any = true;
  }
  if (rows.back().empty()) rows.pop_back();
  if (!any) rows.clear();
  return rows;
}

// One model's row of the report's "llm" table, as JSON.
struct ModelRow {
  std::string model;
  int calls, failed, cache_hits, fallbacks;
  double fallback_rate_percent;
  int prompt_tokens, completion_tokens;
  double cost_usd, mean_latency_s;
};

void expect_model_row(const nlohmann::json& q, const ModelRow& want) {
  EXPECT_EQ(q["model"], want.model);
  EXPECT_EQ(q["calls"], want.calls);
  EXPECT_EQ(q["failed"], want.failed);
  EXPECT_EQ(q["cache_hits"], want.cache_hits);
  EXPECT_EQ(q["fallbacks"], want.fallbacks);
  EXPECT_DOUBLE_EQ(q["fallback_rate_percent"].get<double>(), want.fallback_rate_percent);
  EXPECT_EQ(q["prompt_tokens"], want.prompt_tokens);
  EXPECT_EQ(q["completion_tokens"], want.completion_tokens);
  EXPECT_NEAR(q["cost_usd"].get<double>(), want.cost_usd, 1e-12);
  EXPECT_DOUBLE_EQ(q["mean_latency_s"].get<double>(), want.mean_latency_s);
}

// What `rctune report` says, with `options`, of a run written by write_run(path, finish).
testing::CliResult report_of_run(bool finish, const std::string& options = "") {
  runlog::testing::TempDir dir;
  write_run(dir.file("run.h5"), finish);
  return run_rctune("report " + dir.file("run.h5") + options);
}

TEST(Report, TableShowsPerTaskNumbers) {
  auto r = report_of_run(false);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(words(line_starting(r.output, "matmul_64")),
            (std::vector<std::string>{"matmul_64", "7", "2", "2", "80.00", "8.00x", "2.00x", "openblas_sgemm",
                                      "4", "5", "6.5", "s", "mcts/llm"}))
      << r.output;
  EXPECT_EQ(words(line_starting(r.output, "softmax_8")),
            (std::vector<std::string>{"softmax_8", "2", "0", "0", "5.00", "2.50x", "-", "-", "2", "2", "1.5",
                                      "s", "mcts/random"}))
      << r.output;
}

TEST(Report, TableEstimatesTheModelLatencyAndRanksTasksByTheirShare) {
  auto r = report_of_run(false);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(words(line_starting(r.output, "tuned:")), (std::vector<std::string>{"tuned:", "437.5", "ms"}))
      << r.output;
  EXPECT_EQ(words(line_starting(r.output, "unscheduled:")),
            (std::vector<std::string>{"unscheduled:", "1.3", "s", "(tuned", "is", "2.97x", "faster)"}))
      << r.output;
  EXPECT_NE(line_starting(r.output, "library:")
                .find("75 ms over the 1 of 2 tasks that have one, tuned 37.5 ms "
                      "there (2.00x)"),
            std::string::npos)
      << r.output;
  const std::size_t table = r.output.find("\nestimated model latency");
  ASSERT_NE(table, std::string::npos) << r.output;
  const std::string rows = r.output.substr(table);
  EXPECT_EQ(words(line_starting(rows, "softmax_8")),
            (std::vector<std::string>{"softmax_8", "2", "200", "ms", "400", "ms", "91.4%", "500", "ms", "-"}))
      << r.output;
  EXPECT_EQ(words(line_starting(rows, "matmul_64")),
            (std::vector<std::string>{"matmul_64", "3", "12.5", "ms", "37.5", "ms", "8.6%", "100", "ms", "25",
                                      "ms"}))
      << r.output;
  EXPECT_LT(rows.find("softmax_8"), rows.find("matmul_64")) << "the largest share first\n" << r.output;
}

TEST(Report, JsonHasTheModelEstimate) {
  auto r = report_of_run(true, " --format json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json m = nlohmann::json::parse(r.output).at("model");
  EXPECT_NEAR(m.at("tuned_s").get<double>(), 0.4375, 1e-12);
  EXPECT_NEAR(m.at("unscheduled_s").get<double>(), 1.3, 1e-12);
  EXPECT_EQ(m.at("library_tasks"), 1);
  EXPECT_NEAR(m.at("library_s").get<double>(), 0.075, 1e-12);
  EXPECT_NEAR(m.at("library_tuned_s").get<double>(), 0.0375, 1e-12);
  ASSERT_EQ(m.at("tasks").size(), 2u);
  EXPECT_EQ(m.at("tasks")[0].at("name"), "softmax_8");
  EXPECT_NEAR(m.at("tasks")[0].at("share").get<double>(), 0.4 / 0.4375, 1e-12);
  EXPECT_TRUE(m.at("tasks")[0].at("library_s").is_null());
}

TEST(Report, TablePrintsTheBestTraceOfEachTask) {
  auto r = report_of_run(false);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(
      r.output.find("# matmul_64: best schedule, sample 6, 80.00 GFLOP/s\n" + std::string(kBestTrace) + "\n"),
      std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("# softmax_8: best schedule, sample 1, 5.00 GFLOP/s\nparallel(Y, i)\n"),
            std::string::npos)
      << r.output;
}

TEST(Report, TableHeaderSaysWhetherTheRunFinishedAndItsResumes) {
  runlog::testing::TempDir dir;
  write_run(dir.file("running.h5"), false);
  auto running = run_rctune("report " + dir.file("running.h5"));
  ASSERT_EQ(running.exit_code, 0) << running.output;
  EXPECT_NE(line_starting(running.output, "state:").find("not finished"), std::string::npos)
      << running.output;
  EXPECT_EQ(words(line_starting(running.output, "resumes:")), (std::vector<std::string>{"resumes:", "0"}));
  EXPECT_EQ(words(line_starting(running.output, "strategy:")),
            (std::vector<std::string>{"strategy:", "mcts", "(proposer", "heuristic)"}));

  write_run(dir.file("done.h5"), false);
  runlog::RunWriter::open_for_resume(dir.file("done.h5")).finish();
  auto done = run_rctune("report " + dir.file("done.h5"));
  ASSERT_EQ(done.exit_code, 0) << done.output;
  EXPECT_EQ(line_starting(done.output, "state:").find("not finished"), std::string::npos) << done.output;
  EXPECT_NE(line_starting(done.output, "state:").find("finished 20"), std::string::npos) << done.output;
  EXPECT_EQ(words(line_starting(done.output, "resumes:")).at(1), "1:") << done.output;
}

TEST(Report, CsvHasOneRowPerTaskWithTheTraceQuoted) {
  auto r = report_of_run(true, " --format csv");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto rows = parse_csv(r.output);
  ASSERT_EQ(rows.size(), 3u) << r.output;
  const std::vector<std::string> header = {"task",
                                           "measured",
                                           "illegal",
                                           "failed",
                                           "best_gflops",
                                           "best_sample",
                                           "speedup_unscheduled",
                                           "speedup_library",
                                           "library",
                                           "samples_to_90",
                                           "samples_to_95",
                                           "time_to_best_s",
                                           "strategy",
                                           "proposer",
                                           "best_trace"};
  EXPECT_EQ(rows[0], header);
  EXPECT_EQ(rows[1],
            (std::vector<std::string>{"matmul_64", "7", "2", "2", "80", "6", "8", "2", "openblas_sgemm", "4",
                                      "5", "6.5", "mcts", "llm", kBestTrace}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"softmax_8", "2", "0", "0", "5", "1", "2.5", "", "", "2", "2",
                                               "1.5", "mcts", "random", "parallel(Y, i)"}));
}

TEST(Report, JsonHasRunInfoAndTasks) {
  auto r = report_of_run(true, " --format json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  nlohmann::json j = nlohmann::json::parse(r.output);
  auto info = runlog::testing::sample_run_info();
  EXPECT_EQ(j["run"]["config_path"], info.config_path);
  EXPECT_EQ(j["run"]["strategy"], "mcts");
  EXPECT_EQ(j["run"]["seed"].get<uint64_t>(), info.seed);
  EXPECT_EQ(j["run"]["host"], info.host);
  EXPECT_EQ(j["run"]["finished"], true);
  EXPECT_TRUE(j["run"]["end_time"].is_string());
  ASSERT_EQ(j["tasks"].size(), 2u);
  const auto& a = j["tasks"][0];
  EXPECT_EQ(a["name"], "matmul_64");
  EXPECT_EQ(a["measured"], 7);
  EXPECT_EQ(a["illegal"], 2);
  EXPECT_EQ(a["failed"], 2);
  EXPECT_DOUBLE_EQ(a["best"]["gflops"].get<double>(), 80);
  EXPECT_EQ(a["best"]["sample"], 6);
  EXPECT_DOUBLE_EQ(a["best"]["wall_time_s"].get<double>(), 6.5);
  EXPECT_EQ(a["best"]["proposer"], "llm");
  EXPECT_EQ(a["best"]["trace"], kBestTrace);
  EXPECT_DOUBLE_EQ(a["speedup_unscheduled"].get<double>(), 8);
  EXPECT_DOUBLE_EQ(a["speedup_library"].get<double>(), 2);
  EXPECT_EQ(a["library"], "openblas_sgemm");
  EXPECT_EQ(a["samples_to_90"], 4);
  EXPECT_EQ(a["samples_to_95"], 5);
  const auto& b = j["tasks"][1];
  EXPECT_DOUBLE_EQ(b["speedup_unscheduled"].get<double>(), 2.5);
  EXPECT_TRUE(b["speedup_library"].is_null());
  EXPECT_TRUE(b["library"].is_null());
  EXPECT_EQ(b["samples_to_90"], 2);
}

TEST(Report, JsonOfAnUnfinishedRunHasNoEndTime) {
  auto r = report_of_run(false, " --format json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  nlohmann::json j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["run"]["finished"], false);
  EXPECT_TRUE(j["run"]["end_time"].is_null());
}

TEST(Report, TaskWithoutCorrectSamplesHasNoBest) {
  runlog::testing::TempDir dir;
  {
    runlog::RunWriter w = runlog::RunWriter::create(dir.file("run.h5"), runlog::testing::sample_run_info());
    auto t = w.begin_task(task("broken", 3));
    w.append_sample(t, sample(0, SampleStatus::Timeout, 0));
    w.append_sample(t, sample(1, SampleStatus::Illegal, 0));
  }
  auto r = run_rctune("report " + dir.file("run.h5"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(words(line_starting(r.output, "broken")),
            (std::vector<std::string>{"broken", "1", "1", "1", "-", "-", "-", "-", "-", "-", "-", "-"}))
      << r.output;
  EXPECT_NE(r.output.find("# broken: no sample measured correctly"), std::string::npos) << r.output;
}

runlog::LlmCallRecord llm_call(int64_t index, const std::string& model, bool ok, bool from_cache,
                               bool fallback, int64_t prompt_tokens, int64_t completion_tokens,
                               double latency_s, double cost_usd) {
  runlog::LlmCallRecord c;
  c.index = index;
  c.wall_time = static_cast<double>(index);
  c.model = model;
  c.ok = ok;
  c.from_cache = from_cache;
  c.fallback = fallback;
  c.prompt_tokens = prompt_tokens;
  c.completion_tokens = completion_tokens;
  c.latency_s = latency_s;
  c.cost_usd = cost_usd;
  c.error = fallback ? "timeout" : "";
  return c;
}

// The run of write_run with requests to two models, over both tasks:
//   model   task       ok  cache  fallback  prompt  completion  latency  cost
//   qwen-7b matmul_64  y                       100          20      1.0  0.0010
//   qwen-7b matmul_64  y   y                   100          20      0.0  0
//   qwen-7b matmul_64            y             100           0      3.0  0
//   qwen-7b matmul_64  y         y             120          40      2.0  0.0020  (answer unparseable)
//   qwen-7b softmax_8  y                        80          10      2.0  0.0005
//   gpt-4o  softmax_8  y                       200          50      4.0  0.0125
//   gpt-4o  softmax_8            y             200           0      5.0  0
// qwen-7b: 5 calls, 1 failed, 1 cache hit, 2 fallbacks (40%), 500 + 90 tokens, 0.0035 USD, mean
// latency 2.00 s (of the 4 calls not answered from the cache). gpt-4o: 2 calls, 1 failed, 0 cache
// hits, 1 fallback (50%), 400 + 50 tokens, 0.0125 USD, mean latency 4.50 s.
void write_run_with_llm_calls(const std::string& path) {
  write_run(path, false);
  runlog::RunWriter w = runlog::RunWriter::open_for_resume(path);
  std::vector<runlog::LlmCallRecord> a = {llm_call(0, "qwen-7b", true, false, false, 100, 20, 1.0, 0.001),
                                          llm_call(1, "qwen-7b", true, true, false, 100, 20, 0.0, 0),
                                          llm_call(2, "qwen-7b", false, false, true, 100, 0, 3.0, 0),
                                          llm_call(3, "qwen-7b", true, false, true, 120, 40, 2.0, 0.002)};
  std::vector<runlog::LlmCallRecord> b = {llm_call(0, "qwen-7b", true, false, false, 80, 10, 2.0, 0.0005),
                                          llm_call(1, "gpt-4o", true, false, false, 200, 50, 4.0, 0.0125),
                                          llm_call(2, "gpt-4o", false, false, true, 200, 0, 5.0, 0)};
  w.append_llm_calls(*w.find_task("matmul_64"), a);
  w.append_llm_calls(*w.find_task("softmax_8"), b);
  w.finish();
}

TEST(Report, TableHasAnLlmSectionWithOneRowPerModel) {
  runlog::testing::TempDir dir;
  write_run_with_llm_calls(dir.file("run.h5"));
  auto r = run_rctune("report " + dir.file("run.h5"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(line_starting(r.output, "LLM"), "") << r.output;
  EXPECT_EQ(words(line_starting(r.output, "model")),
            (std::vector<std::string>{"model", "calls", "failed", "cache", "hits", "fallbacks", "fallback",
                                      "rate", "prompt", "tokens", "completion", "tokens", "cost", "USD",
                                      "mean", "latency"}))
      << r.output;
  EXPECT_EQ(
      words(line_starting(r.output, "qwen-7b")),
      (std::vector<std::string>{"qwen-7b", "5", "1", "1", "2", "40.0%", "500", "90", "0.0035", "2.00", "s"}))
      << r.output;
  EXPECT_EQ(
      words(line_starting(r.output, "gpt-4o")),
      (std::vector<std::string>{"gpt-4o", "2", "1", "0", "1", "50.0%", "400", "50", "0.0125", "4.50", "s"}))
      << r.output;
  // The models come in the order they were first asked.
  EXPECT_LT(r.output.find("\nqwen-7b"), r.output.find("\ngpt-4o")) << r.output;
}

TEST(Report, JsonHasOneLlmEntryPerModel) {
  runlog::testing::TempDir dir;
  write_run_with_llm_calls(dir.file("run.h5"));
  auto r = run_rctune("report " + dir.file("run.h5") + " --format json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  nlohmann::json j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j["llm"].size(), 2u) << r.output;
  expect_model_row(j["llm"][0], {"qwen-7b", 5, 1, 1, 2, 40, 500, 90, 0.0035, 2.0});
  expect_model_row(j["llm"][1], {"gpt-4o", 2, 1, 0, 1, 50, 400, 50, 0.0125, 4.5});
}

TEST(Report, MeanLatencyOfAModelAnsweredOnlyFromTheCacheIsNull) {
  runlog::testing::TempDir dir;
  {
    runlog::RunWriter w = runlog::RunWriter::create(dir.file("run.h5"), runlog::testing::sample_run_info());
    auto t = w.begin_task(task("matmul_64", 10));
    std::vector<runlog::LlmCallRecord> c = {llm_call(0, "qwen-7b", true, true, false, 100, 20, 0.001, 0)};
    w.append_llm_calls(t, c);
  }
  auto r = run_rctune("report " + dir.file("run.h5") + " --format json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  nlohmann::json j = nlohmann::json::parse(r.output);
  ASSERT_EQ(j["llm"].size(), 1u) << r.output;
  EXPECT_TRUE(j["llm"][0]["mean_latency_s"].is_null()) << r.output;
  auto table = run_rctune("report " + dir.file("run.h5"));
  EXPECT_EQ(words(line_starting(table.output, "qwen-7b")).back(), "-") << table.output;
}

TEST(Report, RunWithoutLlmCallsHasNoLlmSection) {
  runlog::testing::TempDir dir;
  write_run(dir.file("run.h5"), true);
  auto r = run_rctune("report " + dir.file("run.h5"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("LLM"), std::string::npos) << r.output;
  EXPECT_EQ(line_starting(r.output, "model"), "") << r.output;
  auto json = run_rctune("report " + dir.file("run.h5") + " --format json");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  nlohmann::json j = nlohmann::json::parse(json.output);
  EXPECT_TRUE(j["llm"].is_array());
  EXPECT_TRUE(j["llm"].empty());
}

TEST(Report, CsvListsTasksOnlyWhenTheRunAskedLanguageModels) {
  runlog::testing::TempDir dir;
  write_run_with_llm_calls(dir.file("run.h5"));
  auto r = run_rctune("report " + dir.file("run.h5") + " --format csv");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto rows = parse_csv(r.output);
  ASSERT_EQ(rows.size(), 3u) << r.output;
  EXPECT_EQ(rows[1].at(0), "matmul_64");
  EXPECT_EQ(rows[2].at(0), "softmax_8");
}

// A round of the task scheduler (gradient policy) for `task`, leaving the model at `latency_s`.
runlog::AllocationRecord allocation(int64_t round, const std::string& task, int64_t spent, double task_best_s,
                                    double latency_s) {
  runlog::AllocationRecord a;
  a.round = round;
  a.wall_time = 10.0 * static_cast<double>(round + 1);
  a.task = task;
  a.scheduler = "gradient";
  a.reason = round < 2 ? "first round" : "largest expected gain";
  a.samples = spent;
  a.spent = spent;
  a.task_best_s = task_best_s;
  a.latency_s = latency_s;
  return a;
}

// The run of write_run, and then `rounds` of a task scheduler.
void write_run_and_rounds(const std::string& path, const std::vector<runlog::AllocationRecord>& rounds) {
  write_run(path, false);
  runlog::RunWriter w = runlog::RunWriter::open_for_resume(path);
  w.append_allocations(rounds);
  w.finish();
}

// The run of write_run, its samples handed out by a task scheduler in five rounds:
//   round  task       spent  so far  task best  latency (3 x matmul_64 + 2 x softmax_8)
//   0      matmul_64      4       4  20 ms      1.06 s   (softmax_8 at its unscheduled 500 ms)
//   1      softmax_8      1       5  250 ms     560 ms
//   2      matmul_64      2       7  12.5 ms    537.5 ms
//   3      softmax_8      1       8  200 ms     437.5 ms
//   4      matmul_64      1       9  12.5 ms    437.5 ms
// Gain per sample over each task's last three rounds: matmul_64 from its unscheduled 100 ms to
// 12.5 ms over 7 samples, 3 x 87.5 ms / 7 = 37.5 ms; softmax_8 from 500 ms to 200 ms over 2
// samples, 2 x 300 ms / 2 = 300 ms.
void write_run_with_rounds(const std::string& path) {
  write_run_and_rounds(
      path, {allocation(0, "matmul_64", 4, 0.02, 1.06), allocation(1, "softmax_8", 1, 0.25, 0.56),
             allocation(2, "matmul_64", 2, 0.0125, 0.5375), allocation(3, "softmax_8", 1, 0.2, 0.4375),
             allocation(4, "matmul_64", 1, 0.0125, 0.4375)});
}

// The words of each line of the section titled by the line that starts with `title`, up to the
// first empty line (the title line excluded).
std::vector<std::vector<std::string>> section_lines(const std::string& text, const std::string& title) {
  std::istringstream in(text);
  std::vector<std::vector<std::string>> lines;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (!inside) {
      inside = line.rfind(title, 0) == 0;
      continue;
    }
    if (line.empty()) break;
    lines.push_back(words(line));
  }
  return lines;
}

TEST(Report, TableDrawsTheModelLatencyAfterEachRound) {
  runlog::testing::TempDir dir;
  write_run_with_rounds(dir.file("run.h5"));
  auto r = run_rctune("report " + dir.file("run.h5"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(line_starting(r.output, "model latency by round"),
            "model latency by round (scheduler gradient; 5 rounds)")
      << r.output;
  using Words = std::vector<std::string>;
  EXPECT_EQ(section_lines(r.output, "model latency by round"),
            (std::vector<Words>{{"round", "task", "samples", "samples", "so", "far", "latency"},
                                {"0", "matmul_64", "4", "4", "1.06", "s"},
                                {"1", "softmax_8", "1", "5", "560", "ms"},
                                {"2", "matmul_64", "2", "7", "537.5", "ms"},
                                {"3", "softmax_8", "1", "8", "437.5", "ms"},
                                {"4", "matmul_64", "1", "9", "437.5", "ms"}}))
      << r.output;
  EXPECT_EQ(r.output.find("not shown"), std::string::npos) << "five rounds: every one shown\n" << r.output;
}

TEST(Report, TableHasEachTasksGainPerSampleAndNamesTheTasksWorthMoreSamples) {
  runlog::testing::TempDir dir;
  write_run_with_rounds(dir.file("run.h5"));
  auto r = run_rctune("report " + dir.file("run.h5"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::size_t table = r.output.find("\nestimated model latency");
  ASSERT_NE(table, std::string::npos) << r.output;
  const std::string rows = r.output.substr(table);
  EXPECT_EQ(words(line_starting(rows, "task ")).back(), "gain/sample") << r.output;
  EXPECT_EQ(words(line_starting(rows, "softmax_8")),
            (std::vector<std::string>{"softmax_8", "2", "200", "ms", "400", "ms", "91.4%", "500", "ms", "-",
                                      "100", "ms"}))
      << r.output;
  EXPECT_EQ(words(line_starting(rows, "matmul_64")),
            (std::vector<std::string>{"matmul_64", "3", "12.5", "ms", "37.5", "ms", "8.6%", "100", "ms", "25",
                                      "ms", "7.5", "ms"}))
      << r.output;
  EXPECT_EQ(line_starting(rows, "worth more samples"),
            "worth more samples (largest gain/sample in their last rounds): softmax_8, matmul_64")
      << r.output;
}

TEST(Report, JsonHasEveryRoundAndEachTasksGainPerSample) {
  runlog::testing::TempDir dir;
  write_run_with_rounds(dir.file("run.h5"));
  auto r = run_rctune("report " + dir.file("run.h5") + " --format json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json m = nlohmann::json::parse(r.output).at("model");
  ASSERT_EQ(m.at("rounds").size(), 5u) << r.output;
  const nlohmann::json& third = m.at("rounds")[2];
  EXPECT_EQ(third.at("round"), 2);
  EXPECT_EQ(third.at("task"), "matmul_64");
  EXPECT_EQ(third.at("scheduler"), "gradient");
  EXPECT_EQ(third.at("reason"), "largest expected gain");
  EXPECT_EQ(third.at("spent"), 2);
  EXPECT_EQ(third.at("samples_so_far"), 7);
  EXPECT_DOUBLE_EQ(third.at("task_best_s").get<double>(), 0.0125);
  EXPECT_DOUBLE_EQ(third.at("latency_s").get<double>(), 0.5375);
  EXPECT_EQ(m.at("worth_more_samples"), (nlohmann::json{"softmax_8", "matmul_64"}));
  ASSERT_EQ(m.at("tasks").size(), 2u);
  EXPECT_EQ(m.at("tasks")[0].at("name"), "softmax_8");
  // Each task's rounds after the one that found its first kernel: softmax_8's round 3 (0.25 -> 0.2
  // s, weight 2, 1 sample), matmul_64's rounds 2 and 4 (0.02 -> 0.0125 s, weight 3, 3 samples).
  EXPECT_NEAR(m.at("tasks")[0].at("gain_per_sample_s").get<double>(), 2 * 0.05, 1e-12);
  EXPECT_EQ(m.at("tasks")[0].at("gain_rounds"), 1);
  EXPECT_NEAR(m.at("tasks")[1].at("gain_per_sample_s").get<double>(), 3 * 0.0075 / 3, 1e-12);
  EXPECT_EQ(m.at("tasks")[1].at("gain_rounds"), 2);
}

// write_run with 60 rounds, all given to matmul_64, one sample each, its best 12.5 ms from round 0 on.
void write_run_with_many_rounds(const std::string& path) {
  std::vector<runlog::AllocationRecord> rounds;
  for (int64_t k = 0; k < 60; ++k) rounds.push_back(allocation(k, "matmul_64", 1, 0.0125, 0.4375));
  write_run_and_rounds(path, rounds);
}

TEST(Report, TableShowsTheFirstRoundsThenEvenlySpacedOnesAndTheLastAndSaysHowManyItLeftOut) {
  runlog::testing::TempDir dir;
  write_run_with_many_rounds(dir.file("run.h5"));
  auto r = run_rctune("report " + dir.file("run.h5"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::vector<std::string>> lines = section_lines(r.output, "model latency by round");
  ASSERT_GE(lines.size(), 3u) << r.output;
  const std::string note = lines.back().front();
  lines.pop_back();            // the note on the rounds left out
  lines.erase(lines.begin());  // the column names
  ASSERT_EQ(lines.size(), 25u) << r.output;
  std::vector<int> shown;
  for (const auto& l : lines) shown.push_back(std::stoi(l.at(0)));
  EXPECT_EQ(std::vector<int>(shown.begin(), shown.begin() + 5), (std::vector<int>{0, 1, 2, 3, 4}))
      << r.output;
  EXPECT_EQ(shown.back(), 59) << r.output;
  EXPECT_TRUE(std::is_sorted(shown.begin(), shown.end()) &&
              std::adjacent_find(shown.begin(), shown.end()) == shown.end())
      << r.output;
  EXPECT_LE(shown[6] - shown[5], 3) << "evenly spaced after the first rounds\n" << r.output;
  EXPECT_NE(r.output.find("(35 of 60 rounds not shown"), std::string::npos) << r.output;
  EXPECT_EQ(note, "(35") << r.output;

  auto json = run_rctune("report " + dir.file("run.h5") + " --format json");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const nlohmann::json rounds = nlohmann::json::parse(json.output).at("model").at("rounds");
  ASSERT_EQ(rounds.size(), 60u);
  for (std::size_t k = 0; k < rounds.size(); ++k) EXPECT_EQ(rounds[k].at("round"), k);
  EXPECT_EQ(rounds.back().at("samples_so_far"), 60);
}

TEST(Report, TaskWithoutRoundsShowsNoGainAndNoImprovementIsSaid) {
  runlog::testing::TempDir dir;
  write_run_with_many_rounds(dir.file("run.h5"));  // matmul_64 unchanged in its last rounds
  auto r = run_rctune("report " + dir.file("run.h5"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string rows = r.output.substr(r.output.find("\nestimated model latency"));
  EXPECT_EQ(words(line_starting(rows, "softmax_8")).back(), "-") << r.output;
  EXPECT_EQ(words(line_starting(rows, "matmul_64")),
            (std::vector<std::string>{"matmul_64", "3", "12.5", "ms", "37.5", "ms", "8.6%", "100", "ms", "25",
                                      "ms", "0", "ms"}))
      << r.output;
  EXPECT_NE(line_starting(rows, "no task improved in its last rounds"), "") << r.output;
  EXPECT_EQ(line_starting(rows, "worth more samples"), "") << r.output;
}

TEST(Report, RunWithoutRoundsHasNoRoundSectionOrGainColumn) {
  runlog::testing::TempDir dir;
  write_run(dir.file("run.h5"), true);
  auto r = run_rctune("report " + dir.file("run.h5"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("by round"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("gain"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("worth more samples"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("improved"), std::string::npos) << r.output;
  auto json = run_rctune("report " + dir.file("run.h5") + " --format json");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  const nlohmann::json m = nlohmann::json::parse(json.output).at("model");
  EXPECT_TRUE(m.at("rounds").is_array() && m.at("rounds").empty()) << json.output;
  EXPECT_TRUE(m.at("worth_more_samples").empty()) << json.output;
  EXPECT_TRUE(m.at("tasks")[0].at("gain_per_sample_s").is_null()) << json.output;
}

TEST(Report, MissingFileIsAUserError) {
  runlog::testing::TempDir dir;
  auto r = run_rctune("report " + dir.file("nothing.h5"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(
      r.output.find("rctune: error: " + dir.file("nothing.h5") + ": cannot read the trace: No such file"),
      std::string::npos)
      << r.output;
}

TEST(Report, FileThatIsNotATraceIsAUserError) {
  runlog::testing::TempDir dir;
  std::ofstream(dir.file("notes.h5")) << "not hdf5\n";
  auto r = run_rctune("report " + dir.file("notes.h5"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("not an rctune trace"), std::string::npos) << r.output;
}

// A second run of matmul_64 with the random strategy: ok 30, ok 40 (best 40, half the first run's 80).
void write_random_run(const std::string& path) {
  runlog::RunInfo info = runlog::testing::sample_run_info();
  info.strategy = "random";
  runlog::RunWriter w = runlog::RunWriter::create(path, info);
  auto a = w.begin_task(task("matmul_64", 10, 3));
  w.append_sample(a, sample(0, SampleStatus::Ok, 30));
  w.append_sample(a, sample(1, SampleStatus::Ok, 40));
  w.finish();
}

// What `rctune report` says, with `options`, of write_run's trace mcts.h5 and write_random_run's
// random.h5 in `dir`, in that order.
testing::CliResult report_of_two_runs(const runlog::testing::TempDir& dir, const std::string& options) {
  write_run(dir.file("mcts.h5"), true);
  write_random_run(dir.file("random.h5"));
  return run_rctune("report" + options + " " + dir.file("mcts.h5") + " " + dir.file("random.h5"));
}

TEST(Report, TwoTracesShowOneRowPerTaskAndTraceWithEachBestAgainstTheFastest) {
  runlog::testing::TempDir dir;
  auto r = report_of_two_runs(dir, "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(line_starting(r.output, "[1]").find(dir.file("mcts.h5") + "    mcts (proposer heuristic)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(line_starting(r.output, "[2]").find(dir.file("random.h5") + "  random (proposer heuristic)"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(words(line_starting(r.output, "matmul_64")),
            (std::vector<std::string>{"matmul_64", "[1]", "mcts/heuristic", "7", "2", "2", "80.00", "100.0%",
                                      "8.00x", "2.00x", "4", "5", "6.5", "s", "mcts/llm"}))
      << r.output;
  EXPECT_EQ(words(line_starting(r.output, "           [2]")),
            (std::vector<std::string>{"[2]", "random/heuristic", "2", "0", "0", "40.00", "50.0%", "4.00x",
                                      "-", "2", "2", "1.5", "s", "mcts/heuristic"}))
      << r.output;
  EXPECT_EQ(words(line_starting(r.output, "softmax_8")),
            (std::vector<std::string>{"softmax_8", "[1]", "mcts/heuristic", "2", "0", "0", "5.00", "100.0%",
                                      "2.50x", "-", "2", "2", "1.5", "s", "mcts/random"}))
      << r.output;
}

TEST(Report, TwoTracesInCsvHaveATraceColumn) {
  runlog::testing::TempDir dir;
  auto r = report_of_two_runs(dir, " --format csv");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto rows = parse_csv(r.output);
  ASSERT_EQ(rows.size(), 4u) << r.output;
  EXPECT_EQ(rows[0][0], "trace");
  EXPECT_EQ(rows[0][1], "task");
  EXPECT_EQ((std::vector<std::string>{rows[1][0], rows[1][1], rows[1][5]}),
            (std::vector<std::string>{dir.file("mcts.h5"), "matmul_64", "80"}));
  EXPECT_EQ((std::vector<std::string>{rows[2][0], rows[2][1]}),
            (std::vector<std::string>{dir.file("mcts.h5"), "softmax_8"}));
  EXPECT_EQ((std::vector<std::string>{rows[3][0], rows[3][1], rows[3][5]}),
            (std::vector<std::string>{dir.file("random.h5"), "matmul_64", "40"}));
}

TEST(Report, TwoTracesInJsonAreAListOfRunsEachAsTheReportOfOne) {
  runlog::testing::TempDir dir;
  auto both = report_of_two_runs(dir, " --format json");
  auto one = run_rctune("report --format json " + dir.file("random.h5"));
  ASSERT_EQ(both.exit_code, 0) << both.output;
  const nlohmann::json runs = nlohmann::json::parse(both.output).at("runs");
  ASSERT_EQ(runs.size(), 2u) << both.output;
  EXPECT_EQ(runs[0].at("trace"), dir.file("mcts.h5"));
  EXPECT_EQ(runs[0].at("tasks").size(), 2u);
  EXPECT_EQ(runs[1], nlohmann::json::parse(one.output));
}

TEST(Report, SecondFileThatIsNotATraceIsAUserError) {
  runlog::testing::TempDir dir;
  write_run(dir.file("run.h5"), true);
  std::ofstream(dir.file("notes.h5")) << "not hdf5\n";
  auto r = run_rctune("report " + dir.file("run.h5") + " " + dir.file("notes.h5"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("not an rctune trace"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace rctune
