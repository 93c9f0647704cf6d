// The generated source is hygienic by construction (docs/codegen.md, "Names"): user names are
// mangled into their own namespace, injectively, and user text reaches comments and string
// literals only escaped; even names that bypass validation cannot add code.
#include <cctype>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "../../src/codegen/common.h"
#include "codegen/codegen_test_util.h"

namespace rctune::codegen::testing {
namespace {

// Kokkos is initialised by the environment that test_kernel.cpp registers for this executable.

using detail::comment_text;
using detail::kTensorPrefix;
using detail::kVarPrefix;
using detail::NameTable;
using detail::user_ident;

const std::string kInjected = "#error injected\nstatic int pwn = std::system(\"touch PWNED\");\n";

bool printable_ascii(const std::string& s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
  return true;
}

TEST(Hygiene, CommentTextCannotEndTheCommentSpliceALineOrOpenABlockComment) {
  for (const std::string& s :
       {std::string("a\nb"), std::string("a\rb"), std::string("a\\"), std::string("*/"),
        std::string("a\\\nb"), std::string("?\?/"), std::string("\"q\""),
        std::string("gr\xc3\xb6\xc3\x9f"
                    "e"),
        std::string("x\0y", 3), std::string("\x7f")}) {
    const std::string t = comment_text(s);
    EXPECT_TRUE(printable_ascii(t)) << t;
    EXPECT_EQ(t.find('\\'), std::string::npos) << t;
    EXPECT_EQ(t.find("*/"), std::string::npos) << t;
    EXPECT_EQ(t.find('"'), std::string::npos) << t;
    EXPECT_EQ(t.find("??"), std::string::npos) << t;
  }
  EXPECT_EQ(comment_text("x\n#include"), "x%0A#include");
  EXPECT_EQ(comment_text("for i.0 in 0..8 parallel"), "for i.0 in 0..8 parallel");
}

TEST(Hygiene, UserIdentifiersAlwaysHaveTheirPrefixAndNeverAReservedForm) {
  for (const char* n : {"int", "_x", "__x", "x__y", "_X", "i.0", "", "...", "a\nb", "1a", "x_"}) {
    for (const char* prefix : {kTensorPrefix, kVarPrefix}) {
      const std::string c = user_ident(prefix, n);
      EXPECT_EQ(c.rfind(prefix, 0), 0u) << c;
      EXPECT_EQ(c.find("__"), std::string::npos) << c;
      EXPECT_NE(c.back(), '_') << c;
      for (char ch : c) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_') << c;
    }
  }
  EXPECT_EQ(user_ident(kVarPrefix, "i.0"), "v_i_0");
  EXPECT_EQ(user_ident(kTensorPrefix, "C.local"), "t_C_local");
}

TEST(Hygiene, TheNameTableNeverMapsTwoNamesToOneCName) {
  NameTable t;
  std::set<std::string> seen;
  const std::vector<std::string> names = {"i.0", "i_0", "i__0", "_i_0", "i.0_", "i_0_2", "i_0.2", "i\n0"};
  for (const auto& n : names) EXPECT_TRUE(seen.insert(t.user(kVarPrefix, n)).second) << n;
  for (const auto& n : names) EXPECT_TRUE(seen.insert(t.user(kTensorPrefix, n)).second) << n;
  EXPECT_TRUE(seen.insert(t.fresh("v_i_0")).second);
  EXPECT_EQ(t.user(kVarPrefix, "i.0"), "v_i_0") << "the same name keeps its C name";
}

// The prefixes are safe only while no header the kernels include defines a macro with them.
TEST(Hygiene, NoMacroOfTheKernelsHeadersStartsWithAUserPrefix) {
  TempDir dir;
  const std::string src = dir.path() + "/h.cpp", out = dir.path() + "/macros.txt";
  std::ofstream(src)
      << "#include <Kokkos_Core.hpp>\n#include <cmath>\n#include <cstdint>\n#include <cstdlib>\n";
  const std::string cmd = std::string(RCTUNE_JIT_CXX) + " -std=c++17 -dM -E -isystem " +
                          RCTUNE_KOKKOS_INCLUDE_DIR + " '" + src + "' > '" + out + "' 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out);
  int macros = 0;
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("#define ", 0) != 0) continue;
    ++macros;
    const std::string name = l.substr(8);
    EXPECT_NE(name.rfind(kTensorPrefix, 0), 0u) << l;
    EXPECT_NE(name.rfind(kVarPrefix, 0), 0u) << l;
  }
  EXPECT_GT(macros, 1000) << "the headers were read";
}

// A loop nest whose names bypassed every validation: no line of the source is a directive but the
// generator's own, and it compiles (an injected #error would stop it).
TEST(Hygiene, NamesThatBypassedValidationCannotAddCode) {
  LoweredFunc fn;
  fn.name = "x\n" + kInjected + "//";
  const std::string a = "A\n" + kInjected, b = "B\r" + kInjected, c = "C */ \\";
  fn.params = {buf(a, {4, 4}), buf(b, {4, 4}), buf(c, {4, 4})};
  fn.outputs = {c};
  const std::string i = "i\n" + kInjected, j = "j\\", k = "k\r#error k";
  fn.body = loop(i, 4,
                 loop(j, 4,
                      make_seq({st(c, {v(i), v(j)}, f(0.0)),
                                loop(k, 4,
                                     st(c, {v(i), v(j)},
                                        ld(c, {v(i), v(j)}) + ld(a, {v(i), v(k)}) * ld(b, {v(k), v(j)})))})),
                 ForKind::Parallel);
  const std::string code = generate_kernel(fn).code;
  std::istringstream lines(code);
  for (std::string l; std::getline(lines, l);) {
    const size_t p = l.find_first_not_of(' ');
    if (p == std::string::npos) continue;
    const std::string d = l.substr(p);
    EXPECT_NE(d.rfind("static int pwn", 0), 0u) << l;  // the payload's code is only ever inside a comment
    if (d[0] == '#') {
      EXPECT_TRUE(d.rfind("#include <", 0) == 0 || d.rfind("#pragma ", 0) == 0) << d;
    }
  }
  Library lib;
  EXPECT_EQ(lib.load(code, "kernel", true), "");
}

// Names the generator derives from the user's (split loops "i.0", cache buffers "C.local") next to
// user names that spell the same C text ("i_0", "C_local"), and user names that are the
// generator's own words: all distinct in C, and the kernel computes the reference's result.
TEST(Hygiene, DerivedAndUserNamesThatSpellTheSameTextStayApart) {
  Workload w;
  w.name = "collide";
  w.tensors = {tensor("int", {8, 4}), tensor("C.local", {4, 4}), tensor("C_local", {8, 4})};
  w.stages = {stage("C_local", {{"i_0", 8}, {"acc", 4}}, {{"k.0", 4}}, ReduceOp::Sum,
                    ld("int", {v("i_0"), v("k.0")}) * ld("C.local", {v("k.0"), v("acc")}))};
  w.outputs = {"C_local"};
  ASSERT_EQ(w.validate(), "");
  // for i.0 (2), i_0 (4): row i.0 * 4 + i_0.
  Expr row = v("i.0") * c(4) + v("i_0");
  Stmt body = loop(
      "i.0", 2,
      loop("i_0", 4,
           loop("acc", 4,
                make_seq({st("C_local", {row, v("acc")}, f(0.0)),
                          loop("k.0", 4,
                               st("C_local", {row, v("acc")},
                                  ld("C_local", {row, v("acc")}) +
                                      ld("int", {row, v("k.0")}) * ld("C.local", {v("k.0"), v("acc")})))}))),
      ForKind::Parallel);
  LoweredFunc fn;
  fn.name = w.name;
  fn.params = params_of(w);
  fn.outputs = w.outputs;
  fn.body = body;
  EXPECT_EQ(check_against_reference(fn, w), "");
}

}  // namespace
}  // namespace rctune::codegen::testing
