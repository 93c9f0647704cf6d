#include "rctune/runtime/jit_compiler.h"

#include <fcntl.h>
#include <spdlog/fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "file_lock.h"
#include "process.h"
#include "rctune/build_config.h"
#include "rctune/runtime/environment_error.h"

namespace rctune::runtime {

using detail::file_exists;
using detail::read_file;
using detail::run_process;
using detail::write_file_atomic;

namespace {

constexpr const char* kPchHeader = "kokkos_pch.hpp";
// The first line of <hash>.log: the compiler rejected the source, and a probe compile showed that
// the toolchain works (a failure of the kernel, replayed from the cache). Logs of older versions
// (first line "# rctune: compiler exited with status N") were written for any failure, the
// environment's included: they are not trusted, but removed and the source compiled again.
constexpr const char* kKernelFailureHeader = "# rctune: the source does not compile (exit status ";

// Lines of compiler output that name a fault of the toolchain or of the machine, not of the source
// (GCC, Clang, binutils, and the C library's strerror texts; English messages: in another language
// the toolchain probe decides). GCC quotes names with ' or, in a UTF-8 locale, with ‘ ’.
constexpr const char* kEnvironmentMarkers[] = {
    "cannot execute ",                   // gcc: cannot execute 'as': execvp: No such file or directory
    "execvp:",                           // ... or any program the driver runs
    "error trying to exec",              // older gcc
    "installation problem",              // gcc: installation problem, cannot exec 'cc1plus'
    "cannot find 'ld'",                  // collect2: fatal error: cannot find 'ld'
    "cannot find \u2018ld\u2019",        // ... in a UTF-8 locale
    "No such file or directory",         // a missing program, header (Kokkos) or directory
    "unable to execute command",         // clang
    "doesn't exist!",                    // clang: Executable "ld" doesn't exist!
    "cannot open output file",           // ld
    "final link failed",                 // ld: final link failed: No space left on device
    "No space left on device",           // ENOSPC
    "Disk quota exceeded",               // EDQUOT
    "Read-only file system",             // EROFS
    "Too many open files",               // EMFILE, ENFILE
    "Cannot allocate memory",            // ENOMEM
    "Resource temporarily unavailable",  // EAGAIN (fork)
    "Permission denied",                 // EACCES (the source, the headers or the output)
    "Input/output error",                // EIO
    "virtual memory exhausted",
    "out of memory allocating",
};

// The first line of `out` that names an environment fault, or "". Lines that quote the source
// ("   12 |   code", "      |   ^") are skipped: a kernel's text never decides.
std::string environment_line(const std::string& out) {
  std::istringstream ss(out);
  for (std::string l; std::getline(ss, l);) {
    const size_t text = l.find_first_not_of(" \t0123456789");
    if (text != std::string::npos && l[text] == '|') continue;
    for (const char* m : kEnvironmentMarkers)
      if (l.find(m) != std::string::npos) return l;
  }
  return "";
}

// How a compiler process ended, for a message.
std::string ending_of(const detail::ProcessResult& r) {
  if (r.timed_out) return "timed out";
  if (r.exited) return "exited with status " + std::to_string(r.exit_code);
  return "was killed by " + detail::signal_description(r.signal);
}

std::string hex128(XXH128_hash_t h) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return buf;
}

struct Hasher {
  XXH3_state_t* st = XXH3_createState();
  Hasher() { XXH3_128bits_reset(st); }
  ~Hasher() { XXH3_freeState(st); }
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  void add(const std::string& s) {
    const uint64_t n = s.size();  // length prefix: ("ab","c") and ("a","bc") differ
    XXH3_128bits_update(st, &n, sizeof n);
    XXH3_128bits_update(st, s.data(), s.size());
  }
  std::string hex() const { return hex128(XXH3_128bits_digest(st)); }
};

// The first lines of compiler output, starting just before the first error.
std::string first_lines(const std::string& out, size_t max_lines = 15) {
  std::vector<std::string> lines;
  std::istringstream ss(out);
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  size_t start = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find("error") != std::string::npos) {
      start = i >= 2 ? i - 2 : 0;
      break;
    }
  }
  std::string res;
  for (size_t i = start; i < lines.size() && i < start + max_lines; ++i) res += lines[i] + "\n";
  if (!res.empty()) res.pop_back();
  return res;
}

// Runs `f`, which writes to the kernel cache `dir`; its EnvironmentError also says which cache it is
// and how to choose another.
template <typename F>
void in_cache(const std::string& dir, F&& f) {
  try {
    f();
  } catch (const EnvironmentError& e) {
    throw EnvironmentError(std::string(e.what()) + " (the kernel cache " + dir +
                           "; --cache-dir or XDG_CACHE_HOME chooses another)");
  }
}

std::string file_stamp(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec);
}

}  // namespace

struct JitCompiler::PchState {
  std::mutex mu;
  int state = 0;  // 0: not tried in this process, 1: built, -1: failed
  std::string header;
  std::string error;
};

std::vector<std::string> split_flags(const std::string& flags) {
  std::vector<std::string> out;
  std::istringstream ss(flags);
  for (std::string f; ss >> f;) out.push_back(f);
  return out;
}

std::string default_cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg) return std::string(xdg) + "/rctune";
  const char* home = std::getenv("HOME");
  if (home && *home) return std::string(home) + "/.cache/rctune";
  return "/tmp/rctune-cache-" + std::to_string(getuid());
}

JitCompiler::JitCompiler(JitOptions opts) : opts_(std::move(opts)), pch_(std::make_shared<PchState>()) {
  if (opts_.cxx.empty()) {
    const char* env = std::getenv("RCTUNE_CXX");
    opts_.cxx = env && *env ? env : RCTUNE_JIT_CXX;
  }
  if (opts_.flags.empty()) opts_.flags = RCTUNE_JIT_FLAGS;
  cache_dir_ = opts_.cache_dir.empty() ? default_cache_dir() : opts_.cache_dir;
  kokkos_include_dir_ = RCTUNE_KOKKOS_INCLUDE_DIR;
  // The compiler's version is part of every cache key: an upgraded compiler recompiles. A compiler
  // that cannot say its version cannot compile either: stop before anything is measured.
  const auto v = run_process({opts_.cxx, "--version"}, 30);
  const char* env = std::getenv("RCTUNE_CXX");
  const std::string which =
      "the kernel compiler '" + opts_.cxx + "'" +
      (env && *env && opts_.cxx == env ? " (RCTUNE_CXX)"
       : opts_.cxx == RCTUNE_JIT_CXX   ? " (configured at build time; RCTUNE_CXX chooses another)"
                                       : "");
  if (!v.error.empty()) throw EnvironmentError("cannot run " + which + ": " + v.error);
  if (!v.exited || v.exit_code != 0) {
    const std::string out = v.output.substr(0, v.output.find('\n'));
    throw EnvironmentError(which + " does not work: '" + opts_.cxx + " --version' " + ending_of(v) +
                           (out.empty() ? " without output" : ": " + out));
  }
  compiler_version_ = v.output.substr(0, v.output.find('\n'));
}

std::string JitCompiler::cache_key(const std::string& source, SourceKind kind) const {
  Hasher h;
  h.add("rctune-jit-v1");
  h.add(kind == SourceKind::Kokkos ? "kokkos" : "plain");
  h.add(opts_.cxx);
  h.add(compiler_version_);
  h.add(opts_.flags);
  h.add(kJitRequiredFlags);
  if (kind == SourceKind::Kokkos) h.add(kokkos_include_dir_);
  for (const auto& d : opts_.include_dirs) h.add(d);
  h.add(source);
  return h.hex();
}

std::string JitCompiler::ensure_pch() const {
  std::lock_guard<std::mutex> lock(pch_->mu);
  if (pch_->state == 1) return pch_->header;
  if (pch_->state == -1) return "";
  Hasher h;
  h.add("rctune-pch-v1");
  h.add(opts_.cxx);
  h.add(compiler_version_);
  h.add(opts_.flags);
  h.add(kokkos_include_dir_);
  for (const auto& d : opts_.include_dirs) h.add(d);
  // A Kokkos upgrade changes its headers: rebuild the PCH then.
  h.add(file_stamp(kokkos_include_dir_ + "/Kokkos_Core.hpp"));
  h.add(file_stamp(kokkos_include_dir_ + "/KokkosCore_config.h"));
  const std::string dir = cache_dir_ + "/pch-" + h.hex().substr(0, 16);
  const std::string header = dir + "/" + kPchHeader;
  const std::string gch = header + ".gch";
  try {
    detail::make_dirs(dir);
    FileLock flock_guard(dir + "/lock",
                         FileLock::Mode::BestEffort);  // one process builds, the others wait and reuse
    if (!file_exists(gch)) {
      if (!file_exists(header)) write_file_atomic(header, "#include <Kokkos_Core.hpp>\n");
      const std::string tmp = gch + detail::temp_suffix();
      std::vector<std::string> args{opts_.cxx};
      for (const auto& f : split_flags(opts_.flags)) args.push_back(f);
      for (const char* f : {"-std=c++17", "-fPIC", "-x", "c++-header"}) args.push_back(f);
      args.push_back("-I" + kokkos_include_dir_);
      for (const auto& d : opts_.include_dirs) args.push_back("-I" + d);
      args.push_back(header);
      args.push_back("-o");
      args.push_back(tmp);
      const auto r = run_process(args, opts_.timeout_s);
      if (!r.exited || r.exit_code != 0) {
        std::remove(tmp.c_str());
        pch_->state = -1;
        pch_->error = first_lines(r.error.empty() ? r.output : r.error);
        return "";
      }
      if (std::rename(tmp.c_str(), gch.c_str()) != 0) {
        std::remove(tmp.c_str());
        pch_->state = -1;
        pch_->error = "cannot install " + gch;
        return "";
      }
    }
  } catch (const std::exception& e) {
    pch_->state = -1;
    pch_->error = e.what();
    return "";
  }
  pch_->state = 1;
  pch_->header = header;
  return header;
}

std::vector<std::string> JitCompiler::compile_command(SourceKind kind, const std::string& pch,
                                                      const std::string& source_path,
                                                      const std::string& output) const {
  std::vector<std::string> args{opts_.cxx};
  for (const auto& f : split_flags(opts_.flags)) args.push_back(f);
  for (const auto& f : split_flags(kJitRequiredFlags)) args.push_back(f);
  if (kind == SourceKind::Kokkos) args.push_back("-I" + kokkos_include_dir_);
  for (const auto& d : opts_.include_dirs) args.push_back("-I" + d);
  if (!pch.empty()) {
    args.push_back("-Winvalid-pch");
    args.push_back("-include");
    args.push_back(pch);
  }
  args.push_back(source_path);
  args.push_back("-o");
  args.push_back(output);
  return args;
}

std::string JitCompiler::check_toolchain() const {
  // An empty translation unit built like a kernel (same compiler and flags, an output in the
  // cache): it needs the compiler proper, the assembler, the linker, file descriptors and space
  // in the cache, and nothing of any kernel.
  const std::string out = cache_dir_ + "/toolchain-probe.so" + detail::temp_suffix();
  std::vector<std::string> args = compile_command(SourceKind::Plain, "", "/dev/null", out);
  args.insert(args.end() - 3, {"-x", "c++"});
  const auto r = run_process(args, std::min(opts_.timeout_s, 120.0));
  std::remove(out.c_str());
  if (r.error.empty() && r.exited && r.exit_code == 0) return "";
  std::string command;
  for (const auto& a : args) command += (command.empty() ? "" : " ") + a;
  std::string why = !r.error.empty() ? r.error : ending_of(r);
  const std::string line = environment_line(r.output);
  const std::string out_lines = line.empty() ? first_lines(r.output, 3) : line;
  if (r.error.empty() && !out_lines.empty()) why += ": " + out_lines;
  return "the kernel compiler cannot build even an empty shared library (`" + command + "` " + why + ")";
}

CompileResult JitCompiler::compile(const std::string& source, SourceKind kind) const {
  CompileResult res;
  res.hash = cache_key(source, kind);
  const std::string base = cache_dir_ + "/" + res.hash;
  res.source_path = base + ".cpp";
  res.so_path = base + ".so";
  res.log_path = base + ".log";

  in_cache(cache_dir_, [&] { detail::make_dirs(cache_dir_); });
  if (file_exists(res.so_path)) {
    res.ok = true;
    res.cache_hit = true;
    if (!file_exists(res.source_path))
      in_cache(cache_dir_, [&] { write_file_atomic(res.source_path, source); });
    return res;
  }
  // A source that the compiler rejected before (with a working toolchain) fails the same way again.
  if (file_exists(res.log_path)) {
    const std::string log = read_file(res.log_path);
    if (log.rfind(kKernelFailureHeader, 0) == 0) {
      res.cache_hit = true;
      res.message = first_lines(log.substr(log.find('\n') + 1));
      return res;
    }
    // An older version's log, which may record a broken toolchain: compiled again.
    std::remove(res.log_path.c_str());
  }
  // The source compiled is always this one, never a file found under its name.
  in_cache(cache_dir_, [&] { write_file_atomic(res.source_path, source); });

  const auto t0 = std::chrono::steady_clock::now();
  std::string pch;
  if (kind == SourceKind::Kokkos && opts_.use_pch) pch = ensure_pch();

  const std::string tmp_so = res.so_path + detail::temp_suffix();
  const std::vector<std::string> args = compile_command(kind, pch, res.source_path, tmp_so);
  const auto r = run_process(args, opts_.timeout_s);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  spdlog::debug("compiled {} in {:.2f} s (exit {}): {}", res.source_path, res.seconds, r.exit_code,
                fmt::join(args, " "));
  res.cpu_seconds = r.cpu_seconds;
  res.used_pch = !pch.empty() && r.output.find(".gch") == std::string::npos;

  if (!r.error.empty()) {  // the compiler could not be started (not found, fork, pipe)
    std::remove(tmp_so.c_str());
    throw EnvironmentError("cannot run the kernel compiler to build '" + res.source_path + "': " + r.error);
  }
  if (r.timed_out) {
    std::remove(tmp_so.c_str());
    res.message = "compiler timed out after " + std::to_string(opts_.timeout_s) + " s";
    return res;
  }
  if (!r.exited || r.exit_code != 0) {
    std::remove(tmp_so.c_str());
    // Only a failure that belongs to the kernel is cached: the compiler ran, rejected the source,
    // and builds an empty library in the same environment.
    if (const std::string line = environment_line(r.output); !line.empty())
      throw EnvironmentError("the kernel compiler '" + opts_.cxx + "' failed on '" + res.source_path +
                             "' because of the environment, not the kernel: " + line);
    if (const std::string broken = check_toolchain(); !broken.empty())
      throw EnvironmentError(broken + "; it " + ending_of(r) + " on '" + res.source_path + "'");
    if (!r.exited) {
      // Killed by a signal with a working toolchain (out of memory, killed from outside): this
      // kernel's failure, but not one to replay from the cache.
      res.message = "compiler " + ending_of(r) + "\n" + first_lines(r.output);
      return res;
    }
    const std::string log = kKernelFailureHeader + std::to_string(r.exit_code) + ")\n" + r.output;
    in_cache(cache_dir_, [&] { write_file_atomic(res.log_path, log); });
    res.message = first_lines(r.output);
    if (res.message.empty()) res.message = "compiler " + ending_of(r) + " without a message";
    return res;
  }
  if (std::rename(tmp_so.c_str(), res.so_path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp_so.c_str());
    throw EnvironmentError("cannot install '" + res.so_path + "' in the kernel cache: " + std::strerror(e));
  }
  res.ok = true;
  return res;
}

}  // namespace rctune::runtime
