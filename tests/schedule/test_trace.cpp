#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "random_steps.h"
#include "rctune/ir/operators.h"
#include "workloads.h"

namespace rctune::schedule {
namespace {

using testing::matmul;
using testing::run_trace;

const char* kTile =
    "# register tile for matmul\n"
    "cache_write(C, local)\n"
    "split(C, i, [None, 8])   # i.0, i.1\n"
    "split(C, j, [None, 16])\n"
    "\n"
    "reorder(C, i.0, j.0, i.1, j.1)\n"
    "compute_at(C.local, C, j.0)\n"
    "reorder(C.local, k, i, j)\n"
    "unroll(C.local, i)\n"
    "vectorize(C.local, j)\n"
    "parallel(C, i.0)\n";

// The source tree: $RCTUNE_SOURCE_DIR, else three levels above this file (tests/schedule/..).
std::string source_dir() {
  if (const char* root = std::getenv("RCTUNE_SOURCE_DIR")) return root;
  const std::filesystem::path here(__FILE__);
  if (here.is_absolute()) return here.parent_path().parent_path().parent_path().string();
  return "";
}

std::string parse_error(const std::string& text) {
  try {
    parse_trace(text);
  } catch (const TraceParseError& e) {
    return e.what();
  }
  return "";
}

// Expects parsing `text` to fail with a message that contains `part` (the whole message is shown when
// it does not).
void expect_parse_error(const std::string& text, const std::string& part) {
  const std::string e = parse_error(text);
  EXPECT_NE(e.find(part), std::string::npos) << "parsing `" << text << "` gave: " << e;
}

TEST(TraceParse, OneCallPerLineCommentsAndBlankLinesIgnored) {
  const auto steps = parse_trace(kTile);
  ASSERT_EQ(steps.size(), 9u);
  EXPECT_EQ(steps[0].primitive, Primitive::CacheWrite);
  EXPECT_EQ(steps[0].line, 2);
  EXPECT_EQ(steps[1].source, "split(C, i, [None, 8])");
  EXPECT_EQ(steps[3].line, 6);
}

TEST(TraceParse, ValuesNamesIntegersNoneAndLists) {
  const auto steps = parse_trace("split(C.local, i.0.j.0, [None, 4, 2])");
  ASSERT_EQ(steps[0].args.size(), 3u);
  EXPECT_EQ(steps[0].name(0), "C.local");
  EXPECT_EQ(steps[0].name(1), "i.0.j.0");
  EXPECT_EQ(steps[0].args[2], StepArg(Factors{std::nullopt, 4, 2}));
  EXPECT_EQ(steps[0].factors(2), (std::vector<int64_t>{kInferredFactor, 4, 2}));
}

TEST(TraceParse, VariadicArgumentsBecomeOneListOfNames) {
  const auto steps = parse_trace("reorder(C, k, i, j)\ncache_read(B, local)");
  EXPECT_EQ(steps[0].names(1), (std::vector<std::string>{"k", "i", "j"}));
  EXPECT_TRUE(steps[1].names(2).empty());
}

TEST(TraceParse, AnArgumentOfAnotherKindIsABug) {
  const auto steps = parse_trace("split(C, i, [None, 8])");
  EXPECT_THROW(steps[0].name(2), std::logic_error);
  EXPECT_THROW(steps[0].names(0), std::logic_error);
  EXPECT_THROW(steps[0].factors(3), std::logic_error);
}

TEST(StepText, PrintsTheCanonicalCallOfATypedStep) {
  EXPECT_EQ(to_text(Step{Primitive::Split, {"C", "i", Factors{std::nullopt, 4, 2}}}),
            "split(C, i, [None, 4, 2])");
  EXPECT_EQ(to_text(Step{Primitive::CacheRead, {"B", "shared", std::vector<std::string>{}}}),
            "cache_read(B, shared)");
  EXPECT_EQ(to_text(Step{Primitive::Fuse, {"C", std::vector<std::string>{"i.0", "j.0"}}}),
            "fuse(C, i.0, j.0)");
}

TEST(StepText, ParsingTheTextGivesTheStepBack) {
  const Step step{Primitive::ComputeAt, {"C.local", "C", "j.0"}};
  const auto parsed = parse_trace(to_text(step));
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(static_cast<const Step&>(parsed[0]), step);
}

TEST(ApplyStep, AppliesATypedStepAsThePrimitiveDoes) {
  const State s(matmul());
  const State a = apply_step(s, Step{Primitive::Split, {"C", "i", Factors{std::nullopt, 8}}});
  const State b = split(s, "C", "i", {kInferredFactor, 8});
  EXPECT_TRUE(same_schedule(a, b));
  EXPECT_EQ(a.trace(), b.trace());
}

TEST(TraceParse, ToleratesWhitespaceQuotesTrailingCommaAndSemicolon) {
  const auto steps = parse_trace("  split ( \"C\" ,'i',[ None ,8 , ] , ) ;  \n\treorder(C,i.0 ,  j)\n");
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(to_text(steps[0]), "split(C, i, [None, 8])");
  EXPECT_EQ(to_text(steps[1]), "reorder(C, i.0, j)");
}

TEST(TraceParse, KeywordArguments) {
  const auto steps =
      parse_trace("split(stage=C, loop=i, factors=[None, 8])\ncompute_at(C.local, consumer=C, loop=j.0)\n");
  EXPECT_EQ(to_text(steps[0]), "split(C, i, [None, 8])");
  EXPECT_EQ(to_text(steps[1]), "compute_at(C.local, C, j.0)");
}

TEST(TraceParse, SplitFactorShorthands) {
  EXPECT_EQ(to_text(parse_trace("split(C, i, 8)")[0]), "split(C, i, [None, 8])");
  EXPECT_EQ(to_text(parse_trace("split(C, i, factor=8)")[0]), "split(C, i, [None, 8])");
  EXPECT_EQ(to_text(parse_trace("split(C, i, [-1, 8])")[0]), "split(C, i, [-1, 8])");
}

TEST(TraceParse, VariadicArgumentsAsList) {
  EXPECT_EQ(to_text(parse_trace("reorder(C, [k, i, j])")[0]), "reorder(C, k, i, j)");
  EXPECT_EQ(to_text(parse_trace("cache_read(B, local, readers=[C, D])")[0]), "cache_read(B, local, C, D)");
  EXPECT_EQ(to_text(parse_trace("cache_read(B, shared)")[0]), "cache_read(B, shared)");
}

TEST(TraceParse, CallMaySpanLinesWhileParenthesisIsOpen) {
  const auto steps = parse_trace("reorder(C,\n        i.0, j.0,   # outer\n        k)\nparallel(C, i.0)\n");
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].source, "reorder(C, i.0, j.0, k)");
  EXPECT_EQ(steps[1].line, 4);
}

TEST(TraceParse, EmptyTraceHasNoSteps) {
  EXPECT_TRUE(parse_trace("").empty());
  EXPECT_TRUE(parse_trace("\n# nothing\n   \n").empty());
}

TEST(TraceParse, RoundTripThroughText) {
  const auto steps = parse_trace(kTile);
  const std::string text = to_text(steps);
  const auto again = parse_trace(text);
  ASSERT_EQ(again.size(), steps.size());
  EXPECT_EQ(to_text(again), text);
  EXPECT_EQ(text.substr(0, text.find('\n')), "cache_write(C, local)");
}

TEST(TraceParseError, MissingClosingParenthesis) {
  EXPECT_EQ(parse_error("parallel(C, i\n"),
            "line 2, column 1: expected ',' or ')' after an argument, found the end of the text (the '(' at "
            "line 1, "
            "column 9 is not closed)");
  expect_parse_error("parallel(C, i\nvectorize(C, j)\n", "found 'vectorize' (the '(' at line 1, column 9");
}

TEST(TraceParseError, MissingComma) {
  EXPECT_EQ(parse_error("\nsplit(C, i [None, 8])"),
            "line 2, column 12: expected ',' or ')' after an argument, found '['");
}

TEST(TraceParseError, UnknownPrimitiveListsKnownOnes) {
  expect_parse_error("tile(C, i, j)",
                     "line 1, column 1: unknown primitive 'tile'; the primitives are split, reorder");
}

TEST(TraceParseError, SuggestsCloseNames) {
  expect_parse_error("compute_att(C.local, C, i)",
                     "unknown primitive 'compute_att' (did you mean compute_at?)");
  expect_parse_error("s.split(C, i, [None, 8])", "(write split(...) without a prefix)");
  expect_parse_error("split(C, i, factrs=[None, 8])", "no parameter 'factrs' (did you mean factors?)");
}

TEST(TraceParse, TupleIsAcceptedAsList) {
  EXPECT_EQ(to_text(parse_trace("split(C, i, (None, 8))")[0]), "split(C, i, [None, 8])");
}

TEST(TraceParseError, TwoCallsOnOneLine) {
  expect_parse_error("parallel(C, i) vectorize(C, j)", "column 16: expected the end of the line");
}

TEST(TraceParseError, BadValue) {
  expect_parse_error("split(C, i, [None, 8.5])", "column 20: numbers must be integers, found '8.5'");
  expect_parse_error("parallel(C, , i)", "column 13: expected a value");
  expect_parse_error("parallel(C, 0i)", "a name must start with a letter");
}

TEST(TraceParseError, WrongArity) {
  expect_parse_error("parallel(C)",
                     "parallel is missing argument 'loop'; its signature is parallel(stage, loop)");
  expect_parse_error("parallel(C, i, j)", "column 16: parallel takes 2 arguments");
}

TEST(TraceParseError, WrongArgumentKind) {
  expect_parse_error("split(C, i, x)",
                     "argument 'factors' of split must be a list of factors such as [None, 8], found x");
  expect_parse_error("cache_write(C, register)",
                     "column 16: argument 'scope' of cache_write must be a scope");
  expect_parse_error("split(C, i, [None, x])", "factors of split must be integers or None");
  expect_parse_error("parallel(C, 3)", "must be a loop name, found 3");
}

TEST(TraceParseError, KeywordProblems) {
  expect_parse_error("split(C, i, facters=[None, 8])", "split has no parameter 'facters'");
  expect_parse_error("parallel(stage=C, i)", "a positional argument follows a keyword argument");
  expect_parse_error("parallel(C, loop=i, loop=j)", "is given twice");
}

TEST(TraceParseError, UnterminatedQuote) {
  expect_parse_error("parallel(\"C, i)", "unterminated quoted name");
}

TEST(ApplyTrace, AppliesEveryStep) {
  State s = run_trace(matmul(), kTile);
  EXPECT_EQ(s.trace().size(), 9u);
  EXPECT_EQ(s.stage("C.local")->attach.loop, "j.0");
}

TEST(ApplyTrace, IllegalStepNamesStepAndReason) {
  const std::string e = testing::error_of(
      [] { run_trace(matmul(), "# c\nsplit(C, i, [None, 8])\n\nparallel(C, i.0)\nvectorize(C, k)\n"); });
  EXPECT_EQ(e,
            "step 3 `vectorize(C, k)`: loop k iterates over a reduction axis; only spatial loops can be "
            "vectorized");
}

TEST(ApplyTrace, ParseErrorIsReportedBeforeAnyStepRuns) {
  EXPECT_THROW(run_trace(matmul(), "parallel(C, i)\nsplit(C, j, [None 8])\n"), TraceParseError);
}

TEST(ApplyTrace, StepTextsAreCanonical) {
  State s = run_trace(matmul(), "split( C , i, [8, 8])\nreorder(C, [j, i.0])\nsplit(C, j, factor=16)\n");
  EXPECT_EQ(to_text(s.trace()), "split(C, i, [None, 8])\nreorder(C, j, i.0)\nsplit(C, j, [None, 16])\n");
}

}  // namespace

static void expect_replay_equal(const std::shared_ptr<const ir::Workload>& w, const std::string& trace) {
  State s = run_trace(w, trace);
  State r = replay(s);
  EXPECT_TRUE(same_schedule(s, r)) << trace;
  EXPECT_EQ(s.trace(), r.trace());
  EXPECT_TRUE(same_schedule(apply_trace(State(w), to_text(s.trace())), s));
}

namespace {

TEST(Replay, MatmulTileWithPacking) {
  expect_replay_equal(matmul(),
                      std::string(kTile) + "cache_read(B, local, C.local)\ncompute_at(B.local, C, i.0)\n");
}

TEST(Replay, SoftmaxAndConvolution) {
  expect_replay_equal(
      testing::softmax(),
      "compute_inline(E)\ncache_read(X, heap)\nparallel(Y, i)\nvectorize(Y, j)\ncompute_at(S, Y, i)\n"
      "compute_at(M, Y, i)\n");
  expect_replay_equal(testing::conv2d(),
                      "cache_write(Y, local)\nsplit(Y, k, [None, 4])\nreorder(Y, n, k.0, h, w, k.1)\n"
                      "compute_at(Y.local, Y, w)\nfuse(Y, n, k.0)\nparallel(Y, n.k.0)\n"
                      "reorder(Y.local, c, r, s, k)\nunroll(Y.local, r)\ndecompose_reduction(Y.local, c)\n");
}

TEST(Replay, TeamsAndReverseComputeAt) {
  expect_replay_equal(testing::dense_gelu(),
                      "split(C, i, [None, 8])\nbind(C, i.0, league)\nbind(C, i.1, team)\n"
                      "reverse_compute_at(D, C, i.1)\nreverse_compute_at(Y, D, j)\n");
}

TEST(Reference, ListsEveryPrimitiveWithSignatureAndExample) {
  const std::string ref = primitive_reference();
  for (const auto& p : primitive_registry()) {
    EXPECT_NE(ref.find(p.signature), std::string::npos) << p.name;
    EXPECT_NE(ref.find("Example: " + p.example), std::string::npos) << p.name;
    EXPECT_FALSE(p.description.empty());
    EXPECT_FALSE(p.legality.empty());
    const auto steps = parse_trace(p.example);
    ASSERT_EQ(steps.size(), 1u);
    EXPECT_EQ(steps[0].primitive, p.id);
    EXPECT_EQ(primitive_name(p.id), p.name);
  }
  EXPECT_EQ(primitive_registry().size(), 14u);
  EXPECT_NE(find_primitive("compute_at"), nullptr);
  EXPECT_EQ(find_primitive("tile"), nullptr);
}

TEST(Registry, EachPrimitiveHasItsEntryAtItsPlace) {
  const auto& r = primitive_registry();
  for (size_t k = 0; k < r.size(); ++k) {
    EXPECT_EQ(r[k].id, static_cast<Primitive>(k)) << r[k].name;
    EXPECT_EQ(&primitive_info(r[k].id), &r[k]);
    EXPECT_NE(r[k].apply, nullptr) << r[k].name;
  }
  EXPECT_EQ(primitive_info(Primitive::Rfactor).name, "rfactor");
}

TEST(Reference, DocumentationCoversEveryPrimitive) {
  const std::string root = source_dir();
  if (root.empty()) GTEST_SKIP() << "source directory unknown (set RCTUNE_SOURCE_DIR)";
  std::ifstream in(root + "/docs/schedule-language.md");
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const auto& p : primitive_registry())
    EXPECT_NE(doc.find(p.signature), std::string::npos) << p.signature;
}

TEST(Reference, DocumentationWorkedExampleApplies) {
  const std::string root = source_dir();
  if (root.empty()) GTEST_SKIP() << "source directory unknown (set RCTUNE_SOURCE_DIR)";
  std::ifstream in(root + "/docs/schedule-language.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  // The trace between the markers "```trace" and "```" after "## Worked example".
  const size_t ex = doc.find("## Worked example");
  ASSERT_NE(ex, std::string::npos);
  const size_t b = doc.find("```trace\n", ex);
  ASSERT_NE(b, std::string::npos);
  const size_t e = doc.find("```", b + 9);
  const std::string trace = doc.substr(b + 9, e - b - 9);
  State s = run_trace(matmul(1024, 1024, 1024), trace);
  EXPECT_GT(s.trace().size(), 10u);
  EXPECT_EQ(check_state(s), "");
}

}  // namespace
}  // namespace rctune::schedule

namespace rctune::schedule {
namespace {

TEST(DocumentedPatterns, SoftmaxEpilogueAndTeams) {
  expect_replay_equal(
      testing::softmax(),
      "compute_inline(E)\nparallel(Y, i)\ncompute_at(S, Y, i)\ncompute_at(M, Y, i)\nvectorize(Y, j)\n");
  expect_replay_equal(testing::dense_gelu(),
                      "split(C, i, [None, 8])\nparallel(C, i.0)\nreverse_compute_at(D, C, i.0)\n"
                      "reverse_compute_at(Y, D, j)\n");
  expect_replay_equal(testing::matmul(),
                      "cache_read(B, shared, C)\nsplit(C, j, [None, 16])\nreorder(C, j.0, i)\n"
                      "bind(C, j.0, league)\ncompute_at(B.shared, C, j.0)\n"
                      "bind(B.shared, ax0, team)\nbind(C, i, team)\n");
}

TEST(DocumentedPatterns, PackingBeforeItsReaderIsPlacedFails) {
  const std::string e = testing::error_of([] {
    testing::run_trace(testing::matmul(1024, 1024, 1024),
                       "cache_write(C, local)\ncache_read(B, local, C.local)\nsplit(C, j, [None, 48])\n"
                       "compute_at(B.local, C, j.0)\n");
  });
  EXPECT_EQ(
      e,
      "step 4 `compute_at(B.local, C, j.0)`: C does not read B.local; readers of B.local: C.local, which is "
      "not computed inside C");
}

}  // namespace
}  // namespace rctune::schedule

namespace rctune::schedule {
namespace {

TEST(Replay, RandomTracesReplayToEqualStatesAndKeepInvariants) {
  const std::vector<std::shared_ptr<const ir::Workload>> workloads = {
      testing::matmul(), testing::batch_matmul(), testing::conv2d(), testing::softmax(),
      testing::dense_gelu()};
  std::mt19937 rng(7);
  int accepted = 0;
  for (int trial = 0; trial < 150; ++trial) {
    State s(workloads[static_cast<size_t>(trial) % workloads.size()]);
    for (int step = 0; step < 10; ++step) {
      const std::string text = testing::random_step(s, rng);
      try {
        s = apply_trace(s, text);
      } catch (const TraceParseError& e) {
        FAIL() << "generated text does not parse: " << text << ": " << e.what();
      } catch (const ScheduleError&) {
        continue;
      }
      ++accepted;
      ASSERT_EQ(check_state(s), "") << to_text(s.trace());
    }
    const State r = replay(s);
    ASSERT_TRUE(same_schedule(s, r)) << to_text(s.trace());
    ASSERT_EQ(to_text(parse_trace(to_text(s.trace()))), to_text(s.trace()));
  }
  EXPECT_GT(accepted, 300);
}

}  // namespace
}  // namespace rctune::schedule

namespace rctune::schedule {
namespace {

// Every example schedule in configs/examples applies to the workload named on its first line
// ("# workload: matmul:M=1024,N=1024,K=1024").
TEST(ExampleSchedules, ApplyToTheirWorkloads) {
  const std::string root = source_dir();
  if (root.empty()) GTEST_SKIP() << "source directory unknown (set RCTUNE_SOURCE_DIR)";
  const std::filesystem::path dir = std::filesystem::path(root) / "configs" / "examples";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no configs/examples";
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".sched") continue;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    const std::string first = text.substr(0, text.find('\n'));
    const size_t at = first.find("workload: ");
    ASSERT_NE(at, std::string::npos) << entry.path() << " does not name its workload on its first line";
    const std::string spec = first.substr(at + 10);
    SCOPED_TRACE(entry.path().string());
    auto w = std::make_shared<const ir::Workload>(ir::make_operator(spec));
    State s = apply_trace(State(w), text);
    EXPECT_EQ(check_state(s), "");
    EXPECT_TRUE(same_schedule(replay(s), s));
    ++n;
  }
  EXPECT_GT(n, 0);
}

}  // namespace
}  // namespace rctune::schedule
