// Tests of the text helpers (rctune/ir/text.h): each keeps the output of the copies it replaced.
#include "rctune/ir/text.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace rctune::ir {
namespace {

TEST(Join, PutsACommaAndASpaceBetweenItems) { EXPECT_EQ(join({"a", "b", "c"}), "a, b, c"); }

TEST(Join, UsesTheSeparatorGiven) { EXPECT_EQ(join({"x", "y"}, " | "), "x | y"); }

TEST(Join, OfOneItemIsTheItem) { EXPECT_EQ(join({"only"}), "only"); }

TEST(Join, OfNothingIsEmpty) { EXPECT_EQ(join({}), ""); }

TEST(Join, KeepsEmptyItems) { EXPECT_EQ(join({"", "b", ""}), ", b, "); }

TEST(Trim, RemovesLeadingAndTrailingWhitespace) { EXPECT_EQ(trim(" \t\n\v\f\r a b \r\n"), "a b"); }

TEST(Trim, KeepsWhitespaceInside) { EXPECT_EQ(trim("  split(C, i)  "), "split(C, i)"); }

TEST(Trim, OfOnlyWhitespaceIsEmpty) {
  EXPECT_EQ(trim(" \t\r\n"), "");
  EXPECT_EQ(trim(""), "");
}

TEST(Trim, RemovesOnlyTheCharactersGiven) {
  EXPECT_EQ(trim("\t name \n", " \t"), "name \n");
  EXPECT_EQ(trim("\v x \v", " \t\r\n"), "\v x \v");
}

TEST(Fmt, FormatsOneNumberAsPrintfDoes) {
  EXPECT_EQ(fmt("%.1f", 2.25), "2.2");  // printf's rounding (2.25 is exact: to even)
  EXPECT_EQ(fmt("%.1fx", 12.345), "12.3x");
  EXPECT_EQ(fmt("%.6g", 1.0 / 3), "0.333333");
  EXPECT_EQ(fmt("%.6g", 1e-9), "1e-09");
  EXPECT_EQ(fmt("%.2fx", 1.005), "1.00x");
}

TEST(Fmt, NeverCutsALongNumber) {
  const std::string s = fmt("%.1f", 1e300);
  EXPECT_EQ(s.size(), 303u);  // 301 digits, ".0"
  EXPECT_EQ(s.substr(s.size() - 2), ".0");
}

TEST(Fixed, WritesTheDigitsAskedFor) {
  EXPECT_EQ(fixed(2.345, 1), "2.3");
  EXPECT_EQ(fixed(2.0, 2), "2.00");
  EXPECT_EQ(fixed(1536.0, 0), "1536");
  EXPECT_EQ(fixed(-0.125, 2), "-0.12");
}

TEST(Fixed, WritesNotANumberAndInfinityAsPrintfDoes) {
  EXPECT_EQ(fixed(std::numeric_limits<double>::quiet_NaN(), 2), "nan");
  EXPECT_EQ(fixed(std::numeric_limits<double>::infinity(), 2), "inf");
}

}  // namespace
}  // namespace rctune::ir
