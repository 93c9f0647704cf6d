// Lowering a schedule state to the loop-nest IR (in the manner of TVM's schedule_ops).
//
// Per stage:
//  - loops: the stage's leaves in order. A loop variable is named after its loop ("i.0"); when one of
//    a stage's leaf names is already used by a loop that encloses the stage (compute_at nests), all
//    of that stage's loops are prefixed with the stage name ("C.local.i"), so names stay unique along
//    every path from the kernel's root and readable.
//  - root axis values are rebuilt from the leaves through the relations, last relation first:
//    split parent = sum_c child_c * prod(extents of later children), fuse parents by div/mod.
//  - guards: a loop that may run past its extent (the parent of a non-dividing split, directly or
//    through the outer children and fused loops derived from it) is checked where that can no longer
//    be seen further up (a root axis or the inner child of a split); a stage placed with compute_at
//    whose region may leave its tensor's shape checks its root values against the shape. Each check
//    is placed just inside the innermost loop its condition uses.
//  - reductions: the identity is stored before the outermost reduction leaf (or before
//    init_before), in its own loops over the spatial leaves from that point inwards.
//  - compute_at: the stage is computed at the beginning of the attach loop's body over the region its
//    readers inside that loop touch in one iteration; an intermediate tensor is allocated there with
//    the region's extents and every access is rebased by the region's base.
//  - reverse_compute_at: the (elementwise) stage is computed at the end of the attach loop's body over
//    the region of the producer that one iteration wrote.
//  - compute_inline: the stage's body is substituted into its readers.
//  - padding: a read whose index may leave the tensor's shape (bound of the index over the stage's
//    axes) becomes select(in_bounds, read, 0), unless it reads the buffer of a padded stage (below)
//    and provably stays inside that buffer's region, which then holds the zero padding itself. So a
//    read carries a select only when its index may leave the buffer it actually reads.
//  - padded stages: a stage without a reduction placed with compute_at (a cache_read copy, an
//    elementwise producer) covers the whole region its readers read in one iteration, even where it
//    reaches past its tensor's shape (a convolution's halo), and writes every element of it:
//    select(in_shape, value, 0). No `if` leaves part of its buffer unwritten. A stage with a
//    reduction keeps its region clipped to the shape (a guard skips the elements outside it and its
//    readers keep the select).
//  - loops of extent 1 are left out (their variable is 0 in every index, guard and region), except
//    parallel loops and loops bound to a Kokkos level, which keep the kernel's parallel structure.
//  - a check of an enclosing stage is not repeated inside a stage placed under it.
//
// Order: stages run in workload order at the root; a stage placed at a loop runs before (compute_at)
// or after (reverse_compute_at) that loop's body. A state in which a stage would read a tensor before
// it is computed, or inside the loops that compute it (other than a reverse_compute_at stage placed
// directly there), is rejected with a ScheduleError.
//
// Buffers: the tensors of the workload as defined (State::original_workload_ptr(), declaration
// order) are the kernel's parameters, intermediates included, as the kernel ABI requires. A stage
// placed with compute_at whose tensor is not an output gets a buffer of its region's shape at the
// attach point (same name, scope Local when the stage says Global), shadowing the parameter of that
// name if there is one. Tensors that scheduling created (cache stages) and that are not placed with
// compute_at are allocated at the kernel's top with their full shape (scope Heap when the stage says
// Global).
#include "rctune/schedule/lower.h"

#include "rctune/ir/limits.h"

#include <xxhash.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "rctune/ir/analysis.h"
#include "rctune/schedule/bound_inference.h"
#include "rctune/schedule/error.h"

namespace rctune::schedule {

using ir::BinOp;
using ir::Expr;
using ir::Stmt;
using ir::VarBinding;
using ir::VarRange;

namespace {

struct Guard {
  Expr cond;
  int level = -1;       // leaf position just inside which the check goes; -1: around the whole nest
  bool spatial = true;  // uses no reduction leaf (applies to the reduction's initialisation too)
};

enum class BufKind { Param, AllocRoot, AllocAttach, None };

struct Info {
  int idx = 0;
  const ir::Stage* st = nullptr;
  const StageSchedule* sch = nullptr;
  const ir::Tensor* tensor = nullptr;
  size_t nsp = 0, nred = 0;
  Attach::Kind kind = Attach::Kind::Root;
  int parent = -1, parent_pos = -1;
  std::vector<std::vector<int>> at_children, rev_children;  // per leaf position
  std::vector<std::string> leaf_names;                      // final loop variable names
  std::vector<VarRange> axis_ranges;                        // axes then reduce axes (workload names)
  Expr eff;                                                 // body with inlining and padding
  int64_t eff_nodes = 0;                                    // nodes of eff, counted as a tree
  // region
  int region_state = 0;  // 0 not done, 1 in progress, 2 done
  std::vector<int64_t> root_ext;
  std::vector<Expr> base;
  std::vector<int64_t> loop_ext;
  std::vector<Expr> loop_val;
  std::vector<Expr> root_val;
  std::vector<Guard> guards;
  // buffer
  BufKind buf = BufKind::None;
  bool rebased = false;
  // An elementwise stage placed with compute_at: its region is the one its readers read, even where
  // that leaves its tensor's shape, and it writes 0 there (pad_conds false), so that the buffer
  // holds the tensor's zero padding and reads inside the region need no padding select.
  bool padded = false;
  std::vector<Expr> pad_conds;  // conjunction: the root values are inside the tensor's shape
  std::vector<Expr> buf_base;
  ir::BufferDecl decl;
};

std::string attach_text(const Info& s) {
  const Attach& a = s.sch->attach;
  std::string k = a.kind == Attach::Kind::At ? "compute_at" : "reverse_compute_at";
  return k + "(" + s.st->output + ", " + a.stage + ", " + a.loop + ")";
}

class Lowerer {
 public:
  explicit Lowerer(const State& state) : state_(state), w_(state.workload()) {}

  ir::LoweredFunc run() {
    setup();
    build_tree();
    for (auto& s : infos_)
      if (s.kind != Attach::Kind::Inline && s.parent < 0) assign_names(s.idx, {});
    for (auto& s : infos_)
      if (s.kind != Attach::Kind::Inline) compute_region(s.idx);
    check_order();
    assign_buffers();

    std::vector<Stmt> stmts;
    for (auto& s : infos_)
      if (s.kind == Attach::Kind::Root) stmts.push_back(emit_stage(s.idx, {}));
    Stmt body = ir::make_seq(std::move(stmts));
    for (auto it = infos_.rbegin(); it != infos_.rend(); ++it)
      if (it->buf == BufKind::AllocRoot) body = ir::make_allocate(it->decl, body);

    ir::LoweredFunc f;
    f.name = w_.name;
    for (const auto& t : param_workload().tensors)
      f.params.push_back(ir::BufferDecl{t.name, t.dtype, t.shape, ir::MemScope::Global});
    f.outputs = w_.outputs;
    f.body = body;
    return f;
  }

 private:
  const State& state_;
  const ir::Workload& w_;
  std::vector<Info> infos_;
  std::map<std::string, int> by_name_;

  [[noreturn]] void fail(const std::string& msg) const {
    throw ScheduleError("lower(" + w_.name + "): " + msg);
  }

  // The kernel's parameters are the tensors of the workload as defined (before scheduling added
  // cache stages), so that the kernel and the reference take the same buffers.
  const ir::Workload& param_workload() const {
    auto o = state_.original_workload_ptr();
    return o ? *o : w_;
  }

  int info_of(const std::string& tensor) const {
    auto it = by_name_.find(tensor);
    return it == by_name_.end() ? -1 : it->second;
  }

  // ------------------------------------------------------------------ setup and inlining

  void setup() {
    if (state_.stages().size() != w_.stages.size())
      fail("the schedule has a different number of stages than the workload");
    infos_.resize(w_.stages.size());
    for (size_t i = 0; i < w_.stages.size(); ++i) {
      Info& s = infos_[i];
      s.idx = static_cast<int>(i);
      s.st = &w_.stages[i];
      s.sch = state_.stages()[i].get();
      if (s.sch->stage != s.st->output)
        fail("schedule stage " + s.sch->stage + " does not match workload stage " + s.st->output);
      s.tensor = w_.find_tensor(s.st->output);
      if (!s.tensor) fail("stage " + s.st->output + " writes an undeclared tensor");
      s.nsp = s.st->axes.size();
      s.nred = s.st->reduce_axes.size();
      if (s.sch->loops.size() < s.nsp + s.nred) fail("stage " + s.st->output + " has fewer loops than axes");
      for (int l : s.sch->leaves)
        if (l < 0 || static_cast<size_t>(l) >= s.sch->loops.size())
          fail("stage " + s.st->output + " has a leaf that is not one of its loops");
      for (const auto& a : s.st->axes) s.axis_ranges.push_back(VarRange{a.name, a.extent});
      for (const auto& a : s.st->reduce_axes) s.axis_ranges.push_back(VarRange{a.name, a.extent});
      s.kind = s.sch->attach.kind;
      s.at_children.resize(s.sch->leaves.size());
      s.rev_children.resize(s.sch->leaves.size());
      by_name_[s.st->output] = s.idx;
    }
    for (auto& s : infos_) {
      if (s.kind == Attach::Kind::Inline) {
        if (s.st->op != ir::ReduceOp::None)
          fail("stage " + s.st->output + " is a reduction and cannot be inlined");
        if (w_.role(s.st->output) == ir::TensorRole::Output)
          fail("stage " + s.st->output + " computes an output and cannot be inlined");
      }
      s.eff = effective_body(s);
      // Inlining copies a producer's body into every read of it: a chain of inlined stages can
      // grow a body exponentially or nest it beyond the stack. Bounded here (rctune/ir/limits.h).
      s.eff_nodes = tree_nodes(s.eff);
      const int depth = ir::expr_depth(s.eff);
      if (s.eff_nodes > kMaxInlinedNodes || depth > kMaxInlinedDepth)
        fail("stage " + s.st->output + ": with the stages inlined into it its expression has " +
             std::to_string(s.eff_nodes) + " nodes and is " + std::to_string(depth) +
             " levels deep (the limits are " + std::to_string(kMaxInlinedNodes) + " and " +
             std::to_string(kMaxInlinedDepth) + "); inline fewer stages");
    }
  }

  static constexpr int64_t kMaxInlinedNodes = 200000;
  static constexpr int kMaxInlinedDepth = 4 * ir::kMaxExprDepth;

  // Nodes of e counted as a tree (shared subtrees count each time, as visitors see them), at most
  // kMaxInlinedNodes + 1.
  static int64_t tree_nodes(const Expr& e) {
    int64_t n = 0;
    std::vector<const ir::ExprNode*> stack{e.get()};
    while (!stack.empty() && n <= kMaxInlinedNodes) {
      const ir::ExprNode* x = stack.back();
      stack.pop_back();
      if (!x) continue;
      ++n;
      if (auto l = dynamic_cast<const ir::Load*>(x)) {
        for (const auto& i : l->indices) stack.push_back(i.get());
      } else if (auto b = dynamic_cast<const ir::Binary*>(x)) {
        stack.push_back(b->a.get());
        stack.push_back(b->b.get());
      } else if (auto u = dynamic_cast<const ir::Unary*>(x)) {
        stack.push_back(u->a.get());
      } else if (auto c = dynamic_cast<const ir::Select*>(x)) {
        stack.push_back(c->cond.get());
        stack.push_back(c->then_value.get());
        stack.push_back(c->else_value.get());
      }
    }
    return n;
  }

  // The stage's body with inlined stages substituted and padding selects on reads that may leave
  // their tensor's shape, over the stage's own axis names.
  Expr effective_body(const Info& s) {
    struct Mut : ir::ExprMutator {
      Lowerer* self;
      const Info* s;
      int64_t inlined = 0;  // nodes substituted so far
      Expr mutate_load(const ir::Load& n, const Expr&) override {
        std::vector<Expr> idx;
        for (const auto& i : n.indices) idx.push_back(mutate(i));
        const ir::Tensor* t = self->w_.find_tensor(n.buffer);
        if (!t) self->fail("stage " + s->st->output + " reads undeclared tensor " + n.buffer);
        if (t->shape.size() != idx.size())
          self->fail("stage " + s->st->output + " reads " + n.buffer + " with the wrong number of indices");
        Expr value;
        int pi = self->info_of(n.buffer);
        if (pi >= 0 && self->infos_[pi].kind == Attach::Kind::Inline) {
          const Info& p = self->infos_[pi];
          inlined += p.eff_nodes;
          if (inlined > Lowerer::kMaxInlinedNodes)
            self->fail("stage " + s->st->output +
                       ": with the stages inlined into it its expression has more than " +
                       std::to_string(Lowerer::kMaxInlinedNodes) + " nodes (the limit); inline fewer stages");
          std::vector<VarBinding> b;
          for (size_t d = 0; d < p.nsp; ++d) b.push_back(VarBinding{p.st->axes[d].name, idx[d]});
          value = ir::substitute(p.eff, b);
        } else {
          value = ir::load(n.buffer, idx);
        }
        Expr cond;
        for (size_t d = 0; d < idx.size(); ++d) {
          int64_t lo = 0, hi = 0;
          Expr i = ir::simplify(idx[d], s->axis_ranges);
          bool known = ir::bound_of(i, s->axis_ranges, &lo, &hi);
          if (!known || lo < 0) {
            Expr c = ir::binary(BinOp::GE, idx[d], ir::int_imm(0));
            cond = cond ? ir::binary(BinOp::And, cond, c) : c;
          }
          if (!known || hi >= t->shape[d]) {
            Expr c = ir::binary(BinOp::LT, idx[d], ir::int_imm(t->shape[d]));
            cond = cond ? ir::binary(BinOp::And, cond, c) : c;
          }
        }
        return cond ? ir::select(cond, value, ir::float_imm(0.0)) : value;
      }
    } m;
    m.self = this;
    m.s = &s;
    return m.mutate(s.st->body);
  }

  // ------------------------------------------------------------------ placement tree and names

  void build_tree() {
    for (auto& s : infos_) {
      if (s.kind != Attach::Kind::At && s.kind != Attach::Kind::ReverseAt) continue;
      int t = info_of(s.sch->attach.stage);
      if (t < 0) fail(attach_text(s) + ": there is no stage " + s.sch->attach.stage);
      if (t == s.idx) fail(attach_text(s) + ": a stage cannot be placed inside itself");
      Info& target = infos_[t];
      if (target.kind == Attach::Kind::Inline)
        fail(attach_text(s) + ": stage " + target.st->output + " is inlined and has no loops");
      int loop = target.sch->find_loop(s.sch->attach.loop);
      if (loop < 0)
        fail(attach_text(s) + ": stage " + target.st->output + " has no loop " + s.sch->attach.loop);
      int pos = target.sch->leaf_position(loop);
      if (pos < 0)
        fail(attach_text(s) + ": loop " + s.sch->attach.loop + " of " + target.st->output +
             " no longer exists (it was split or fused)");
      s.parent = t;
      s.parent_pos = pos;
      if (s.kind == Attach::Kind::At) {
        target.at_children[static_cast<size_t>(pos)].push_back(s.idx);
      } else {
        target.rev_children[static_cast<size_t>(pos)].push_back(s.idx);
      }
    }
    for (const auto& s : infos_) {
      int cur = s.parent;
      for (size_t steps = 0; cur >= 0; ++steps) {
        if (steps > infos_.size()) fail("stage " + s.st->output + " is placed inside a cycle of stages");
        cur = infos_[static_cast<size_t>(cur)].parent;
      }
    }
  }

  void assign_names(int si, const std::set<std::string>& scope) {
    Info& s = infos_[static_cast<size_t>(si)];
    std::vector<std::string> names;
    for (int l : s.sch->leaves) names.push_back(s.sch->loops[static_cast<size_t>(l)].name);
    bool clash =
        std::any_of(names.begin(), names.end(), [&](const std::string& n) { return scope.count(n) > 0; });
    std::string prefix = s.st->output + ".";
    while (clash) {
      for (auto& n : names) n = prefix + n;
      clash =
          std::any_of(names.begin(), names.end(), [&](const std::string& n) { return scope.count(n) > 0; });
    }
    s.leaf_names = names;
    std::set<std::string> inner = scope;
    for (size_t p = 0; p < names.size(); ++p) {
      inner.insert(names[p]);
      for (int c : s.at_children[p]) assign_names(c, inner);
      for (int c : s.rev_children[p]) assign_names(c, inner);
    }
  }

  // Ranges of the loops that enclose stage s (not its own), outermost first.
  std::vector<VarRange> scope_ranges(const Info& s) const {
    if (s.parent < 0) return {};
    const Info& p = infos_[static_cast<size_t>(s.parent)];
    std::vector<VarRange> r = scope_ranges(p);
    for (int q = 0; q <= s.parent_pos; ++q) r.push_back(leaf_range(p, q));
    return r;
  }
  VarRange leaf_range(const Info& s, int pos) const {
    int l = s.sch->leaves[static_cast<size_t>(pos)];
    return VarRange{s.leaf_names[static_cast<size_t>(pos)], s.loop_ext[static_cast<size_t>(l)]};
  }
  std::vector<VarRange> own_ranges(const Info& s) const {
    std::vector<VarRange> r = scope_ranges(s);
    for (size_t p = 0; p < s.leaf_names.size(); ++p) r.push_back(leaf_range(s, static_cast<int>(p)));
    return r;
  }

  bool nested_in(int si, int ancestor) const {
    for (int cur = infos_[static_cast<size_t>(si)].parent; cur >= 0;
         cur = infos_[static_cast<size_t>(cur)].parent)
      if (cur == ancestor) return true;
    return false;
  }

  // ------------------------------------------------------------------ regions, loop values, guards

  // The body of stage s over its loop variables (root values substituted), before rebasing.
  Expr body_over_loops(const Info& s) const {
    std::vector<VarBinding> b;
    for (size_t r = 0; r < s.nsp + s.nred; ++r) b.push_back(VarBinding{s.axis_ranges[r].name, s.root_val[r]});
    return ir::substitute(s.eff, b);
  }

  void compute_region(int si) {
    Info& s = infos_[static_cast<size_t>(si)];
    if (s.region_state == 2) return;
    if (s.region_state == 1)
      fail("the placement of stage " + s.st->output + " depends on itself (circular compute_at placements)");
    s.region_state = 1;
    if (s.parent >= 0) compute_region(s.parent);

    for (const auto& a : s.st->axes) s.root_ext.push_back(a.extent);
    for (const auto& a : s.st->reduce_axes) s.root_ext.push_back(a.extent);
    s.base.assign(s.nsp + s.nred, ir::int_imm(0));
    if (s.kind == Attach::Kind::At) {
      s.padded =
          s.st->op == ir::ReduceOp::None && s.nred == 0 && w_.role(s.st->output) != ir::TensorRole::Output;
      infer_at_region(s);
    } else if (s.kind == Attach::Kind::ReverseAt) {
      infer_reverse_region(s);
    }
    // Loop extents.
    s.loop_ext.assign(s.sch->loops.size(), -1);
    for (size_t r = 0; r < s.nsp + s.nred; ++r) s.loop_ext[r] = s.root_ext[r];
    for (const auto& rel : s.sch->relations) {
      if (rel.kind == Relation::Kind::Split) {
        const SplitRel& sp = rel.split;
        if (sp.children.size() != sp.inner_factors.size() + 1)
          fail("stage " + s.st->output + " has a malformed split");
        int64_t prod = 1;
        for (auto f : sp.inner_factors) {
          if (f <= 0) fail("stage " + s.st->output + " has a split factor that is not positive");
          prod *= f;
        }
        int64_t pe = s.loop_ext[static_cast<size_t>(sp.parent)];
        s.loop_ext[static_cast<size_t>(sp.children[0])] = (pe + prod - 1) / prod;
        for (size_t c = 1; c < sp.children.size(); ++c)
          s.loop_ext[static_cast<size_t>(sp.children[c])] = sp.inner_factors[c - 1];
      } else {
        int64_t prod = 1;
        for (int p : rel.fuse.parents) prod *= s.loop_ext[static_cast<size_t>(p)];
        s.loop_ext[static_cast<size_t>(rel.fuse.child)] = prod;
      }
    }
    for (int l : s.sch->leaves)
      if (s.loop_ext[static_cast<size_t>(l)] < 1) fail("stage " + s.st->output + ": a loop has no extent");
    compute_values_and_guards(s);
    s.region_state = 2;
  }

  // compute_at: the region of s that its readers inside the attach loop touch in one iteration.
  void infer_at_region(Info& s) {
    Info& t = infos_[static_cast<size_t>(s.parent)];
    const int pos = s.parent_pos;
    std::vector<VarRange> outer = own_ranges(t);  // t's scope and all of t's leaves
    const std::vector<int64_t>& shape = s.tensor->shape;
    std::vector<Expr> lo(s.nsp), hi(s.nsp);
    std::vector<bool> full(s.nsp, false);
    bool any = false;
    for (auto& r : infos_) {
      if (r.idx == s.idx || r.kind == Attach::Kind::Inline) continue;
      if (nested_in(r.idx, s.idx)) continue;  // reads what s produced in the same iteration
      auto eff_loads = ir::load_indices_of(r.eff, s.st->output);
      if (eff_loads.empty()) continue;
      // The reader must run inside loop `pos` of t: t itself or a stage placed there (transitively).
      std::vector<int> chain;
      if (r.idx != t.idx) {
        int cur = r.idx;
        while (cur >= 0 && infos_[static_cast<size_t>(cur)].parent != t.idx) {
          chain.push_back(cur);
          cur = infos_[static_cast<size_t>(cur)].parent;
        }
        if (cur < 0 || infos_[static_cast<size_t>(cur)].parent_pos < pos)
          fail(attach_text(s) + ": stage " + r.st->output + " reads " + s.st->output +
               " outside that loop, so the region computed there would not be available to it");
        chain.push_back(cur);
      }
      for (int c : chain) compute_region(c);
      compute_region(r.idx);
      std::vector<VarRange> ranging;
      for (size_t p = static_cast<size_t>(pos) + 1; p < t.leaf_names.size(); ++p)
        ranging.push_back(leaf_range(t, static_cast<int>(p)));
      for (int c : chain) {
        const Info& ci = infos_[static_cast<size_t>(c)];
        for (size_t p = 0; p < ci.leaf_names.size(); ++p)
          ranging.push_back(leaf_range(ci, static_cast<int>(p)));
      }
      std::vector<VarRange> all = own_ranges(r);
      for (const auto& x : ranging)
        if (std::none_of(all.begin(), all.end(), [&](const VarRange& y) { return y.name == x.name; }))
          all.push_back(x);
      auto accesses = ir::load_indices_of(body_over_loops(r), s.st->output);
      Region reg = infer_region(accesses, ranging, all, shape, /*clip=*/!s.padded);
      for (size_t d = 0; d < s.nsp; ++d) {
        if (!s.padded && reg.extent[d] >= shape[d]) full[d] = true;
        if (full[d]) continue;
        Expr rlo = reg.base[d], rhi = ir::simplify(reg.base[d] + ir::int_imm(reg.extent[d] - 1), outer);
        if (!any) {
          lo[d] = rlo;
          hi[d] = rhi;
        } else {
          lo[d] = union_bound(lo[d], rlo, true, outer);
          hi[d] = union_bound(hi[d], rhi, false, outer);
        }
      }
      any = true;
    }
    if (!any) return;  // nothing reads it there: compute the whole tensor
    for (size_t d = 0; d < s.nsp; ++d) {
      if (full[d]) continue;
      const std::optional<int64_t> e = span_extent(lo[d], hi[d], outer);
      // A padded stage keeps the region its readers read, also where it reaches past the shape.
      if (s.padded ? !e : e.value_or(shape[d]) >= shape[d]) continue;
      s.root_ext[d] = std::max<int64_t>(*e, 1);
      s.base[d] = lo[d];
    }
  }

  // reverse_compute_at: the region of the producer written in one iteration of the attach loop,
  // mapped to s's axes through s's elementwise reads of the producer.
  void infer_reverse_region(Info& s) {
    const Info& p = infos_[static_cast<size_t>(s.parent)];
    const int pos = s.parent_pos;
    if (s.st->op != ir::ReduceOp::None)
      fail(attach_text(s) + ": only an elementwise stage can be placed with reverse_compute_at");
    auto reads = ir::load_indices_of(s.eff, p.st->output);
    if (reads.empty()) fail(attach_text(s) + ": stage " + s.st->output + " does not read " + p.st->output);
    std::vector<int> dim_of_axis(s.nsp, -1);
    auto not_elementwise = [&]() {
      fail(attach_text(s) + ": stage " + s.st->output + " must read " + p.st->output +
           " elementwise (every index one of its own axes, the same in every read)");
    };
    for (size_t k = 0; k < reads.size(); ++k) {
      for (size_t d = 0; d < reads[k].size(); ++d) {
        auto v = reads[k][d].as<ir::Var>();
        if (!v) not_elementwise();
        int a = -1;
        for (size_t x = 0; x < s.nsp; ++x)
          if (s.st->axes[x].name == v->name) a = static_cast<int>(x);
        if (a < 0) not_elementwise();
        if (k == 0) {
          if (dim_of_axis[static_cast<size_t>(a)] >= 0) not_elementwise();
          dim_of_axis[static_cast<size_t>(a)] = static_cast<int>(d);
        } else if (dim_of_axis[static_cast<size_t>(a)] != static_cast<int>(d)) {
          not_elementwise();
        }
      }
    }
    std::vector<VarRange> ranging;
    for (size_t q = static_cast<size_t>(pos) + 1; q < p.leaf_names.size(); ++q)
      ranging.push_back(leaf_range(p, static_cast<int>(q)));
    std::vector<Expr> written(p.root_val.begin(), p.root_val.begin() + static_cast<long>(p.nsp));
    Region reg = infer_region({written}, ranging, own_ranges(p), p.tensor->shape);
    for (size_t a = 0; a < s.nsp; ++a) {
      int d = dim_of_axis[a];
      if (d < 0) continue;
      int64_t e = reg.extent[static_cast<size_t>(d)];
      if (e >= s.root_ext[a]) continue;
      s.root_ext[a] = e;
      s.base[a] = reg.base[static_cast<size_t>(d)];
    }
  }

  void compute_values_and_guards(Info& s) {
    const auto& loops = s.sch->loops;
    s.loop_val.assign(loops.size(), Expr());
    for (size_t p = 0; p < s.sch->leaves.size(); ++p)
      s.loop_val[static_cast<size_t>(s.sch->leaves[p])] = ir::var(s.leaf_names[p]);
    std::vector<char> exceed(loops.size(), 0);
    std::vector<Expr> conds;
    auto ext = [&](int l) { return s.loop_ext[static_cast<size_t>(l)]; };
    for (auto it = s.sch->relations.rbegin(); it != s.sch->relations.rend(); ++it) {
      if (it->kind == Relation::Kind::Split) {
        const SplitRel& sp = it->split;
        Expr v;
        int64_t stride = 1;
        for (size_t c = sp.children.size(); c-- > 0;) {
          const Expr& cv = s.loop_val[static_cast<size_t>(sp.children[c])];
          if (!cv)
            fail("stage " + s.st->output + ": loop " + loops[static_cast<size_t>(sp.children[c])].name +
                 " is neither a leaf nor derived");
          Expr term = cv * ir::int_imm(stride);
          v = v ? term + v : term;
          stride *= ext(sp.children[c]);
          if (c > 0 && exceed[static_cast<size_t>(sp.children[c])])
            conds.push_back(ir::binary(BinOp::LT, cv, ir::int_imm(ext(sp.children[c]))));
        }
        s.loop_val[static_cast<size_t>(sp.parent)] = v;
        exceed[static_cast<size_t>(sp.parent)] =
            stride != ext(sp.parent) || exceed[static_cast<size_t>(sp.children[0])];
      } else {
        const FuseRel& fu = it->fuse;
        const Expr& cv = s.loop_val[static_cast<size_t>(fu.child)];
        if (!cv)
          fail("stage " + s.st->output + ": loop " + loops[static_cast<size_t>(fu.child)].name +
               " is neither a leaf nor derived");
        int64_t inner = 1;
        for (size_t p = fu.parents.size(); p-- > 0;) {
          Expr v = inner == 1 ? cv : cv / ir::int_imm(inner);
          if (p > 0) v = v % ir::int_imm(ext(fu.parents[p]));
          s.loop_val[static_cast<size_t>(fu.parents[p])] = v;
          inner *= ext(fu.parents[p]);
        }
        exceed[static_cast<size_t>(fu.parents[0])] = exceed[static_cast<size_t>(fu.child)];
      }
    }
    std::vector<VarRange> ranges = own_ranges(s);
    std::vector<VarRange> scope = scope_ranges(s);
    // Loops of extent 1 (regions of one element, factor-1 splits) contribute 0 to every index.
    std::vector<VarBinding> unit;
    for (const auto& r : ranges)
      if (r.extent == 1) unit.push_back(VarBinding{r.name, ir::int_imm(0)});
    auto simp = [&](const Expr& e) { return ir::simplify(ir::substitute(e, unit), ranges); };
    s.root_val.clear();
    for (size_t r = 0; r < s.nsp + s.nred; ++r) {
      if (!s.loop_val[r])
        fail("stage " + s.st->output + ": axis " + loops[r].name + " is not derived from the leaves");
      if (exceed[r]) conds.push_back(ir::binary(BinOp::LT, s.loop_val[r], ir::int_imm(s.root_ext[r])));
      s.root_val.push_back(simp(s.base[r] + s.loop_val[r]));
    }
    // Regions of compute_at / reverse_compute_at stages may leave the tensor's shape: a padded stage
    // writes 0 there, any other stage skips those elements.
    std::vector<Expr> shape_conds;
    for (size_t r = 0; r < s.nsp; ++r) {
      if (s.kind != Attach::Kind::At && s.kind != Attach::Kind::ReverseAt) break;
      int64_t full = s.st->axes[r].extent;
      int64_t lo = 0, hi = 0;
      bool known = ir::bound_of(s.base[r], scope, &lo, &hi);
      if (!known || lo < 0) shape_conds.push_back(ir::binary(BinOp::GE, s.root_val[r], ir::int_imm(0)));
      if (!known || hi + s.root_ext[r] - 1 >= full)
        shape_conds.push_back(ir::binary(BinOp::LT, s.root_val[r], ir::int_imm(full)));
    }
    s.pad_conds.clear();
    for (const auto& c0 : shape_conds) {
      if (!s.padded) {
        conds.push_back(c0);
        continue;
      }
      Expr c = simp(c0);
      if (auto i = c.as<ir::IntImm>(); i && i->value != 0) continue;
      s.pad_conds.push_back(c);
    }
    s.guards.clear();
    for (const auto& c0 : conds) {
      Expr c = simp(c0);
      if (auto i = c.as<ir::IntImm>(); i && i->value != 0) continue;
      Guard g;
      g.cond = c;
      for (const auto& v : ir::free_vars(c)) {
        for (size_t p = 0; p < s.leaf_names.size(); ++p) {
          if (s.leaf_names[p] != v) continue;
          g.level = std::max(g.level, static_cast<int>(p));
          if (loops[static_cast<size_t>(s.sch->leaves[p])].reduce) g.spatial = false;
        }
      }
      bool dup = std::any_of(s.guards.begin(), s.guards.end(),
                             [&](const Guard& x) { return ir::structural_equal(x.cond, g.cond); });
      if (!dup) s.guards.push_back(g);
    }
  }

  // ------------------------------------------------------------------ buffers

  // ------------------------------------------------------------------ evaluation order

  // Numbers the stages in the order the kernel runs them (the stages placed at a loop of a stage
  // before it, those placed after its body behind it) and checks that every stage reads only
  // tensors computed before it.
  void check_order() {
    std::vector<int> seq(infos_.size(), -1);
    int next = 0;
    std::function<void(int)> visit = [&](int si) {
      const Info& s = infos_[static_cast<size_t>(si)];
      for (const auto& cs : s.at_children)
        for (int c : cs) visit(c);
      seq[static_cast<size_t>(si)] = next++;
      for (size_t p = s.rev_children.size(); p-- > 0;)
        for (int c : s.rev_children[p]) visit(c);
    };
    for (const auto& s : infos_)
      if (s.kind == Attach::Kind::Root) visit(s.idx);
    for (const auto& s : infos_) {
      if (s.kind == Attach::Kind::Inline) continue;
      std::vector<std::string> reads;
      ir::for_each_load(s.eff, [&](const ir::Load& l) { reads.push_back(l.buffer); });
      for (const auto& t : reads) {
        int pi = info_of(t);
        if (pi < 0) continue;
        const Info& p = infos_[static_cast<size_t>(pi)];
        if (p.kind == Attach::Kind::Inline) continue;
        // Inside the loops of the stage that computes t, t is only partly computed; only a
        // reverse_compute_at stage placed directly there reads exactly what was just computed.
        if (nested_in(s.idx, pi) && !(s.parent == pi && s.kind == Attach::Kind::ReverseAt))
          fail("stage " + s.st->output + " reads " + t + " inside the loops that compute " + t +
               ", where it is only partly computed (" + placement_text(s) + ")");
        if (seq[static_cast<size_t>(pi)] > seq[static_cast<size_t>(s.idx)])
          fail("stage " + s.st->output + " reads " + t + ", which its placement runs only after it (" +
               placement_text(s) + ", " + placement_text(p) + ")");
      }
    }
  }

  std::string placement_text(const Info& s) const {
    if (s.kind == Attach::Kind::Root) return s.st->output + " at the root";
    return attach_text(s);
  }

  void assign_buffers() {
    for (auto& s : infos_) {
      if (s.kind == Attach::Kind::Inline) continue;
      s.buf_base.assign(s.nsp, ir::int_imm(0));
      s.decl = ir::BufferDecl{s.tensor->name, s.tensor->dtype, s.tensor->shape, ir::MemScope::Global};
      const bool is_param = param_workload().find_tensor(s.st->output) != nullptr;
      if (w_.role(s.st->output) == ir::TensorRole::Output) {
        s.buf = BufKind::Param;
      } else if (s.kind == Attach::Kind::At) {
        s.buf = BufKind::AllocAttach;
        s.rebased = true;
        for (size_t d = 0; d < s.nsp; ++d) {
          s.buf_base[d] = s.base[d];
          s.decl.shape[d] = s.root_ext[d];
        }
        s.decl.scope = s.sch->scope == ir::MemScope::Global ? ir::MemScope::Local : s.sch->scope;
      } else if (is_param) {
        s.buf = BufKind::Param;
      } else {
        s.buf = BufKind::AllocRoot;
        s.decl.scope = s.sch->scope == ir::MemScope::Global ? ir::MemScope::Heap : s.sch->scope;
      }
    }
  }

  Expr rebase(const Expr& e) const {
    struct M : ir::ExprMutator {
      const Lowerer* self;
      Expr mutate_load(const ir::Load& n, const Expr& me) override {
        Expr x = ir::ExprMutator::mutate_load(n, me);
        int pi = self->info_of(n.buffer);
        if (pi < 0 || !self->infos_[static_cast<size_t>(pi)].rebased) return x;
        const Info& p = self->infos_[static_cast<size_t>(pi)];
        auto l = x.as<ir::Load>();
        std::vector<Expr> idx;
        for (size_t d = 0; d < l->indices.size(); ++d) idx.push_back(l->indices[d] - p.buf_base[d]);
        return ir::load(l->buffer, idx);
      }
    } m;
    m.self = this;
    return m.mutate(e);
  }

  // ------------------------------------------------------------------ emission

  // Whether a read of a padded stage's buffer (indices in the tensor's coordinates) stays inside the
  // region that the buffer holds, for every value of the loops in `ranges`.
  bool inside_padded_region(const ir::Load& l, const std::vector<VarRange>& ranges,
                            const std::vector<VarBinding>& unit) const {
    int pi = info_of(l.buffer);
    if (pi < 0) return false;
    const Info& p = infos_[static_cast<size_t>(pi)];
    if (!p.padded || p.buf != BufKind::AllocAttach || !p.rebased) return false;
    if (l.indices.size() != p.decl.shape.size()) return false;
    for (size_t d = 0; d < l.indices.size(); ++d) {
      Expr i = ir::simplify(ir::substitute(l.indices[d] - p.buf_base[d], unit), ranges);
      int64_t lo = 0, hi = 0;
      if (!ir::bound_of(i, ranges, &lo, &hi) || lo < 0 || hi >= p.decl.shape[d]) return false;
    }
    return true;
  }

  // The padding selects select(in_shape, T[...], 0) of a body over the loops whose read provably
  // stays inside the region of a padded buffer: the buffer holds the zero padding itself.
  Expr drop_padding_selects(const Expr& e, const std::vector<VarRange>& ranges,
                            const std::vector<VarBinding>& unit) const {
    struct M : ir::ExprMutator {
      const Lowerer* self;
      const std::vector<VarRange>* ranges;
      const std::vector<VarBinding>* unit;
      Expr mutate_select(const ir::Select& n, const Expr& me) override {
        auto l = n.then_value.as<ir::Load>();
        auto z = n.else_value.as<ir::FloatImm>();
        if (l && z && z->value == 0.0 && self->inside_padded_region(*l, *ranges, *unit))
          return mutate(n.then_value);
        return ir::ExprMutator::mutate_select(n, me);
      }
    } m;
    m.self = this;
    m.ranges = &ranges;
    m.unit = &unit;
    return m.mutate(e);
  }

  // Wraps body in the stage's checks placed at `level`, leaving out those that an enclosing stage
  // already made (`known`).
  Stmt wrap_guards(const Info& s, int level, bool init, const std::vector<Expr>& known, Stmt body) const {
    Expr cond;
    for (const auto& g : s.guards) {
      if (g.level != level || (init && !g.spatial)) continue;
      if (std::any_of(known.begin(), known.end(),
                      [&](const Expr& k) { return ir::structural_equal(k, g.cond); }))
        continue;
      cond = cond ? ir::binary(BinOp::And, cond, g.cond) : g.cond;
    }
    return cond ? ir::make_if(cond, body) : body;
  }

  // The loop of leaf position p around body. A loop of extent 1 that is neither parallel nor bound
  // is left out: its variable is already 0 in every index, guard and region.
  Stmt make_loop(const Info& s, int p, Stmt body) const {
    const int l = s.sch->leaves[static_cast<size_t>(p)];
    const LoopVar& lv = s.sch->loops[static_cast<size_t>(l)];
    const int64_t extent = s.loop_ext[static_cast<size_t>(l)];
    if (extent == 1 && lv.kind != ir::ForKind::Parallel && lv.bind == ir::BindLevel::None) return body;
    return ir::make_for(s.leaf_names[static_cast<size_t>(p)], extent, lv.kind, lv.bind, std::move(body));
  }

  // `known`: the checks of the enclosing stages that hold wherever this stage runs.
  Stmt emit_stage(int si, const std::vector<Expr>& known) const {
    const Info& s = infos_[static_cast<size_t>(si)];
    const auto& leaves = s.sch->leaves;
    const int n = static_cast<int>(leaves.size());
    std::vector<VarRange> ranges = own_ranges(s);
    std::vector<VarBinding> unit;
    for (const auto& r : ranges)
      if (r.extent == 1) unit.push_back(VarBinding{r.name, ir::int_imm(0)});
    auto simp = [&](const Expr& e) { return ir::simplify(ir::substitute(e, unit), ranges); };

    std::vector<Expr> idx;
    for (size_t d = 0; d < s.nsp; ++d) idx.push_back(simp(s.root_val[d] - s.buf_base[d]));
    Expr value = simp(rebase(drop_padding_selects(body_over_loops(s), ranges, unit)));
    if (!s.pad_conds.empty()) {
      Expr cond;
      for (const auto& c : s.pad_conds) cond = cond ? ir::binary(BinOp::And, cond, c) : c;
      value = ir::select(cond, value, ir::float_imm(0.0));
    }
    Stmt compute;
    const bool reduce = s.st->op != ir::ReduceOp::None;
    if (!reduce) {
      compute = ir::make_store(s.tensor->name, idx, value);
    } else {
      Expr cur = ir::load(s.tensor->name, idx);
      Expr upd;
      switch (s.st->op) {
        case ir::ReduceOp::Sum:
          upd = cur + value;
          break;
        case ir::ReduceOp::Max:
          upd = ir::binary(BinOp::Max, cur, value);
          break;
        case ir::ReduceOp::Min:
          upd = ir::binary(BinOp::Min, cur, value);
          break;
        case ir::ReduceOp::None:
          break;
      }
      compute = ir::make_store(s.tensor->name, idx, upd);
    }

    // Where the reduction's initialisation goes.
    int q = -1;
    Stmt init;
    if (reduce) {
      if (!s.sch->init_before.empty()) {
        int l = s.sch->find_loop(s.sch->init_before);
        q = l < 0 ? -1 : s.sch->leaf_position(l);
        if (q < 0)
          fail("decompose_reduction(" + s.st->output + ", " + s.sch->init_before +
               "): the loop is not a current loop of the stage");
      } else {
        q = n;
        for (int p = 0; p < n; ++p)
          if (s.sch->loops[static_cast<size_t>(leaves[static_cast<size_t>(p)])].reduce) {
            q = p;
            break;
          }
      }
      for (int p = 0; p < q; ++p)
        if (s.sch->loops[static_cast<size_t>(leaves[static_cast<size_t>(p)])].reduce)
          fail("stage " + s.st->output +
               ": the reduction's initialisation would be placed inside reduction loop " +
               s.sch->loops[static_cast<size_t>(leaves[static_cast<size_t>(p)])].name);
      // The initialisation loops cover the spatial leaves only: no output index may depend on a
      // reduction leaf (a loop fused from spatial and reduction loops).
      for (size_t d = 0; d < s.nsp; ++d)
        for (const auto& v : ir::free_vars(s.root_val[d]))
          for (int p = 0; p < n; ++p)
            if (s.leaf_names[static_cast<size_t>(p)] == v &&
                s.sch->loops[static_cast<size_t>(leaves[static_cast<size_t>(p)])].reduce)
              fail("stage " + s.st->output + ": loop " + v +
                   " mixes spatial and reduction iterations, so the reduction cannot be initialised");
      Stmt st = ir::make_store(s.tensor->name, idx, ir::float_imm(s.st->init_value()));
      for (int p = n - 1; p >= q; --p) {
        const LoopVar& lv = s.sch->loops[static_cast<size_t>(leaves[static_cast<size_t>(p)])];
        if (lv.reduce) continue;
        st = wrap_guards(s, p, true, known, st);
        st = make_loop(s, p, st);
      }
      init = st;
    }

    Stmt inner = compute;
    if (q == n) inner = ir::make_seq({init, inner});
    for (int p = n - 1; p >= 0; --p) {
      std::vector<Stmt> body;
      std::vector<ir::BufferDecl> allocs;
      std::vector<Expr> inner_known = known;
      for (const auto& g : s.guards)
        if (g.level <= p) inner_known.push_back(g.cond);
      for (int c : s.at_children[static_cast<size_t>(p)]) {
        body.push_back(emit_stage(c, inner_known));
        const Info& ci = infos_[static_cast<size_t>(c)];
        if (ci.buf == BufKind::AllocAttach) allocs.push_back(ci.decl);
      }
      body.push_back(inner);
      for (int c : s.rev_children[static_cast<size_t>(p)]) body.push_back(emit_stage(c, inner_known));
      Stmt b = wrap_guards(s, p, false, known, ir::make_seq(std::move(body)));
      for (auto it = allocs.rbegin(); it != allocs.rend(); ++it) b = ir::make_allocate(*it, b);
      inner = make_loop(s, p, b);
      if (q == p) inner = ir::make_seq({init, inner});
    }
    return wrap_guards(s, -1, false, known, inner);
  }
};

// Renames loop variables by position (preorder) so that naming does not change the hash.
Stmt canonicalize(const Stmt& s, std::vector<VarBinding>& names, int& counter) {
  if (!s) return s;
  auto sub = [&](const Expr& e) { return ir::substitute(e, names); };
  switch (s.kind()) {
    case ir::StmtKind::For: {
      auto f = s.as<ir::For>();
      std::string nn = "v" + std::to_string(counter++);
      names.push_back(VarBinding{f->var, ir::var(nn)});
      Stmt b = canonicalize(f->body, names, counter);
      names.pop_back();
      return ir::make_for(nn, f->extent, f->for_kind, f->bind, b);
    }
    case ir::StmtKind::Seq: {
      std::vector<Stmt> v;
      for (const auto& x : s.as<ir::Seq>()->stmts) v.push_back(canonicalize(x, names, counter));
      return ir::make_seq(std::move(v));
    }
    case ir::StmtKind::Store: {
      auto st = s.as<ir::Store>();
      std::vector<Expr> idx;
      for (const auto& i : st->indices) idx.push_back(sub(i));
      return ir::make_store(st->buffer, idx, sub(st->value));
    }
    case ir::StmtKind::IfThenElse: {
      auto i = s.as<ir::IfThenElse>();
      Stmt t = canonicalize(i->then_case, names, counter);
      Stmt e = canonicalize(i->else_case, names, counter);
      return Stmt(std::make_shared<ir::IfThenElse>(sub(i->cond), t, e));
    }
    case ir::StmtKind::Allocate: {
      auto a = s.as<ir::Allocate>();
      return ir::make_allocate(a->buffer, canonicalize(a->body, names, counter));
    }
  }
  return s;
}

}  // namespace

ir::LoweredFunc lower(const State& state) {
  Lowerer l(state);
  return l.run();
}

uint64_t structural_hash(const State& state) { return structural_hash(lower(state)); }

uint64_t structural_hash(ir::LoweredFunc f) {
  std::vector<VarBinding> names;
  int counter = 0;
  f.body = canonicalize(f.body, names, counter);
  std::string text = ir::to_string(f);
  return XXH3_64bits(text.data(), text.size());
}

}  // namespace rctune::schedule
