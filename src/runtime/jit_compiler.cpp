#include "rctune/runtime/jit_compiler.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "file_lock.h"
#include "process.h"
#include "rctune/build_config.h"

namespace rctune::runtime {

using detail::file_exists;
using detail::read_file;
using detail::run_process;
using detail::write_file_atomic;

namespace {

constexpr const char* kPchHeader = "kokkos_pch.hpp";
constexpr const char* kFailureHeader = "# rctune: compiler exited with status ";

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
  if (opts_.cxx.empty()) opts_.cxx = RCTUNE_JIT_CXX;
  if (opts_.flags.empty()) opts_.flags = RCTUNE_JIT_FLAGS;
  cache_dir_ = opts_.cache_dir.empty() ? default_cache_dir() : opts_.cache_dir;
  kokkos_include_dir_ = RCTUNE_KOKKOS_INCLUDE_DIR;
  // The compiler's version is part of every cache key: an upgraded compiler recompiles.
  const auto v = run_process({opts_.cxx, "--version"}, 30);
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

CompileResult JitCompiler::compile(const std::string& source, SourceKind kind) const {
  CompileResult res;
  res.hash = cache_key(source, kind);
  const std::string base = cache_dir_ + "/" + res.hash;
  res.source_path = base + ".cpp";
  res.so_path = base + ".so";
  res.log_path = base + ".log";

  detail::make_dirs(cache_dir_);
  if (file_exists(res.so_path)) {
    res.ok = true;
    res.cache_hit = true;
    if (!file_exists(res.source_path)) write_file_atomic(res.source_path, source);
    return res;
  }
  // A compile that failed with a compiler error before fails the same way again.
  if (file_exists(res.log_path)) {
    const std::string log = read_file(res.log_path);
    if (log.rfind(kFailureHeader, 0) == 0) {
      res.cache_hit = true;
      res.message = first_lines(log.substr(log.find('\n') + 1));
      return res;
    }
  }
  if (!file_exists(res.source_path)) write_file_atomic(res.source_path, source);

  const auto t0 = std::chrono::steady_clock::now();
  std::string pch;
  if (kind == SourceKind::Kokkos && opts_.use_pch) pch = ensure_pch();

  const std::string tmp_so = res.so_path + detail::temp_suffix();
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
  args.push_back(res.source_path);
  args.push_back("-o");
  args.push_back(tmp_so);
  const auto r = run_process(args, opts_.timeout_s);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.cpu_seconds = r.cpu_seconds;
  res.used_pch = !pch.empty() && r.output.find(".gch") == std::string::npos;

  if (!r.error.empty()) {
    std::remove(tmp_so.c_str());
    res.message = r.error;
    return res;
  }
  if (r.timed_out) {
    std::remove(tmp_so.c_str());
    res.message = "compiler timed out after " + std::to_string(opts_.timeout_s) + " s";
    return res;
  }
  if (!r.exited || r.exit_code != 0) {
    std::remove(tmp_so.c_str());
    std::string log;
    if (r.exited) {
      log = kFailureHeader + std::to_string(r.exit_code) + "\n";
    } else {
      log = "# rctune: compiler killed by " + detail::signal_description(r.signal) + "\n";
    }
    log += r.output;
    write_file_atomic(res.log_path, log);
    res.message = first_lines(r.output);
    if (res.message.empty()) res.message = log.substr(0, log.find('\n'));
    return res;
  }
  if (std::rename(tmp_so.c_str(), res.so_path.c_str()) != 0) {
    std::remove(tmp_so.c_str());
    throw std::runtime_error("cannot install '" + res.so_path + "'");
  }
  res.ok = true;
  return res;
}

}  // namespace rctune::runtime
