// Faults of the environment, not of the kernel: a toolchain that cannot run (no assembler on PATH,
// no compiler, a compiler that fails on everything, one killed by a signal), a kernel cache that
// cannot be written, an old cache entry that recorded a broken toolchain, a worker that cannot
// start. None of them is cached as the kernel's compile error; each is an EnvironmentError that
// names the cause; once the environment is fixed, the same kernel compiles.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <utility>

#include "../runlog/runlog_test_util.h"
#include "rctune/runtime/environment_error.h"
#include "rctune/runtime/jit_compiler.h"
#include "runtime_test_util.h"
#include "support/message_of.h"

namespace rctune::runtime::testing {
namespace {

namespace fs = std::filesystem;
using runlog::testing::TempDir;

const std::string kPlainSource = "extern \"C\" int rctune_answer() { return 42; }\n";

// Sets an environment variable for the lifetime of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    had_ = std::getenv(name) != nullptr;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_)
      setenv(name_, old_.c_str(), 1);
    else
      unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

std::string write_script(const TempDir& dir, const std::string& name, const std::string& body) {
  const std::string path = dir.file(name);
  std::ofstream(path) << "#!/bin/sh\n" << body;
  ::chmod(path.c_str(), 0755);
  return path;
}

size_t files_ending_in(const std::string& dir, const std::string& ext) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() >= ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0) ++n;
  }
  return n;
}

JitOptions options_in(const TempDir& dir) {
  JitOptions o;
  o.cache_dir = dir.file("cache");
  return o;
}

// Runs `f`, which must throw EnvironmentError; returns its message.
template <typename F>
std::string environment_error_of(F&& f) {
  const std::optional<std::string> message = test_support::message_of<EnvironmentError>(std::forward<F>(f));
  if (!message) ADD_FAILURE() << "no EnvironmentError";
  return message.value_or("");
}

TEST(ToolchainFaults, AnAssemblerMissingFromPathStopsTheCompileAndCachesNothing) {
  TempDir dir;
  fs::create_directories(dir.file("empty-bin"));
  const JitCompiler jit(options_in(dir));
  const std::string src = unique_comment() + kPlainSource;
  {
    ScopedEnv path("PATH", dir.file("empty-bin"));
    const std::string msg = environment_error_of([&] { jit.compile(src, SourceKind::Plain); });
    EXPECT_NE(msg.find("cannot execute"), std::string::npos) << msg;
    EXPECT_TRUE(msg.find("'as'") != std::string::npos || msg.find("\u2018as\u2019") != std::string::npos)
        << msg;
  }
  EXPECT_EQ(files_ending_in(jit.cache_dir(), ".log"), 0u) << "an environment failure was cached";
  const CompileResult fixed = jit.compile(src, SourceKind::Plain);
  EXPECT_TRUE(fixed.ok) << fixed.message;
  EXPECT_FALSE(fixed.cache_hit);
}

TEST(ToolchainFaults, ACompilerThatCannotBeRunIsNamedWithTheReason) {
  TempDir dir;
  JitOptions o = options_in(dir);
  o.cxx = dir.file("no-such-compiler");
  const std::string msg = environment_error_of([&] { JitCompiler jit(o); });
  EXPECT_NE(msg.find(o.cxx), std::string::npos) << msg;
  EXPECT_NE(msg.find("No such file or directory"), std::string::npos) << msg;
}

TEST(ToolchainFaults, RctuneCxxChoosesTheCompiler) {
  TempDir dir;
  ScopedEnv cxx("RCTUNE_CXX", dir.file("no-such-compiler"));
  const std::string msg = environment_error_of([&] { JitCompiler jit(options_in(dir)); });
  EXPECT_NE(msg.find(dir.file("no-such-compiler")), std::string::npos) << msg;
}

TEST(ToolchainFaults, ACompilerThatFailsOnEveryFileIsTheEnvironmentsFault) {
  TempDir dir;
  JitOptions o = options_in(dir);
  // Says its version like a compiler, then fails without a word on anything it is given.
  o.cxx = write_script(dir, "broken-c++", "[ \"$1\" = --version ] && exec c++ --version\nexit 1\n");
  const JitCompiler jit(o);
  const std::string msg =
      environment_error_of([&] { jit.compile(unique_comment() + kPlainSource, SourceKind::Plain); });
  EXPECT_NE(msg.find("empty shared library"), std::string::npos) << msg;
  EXPECT_NE(msg.find("exited with status 1"), std::string::npos) << msg;
  EXPECT_EQ(files_ending_in(jit.cache_dir(), ".log"), 0u);
}

TEST(ToolchainFaults, ACompileKilledByASignalIsAFailureThatIsNotCached) {
  TempDir dir;
  JitOptions o = options_in(dir);
  // Killed (like the OOM killer would) on the kernel only: the toolchain itself works.
  o.cxx = write_script(
      dir, "killed-c++",
      "for a; do case \"$a\" in *.cpp) grep -q KILL_THE_COMPILER \"$a\" && kill -9 $$;; esac; done\n"
      "exec c++ \"$@\"\n");
  const JitCompiler jit(o);
  const CompileResult r =
      jit.compile(unique_comment() + "// KILL_THE_COMPILER\n" + kPlainSource, SourceKind::Plain);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("SIGKILL"), std::string::npos) << r.message;
  EXPECT_FALSE(fs::exists(r.log_path)) << "a compile killed from outside is not replayed from the cache";
}

TEST(ToolchainFaults, AGenuineCompileErrorIsStillCachedAsTheKernels) {
  TempDir dir;
  const JitCompiler jit(options_in(dir));
  const std::string src = unique_comment() + "int broken( {\n";
  const CompileResult a = jit.compile(src, SourceKind::Plain);
  ASSERT_FALSE(a.ok);
  EXPECT_TRUE(fs::exists(a.log_path));
  const CompileResult b = jit.compile(src, SourceKind::Plain);
  EXPECT_FALSE(b.ok);
  EXPECT_TRUE(b.cache_hit);
}

TEST(ToolchainFaults, AnOldLogOfABrokenToolchainIsNotReplayed) {
  TempDir dir;
  const JitCompiler jit(options_in(dir));
  const std::string src = unique_comment() + kPlainSource;
  // What versions before this one cached when PATH had no assembler.
  fs::create_directories(jit.cache_dir());
  std::ofstream(jit.cache_dir() + "/" + jit.cache_key(src, SourceKind::Plain) + ".log")
      << "# rctune: compiler exited with status 1\n"
         "c++: fatal error: cannot execute 'as': execvp: No such file or directory\n"
         "compilation terminated.\n";
  const CompileResult r = jit.compile(src, SourceKind::Plain);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_FALSE(fs::exists(r.log_path));
}

TEST(ToolchainFaults, ACacheDirectoryThatCannotBeCreatedIsNamedWithTheReason) {
  TempDir dir;
  std::ofstream(dir.file("a-file")) << "not a directory\n";
  JitOptions o;
  o.cache_dir = dir.file("a-file") + "/rctune";
  const JitCompiler jit(o);
  const std::string msg =
      environment_error_of([&] { jit.compile(unique_comment() + kPlainSource, SourceKind::Plain); });
  EXPECT_NE(msg.find(o.cache_dir), std::string::npos) << msg;
  EXPECT_NE(msg.find("Not a directory"), std::string::npos) << msg;
}

TEST(ToolchainFaults, AWorkerThatCannotStartStopsTheMeasurement) {
  WorkerOptions w;
  w.worker_path = "/nonexistent/rctune-worker";
  Measurer m(test_jit_options(), w);
  const std::string msg = environment_error_of([&] { m.measure(vadd_input(vadd_plain()), quick_options()); });
  EXPECT_NE(msg.find("/nonexistent/rctune-worker"), std::string::npos) << msg;
}

}  // namespace
}  // namespace rctune::runtime::testing
