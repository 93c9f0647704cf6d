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

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include "rctune/ir/analysis.h"
#include "rctune/runtime/host_cpu.h"
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
  hw.cores = runtime::allowed_cores();
  return hw;
}

const HardwareInfo& host_hardware_info() {
  static const HardwareInfo hw = read_hardware_info();
  return hw;
}

// ---------------------------------------------------------------- feature table

namespace {

using Agg = FeatureAggregation;

struct FeatureDef {
  std::string_view name;
  Agg aggregation;
  std::string_view meaning;  // one line: what it measures, how it is aggregated, whether log2(1+x)
};

// The features in vector order; new ones are appended. Names, count, meanings and how the per-store
// values are aggregated all come from here.
constexpr FeatureDef kFeatures[] = {
    {"flops", Agg::Kernel, "floating-point operations of one kernel call; log2(1+x)"},
    {"stores", Agg::Kernel, "store statements in the nest; log2(1+x)"},
    {"store_executions", Agg::Kernel,
     "executions of all stores (product of enclosing loop extents, summed); log2(1+x)"},
    {"loop_nests", Agg::Kernel,
     "top-level loop nests (roughly: stages not placed inside another); log2(1+x)"},
    {"loops", Agg::Kernel, "for loops in the nest; log2(1+x)"},
    {"max_loop_depth", Agg::Kernel, "deepest loop nesting of any store"},
    {"loop_depth", Agg::StoreMean, "loops enclosing a store; mean over stores weighted by executions"},
    {"innermost_extent", Agg::StoreMean, "extent of a store's innermost loop; weighted mean of log2(1+x)"},
    {"outermost_extent", Agg::StoreMean, "extent of a store's outermost loop; weighted mean of log2(1+x)"},
    {"parallel_extent", Agg::StoreMean,
     "product of the extents of parallel (or league/team-bound) loops around a store, 0 when none; weighted "
     "mean of log2(1+x)"},
    {"parallel_loops", Agg::StoreMean, "parallel loops around a store; weighted mean"},
    {"parallel_efficiency", Agg::StoreMean,
     "P / (cores * ceil(P / cores)) for parallel extent P (1/cores when serial); weighted mean"},
    {"parallel_outermost", Agg::StoreMean, "fraction of store executions whose outermost loop is parallel"},
    {"vector_lanes", Agg::StoreMean,
     "extent of the innermost vectorized (or vector-bound) loop around a store, 0 when none; weighted mean "
     "of log2(1+x)"},
    {"vectorized_fraction", Agg::StoreMean, "fraction of store executions inside a vectorized loop"},
    {"vector_width_ratio", Agg::StoreMean,
     "vector lanes * element bytes / SIMD register bytes (0 when not vectorized); weighted mean"},
    {"vectorized_innermost", Agg::StoreMean,
     "fraction of store executions whose innermost loop is vectorized"},
    {"unrolled_iterations", Agg::StoreMean,
     "product of the extents of unrolled loops around a store; weighted mean of log2(1+x)"},
    {"unrolled_fraction", Agg::StoreMean, "fraction of store executions inside an unrolled loop"},
    {"serial_extent", Agg::StoreMean,
     "product of the extents of serial loops around a store (1 when none); weighted mean of log2(1+x)"},
    {"work_per_thread", Agg::Kernel,
     "store executions divided by min(parallel extent, cores), summed over stores; log2(1+x)"},
    {"flops_per_store", Agg::StoreMean, "floating-point operations per store execution; weighted mean"},
    {"transcendentals_per_store", Agg::StoreMean,
     "unary calls (exp, tanh, sqrt, ...) per store execution; weighted mean"},
    {"selects_per_store", Agg::StoreMean,
     "select expressions (padding, masks) per store execution; weighted mean"},
    {"reads_per_store", Agg::StoreMean, "buffer reads per store execution; weighted mean"},
    {"bytes_accessed", Agg::Kernel,
     "bytes loaded and stored by all store executions, local (register) buffers excluded; log2(1+x)"},
    {"stride0_fraction", Agg::StoreMean,
     "fraction of a store's accesses invariant in its innermost loop of extent > 1; weighted mean"},
    {"stride1_fraction", Agg::StoreMean,
     "fraction of a store's accesses with unit stride in that loop; weighted mean"},
    {"strided_fraction", Agg::StoreMean,
     "fraction of a store's accesses with another stride in that loop; weighted mean"},
    {"write_stride0_fraction", Agg::StoreMean,
     "fraction of store executions whose written element is invariant in the innermost loop (accumulator)"},
    {"write_stride1_fraction", Agg::StoreMean,
     "fraction of store executions that write with unit stride in the innermost loop"},
    {"vector_gather_fraction", Agg::VectorizedStoreMean,
     "fraction of accesses with a non-unit, non-zero stride in the innermost vectorized loop (gathers); "
     "weighted mean over stores"},
    {"innermost_stride_bytes", Agg::StoreMean,
     "mean absolute stride in bytes of a store's accesses in its innermost loop; weighted mean of log2(1+x)"},
    {"reuse_distance_bytes", Agg::StoreMean,
     "per access, footprint of one iteration of the innermost loop that carries its reuse (does not occur in "
     "its indices); mean of log2(1+x) over accesses with reuse, weighted mean over stores"},
    {"reuse_distance_iters", Agg::StoreMean,
     "per access, iterations between reuses (product of the extents inside the carrying loop); mean of "
     "log2(1+x), weighted mean over stores"},
    {"no_reuse_fraction", Agg::StoreMean,
     "fraction of a store's accesses that no enclosing loop reuses; weighted mean"},
    {"reuse_in_l1_fraction", Agg::StoreMean,
     "fraction of a store's accesses whose reuse distance fits in L1; weighted mean"},
    {"reuse_in_l2_fraction", Agg::StoreMean,
     "fraction of a store's accesses whose reuse distance fits in L2; weighted mean"},
    {"innermost_loop_footprint", Agg::StoreMean,
     "bytes (cache lines) touched by the whole innermost loop of a store; weighted mean of log2(1+x)"},
    {"l1_fit_depth", Agg::StoreMean,
     "enclosing loops (from the innermost) whose footprint fits in L1; weighted mean"},
    {"l2_fit_depth", Agg::StoreMean, "enclosing loops whose footprint fits in L2; weighted mean"},
    {"l3_fit_depth", Agg::StoreMean, "enclosing loops whose footprint fits in L3; weighted mean"},
    {"unique_bytes", Agg::Kernel,
     "bytes (cache lines) of all non-local buffers the kernel touches; log2(1+x)"},
    {"global_unique_bytes", Agg::Kernel,
     "bytes of the global (parameter) buffers the kernel touches; log2(1+x)"},
    {"traffic_l1", Agg::Kernel,
     "estimated bytes moved into L1: a loop whose footprint fits costs its footprint once, a loop that does "
     "not costs extent times its body; log2(1+x)"},
    {"traffic_l2", Agg::Kernel, "the same estimate for L2; log2(1+x)"},
    {"traffic_l3", Agg::Kernel, "the same estimate for L3 (memory traffic); log2(1+x)"},
    {"arith_intensity", Agg::Kernel, "flops per unique global byte; log2(1+x)"},
    {"intensity_l1", Agg::Kernel, "flops per byte of traffic_l1; log2(1+x)"},
    {"intensity_l2", Agg::Kernel, "flops per byte of traffic_l2; log2(1+x)"},
    {"intensity_l3", Agg::Kernel, "flops per byte of traffic_l3; log2(1+x)"},
    {"guards_per_store", Agg::StoreMean, "if-guards inside loops around a store; weighted mean"},
    {"guard_executions", Agg::Kernel, "evaluations of if-guards inside loops; log2(1+x)"},
    {"guarded_fraction", Agg::StoreMean, "fraction of store executions under at least one guard"},
    {"local_elements", Agg::Kernel, "elements of all local (register) allocations; log2(1+x)"},
    {"local_max_elements", Agg::Kernel, "elements of the largest local allocation; log2(1+x)"},
    {"local_register_ratio", Agg::Kernel,
     "bytes of local allocations / (vector registers * SIMD bytes): above 1 they spill"},
    {"shared_bytes", Agg::Kernel, "bytes of shared (team scratch) allocations; log2(1+x)"},
    {"heap_bytes", Agg::Kernel, "bytes of heap (kernel-private) allocations; log2(1+x)"},
    {"allocations", Agg::Kernel, "allocations in the nest; log2(1+x)"},
    {"allocation_executions", Agg::Kernel,
     "times allocation points are executed (product of enclosing extents); log2(1+x)"},
    {"local_access_fraction", Agg::Kernel, "fraction of accesses (weighted by executions) to local buffers"},
    {"simd_lanes", Agg::StoreMean,
     "SIMD lanes a store runs with: its vectorized loop's lanes, or, without one, the innermost loop's "
     "extent when the compiler can vectorize it on its own (only stride 0/1 accesses, not a reduction into "
     "one element, no select that changes in it), capped at the register width; weighted mean of log2(1+x)"},
    {"auto_vectorized_fraction", Agg::StoreMean,
     "fraction of store executions whose innermost loop the compiler can vectorize without an annotation"},
    {"varying_selects_per_store", Agg::StoreMean,
     "selects whose condition changes with the store's innermost loop (not hoistable), each divided by the "
     "iterations of enclosing unrolled loops that share it; weighted mean"},
};
constexpr size_t kNumFeatures = std::size(kFeatures);

// Position of a feature by name, at compile time: an unknown name does not compile.
consteval size_t F(std::string_view name) {
  for (size_t i = 0; i < kNumFeatures; ++i)
    if (kFeatures[i].name == name) return i;
  throw "unknown feature name";
}

// ---------------------------------------------------------------- intervals

// The range of a loop variable while footprints, strides and guards are evaluated.
struct VarRangeRef {
  const std::string* name;
  int64_t lo, hi;
};

// Interval of an index expression over the given variables, with the rules of the cost model
// (ir::kFeatureIntervalRules: a select is the hull of its values).
std::optional<ir::Interval> interval_in(const ir::Expr& e, const std::vector<VarRangeRef>& vars) {
  return ir::interval_of(
      e,
      [&](const std::string& name) -> std::optional<ir::Interval> {
        for (const auto& v : vars)
          if (*v.name == name) return ir::Interval{v.lo, v.hi};
        return std::nullopt;
      },
      ir::kFeatureIntervalRules);
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
  std::optional<ir::Interval> rhs = interval_in(b->b, vars);
  if (!rhs) return 1.0;
  ir::Interval y = *rhs;
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
  std::optional<ir::Interval> lhs_range = interval_in(lhs, vars);
  if (!lhs_range) return 1.0;
  const ir::Interval x = *lhs_range;
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
      if (auto iv = interval_in((*a.indices)[d], vars)) {
        lo = std::clamp<int64_t>(iv->lo, 0, std::max<int64_t>(shape[d] - 1, 0));
        hi = std::clamp<int64_t>(iv->hi, lo, std::max<int64_t>(shape[d] - 1, 0));
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
        auto iv = interval_in((*a.indices)[d], vars);
        if (!iv) return {0, false};
        off += iv->lo * stride;
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

// ---------------------------------------------------------------- footprints and traffic

// Footprints per loop (the whole loop, and one iteration of its body), per store and of the
// kernel. Local buffers live in registers (or a spilled stack slot that stays hot): they take no
// room in the caches.
struct Footprints {
  std::vector<Footprint> loop, body, store;
  Footprint kernel;
  std::vector<double> loop_bytes, body_bytes;
};

Footprints compute_footprints(const Collector& c) {
  Footprints fp;
  fp.loop.resize(c.loops.size());
  fp.body.resize(c.loops.size());
  fp.store.resize(c.stores.size());
  std::vector<VarRangeRef> vars;
  for (size_t si = 0; si < c.stores.size(); ++si) {
    const StoreRec& s = c.stores[si];
    for (const Access& a : s.accesses) {
      if (a.buffer->scope == ir::MemScope::Local) continue;
      add_box(fp.store[si], a.buffer, access_box(a, s, c.loops, s.loops.size(), vars));
      add_box(fp.kernel, a.buffer, access_box(a, s, c.loops, 0, vars));
      for (size_t p = 0; p < s.loops.size(); ++p) {
        add_box(fp.loop[s.loops[p]], a.buffer, access_box(a, s, c.loops, p, vars));
        add_box(fp.body[s.loops[p]], a.buffer, access_box(a, s, c.loops, p + 1, vars));
      }
    }
  }
  fp.loop_bytes.resize(c.loops.size());
  fp.body_bytes.resize(c.loops.size());
  for (size_t l = 0; l < c.loops.size(); ++l) {
    fp.loop_bytes[l] = footprint_bytes(fp.loop[l]);
    fp.body_bytes[l] = footprint_bytes(fp.body[l]);
  }
  return fp;
}

// Bytes moved into a cache of `cap` bytes by statement s, per buffer. A loop whose footprint fits
// loads it once. A loop that does not fit but whose body does keeps what consecutive iterations
// share (a buffer the loop does not index, cache lines that neighbouring iterations split): a
// buffer then costs its body traffic scaled by how much its footprint grows over the loop. When
// even the body does not fit, every iteration loads its body's data again.
void add_traffic(const Collector& c, const Footprints& fp, const ir::Stmt& s, double cap, PerBuffer& out) {
  if (!s) return;
  switch (s.kind()) {
    case ir::StmtKind::For: {
      const auto* n = s.as<ir::For>();
      const int id = c.loop_id.at(n);
      if (fp.loop_bytes[id] <= cap) {
        for (const auto& b : fp.loop[id]) add_to(out, b.buffer, box_bytes(b));
        return;
      }
      PerBuffer body;
      add_traffic(c, fp, n->body, cap, body);
      const double extent = static_cast<double>(c.loops[id].extent);
      const bool body_fits = fp.body_bytes[id] <= cap;
      for (const auto& [buf, t] : body) {
        double scale = extent;
        if (body_fits) {
          const double fb = footprint_bytes(fp.body[id], buf), fl = footprint_bytes(fp.loop[id], buf);
          if (fb > 0) scale = std::clamp(fl / fb, 1.0, extent);
        }
        add_to(out, buf, t * scale);
      }
      return;
    }
    case ir::StmtKind::Seq:
      for (const auto& x : s.as<ir::Seq>()->stmts) add_traffic(c, fp, x, cap, out);
      return;
    case ir::StmtKind::IfThenElse: {
      const auto* n = s.as<ir::IfThenElse>();
      add_traffic(c, fp, n->then_case, cap, out);
      add_traffic(c, fp, n->else_case, cap, out);
      return;
    }
    case ir::StmtKind::Allocate:
      add_traffic(c, fp, s.as<ir::Allocate>()->body, cap, out);
      return;
    case ir::StmtKind::Store:
      for (const auto& b : fp.store[c.store_id.at(s.as<ir::Store>())]) add_to(out, b.buffer, box_bytes(b));
      return;
  }
}

double traffic_into(const Collector& c, const Footprints& fp, const ir::Stmt& body, double cap) {
  PerBuffer t;
  add_traffic(c, fp, body, cap, t);
  return total(t);
}

// ---------------------------------------------------------------- per-store analysis

// The loops around one store, classified.
struct StoreLoops {
  size_t depth = 0;
  double par = 1, unroll = 1, serial = 1, lanes = 0;  // products of extents; lanes of the vector loop
  int npar = 0;
  bool in_unroll = false;
  int vec_pos = -1;  // position of the (innermost) vectorized loop, -1 when none
  int inner = -1;    // position of the innermost loop of extent > 1, -1 when none
};

StoreLoops classify_loops(const std::vector<Loop>& loops, const StoreRec& s) {
  StoreLoops r;
  r.depth = s.loops.size();
  for (size_t p = 0; p < r.depth; ++p) {
    const Loop& l = loops[s.loops[p]];
    if (l.parallel) {
      r.par *= static_cast<double>(l.extent);
      ++r.npar;
    } else if (l.vectorized) {
      r.lanes = static_cast<double>(l.extent);
      r.vec_pos = static_cast<int>(p);
    } else if (l.unrolled) {
      r.unroll *= static_cast<double>(l.extent);
      r.in_unroll = true;
    } else {
      r.serial *= static_cast<double>(l.extent);
    }
  }
  for (size_t p = r.depth; p-- > 0;)
    if (loops[s.loops[p]].extent > 1) {
      r.inner = static_cast<int>(p);
      break;
    }
  return r;
}

// What the access analysis of one store leaves for the later groups.
struct AccessSummary {
  double strided = 0;    // accesses with a stride other than 0 and +-1 (or unknown) in the inner loop
  int write_class = -1;  // stride class of the written element: 0, 1 (unit) or 2 (other); -1 none
};

// Computes the features of one lowered kernel. Each add_* method fills one group of features;
// store groups add execution-weighted sums into ws_, which average_store_features() divides as
// the feature table's aggregation says.
class FeatureExtractor {
 public:
  FeatureExtractor(const ir::LoweredFunc& func, const HardwareInfo& hw)
      : func_(func),
        hw_(hw),
        c_(func),
        cores_(std::max(hw.cores, 1)),
        l1_(static_cast<double>(hw.l1_bytes)),
        l2_(static_cast<double>(hw.l2_bytes)),
        l3_(static_cast<double>(hw.l3_bytes)) {}

  std::vector<double> run() {
    c_.visit(func_.body);
    fp_ = compute_footprints(c_);
    for (const StoreRec& s : c_.stores) {
      const StoreLoops l = classify_loops(c_.loops, s);
      const double w = s.executions;
      executions_ += w;
      flops_ += w * s.flops;
      add_loop_features(s, l, w);
      add_arithmetic_features(s, w);
      const AccessSummary acc = add_access_features(s, l, w);
      if (l.vec_pos >= 0) vec_weight_ += w;
      add_simd_features(s, l, acc, w);
      add_cache_fit_features(s, w);
    }
    average_store_features();
    add_kernel_features();
    add_allocation_features();
    return std::move(f_);
  }

 private:
  // Element size of the store's written buffer (4 when it has no accesses).
  static double store_element_bytes(const StoreRec& s) {
    return s.accesses.empty() ? 4.0 : ir::dtype_bytes(s.accesses.front().buffer->dtype);
  }

  // Loop context: depth, extents, parallel, vector and unrolled loops.
  void add_loop_features(const StoreRec& s, const StoreLoops& l, double w) {
    ws_[F("loop_depth")] += w * static_cast<double>(l.depth);
    if (l.depth > 0) {
      const Loop& innermost = c_.loops[s.loops.back()];
      const Loop& outermost = c_.loops[s.loops.front()];
      ws_[F("innermost_extent")] += w * log2p(static_cast<double>(innermost.extent));
      ws_[F("outermost_extent")] += w * log2p(static_cast<double>(outermost.extent));
      if (outermost.parallel) ws_[F("parallel_outermost")] += w;
      if (innermost.vectorized) ws_[F("vectorized_innermost")] += w;
    }
    ws_[F("parallel_extent")] += w * log2p(l.npar > 0 ? l.par : 0.0);
    ws_[F("parallel_loops")] += w * l.npar;
    ws_[F("parallel_efficiency")] += w * (l.par / (cores_ * std::ceil(l.par / cores_)));
    ws_[F("vector_lanes")] += w * log2p(l.lanes);
    if (l.vec_pos >= 0) {
      ws_[F("vectorized_fraction")] += w;
      ws_[F("vector_width_ratio")] += w * l.lanes * store_element_bytes(s) / std::max(hw_.vector_bytes, 1);
    }
    ws_[F("unrolled_iterations")] += w * log2p(l.in_unroll ? l.unroll : 0.0);
    if (l.in_unroll) ws_[F("unrolled_fraction")] += w;
    ws_[F("serial_extent")] += w * log2p(l.serial);
    work_per_thread_ += w / std::min(l.par, cores_);
  }

  // Arithmetic, reads and guards of the stored value.
  void add_arithmetic_features(const StoreRec& s, double w) {
    ws_[F("flops_per_store")] += w * s.flops;
    ws_[F("transcendentals_per_store")] += w * s.transcendentals;
    ws_[F("selects_per_store")] += w * s.selects;
    ws_[F("reads_per_store")] +=
        w * static_cast<double>(std::count_if(s.accesses.begin(), s.accesses.end(),
                                              [](const Access& a) { return !a.write; }));
    ws_[F("guards_per_store")] += w * s.guards;
    if (s.guards > 0) ws_[F("guarded_fraction")] += w;
  }

  // Innermost loop of extent > 1 (from `depth` outwards) whose variable the access does not use:
  // the loop that carries its reuse; -1 when none does.
  int reuse_carrier(const Access& a, const StoreRec& s) const {
    std::vector<std::string> used;
    for (const auto& idx : *a.indices) {
      auto fv = ir::free_vars(idx);
      used.insert(used.end(), fv.begin(), fv.end());
    }
    for (size_t p = s.loops.size(); p-- > 0;) {
      const Loop& l = c_.loops[s.loops[p]];
      if (l.extent <= 1) continue;
      if (std::find(used.begin(), used.end(), l.node->var) == used.end()) return static_cast<int>(p);
    }
    return -1;
  }

  // Accesses: bytes, strides in the innermost and the vectorized loop, reuse distances.
  AccessSummary add_access_features(const StoreRec& s, const StoreLoops& l, double w) {
    AccessSummary out;
    const double n_acc = static_cast<double>(s.accesses.size());
    double s0 = 0, s1 = 0, gathers = 0, stride_bytes = 0;
    double reuse_bytes_sum = 0, reuse_iters_sum = 0, n_reuse = 0, no_reuse = 0, in_l1 = 0, in_l2 = 0;
    for (const Access& a : s.accesses) {
      const double esize = ir::dtype_bytes(a.buffer->dtype);
      all_accesses_ += w;
      if (a.buffer->scope == ir::MemScope::Local) {
        local_accesses_ += w;
      } else {
        bytes_accessed_ += w * esize;
      }
      int64_t stride = 0;
      bool ok = true;
      if (l.inner >= 0) stride = access_stride(a, s, c_.loops, static_cast<size_t>(l.inner), &ok, vars_);
      const int cls = !ok ? 2 : stride == 0 ? 0 : (stride == 1 || stride == -1) ? 1 : 2;
      if (a.write) out.write_class = cls;
      (cls == 0 ? s0 : cls == 1 ? s1 : out.strided) += 1;
      stride_bytes += ok ? std::abs(static_cast<double>(stride)) * esize : static_cast<double>(kLineBytes);
      if (a.write && cls == 0) ws_[F("write_stride0_fraction")] += w;
      if (a.write && cls == 1) ws_[F("write_stride1_fraction")] += w;
      if (l.vec_pos >= 0) {
        bool vok = true;
        const int64_t vs = access_stride(a, s, c_.loops, static_cast<size_t>(l.vec_pos), &vok, vars_);
        if (!vok || (vs != 0 && vs != 1 && vs != -1)) gathers += 1;
      }
      const int carrier = reuse_carrier(a, s);
      if (carrier < 0) {
        no_reuse += 1;
      } else {
        const double rb = fp_.body_bytes[s.loops[carrier]];
        double iters = 1;
        for (size_t p = carrier + 1; p < l.depth; ++p)
          iters *= static_cast<double>(c_.loops[s.loops[p]].extent);
        reuse_bytes_sum += log2p(rb);
        reuse_iters_sum += log2p(iters);
        n_reuse += 1;
        if (rb <= l1_) in_l1 += 1;
        if (rb <= l2_) in_l2 += 1;
      }
    }
    if (n_acc > 0) {
      ws_[F("stride0_fraction")] += w * s0 / n_acc;
      ws_[F("stride1_fraction")] += w * s1 / n_acc;
      ws_[F("strided_fraction")] += w * out.strided / n_acc;
      ws_[F("innermost_stride_bytes")] += w * log2p(stride_bytes / n_acc);
      ws_[F("no_reuse_fraction")] += w * no_reuse / n_acc;
      ws_[F("reuse_in_l1_fraction")] += w * in_l1 / n_acc;
      ws_[F("reuse_in_l2_fraction")] += w * in_l2 / n_acc;
      if (l.vec_pos >= 0) ws_[F("vector_gather_fraction")] += w * gathers / n_acc;
    }
    if (n_reuse > 0) {
      ws_[F("reuse_distance_bytes")] += w * reuse_bytes_sum / n_reuse;
      ws_[F("reuse_distance_iters")] += w * reuse_iters_sum / n_reuse;
    }
    return out;
  }

  // Selects whose condition changes with the innermost loop (a hoisted one costs nothing).
  // Unrolled loops the condition does not use share one evaluation between their copies.
  double varying_selects(const StoreRec& s, const StoreLoops& l) const {
    double varying = 0;
    if (l.inner < 0) return varying;
    const std::string& iv = c_.loops[s.loops[l.inner]].node->var;
    for (const ir::Expr* cond : s.select_conds) {
      auto fv = ir::free_vars(*cond);
      if (std::find(fv.begin(), fv.end(), iv) == fv.end()) continue;
      double shared = 1;
      for (int id : s.loops) {
        const Loop& loop = c_.loops[id];
        if (loop.unrolled && std::find(fv.begin(), fv.end(), loop.node->var) == fv.end())
          shared *= static_cast<double>(loop.extent);
      }
      varying += 1.0 / shared;
    }
    return varying;
  }

  // SIMD lanes, with or without a vectorize annotation.
  void add_simd_features(const StoreRec& s, const StoreLoops& l, const AccessSummary& acc, double w) {
    const double varying = varying_selects(s, l);
    ws_[F("varying_selects_per_store")] += w * varying;
    const double width = std::max(hw_.vector_bytes / store_element_bytes(s), 1.0);
    double simd = 1.0;
    if (l.vec_pos >= 0) {
      simd = std::min(l.lanes, width);
    } else if (l.inner >= 0 && acc.strided == 0 && acc.write_class != 0 && varying == 0) {
      simd = std::min(static_cast<double>(c_.loops[s.loops[l.inner]].extent), width);
      ws_[F("auto_vectorized_fraction")] += w;
    }
    ws_[F("simd_lanes")] += w * log2p(simd);
  }

  // Footprints along the nest: the innermost loop's, and how many loops fit in each cache level.
  void add_cache_fit_features(const StoreRec& s, double w) {
    const size_t depth = s.loops.size();
    if (depth > 0) ws_[F("innermost_loop_footprint")] += w * log2p(fp_.loop_bytes[s.loops.back()]);
    int fit1 = 0, fit2 = 0, fit3 = 0;
    for (size_t p = depth; p-- > 0;) {
      const double b = fp_.loop_bytes[s.loops[p]];
      if (b <= l1_ && fit1 == static_cast<int>(depth - 1 - p)) ++fit1;
      if (b <= l2_ && fit2 == static_cast<int>(depth - 1 - p)) ++fit2;
      if (b <= l3_ && fit3 == static_cast<int>(depth - 1 - p)) ++fit3;
    }
    ws_[F("l1_fit_depth")] += w * fit1;
    ws_[F("l2_fit_depth")] += w * fit2;
    ws_[F("l3_fit_depth")] += w * fit3;
  }

  // The store features' weighted means, as the table's aggregation says.
  void average_store_features() {
    for (size_t k = 0; k < kNumFeatures; ++k) {
      if (kFeatures[k].aggregation == Agg::StoreMean) f_[k] = wmean_div(ws_[k], executions_);
      if (kFeatures[k].aggregation == Agg::VectorizedStoreMean) f_[k] = wmean_div(ws_[k], vec_weight_);
    }
  }

  // Top-level loop nests; allocations wrapping the whole kernel do not count, stores outside loops
  // do not either.
  int loop_nests() const {
    ir::Stmt s = func_.body;
    while (s && s.kind() == ir::StmtKind::Allocate) s = s.as<ir::Allocate>()->body;
    if (!s) return 0;
    if (s.kind() != ir::StmtKind::Seq) return 1;
    int nests = 0;
    for (const auto& x : s.as<ir::Seq>()->stmts) nests += x.kind() != ir::StmtKind::Store;
    return nests;
  }

  // Kernel-wide counts, unique bytes, cache traffic and intensities.
  void add_kernel_features() {
    const double unique = footprint_bytes(fp_.kernel);
    Footprint global;
    for (const auto& b : fp_.kernel)
      if (b.buffer->scope == ir::MemScope::Global) global.push_back(b);
    const double global_unique = footprint_bytes(global);
    const double t1 = traffic_into(c_, fp_, func_.body, l1_), t2 = traffic_into(c_, fp_, func_.body, l2_),
                 t3 = traffic_into(c_, fp_, func_.body, l3_);
    f_[F("flops")] = log2p(flops_);
    f_[F("stores")] = log2p(static_cast<double>(c_.stores.size()));
    f_[F("store_executions")] = log2p(executions_);
    f_[F("loop_nests")] = log2p(loop_nests());
    f_[F("loops")] = log2p(static_cast<double>(c_.loops.size()));
    f_[F("max_loop_depth")] = c_.max_depth;
    f_[F("work_per_thread")] = log2p(work_per_thread_);
    f_[F("bytes_accessed")] = log2p(bytes_accessed_);
    f_[F("unique_bytes")] = log2p(unique);
    f_[F("global_unique_bytes")] = log2p(global_unique);
    f_[F("traffic_l1")] = log2p(t1);
    f_[F("traffic_l2")] = log2p(t2);
    f_[F("traffic_l3")] = log2p(t3);
    f_[F("arith_intensity")] = log2p(global_unique > 0 ? flops_ / global_unique : 0);
    f_[F("intensity_l1")] = log2p(t1 > 0 ? flops_ / t1 : 0);
    f_[F("intensity_l2")] = log2p(t2 > 0 ? flops_ / t2 : 0);
    f_[F("intensity_l3")] = log2p(t3 > 0 ? flops_ / t3 : 0);
    f_[F("guard_executions")] = log2p(c_.guard_executions);
    f_[F("local_access_fraction")] = all_accesses_ > 0 ? local_accesses_ / all_accesses_ : 0.0;
  }

  // Allocations by scope.
  void add_allocation_features() {
    double local_elems = 0, local_max = 0, local_bytes = 0, shared_bytes = 0, heap_bytes = 0, alloc_exec = 0;
    for (const auto& a : c_.allocs) {
      const double n = static_cast<double>(a.buffer->num_elements());
      const double b = n * ir::dtype_bytes(a.buffer->dtype);
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
    f_[F("local_elements")] = log2p(local_elems);
    f_[F("local_max_elements")] = log2p(local_max);
    f_[F("local_register_ratio")] =
        local_bytes / (static_cast<double>(hw_.vector_registers()) * std::max(hw_.vector_bytes, 1));
    f_[F("shared_bytes")] = log2p(shared_bytes);
    f_[F("heap_bytes")] = log2p(heap_bytes);
    f_[F("allocations")] = log2p(static_cast<double>(c_.allocs.size()));
    f_[F("allocation_executions")] = log2p(alloc_exec);
  }

  static double wmean_div(double sum, double weight) { return weight > 0 ? sum / weight : 0.0; }

  const ir::LoweredFunc& func_;
  const HardwareInfo& hw_;
  Collector c_;
  Footprints fp_;
  const double cores_, l1_, l2_, l3_;
  std::vector<double> f_ = std::vector<double>(kNumFeatures, 0.0);
  std::vector<double> ws_ = std::vector<double>(kNumFeatures, 0.0);  // execution-weighted sums
  std::vector<VarRangeRef> vars_;                                    // scratch of access_stride
  double executions_ = 0, flops_ = 0, work_per_thread_ = 0, bytes_accessed_ = 0;
  double vec_weight_ = 0, all_accesses_ = 0, local_accesses_ = 0;
};

}  // namespace

const std::vector<FeatureInfo>& feature_info() {
  static const std::vector<FeatureInfo> info = [] {
    std::vector<FeatureInfo> v;
    for (const FeatureDef& d : kFeatures)
      v.push_back({std::string(d.name), std::string(d.meaning), d.aggregation});
    return v;
  }();
  return info;
}

std::vector<std::string> feature_names() {
  std::vector<std::string> names;
  for (const FeatureDef& d : kFeatures) names.emplace_back(d.name);
  return names;
}

size_t num_features() { return kNumFeatures; }

size_t feature_index(const std::string& name) {
  for (size_t i = 0; i < kNumFeatures; ++i)
    if (kFeatures[i].name == name) return i;
  throw std::invalid_argument("feature_index: unknown feature '" + name + "'");
}

std::vector<double> extract_features(const schedule::State& state, const HardwareInfo& hw) {
  return extract_features(schedule::lower(state), hw);
}

std::vector<double> extract_features(const ir::LoweredFunc& func, const HardwareInfo& hw) {
  if (!func.body) return std::vector<double>(kNumFeatures, 0.0);
  return FeatureExtractor(func, hw).run();
}

}  // namespace rctune::search
