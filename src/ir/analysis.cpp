#include "rctune/ir/analysis.h"

#include <algorithm>

#include "rctune/ir/limits.h"

namespace rctune::ir {

// ---------------------------------------------------------------- intervals

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }

std::optional<Interval> binary_interval(BinOp op, Interval x, Interval y, const IntervalRules& rules) {
  switch (op) {
    case BinOp::Add: {
      auto l = checked_add(x.lo, y.lo), h = checked_add(x.hi, y.hi);
      if (!l || !h) return std::nullopt;
      return Interval{*l, *h};
    }
    case BinOp::Sub: {
      auto l = checked_sub(x.lo, y.hi), h = checked_sub(x.hi, y.lo);
      if (!l || !h) return std::nullopt;
      return Interval{*l, *h};
    }
    case BinOp::Mul: {
      int64_t c[4];
      const int64_t xs[2] = {x.lo, x.hi}, ys[2] = {y.lo, y.hi};
      for (int k = 0; k < 4; ++k) {
        auto r = checked_mul(xs[k / 2], ys[k % 2]);
        if (!r) return std::nullopt;
        c[k] = *r;
      }
      return Interval{*std::min_element(c, c + 4), *std::max_element(c, c + 4)};
    }
    case BinOp::Div:
      if (y.lo != y.hi || y.lo <= 0) return std::nullopt;
      return Interval{floor_div(x.lo, y.lo), floor_div(x.hi, y.lo)};
    case BinOp::Mod: {
      if (y.lo != y.hi || y.lo <= 0) return std::nullopt;
      const int64_t c = y.lo;
      if (rules.exact_mod) {
        if (floor_div(x.lo, c) == floor_div(x.hi, c)) return Interval{floor_mod(x.lo, c), floor_mod(x.hi, c)};
      } else if (x.lo >= 0 && x.hi < c) {
        return x;
      }
      return Interval{0, c - 1};
    }
    case BinOp::Max:
      return Interval{std::max(x.lo, y.lo), std::max(x.hi, y.hi)};
    case BinOp::Min:
      return Interval{std::min(x.lo, y.lo), std::min(x.hi, y.hi)};
    default:
      break;
  }
  if (rules.booleans && is_boolean_op(op)) return Interval{0, 1};
  return std::nullopt;
}

std::optional<Interval> interval_of(const Expr& e, const VarIntervalFn& var_interval,
                                    const IntervalRules& rules) {
  switch (e.kind()) {
    case ExprKind::IntImm: {
      const int64_t v = e.as<IntImm>()->value;
      return Interval{v, v};
    }
    case ExprKind::Var:
      return var_interval(e.as<Var>()->name);
    case ExprKind::Binary: {
      const auto* b = e.as<Binary>();
      auto x = interval_of(b->a, var_interval, rules);
      if (!x) return std::nullopt;
      auto y = interval_of(b->b, var_interval, rules);
      if (!y) return std::nullopt;
      return binary_interval(b->op, *x, *y, rules);
    }
    case ExprKind::Unary: {
      const auto* u = e.as<Unary>();
      if (!rules.negation || u->op != UnOp::Neg) return std::nullopt;
      auto x = interval_of(u->a, var_interval, rules);
      if (!x || x->lo == INT64_MIN) return std::nullopt;
      return Interval{-x->hi, -x->lo};
    }
    case ExprKind::Select: {
      if (!rules.select_hull) return std::nullopt;
      const auto* s = e.as<Select>();
      auto x = interval_of(s->then_value, var_interval, rules);
      if (!x) return std::nullopt;
      auto y = interval_of(s->else_value, var_interval, rules);
      if (!y) return std::nullopt;
      return Interval{std::min(x->lo, y->lo), std::max(x->hi, y->hi)};
    }
    case ExprKind::FloatImm:
    case ExprKind::Load:
      break;
  }
  return std::nullopt;
}

std::optional<Interval> interval_of(const Expr& e, const std::vector<VarRange>& var_extents,
                                    const IntervalRules& rules) {
  return interval_of(
      e,
      [&](const std::string& name) -> std::optional<Interval> {
        for (const auto& r : var_extents)
          if (r.name == name) return Interval{0, r.extent - 1};
        return std::nullopt;
      },
      rules);
}

bool bound_of(const Expr& e, const std::vector<VarRange>& var_extents, int64_t* lo, int64_t* hi) {
  auto r = interval_of(e, var_extents);
  if (!r) return false;
  *lo = r->lo;
  *hi = r->hi;
  return true;
}

// ---------------------------------------------------------------- affine forms

int64_t Affine::coef_of(const std::string& var) const {
  for (const auto& t : terms)
    if (t.var == var) return t.coef;
  return 0;
}

bool Affine::var_in_atom(const std::string& var) const {
  for (const auto& t : terms)
    if (t.var.empty() && contains_var(t.expr, var)) return true;
  return false;
}

Affine Affine::without(const std::string& var) const {
  Affine r = *this;
  std::erase_if(r.terms, [&](const AffineTerm& t) { return t.var == var; });
  return r;
}

void Affine::add_term(const Expr& term, int64_t coef) {
  if (coef == 0) return;
  const Var* v = term.as<Var>();
  for (size_t i = 0; i < terms.size(); ++i) {
    AffineTerm& x = terms[i];
    const bool same = v ? x.var == v->name : (x.var.empty() && structural_equal(x.expr, term));
    if (same) {
      x.coef += coef;
      if (x.coef == 0) terms.erase(terms.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }
  terms.push_back({term, v ? v->name : std::string(), coef});
}

void Affine::add(const Affine& o, int64_t scale) {
  for (const auto& t : o.terms) add_term(t.expr, t.coef * scale);
  constant += o.constant * scale;
}

namespace {
Affine scaled(const Affine& a, int64_t k) {
  Affine r;
  r.add(a, k);
  return r;
}
Affine atom(const Expr& e) {
  Affine r;
  r.add_term(e, 1);
  return r;
}
}  // namespace

Affine to_affine(const Expr& e) {
  if (auto i = e.as<IntImm>()) {
    Affine r;
    r.constant = i->value;
    return r;
  }
  if (e.as<Var>()) return atom(e);
  if (auto u = e.as<Unary>(); u && u->op == UnOp::Neg) return scaled(to_affine(u->a), -1);
  if (auto b = e.as<Binary>()) {
    switch (b->op) {
      case BinOp::Add:
      case BinOp::Sub: {
        Affine r = to_affine(b->a);
        r.add(to_affine(b->b), b->op == BinOp::Add ? 1 : -1);
        return r;
      }
      case BinOp::Mul: {
        Affine x = to_affine(b->a), y = to_affine(b->b);
        if (x.is_constant()) return scaled(y, x.constant);
        if (y.is_constant()) return scaled(x, y.constant);
        return atom(e);
      }
      case BinOp::Div:
      case BinOp::Mod: {
        Affine x = to_affine(b->a), y = to_affine(b->b);
        if (x.is_constant() && y.is_constant() && y.constant != 0) {
          Affine r;
          const int64_t q = floor_div(x.constant, y.constant);
          r.constant = b->op == BinOp::Div ? q : x.constant - q * y.constant;
          return r;
        }
        return atom(e);
      }
      default:
        break;
    }
  }
  return atom(e);
}

Affine flat_index(const std::vector<Expr>& indices, const std::vector<int64_t>& shape) {
  std::vector<Affine> parts(indices.size());
  int64_t stride = 1;
  for (size_t d = indices.size(); d-- > 0;) {
    parts[d] = scaled(to_affine(indices[d]), stride);
    stride *= d < shape.size() ? shape[d] : 1;
  }
  Affine r;
  for (const auto& p : parts) r.add(p, 1);
  return r;
}

// ---------------------------------------------------------------- loads

void for_each_load(const Expr& e, const std::function<void(const Load&)>& fn) {
  struct Visitor : ExprVisitor {
    const std::function<void(const Load&)>* fn;
    using ExprVisitor::visit;
    void visit(const Load& n) override {
      (*fn)(n);
      ExprVisitor::visit(n);
    }
  } v;
  v.fn = &fn;
  v.visit(e);
}

std::vector<std::vector<Expr>> load_indices_of(const Expr& e, const std::string& buffer) {
  std::vector<std::vector<Expr>> out;
  for_each_load(e, [&](const Load& l) {
    if (l.buffer == buffer) out.push_back(l.indices);
  });
  return out;
}

bool contains_var(const Expr& e, const std::string& name) {
  struct Finder : ExprVisitor {
    const std::string* name;
    bool found = false;
    using ExprVisitor::visit;
    void visit(const Var& n) override { found = found || n.name == *name; }
  } f;
  f.name = &name;
  f.visit(e);
  return f.found;
}

// ---------------------------------------------------------------- precedence

int binop_precedence(BinOp op) {
  switch (op) {
    case BinOp::Mul:
    case BinOp::Div:
    case BinOp::Mod:
      return kPrecedenceMultiplicative;
    case BinOp::Add:
    case BinOp::Sub:
      return kPrecedenceAdditive;
    case BinOp::LT:
    case BinOp::LE:
    case BinOp::GT:
    case BinOp::GE:
      return kPrecedenceRelational;
    case BinOp::EQ:
    case BinOp::NE:
      return kPrecedenceEquality;
    case BinOp::And:
      return kPrecedenceAnd;
    case BinOp::Or:
      return kPrecedenceOr;
    case BinOp::Max:
    case BinOp::Min:
      break;  // printed as calls
  }
  return kPrecedenceAtom;
}

}  // namespace rctune::ir
