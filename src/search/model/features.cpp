// Feature extraction for the cost model: see rctune/search/features.h and docs/cost-model.md.
//
// One walk over the nest collects the loops (For nodes, pre-order ids), the stores with their
// enclosing loops, guards and accesses, and the allocations. Footprints are bounding boxes of the
// accessed index ranges (interval arithmetic over the loop variables), per buffer, rounded up to
// 64-byte cache lines along the last dimension so that strided accesses cost what they touch.
// For every loop two footprints are kept: the whole loop (its variable and all inner ones vary) and
// one iteration of its body (its own variable fixed).
#include "rctune/search/features.h"
#include "rctune/ir/check.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <unordered_map>

#include "rctune/schedule/lower.h"

namespace rctune::search {

// ---------------------------------------------------------------- hardware

namespace {

int64_t parse_cache_size(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.empty()) return 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || v <= 0) return 0;
  int64_t mult = 1;
  if (*end == 'K' || *end == 'k') mult = 1024;
  if (*end == 'M' || *end == 'm') mult = 1024 * 1024;
  if (*end == 'G' || *end == 'g') mult = int64_t{1024} * 1024 * 1024;
  return static_cast<int64_t>(v) * mult;
}

std::string read_small_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::string s;
  std::getline(in, s);
  return s;
}

}  // namespace

HardwareInfo read_hardware_info(const std::string& cache_dir) {
  HardwareInfo hw;
  for (int index = 0; index < 16; ++index) {
    std::string dir = cache_dir + "/index" + std::to_string(index);
    std::string level_text = read_small_file(dir + "/level");
    if (level_text.empty()) continue;
    int level = std::atoi(level_text.c_str());
    std::string type = read_small_file(dir + "/type");
    int64_t size = parse_cache_size(read_small_file(dir + "/size"));
    if (size <= 0 || type == "Instruction") continue;
    if (level == 1) hw.l1_bytes = size;
    if (level == 2) hw.l2_bytes = size;
    if (level == 3) hw.l3_bytes = size;
  }
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    hw.vector_bytes = 64;
  } else if (__builtin_cpu_supports("avx")) {
    hw.vector_bytes = 32;
  } else {
    hw.vector_bytes = 16;
  }
#else
  hw.vector_bytes = 16;
#endif
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) hw.cores = CPU_COUNT(&set);
  return hw;
}

const HardwareInfo& host_hardware_info() {
  static const HardwareInfo hw = read_hardware_info();
  return hw;
}

// ---------------------------------------------------------------- feature table

namespace {

enum F : size_t {
  kFlops,
  kStores,
  kStoreExecutions,
  kLoopNests,
  kLoops,
  kMaxLoopDepth,
  kLoopDepth,
  kInnermostExtent,
  kOutermostExtent,
  kParallelExtent,
  kParallelLoops,
  kParallelEfficiency,
  kParallelOutermost,
  kVectorLanes,
  kVectorizedFraction,
  kVectorWidthRatio,
  kVectorizedInnermost,
  kUnrolledIterations,
  kUnrolledFraction,
  kSerialExtent,
  kWorkPerThread,
  kFlopsPerStore,
  kTranscendentalsPerStore,
  kSelectsPerStore,
  kReadsPerStore,
  kBytesAccessed,
  kStride0Fraction,
  kStride1Fraction,
  kStridedFraction,
  kWriteStride0Fraction,
  kWriteStride1Fraction,
  kVectorGatherFraction,
  kInnermostStrideBytes,
  kReuseDistanceBytes,
  kReuseDistanceIters,
  kNoReuseFraction,
  kReuseInL1Fraction,
  kReuseInL2Fraction,
  kInnermostLoopFootprint,
  kL1FitDepth,
  kL2FitDepth,
  kL3FitDepth,
  kUniqueBytes,
  kGlobalUniqueBytes,
  kTrafficL1,
  kTrafficL2,
  kTrafficL3,
  kArithIntensity,
  kIntensityL1,
  kIntensityL2,
  kIntensityL3,
  kGuardsPerStore,
  kGuardExecutions,
  kGuardedFraction,
  kLocalElements,
  kLocalMaxElements,
  kLocalRegisterRatio,
  kSharedBytes,
  kHeapBytes,
  kAllocations,
  kAllocationExecutions,
  kLocalAccessFraction,
  kSimdLanes,
  kAutoVectorizedFraction,
  kVaryingSelectsPerStore,
  kNumFeatures
};

const std::vector<FeatureInfo>& table() {
  static const std::vector<FeatureInfo> t = {
      {"flops", "floating-point operations of one kernel call; log2(1+x)"},
      {"stores", "store statements in the nest; log2(1+x)"},
      {"store_executions", "executions of all stores (product of enclosing loop extents, summed); log2(1+x)"},
      {"loop_nests", "top-level loop nests (roughly: stages not placed inside another); log2(1+x)"},
      {"loops", "for loops in the nest; log2(1+x)"},
      {"max_loop_depth", "deepest loop nesting of any store"},
      {"loop_depth", "loops enclosing a store; mean over stores weighted by executions"},
      {"innermost_extent", "extent of a store's innermost loop; weighted mean of log2(1+x)"},
      {"outermost_extent", "extent of a store's outermost loop; weighted mean of log2(1+x)"},
      {"parallel_extent",
       "product of the extents of parallel (or league/team-bound) loops around a store, 0 when none; "
       "weighted "
       "mean of log2(1+x)"},
      {"parallel_loops", "parallel loops around a store; weighted mean"},
      {"parallel_efficiency",
       "P / (cores * ceil(P / cores)) for parallel extent P (1/cores when serial); weighted mean"},
      {"parallel_outermost", "fraction of store executions whose outermost loop is parallel"},
      {"vector_lanes",
       "extent of the innermost vectorized (or vector-bound) loop around a store, 0 when none; weighted mean "
       "of log2(1+x)"},
      {"vectorized_fraction", "fraction of store executions inside a vectorized loop"},
      {"vector_width_ratio",
       "vector lanes * element bytes / SIMD register bytes (0 when not vectorized); weighted mean"},
      {"vectorized_innermost", "fraction of store executions whose innermost loop is vectorized"},
      {"unrolled_iterations",
       "product of the extents of unrolled loops around a store; weighted mean of log2(1+x)"},
      {"unrolled_fraction", "fraction of store executions inside an unrolled loop"},
      {"serial_extent",
       "product of the extents of serial loops around a store (1 when none); weighted mean of log2(1+x)"},
      {"work_per_thread",
       "store executions divided by min(parallel extent, cores), summed over stores; log2(1+x)"},
      {"flops_per_store", "floating-point operations per store execution; weighted mean"},
      {"transcendentals_per_store", "unary calls (exp, tanh, sqrt, ...) per store execution; weighted mean"},
      {"selects_per_store", "select expressions (padding, masks) per store execution; weighted mean"},
      {"reads_per_store", "buffer reads per store execution; weighted mean"},
      {"bytes_accessed",
       "bytes loaded and stored by all store executions, local (register) buffers excluded; log2(1+x)"},
      {"stride0_fraction",
       "fraction of a store's accesses invariant in its innermost loop of extent > 1; weighted mean"},
      {"stride1_fraction", "fraction of a store's accesses with unit stride in that loop; weighted mean"},
      {"strided_fraction", "fraction of a store's accesses with another stride in that loop; weighted mean"},
      {"write_stride0_fraction",
       "fraction of store executions whose written element is invariant in the innermost loop (accumulator)"},
      {"write_stride1_fraction",
       "fraction of store executions that write with unit stride in the innermost loop"},
      {"vector_gather_fraction",
       "fraction of accesses with a non-unit, non-zero stride in the innermost vectorized loop (gathers); "
       "weighted mean over stores"},
      {"innermost_stride_bytes",
       "mean absolute stride in bytes of a store's accesses in its innermost loop; weighted mean of "
       "log2(1+x)"},
      {"reuse_distance_bytes",
       "per access, footprint of one iteration of the innermost loop that carries its reuse (does not occur "
       "in "
       "its indices); mean of log2(1+x) over accesses with reuse, weighted mean over stores"},
      {"reuse_distance_iters",
       "per access, iterations between reuses (product of the extents inside the carrying loop); mean of "
       "log2(1+x), weighted mean over stores"},
      {"no_reuse_fraction", "fraction of a store's accesses that no enclosing loop reuses; weighted mean"},
      {"reuse_in_l1_fraction",
       "fraction of a store's accesses whose reuse distance fits in L1; weighted mean"},
      {"reuse_in_l2_fraction",
       "fraction of a store's accesses whose reuse distance fits in L2; weighted mean"},
      {"innermost_loop_footprint",
       "bytes (cache lines) touched by the whole innermost loop of a store; weighted mean of log2(1+x)"},
      {"l1_fit_depth", "enclosing loops (from the innermost) whose footprint fits in L1; weighted mean"},
      {"l2_fit_depth", "enclosing loops whose footprint fits in L2; weighted mean"},
      {"l3_fit_depth", "enclosing loops whose footprint fits in L3; weighted mean"},
      {"unique_bytes", "bytes (cache lines) of all non-local buffers the kernel touches; log2(1+x)"},
      {"global_unique_bytes", "bytes of the global (parameter) buffers the kernel touches; log2(1+x)"},
      {"traffic_l1",
       "estimated bytes moved into L1: a loop whose footprint fits costs its footprint once, a loop that "
       "does "
       "not costs extent times its body; log2(1+x)"},
      {"traffic_l2", "the same estimate for L2; log2(1+x)"},
      {"traffic_l3", "the same estimate for L3 (memory traffic); log2(1+x)"},
      {"arith_intensity", "flops per unique global byte; log2(1+x)"},
      {"intensity_l1", "flops per byte of traffic_l1; log2(1+x)"},
      {"intensity_l2", "flops per byte of traffic_l2; log2(1+x)"},
      {"intensity_l3", "flops per byte of traffic_l3; log2(1+x)"},
      {"guards_per_store", "if-guards inside loops around a store; weighted mean"},
      {"guard_executions", "evaluations of if-guards inside loops; log2(1+x)"},
      {"guarded_fraction", "fraction of store executions under at least one guard"},
      {"local_elements", "elements of all local (register) allocations; log2(1+x)"},
      {"local_max_elements", "elements of the largest local allocation; log2(1+x)"},
      {"local_register_ratio",
       "bytes of local allocations / (vector registers * SIMD bytes): above 1 they spill"},
      {"shared_bytes", "bytes of shared (team scratch) allocations; log2(1+x)"},
      {"heap_bytes", "bytes of heap (kernel-private) allocations; log2(1+x)"},
      {"allocations", "allocations in the nest; log2(1+x)"},
      {"allocation_executions",
       "times allocation points are executed (product of enclosing extents); log2(1+x)"},
      {"local_access_fraction", "fraction of accesses (weighted by executions) to local buffers"},
      {"simd_lanes",
       "SIMD lanes a store runs with: its vectorized loop's lanes, or, without one, the innermost loop's "
       "extent "
       "when the compiler can vectorize it on its own (only stride 0/1 accesses, not a reduction into one "
       "element, no select that changes in it), capped at the register width; weighted mean of "
       "log2(1+x)"},
      {"auto_vectorized_fraction",
       "fraction of store executions whose innermost loop the compiler can vectorize without an annotation"},
      {"varying_selects_per_store",
       "selects whose condition changes with the store's innermost loop (not hoistable), each divided by "
       "the iterations of enclosing unrolled loops that share it; weighted mean"},
  };
  RCTUNE_CHECK(t.size() == kNumFeatures);
  return t;
}

// ---------------------------------------------------------------- interval arithmetic

struct Iv {
  int64_t lo = 0, hi = 0;
  bool ok = true;
};

struct VarRangeRef {
  const std::string* name;
  int64_t lo, hi;
};

int64_t floordiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

Iv eval_iv(const ir::Expr& e, const std::vector<VarRangeRef>& vars) {
  using ir::ExprKind;
  switch (e.kind()) {
    case ExprKind::IntImm: {
      int64_t v = e.as<ir::IntImm>()->value;
      return {v, v, true};
    }
    case ExprKind::Var: {
      const std::string& n = e.as<ir::Var>()->name;
      for (const auto& v : vars)
        if (*v.name == n) return {v.lo, v.hi, true};
      return {0, 0, false};
    }
    case ExprKind::Binary: {
      const auto* b = e.as<ir::Binary>();
      Iv x = eval_iv(b->a, vars);
      if (!x.ok) return x;
      Iv y = eval_iv(b->b, vars);
      if (!y.ok) return y;
      switch (b->op) {
        case ir::BinOp::Add:
          return {x.lo + y.lo, x.hi + y.hi, true};
        case ir::BinOp::Sub:
          return {x.lo - y.hi, x.hi - y.lo, true};
        case ir::BinOp::Mul: {
          int64_t c[4] = {x.lo * y.lo, x.lo * y.hi, x.hi * y.lo, x.hi * y.hi};
          return {*std::min_element(c, c + 4), *std::max_element(c, c + 4), true};
        }
        case ir::BinOp::Div:
          if (y.lo == y.hi && y.lo > 0) return {floordiv(x.lo, y.lo), floordiv(x.hi, y.lo), true};
          return {0, 0, false};
        case ir::BinOp::Mod:
          if (y.lo == y.hi && y.lo > 0) {
            int64_t c = y.lo;
            if (floordiv(x.lo, c) == floordiv(x.hi, c))
              return {x.lo - floordiv(x.lo, c) * c, x.hi - floordiv(x.hi, c) * c, true};
            return {0, c - 1, true};
          }
          return {0, 0, false};
        case ir::BinOp::Max:
          return {std::max(x.lo, y.lo), std::max(x.hi, y.hi), true};
        case ir::BinOp::Min:
          return {std::min(x.lo, y.lo), std::min(x.hi, y.hi), true};
        default:
          return {0, 0, false};
      }
    }
    case ExprKind::Select: {
      const auto* s = e.as<ir::Select>();
      Iv x = eval_iv(s->then_value, vars), y = eval_iv(s->else_value, vars);
      if (!x.ok || !y.ok) return {0, 0, false};
      return {std::min(x.lo, y.lo), std::max(x.hi, y.hi), true};
    }
    default:
      return {0, 0, false};
  }
}

// ---------------------------------------------------------------- collection

// Estimated fraction of the iterations of the enclosing loops for which a guard holds: for
// `e < c` (and <=, >, >=) with e ranging over [lo, hi], the share of that range on the true side,
// assuming e is spread evenly (exact for the guards of non-dividing splits); a conjunction
// multiplies. Anything else counts as always true.
double guard_fraction(const ir::Expr& cond, const std::vector<VarRangeRef>& vars) {
  const auto* b = cond.as<ir::Binary>();
  if (!b) return 1.0;
  if (b->op == ir::BinOp::And) return guard_fraction(b->a, vars) * guard_fraction(b->b, vars);
  ir::BinOp op = b->op;
  ir::Expr lhs = b->a;
  Iv y = eval_iv(b->b, vars);
  if (!y.ok) return 1.0;
  // floor(e / d) against a constant k becomes e against a multiple of d (e.g. the guard of a fused
  // loop: (f / 16) < 2 is f < 32).
  while (y.lo == y.hi) {
    const auto* div = lhs.as<ir::Binary>();
    if (!div || div->op != ir::BinOp::Div) break;
    const auto* d = div->b.as<ir::IntImm>();
    if (!d || d->value <= 0) break;
    const int64_t k = y.lo;
    switch (op) {
      case ir::BinOp::LT:
        y.lo = y.hi = k * d->value;
        break;  // e < k*d
      case ir::BinOp::LE:
        y.lo = y.hi = (k + 1) * d->value;
        op = ir::BinOp::LT;
        break;  // e < (k+1)*d
      case ir::BinOp::GE:
        y.lo = y.hi = k * d->value;
        break;  // e >= k*d
      case ir::BinOp::GT:
        y.lo = y.hi = (k + 1) * d->value;
        op = ir::BinOp::GE;
        break;  // e >= (k+1)*d
      default:
        return 1.0;
    }
    lhs = div->a;
  }
  Iv x = eval_iv(lhs, vars);
  if (!x.ok) return 1.0;
  const double n = static_cast<double>(x.hi - x.lo + 1);
  const double lo = static_cast<double>(x.lo), hi = static_cast<double>(x.hi);
  // Bound on the other side; a range on both sides is treated by its middle.
  const double c = 0.5 * static_cast<double>(y.lo + y.hi);
  double count;
  switch (op) {
    case ir::BinOp::LT:
      count = std::ceil(c) - lo;
      break;  // e in [lo, c)
    case ir::BinOp::LE:
      count = std::floor(c) - lo + 1;
      break;  // e in [lo, c]
    case ir::BinOp::GT:
      count = hi - std::floor(c);
      break;  // e in (c, hi]
    case ir::BinOp::GE:
      count = hi - std::ceil(c) + 1;
      break;  // e in [c, hi]
    default:
      return 1.0;
  }
  return std::clamp(count / n, 0.0, 1.0);
}

constexpr int64_t kLineBytes = 64;

struct Loop {
  const ir::For* node;
  int64_t extent;
  bool parallel, vectorized, unrolled;
};

struct Access {
  const ir::BufferDecl* buffer;
  const std::vector<ir::Expr>* indices;
  bool write;
};

struct StoreRec {
  std::vector<int> loops;  // loop ids, outermost first
  std::vector<Access> accesses;
  double flops = 0, transcendentals = 0, selects = 0;
  std::vector<const ir::Expr*> select_conds;
  int guards = 0;  // enclosing guards inside loops
  double executions = 1;
};

struct AllocRec {
  const ir::BufferDecl* buffer;
  double executions;
};

// Bounding box of accesses to one buffer.
struct Box {
  const ir::BufferDecl* buffer = nullptr;
  std::vector<std::pair<int64_t, int64_t>> dims;
};

using Footprint = std::vector<Box>;

void add_box(Footprint& fp, const ir::BufferDecl* buf, const std::vector<std::pair<int64_t, int64_t>>& dims) {
  for (auto& b : fp) {
    if (b.buffer != buf) continue;
    for (size_t d = 0; d < dims.size() && d < b.dims.size(); ++d) {
      b.dims[d].first = std::min(b.dims[d].first, dims[d].first);
      b.dims[d].second = std::max(b.dims[d].second, dims[d].second);
    }
    return;
  }
  fp.push_back({buf, dims});
}

double box_bytes(const Box& b) {
  const double esize = ir::dtype_bytes(b.buffer->dtype);
  double elems = 1;
  for (size_t d = 0; d + 1 < b.dims.size(); ++d)
    elems *= static_cast<double>(b.dims[d].second - b.dims[d].first + 1);
  double last = b.dims.empty() ? 1.0 : static_cast<double>(b.dims.back().second - b.dims.back().first + 1);
  double last_bytes = std::ceil(last * esize / kLineBytes) * kLineBytes;
  double whole = std::ceil(static_cast<double>(b.buffer->num_elements()) * esize / kLineBytes) * kLineBytes;
  return std::min(elems * last_bytes, whole);
}

double footprint_bytes(const Footprint& fp) {
  double total = 0;
  for (const auto& b : fp) total += box_bytes(b);
  return total;
}

double footprint_bytes(const Footprint& fp, const ir::BufferDecl* buf) {
  for (const auto& b : fp)
    if (b.buffer == buf) return box_bytes(b);
  return 0.0;
}

// Bytes moved per buffer.
using PerBuffer = std::vector<std::pair<const ir::BufferDecl*, double>>;

void add_to(PerBuffer& t, const ir::BufferDecl* b, double v) {
  for (auto& [buf, x] : t)
    if (buf == b) {
      x += v;
      return;
    }
  t.push_back({b, v});
}

double total(const PerBuffer& t) {
  double s = 0;
  for (const auto& [b, x] : t) s += x;
  return s;
}

class Collector : public ir::StmtVisitor {
 public:
  explicit Collector(const ir::LoweredFunc& f) {
    for (const auto& p : f.params) scope_.push_back(&p);
  }

  std::vector<Loop> loops;
  std::vector<StoreRec> stores;
  std::vector<AllocRec> allocs;
  std::unordered_map<const ir::For*, int> loop_id;
  std::unordered_map<const ir::Store*, int> store_id;
  double guard_executions = 0;
  int max_depth = 0;

  using ir::StmtVisitor::visit;

  void visit(const ir::For& n) override {
    int id = static_cast<int>(loops.size());
    loop_id[&n] = id;
    bool par = n.for_kind == ir::ForKind::Parallel || n.bind == ir::BindLevel::League ||
               n.bind == ir::BindLevel::Team;
    bool vec = n.for_kind == ir::ForKind::Vectorized || n.bind == ir::BindLevel::Vector;
    loops.push_back({&n, std::max<int64_t>(n.extent, 1), par, vec, n.for_kind == ir::ForKind::Unrolled});
    stack_.push_back(id);
    executions_.push_back(executions_.empty() ? static_cast<double>(loops[id].extent)
                                              : executions_.back() * static_cast<double>(loops[id].extent));
    max_depth = std::max(max_depth, static_cast<int>(stack_.size()));
    ir::StmtVisitor::visit(n);
    stack_.pop_back();
    executions_.pop_back();
  }

  void visit(const ir::IfThenElse& n) override {
    bool in_loop = !stack_.empty();
    const double outer = executions_.empty() ? 1.0 : executions_.back();
    double frac = 1.0;
    if (in_loop) {
      guard_executions += outer;
      ++guards_;
      vars_.clear();
      for (int id : stack_) vars_.push_back({&loops[id].node->var, 0, loops[id].extent - 1});
      frac = guard_fraction(n.cond, vars_);
    }
    executions_.push_back(outer * frac);
    visit(n.then_case);
    executions_.back() = outer * (1.0 - frac);
    if (n.else_case) visit(n.else_case);
    executions_.pop_back();
    if (in_loop) --guards_;
  }

  void visit(const ir::Allocate& n) override {
    allocs.push_back({&n.buffer, executions_.empty() ? 1.0 : executions_.back()});
    scope_.push_back(&n.buffer);
    ir::StmtVisitor::visit(n);
    scope_.pop_back();
  }

  void visit(const ir::Store& n) override {
    StoreRec rec;
    rec.loops = stack_;
    rec.guards = guards_;
    rec.executions = executions_.empty() ? 1.0 : executions_.back();
    const ir::BufferDecl* buf = find(n.buffer);
    if (buf) rec.accesses.push_back({buf, &n.indices, true});
    scan_value(n.value, rec);
    store_id[&n] = static_cast<int>(stores.size());
    stores.push_back(std::move(rec));
  }

 private:
  const ir::BufferDecl* find(const std::string& name) const {
    for (auto it = scope_.rbegin(); it != scope_.rend(); ++it)
      if ((*it)->name == name) return *it;
    return nullptr;
  }

  // Arithmetic and reads of a stored value. Index expressions hold no floating-point work.
  void scan_value(const ir::Expr& e, StoreRec& rec) {
    using ir::ExprKind;
    switch (e.kind()) {
      case ExprKind::Load: {
        const auto* l = e.as<ir::Load>();
        const ir::BufferDecl* buf = find(l->buffer);
        if (buf) rec.accesses.push_back({buf, &l->indices, false});
        return;
      }
      case ExprKind::Binary: {
        const auto* b = e.as<ir::Binary>();
        if (b->op != ir::BinOp::And && b->op != ir::BinOp::Or) rec.flops += 1;
        scan_value(b->a, rec);
        scan_value(b->b, rec);
        return;
      }
      case ExprKind::Unary: {
        const auto* u = e.as<ir::Unary>();
        rec.flops += 1;
        if (u->op != ir::UnOp::Neg && u->op != ir::UnOp::Abs && u->op != ir::UnOp::Relu)
          rec.transcendentals += 1;
        scan_value(u->a, rec);
        return;
      }
      case ExprKind::Select: {
        const auto* s = e.as<ir::Select>();
        rec.selects += 1;
        rec.select_conds.push_back(
            &s->cond);  // the condition is index arithmetic (padding) or a mask: no flops counted
        scan_value(s->then_value, rec);
        scan_value(s->else_value, rec);
        return;
      }
      default:
        return;
    }
  }

  std::vector<const ir::BufferDecl*> scope_;
  std::vector<VarRangeRef> vars_;
  std::vector<int> stack_;
  std::vector<double> executions_;
  int guards_ = 0;
};

// Box of one access when the loops at positions >= `from` of the store's loops vary (the others are
// fixed at 0).
std::vector<std::pair<int64_t, int64_t>> access_box(const Access& a, const StoreRec& s,
                                                    const std::vector<Loop>& loops, size_t from,
                                                    std::vector<VarRangeRef>& vars) {
  vars.clear();
  for (size_t p = 0; p < s.loops.size(); ++p) {
    const Loop& l = loops[s.loops[p]];
    vars.push_back({&l.node->var, 0, p >= from ? l.extent - 1 : 0});
  }
  const auto& shape = a.buffer->shape;
  std::vector<std::pair<int64_t, int64_t>> dims(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    int64_t lo = 0, hi = shape[d] - 1;
    if (d < a.indices->size()) {
      Iv iv = eval_iv((*a.indices)[d], vars);
      if (iv.ok) {
        lo = std::clamp<int64_t>(iv.lo, 0, std::max<int64_t>(shape[d] - 1, 0));
        hi = std::clamp<int64_t>(iv.hi, lo, std::max<int64_t>(shape[d] - 1, 0));
      }
    }
    dims[d] = {lo, hi};
  }
  return dims;
}

// Stride (in elements of the flattened buffer) of an access in the loop at position p; `ok` false
// when an index cannot be evaluated.
int64_t access_stride(const Access& a, const StoreRec& s, const std::vector<Loop>& loops, size_t p, bool* ok,
                      std::vector<VarRangeRef>& vars) {
  vars.clear();
  for (size_t q = 0; q < s.loops.size(); ++q) vars.push_back({&loops[s.loops[q]].node->var, 0, 0});
  auto flat = [&]() -> std::pair<int64_t, bool> {
    int64_t off = 0, stride = 1;
    const auto& shape = a.buffer->shape;
    for (size_t d = shape.size(); d-- > 0;) {
      if (d < a.indices->size()) {
        Iv iv = eval_iv((*a.indices)[d], vars);
        if (!iv.ok) return {0, false};
        off += iv.lo * stride;
      }
      stride *= shape[d];
    }
    return {off, true};
  };
  auto [base, ok0] = flat();
  vars[p].lo = vars[p].hi = 1;
  auto [next, ok1] = flat();
  *ok = ok0 && ok1;
  return next - base;
}

double wmean_div(double sum, double weight) { return weight > 0 ? sum / weight : 0.0; }

}  // namespace

const std::vector<FeatureInfo>& feature_info() { return table(); }

std::vector<std::string> feature_names() {
  std::vector<std::string> names;
  for (const auto& f : table()) names.push_back(f.name);
  return names;
}

size_t num_features() { return kNumFeatures; }

size_t feature_index(const std::string& name) {
  const auto& t = table();
  for (size_t i = 0; i < t.size(); ++i)
    if (t[i].name == name) return i;
  throw std::invalid_argument("feature_index: unknown feature '" + name + "'");
}

std::vector<double> extract_features(const schedule::State& state, const HardwareInfo& hw) {
  return extract_features(schedule::lower(state), hw);
}

std::vector<double> extract_features(const ir::LoweredFunc& func, const HardwareInfo& hw) {
  std::vector<double> f(kNumFeatures, 0.0);
  if (!func.body) return f;
  Collector c(func);
  c.visit(func.body);

  const double cores = std::max(hw.cores, 1);
  const double l1 = static_cast<double>(hw.l1_bytes), l2 = static_cast<double>(hw.l2_bytes),
               l3 = static_cast<double>(hw.l3_bytes);

  // Footprints per loop: whole loop and one iteration of its body. Local buffers live in registers
  // (or a spilled stack slot that stays hot): they take no room in the caches.
  std::vector<Footprint> loop_fp(c.loops.size()), body_fp(c.loops.size()), store_fp(c.stores.size());
  Footprint kernel_fp;
  std::vector<VarRangeRef> vars;
  for (size_t si = 0; si < c.stores.size(); ++si) {
    const StoreRec& s = c.stores[si];
    for (const Access& a : s.accesses) {
      if (a.buffer->scope == ir::MemScope::Local) continue;
      add_box(store_fp[si], a.buffer, access_box(a, s, c.loops, s.loops.size(), vars));
      add_box(kernel_fp, a.buffer, access_box(a, s, c.loops, 0, vars));
      for (size_t p = 0; p < s.loops.size(); ++p) {
        add_box(loop_fp[s.loops[p]], a.buffer, access_box(a, s, c.loops, p, vars));
        add_box(body_fp[s.loops[p]], a.buffer, access_box(a, s, c.loops, p + 1, vars));
      }
    }
  }
  std::vector<double> loop_bytes(c.loops.size()), body_bytes(c.loops.size());
  for (size_t l = 0; l < c.loops.size(); ++l) {
    loop_bytes[l] = footprint_bytes(loop_fp[l]);
    body_bytes[l] = footprint_bytes(body_fp[l]);
  }

  // Bytes moved into a cache of `cap` bytes, per buffer. A loop whose footprint fits loads it once.
  // A loop that does not fit but whose body does keeps what consecutive iterations share (a
  // buffer the loop does not index, cache lines that neighbouring iterations split): a buffer then
  // costs its body traffic scaled by how much its footprint grows over the loop. When even the body
  // does not fit, every iteration loads its body's data again.
  auto traffic = [&](auto&& self, const ir::Stmt& s, double cap, PerBuffer& out) -> void {
    if (!s) return;
    switch (s.kind()) {
      case ir::StmtKind::For: {
        const auto* n = s.as<ir::For>();
        const int id = c.loop_id.at(n);
        if (loop_bytes[id] <= cap) {
          for (const auto& b : loop_fp[id]) add_to(out, b.buffer, box_bytes(b));
          return;
        }
        PerBuffer body;
        self(self, n->body, cap, body);
        const double extent = static_cast<double>(c.loops[id].extent);
        const bool body_fits = body_bytes[id] <= cap;
        for (const auto& [buf, t] : body) {
          double scale = extent;
          if (body_fits) {
            const double fb = footprint_bytes(body_fp[id], buf), fl = footprint_bytes(loop_fp[id], buf);
            if (fb > 0) scale = std::clamp(fl / fb, 1.0, extent);
          }
          add_to(out, buf, t * scale);
        }
        return;
      }
      case ir::StmtKind::Seq:
        for (const auto& x : s.as<ir::Seq>()->stmts) self(self, x, cap, out);
        return;
      case ir::StmtKind::IfThenElse: {
        const auto* n = s.as<ir::IfThenElse>();
        self(self, n->then_case, cap, out);
        self(self, n->else_case, cap, out);
        return;
      }
      case ir::StmtKind::Allocate:
        self(self, s.as<ir::Allocate>()->body, cap, out);
        return;
      case ir::StmtKind::Store:
        for (const auto& b : store_fp[c.store_id.at(s.as<ir::Store>())]) add_to(out, b.buffer, box_bytes(b));
        return;
    }
  };
  auto traffic_into = [&](double cap) {
    PerBuffer t;
    traffic(traffic, func.body, cap, t);
    return total(t);
  };

  // Per-store features, accumulated.
  double flops = 0, executions = 0, bytes_accessed = 0, work_per_thread = 0;
  std::vector<double> ws(kNumFeatures, 0.0);  // execution-weighted sums
  double vec_weight = 0, local_acc = 0, all_acc = 0;
  for (size_t si = 0; si < c.stores.size(); ++si) {
    const StoreRec& s = c.stores[si];
    const double w = s.executions;
    executions += w;
    flops += w * s.flops;
    const size_t depth = s.loops.size();
    double par = 1, unroll = 1, serial = 1, lanes = 0;
    int npar = 0;
    bool in_unroll = false;
    int vec_pos = -1;
    for (size_t p = 0; p < depth; ++p) {
      const Loop& l = c.loops[s.loops[p]];
      if (l.parallel) {
        par *= static_cast<double>(l.extent);
        ++npar;
      } else if (l.vectorized) {
        lanes = static_cast<double>(l.extent);
        vec_pos = static_cast<int>(p);
      } else if (l.unrolled) {
        unroll *= static_cast<double>(l.extent);
        in_unroll = true;
      } else {
        serial *= static_cast<double>(l.extent);
      }
    }
    ws[kLoopDepth] += w * static_cast<double>(depth);
    if (depth > 0) {
      ws[kInnermostExtent] += w * log2p(static_cast<double>(c.loops[s.loops.back()].extent));
      ws[kOutermostExtent] += w * log2p(static_cast<double>(c.loops[s.loops.front()].extent));
      if (c.loops[s.loops.front()].parallel) ws[kParallelOutermost] += w;
      if (c.loops[s.loops.back()].vectorized) ws[kVectorizedInnermost] += w;
    }
    ws[kParallelExtent] += w * log2p(npar > 0 ? par : 0.0);
    ws[kParallelLoops] += w * npar;
    ws[kParallelEfficiency] += w * (par / (cores * std::ceil(par / cores)));
    ws[kVectorLanes] += w * log2p(lanes);
    if (vec_pos >= 0) {
      ws[kVectorizedFraction] += w;
      double esize = s.accesses.empty() ? 4.0 : ir::dtype_bytes(s.accesses.front().buffer->dtype);
      ws[kVectorWidthRatio] += w * lanes * esize / std::max(hw.vector_bytes, 1);
    }
    ws[kUnrolledIterations] += w * log2p(in_unroll ? unroll : 0.0);
    if (in_unroll) ws[kUnrolledFraction] += w;
    ws[kSerialExtent] += w * log2p(serial);
    work_per_thread += w / std::min(par, cores);
    ws[kFlopsPerStore] += w * s.flops;
    ws[kTranscendentalsPerStore] += w * s.transcendentals;
    ws[kSelectsPerStore] += w * s.selects;
    ws[kReadsPerStore] += w * static_cast<double>(std::count_if(s.accesses.begin(), s.accesses.end(),
                                                                [](const Access& a) { return !a.write; }));
    ws[kGuardsPerStore] += w * s.guards;
    if (s.guards > 0) ws[kGuardedFraction] += w;

    // Innermost loop of extent > 1.
    int inner = -1;
    for (size_t p = depth; p-- > 0;)
      if (c.loops[s.loops[p]].extent > 1) {
        inner = static_cast<int>(p);
        break;
      }
    double n_acc = static_cast<double>(s.accesses.size());
    double s0 = 0, s1 = 0, so = 0, gathers = 0, stride_bytes = 0;
    int write_cls = -1;
    double reuse_bytes_sum = 0, reuse_iters_sum = 0, n_reuse = 0, no_reuse = 0, in_l1 = 0, in_l2 = 0;
    for (size_t ai = 0; ai < s.accesses.size(); ++ai) {
      const Access& a = s.accesses[ai];
      const double esize = ir::dtype_bytes(a.buffer->dtype);
      all_acc += w;
      if (a.buffer->scope == ir::MemScope::Local) {
        local_acc += w;
      } else {
        bytes_accessed += w * esize;
      }
      int64_t stride = 0;
      bool ok = true;
      if (inner >= 0) stride = access_stride(a, s, c.loops, static_cast<size_t>(inner), &ok, vars);
      int cls = !ok ? 2 : stride == 0 ? 0 : (stride == 1 || stride == -1) ? 1 : 2;
      if (a.write) write_cls = cls;
      (cls == 0 ? s0 : cls == 1 ? s1 : so) += 1;
      stride_bytes += ok ? std::abs(static_cast<double>(stride)) * esize : static_cast<double>(kLineBytes);
      if (a.write && cls == 0) ws[kWriteStride0Fraction] += w;
      if (a.write && cls == 1) ws[kWriteStride1Fraction] += w;
      if (vec_pos >= 0) {
        bool vok = true;
        int64_t vs = access_stride(a, s, c.loops, static_cast<size_t>(vec_pos), &vok, vars);
        if (!vok || (vs != 0 && vs != 1 && vs != -1)) gathers += 1;
      }
      // Reuse: the innermost loop of extent > 1 whose variable the access does not use.
      int carrier = -1;
      std::vector<std::string> used;
      for (const auto& idx : *a.indices) {
        auto fv = ir::free_vars(idx);
        used.insert(used.end(), fv.begin(), fv.end());
      }
      for (size_t p = depth; p-- > 0;) {
        const Loop& l = c.loops[s.loops[p]];
        if (l.extent <= 1) continue;
        if (std::find(used.begin(), used.end(), l.node->var) == used.end()) {
          carrier = static_cast<int>(p);
          break;
        }
      }
      if (carrier < 0) {
        no_reuse += 1;
      } else {
        double rb = body_bytes[s.loops[carrier]];
        double iters = 1;
        for (size_t p = carrier + 1; p < depth; ++p) iters *= static_cast<double>(c.loops[s.loops[p]].extent);
        reuse_bytes_sum += log2p(rb);
        reuse_iters_sum += log2p(iters);
        n_reuse += 1;
        if (rb <= l1) in_l1 += 1;
        if (rb <= l2) in_l2 += 1;
      }
    }
    if (n_acc > 0) {
      ws[kStride0Fraction] += w * s0 / n_acc;
      ws[kStride1Fraction] += w * s1 / n_acc;
      ws[kStridedFraction] += w * so / n_acc;
      ws[kInnermostStrideBytes] += w * log2p(stride_bytes / n_acc);
      ws[kNoReuseFraction] += w * no_reuse / n_acc;
      ws[kReuseInL1Fraction] += w * in_l1 / n_acc;
      ws[kReuseInL2Fraction] += w * in_l2 / n_acc;
      if (vec_pos >= 0) ws[kVectorGatherFraction] += w * gathers / n_acc;
    }
    if (vec_pos >= 0) vec_weight += w;
    // Selects whose condition changes with the innermost loop (a hoisted one costs nothing).
    double varying_selects = 0;
    if (inner >= 0) {
      const std::string& iv = c.loops[s.loops[inner]].node->var;
      for (const ir::Expr* cond : s.select_conds) {
        auto fv = ir::free_vars(*cond);
        if (std::find(fv.begin(), fv.end(), iv) == fv.end()) continue;
        // Unrolled loops the condition does not use share one evaluation between their copies.
        double shared = 1;
        for (int id : s.loops) {
          const Loop& l = c.loops[id];
          if (l.unrolled && std::find(fv.begin(), fv.end(), l.node->var) == fv.end())
            shared *= static_cast<double>(l.extent);
        }
        varying_selects += 1.0 / shared;
      }
    }
    ws[kVaryingSelectsPerStore] += w * varying_selects;
    {
      const double esize = s.accesses.empty() ? 4.0 : ir::dtype_bytes(s.accesses.front().buffer->dtype);
      const double width = std::max(hw.vector_bytes / esize, 1.0);
      double simd = 1.0;
      if (vec_pos >= 0) {
        simd = std::min(lanes, width);
      } else if (inner >= 0 && so == 0 && write_cls != 0 && varying_selects == 0) {
        simd = std::min(static_cast<double>(c.loops[s.loops[inner]].extent), width);
        ws[kAutoVectorizedFraction] += w;
      }
      ws[kSimdLanes] += w * log2p(simd);
    }
    if (n_reuse > 0) {
      ws[kReuseDistanceBytes] += w * reuse_bytes_sum / n_reuse;
      ws[kReuseDistanceIters] += w * reuse_iters_sum / n_reuse;
    }
    // Footprints along the nest.
    if (depth > 0) ws[kInnermostLoopFootprint] += w * log2p(loop_bytes[s.loops.back()]);
    int fit1 = 0, fit2 = 0, fit3 = 0;
    for (size_t p = depth; p-- > 0;) {
      double b = loop_bytes[s.loops[p]];
      if (b <= l1 && fit1 == static_cast<int>(depth - 1 - p)) ++fit1;
      if (b <= l2 && fit2 == static_cast<int>(depth - 1 - p)) ++fit2;
      if (b <= l3 && fit3 == static_cast<int>(depth - 1 - p)) ++fit3;
    }
    ws[kL1FitDepth] += w * fit1;
    ws[kL2FitDepth] += w * fit2;
    ws[kL3FitDepth] += w * fit3;
  }

  // Weighted means.
  for (F k : {kLoopDepth,
              kInnermostExtent,
              kOutermostExtent,
              kParallelExtent,
              kParallelLoops,
              kParallelEfficiency,
              kParallelOutermost,
              kVectorLanes,
              kVectorizedFraction,
              kVectorWidthRatio,
              kVectorizedInnermost,
              kUnrolledIterations,
              kUnrolledFraction,
              kSerialExtent,
              kFlopsPerStore,
              kTranscendentalsPerStore,
              kSelectsPerStore,
              kReadsPerStore,
              kStride0Fraction,
              kStride1Fraction,
              kStridedFraction,
              kWriteStride0Fraction,
              kWriteStride1Fraction,
              kInnermostStrideBytes,
              kReuseDistanceBytes,
              kReuseDistanceIters,
              kNoReuseFraction,
              kReuseInL1Fraction,
              kReuseInL2Fraction,
              kInnermostLoopFootprint,
              kL1FitDepth,
              kL2FitDepth,
              kL3FitDepth,
              kGuardsPerStore,
              kGuardedFraction,
              kSimdLanes,
              kAutoVectorizedFraction,
              kVaryingSelectsPerStore})
    f[k] = wmean_div(ws[k], executions);
  f[kVectorGatherFraction] = wmean_div(ws[kVectorGatherFraction], vec_weight);

  int nests = 0;
  // Allocations wrapping the whole kernel do not count as nests; look through them.
  {
    ir::Stmt s = func.body;
    while (s && s.kind() == ir::StmtKind::Allocate) s = s.as<ir::Allocate>()->body;
    if (s && s.kind() == ir::StmtKind::Seq) {
      nests = 0;
      for (const auto& x : s.as<ir::Seq>()->stmts) nests += x.kind() != ir::StmtKind::Store;
    } else if (s) {
      nests = 1;
    }
  }

  double unique = footprint_bytes(kernel_fp), global_unique = 0;
  {
    Footprint g;
    for (const auto& b : kernel_fp)
      if (b.buffer->scope == ir::MemScope::Global) g.push_back(b);
    global_unique = footprint_bytes(g);
  }
  double t1 = traffic_into(l1), t2 = traffic_into(l2), t3 = traffic_into(l3);

  double local_elems = 0, local_max = 0, local_bytes = 0, shared_bytes = 0, heap_bytes = 0, alloc_exec = 0;
  for (const auto& a : c.allocs) {
    double n = static_cast<double>(a.buffer->num_elements());
    double b = n * ir::dtype_bytes(a.buffer->dtype);
    alloc_exec += a.executions;
    switch (a.buffer->scope) {
      case ir::MemScope::Local:
        local_elems += n;
        local_max = std::max(local_max, n);
        local_bytes += b;
        break;
      case ir::MemScope::Shared:
        shared_bytes += b;
        break;
      case ir::MemScope::Heap:
        heap_bytes += b;
        break;
      case ir::MemScope::Global:
        break;
    }
  }

  f[kFlops] = log2p(flops);
  f[kStores] = log2p(static_cast<double>(c.stores.size()));
  f[kStoreExecutions] = log2p(executions);
  f[kLoopNests] = log2p(nests);
  f[kLoops] = log2p(static_cast<double>(c.loops.size()));
  f[kMaxLoopDepth] = c.max_depth;
  f[kWorkPerThread] = log2p(work_per_thread);
  f[kBytesAccessed] = log2p(bytes_accessed);
  f[kUniqueBytes] = log2p(unique);
  f[kGlobalUniqueBytes] = log2p(global_unique);
  f[kTrafficL1] = log2p(t1);
  f[kTrafficL2] = log2p(t2);
  f[kTrafficL3] = log2p(t3);
  f[kArithIntensity] = log2p(global_unique > 0 ? flops / global_unique : 0);
  f[kIntensityL1] = log2p(t1 > 0 ? flops / t1 : 0);
  f[kIntensityL2] = log2p(t2 > 0 ? flops / t2 : 0);
  f[kIntensityL3] = log2p(t3 > 0 ? flops / t3 : 0);
  f[kGuardExecutions] = log2p(c.guard_executions);
  f[kLocalElements] = log2p(local_elems);
  f[kLocalMaxElements] = log2p(local_max);
  f[kLocalRegisterRatio] =
      local_bytes / (static_cast<double>(hw.vector_registers()) * std::max(hw.vector_bytes, 1));
  f[kSharedBytes] = log2p(shared_bytes);
  f[kHeapBytes] = log2p(heap_bytes);
  f[kAllocations] = log2p(static_cast<double>(c.allocs.size()));
  f[kAllocationExecutions] = log2p(alloc_exec);
  f[kLocalAccessFraction] = all_acc > 0 ? local_acc / all_acc : 0.0;
  return f;
}

}  // namespace rctune::search
