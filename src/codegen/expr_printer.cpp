#include "codegen/expr_printer.h"

#include <stdexcept>

#include "codegen/vmath.h"
#include "rctune/ir/check.h"

namespace rctune::codegen::detail {
namespace {

using namespace rctune::ir;

// "-x", with parentheses where x itself starts with a minus sign ("-(-y)", never "--y").
std::string negate(const CExpr& e) {
  std::string x = wrap(e, kPrecedenceUnary);
  return "-" + (x[0] == '-' ? "(" + x + ")" : x);
}

}  // namespace

std::string wrap(const CExpr& e, int need) { return e.prec < need ? "(" + e.s + ")" : e.s; }

std::string ExprPrinter::affine(const Affine& a, int* prec_out) {
  std::string s;
  int prec = 100;
  int pieces = 0;
  for (const auto& t : a.terms) {
    std::string x;
    int xp = 100;
    if (!t.var.empty()) {
      x = scope_.var_name(t.var);
    } else {
      CExpr e = print(t.expr, DType::F32, nullptr);
      x = e.s;
      xp = e.prec;
    }
    int64_t m = t.coef < 0 ? -t.coef : t.coef;
    std::string term = x;
    int tp = xp;
    if (m != 1) {
      term = (xp < 80 ? "(" + x + ")" : x) + " * " + std::to_string(m);
      tp = 80;
    }
    if (pieces == 0) {
      if (t.coef < 0) {
        term = "-" + (tp < 90 || term[0] == '-' ? "(" + term + ")" : term);
        tp = 90;
      }
      s = term;
      prec = tp;
    } else {
      if (pieces == 1 && prec < 70) s = "(" + s + ")";
      s += (t.coef < 0 ? " - " : " + ") + (tp <= 70 ? "(" + term + ")" : term);
      prec = 70;
    }
    ++pieces;
  }
  if (pieces == 0) {
    s = int_literal(a.constant);
    prec = 100;
  } else if (a.constant != 0) {
    if (pieces == 1 && prec < 70) s = "(" + s + ")";
    s += (a.constant < 0 ? " - " : " + ") + std::to_string(a.constant < 0 ? -a.constant : a.constant);
    prec = 70;
  }
  if (prec_out) *prec_out = prec;
  return s;
}

std::optional<std::string> ExprPrinter::lane_ref(const BufInfo& b, const Affine& fa) {
  const auto& lane = scope_.lane;
  if (!b.promoted || !lane || fa.coef_of(lane->var) != 1) return std::nullopt;
  Affine rest = fa.without(lane->var);
  if (!rest.is_constant()) return std::nullopt;
  const std::string& reg = b.register_at(rest.constant + lane->base);
  auto spilled = scope_.lane_arrays.find(reg);
  if (spilled == scope_.lane_arrays.end())
    throw std::logic_error("internal codegen error: register " + reg + " has no spilled lanes here");
  std::string idx = scope_.var_name(lane->var);
  if (lane->base != 0) idx += " - " + std::to_string(lane->base);
  return spilled->second + "[" + idx + "]";
}

CExpr ExprPrinter::load(const Load& l, const VecCtx* vc) {
  auto it = scope_.bufs.find(l.buffer);
  if (it == scope_.bufs.end())
    throw std::invalid_argument("codegen: load from buffer '" + l.buffer + "' outside its scope in kernel " +
                                kernel_);
  const BufInfo& b = it->second;
  Ty ty = float_ty(b.decl.dtype);
  Affine fa = flat_index(l.indices, b.decl.shape);
  if (vc && fa.coef_of(vc->var) != 0) {
    Affine off = fa.without(vc->var);
    off.constant += vc->base;
    if (b.promoted) return {b.register_at(off.constant), 100, true, ty};
    scope_.uses.vload = true;
    return {"rctune_vload<" + vc->vtype + ">(&" + b.cname + "[" + affine(off) + "])", 100, true, ty};
  }
  if (auto r = lane_ref(b, fa)) return {*r, 100, false, ty};
  if (b.promoted) return {b.element_ref(fa.constant), 100, false, ty};
  return {b.cname + "[" + affine(fa) + "]", 100, false, ty};
}

std::string ExprPrinter::as_float(const CExpr& e, const Expr& src, Ty t, int need) const {
  if (is_float(e.ty) || e.vec) return wrap(e, need);
  if (auto i = src.as<IntImm>()) return float_literal(static_cast<double>(i->value), ty_dtype(t));
  return std::string("static_cast<") + c_type(ty_dtype(t)) + ">(" + e.s + ")";
}

std::string ExprPrinter::as_vec(const CExpr& e, const VecCtx* vc, const std::string& text) const {
  if (e.vec || !vc) return text;
  if (text == "0.0f" || text == "0.0") return vc->vtype + "{}";
  return vc->vtype + "{} + " + (e.prec <= 70 ? "(" + text + ")" : text);
}

CExpr ExprPrinter::print(const Expr& e, DType ctx, const VecCtx* vc) {
  switch (e.kind()) {
    case ExprKind::IntImm:
      return {int_literal(e.as<IntImm>()->value), 100, false, Ty::Int};
    case ExprKind::FloatImm:
      return {float_literal(e.as<FloatImm>()->value, ctx), 100, false, float_ty(ctx)};
    case ExprKind::Var:
      return {scope_.var_name(e.as<Var>()->name), 100, false, Ty::Int};
    case ExprKind::Load:
      return load(*e.as<Load>(), vc);
    case ExprKind::Binary:
      return binary(e, *e.as<Binary>(), ctx, vc);
    case ExprKind::Unary:
      return unary(*e.as<Unary>(), ctx, vc);
    case ExprKind::Select:
      return select(*e.as<Select>(), ctx, vc);
  }
  return {};
}

CExpr ExprPrinter::select(const Select& s, DType ctx, const VecCtx* vc) {
  if (auto c = fold_condition(s.cond, scope_.extents))
    return print(*c ? s.then_value : s.else_value, ctx, vc);
  // Inside a full vector every lane passes a lane-dependent condition (see the vector loop).
  if (vc && contains_var(s.cond, vc->var)) return print(s.then_value, ctx, vc);
  CExpr c = print(s.cond, ctx, nullptr);
  CExpr t = print(s.then_value, ctx, vc), f = print(s.else_value, ctx, vc);
  Ty ty = join(t.ty, f.ty);
  bool vec = t.vec || f.vec;
  std::string ts = is_float(ty) ? as_float(t, s.then_value, ty, 21) : wrap(t, 21);
  std::string fs = is_float(ty) ? as_float(f, s.else_value, ty, 20) : wrap(f, 20);
  if (vec) {
    ts = as_vec(t, vc, ts);
    fs = as_vec(f, vc, fs);
  }
  return {wrap(c, 21) + " ? " + ts + " : " + fs, 20, vec, ty};
}

CExpr ExprPrinter::binary(const Expr& self, const Binary& b, DType ctx, const VecCtx* vc) {
  Ty ty = type_of_(self, ctx);
  if (ty == Ty::Int && (b.op == BinOp::Add || b.op == BinOp::Sub || b.op == BinOp::Mul)) {
    int p;
    std::string s = affine(to_affine(self), &p);
    return {s, p, false, Ty::Int};
  }
  if (b.op == BinOp::Max || b.op == BinOp::Min) return min_max(b, ty, ctx, vc);
  if (ty == Ty::Int && (b.op == BinOp::Div || b.op == BinOp::Mod)) return int_div_mod(b, ctx);
  if (is_boolean_op(b.op)) return comparison(self, b, ctx);
  // Float arithmetic (+ - * /).
  int p = binop_precedence(b.op);
  CExpr x = print(b.a, ctx, vc), y = print(b.b, ctx, vc);
  std::string xs = is_float(ty) ? as_float(x, b.a, ty, p) : wrap(x, p);
  std::string ys = is_float(ty) ? as_float(y, b.b, ty, p + 1) : wrap(y, p + 1);
  return {xs + " " + binop_name(b.op) + " " + ys, p, x.vec || y.vec, ty};
}

CExpr ExprPrinter::min_max(const Binary& b, Ty ty, DType ctx, const VecCtx* vc) {
  (b.op == BinOp::Max ? scope_.uses.max : scope_.uses.min) = true;
  CExpr x = print(b.a, ctx, vc), y = print(b.b, ctx, vc);
  bool vec = x.vec || y.vec;
  std::string xs = is_float(ty) ? as_float(x, b.a, ty, 0) : x.s;
  std::string ys = is_float(ty) ? as_float(y, b.b, ty, 0) : y.s;
  std::string t = ty == Ty::Int ? "int64_t" : c_type(ty_dtype(ty));
  if (vec) {
    t = vc->vtype;
    xs = as_vec(x, vc, xs);
    ys = as_vec(y, vc, ys);
  }
  return {
      std::string(b.op == BinOp::Max ? "rctune_max" : "rctune_min") + "<" + t + ">(" + xs + ", " + ys + ")",
      100, vec, ty};
}

// Integer / and %: C's operators where both sides are known non-negative, else the floor forms.
CExpr ExprPrinter::int_div_mod(const Binary& b, DType ctx) {
  CExpr x = print(b.a, ctx, nullptr), y = print(b.b, ctx, nullptr);
  auto xi = interval_of(b.a, scope_.extents);
  auto yi = interval_of(b.b, scope_.extents);
  if (xi && yi && xi->lo >= 0 && yi->lo > 0)
    return {wrap(x, 80) + (b.op == BinOp::Div ? " / " : " % ") + wrap(y, 81), 80, false, Ty::Int};
  (b.op == BinOp::Div ? scope_.uses.floordiv : scope_.uses.floormod) = true;
  return {std::string(b.op == BinOp::Div ? "rctune_floordiv(" : "rctune_floormod(") + x.s + ", " + y.s + ")",
          100, false, Ty::Int};
}

CExpr ExprPrinter::comparison(const Expr& self, const Binary& b, DType ctx) {
  int p = binop_precedence(b.op);
  if (auto c = fold_condition(self, scope_.extents)) return {*c ? "true" : "false", 100, false, Ty::Bool};
  if (b.op == BinOp::And || b.op == BinOp::Or) {
    // A side that the loop ranges decide drops out: (true && x) is x, (false || x) is x.
    auto ca = fold_condition(b.a, scope_.extents), cb = fold_condition(b.b, scope_.extents);
    if (ca) return print(b.b, ctx, nullptr);
    if (cb) return print(b.a, ctx, nullptr);
  }
  if (b.op != BinOp::And && b.op != BinOp::Or && type_of_(b.a, ctx) == Ty::Int &&
      type_of_(b.b, ctx) == Ty::Int) {
    // Index comparisons against a constant keep the constant on the right: p + 1 < 9 -> p < 8.
    Affine x = to_affine(b.a), y = to_affine(b.b);
    if (y.is_constant() && !x.is_constant()) {
      int64_t rhs = y.constant - x.constant;
      x.constant = 0;
      int xp;
      std::string xs = affine(x, &xp);
      return {(xp < p ? "(" + xs + ")" : xs) + " " + binop_name(b.op) + " " + int_literal(rhs), p, false,
              Ty::Bool};
    }
  }
  CExpr x = print(b.a, ctx, nullptr), y = print(b.b, ctx, nullptr);
  return {wrap(x, p) + " " + binop_name(b.op) + " " + wrap(y, p + 1), p, false, Ty::Bool};
}

// The float32 vector math emitted into the prologue (see vmath.h), on a vector operand.
CExpr ExprPrinter::vector_math(const Unary& u, const CExpr& a, const std::string& arg, Ty ty,
                               const VecCtx* vc) {
  RCTUNE_CHECK(vc && ty_dtype(ty) == DType::F32);
  std::string name = vector_math_name(u.op);
  scope_.uses.vector_math[vc->lanes].insert(u.op == UnOp::Rsqrt ? "sqrt" : name);
  if (u.op == UnOp::Rsqrt)  // like the scalar form 1 / sqrtf(x)
    return {float_literal(1.0, DType::F32) + " / rctune_vsqrt(" + arg + ")", 80, true, ty};
  return {"rctune_v" + name + "(" + arg + ")", 100, a.vec, ty};
}

CExpr ExprPrinter::unary(const Unary& u, DType ctx, const VecCtx* vc) {
  CExpr a = print(u.a, ctx, vc);
  Ty ty = is_float(a.ty) ? a.ty : (u.op == UnOp::Neg || u.op == UnOp::Abs ? Ty::Int : float_ty(ctx));
  if (u.op == UnOp::Neg) return {negate(a), 90, a.vec, ty};
  DType d = ty_dtype(ty);
  std::string arg = is_float(ty) ? as_float(a, u.a, ty, 0) : a.s;
  std::string suf = math_suffix(d);
  auto call = [&](const std::string& fn) -> CExpr { return {fn + "(" + arg + ")", 100, a.vec, ty}; };
  if (a.vec && has_vector_math(u.op)) return vector_math(u, a, arg, ty, vc);
  auto& uses = scope_.uses;
  switch (u.op) {
    case UnOp::Relu: {
      uses.max = true;
      std::string t = a.vec ? vc->vtype : c_type(d);
      std::string zero = a.vec ? vc->vtype + "{}" : float_literal(0.0, d);
      return {"rctune_max<" + t + ">(" + arg + ", " + zero + ")", 100, a.vec, ty};
    }
    case UnOp::Abs:
      if (a.vec) {
        uses.max = true;
        return {"rctune_max<" + vc->vtype + ">(" + arg + ", " + negate(a) + ")", 100, true, ty};
      }
      if (ty == Ty::Int)
        return {"(" + a.s + " < 0 ? " + negate(a) + " : " + wrap(a, 20) + ")", 100, false, ty};
      return call("fabs" + suf);
    case UnOp::Exp:
      return call("exp" + suf);
    case UnOp::Log:
      return call("log" + suf);
    case UnOp::Sqrt:
      return call("sqrt" + suf);
    case UnOp::Rsqrt:
      return {float_literal(1.0, d) + " / sqrt" + suf + "(" + arg + ")", 80, false, ty};
    case UnOp::Tanh:
      return call("tanh" + suf);
    case UnOp::Erf:
      return call("erf" + suf);
    case UnOp::Gelu:
      (d == DType::F32 ? uses.gelu_f : uses.gelu_d) = true;
      return call("rctune_gelu");
    case UnOp::Sigmoid:
      (d == DType::F32 ? uses.sigmoid_f : uses.sigmoid_d) = true;
      return call("rctune_sigmoid");
    case UnOp::Neg:
      break;
  }
  return a;
}

}  // namespace rctune::codegen::detail
