// Helpers for the codegen tests: build workloads and loop nests by hand, compile generated source
// with g++, dlopen it and compare the kernel with the reference on random inputs.
#pragma once

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "rctune/build_config.h"
#include "rctune/codegen/kokkos.h"
#include "rctune/ir/stmt.h"
#include "rctune/ir/workload.h"
#include "support/stage_builder.h"

namespace rctune::codegen::testing {

using namespace rctune::ir;

// ---- building blocks ----
inline Expr v(const std::string& n) { return var(n); }
inline Expr c(int64_t x) { return int_imm(x); }
inline Expr f(double x) { return float_imm(x); }
inline Expr ld(const std::string& b, std::vector<Expr> idx) { return load(b, std::move(idx)); }
inline Stmt loop(const std::string& var, int64_t extent, Stmt body, ForKind k = ForKind::Serial,
                 BindLevel b = BindLevel::None) {
  return make_for(var, extent, k, b, std::move(body));
}
inline Stmt st(const std::string& b, std::vector<Expr> idx, Expr value) {
  return make_store(b, std::move(idx), std::move(value));
}
inline BufferDecl buf(const std::string& name, std::vector<int64_t> shape, MemScope s = MemScope::Global,
                      DType t = DType::F32) {
  BufferDecl d;
  d.name = name;
  d.shape = std::move(shape);
  d.scope = s;
  d.dtype = t;
  return d;
}
inline Tensor tensor(const std::string& name, std::vector<int64_t> shape, DType t = DType::F32) {
  Tensor x;
  x.name = name;
  x.shape = std::move(shape);
  x.dtype = t;
  return x;
}
using test_support::stage;
// Global params of a lowered function: one per workload tensor, declaration order.
inline std::vector<BufferDecl> params_of(const Workload& w) {
  std::vector<BufferDecl> r;
  for (const auto& t : w.tensors) r.push_back(buf(t.name, t.shape, MemScope::Global, t.dtype));
  return r;
}
inline bool contains(const std::string& s, const std::string& x) { return s.find(x) != std::string::npos; }

// Standard matmul workload C[i, j] += A[i, k] * B[k, j].
inline Workload matmul_workload(int64_t M, int64_t N, int64_t K) {
  Workload w;
  w.name = "matmul:M=" + std::to_string(M) + ",N=" + std::to_string(N) + ",K=" + std::to_string(K);
  w.tensors = {tensor("A", {M, K}), tensor("B", {K, N}), tensor("C", {M, N})};
  w.stages = {stage("C", {{"i", M}, {"j", N}}, {{"k", K}}, ReduceOp::Sum,
                    ld("A", {v("i"), v("k")}) * ld("B", {v("k"), v("j")}))};
  w.outputs = {"C"};
  return w;
}

// A 3x3 convolution with padding 1 in NCHW layout over square images, `channels` in and `filters`
// out, one image: Y[n, k, p, q] += X[n, c, stride * p + r - 1, stride * q + s - 1] * W[k, c, r, s].
inline Workload padded_conv_workload(const std::string& name, int64_t channels, int64_t filters,
                                     int64_t in_size, int64_t out_size, int64_t stride) {
  const auto strided = [stride](const std::string& x) { return stride == 1 ? v(x) : v(x) * stride; };
  Workload w;
  w.name = name;
  w.tensors = {tensor("X", {1, channels, in_size, in_size}), tensor("W", {filters, channels, 3, 3}),
               tensor("Y", {1, filters, out_size, out_size})};
  w.stages = {stage("Y", {{"n", 1}, {"k", filters}, {"p", out_size}, {"q", out_size}},
                    {{"c", channels}, {"r", 3}, {"s", 3}}, ReduceOp::Sum,
                    ld("X", {v("n"), v("c"), strided("p") + v("r") - c(1), strided("q") + v("s") - c(1)}) *
                        ld("W", {v("k"), v("c"), v("r"), v("s")}))};
  w.outputs = {"Y"};
  return w;
}

// ---- compiling and loading ----
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/rctune_codegen_test_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class Library {
 public:
  Library() = default;
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  ~Library() {
    if (handle_) dlclose(handle_);
  }
  // Compiles source into a shared object and opens it. Returns an error text ("" on success).
  std::string load(const std::string& source, const std::string& name, bool with_kokkos,
                   const std::string& flags = "-O1") {
    std::string src = dir_.path() + "/" + name + ".cpp";
    std::string so = dir_.path() + "/" + name + ".so";
    std::string log = dir_.path() + "/" + name + ".log";
    std::ofstream(src) << source;
    std::string cmd = std::string(RCTUNE_JIT_CXX) + " -std=c++17 " + flags + " -fPIC -shared ";
    if (with_kokkos) cmd += "-isystem " + std::string(RCTUNE_KOKKOS_INCLUDE_DIR) + " ";
    cmd += "-o '" + so + "' '" + src + "' > '" + log + "' 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      std::ifstream in(log);
      std::string msg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      return "compile failed: " + cmd + "\n" + msg.substr(0, 4000) + "\n--- source ---\n" + source;
    }
    handle_ = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) return std::string("dlopen failed: ") + dlerror();
    return "";
  }
  void* symbol(const std::string& name) const { return dlsym(handle_, name.c_str()); }

 private:
  TempDir dir_;
  void* handle_ = nullptr;
};

// Runs kernel and reference on the same random inputs and compares every output element.
// Returns "" when they agree, else a description of the first mismatch.
inline std::string check_against_reference(const LoweredFunc& fn, const Workload& w,
                                           const Target& target = {}, const std::string& flags = "-O1") {
  KernelSource ks = generate_kernel(fn, target);
  KernelSource rs = generate_reference(w);
  Library klib, rlib;
  std::string err = klib.load(ks.code, "kernel", true, flags);
  if (!err.empty()) return err;
  err = rlib.load(rs.code, "reference", false);
  if (!err.empty()) return err;
  auto kernel = reinterpret_cast<void (*)(void* const*)>(klib.symbol(ks.entry));
  auto reference = reinterpret_cast<void (*)(double* const*)>(rlib.symbol(rs.entry));
  if (!kernel || !reference) return "entry point missing";

  std::mt19937 rng(1234);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::map<std::string, std::vector<double>> ref_data;
  std::vector<double*> ref_ptrs;
  for (const auto& t : w.tensors) {
    auto& d = ref_data[t.name];
    d.resize(t.num_elements());
    for (auto& x : d) x = dist(rng);
    if (t.dtype == DType::F32)
      for (auto& x : d) x = static_cast<float>(x);
    ref_ptrs.push_back(d.data());
  }
  // Kernel buffers: 64-byte aligned copies of the same values (outputs poisoned with NaN-free junk).
  std::vector<std::shared_ptr<void>> storage;
  std::vector<void*> kptrs;
  for (const auto& p : fn.params) {
    const auto& d = ref_data.at(p.name);
    size_t bytes = (d.size() * dtype_bytes(p.dtype) + 63) / 64 * 64;
    void* mem = std::aligned_alloc(64, bytes);
    storage.emplace_back(mem, std::free);
    for (size_t i = 0; i < d.size(); ++i) {
      if (p.dtype == DType::F32)
        static_cast<float*>(mem)[i] = static_cast<float>(d[i]);
      else
        static_cast<double*>(mem)[i] = d[i];
    }
    kptrs.push_back(mem);
  }
  reference(ref_ptrs.data());
  kernel(kptrs.data());

  for (const auto& out : w.outputs) {
    size_t pi = 0;
    while (pi < fn.params.size() && fn.params[pi].name != out) ++pi;
    if (pi == fn.params.size()) return "output " + out + " is not a kernel parameter";
    const auto& ref = ref_data.at(out);
    const auto& p = fn.params[pi];
    const Stage* s = w.find_stage(out);
    double red = 1;
    for (const auto& r : s->reduce_axes) red *= static_cast<double>(r.extent);
    double tol = (p.dtype == DType::F32 ? 2e-6 : 1e-12) * (4 + std::sqrt(red)) * 8;
    for (size_t i = 0; i < ref.size(); ++i) {
      double got =
          p.dtype == DType::F32 ? static_cast<float*>(kptrs[pi])[i] : static_cast<double*>(kptrs[pi])[i];
      if (!(std::fabs(got - ref[i]) <= tol * (1 + std::fabs(ref[i])))) {
        char msg[256];
        std::snprintf(msg, sizeof msg, "%s[%zu]: kernel %.9g, reference %.9g", out.c_str(), i, got, ref[i]);
        return std::string(msg) + "\n--- kernel source ---\n" + ks.code;
      }
    }
  }
  return "";
}

// Kokkos lives for the whole test process; generated kernels run on its default space.
class KokkosEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!Kokkos::is_initialized()) Kokkos::initialize();
  }
  void TearDown() override {
    if (Kokkos::is_initialized()) Kokkos::finalize();
  }
};

}  // namespace rctune::codegen::testing
