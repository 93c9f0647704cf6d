// JIT compilation of generated C++ into shared objects, with a content-addressed cache.
//
// Cache layout (directory: JitOptions::cache_dir, else $XDG_CACHE_HOME/rctune, else
// ~/.cache/rctune):
//   <hash>.cpp   the source as compiled (the readable generated kernel, kept for the user)
//   <hash>.so    the shared object
//   <hash>.log   compiler output of a compile that failed because of the source (never of the
//                environment: see compile())
//   pch-<hash>/  precompiled Kokkos_Core.hpp for one (compiler, flags) pair
// <hash> is the XXH3-128 hash of (source, compiler and its version, flags, include dirs, kind).
// Files are written under temporary names and renamed into place, so concurrent processes that
// share a cache never see partial files.
// The cache holds code that rctune loads and runs (the .so files, the PCH): only the user chooses
// it (--cache-dir, XDG_CACHE_HOME), never a config or a trace (docs/security.md). A source is
// always written before it is compiled, so a .cpp found under a hash is never compiled as is.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace rctune::runtime {

enum class SourceKind {
  Kokkos,  // includes Kokkos_Core.hpp: compiled with the Kokkos include dir and the PCH
  Plain,   // plain C++ (reference kernels): no Kokkos, no PCH
};

struct JitOptions {
  std::string cxx;                        // empty: $RCTUNE_CXX, else RCTUNE_JIT_CXX (configure time)
  std::string flags;                      // empty: RCTUNE_JIT_FLAGS (-O3 -march=native)
  std::string cache_dir;                  // empty: $XDG_CACHE_HOME/rctune or ~/.cache/rctune
  std::vector<std::string> include_dirs;  // extra -I dirs (the Kokkos dir is always added)
  bool use_pch = true;                    // precompiled Kokkos_Core.hpp for Kokkos sources
  double timeout_s = 600;                 // a compile running longer is killed (compile_error)
};

struct CompileResult {
  bool ok = false;
  std::string message;      // on failure: the first lines of the compiler output
  std::string hash;         // cache key (32 hex digits)
  std::string source_path;  // <cache>/<hash>.cpp
  std::string so_path;      // <cache>/<hash>.so (exists when ok)
  std::string log_path;     // <cache>/<hash>.log (exists on failure)
  double seconds = 0;       // wall time of this call's compile (0 on a cache hit)
  double cpu_seconds = 0;   // user + system time of the compiler (less sensitive to machine load)
  bool cache_hit = false;
  bool used_pch = false;  // the PCH was passed to the compiler and not rejected by it
};

// Flags that every kernel compile adds after JitOptions::flags.
inline constexpr const char* kJitRequiredFlags = "-std=c++17 -fPIC -shared";

class JitCompiler {
 public:
  // Throws EnvironmentError when the compiler cannot be run or `cxx --version` fails.
  explicit JitCompiler(JitOptions opts = {});

  // Compiles `source` (a complete translation unit) or returns the cached shared object.
  // Never throws for the kernel's own compile errors (ok = false; cached in <hash>.log). Throws
  // EnvironmentError (rctune/runtime/environment_error.h), and caches nothing, when the fault is
  // the environment's: the compiler cannot be run, its output names a missing program or an
  // operating-system error (no space, read-only, too many open files, ...), an empty translation
  // unit does not build either (the toolchain probe), or the cache cannot be created or written
  // (the message names the path and the reason).
  CompileResult compile(const std::string& source, SourceKind kind) const;

  // Builds an empty shared library the way kernels are built; "" if that works, else what failed
  // (the command and the compiler's words).
  std::string check_toolchain() const;

  // Builds the precompiled header now if it does not exist (compile() does so on first use).
  // Returns the path to pass with -include, or an empty string if it cannot be built.
  std::string ensure_pch() const;

  const std::string& cache_dir() const { return cache_dir_; }
  const std::string& cxx() const { return opts_.cxx; }
  const std::string& flags() const { return opts_.flags; }
  std::string cache_key(const std::string& source, SourceKind kind) const;

 private:
  std::vector<std::string> compile_command(SourceKind kind, const std::string& pch,
                                           const std::string& source_path, const std::string& output) const;
  struct PchState;
  JitOptions opts_;
  std::shared_ptr<PchState> pch_;  // shared by copies of this compiler
  std::string cache_dir_;
  std::string kokkos_include_dir_;
  std::string compiler_version_;
};

// Default cache directory: $XDG_CACHE_HOME/rctune, else $HOME/.cache/rctune.
std::string default_cache_dir();

// Splits a flag string at whitespace (no quoting rules: flags with spaces are not supported).
std::vector<std::string> split_flags(const std::string& flags);

}  // namespace rctune::runtime
