// The built-in reasoner (make_heuristic_proposer, rctune/search/proposer.h; docs/proposers.md).
//
// It reads the node's state the way a person tuning the kernel would: per stage, its loops and
// their extents, its reduction, which tensors its body reads along which axes (data reuse, the
// contiguous axis), where it is placed; the trace; the hardware (vector lanes, registers, caches,
// cores); the measured history of the node and its ancestors and the proposals that failed.
// Diagnoses produce *ideas*: an action (edit script) with a rationale, grouped by kind and subject
// (several alternatives of one idea, e.g. tile shapes or placement loops). Every alternative is
// applied and lowered (illegal ones are dropped) and scored with the analytic cost model; a group
// is represented by its best alternative. Groups are ranked by predicted gain plus a prior per kind
// (and history-driven bonuses), then picked one kind at a time for diversity. What it drops is
// counted by cause in failures() (rctune/search/proposer_failures.h).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "rctune/ir/text.h"
#include "rctune/schedule/primitives.h"
#include "rctune/search/action.h"
#include "rctune/search/design_space.h"
#include "rctune/search/proposer.h"
#include "rctune/search/proposer_failures.h"
#include "search/space/nest_analysis.h"
#include "search/space/sketch_rules.h"

namespace rctune::search {

namespace {

using nest::Access;
using nest::LoopInfo;
using nest::NestAnalysis;
using nest::StageInfo;
using schedule::Primitive;

struct Idea {
  std::string kind;     // "register_tile", "vectorize", ...
  std::string subject;  // the stage (or stage.loop) it is about
  std::string action;
  std::string rationale;
  double prior = 0;  // added to the log of the predicted gain when ranking
};

struct Scored {
  Idea idea;
  nest::Evaluation eval;
  double key = 0;
};

using ir::join;

std::string call(const std::string& prim, const std::vector<std::string>& args) {
  return prim + "(" + join(args) + ")";
}

// A compute_at / reverse_compute_at step moved to another loop of its target, as text.
std::string placed_at(schedule::Step placement, const std::string& loop) {
  placement.args.at(2) = loop;
  return schedule::to_text(placement);
}

std::string split_text(const std::string& stage, const std::string& loop, const std::vector<int64_t>& inner) {
  std::string s = "split(" + stage + ", " + loop + ", [None";
  for (int64_t f : inner) s += ", " + std::to_string(f);
  return s + "])";
}

// Fixed notation, `prec` decimals.
std::string fmt(double v, int prec = 2) { return ir::fixed(v, prec); }

std::string bytes_text(double b) {
  if (b >= 1024.0 * 1024) return fmt(b / (1024.0 * 1024), 1) + " MiB";
  if (b >= 1024.0) return fmt(b / 1024.0, 1) + " KiB";
  return fmt(b, 0) + " B";
}

// The largest divisor of n that is at most limit and (when `multiple` > 1) a multiple of it; 0 if none.
int64_t largest_divisor_upto(int64_t n, int64_t limit, int64_t multiple = 1) {
  for (int64_t d = std::min(n, limit); d >= 1; --d)
    if (n % d == 0 && d % multiple == 0) return d;
  return 0;
}

class Reasoner {
 public:
  Reasoner(const ProposerInput& in, const DesignSpace* space, Rng& rng, ProposerFailures& failures)
      : in_(in),
        space_(space),
        rng_(rng),
        failures_(failures),
        hw_(in.hardware.info),
        nest_(nest::analyse(in.state)),
        facts_(detail::analyze_workload(*in.state.original_workload_ptr(), hw_)) {
    steps_ = in.state.trace();
  }

  std::vector<Proposal> run();

 private:
  // diagnoses
  void register_tile(const StageInfo& s);
  void vectorize(const StageInfo& s);
  void parallel(const StageInfo& s);
  void widen_parallel(const StageInfo& s);
  void rfactor(const StageInfo& s);
  void place_producer(const StageInfo& s);
  void fuse_epilogue(const StageInfo& s);
  void inline_stage(const StageInfo& s);
  void pack(const StageInfo& s);
  void unroll(const StageInfo& s);
  void tile_sizes();
  void compute_locations();
  void from_best();
  void bind_gpu(const StageInfo& s);
  void stream(const StageInfo& s);
  bool gpu() const {
    const std::string& e = in_.hardware.execution_space;
    return e == "Cuda" || e == "HIP" || e == "SYCL" || e == "OpenMPTarget";
  }
  void history();
  void learn_failures();

  // helpers
  void add(Idea idea) { ideas_.push_back(std::move(idea)); }
  std::vector<int> steps_of(const std::string& stage) const;  // 1-based numbers of steps on `stage`
  int lanes(const StageInfo& s) const { return nest::lanes_for(hw_, s.elem_bytes); }
  int accumulator_budget() const { return hw_.vector_registers() >= 32 ? 16 : 12; }
  std::vector<int64_t> tweak_factors(int64_t f, int64_t extent, bool vectorized, int lanes) const;

  const ProposerInput& in_;
  const DesignSpace* space_;
  Rng& rng_;
  ProposerFailures& failures_;
  HardwareInfo hw_;
  NestAnalysis nest_;
  detail::WorkloadFacts facts_;  // of the original workload: which stages are memory bound
  std::vector<schedule::Step> steps_;
  std::vector<Idea> ideas_;
  std::set<std::string> streaming_;       // streamed stages: stream() tunes their splits, not tile_sizes()
  std::set<std::string> failed_actions_;  // canonical edit scripts
  std::set<std::string> failed_steps_;    // steps named by an error as the illegal one
  std::set<std::string> suspect_steps_;   // steps of actions that failed at measurement
  double structural_bonus_ = 0;
};

std::vector<int> Reasoner::steps_of(const std::string& stage) const {
  std::vector<int> out;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const auto& s = steps_[i];
    if (s.primitive == Primitive::CacheRead) continue;
    if (s.name(0) == stage) out.push_back(static_cast<int>(i) + 1);
  }
  return out;
}

std::vector<int64_t> Reasoner::tweak_factors(int64_t f, int64_t extent, bool vectorized, int lanes) const {
  std::vector<int64_t> out;
  for (int64_t g : {f / 2, f * 2}) {
    if (g < 2 || g == f || g > extent) continue;
    if (vectorized && g % lanes != 0 && g < extent) continue;
    out.push_back(g);
  }
  // A divisor of the extent near f, when f itself does not divide it (removes the guard).
  if (extent % f != 0) {
    int64_t d = largest_divisor_upto(extent, f, vectorized ? lanes : 1);
    if (d > 1 && d != f) out.push_back(d);
  }
  return out;
}

// ---------------------------------------------------------------- diagnoses

// Some read of a reduction does not depend on some spatial axis: it is reused along that axis.
bool has_reuse(const StageInfo& s) {
  if (!s.has_reduction()) return false;
  for (const Access& a : s.reads)
    for (const auto& ax : s.stage->axes)
      if (ax.extent > 1 && !a.depends_on(ax.name)) return true;
  return false;
}

// False when `target` reads `producer` directly and loop `l` iterates an axis that does not index
// it: a producer placed inside `l` would be recomputed for every iteration.
bool indexes(const StageInfo& target, const std::string& producer, const LoopInfo& l) {
  std::set<std::string> idx;
  bool direct = false;
  for (const Access& a : target.reads)
    if (a.tensor == producer) {
      direct = true;
      for (const auto& v : a.index_vars) idx.insert(v.begin(), v.end());
    }
  if (!direct) return true;
  return std::includes(idx.begin(), idx.end(), l.roots.begin(), l.roots.end());
}

// A reduction with data reuse whose accumulator lives in memory: the register-tiling sequence of
// configs/examples/matmul.sched (cache_write into a local tile placed at the tile loop, reduction
// outside, rows unrolled, columns vectorized).
void Reasoner::register_tile(const StageInfo& s) {
  if (!s.has_reduction() || s.sched->scope != ir::MemScope::Global) return;
  if (nest_.find(s.name + ".local") || !s.at_root()) return;
  if (s.name.find('.') != std::string::npos) return;  // cache / rfactor stages
  const std::string col = s.contiguous_axis();
  if (col.empty() || s.axis_extent(col) < 2) return;
  if (!has_reuse(s)) return;
  // Rows: a spatial axis along which the column-indexed operand is reused (it does not depend on
  // it); the latest such axis in the loop order.
  std::string row;
  std::string reused_operand;
  for (const auto& ax : s.stage->axes) {
    if (ax.name == col || ax.extent < 2) continue;
    for (const Access& a : s.reads)
      if (a.depends_on(col) && !a.depends_on(ax.name)) {
        row = ax.name;
        reused_operand = a.tensor;
      }
  }
  const int L = lanes(s);
  const int64_t ncol = s.axis_extent(col);
  const int64_t nrow = row.empty() ? 1 : s.axis_extent(row);
  const int budget = accumulator_budget();
  // Prefix: steps already on the stage are removed (cache_write needs an unscheduled stage).
  std::string prefix;
  for (int n : steps_of(s.name)) prefix += std::to_string(n) + ": delete\n";

  std::set<std::pair<int64_t, int64_t>> shapes;
  for (int vecs : {2, 1, 4}) {
    // Columns: a multiple of the lanes that divides the extent (no guard); else the whole row when
    // it is at most 4 vectors (a vector remainder, measured much faster than a guarded tile or a
    // width that is not a multiple of the lanes); else vecs * lanes, guarded.
    const int64_t target = static_cast<int64_t>(vecs) * L;
    int64_t cols = target;
    if (ncol <= target) {
      cols = ncol;
    } else if (int64_t d = largest_divisor_upto(ncol, target, L); d >= L) {
      cols = d;
    } else if (ncol <= 4 * L) {
      cols = ncol;
    }
    const int64_t acc_cols = std::max<int64_t>(1, (cols + L - 1) / L);
    int64_t rows = row.empty() ? 1 : std::max<int64_t>(1, std::min<int64_t>({budget / acc_cols, 8, nrow}));
    if (!row.empty() && nrow % rows != 0) {
      int64_t d = largest_divisor_upto(nrow, rows);
      if (d * 2 >= rows) rows = d;
    }
    if (!shapes.insert({rows, cols}).second) continue;

    std::vector<std::string> outer, inner;
    std::string a;
    a += prefix;
    a += call("cache_write", {s.name, "local"}) + "\n";
    const bool split_row = !row.empty() && rows < nrow;
    const bool split_col = cols < ncol;
    if (split_row) a += split_text(s.name, row, {rows}) + "\n";
    if (split_col) a += split_text(s.name, col, {cols}) + "\n";
    for (const auto& ax : s.stage->axes)
      if (ax.name != col && ax.name != row) outer.push_back(ax.name);
    if (split_col) outer.push_back(col + ".0");
    if (split_row) outer.push_back(row + ".0");
    if (outer.empty()) continue;  // the tile is the whole output: nothing to place it in
    const std::string row_in = row.empty() ? "" : (split_row ? row + ".1" : row);
    const std::string col_in = split_col ? col + ".1" : col;
    std::vector<std::string> order = outer;
    if (!row_in.empty()) order.push_back(row_in);
    order.push_back(col_in);
    a += call("reorder",
              [&] {
                std::vector<std::string> v{s.name};
                v.insert(v.end(), order.begin(), order.end());
                return v;
              }()) +
         "\n";
    const std::string local = s.name + ".local";
    a += call("compute_at", {local, s.name, outer.back()}) + "\n";
    std::vector<std::string> lorder{local};
    for (const auto& r : s.stage->reduce_axes) lorder.push_back(r.name);
    if (!row.empty()) lorder.push_back(row);
    lorder.push_back(col);
    a += call("reorder", lorder) + "\n";
    if (!row.empty() && rows > 1) a += call("unroll", {local, row}) + "\n";
    a += call("vectorize", {local, col}) + "\n";
    if (!row_in.empty() && rows > 1 && rows <= schedule::kMaxUnrollExtent)
      a += call("unroll", {s.name, row_in}) + "\n";
    a += call("vectorize", {s.name, col_in}) + "\n";

    std::string red;
    for (const auto& r : s.stage->reduce_axes)
      red += (red.empty() ? "" : "*") + r.name + "=" + std::to_string(r.extent);
    const int64_t accs = rows * acc_cols;
    std::string why = s.name + ": reduction over " + red + " accumulates in memory; register tile " +
                      std::to_string(rows) + " rows" + (row.empty() ? "" : " (" + row + ")") + " x " +
                      std::to_string(cols) + " cols (" + col + ") = " + std::to_string(accs) +
                      " accumulators of " + std::to_string(L) + " lanes (" +
                      std::to_string(hw_.vector_registers()) + " vector registers)";
    if (!reused_operand.empty())
      why += ", " + reused_operand + " reused across the " + std::to_string(rows) + " rows";
    double prior = 0.6 + 0.05 * static_cast<double>(accs) / budget;
    for (const Access& r : s.reads)
      if (r.depends_on(col) && !r.contiguous_in(col)) {
        prior -= 0.3;
        why += "; " + r.tensor + " is read with a stride along " + col;
        break;
      }
    add({"register_tile", s.name, a, why, prior});
  }
}

// The innermost loop is spatial and contiguous but not vectorized (split by the lanes first when
// long); or a reduction loop is innermost and a contiguous spatial loop can be moved inside it.
void Reasoner::vectorize(const StageInfo& s) {
  if (s.leaves.empty() || s.sched->attach.kind == schedule::Attach::Kind::Inline) return;
  const std::string col = s.contiguous_axis();
  if (col.empty()) return;
  for (const LoopInfo& l : s.leaves)
    if (l.kind == ir::ForKind::Vectorized || l.bind == ir::BindLevel::Vector) return;
  const int L = lanes(s);
  const LoopInfo& in = s.leaves.back();
  const bool placed = !s.at_root();
  // Contiguous: the loop runs along the output's last axis and no read is strided along it.
  auto contiguous = [&](const LoopInfo& l) {
    if (l.reduce || l.roots.count(col) == 0) return false;
    for (const Access& a : s.reads)
      for (const auto& ax : l.roots)
        if (a.depends_on(ax) && !a.contiguous_in(ax)) return false;
    return true;
  };
  if (contiguous(in) && !in.annotated()) {
    if (std::find(s.placed_here.begin(), s.placed_here.end(), in.name) != s.placed_here.end()) return;
    for (const auto& p : nest_.stages)
      if (!p.at_root() && p.sched->attach.stage == s.name && p.sched->attach.loop == in.name) return;
    if (placed || in.extent <= 4 * L) {
      add({"vectorize", s.name, call("vectorize", {s.name, in.name}),
           s.name + ": innermost loop " + in.name + " (extent " + std::to_string(in.extent) +
               ") is contiguous but scalar; vectorize it (" + std::to_string(L) + " lanes)",
           0.25});
    } else {
      for (int v : {2 * L, L, 4 * L}) {
        int64_t f = in.extent % v == 0 ? v : std::max<int64_t>(largest_divisor_upto(in.extent, v, L), v);
        add({"vectorize", s.name,
             split_text(s.name, in.name, {f}) + "\n" + call("vectorize", {s.name, in.name + ".1"}),
             s.name + ": innermost loop " + in.name + " (extent " + std::to_string(in.extent) +
                 ") is contiguous but scalar; split by " + std::to_string(f) + " and vectorize (" +
                 std::to_string(L) + " lanes)",
             0.25});
      }
    }
    return;
  }
  // Innermost is a reduction (or non-contiguous) loop: bring a contiguous spatial loop inside.
  for (size_t i = 0; i + 1 < s.leaves.size(); ++i) {
    const LoopInfo& c = s.leaves[i];
    if (!contiguous(c) || c.annotated()) continue;
    std::string a = call("reorder", {s.name, in.name, c.name}) + "\n";
    std::string target = c.name;
    if (!placed && c.extent > 4 * L) {
      int64_t f =
          c.extent % (2 * L) == 0 ? 2 * L : std::max<int64_t>(largest_divisor_upto(c.extent, 2 * L, L), L);
      a += split_text(s.name, c.name, {f}) + "\n";
      target = c.name + ".1";
    }
    a += call("vectorize", {s.name, target});
    add({"vectorize", s.name, a,
         s.name + ": innermost loop " + in.name + (in.reduce ? " is a reduction" : " is strided") +
             "; move the contiguous loop " + c.name + " (extent " + std::to_string(c.extent) +
             ") inside it and vectorize (" + std::to_string(L) + " lanes)",
         0.2});
  }
}

// A root stage with no parallel loop: fuse the outer spatial loops until there is enough parallel
// work for the cores, and run that loop in parallel.
void Reasoner::parallel(const StageInfo& s) {
  if (hw_.cores <= 1 || !s.at_root() || s.leaves.empty()) return;
  if (s.has_parallel()) {
    widen_parallel(s);
    return;
  }
  if (s.sched->scope == ir::MemScope::Local) return;  // a local buffer at the root is one per kernel
  std::vector<std::string> prefix;
  int64_t prod = 1;
  const int64_t want = 4LL * hw_.cores;
  for (size_t i = 0; i + 1 < s.leaves.size() || (i == 0 && s.leaves.size() == 1); ++i) {
    const LoopInfo& l = s.leaves[i];
    if (l.reduce || l.annotated()) break;
    if (l.extent <= 1 && prefix.empty()) continue;
    prefix.push_back(l.name);
    prod *= l.extent;
    if (prod >= want) break;
  }
  if (prefix.empty()) return;
  // Skip leading loops of extent 1 before the prefix: fuse needs adjacent loops.
  const int64_t first = s.leaf(prefix.front())->extent;
  add({"parallel", s.name, call("parallel", {s.name, prefix.front()}),
       s.name + ": no parallel loop; run " + prefix.front() + " (" + std::to_string(first) +
           " iterations) on the " + std::to_string(hw_.cores) + " cores",
       0.15});
  if (prefix.size() >= 2) {
    // Extent-1 loops in between keep the list adjacent; fuse needs it.
    size_t a = 0, b = 0;
    for (size_t i = 0; i < s.leaves.size(); ++i) {
      if (s.leaves[i].name == prefix.front()) a = i;
      if (s.leaves[i].name == prefix.back()) b = i;
    }
    std::vector<std::string> names;
    for (size_t i = a; i <= b; ++i) names.push_back(s.leaves[i].name);
    std::vector<std::string> args{s.name};
    args.insert(args.end(), names.begin(), names.end());
    const std::string fused = schedule::fused_loop_name(names);
    add({"parallel", s.name, call("fuse", args) + "\n" + call("parallel", {s.name, fused}),
         s.name + ": no parallel loop; fuse " + join(names) + " into " + std::to_string(prod) +
             " iterations (>= 4 x " + std::to_string(hw_.cores) + " cores) and run them in parallel",
         0.15});
  }
}

// A parallel loop with too few iterations for the cores: fuse it with the next loop (the parallel
// step is replaced: fuse refuses annotated loops).
void Reasoner::widen_parallel(const StageInfo& s) {
  if (s.leaves.size() < 3 || s.leaves[0].kind != ir::ForKind::Parallel) return;
  const LoopInfo& p = s.leaves[0];
  const LoopInfo& next = s.leaves[1];
  if (p.extent >= 2LL * hw_.cores || next.reduce || next.annotated() || next.extent < 2) return;
  if (s.leaves[1].kind != ir::ForKind::Serial) return;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const auto& st = steps_[i];
    if (st.primitive != Primitive::Parallel || st.name(0) != s.name || st.name(1) != p.name) continue;
    const std::string fused = schedule::fused_loop_name({p.name, next.name});
    add({"parallel", s.name,
         std::to_string(i + 1) + ": delete\n" + call("fuse", {s.name, p.name, next.name}) + "\n" +
             call("parallel", {s.name, fused}),
         s.name + ": parallel loop " + p.name + " has only " + std::to_string(p.extent) + " iterations for " +
             std::to_string(hw_.cores) + " cores; fuse it with " + next.name + " (" +
             std::to_string(p.extent * next.extent) + " iterations)",
         0.15});
  }
}

// A reduction over a contiguous axis with no reuse (row max / row sum): split by the lanes,
// rfactor the lanes into a vector accumulator (configs/examples/softmax.sched, layernorm.sched).
void Reasoner::rfactor(const StageInfo& s) {
  if (!s.has_reduction() || s.name.find('.') != std::string::npos) return;
  if (nest_.find(s.name + ".rf")) return;
  const auto& r = s.stage->reduce_axes.back();
  const int L = lanes(s);
  if (r.extent < 2 * L) return;
  bool contiguous = false;
  for (const Access& a : s.reads) {
    if (!a.depends_on(r.name)) continue;
    if (!a.contiguous_in(r.name)) return;
    contiguous = true;
    for (const auto& ax : s.stage->axes)
      if (ax.extent > 1 && !a.depends_on(ax.name)) return;  // reuse: register tiling is the better tool
  }
  if (!contiguous) return;
  // rfactor needs the stage otherwise unscheduled: placements are removed and re-applied after.
  std::string prefix, suffix;
  for (int n : steps_of(s.name)) {
    const auto& st = steps_[n - 1];
    if (st.primitive != Primitive::ComputeAt && st.primitive != Primitive::ReverseComputeAt) return;
    prefix += std::to_string(n) + ": delete\n";
    suffix += schedule::to_text(st) + "\n";
  }
  if (!s.placed_here.empty()) return;
  std::vector<std::string> spatial;
  for (const auto& ax : s.stage->axes) spatial.push_back(ax.name);
  std::vector<std::string> other_red;
  for (const auto& ra : s.stage->reduce_axes)
    if (ra.name != r.name) other_red.push_back(ra.name);
  const std::string rf = s.name + ".rf";
  const std::string r0 = schedule::rfactor_axis_name(r.name + ".0");
  const std::string r1 = schedule::rfactor_axis_name(r.name + ".1");
  for (int width : {L, 4 * L}) {
    if (r.extent < 2 * width) continue;
    std::string a = prefix;
    a += split_text(s.name, r.name, {width}) + "\n";
    a += call("rfactor", {s.name, r.name + ".1"}) + "\n";
    std::vector<std::string> ord{rf};
    ord.insert(ord.end(), spatial.begin(), spatial.end());
    ord.insert(ord.end(), other_red.begin(), other_red.end());
    ord.push_back(r0);
    std::string vec = r1;
    if (width > L) {
      a += split_text(rf, r1, {L}) + "\n";
      ord.push_back(r1 + ".0");
      ord.push_back(r1 + ".1");
      vec = r1 + ".1";
    } else {
      ord.push_back(r1);
    }
    a += call("reorder", ord) + "\n";
    if (width > L) a += call("unroll", {rf, r1 + ".0"}) + "\n";
    a += call("vectorize", {rf, vec}) + "\n";
    if (!spatial.empty()) a += call("compute_at", {rf, s.name, spatial.back()}) + "\n";
    a += call("unroll", {s.name, r1}) + "\n";
    a += suffix;
    add({"rfactor", s.name, a,
         s.name + ": reduction over contiguous " + r.name + "=" + std::to_string(r.extent) +
             " has no reuse and a scalar accumulator; rfactor " + std::to_string(width) +
             " partial results (" + std::to_string(width / L) + " vector register" + (width > L ? "s" : "") +
             " of " + std::to_string(L) + " lanes)",
         0.35});
  }
}

// A producer at the root whose readers all run inside one root stage: compute it inside that
// stage's loops, per row, so that its result stays in cache (softmax.sched, attention.sched).
void Reasoner::place_producer(const StageInfo& s) {
  if (!s.at_root() || s.is_output || !s.stage) return;
  if (has_reuse(s)) return;  // a tiled reduction: its consumer goes into its tile (fuse_epilogue)
  const std::vector<std::string> readers = schedule::readers_of(in_.state.workload(), s.name);
  if (readers.empty()) return;
  std::string target;
  for (const auto& r : readers) {
    std::string root = nest_.root_of(r);
    if (target.empty()) target = root;
    if (root != target) return;
  }
  if (target == s.name) return;
  const StageInfo* t = nest_.find(target);
  if (!t) return;
  // Loops of the target that index the producer: placing it deeper would recompute it.
  std::set<std::string> indexing;
  bool direct = false;
  for (const Access& a : t->reads)
    if (a.tensor == s.name) {
      direct = true;
      for (const auto& v : a.index_vars) indexing.insert(v.begin(), v.end());
    }
  // Readers placed inside the target bound the depth: the producer must run before them.
  size_t max_pos = t->leaves.size();
  for (const auto& r : readers) {
    std::string cur = r;
    for (size_t guard = 0; guard <= nest_.stages.size() && cur != target; ++guard) {
      const StageInfo* c = nest_.find(cur);
      if (!c || c->at_root()) break;
      if (c->sched->attach.stage == target) {
        for (size_t i = 0; i < t->leaves.size(); ++i)
          if (t->leaves[i].name == c->sched->attach.loop) max_pos = std::min(max_pos, i + 1);
        break;
      }
      cur = c->sched->attach.stage;
    }
  }
  for (size_t i = 0; i < std::min(max_pos, t->leaves.size()); ++i) {
    const LoopInfo& l = t->leaves[i];
    if (l.kind == ir::ForKind::Vectorized || l.bind == ir::BindLevel::Vector) break;
    if (direct && !std::includes(indexing.begin(), indexing.end(), l.roots.begin(), l.roots.end())) break;
    add({"compute_at", s.name, call("compute_at", {s.name, target, l.name}),
         s.name + " is computed at the root and read only inside " + target +
             "; compute it per iteration of " + target + "'s loop " + l.name + " (" +
             std::to_string(l.extent) + ") so that it stays in cache",
         0.3});
  }
}

// An elementwise consumer at the root of a stage whose loops are tiled: compute it inside the
// producer's tile, right after the tile is written (dense_gelu.sched).
void Reasoner::fuse_epilogue(const StageInfo& s) {
  if (!s.at_root() || s.has_reduction() || !s.stage) return;
  for (const Access& a : s.reads) {
    const StageInfo* p = nest_.find(a.tensor);
    if (!p || !p->at_root() || p->sched->relations.empty()) continue;
    for (size_t i = 0; i + 1 < p->leaves.size(); ++i) {
      const LoopInfo& l = p->leaves[i];
      if (l.reduce || l.kind == ir::ForKind::Vectorized) break;
      add({"reverse_compute_at", s.name, call("reverse_compute_at", {s.name, p->name, l.name}),
           s.name + " (elementwise) reads " + p->name + " after the whole of it is written; compute it in " +
               p->name + "'s tile loop " + l.name + " while the tile is still in L1 (" +
               bytes_text(hw_.l1_bytes) + ")",
           0.3});
    }
    return;
  }
}

void Reasoner::inline_stage(const StageInfo& s) {
  if (!s.at_root() || s.has_reduction() || s.is_output || !s.stage) return;
  if (!steps_of(s.name).empty() || !s.placed_here.empty()) return;
  // Inlining recomputes the stage for every reader iteration that does not index it.
  for (const std::string& r : schedule::readers_of(in_.state.workload(), s.name)) {
    const StageInfo* ri = nest_.find(r);
    if (!ri || !ri->stage) return;
    std::set<std::string> idx;
    for (const Access& a : ri->reads)
      if (a.tensor == s.name)
        for (const auto& v : a.index_vars) idx.insert(v.begin(), v.end());
    for (const auto& ax : ri->stage->axes)
      if (ax.extent > 1 && !idx.count(ax.name)) return;
    for (const auto& ax : ri->stage->reduce_axes)
      if (ax.extent > 1 && !idx.count(ax.name)) return;
  }
  add({"inline", s.name, call("compute_inline", {s.name}),
       s.name + " is elementwise and not an output: inline it into its readers (no buffer of " +
           bytes_text(static_cast<double>(s.elem_bytes) *
                      [&] {
                        double n = 1;
                        for (const auto& ax : s.stage->axes) n *= static_cast<double>(ax.extent);
                        return n;
                      }()) +
           ")",
       0.05});
}

// A register tile reads an operand whose panel is reused by many tiles: copy the panel once into a
// contiguous heap buffer at an outer loop (matmul.sched: cache_read(B, heap, C.local)).
void Reasoner::pack(const StageInfo& s) {
  if (s.name.size() < 7 || s.name.compare(s.name.size() - 6, 6, ".local") != 0) return;
  if (s.at_root() || !s.has_reduction()) return;
  const std::string owner = s.sched->attach.stage;
  const StageInfo* o = nest_.find(owner);
  if (!o) return;
  const std::string col = s.contiguous_axis();
  const std::string attach_loop = s.sched->attach.loop;
  for (const Access& a : s.reads) {
    const ir::Tensor* t = in_.state.workload().find_tensor(a.tensor);
    if (!t || t->shape.size() < 2 || in_.state.workload().find_stage(a.tensor)) continue;
    if (nest_.find(a.tensor + ".heap")) continue;
    if (!a.depends_on(col)) continue;
    double bytes = static_cast<double>(t->num_elements()) * s.elem_bytes;
    // A sliding-window read (an index of two or more variables, e.g. p + r - 1): padding checks.
    bool window = false;
    for (const auto& v : a.index_vars) window = window || v.size() >= 2;
    // Small operands stay in cache anyway; a padded window gains check-free loads whatever its size.
    const double prior = bytes > hw_.l2_bytes / 2 || window ? 0.1 : -0.3;
    for (size_t i = 0; i < o->leaves.size(); ++i) {
      const LoopInfo& l = o->leaves[i];
      if (l.kind == ir::ForKind::Vectorized) break;
      // Worth it only when a loop inside this one (up to the tile) does not move the panel.
      bool reused_inside = false;
      for (size_t j = i + 1; j < o->leaves.size() && l.name != attach_loop; ++j) {
        bool indep = o->leaves[j].extent > 1;
        for (const auto& ax : o->leaves[j].roots)
          if (a.depends_on(ax)) indep = false;
        if (indep) reused_inside = true;
        if (o->leaves[j].name == attach_loop) break;
      }
      // The tile's loop or the one just outside it, for a window read (padding checks in the loads).
      const bool around_tile = window && (l.name == attach_loop ||
                                          (i + 1 < o->leaves.size() && o->leaves[i + 1].name == attach_loop));
      if (!reused_inside && !around_tile) {
        if (l.name == attach_loop) break;
        continue;
      }
      const std::string base = call("cache_read", {a.tensor, "heap", s.name}) + "\n" +
                               call("compute_at", {a.tensor + ".heap", owner, l.name}) + "\n";
      const std::string why =
          reused_inside
              ? s.name + " reads " + a.tensor + " (" + bytes_text(bytes) + ", L2 " +
                    bytes_text(static_cast<double>(hw_.l2_bytes)) +
                    ") with a stride across tiles; pack its panel into a contiguous heap buffer once per " +
                    owner + "." + l.name
              : s.name + " reads " + a.tensor +
                    " through a sliding window with padding checks; a zero-padded copy "
                    "per " +
                    owner + "." + l.name + " makes the tile's loads contiguous and check-free";
      add({"pack", s.name,
           base + "vectorize(" + a.tensor + ".heap, ax" + std::to_string(t->shape.size() - 1) + ")", why,
           prior});
      add({"pack", s.name, base, why, prior});
      if (l.name == attach_loop) break;
    }
  }
}

// Small loops that are not unrolled: the rows of a register tile, a 3x3 filter window.
void Reasoner::unroll(const StageInfo& s) {
  if (s.leaves.size() < 2) return;
  bool seen_reduce = false;
  for (size_t i = 0; i + 1 < s.leaves.size(); ++i) {
    const LoopInfo& l = s.leaves[i];
    const bool outer_reduce = l.reduce && !seen_reduce;
    seen_reduce = seen_reduce || l.reduce;
    if (l.annotated() || l.extent < 2) continue;
    // A small inner reduction loop (a 3x3 window) of a placed stage (whose spatial extents are only
    // known when lowered), or the split rows right outside a vectorized innermost loop.
    const bool window = !s.at_root() && l.reduce && !outer_reduce && l.extent <= 8;
    const bool tile_rows = s.at_root() && !l.reduce && l.extent <= 16 && i + 2 == s.leaves.size() &&
                           s.leaves.back().kind == ir::ForKind::Vectorized &&
                           l.name.find('.') != std::string::npos && [&] {
                             // Rows of another axis than the vector's (not an outer part of the row).
                             for (const auto& r : l.roots)
                               if (s.leaves.back().roots.count(r)) return false;
                             return true;
                           }();
    if (!window && !tile_rows) continue;
    add({"unroll", s.name + "." + l.name, call("unroll", {s.name, l.name}),
         s.name + ": loop " + l.name + " has only " + std::to_string(l.extent) + " iterations; unroll it",
         -0.05});
  }
}

// Tile sizes of existing splits, in both directions.
void Reasoner::tile_sizes() {
  for (size_t i = 0; i < steps_.size(); ++i) {
    const auto& st = steps_[i];
    if (st.primitive != Primitive::Split) continue;
    const std::vector<int64_t> factors = st.factors(2);
    if (factors.size() < 2) continue;
    const std::string& stage = st.name(0);
    const std::string& loop = st.name(1);
    if (streaming_.count(stage)) continue;
    const StageInfo* s = nest_.find(stage);
    int64_t extent = 0;
    if (!attempt(failures_, "heuristic proposer: extent before a split", [&] {
          schedule::State before = apply_action(in_.state, [&] {
            std::string a;
            for (size_t j = i; j < steps_.size(); ++j) a += std::to_string(j + 1) + ": delete\n";
            return a;
          }());
          extent = before.loop_extent(stage, loop);
        }))
      continue;
    const int L = s ? lanes(*s) : nest::lanes_for(hw_, 4);
    const size_t last = factors.size() - 1;
    const int64_t f = factors[last];
    const bool vec = s && [&] {
      const LoopInfo* l = s->leaf(loop + "." + std::to_string(last));
      return l && l->kind == ir::ForKind::Vectorized;
    }();
    int64_t outer_inner = 1;
    for (size_t k = 1; k < last; ++k) outer_inner *= factors[k];
    for (int64_t g : tweak_factors(f, extent / std::max<int64_t>(outer_inner, 1), vec, L)) {
      std::vector<int64_t> inner(factors.begin() + 1, factors.end());
      inner.back() = g;
      add({"tile_size", stage + "." + loop, std::to_string(i + 1) + ": " + split_text(stage, loop, inner),
           stage + ": tile of " + loop + " (extent " + std::to_string(extent) + ") from " +
               std::to_string(f) + " to " + std::to_string(g) +
               (g > f ? " (more reuse per tile)" : " (smaller working set)"),
           -0.1});
    }
  }
}

// A memory-bound reduction (the design space's streaming rule, docs/search.md): from any other
// structure, the streaming kernel of the design space (the whole trace replaced: blocks of rows of
// the operand read once, streamed over the output width); on a streaming nest, the block of rows
// (4, 8, 16), the vector tile (32, 64, 128) and the full width against two width blocks.
void Reasoner::stream(const StageInfo& s) {
  const detail::StageFacts* f = facts_.find(s.name);
  if (!f || !f->streamable || !s.at_root()) return;
  const ir::IndexVar& jv = f->spatial[static_cast<size_t>(f->vector_axis)];
  const ir::IndexVar& kv = f->reduce[static_cast<size_t>(f->stream_reduce)];
  // The streaming shape: the loops over j and k (a fused loop counts as the axes it iterates)
  // alternate j, k, j, k, j from the outside in, the innermost loop over j.
  std::string shape;
  for (const LoopInfo& l : s.leaves) {
    if (l.roots.count(kv.name))
      shape += 'k';
    else if (l.roots.count(jv.name))
      shape += 'j';
  }
  const bool streaming = shape == "jkjkj" && !s.leaves.empty() && s.leaves.back().roots.count(jv.name) &&
                         !nest_.find(s.name + ".local");
  if (streaming) streaming_.insert(s.name);
  const std::string why = s.name + " is memory bound (each element of " + f->stream_operand +
                          " serves at most " + std::to_string(detail::kMaxStreamReuse) + " outputs)";
  if (!streaming) {
    if (!space_) return;
    std::string clear;
    for (size_t i = 0; i < steps_.size(); ++i) clear += std::to_string(i + 1) + ": delete\n";
    for (size_t k = 0; k < space_->sketches().size(); ++k) {
      const std::string& name = space_->sketches()[k].name;
      if (name.find("stream(" + s.name + ")") == std::string::npos &&
          name.find("stream_staged(" + s.name + ")") == std::string::npos)
        continue;
      for (int draw = 0; draw < 2; ++draw) {
        const Candidate c = space_->sample_sketch(k, rng_);
        if (c.rationale.find("fallback") != std::string::npos) continue;
        add({"stream", s.name, clear + c.trace,
             why + ": stream blocks of rows of " + f->stream_operand + " over the output width (" + name +
                 ")",
             1.0});
      }
    }
    return;
  }
  int64_t row_bytes = s.elem_bytes;
  for (int a : f->stream_rows) row_bytes *= f->spatial[static_cast<size_t>(a)].extent;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const schedule::Step& st = steps_[i];
    if (st.primitive != Primitive::Split || st.name(0) != s.name) continue;
    const std::vector<int64_t> factors = st.factors(2);
    const std::string replace = std::to_string(i + 1) + ": ";
    if (st.name(1) == kv.name && factors.size() == 2) {
      for (int64_t kb : {4, 8, 16})
        if (kb != factors[1] && kv.extent % kb == 0)
          add({"stream_block", s.name, replace + split_text(s.name, kv.name, {kb}),
               why + ": stream " + std::to_string(kb) + " rows of " + f->stream_operand +
                   " at a time (from " + std::to_string(factors[1]) + ")",
               0.1});
    }
    if (st.name(1) != jv.name || factors.size() != 3) continue;
    const int64_t vw = factors[2], tiles = jv.extent / std::max<int64_t>(vw, 1);
    const bool full = factors[1] * vw >= jv.extent;
    for (int64_t w : {32, 64, 128})
      if (w != vw && w % lanes(s) == 0 && jv.extent % w == 0)
        add({"stream_width", s.name, replace + split_text(s.name, jv.name, {jv.extent / w, w}),
             why + ": the full width of " + jv.name + " in vector tiles of " + std::to_string(w), 0.1});
    if (!full && jv.extent % vw == 0)
      add({"stream_width", s.name, replace + split_text(s.name, jv.name, {tiles, vw}),
           why + ": one block over the full width of " + jv.name + " (" + bytes_text(jv.extent * row_bytes) +
               " of output)",
           0.1});
    if (full && tiles % 2 == 0)
      add({"stream_width", s.name, replace + split_text(s.name, jv.name, {tiles / 2, vw}),
           why + ": two width blocks of " + std::to_string(tiles / 2 * vw) + " (" +
               bytes_text(tiles / 2 * vw * row_bytes) + " of output each)",
           0.0});
  }
}

// Placements of the trace moved one loop outward or inward (a larger or smaller region per
// iteration: more reuse against a larger working set).
void Reasoner::compute_locations() {
  for (size_t i = 0; i < steps_.size(); ++i) {
    const auto& st = steps_[i];
    if (st.primitive != Primitive::ComputeAt && st.primitive != Primitive::ReverseComputeAt) continue;
    const std::string& stage = st.name(0);
    const std::string& target = st.name(1);
    const StageInfo* t = nest_.find(target);
    if (!t) continue;
    for (size_t p = 0; p < t->leaves.size(); ++p) {
      if (t->leaves[p].name != st.name(2)) continue;
      for (int d : {-1, 1}) {
        if ((d < 0 && p == 0) || p + d >= t->leaves.size()) continue;
        const LoopInfo& l = t->leaves[p + d];
        if (l.kind == ir::ForKind::Vectorized) continue;
        if (d > 0 && st.primitive == Primitive::ComputeAt && !indexes(*t, stage, l))
          continue;  // recomputation
        add({"compute_location", stage, std::to_string(i + 1) + ": " + placed_at(st, l.name),
             stage + ": move from " + target + "." + st.name(2) + " to the " + (d < 0 ? "outer" : "inner") +
                 " loop " + l.name + " (" + std::to_string(l.extent) + " iterations): " +
                 (d < 0 ? "more reuse per computation, larger buffer"
                        : "smaller buffer, stays in a closer cache"),
             -0.15});
      }
    }
  }
}

// The best program of the task has annotations or placements that this node lacks: adopt them
// (only steps that do not re-tile, so that they fit the node's loops).
void Reasoner::from_best() {
  if (!in_.best || in_.best->trace.empty()) return;
  const double node = in_.history.empty() ? kNaN : in_.history[0].gflops;
  const double best = in_.best->gflops;
  if (std::isfinite(node) && std::isfinite(best) && node >= best) return;
  std::set<std::string> mine;
  for (const auto& st : steps_) mine.insert(schedule::to_text(st));
  for (const std::string& t : nest::trace_steps(in_.best->trace)) {
    const std::optional<schedule::Step> st = nest::parse_step(t);
    if (!st) continue;
    const std::string text = schedule::to_text(*st);
    if (mine.count(text)) continue;
    static const std::set<Primitive> kAdoptable = {
        Primitive::Parallel,         Primitive::Vectorize,     Primitive::Unroll, Primitive::ComputeAt,
        Primitive::ReverseComputeAt, Primitive::ComputeInline, Primitive::Bind,   Primitive::CacheRead};
    if (!kAdoptable.count(st->primitive)) continue;
    add({"from_best", text, text,
         "the best program so far" +
             (std::isfinite(best) ? " (" + fmt(best, 1) + " GFLOP/s)" : std::string()) + " has `" + text +
             "`, this one does not: adopt it",
         0.1});
  }
}

// A GPU execution space: the outer loops go to the league of a TeamPolicy, the next one to the
// team's threads (bind) instead of a CPU parallel loop.
void Reasoner::bind_gpu(const StageInfo& s) {
  if (!s.at_root() || s.has_parallel() || s.leaves.size() < 2) return;
  if (s.sched->scope == ir::MemScope::Local) return;
  std::vector<const LoopInfo*> spatial;
  for (size_t i = 0; i + 1 < s.leaves.size(); ++i) {
    if (s.leaves[i].reduce || s.leaves[i].annotated()) break;
    spatial.push_back(&s.leaves[i]);
  }
  if (spatial.empty()) return;
  std::string a = call("bind", {s.name, spatial[0]->name, "league"});
  std::string why = s.name + ": " + in_.hardware.execution_space + " execution space; " + spatial[0]->name +
                    " (" + std::to_string(spatial[0]->extent) + ") to the league";
  if (spatial.size() >= 2) {
    a += "\n" + call("bind", {s.name, spatial[1]->name, "team"});
    why += ", " + spatial[1]->name + " (" + std::to_string(spatial[1]->extent) + ") to the team's threads";
  }
  add({"bind", s.name, a, why, 0.2});
}

// The measured history: slower than the parent -> adjust or undo what the last action changed;
// faster -> push the changed tile size further in the same direction.
void Reasoner::history() {
  if (in_.history.size() < 2) return;
  const ProgramView& node = in_.history[0];
  const ProgramView& parent = in_.history[1];
  double a = node.gflops, b = parent.gflops;
  if (!std::isfinite(a) || !std::isfinite(b)) a = node.predicted, b = parent.predicted;
  if (!std::isfinite(a) || !std::isfinite(b) || b <= 0) return;
  const bool slower = a<0.97 * b, faster = a> 1.03 * b;
  if (!slower && !faster) return;
  const std::vector<std::string> ptrace = nest::trace_steps(parent.trace);
  std::vector<int> changed;  // 1-based step numbers of the node's trace
  for (size_t i = 0; i < steps_.size(); ++i) {
    if (i >= ptrace.size() || ptrace[i] != schedule::to_text(steps_[i]))
      changed.push_back(static_cast<int>(i) + 1);
  }
  if (changed.empty()) return;
  const std::string ratio = fmt(a / b, 2);
  for (int n : changed) {
    const auto& st = steps_[n - 1];
    const std::optional<schedule::Step> pst =
        static_cast<size_t>(n - 1) < ptrace.size() ? nest::parse_step(ptrace[n - 1]) : std::nullopt;
    const std::vector<int64_t> factors =
        st.primitive == Primitive::Split ? st.factors(2) : std::vector<int64_t>{};
    if (st.primitive == Primitive::Split && factors.size() >= 2) {
      const int64_t f = factors.back();
      std::vector<int64_t> targets;
      if (pst && pst->primitive == Primitive::Split && pst->name(0) == st.name(0) &&
          pst->name(1) == st.name(1) && pst->factors(2).size() == factors.size()) {
        const int64_t pf = pst->factors(2).back();
        if (slower)
          targets.push_back(f > pf ? std::max<int64_t>(1, pf / 2) : pf * 2);
        else
          targets.push_back(f > pf ? f * 2 : std::max<int64_t>(1, f / 2));
      } else {
        targets = {std::max<int64_t>(1, f / 2), f * 2};
      }
      for (int64_t g : targets) {
        if (g == f) continue;
        std::vector<int64_t> inner(factors.begin() + 1, factors.end());
        inner.back() = g;
        add({"history", st.name(0) + "." + st.name(1),
             std::to_string(n) + ": " + split_text(st.name(0), st.name(1), inner),
             std::string("the last change (step ") + std::to_string(n) + ") made the node x" + ratio +
                 " of its parent; " + (slower ? "try the other direction" : "push further") + ": tile " +
                 std::to_string(f) + " -> " + std::to_string(g),
             slower ? 100.0 : 0.5});
      }
    } else if (slower &&
               (st.primitive == Primitive::ComputeAt || st.primitive == Primitive::ReverseComputeAt)) {
      const StageInfo* t = nest_.find(st.name(1));
      if (t)
        for (const LoopInfo& l : t->leaves) {
          if (l.name == st.name(2) || l.kind == ir::ForKind::Vectorized) continue;
          add({"history", st.name(0), std::to_string(n) + ": " + placed_at(st, l.name),
               std::string("the last change (step ") + std::to_string(n) + ") made the node x" + ratio +
                   "; place " + st.name(0) + " at " + st.name(1) + "." + l.name + " instead of " + st.name(2),
               100.0});
        }
    }
    if (slower && (changed.size() <= 3 || n == changed.back())) {
      add({"history", "undo", std::to_string(n) + ": delete",
           std::string("the last change made the node x") + ratio + " of its parent; drop step " +
               std::to_string(n) + " `" + schedule::to_text(st) + "`",
           99.0});
    }
  }
}

void Reasoner::learn_failures() {
  for (const FailedProposal& f : in_.failed) {
    try {
      failed_actions_.insert(to_text(parse_action(f.action)));
    } catch (const ActionError&) {
      failed_actions_.insert(f.action);  // another proposer's action that did not parse
    }
    // "step 4 `vectorize(C, k)`: ..." names the illegal step.
    size_t b = f.error.find('`');
    size_t e = b == std::string::npos ? std::string::npos : f.error.find('`', b + 1);
    if (e != std::string::npos) {
      std::string c = nest::canonical_step(f.error.substr(b + 1, e - b - 1));
      if (!c.empty()) failed_steps_.insert(c);
    } else {
      // Failed when measured (compile error, wrong result, timeout): its steps are suspects.
      try {
        for (const Edit& ed : parse_action(f.action))
          if (!ed.text.empty()) suspect_steps_.insert(ed.text);
      } catch (const ActionError&) {
        // an action that did not parse names no step
      }
    }
  }
}

// ---------------------------------------------------------------- ranking

std::vector<Proposal> Reasoner::run() {
  learn_failures();
  const nest::Evaluation base = nest::evaluate_state(in_.state, hw_);
  if (in_.best && std::isfinite(in_.best->gflops) && in_.history.size() >= 1 &&
      std::isfinite(in_.history[0].gflops) && in_.history[0].gflops < 0.5 * in_.best->gflops)
    structural_bonus_ = 0.2;  // far from the best: structural changes over parameter tweaks

  // A diagnosis that does not understand the state says nothing (its failure is counted); the
  // others still speak.
  auto guarded = [&](const char* diagnosis, auto&& diagnose) { attempt(failures_, diagnosis, diagnose); };
  guarded("heuristic proposer: history", [&] { history(); });
  for (const StageInfo& s : nest_.stages) {
    if (!s.stage) continue;
    guarded("heuristic proposer: register_tile", [&] { register_tile(s); });
    guarded("heuristic proposer: rfactor", [&] { rfactor(s); });
    guarded("heuristic proposer: vectorize", [&] { vectorize(s); });
    guarded("heuristic proposer: parallel", [&] { gpu() ? bind_gpu(s) : parallel(s); });
    guarded("heuristic proposer: place_producer", [&] { place_producer(s); });
    guarded("heuristic proposer: fuse_epilogue", [&] { fuse_epilogue(s); });
    guarded("heuristic proposer: inline_stage", [&] { inline_stage(s); });
    guarded("heuristic proposer: pack", [&] { pack(s); });
    guarded("heuristic proposer: unroll", [&] { unroll(s); });
    guarded("heuristic proposer: stream", [&] { stream(s); });
  }
  guarded("heuristic proposer: tile_sizes", [&] { tile_sizes(); });
  guarded("heuristic proposer: compute_locations", [&] { compute_locations(); });
  guarded("heuristic proposer: from_best", [&] { from_best(); });

  // Evaluate, drop illegal / failed / no-op alternatives, keep each group's best.
  std::map<std::pair<std::string, std::string>, Scored> best;
  std::vector<Scored> all;
  std::set<uint64_t> seen_hash;
  const double base_score = base.legal && base.score > 0 ? base.score : 1.0;
  for (Idea& idea : ideas_) {
    std::string canon;
    std::vector<Edit> edits;
    if (!attempt(failures_, "heuristic proposer: parsing an idea", [&] {
          edits = parse_action(idea.action);
          canon = to_text(edits);
        }))
      continue;
    if (failed_actions_.count(canon)) continue;
    bool bad = false;
    double penalty = 0;
    for (const Edit& e : edits) {
      if (failed_steps_.count(e.text)) bad = true;
      if (suspect_steps_.count(e.text)) penalty += 0.5;
    }
    if (bad) continue;
    idea.action = canon;
    Scored sc;
    if (!attempt(failures_, "heuristic proposer: applying an idea",
                 [&] { sc.eval = nest::evaluate_state(apply_action(in_.state, canon), hw_); }))
      continue;
    if (!sc.eval.legal) {
      ++failures_.illegal;  // it does not lower
      continue;
    }
    if (base.legal && sc.eval.hash == base.hash) continue;
    const bool structural = idea.kind != "tile_size" && idea.kind != "unroll" && idea.kind != "history" &&
                            idea.kind != "compute_location";
    // Register occupancy, which the roofline does not see: a local tile (accumulators) that fills
    // the register budget reuses each load more; one beyond it spills.
    double occupancy = 0;
    if (base.max_local_bytes > 0 && sc.eval.max_local_bytes > 0 &&
        base.max_local_bytes != sc.eval.max_local_bytes) {
      const double budget = accumulator_budget();
      auto occ = [&](int64_t bytes) {
        const double r = std::max(1.0, static_cast<double>(bytes) / std::max(hw_.vector_bytes, 1));
        return r <= budget ? std::log2(r) : std::log2(budget) - 2 * std::log2(r / budget);
      };
      occupancy = 0.1 * (occ(sc.eval.max_local_bytes) - occ(base.max_local_bytes));
    }
    sc.key = std::log(std::max(sc.eval.score, 1e-12) / base_score) + idea.prior - penalty + occupancy +
             (structural ? structural_bonus_ : 0) + 0.01 * uniform_real(rng_);
    sc.idea = idea;
    auto k = std::make_pair(idea.kind, idea.subject);
    auto it = best.find(k);
    if (it == best.end() || sc.key > it->second.key) best[k] = sc;
    all.push_back(std::move(sc));
  }
  std::vector<Scored> groups;
  for (auto& [k, v] : best) groups.push_back(v);
  std::stable_sort(groups.begin(), groups.end(),
                   [](const Scored& a, const Scored& b) { return a.key > b.key; });
  std::stable_sort(all.begin(), all.end(), [](const Scored& a, const Scored& b) { return a.key > b.key; });

  std::vector<Proposal> out;
  std::set<std::string> kinds;
  std::set<std::pair<std::string, std::string>> used_groups;
  auto take = [&](const Scored& s) {
    if (static_cast<int>(out.size()) >= in_.count || seen_hash.count(s.eval.hash)) return;
    seen_hash.insert(s.eval.hash);
    kinds.insert(s.idea.kind);
    used_groups.insert({s.idea.kind, s.idea.subject});
    const double gain = s.eval.score / base_score;
    out.push_back({s.idea.action, s.idea.rationale + " (model: x" + fmt(gain, 2) + ")"});
  };
  for (const Scored& g : groups)  // one per kind
    if (!kinds.count(g.idea.kind)) take(g);
  for (const Scored& g : groups)  // then other subjects of the same kinds
    if (!used_groups.count({g.idea.kind, g.idea.subject})) take(g);
  for (const Scored& g : all) take(g);  // then other alternatives

  // Nothing left to say: the design space's parameter mutations.
  for (int tries = 0; space_ && static_cast<int>(out.size()) < in_.count && tries < 4 * in_.count; ++tries) {
    std::optional<Mutation> m = space_->mutate(in_.state, rng_);
    if (!m) break;
    std::string canon;
    if (!attempt(failures_, "heuristic proposer: parsing a mutation",
                 [&] { canon = to_text(parse_action(m->action)); }))
      continue;
    if (failed_actions_.count(canon) || seen_hash.count(m->candidate.hash)) continue;
    seen_hash.insert(m->candidate.hash);
    out.push_back({canon, std::string("nothing else to fix here; design-space ") +
                              mutation_kind_name(m->kind) + " mutation"});
  }
  return out;
}

class HeuristicProposer final : public Proposer {
 public:
  explicit HeuristicProposer(const DesignSpace* space) : space_(space) {}
  std::string name() const override { return "heuristic"; }
  std::vector<Proposal> propose(const ProposerInput& in, Rng& rng) override {
    if (in.count <= 0) return {};
    std::vector<Proposal> out;
    attempt(failures_, "heuristic proposer", [&] { out = Reasoner(in, space_, rng, failures_).run(); });
    return out;
  }

 private:
  const DesignSpace* space_;
};

}  // namespace

std::unique_ptr<Proposer> make_heuristic_proposer(const DesignSpace* space) {
  return std::make_unique<HeuristicProposer>(space);
}

}  // namespace rctune::search
