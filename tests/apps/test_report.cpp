// `rctune report`: runs the real binary on traces written with trace::RunWriter whose samples are
// known, and checks the numbers in the table, CSV and JSON output, and the errors.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "apps/cli_runner.h"
#include "rctune/trace/writer.h"
#include "trace/trace_test_util.h"

namespace rctune {
namespace {

using testing::run_rctune;
using trace::SampleStatus;

const char* kBestTrace = "split(C, i, [None, 8])\nparallel(C, i.0)";

trace::SampleRecord sample(int64_t index, SampleStatus status, double gflops,
                           const std::string& proposer = "heuristic", const std::string& trace_text = "") {
  trace::SampleRecord s;
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

trace::TaskInfo task(const std::string& name, double reference_gflops) {
  trace::TaskInfo t;
  t.name = name;
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
void write_run(const std::string& path, bool finish) {
  trace::RunWriter w = trace::RunWriter::create(path, trace::testing::sample_run_info());
  auto a = w.begin_task(task("matmul_64", 10));
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
  auto b = w.begin_task(task("softmax_8", 2));
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

TEST(Report, TableShowsPerTaskNumbers) {
  trace::testing::TempDir dir;
  write_run(dir.file("run.h5"), false);
  auto r = run_rctune("report " + dir.file("run.h5"));
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

TEST(Report, TablePrintsTheBestTraceOfEachTask) {
  trace::testing::TempDir dir;
  write_run(dir.file("run.h5"), false);
  auto r = run_rctune("report " + dir.file("run.h5"));
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
  trace::testing::TempDir dir;
  write_run(dir.file("running.h5"), false);
  auto running = run_rctune("report " + dir.file("running.h5"));
  ASSERT_EQ(running.exit_code, 0) << running.output;
  EXPECT_NE(line_starting(running.output, "state:").find("not finished"), std::string::npos)
      << running.output;
  EXPECT_EQ(words(line_starting(running.output, "resumes:")), (std::vector<std::string>{"resumes:", "0"}));
  EXPECT_EQ(words(line_starting(running.output, "strategy:")),
            (std::vector<std::string>{"strategy:", "mcts", "(proposer", "heuristic)"}));

  write_run(dir.file("done.h5"), false);
  trace::RunWriter::open_for_resume(dir.file("done.h5")).finish();
  auto done = run_rctune("report " + dir.file("done.h5"));
  ASSERT_EQ(done.exit_code, 0) << done.output;
  EXPECT_EQ(line_starting(done.output, "state:").find("not finished"), std::string::npos) << done.output;
  EXPECT_NE(line_starting(done.output, "state:").find("finished 20"), std::string::npos) << done.output;
  EXPECT_EQ(words(line_starting(done.output, "resumes:")).at(1), "1:") << done.output;
}

TEST(Report, CsvHasOneRowPerTaskWithTheTraceQuoted) {
  trace::testing::TempDir dir;
  write_run(dir.file("run.h5"), true);
  auto r = run_rctune("report " + dir.file("run.h5") + " --format csv");
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
  trace::testing::TempDir dir;
  write_run(dir.file("run.h5"), true);
  auto r = run_rctune("report " + dir.file("run.h5") + " --format json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  nlohmann::json j = nlohmann::json::parse(r.output);
  auto info = trace::testing::sample_run_info();
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
  trace::testing::TempDir dir;
  write_run(dir.file("run.h5"), false);
  auto r = run_rctune("report " + dir.file("run.h5") + " --format json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  nlohmann::json j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["run"]["finished"], false);
  EXPECT_TRUE(j["run"]["end_time"].is_null());
}

TEST(Report, TaskWithoutCorrectSamplesHasNoBest) {
  trace::testing::TempDir dir;
  {
    trace::RunWriter w = trace::RunWriter::create(dir.file("run.h5"), trace::testing::sample_run_info());
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

TEST(Report, MissingFileIsAUserError) {
  trace::testing::TempDir dir;
  auto r = run_rctune("report " + dir.file("nothing.h5"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("rctune: error: trace file '" + dir.file("nothing.h5") + "'"), std::string::npos)
      << r.output;
}

TEST(Report, FileThatIsNotATraceIsAUserError) {
  trace::testing::TempDir dir;
  std::ofstream(dir.file("notes.h5")) << "not hdf5\n";
  auto r = run_rctune("report " + dir.file("notes.h5"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("not an rctune trace"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace rctune
