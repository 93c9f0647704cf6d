#include "rctune/schedule/bound_inference.h"
#include "rctune/ir/check.h"

#include <algorithm>

namespace rctune::schedule {

using ir::BinOp;
using ir::Expr;
using ir::VarRange;

namespace {

const VarRange* find_range(const std::vector<VarRange>& ranges, const std::string& name) {
  for (const auto& r : ranges)
    if (r.name == name) return &r;
  return nullptr;
}

bool depends_on(const Expr& e, const std::vector<VarRange>& ranging) {
  for (const auto& v : ir::free_vars(e))
    if (find_range(ranging, v)) return true;
  return false;
}

std::optional<SymbolicInterval> interval(const Expr& e, const std::vector<VarRange>& ranging) {
  if (!depends_on(e, ranging)) return SymbolicInterval{e, e};
  if (auto v = e.as<ir::Var>()) {
    const VarRange* r = find_range(ranging, v->name);
    return SymbolicInterval{ir::int_imm(0), ir::int_imm(r->extent - 1)};
  }
  auto b = e.as<ir::Binary>();
  if (!b) return std::nullopt;
  auto const_of = [&](const Expr& x, int64_t* c) {
    auto i = x.as<ir::IntImm>();
    if (!i) return false;
    *c = i->value;
    return true;
  };
  int64_t c = 0;
  switch (b->op) {
    case BinOp::Add:
    case BinOp::Sub: {
      auto x = interval(b->a, ranging), y = interval(b->b, ranging);
      if (!x || !y) return std::nullopt;
      if (b->op == BinOp::Add) return SymbolicInterval{x->lo + y->lo, x->hi + y->hi};
      return SymbolicInterval{x->lo - y->hi, x->hi - y->lo};
    }
    case BinOp::Mul: {
      const Expr* var_side = nullptr;
      if (const_of(b->b, &c)) {
        var_side = &b->a;
      } else if (const_of(b->a, &c)) {
        var_side = &b->b;
      } else {
        return std::nullopt;
      }
      auto x = interval(*var_side, ranging);
      if (!x) return std::nullopt;
      if (c >= 0) return SymbolicInterval{x->lo * ir::int_imm(c), x->hi * ir::int_imm(c)};
      return SymbolicInterval{x->hi * ir::int_imm(c), x->lo * ir::int_imm(c)};
    }
    case BinOp::Div: {
      if (!const_of(b->b, &c) || c <= 0) return std::nullopt;
      auto x = interval(b->a, ranging);
      if (!x) return std::nullopt;
      return SymbolicInterval{x->lo / ir::int_imm(c), x->hi / ir::int_imm(c)};
    }
    case BinOp::Mod: {
      if (!const_of(b->b, &c) || c <= 0) return std::nullopt;
      return SymbolicInterval{ir::int_imm(0), ir::int_imm(c - 1)};
    }
    case BinOp::Max:
    case BinOp::Min: {
      auto x = interval(b->a, ranging), y = interval(b->b, ranging);
      if (!x || !y) return std::nullopt;
      return SymbolicInterval{ir::binary(b->op, x->lo, y->lo), ir::binary(b->op, x->hi, y->hi)};
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<SymbolicInterval> symbolic_interval(const Expr& e, const std::vector<VarRange>& ranging) {
  return interval(e, ranging);
}

Expr union_bound(const Expr& a, const Expr& b, bool want_min, const std::vector<VarRange>& ranges) {
  Expr d = ir::simplify(a - b, ranges);
  if (auto i = d.as<ir::IntImm>()) {
    bool a_smaller = i->value <= 0;
    return want_min == a_smaller ? a : b;
  }
  return ir::binary(want_min ? BinOp::Min : BinOp::Max, a, b);
}

std::optional<int64_t> span_extent(const Expr& lo, const Expr& hi, const std::vector<VarRange>& ranges) {
  int64_t l = 0, h = 0;
  if (!ir::bound_of(ir::simplify(hi - lo, ranges), ranges, &l, &h)) return std::nullopt;
  return h + 1;
}

Region infer_region(const std::vector<std::vector<Expr>>& accesses, const std::vector<VarRange>& ranging,
                    const std::vector<VarRange>& all_ranges, const std::vector<int64_t>& shape, bool clip) {
  Region r;
  for (size_t d = 0; d < shape.size(); ++d) {
    Expr lo, hi;
    bool full = accesses.empty();
    for (const auto& acc : accesses) {
      RCTUNE_CHECK(acc.size() == shape.size());
      Expr alo, ahi;
      if (auto si = symbolic_interval(acc[d], ranging)) {
        alo = ir::simplify(si->lo, all_ranges);
        ahi = ir::simplify(si->hi, all_ranges);
      } else {
        int64_t l = 0, h = 0;
        if (!ir::bound_of(ir::simplify(acc[d], all_ranges), all_ranges, &l, &h)) {
          full = true;
          break;
        }
        alo = ir::int_imm(l);
        ahi = ir::int_imm(h);
      }
      lo = lo ? union_bound(lo, alo, true, all_ranges) : alo;
      hi = hi ? union_bound(hi, ahi, false, all_ranges) : ahi;
    }
    int64_t extent = shape[d];
    if (!full) {
      if (auto e = span_extent(lo, hi, all_ranges))
        extent = *e;
      else
        full = true;
    }
    if (full || (clip && extent >= shape[d])) {
      r.base.push_back(ir::int_imm(0));
      r.extent.push_back(shape[d]);
    } else {
      r.base.push_back(lo);
      r.extent.push_back(std::max<int64_t>(extent, 1));
    }
  }
  return r;
}

}  // namespace rctune::schedule
