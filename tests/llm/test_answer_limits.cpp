// parse_answer (rctune/llm/prompt.h) on answers built to exhaust it: the work is bounded whatever
// the answer, and what it hands on (to the schedule parser) is bounded too.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "rctune/llm/prompt.h"

namespace rctune::llm {
namespace {

bool has_warning(const ParsedAnswer& a, const std::string& part) {
  return std::any_of(a.warnings.begin(), a.warnings.end(),
                     [&](const std::string& w) { return w.find(part) != std::string::npos; });
}

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// Every '[' starts a candidate that reads to the end of the text: quadratic without a bound
// (hours for 2 MB).
TEST(AnswerLimits, TwoMegabytesOfOpenBracketsAreGivenUpOnNotReadForMinutes) {
  const ParsedAnswer a = parse_answer(repeat("[[],", 512 * 1024) + "\"action\"");
  EXPECT_FALSE(a.found_block);
  EXPECT_TRUE(has_warning(a, "took too long to read")) << a.warnings.size();
}

TEST(AnswerLimits, TwoMegabytesOfNestedBracketsReturn) {
  const ParsedAnswer a = parse_answer(std::string(1 << 20, '[') + std::string(1 << 20, ']') + "action");
  EXPECT_FALSE(a.found_block);
}

TEST(AnswerLimits, ABlockAfterABombIsStillFoundWhenTheBombIsSmall) {
  const ParsedAnswer a =
      parse_answer(repeat("[[],", 100000) +
                   "\"action\"\n```json\n{\"proposals\": [{\"action\": \"unroll(C, k)\"}]}\n```\n");
  ASSERT_EQ(a.proposals.size(), 1u);
  EXPECT_EQ(a.proposals[0].action, "unroll(C, k)");
}

TEST(AnswerLimits, AnActionNestingAListDeeplyIsSkippedNotHandedOn) {
  const std::string action = "split(C, i, " + std::string(100000, '[') + std::string(100000, ']') + ")";
  const ParsedAnswer a = parse_answer("```json\n{\"proposals\": [{\"action\": \"" + action +
                                      "\"}, {\"action\": \"unroll(C, k)\"}]}\n```");
  ASSERT_EQ(a.proposals.size(), 1u);
  EXPECT_EQ(a.proposals[0].action, "unroll(C, k)");
  EXPECT_TRUE(has_warning(a, "skipped"));
}

TEST(AnswerLimits, AnActionNestingJustPastTheLimitIsSkipped) {
  const std::string action = "split(C, i, " + std::string(40, '[') + std::string(40, ']') + ")";
  const ParsedAnswer a = parse_answer("```json\n{\"proposals\": [{\"action\": \"" + action + "\"}]}\n```");
  EXPECT_TRUE(a.proposals.empty());
  EXPECT_TRUE(has_warning(a, "nesting brackets"));
}

TEST(AnswerLimits, EscapedLineBreaksAndSemicolonsCostLinearTime) {
  const std::string action = repeat("\\\\n", 300000) + repeat(";", 30000) + "unroll(C, k)";
  const ParsedAnswer a = parse_answer("```json\n{\"proposals\": [{\"action\": \"" + action + "\"}]}\n```");
  EXPECT_TRUE(a.proposals.empty()) << "over the action size limit";
  const std::string small = repeat("\\\\n", 10000) + repeat(";", 10000) + "unroll(C, k)";
  const ParsedAnswer b = parse_answer("```json\n{\"proposals\": [{\"action\": \"" + small + "\"}]}\n```");
  ASSERT_EQ(b.proposals.size(), 1u);
  EXPECT_EQ(b.proposals[0].action, "unroll(C, k)");
}

TEST(AnswerLimits, AtMostSixtyFourProposalsAreHandedOn) {
  const ParsedAnswer a = parse_answer("```json\n{\"proposals\": [" +
                                      repeat("{\"action\": \"unroll(C, k)\"},", 10000) + "]}\n```");
  EXPECT_EQ(a.proposals.size(), 64u);
  EXPECT_TRUE(has_warning(a, "the rest ignored"));
}

TEST(AnswerLimits, ALongRationaleIsCut) {
  const ParsedAnswer a =
      parse_answer("```json\n{\"proposals\": [{\"action\": \"unroll(C, k)\", \"rationale\": \"" +
                   std::string(100000, 'r') + "\"}]}\n```");
  ASSERT_EQ(a.proposals.size(), 1u);
  EXPECT_LE(a.proposals[0].rationale.size(), 2100u);
}

}  // namespace
}  // namespace rctune::llm
