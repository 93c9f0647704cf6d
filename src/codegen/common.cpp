#include "common.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace rctune::codegen::detail {

using namespace rctune::ir;

std::string user_ident(const char* prefix, const std::string& name) {
  constexpr size_t kMaxBody = 80;
  std::string body;
  bool pending_sep = false;
  for (char c : name) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum) {
      pending_sep = true;
      continue;
    }
    if (body.size() >= kMaxBody) break;
    if (pending_sep && !body.empty()) body += '_';
    pending_sep = false;
    body += c;
  }
  if (body.empty()) body = "x";
  return prefix + body;
}

const std::string& NameTable::user(const char* prefix, const std::string& name) {
  auto key = std::make_pair(std::string(prefix), name);
  auto it = user_.find(key);
  if (it != user_.end()) return it->second;
  return user_.emplace(key, fresh(user_ident(prefix, name))).first->second;
}

std::string NameTable::fresh(const std::string& base) {
  std::string n = base;
  for (int i = 2; used_.count(n); ++i) n = base + "_" + std::to_string(i);
  used_.insert(n);
  return n;
}

std::string comment_text(const std::string& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    bool keep = c >= 0x20 && c < 0x7f && c != '\\' && c != '?' && c != '%' && c != '"' &&
                !(c == '/' && i > 0 && s[i - 1] == '*');
    if (keep) {
      r += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      r += buf;
    }
  }
  return r;
}

std::string comment(const std::string& s) { return "// " + comment_text(s); }

std::string string_literal(const std::string& s) { return "\"" + comment_text(s) + "\""; }

void check_generated_source(const std::string& code, const std::string& what) {
  size_t line = 1;
  for (size_t i = 0; i < code.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(code[i]);
    if (c == '\n') {
      if (i > 0 && code[i - 1] == '\\')
        throw std::logic_error("internal codegen error: line " + std::to_string(line) + " of " + what +
                               " ends with a backslash");
      ++line;
    } else if (c < 0x20 || c >= 0x7f) {
      throw std::logic_error("internal codegen error: line " + std::to_string(line) + " of " + what +
                             " holds byte " + std::to_string(c) + ", which is not printable ASCII");
    }
  }
}

std::string float_literal(double v, DType t) {
  bool f32 = t == DType::F32;
  if (std::isnan(v)) return f32 ? "__builtin_nanf(\"\")" : "__builtin_nan(\"\")";
  if (std::isinf(v)) {
    std::string h = f32 ? "__builtin_huge_valf()" : "__builtin_huge_val()";
    return v > 0 ? h : "(-" + h + ")";
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, f32 ? "%.9g" : "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  if (f32) s += "f";
  if (v < 0 || (v == 0 && std::signbit(v))) s = "(" + s + ")";
  return s;
}

std::string int_literal(int64_t v) {
  std::string s = std::to_string(v);
  return v < 0 ? "(" + s + ")" : s;
}

const char* c_type(DType t) { return t == DType::F32 ? "float" : "double"; }
const char* math_suffix(DType t) { return t == DType::F32 ? "f" : ""; }

namespace {
class VarFinder : public ExprVisitor {
 public:
  explicit VarFinder(const std::string& v) : name(v) {}
  using ExprVisitor::visit;
  void visit(const Var& n) override { found = found || n.name == name; }
  const std::string& name;
  bool found = false;
};

int64_t floordiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
}  // namespace

bool contains_var(const Expr& e, const std::string& var) {
  VarFinder f(var);
  f.visit(e);
  return f.found;
}

std::optional<Interval> interval_of(const Expr& e, const std::map<std::string, int64_t>& extents) {
  if (auto i = e.as<IntImm>()) return Interval{i->value, i->value};
  if (auto v = e.as<Var>()) {
    auto it = extents.find(v->name);
    if (it == extents.end()) return std::nullopt;
    return Interval{0, it->second - 1};
  }
  if (auto u = e.as<Unary>()) {
    if (u->op != UnOp::Neg) return std::nullopt;
    auto a = interval_of(u->a, extents);
    if (!a) return std::nullopt;
    return Interval{-a->hi, -a->lo};
  }
  auto b = e.as<Binary>();
  if (!b) return std::nullopt;
  auto x = interval_of(b->a, extents);
  auto y = interval_of(b->b, extents);
  if (!x || !y) return std::nullopt;
  switch (b->op) {
    case BinOp::Add:
      return Interval{x->lo + y->lo, x->hi + y->hi};
    case BinOp::Sub:
      return Interval{x->lo - y->hi, x->hi - y->lo};
    case BinOp::Mul: {
      int64_t c[4] = {x->lo * y->lo, x->lo * y->hi, x->hi * y->lo, x->hi * y->hi};
      return Interval{*std::min_element(c, c + 4), *std::max_element(c, c + 4)};
    }
    case BinOp::Div:
      if (y->lo != y->hi || y->lo <= 0) return std::nullopt;
      return Interval{floordiv(x->lo, y->lo), floordiv(x->hi, y->lo)};
    case BinOp::Mod:
      if (y->lo != y->hi || y->lo <= 0) return std::nullopt;
      if (x->lo >= 0 && x->hi < y->lo) return *x;
      return Interval{0, y->lo - 1};
    case BinOp::Max:
      return Interval{std::max(x->lo, y->lo), std::max(x->hi, y->hi)};
    case BinOp::Min:
      return Interval{std::min(x->lo, y->lo), std::min(x->hi, y->hi)};
    default:
      return std::nullopt;
  }
}

std::optional<bool> fold_condition(const Expr& cond, const std::map<std::string, int64_t>& extents) {
  if (auto i = cond.as<IntImm>()) return i->value != 0;
  auto b = cond.as<Binary>();
  if (!b) return std::nullopt;
  if (b->op == BinOp::And || b->op == BinOp::Or) {
    auto x = fold_condition(b->a, extents);
    auto y = fold_condition(b->b, extents);
    bool is_and = b->op == BinOp::And;
    if (x && y) return is_and ? (*x && *y) : (*x || *y);
    if (is_and && ((x && !*x) || (y && !*y))) return false;
    if (!is_and && ((x && *x) || (y && *y))) return true;
    return std::nullopt;
  }
  // Compare through the difference a - b, which cancels shared terms.
  Affine d = to_affine(binary(BinOp::Sub, b->a, b->b));
  std::optional<Interval> r;
  if (d.is_constant()) {
    r = Interval{d.constant, d.constant};
  } else {
    r = interval_of(binary(BinOp::Sub, b->a, b->b), extents);
  }
  if (!r) return std::nullopt;
  switch (b->op) {
    case BinOp::LT:
      if (r->hi < 0) return true;
      if (r->lo >= 0) return false;
      break;
    case BinOp::LE:
      if (r->hi <= 0) return true;
      if (r->lo > 0) return false;
      break;
    case BinOp::GT:
      if (r->lo > 0) return true;
      if (r->hi <= 0) return false;
      break;
    case BinOp::GE:
      if (r->lo >= 0) return true;
      if (r->hi < 0) return false;
      break;
    case BinOp::EQ:
      if (r->lo == 0 && r->hi == 0) return true;
      if (r->lo > 0 || r->hi < 0) return false;
      break;
    case BinOp::NE:
      if (r->lo == 0 && r->hi == 0) return false;
      if (r->lo > 0 || r->hi < 0) return true;
      break;
    default:
      break;
  }
  return std::nullopt;
}

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
  r.terms.erase(
      std::remove_if(r.terms.begin(), r.terms.end(), [&](const AffineTerm& t) { return t.var == var; }),
      r.terms.end());
  return r;
}

namespace {
void add_term(Affine& a, const AffineTerm& t) {
  if (t.coef == 0) return;
  for (auto& x : a.terms) {
    bool same = !t.var.empty() ? x.var == t.var : (x.var.empty() && structural_equal(x.expr, t.expr));
    if (same) {
      x.coef += t.coef;
      if (x.coef == 0) a.terms.erase(a.terms.begin() + (&x - a.terms.data()));
      return;
    }
  }
  a.terms.push_back(t);
}
Affine add(Affine a, const Affine& b, int64_t scale_b) {
  for (const auto& t : b.terms) add_term(a, {t.expr, t.var, t.coef * scale_b});
  a.constant += b.constant * scale_b;
  return a;
}
Affine scale(const Affine& a, int64_t k) {
  Affine r;
  return add(r, a, k);
}
Affine atom(const Expr& e) {
  Affine r;
  r.terms.push_back({e, "", 1});
  return r;
}
}  // namespace

Affine to_affine(const Expr& e) {
  if (auto i = e.as<IntImm>()) {
    Affine r;
    r.constant = i->value;
    return r;
  }
  if (auto v = e.as<Var>()) {
    Affine r;
    r.terms.push_back({e, v->name, 1});
    return r;
  }
  if (auto u = e.as<Unary>(); u && u->op == UnOp::Neg) return scale(to_affine(u->a), -1);
  if (auto b = e.as<Binary>()) {
    switch (b->op) {
      case BinOp::Add:
        return add(to_affine(b->a), to_affine(b->b), 1);
      case BinOp::Sub:
        return add(to_affine(b->a), to_affine(b->b), -1);
      case BinOp::Mul: {
        Affine x = to_affine(b->a), y = to_affine(b->b);
        if (x.is_constant()) return scale(y, x.constant);
        if (y.is_constant()) return scale(x, y.constant);
        return atom(e);
      }
      case BinOp::Div:
      case BinOp::Mod: {
        Affine x = to_affine(b->a), y = to_affine(b->b);
        if (x.is_constant() && y.is_constant() && y.constant != 0) {
          Affine r;
          int64_t q = floordiv(x.constant, y.constant);
          r.constant = b->op == BinOp::Div ? q : x.constant - q * y.constant;
          return r;
        }
        return atom(e);
      }
      default:
        return atom(e);
    }
  }
  return atom(e);
}

Affine flat_index(const std::vector<Expr>& indices, const std::vector<int64_t>& shape) {
  Affine r;
  int64_t stride = 1;
  std::vector<Affine> parts(indices.size());
  for (size_t d = indices.size(); d-- > 0;) {
    parts[d] = scale(to_affine(indices[d]), stride);
    stride *= d < shape.size() ? shape[d] : 1;
  }
  for (const auto& p : parts) r = add(r, p, 1);
  return r;
}

}  // namespace rctune::codegen::detail
