#include <dlfcn.h>
#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "rctune/runtime/jit_compiler.h"
#include "runtime/runtime_test_util.h"

namespace rctune::runtime {
namespace {

using testing::test_jit_options;
using testing::unique_comment;

const std::string kPlainSource = "extern \"C\" int rctune_answer() { return 42; }\n";

TEST(JitCompiler, CompilesPlainSourceIntoLoadableSharedObject) {
  JitCompiler jit(test_jit_options());
  const CompileResult r = jit.compile(unique_comment() + kPlainSource, SourceKind::Plain);
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_FALSE(r.cache_hit);
  EXPECT_GT(r.seconds, 0);
  void* h = dlopen(r.so_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(h, nullptr) << dlerror();
  auto fn = reinterpret_cast<int (*)()>(dlsym(h, "rctune_answer"));
  ASSERT_NE(fn, nullptr);
  EXPECT_EQ(fn(), 42);
  dlclose(h);
}

TEST(JitCompiler, SecondCompileOfSameSourceIsCacheHit) {
  JitCompiler jit(test_jit_options());
  const std::string src = unique_comment() + kPlainSource;
  const CompileResult a = jit.compile(src, SourceKind::Plain);
  ASSERT_TRUE(a.ok) << a.message;
  const CompileResult b = jit.compile(src, SourceKind::Plain);
  ASSERT_TRUE(b.ok);
  EXPECT_TRUE(b.cache_hit);
  EXPECT_EQ(b.seconds, 0);
  EXPECT_EQ(a.so_path, b.so_path);
}

TEST(JitCompiler, CacheFilesAreNamedByHashInCacheDir) {
  JitCompiler jit(test_jit_options());
  const std::string src = unique_comment() + kPlainSource;
  const CompileResult r = jit.compile(src, SourceKind::Plain);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.hash.size(), 32u);
  EXPECT_EQ(r.source_path, jit.cache_dir() + "/" + r.hash + ".cpp");
  EXPECT_EQ(r.so_path, jit.cache_dir() + "/" + r.hash + ".so");
  EXPECT_TRUE(std::filesystem::exists(r.source_path));
  EXPECT_TRUE(std::filesystem::exists(r.so_path));
  std::ifstream f(r.source_path);
  std::string kept((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, src);
}

TEST(JitCompiler, ConcurrentCompilesOfSameSourceAllSucceed) {
  JitCompiler jit(test_jit_options());
  const std::string src = unique_comment() + kPlainSource;
  std::vector<CompileResult> results(3);
  std::vector<std::thread> threads;
  for (auto& r : results) threads.emplace_back([&jit, &src, &r] { r = jit.compile(src, SourceKind::Plain); });
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    EXPECT_TRUE(r.ok) << r.message;
    EXPECT_EQ(r.so_path, results[0].so_path);
  }
  // No temporary files are left behind.
  for (const auto& e : std::filesystem::directory_iterator(jit.cache_dir())) {
    const std::string name = e.path().filename().string();
    if (name.rfind(results[0].hash, 0) == 0) {
      EXPECT_EQ(name.find(".tmp."), std::string::npos) << name;
    }
  }
}

TEST(JitCompiler, CacheKeyDependsOnFlagsAndSource) {
  JitOptions o = test_jit_options();
  JitCompiler a(o);
  o.flags = "-O2";
  JitCompiler b(o);
  EXPECT_NE(a.cache_key(kPlainSource, SourceKind::Plain), b.cache_key(kPlainSource, SourceKind::Plain));
  EXPECT_NE(a.cache_key(kPlainSource, SourceKind::Plain), a.cache_key(kPlainSource + " ", SourceKind::Plain));
  EXPECT_EQ(a.cache_key(kPlainSource, SourceKind::Plain), a.cache_key(kPlainSource, SourceKind::Plain));
}

TEST(JitCompiler, DefaultFlagsComeFromConfigureTime) {
  JitCompiler jit(test_jit_options());
  EXPECT_FALSE(jit.cxx().empty());
  EXPECT_FALSE(jit.flags().empty());
}

TEST(JitCompiler, CompileErrorReportsFirstLinesAndKeepsLog) {
  JitCompiler jit(test_jit_options());
  const CompileResult r =
      jit.compile(unique_comment() + "void f() { this_does_not_exist(); }\n", SourceKind::Plain);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("this_does_not_exist"), std::string::npos) << r.message;
  EXPECT_TRUE(std::filesystem::exists(r.log_path));
  EXPECT_FALSE(std::filesystem::exists(r.so_path));
}

TEST(JitCompiler, RepeatedCompileErrorComesFromCache) {
  JitCompiler jit(test_jit_options());
  const std::string src = unique_comment() + "int broken( {\n";
  const CompileResult a = jit.compile(src, SourceKind::Plain);
  ASSERT_FALSE(a.ok);
  const CompileResult b = jit.compile(src, SourceKind::Plain);
  EXPECT_FALSE(b.ok);
  EXPECT_TRUE(b.cache_hit);
  EXPECT_FALSE(b.message.empty());
}

TEST(JitCompiler, DefaultCacheDirFollowsXdgCacheHome) {
  const char* old = std::getenv("XDG_CACHE_HOME");
  const std::string saved = old ? old : "";
  setenv("XDG_CACHE_HOME", "/some/where", 1);
  EXPECT_EQ(default_cache_dir(), "/some/where/rctune");
  if (old) {
    setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  } else {
    unsetenv("XDG_CACHE_HOME");
  }
}

TEST(JitCompiler, KokkosSourceCompilesWithPrecompiledHeader) {
  JitCompiler jit(test_jit_options());
  ASSERT_FALSE(jit.ensure_pch().empty());
  const CompileResult r = jit.compile(unique_comment() + testing::vadd_kokkos(), SourceKind::Kokkos);
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_TRUE(r.used_pch);
}

TEST(JitCompiler, KokkosSourceCompilesWithoutPrecompiledHeader) {
  JitOptions o = test_jit_options();
  o.use_pch = false;
  JitCompiler jit(o);
  const CompileResult r = jit.compile(unique_comment() + testing::vadd_kokkos(), SourceKind::Kokkos);
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_FALSE(r.used_pch);
}

TEST(JitCompiler, SplitFlagsSplitsAtWhitespace) {
  EXPECT_EQ(split_flags("  -O3   -march=native\t-g "),
            (std::vector<std::string>{"-O3", "-march=native", "-g"}));
  EXPECT_TRUE(split_flags("").empty());
}

}  // namespace
}  // namespace rctune::runtime
