// The naming rules (include/rctune/ir/names.h, docs/workloads.md "Names").
#include <gtest/gtest.h>

#include "rctune/ir/names.h"
#include "rctune/ir/parser.h"
#include "rctune/ir/workload.h"

namespace rctune::ir {
namespace {

TEST(Names, IdentifiersAreAsciiLettersDigitsAndUnderscoreUpTo64) {
  for (const char* ok : {"A", "row_max", "_x", "__x", "x__y", "int", "errno", "acc", "i0"})
    EXPECT_EQ(identifier_problem(ok), "") << ok;
  EXPECT_EQ(identifier_problem(std::string(64, 'n')), "");
  for (const std::string& bad :
       {std::string(), std::string("1a"), std::string("a.b"), std::string("a b"), std::string("a\nb"),
        std::string("gr\xc3\xb6\xc3\x9f"
                    "e"),
        std::string(65, 'n'), std::string("a\0b", 3)})
    EXPECT_NE(identifier_problem(bad), "") << bad;
}

TEST(Names, AWorkloadNameIsPrintableAsciiUpTo200) {
  for (const char* ok : {"matmul:M=512,N=512,K=512,dtype=f32", "my op", "a*/b", "x\\", "\"q\" ?\?/"})
    EXPECT_EQ(workload_name_problem(ok), "") << ok;
  EXPECT_EQ(workload_name_problem(std::string(200, 'n')), "");
  for (const std::string& bad : {std::string(), std::string("x\n#include"), std::string("x\r"),
                                 std::string("a\tb"), std::string("\x7f"),
                                 std::string("gr\xc3\xb6\xc3\x9f"
                                             "e"),
                                 std::string(201, 'n')})
    EXPECT_NE(workload_name_problem(bad), "") << bad;
}

TEST(Names, IrNamesAreIdentifierPartsJoinedByDots) {
  for (const char* ok : {"C.local", "i.0", "i.j", "k_1.rf", "A.heap"})
    EXPECT_EQ(ir_name_problem(ok), "") << ok;
  for (const char* bad : {"", ".a", "a.", "a..b", "0.a", "a-b", "a.b\n"})
    EXPECT_NE(ir_name_problem(bad), "") << bad;
}

TEST(Names, AProblemShowsTheNameEscapedOnOneLine) {
  const std::string p = workload_name_problem("x\n#include <cstdlib>\r");
  EXPECT_EQ(p.find('\n'), std::string::npos) << p;
  EXPECT_EQ(p.find('\r'), std::string::npos) << p;
  EXPECT_NE(p.find("'x\\x0a#include <cstdlib>\\x0d'"), std::string::npos) << p;
  EXPECT_NE(p.find("a line feed"), std::string::npos) << p;
}

TEST(Names, ValidateRefusesAWorkloadWhoseNamesBypassedTheParser) {
  Workload w = parse_workload("A: f32[4]\nB: f32[4]\nB[i] = A[i] * 2", "ok");
  ASSERT_EQ(w.validate(), "");
  Workload bad_name = w;
  bad_name.name = "x\n#include <cstdlib>";
  EXPECT_NE(bad_name.validate().find("workload's name"), std::string::npos) << bad_name.validate();
  Workload bad_tensor = w;
  bad_tensor.tensors[0].name = "A;";
  EXPECT_NE(bad_tensor.validate().find("tensor name 'A;'"), std::string::npos) << bad_tensor.validate();
  Workload bad_index = w;
  bad_index.stages[0].axes[0].name = "i\n";
  EXPECT_NE(bad_index.validate().find("index name 'i\\x0a'"), std::string::npos) << bad_index.validate();
}

TEST(Names, TheParserRefusesAnIdentifierLongerThan64) {
  const std::string n(65, 'n');
  EXPECT_THROW(parse_workload(n + ": f32[4]\nB: f32[4]\nB[i] = " + n + "[i]", "w"), ParseError);
  const std::string m(64, 'm');
  EXPECT_NO_THROW(parse_workload(m + ": f32[4]\nB: f32[4]\nB[i] = " + m + "[i]", "w"));
}

}  // namespace
}  // namespace rctune::ir
