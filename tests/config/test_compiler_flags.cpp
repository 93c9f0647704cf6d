// measure.flags of a run config: code-generation flags only (include/rctune/config/compiler_flags.h).
#include <gtest/gtest.h>

#include "rctune/config/compiler_flags.h"
#include "rctune/config/tune_config.h"

namespace rctune::config {
namespace {

TEST(CompilerFlags, CodeGenerationFlagsAreAllowed) {
  for (const char* ok : {"", "-O3 -march=native -fopenmp-simd", "-O2 -ffast-math -fno-math-errno",
                         "-mprefer-vector-width=256 -mavx2 -mno-fma", "-DNDEBUG -DX=1 -UX",
                         "-g -w -pipe -Wall", "-std=c++20 -mtune=skylake-avx512 -ffp-contract=fast"})
    EXPECT_EQ(compiler_flags_problem(ok), "") << ok;
}

TEST(CompilerFlags, FlagsThatRunProgramsLoadCodeOrReadFilesAreRefused) {
  for (const char* bad : {"-wrapper sh,-c,id",
                          "-fplugin=./x.so",
                          "-fplugin-arg-x-y=z",
                          "@args",
                          "-B.",
                          "-B /tmp",
                          "-specs=x",
                          "-Wl,-rpath,.",
                          "-Wa,-x",
                          "-Xlinker -x",
                          "-include x.h",
                          "-I.",
                          "-isystem /x",
                          "-o out",
                          "-L.",
                          "-lfoo",
                          "-fprofile-generate=.",
                          "-fauto-profile=x",
                          "-fdump-tree-all",
                          "-ffile-prefix-map=a=b",
                          "x.cpp",
                          "-DX=$(id)",
                          "-D'X'",
                          "-march=../x",
                          "-O2\x0b-wrapper"})
    EXPECT_NE(compiler_flags_problem(bad), "") << bad;
}

TEST(CompilerFlags, ARunConfigWithADangerousFlagIsAnErrorNamingTheKey) {
  try {
    parse_tune_config("tasks: [matmul]\nmeasure:\n  flags: -O2 -wrapper sh,-c,id\n", "run.yaml");
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("measure.flags"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("-wrapper"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rctune::config
