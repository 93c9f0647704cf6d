#include "rctune/ir/expr.h"

#include "rctune/ir/analysis.h"
#include "rctune/ir/check.h"

#include "rctune/ir/limits.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <map>
#include <sstream>

namespace rctune::ir {

const char* dtype_name(DType t) { return t == DType::F32 ? "f32" : "f64"; }
int dtype_bytes(DType t) { return t == DType::F32 ? 4 : 8; }

const char* binop_name(BinOp op) {
  switch (op) {
    case BinOp::Add:
      return "+";
    case BinOp::Sub:
      return "-";
    case BinOp::Mul:
      return "*";
    case BinOp::Div:
      return "/";
    case BinOp::Mod:
      return "%";
    case BinOp::Max:
      return "max";
    case BinOp::Min:
      return "min";
    case BinOp::LT:
      return "<";
    case BinOp::LE:
      return "<=";
    case BinOp::GT:
      return ">";
    case BinOp::GE:
      return ">=";
    case BinOp::EQ:
      return "==";
    case BinOp::NE:
      return "!=";
    case BinOp::And:
      return "&&";
    case BinOp::Or:
      return "||";
  }
  return "?";
}

bool is_boolean_op(BinOp op) {
  switch (op) {
    case BinOp::LT:
    case BinOp::LE:
    case BinOp::GT:
    case BinOp::GE:
    case BinOp::EQ:
    case BinOp::NE:
    case BinOp::And:
    case BinOp::Or:
      return true;
    default:
      return false;
  }
}

const char* unop_name(UnOp op) {
  switch (op) {
    case UnOp::Neg:
      return "neg";
    case UnOp::Exp:
      return "exp";
    case UnOp::Log:
      return "log";
    case UnOp::Sqrt:
      return "sqrt";
    case UnOp::Rsqrt:
      return "rsqrt";
    case UnOp::Tanh:
      return "tanh";
    case UnOp::Erf:
      return "erf";
    case UnOp::Relu:
      return "relu";
    case UnOp::Gelu:
      return "gelu";
    case UnOp::Sigmoid:
      return "sigmoid";
    case UnOp::Abs:
      return "abs";
  }
  return "?";
}

// ---------------------------------------------------------------- constructors

Expr int_imm(int64_t v) { return Expr(std::make_shared<IntImm>(v)); }
Expr float_imm(double v) { return Expr(std::make_shared<FloatImm>(v)); }
Expr var(const std::string& name) { return Expr(std::make_shared<Var>(name)); }
Expr load(const std::string& buffer, std::vector<Expr> indices) {
  return Expr(std::make_shared<Load>(buffer, std::move(indices)));
}
Expr unary(UnOp op, Expr a) {
  RCTUNE_CHECK(a);
  return Expr(std::make_shared<Unary>(op, std::move(a)));
}
Expr select(Expr cond, Expr t, Expr f) {
  RCTUNE_CHECK(cond && t && f);
  if (auto c = cond.as<IntImm>()) return c->value ? t : f;
  return Expr(std::make_shared<Select>(std::move(cond), std::move(t), std::move(f)));
}

namespace {

bool is_int(const Expr& e, int64_t v) {
  auto i = e.as<IntImm>();
  return i && i->value == v;
}

// Folds integer constants and trivial identities; returns an empty Expr when nothing applies.
Expr fold(BinOp op, const Expr& a, const Expr& b) {
  auto ia = a.as<IntImm>();
  auto ib = b.as<IntImm>();
  if (ia && ib) {
    int64_t x = ia->value, y = ib->value;
    switch (op) {
      // Constants that would overflow are left unfolded (rctune/ir/limits.h bounds workload indices).
      case BinOp::Add:
        if (auto r = checked_add(x, y)) return int_imm(*r);
        break;
      case BinOp::Sub:
        if (auto r = checked_sub(x, y)) return int_imm(*r);
        break;
      case BinOp::Mul:
        if (auto r = checked_mul(x, y)) return int_imm(*r);
        break;
      case BinOp::Div:
        if (y != 0 && !(x == INT64_MIN && y == -1)) return int_imm(floor_div(x, y));
        break;
      case BinOp::Mod:
        if (y != 0 && !(x == INT64_MIN && y == -1)) return int_imm(floor_mod(x, y));
        break;
      case BinOp::Max:
        return int_imm(std::max(x, y));
      case BinOp::Min:
        return int_imm(std::min(x, y));
      case BinOp::LT:
        return int_imm(x < y);
      case BinOp::LE:
        return int_imm(x <= y);
      case BinOp::GT:
        return int_imm(x > y);
      case BinOp::GE:
        return int_imm(x >= y);
      case BinOp::EQ:
        return int_imm(x == y);
      case BinOp::NE:
        return int_imm(x != y);
      case BinOp::And:
        return int_imm(x && y);
      case BinOp::Or:
        return int_imm(x || y);
    }
  }
  switch (op) {
    case BinOp::Add:
      if (is_int(a, 0)) return b;
      if (is_int(b, 0)) return a;
      break;
    case BinOp::Sub:
      if (is_int(b, 0)) return a;
      break;
    case BinOp::Mul:
      if (is_int(a, 1)) return b;
      if (is_int(b, 1)) return a;
      if (is_int(a, 0) || is_int(b, 0)) {
        // Only integer index math may fold x*0: a float expression could be inf or nan.
        const Expr& other = is_int(a, 0) ? b : a;
        if (other.as<Var>() || other.as<IntImm>()) return int_imm(0);
      }
      break;
    case BinOp::Div:
      if (is_int(b, 1)) return a;
      break;
    case BinOp::Mod:
      if (is_int(b, 1)) return int_imm(0);
      break;
    case BinOp::And:
      if (is_int(a, 1)) return b;
      if (is_int(b, 1)) return a;
      break;
    default:
      break;
  }
  return Expr();
}

}  // namespace

Expr binary(BinOp op, Expr a, Expr b) {
  RCTUNE_CHECK(a && b);
  if (Expr f = fold(op, a, b)) return f;
  return Expr(std::make_shared<Binary>(op, std::move(a), std::move(b)));
}

Expr operator+(Expr a, Expr b) { return binary(BinOp::Add, std::move(a), std::move(b)); }
Expr operator-(Expr a, Expr b) { return binary(BinOp::Sub, std::move(a), std::move(b)); }
Expr operator*(Expr a, Expr b) { return binary(BinOp::Mul, std::move(a), std::move(b)); }
Expr operator/(Expr a, Expr b) { return binary(BinOp::Div, std::move(a), std::move(b)); }
Expr operator%(Expr a, Expr b) { return binary(BinOp::Mod, std::move(a), std::move(b)); }
Expr operator+(Expr a, int64_t b) { return std::move(a) + int_imm(b); }
Expr operator*(Expr a, int64_t b) { return std::move(a) * int_imm(b); }

// ---------------------------------------------------------------- visitor / mutator

void ExprVisitor::visit(const Expr& e) {
  RCTUNE_CHECK(e);
  switch (e.kind()) {
    case ExprKind::IntImm:
      return visit(*e.as<IntImm>());
    case ExprKind::FloatImm:
      return visit(*e.as<FloatImm>());
    case ExprKind::Var:
      return visit(*e.as<Var>());
    case ExprKind::Load:
      return visit(*e.as<Load>());
    case ExprKind::Binary:
      return visit(*e.as<Binary>());
    case ExprKind::Unary:
      return visit(*e.as<Unary>());
    case ExprKind::Select:
      return visit(*e.as<Select>());
  }
}
void ExprVisitor::visit(const Load& n) {
  for (const auto& i : n.indices) visit(i);
}
void ExprVisitor::visit(const Binary& n) {
  visit(n.a);
  visit(n.b);
}
void ExprVisitor::visit(const Unary& n) { visit(n.a); }
void ExprVisitor::visit(const Select& n) {
  visit(n.cond);
  visit(n.then_value);
  visit(n.else_value);
}

Expr ExprMutator::mutate(const Expr& e) {
  RCTUNE_CHECK(e);
  switch (e.kind()) {
    case ExprKind::IntImm:
      return mutate_int(*e.as<IntImm>(), e);
    case ExprKind::FloatImm:
      return mutate_float(*e.as<FloatImm>(), e);
    case ExprKind::Var:
      return mutate_var(*e.as<Var>(), e);
    case ExprKind::Load:
      return mutate_load(*e.as<Load>(), e);
    case ExprKind::Binary:
      return mutate_binary(*e.as<Binary>(), e);
    case ExprKind::Unary:
      return mutate_unary(*e.as<Unary>(), e);
    case ExprKind::Select:
      return mutate_select(*e.as<Select>(), e);
  }
  return e;
}
Expr ExprMutator::mutate_int(const IntImm&, const Expr& self) { return self; }
Expr ExprMutator::mutate_float(const FloatImm&, const Expr& self) { return self; }
Expr ExprMutator::mutate_var(const Var&, const Expr& self) { return self; }
Expr ExprMutator::mutate_load(const Load& n, const Expr& self) {
  std::vector<Expr> idx;
  idx.reserve(n.indices.size());
  bool changed = false;
  for (const auto& i : n.indices) {
    idx.push_back(mutate(i));
    changed |= !idx.back().same_as(i);
  }
  return changed ? load(n.buffer, std::move(idx)) : self;
}
Expr ExprMutator::mutate_binary(const Binary& n, const Expr& self) {
  Expr a = mutate(n.a), b = mutate(n.b);
  return (a.same_as(n.a) && b.same_as(n.b)) ? self : binary(n.op, a, b);
}
Expr ExprMutator::mutate_unary(const Unary& n, const Expr& self) {
  Expr a = mutate(n.a);
  return a.same_as(n.a) ? self : unary(n.op, a);
}
Expr ExprMutator::mutate_select(const Select& n, const Expr& self) {
  Expr c = mutate(n.cond), t = mutate(n.then_value), f = mutate(n.else_value);
  return (c.same_as(n.cond) && t.same_as(n.then_value) && f.same_as(n.else_value)) ? self : select(c, t, f);
}

// ---------------------------------------------------------------- printer

namespace {

int precedence(const Expr& e) {
  if (auto b = e.as<Binary>()) return binop_precedence(b->op);
  if (auto u = e.as<Unary>(); u && u->op == UnOp::Neg) return kPrecedenceUnary;
  return kPrecedenceAtom;
}

std::string format_float(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::ostringstream os;
  os << std::setprecision(9) << v;
  std::string s = os.str();
  if (s.find_first_of(".eE") == std::string::npos && s.find("nan") == std::string::npos) s += ".0";
  return s;
}

class Printer : public ExprVisitor {
 public:
  std::ostringstream os;
  using ExprVisitor::visit;
  void visit(const IntImm& n) override { os << n.value; }
  void visit(const FloatImm& n) override { os << format_float(n.value); }
  void visit(const Var& n) override { os << n.name; }
  void visit(const Load& n) override {
    os << n.buffer << "[";
    for (size_t i = 0; i < n.indices.size(); ++i) {
      if (i) os << ", ";
      visit(n.indices[i]);
    }
    os << "]";
  }
  void visit(const Binary& n) override {
    if (n.op == BinOp::Max || n.op == BinOp::Min) {
      os << binop_name(n.op) << "(";
      visit(n.a);
      os << ", ";
      visit(n.b);
      os << ")";
      return;
    }
    int p = binop_precedence(n.op);
    operand(n.a, p, false);
    os << " " << binop_name(n.op) << " ";
    operand(n.b, p, true);
  }
  void visit(const Unary& n) override {
    if (n.op == UnOp::Neg) {
      os << "-";
      operand(n.a, kPrecedenceUnary, false);
      return;
    }
    os << unop_name(n.op) << "(";
    visit(n.a);
    os << ")";
  }
  void visit(const Select& n) override {
    os << "select(";
    visit(n.cond);
    os << ", ";
    visit(n.then_value);
    os << ", ";
    visit(n.else_value);
    os << ")";
  }

 private:
  // Right operands of equal precedence need parentheses (a - (b - c)); left ones do not.
  void operand(const Expr& e, int parent_prec, bool right) {
    int p = precedence(e);
    bool paren = p < parent_prec || (right && p == parent_prec);
    if (paren) os << "(";
    visit(e);
    if (paren) os << ")";
  }
};

}  // namespace

std::string to_string(const Expr& e) {
  if (!e) return "<null>";
  Printer p;
  p.visit(e);
  return p.os.str();
}

// ---------------------------------------------------------------- utilities

namespace {
class Substituter : public ExprMutator {
 public:
  explicit Substituter(const std::vector<VarBinding>& b) {
    for (const auto& x : b) map_[x.name] = x.value;
  }
  Expr mutate_var(const Var& n, const Expr& self) override {
    auto it = map_.find(n.name);
    return it == map_.end() ? self : it->second;
  }

 private:
  std::map<std::string, Expr> map_;
};
}  // namespace

Expr substitute(const Expr& e, const std::vector<VarBinding>& bindings) {
  if (bindings.empty()) return e;
  Substituter s(bindings);
  return s.mutate(e);
}

bool structural_equal(const Expr& a, const Expr& b) {
  if (a.same_as(b)) return true;
  if (!a || !b || a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case ExprKind::IntImm:
      return a.as<IntImm>()->value == b.as<IntImm>()->value;
    case ExprKind::FloatImm: {
      double x = a.as<FloatImm>()->value, y = b.as<FloatImm>()->value;
      return x == y || (std::isnan(x) && std::isnan(y));
    }
    case ExprKind::Var:
      return a.as<Var>()->name == b.as<Var>()->name;
    case ExprKind::Load: {
      auto x = a.as<Load>(), y = b.as<Load>();
      if (x->buffer != y->buffer || x->indices.size() != y->indices.size()) return false;
      for (size_t i = 0; i < x->indices.size(); ++i)
        if (!structural_equal(x->indices[i], y->indices[i])) return false;
      return true;
    }
    case ExprKind::Binary: {
      auto x = a.as<Binary>(), y = b.as<Binary>();
      return x->op == y->op && structural_equal(x->a, y->a) && structural_equal(x->b, y->b);
    }
    case ExprKind::Unary: {
      auto x = a.as<Unary>(), y = b.as<Unary>();
      return x->op == y->op && structural_equal(x->a, y->a);
    }
    case ExprKind::Select: {
      auto x = a.as<Select>(), y = b.as<Select>();
      return structural_equal(x->cond, y->cond) && structural_equal(x->then_value, y->then_value) &&
             structural_equal(x->else_value, y->else_value);
    }
  }
  return false;
}

std::vector<std::string> free_vars(const Expr& e) {
  struct Collector : ExprVisitor {
    std::vector<std::string> names;
    using ExprVisitor::visit;
    void visit(const Var& n) override {
      if (std::find(names.begin(), names.end(), n.name) == names.end()) names.push_back(n.name);
    }
  } c;
  c.visit(e);
  return c.names;
}

// ---------------------------------------------------------------- affine simplification
//
// Integer index expressions are normalised to a sum of terms  c0 + sum(c_i * atom_i), where an atom
// is a variable or a non-affine sub-expression (x / c, x % c, loads, ...). Division and modulo by a
// constant are simplified when the bounds of the operand allow it.

namespace {

class Simplifier {
 public:
  explicit Simplifier(const std::vector<VarRange>& r) : ranges_(r) {}

  Expr run(const Expr& e) {
    switch (e.kind()) {
      case ExprKind::IntImm:
      case ExprKind::FloatImm:
      case ExprKind::Var:
        return e;
      case ExprKind::Load: {
        auto n = e.as<Load>();
        std::vector<Expr> idx;
        for (const auto& i : n->indices) idx.push_back(run(i));
        return load(n->buffer, std::move(idx));
      }
      case ExprKind::Unary:
        return unary(e.as<Unary>()->op, run(e.as<Unary>()->a));
      case ExprKind::Select: {
        auto n = e.as<Select>();
        return select(run(n->cond), run(n->then_value), run(n->else_value));
      }
      case ExprKind::Binary:
        break;
    }
    auto n = e.as<Binary>();
    if (is_index_arith(e)) return from_affine(normal_form(e));
    Expr a = run(n->a), b = run(n->b);
    // Comparisons decided by bounds.
    int64_t alo, ahi, blo, bhi;
    bool ba = bound_of(a, ranges_, &alo, &ahi), bb = bound_of(b, ranges_, &blo, &bhi);
    if (ba && bb) {
      switch (n->op) {
        case BinOp::LT:
          if (ahi < blo) return int_imm(1);
          if (alo >= bhi) return int_imm(0);
          break;
        case BinOp::LE:
          if (ahi <= blo) return int_imm(1);
          if (alo > bhi) return int_imm(0);
          break;
        case BinOp::GT:
          if (alo > bhi) return int_imm(1);
          if (ahi <= blo) return int_imm(0);
          break;
        case BinOp::GE:
          if (alo >= bhi) return int_imm(1);
          if (ahi < blo) return int_imm(0);
          break;
        default:
          break;
      }
    }
    return binary(n->op, a, b);
  }

 private:
  const std::vector<VarRange>& ranges_;

  // Integer arithmetic: + - * / % over vars and int constants only (no floats, no loads).
  static bool is_index_arith(const Expr& e) {
    switch (e.kind()) {
      case ExprKind::IntImm:
      case ExprKind::Var:
        return true;
      case ExprKind::Binary: {
        auto b = e.as<Binary>();
        switch (b->op) {
          case BinOp::Add:
          case BinOp::Sub:
          case BinOp::Mul:
          case BinOp::Div:
          case BinOp::Mod:
            return is_index_arith(b->a) && is_index_arith(b->b);
          default:
            return false;
        }
      }
      default:
        return false;
    }
  }

  // The affine normal form of index arithmetic, its atoms simplified and x / c, x % c split.
  Affine normal_form(const Expr& e) {
    Affine r;
    if (auto i = e.as<IntImm>()) {
      r.constant = i->value;
      return r;
    }
    if (e.as<Var>()) {
      r.add_term(e, 1);
      return r;
    }
    auto b = e.as<Binary>();
    RCTUNE_CHECK(b);
    switch (b->op) {
      case BinOp::Add:
      case BinOp::Sub: {
        r = normal_form(b->a);
        r.add(normal_form(b->b), b->op == BinOp::Add ? 1 : -1);
        return r;
      }
      case BinOp::Mul: {
        Affine x = normal_form(b->a), y = normal_form(b->b);
        if (y.terms.empty()) {
          r.add(x, y.constant);
        } else if (x.terms.empty()) {
          r.add(y, x.constant);
        } else {
          r.add_term(binary(BinOp::Mul, from_affine(x), from_affine(y)), 1);
        }
        return r;
      }
      case BinOp::Div:
      case BinOp::Mod: {
        Affine x = normal_form(b->a), y = normal_form(b->b);
        if (!y.terms.empty() || y.constant <= 0) {
          r.add_term(binary(b->op, from_affine(x), from_affine(y)), 1);
          return r;
        }
        return div_mod(x, y.constant, b->op == BinOp::Div);
      }
      default:
        break;
    }
    r.add_term(e, 1);
    return r;
  }

  // x / c or x % c for c > 0: split x into the terms divisible by c and a remainder; when the
  // remainder is known to lie in [0, c) the division is exact on the divisible part.
  Affine div_mod(const Affine& x, int64_t c, bool is_div) {
    Affine q, rem;
    rem.constant = floor_mod(x.constant, c);
    q.constant = floor_div(x.constant, c);
    for (const auto& t : x.terms) {
      if (t.coef % c == 0) {
        q.add_term(t.expr, t.coef / c);
      } else {
        rem.add_term(t.expr, t.coef);
      }
    }
    int64_t lo, hi;
    Expr rem_e = from_affine(rem);
    if (bound_of(rem_e, ranges_, &lo, &hi) && lo >= 0 && hi < c) {
      if (is_div) return q;
      return rem;
    }
    Affine r;
    if (is_div) {
      // (q*c + rem) / c = q + rem / c
      r = q;
      r.add_term(binary(BinOp::Div, rem_e, int_imm(c)), 1);
    } else {
      r.add_term(binary(BinOp::Mod, rem_e, int_imm(c)), 1);
    }
    return r;
  }

  static Expr from_affine(const Affine& a) {
    Expr out;
    for (const auto& t : a.terms) {
      Expr term = t.coef == 1 ? t.expr : t.expr * int_imm(t.coef < 0 ? -t.coef : t.coef);
      if (!out) {
        out = t.coef < 0 ? binary(BinOp::Sub, int_imm(0), term) : term;
        // Keep "0 - x" from folding away: binary() does not fold 0 - x, so it prints as "0 - x".
      } else {
        out = t.coef < 0 ? out - term : out + term;
      }
    }
    if (!out) return int_imm(a.constant);
    if (a.constant > 0) return out + int_imm(a.constant);
    if (a.constant < 0) return out - int_imm(-a.constant);
    return out;
  }
};

}  // namespace

Expr simplify(const Expr& e, const std::vector<VarRange>& var_extents) {
  if (!e) return e;
  Simplifier s(var_extents);
  return s.run(e);
}

}  // namespace rctune::ir
