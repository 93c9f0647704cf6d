// Hostile input, class "depth and size bombs, overflow": every parser and every place a size is
// read gets deep nesting, long flat input and huge numbers. Each case must end in a clear error
// (`rctune: error:`, exit 2) or in success, never in a crash (a signal) or a hang. The tests
// generate their cases: entry points x payloads.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "apps/cli_runner.h"
#include "llm/fake_openai_server.h"
#include "rctune/ir/limits.h"
#include "rctune/ir/operators.h"
#include "rctune/ir/parser.h"
#include "rctune/runtime/protocol.h"
#include "rctune/runtime/worker.h"
#include "rctune/schedule/error.h"
#include "rctune/schedule/state.h"
#include "rctune/schedule/trace.h"
#include "rctune/search/action.h"

namespace {

namespace fs = std::filesystem;
using rctune::testing::run_rctune_args;

constexpr int kDeep = 100000;  // far beyond any limit, deep enough to overflow a recursive parser's stack

std::string repeat(const std::string& s, int n) {
  std::string out;
  out.reserve(s.size() * static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// A fresh directory for the files of one test.
fs::path scratch(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("rctune_bombs_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

// Quotes a string for YAML (double quotes; the payloads contain no quote or backslash).
std::string yq(const std::string& s) { return "\"" + s + "\""; }

struct Payload {
  std::string name;
  std::string text;
};

// Index-free value expressions that nest or run long: each parses to an expression tree.
std::vector<Payload> expression_bombs() {
  return {
      {"100000 nested parentheses", repeat("(", kDeep) + "X[i]" + repeat(")", kDeep)},
      {"100000 unary minus", repeat("-", kDeep) + "X[i]"},
      {"100000 nested calls", repeat("exp(", kDeep) + "X[i]" + repeat(")", kDeep)},
      {"100000 parentheses inside an index", "X[" + repeat("(", kDeep) + "i" + repeat(")", kDeep) + "]"},
      {"100000 unary minus inside an index", "X[" + repeat("-", kDeep) + "i]"},
      {"a flat sum of 100000 terms", "X[i]" + repeat(" + X[i]", kDeep)},
      {"a flat product of 100000 factors", "X[i]" + repeat(" * X[i]", kDeep)},
      {"index offset 2^63-1", "X[i + 9223372036854775807]"},
      {"index offset -2^63", "X[i - 9223372036854775808]"},
      {"index coefficient 2^62", "X[i * 4611686018427387904]"},
      {"index coefficient 2^40 times 2^40", "X[i * 1099511627776 * 1099511627776]"},
      {"index 1e300", "X[1e300]"},
      {"100000 indices", "X[" + repeat("i, ", kDeep) + "i]"},
      {"a call with 100000 arguments", "max(" + repeat("X[i], ", kDeep) + "X[i])"},
  };
}

// Schedule steps that nest or run long (for the workload matmul: stage C, loops i, j, k). `deep`
// is the nesting and the length: argv takes at most 128 KiB per argument.
std::vector<Payload> schedule_bombs(int kDeep) {
  return {
      {"100000 nested lists", "split(C, i, " + repeat("[", kDeep) + "8" + repeat("]", kDeep) + ")"},
      {"100000 nested tuples", "split(C, i, " + repeat("(", kDeep) + "8" + repeat(")", kDeep) + ")"},
      {"100000 nested lists as a loop list",
       "reorder(C, " + repeat("[", kDeep) + "i" + repeat("]", kDeep) + ")"},
      {"a split into 100000 loops", "split(C, i, [None" + repeat(", 1", kDeep) + "])"},
      {"reorder of 100000 loops", "reorder(C" + repeat(", i", kDeep) + ")"},
      {"factor 2^31", "split(C, i, [None, 2147483648])"},
      {"factor 2^63-1", "split(C, i, [None, 9223372036854775807])"},
      {"factor -2^63", "split(C, i, [None, -9223372036854775808])"},
      {"factors whose product overflows", "split(C, i, [None, 4294967296, 4294967296, 4294967296])"},
      {"factor 1e300", "split(C, i, [None, 1e300])"},
      {"a loop name of 100000 characters", "parallel(C, " + repeat("i", kDeep) + ")"},
  };
}

// Runs one case and checks that rctune refused it cleanly.
void expect_refused(const std::string& what, const std::vector<std::string>& args, const fs::path& cwd) {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run_rctune_args(args, cwd.string());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string shown = r.output.substr(0, 600);
  EXPECT_EQ(r.exit_code, 2) << what << " (exit -1: killed by a signal)\n" << shown;
  EXPECT_NE(r.output.find("rctune: error:"), std::string::npos) << what << "\n" << shown;
  EXPECT_LT(s, 60.0) << what << " took " << s << " s";  // generous: a hang is minutes
}

TEST(DepthAndSizeBombs, EveryWorkloadEntryPointRefusesEveryExpressionBomb) {
  const fs::path dir = scratch("expr");
  int n = 0;
  for (const auto& p : expression_bombs()) {
    const std::string stage = "Y[i] = " + p.text;
    // A workload file.
    const fs::path wf = dir / ("w" + std::to_string(n) + ".yaml");
    write(wf, "tensors:\n  X: f32[8]\n  Y: f32[8]\nstages:\n  - " + yq(stage) + "\n");
    expect_refused("workload file, " + p.name, {"show", wf.string()}, dir);
    // An inline workload in a config.
    const fs::path cf = dir / ("c" + std::to_string(n) + ".yaml");
    write(cf,
          "budget: 1\ntasks:\n  - workload:\n      name: bomb\n      tensors: {X: 'f32[8]', Y: 'f32[8]'}\n"
          "      stages: [" +
              yq(stage) + "]\n");
    expect_refused(
        "inline config workload, " + p.name,
        {"tune", cf.string(), "--simulate", "--out", (dir / ("t" + std::to_string(n) + ".h5")).string()},
        dir);
    ++n;
  }
}

TEST(DepthAndSizeBombs, EveryScheduleEntryPointRefusesEveryScheduleBomb) {
  const fs::path dir = scratch("sched");
  int n = 0;
  for (const auto& p : schedule_bombs(30000))
    expect_refused("--schedule, " + p.name, {"show", "matmul:M=64,N=64,K=64", "--schedule", p.text}, dir);
  for (const auto& p : schedule_bombs(kDeep)) {
    const fs::path tf = dir / ("t" + std::to_string(n++) + ".txt");
    write(tf, p.text + "\n");
    expect_refused("--trace FILE, " + p.name, {"show", "matmul:M=64,N=64,K=64", "--trace", tf.string()}, dir);
  }
}

// The YAML around workloads and configs nests too: flow lists and block mappings, in every place.
TEST(DepthAndSizeBombs, DeeplyNestedYamlInWorkloadFilesAndConfigsIsAnError) {
  const fs::path dir = scratch("yaml");
  std::string block;
  for (int i = 0; i < 3000; ++i)
    block += std::string(2 * static_cast<size_t>(i), ' ') + "a" + std::to_string(i) + ":\n";
  const std::string flow = repeat("[", kDeep) + repeat("]", kDeep);
  int n = 0;
  for (const auto& [what, text] : std::vector<std::pair<std::string, std::string>>{
           {"workload file, nested flow lists", "tensors: " + flow + "\n"},
           {"workload file, nested block mappings", "tensors:\n" + block},
           {"workload file, nested stages", "tensors: {X: 'f32[8]', Y: 'f32[8]'}\nstages: " + flow + "\n"},
       }) {
    const fs::path f = dir / ("w" + std::to_string(n++) + ".yaml");
    write(f, text);
    expect_refused(what, {"show", f.string()}, dir);
  }
  for (const auto& [what, text] : std::vector<std::pair<std::string, std::string>>{
           {"config, nested flow lists", "budget: 1\ntasks: " + flow + "\n"},
           {"config, nested inline workload", "budget: 1\ntasks:\n  - workload: " + flow + "\n"},
       }) {
    const fs::path f = dir / ("c" + std::to_string(n++) + ".yaml");
    write(f, text);
    expect_refused(what, {"tune", f.string(), "--simulate", "--out", (dir / "t.h5").string()}, dir);
  }
}

// The LLM's answers reach the schedule parser as actions (rctune::search::parse_action): a remote
// server must not be able to take the process down.
TEST(DepthAndSizeBombs, AnLlmActionWithEveryScheduleBombIsAnError) {
  for (const auto& p : schedule_bombs(kDeep)) {
    bool threw = false;
    try {
      auto w =
          std::make_shared<const rctune::ir::Workload>(rctune::ir::make_operator("matmul:M=64,N=64,K=64"));
      rctune::search::apply_action(rctune::schedule::State(w), p.text);
    } catch (const std::exception& e) {
      threw = true;
      EXPECT_GT(std::string(e.what()).size(), 10u) << p.name;
    }
    EXPECT_TRUE(threw) << p.name;
  }
}

// End to end: a remote model answers `llm-check` with an action whose list nests 30,000 deep (and
// with the other schedule bombs); rctune reports the proposals as invalid and is not taken down.
TEST(DepthAndSizeBombs, AModelAnsweringWithScheduleBombsCannotTakeLlmCheckDown) {
  const fs::path dir = scratch("llm");
  rctune::llm::testing::FakeOpenAiServer server;
  std::string proposals;
  for (const auto& p : schedule_bombs(30000))
    proposals += "{\"action\": \"" + p.text + "\", \"rationale\": \"" + p.name + "\"},\n";
  const std::string answer = "```json\n{\"proposals\": [\n" + proposals + "]}\n```\n";
  server.set_handler([&](const rctune::llm::testing::RecordedRequest&) {
    return rctune::llm::testing::FakeResponse::answer(answer);
  });
  write(dir / "llm.yaml", "seed: 2\nbudget: 4\nproposer: llm\nout: " + (dir / "run.h5").string() +
                              "\ntasks:\n  - workload: matmul:M=64,N=64,K=64\nllm:\n  cache_dir: " +
                              (dir / "llm-cache").string() + "\n  models:\n    - name: fake\n      url: " +
                              server.base_url() + "\n      model: fake-model\n      timeout: 30\n");
  auto r = run_rctune_args({"llm-check", (dir / "llm.yaml").string()}, dir.string());
  EXPECT_GE(r.exit_code, 0) << "killed by a signal\n" << r.output.substr(0, 2000);
  EXPECT_GT(server.request_count(), 0u) << r.output.substr(0, 2000);
  // Refused by the answer parser (actions nesting brackets over its limit are skipped) or, for the
  // bombs it lets through, by the schedule parser's depth limit.
  const bool refused = r.output.find("deep skipped") != std::string::npos ||
                       r.output.find("nest more than 200") != std::string::npos;
  EXPECT_TRUE(refused) << r.output.substr(r.output.size() > 4000 ? r.output.size() - 4000 : 0);
}

// Shapes and sizes: every integer place of a workload gets 2^31, 2^63-1, -2^63, 2^64, 1e300.
TEST(DepthAndSizeBombs, HugeNumbersInEverySizeAreRefusedWithAMessage) {
  const fs::path dir = scratch("sizes");
  const std::vector<std::string> huge = {"9223372036854775807", "-9223372036854775808",
                                         "18446744073709551616", "1e300", "-1"};
  int n = 0;
  for (const auto& h : huge) {
    // Operator spec parameters, every operator's first integer parameter.
    for (const char* op : {"matmul:M=", "conv2d_nchw:H=", "conv2d_nchw:pad=", "attention:SK=", "softmax:N="})
      expect_refused(std::string("spec ") + op + h, {"show", op + h}, dir);
    // An extent of a declared tensor and of a where clause.
    const fs::path wf = dir / ("w" + std::to_string(n) + ".yaml");
    write(wf, "tensors:\n  X: f32[" + h + "]\n  Y: f32[8]\nstages:\n  - Y[i] = X[i]\n");
    expect_refused("extent " + h, {"show", wf.string()}, dir);
    const fs::path rf = dir / ("r" + std::to_string(n++) + ".yaml");
    write(rf,
          "tensors:\n  X: f32[8]\n  Y: f32[8]\nstages:\n  - " + yq("Y[i] += X[i + r] where r < " + h) + "\n");
    expect_refused("where extent " + h, {"show", rf.string()}, dir);
  }
  // Operator parameters whose products overflow while each one is within its limit.
  for (const char* spec : {"conv2d_nchw:H=1099511627776,R=1099511627776,dilation=1099511627776",
                           "matmul:M=1099511627776,N=1099511627776,K=1099511627776",
                           "attention:B=1099511627776,S=1099511627776,D=1099511627776",
                           "batch_matmul:B=1099511627776,M=1099511627776"})
    expect_refused(std::string("spec ") + spec, {"show", spec}, dir);
  // Products that overflow int64 while each extent is fine.
  std::vector<std::pair<std::string, std::string>> products = {
      {"element count 2^93",
       "tensors:\n  X: f32[2147483648, 2147483648, 2147483648]\n  Y: f32[8]\n"
       "stages:\n  - Y[i] += X[i, j, k]\n"},
      {"element count 2^62",
       "tensors:\n  X: f32[2147483648, 2147483648]\n  Y: f32[8]\n"
       "stages:\n  - Y[i] += X[i, j]\n"},
      {"iteration space 2^93",
       "tensors:\n  X: f32[8]\n  Y: f32[8]\nstages:\n  - " +
           yq("Y[i] += X[i + r + s + t] where r < 2147483648, s < 2147483648, t < 2147483648") + "\n"},
      {"rank 100000",
       "tensors:\n  X: f32[" + repeat("1, ", kDeep) + "1]\n  Y: f32[8]\nstages:\n  - Y[i] = X[i]\n"},
  };
  std::string many = "tensors:\n";
  for (int k = 0; k < kDeep; ++k) many += "  T" + std::to_string(k) + ": f32[8]\n";
  products.emplace_back("100000 tensors", many + "stages:\n  - T1[i] = T0[i]\n");
  for (const auto& [what, text] : products) {
    const fs::path f = dir / ("p" + std::to_string(n++) + ".yaml");
    write(f, text);
    expect_refused(what, {"show", f.string()}, dir);
  }
}

// Workloads whose sizes overflow or exhaust memory, one by one.
TEST(DepthAndSizeBombs, AMatmulWithTwoToTheThirtyOneRowsIsRefusedOrWorksNeverCrashes) {
  const fs::path dir = scratch("matmul");
  // 2^31 x 2^31 outputs exceed the element limit: refused at parse time.
  expect_refused("matmul 2^31 x 2^31", {"show", "matmul:M=2147483648,N=2147483648,K=1"}, dir);
  // 2^31 rows with the default K and N: 8 TiB of tensors, refused before anything is allocated,
  // with the numbers.
  auto r = run_rctune_args({"bench", "matmul:M=2147483648", "--check-only"}, dir.string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("bytes"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("physical memory"), std::string::npos) << r.output;
  // The same in `tune`, before the library baseline allocates it in rctune's process (std::bad_alloc).
  write(dir / "run.yaml", "budget: 1\ntasks: ['matmul:M=2147483648']\n");
  r = run_rctune_args({"tune", (dir / "run.yaml").string(), "--out", (dir / "t.h5").string()}, dir.string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("physical memory"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("bad_alloc"), std::string::npos) << r.output;
}

// The worker trusts no shape it is sent: element counts that overflow are refused when the request
// is read, and buffers beyond the physical memory before anything is allocated or loaded.
TEST(DepthAndSizeBombs, TheWorkerRefusesShapesThatOverflowOrExceedTheMemory) {
  nlohmann::json j = {{"kernel_so", "/nonexistent.so"}, {"reference_so", "/nonexistent.so"}};
  j["buffers"] = {{{"name", "A"}, {"dtype", "f32"}, {"shape", {int64_t{1} << 40, int64_t{1} << 40}}}};
  EXPECT_THROW(rctune::runtime::request_from_json(j), std::invalid_argument);
  j["buffers"] = {{{"name", "A"}, {"dtype", "f32"}, {"shape", {int64_t{1} << 26, int64_t{1} << 26}}}};
  auto req = rctune::runtime::request_from_json(j);
  auto res = rctune::runtime::handle_request(req, false);
  EXPECT_NE(res.status, rctune::runtime::Status::Ok);
  EXPECT_NE(res.message.find("physical memory"), std::string::npos) << res.message;
  EXPECT_NE(res.message.find("bytes"), std::string::npos) << res.message;
}

TEST(DepthAndSizeBombs, AnIndexOffsetOfTwoToTheSixtyThreeIsRefusedNamingTheStageAndTheTerm) {
  const fs::path dir = scratch("offset");
  const fs::path wf = dir / "w.yaml";
  write(wf, "tensors:\n  X: f32[8]\n  Y: f32[8]\nstages:\n  - Y[i] = X[i + 9223372036854775807]\n");
  auto r = run_rctune_args({"show", wf.string()}, dir.string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("stage Y"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("9223372036854775807"), std::string::npos) << r.output;
}

TEST(DepthAndSizeBombs, TheWorkloadParserNamesTheNestingLimitAndThePlace) {
  std::vector<rctune::ir::Tensor> t = {rctune::ir::parse_tensor_decl("X: f32[8]"),
                                       rctune::ir::parse_tensor_decl("Y: f32[8]")};
  try {
    rctune::ir::parse_stage("Y[i] = " + repeat("(", kDeep) + "X[i]" + repeat(")", kDeep), t);
    FAIL() << "parsed";
  } catch (const rctune::ir::SizeLimitError& e) {
    EXPECT_NE(std::string(e.what()).find("200"), std::string::npos) << e.what();
    EXPECT_EQ(e.line(), 1);
  }
}

TEST(DepthAndSizeBombs, TheTraceParserNamesTheNestingLimitAndThePlace) {
  try {
    rctune::schedule::parse_trace("\n\nsplit(C, i, " + repeat("[", kDeep) + "8" + repeat("]", kDeep) + ")");
    FAIL() << "parsed";
  } catch (const rctune::schedule::TraceParseError& e) {
    EXPECT_EQ(e.line(), 3);
    EXPECT_NE(e.reason().find("200"), std::string::npos) << e.what();
  }
}

// Names grow with every split (i.0.0.0...) and double with every fuse of a split: a short trace
// must not grow names or loop nests without bound.
TEST(DepthAndSizeBombs, SchedulesCannotGrowLoopNestsOrNamesWithoutBound) {
  const fs::path dir = scratch("growth");
  std::string nested, doubling;
  std::string loop = "i";
  for (int k = 0; k < 2000; ++k) {
    nested += "split(C, " + loop + ", [None, 1])\n";
    loop += ".1";
  }
  loop = "i";
  for (int k = 0; k < 40; ++k) {
    doubling += "split(C, " + loop + ", [None, 1])\nfuse(C, " + loop + ".0, " + loop + ".1)\n";
    loop = loop + ".0." + loop + ".1";
    if (loop.size() > 100000) break;
  }
  for (const auto& [what, text] : std::vector<std::pair<std::string, std::string>>{
           {"2000 nested splits", nested}, {"fuses that double names", doubling}}) {
    const fs::path tf = dir / "t.txt";
    write(tf, text);
    expect_refused(what, {"show", "matmul:M=64,N=64,K=64", "--trace", tf.string()}, dir);
  }
}

// compute_inline copies a producer's body into every read: a chain of 30 stages that each read the
// previous one twice grows to 2^30 nodes (it used to fill the memory).
TEST(DepthAndSizeBombs, InliningAChainOfStagesCannotGrowAnExpressionExponentially) {
  const fs::path dir = scratch("inline");
  const int n = 30;
  std::string w = "tensors:\n  T0: f32[8]\n", trace;
  for (int k = 1; k <= n; ++k) w += "  T" + std::to_string(k) + ": f32[8]\n";
  w += "stages:\n";
  for (int k = 1; k <= n; ++k) {
    const std::string p = "T" + std::to_string(k - 1);
    w += "  - T" + std::to_string(k) + "[i] = " + p + "[i] + " + p + "[i]\n";
    if (k < n) trace += "compute_inline(T" + std::to_string(k) + ")\n";
  }
  w += "outputs: [T" + std::to_string(n) + "]\n";
  write(dir / "w.yaml", w);
  write(dir / "t.txt", trace);
  expect_refused("an inlined chain", {"show", (dir / "w.yaml").string(), "--trace", (dir / "t.txt").string()},
                 dir);
}

// A trace of more steps than the limit is refused at parse time (applying it would take minutes).
TEST(DepthAndSizeBombs, ATraceOfMoreThanTenThousandStepsIsRefused) {
  const fs::path dir = scratch("steps");
  std::string text;
  for (int k = 0; k < 60000; ++k) text += "reorder(C, j, i)\n";
  const fs::path tf = dir / "t.txt";
  write(tf, text);
  expect_refused("60000 steps", {"show", "matmul:M=64,N=64,K=64", "--trace", tf.string()}, dir);
}

// A legal trace of 10,000 steps (the limit) is applied in seconds.
TEST(DepthAndSizeBombs, ALegalTraceOfTenThousandStepsIsApplied) {
  std::string text = "split(C, i, [None, 8])\nsplit(C, j, [None, 8])\n";
  for (int k = 0; k < 4999; ++k) text += "reorder(C, j.0, i.0)\nreorder(C, i.0, j.0)\n";
  auto w = std::make_shared<const rctune::ir::Workload>(rctune::ir::make_operator("matmul:M=64,N=64,K=64"));
  const auto t0 = std::chrono::steady_clock::now();
  rctune::schedule::State s = rctune::schedule::apply_trace(rctune::schedule::State(w), text);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(s.trace().size(), 10000u);
  EXPECT_LT(secs, 60.0);  // generous; it took minutes when quadratic
}

}  // namespace
