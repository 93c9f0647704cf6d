// Limits on the sizes and depths that rctune accepts from workloads, schedules and traces, and the
// checked arithmetic that enforces them. Workload files, configs, traces and LLM answers may come
// from others: every size they carry is checked here before it is multiplied, allocated or nested
// (docs/workloads.md, "Limits").
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "rctune/ir/workload.h"

namespace rctune::ir {

// Nesting of a recursive-descent parser: parentheses, unary minus, calls, index brackets (workload
// text), lists and tuples (trace language).
inline constexpr int kMaxNesting = 200;
// Depth of an expression tree (operators in a chain count: a + b + ... with 1000 terms is too deep).
inline constexpr int kMaxExprDepth = 1000;
// Dimensions of a tensor.
inline constexpr size_t kMaxRank = 32;
// Index variables of a stage (left-hand side plus reduction variables).
inline constexpr size_t kMaxStageAxes = 64;
// Tensors and stages of a workload (stages added by cache_read, cache_write and rfactor count).
inline constexpr size_t kMaxTensors = 1024;
inline constexpr size_t kMaxStages = 256;
// Loops of one stage in a schedule: current loops (the loop nest's depth) and loops ever created.
inline constexpr size_t kMaxLoops = 64;
inline constexpr size_t kMaxLoopsCreated = 1024;
// Length of a stage or loop name a schedule creates (split, fuse, cache_read, ...).
inline constexpr size_t kMaxNameLength = 256;
// Elements of one tensor (2^56): byte sizes and flat indices then fit int64 with room to spare.
inline constexpr int64_t kMaxElements = int64_t{1} << 56;
// Points of a stage's iteration space: the product of all its axes' extents (2^62).
inline constexpr int64_t kMaxIterations = int64_t{1} << 62;
// |index value| * stride of its dimension, over the whole loop domain (2^56).
inline constexpr int64_t kMaxIndexSpan = int64_t{1} << 56;

// Checked int64 arithmetic: nullopt on overflow.
inline std::optional<int64_t> checked_mul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}
inline std::optional<int64_t> checked_add(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}
inline std::optional<int64_t> checked_sub(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) return std::nullopt;
  return r;
}
// Product of the values; nullopt when it overflows int64.
inline std::optional<int64_t> checked_product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t x : v) {
    auto r = checked_mul(p, x);
    if (!r) return std::nullopt;
    p = *r;
  }
  return p;
}

// Why a tensor's shape is refused ("" when fine): rank, extents, element count.
std::string check_tensor_shape(const Tensor& t);
// Why a stage reading `tensors` is refused ("" when fine): number of axes, iteration space, expression depth,
// and every index expression's range over the stage's domain (stage and term named).
std::string check_stage_sizes(const std::vector<Tensor>& tensors, const Stage& s);
// All of the above for a whole workload.
std::string check_sizes(const Workload& w);

// Depth of an expression tree (iterative: safe on any depth).
int expr_depth(const Expr& e);

// Bytes of all tensors of w (each rounded up to 64 bytes); nullopt on overflow.
std::optional<int64_t> workload_bytes(const Workload& w);
// Bytes that measuring w allocates in the worker: every tensor in its dtype plus a double copy for
// the reference kernel; nullopt on overflow.
std::optional<int64_t> measurement_bytes(const Workload& w);
// "" when measuring w fits in physical memory, else why (bytes needed and available, named).
std::string check_measurement_fits(const Workload& w);
// Physical memory of this machine in bytes (sysconf); 0 when unknown. (Inline: the worker links
// no rctune library.)
inline int64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 0;
  return checked_mul(pages, page).value_or(INT64_MAX);
}
// "" when `bytes` (what `what` needs) fits in physical memory, else a message with both numbers.
inline std::string check_fits_in_memory(int64_t bytes, const std::string& what) {
  const int64_t mem = physical_memory_bytes();
  if (mem <= 0 || bytes <= mem) return "";
  auto gib = [](int64_t b) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(b) / (1024.0 * 1024.0 * 1024.0));
    return std::string(buf);
  };
  return what + " needs " + std::to_string(bytes) + " bytes (" + gib(bytes) + ") but this machine has " +
         std::to_string(mem) + " bytes (" + gib(mem) + ") of physical memory";
}

// Counts the nesting of a recursive-descent parser: construct one on entry to each recursive rule;
// `exceeded()` is true once the depth passes `limit`.
class NestingGuard {
 public:
  NestingGuard(int& depth, int limit) : depth_(depth) { exceeded_ = ++depth_ > limit; }
  ~NestingGuard() { --depth_; }
  NestingGuard(const NestingGuard&) = delete;
  NestingGuard& operator=(const NestingGuard&) = delete;
  bool exceeded() const { return exceeded_; }

 private:
  int& depth_;
  bool exceeded_ = false;
};

}  // namespace rctune::ir
