#include "codegen/plan_vectors.h"

#include <algorithm>
#include <optional>

#include "codegen/common.h"
#include "codegen/lane_guards.h"
#include "codegen/vmath.h"

namespace rctune::codegen::detail {
namespace {

using namespace rctune::ir;

// Checks that the body of one vectorized loop over v has a vector form, and finds its lane dtype.
class VectorBodyCheck : public StmtVisitor {
 public:
  using StmtVisitor::visit;
  VectorBodyCheck(const std::string& v, const BufferDecls& decls, const TypeOf& type_of)
      : v_(v), decls_(decls), type_of_(type_of) {}

  std::optional<DType> dtype;
  std::string reason;
  bool lane_guards = false;

  // ok stays true while the body has a vector form; the first failure stops the walk.
  bool ok = true;
  void visit(const For&) override { fail("body contains a loop"); }
  void visit(const Allocate&) override { fail("body allocates a buffer"); }
  void visit(const Seq& n) override {
    for (const auto& x : n.stmts)
      if (ok) visit(x);
  }
  void visit(const IfThenElse& n) override {
    if (!ok) return;
    if (contains_var(n.cond, v_)) {
      if (n.else_case || !is_lane_guard(n.cond, v_, type_of_)) return fail("guard depends on " + v_);
      lane_guards = true;
    }
    visit(n.then_case);
    if (ok) visit(n.else_case);
  }
  void visit(const Store& n) override {
    if (ok) ok = store(n);
  }

 private:
  void fail(const std::string& why) {
    reason = why;
    ok = false;
  }
  bool store(const Store& st) {
    if (decls_.find(st.buffer) == decls_.end()) return false;
    bool varying = false;
    for (const auto& i : st.indices) varying = varying || contains_var(i, v_);
    if (!varying) {
      reason = "store to " + st.buffer + " does not vary along " + v_ + " (a reduction)";
      return false;
    }
    DType d = decls_.at(st.buffer).dtype;
    return unit_stride(st.buffer, st.indices) && set_dtype(d) && expr(st.value, d);
  }

  bool set_dtype(DType d) {
    if (dtype && *dtype != d) {
      reason = "mixed f32/f64 lanes";
      return false;
    }
    dtype = d;
    return true;
  }
  // A varying access must be unit-stride in v.
  bool unit_stride(const std::string& buf, const std::vector<Expr>& idx) {
    Affine a = flat_index(idx, decls_.at(buf).shape);
    if (a.coef_of(v_) != 1 || a.var_in_atom(v_)) {
      reason = "access to " + buf + " is not unit-stride in " + v_;
      return false;
    }
    return true;
  }

  bool expr(const Expr& e, DType ctx) {
    if (!contains_var(e, v_)) return true;
    switch (e.kind()) {
      case ExprKind::Var:
        reason = "loop variable " + v_ + " used as a value";
        return false;
      case ExprKind::Load: {
        auto l = e.as<Load>();
        if (decls_.find(l->buffer) == decls_.end()) return false;
        return unit_stride(l->buffer, l->indices) && set_dtype(decls_.at(l->buffer).dtype);
      }
      case ExprKind::Binary:
        return binary(e, *e.as<Binary>(), ctx);
      case ExprKind::Unary:
        return unary(e, *e.as<Unary>(), ctx);
      case ExprKind::Select: {
        auto s = e.as<Select>();
        if (contains_var(s->cond, v_)) {
          if (!is_lane_guard(s->cond, v_, type_of_)) {
            reason = "condition depends on " + v_;
            return false;
          }
          lane_guards = true;  // padding: full vectors where every lane is in range
        }
        return expr(s->then_value, ctx) && expr(s->else_value, ctx);
      }
      default:
        return false;
    }
  }
  bool binary(const Expr& e, const Binary& b, DType ctx) {
    bool arith = b.op == BinOp::Add || b.op == BinOp::Sub || b.op == BinOp::Mul || b.op == BinOp::Div ||
                 b.op == BinOp::Max || b.op == BinOp::Min;
    if (!arith || !is_float(type_of_(e, ctx))) {
      reason = std::string("'") + binop_name(b.op) + "' on the vector lanes";
      return false;
    }
    if (contains_var(b.a, v_) && type_of_(b.a, ctx) == Ty::Int) return false;
    if (contains_var(b.b, v_) && type_of_(b.b, ctx) == Ty::Int) return false;
    return expr(b.a, ctx) && expr(b.b, ctx);
  }
  bool unary(const Expr& e, const Unary& u, DType ctx) {
    bool math = has_vector_math(u.op);
    if (u.op != UnOp::Neg && u.op != UnOp::Relu && u.op != UnOp::Abs && !math) {
      reason = std::string(unop_name(u.op)) + " has no vector form here";
      return false;
    }
    // Vector math (rctune_vexp, ...) exists for float32 only; f64 keeps the scalar loop.
    if (math && type_of_(e, ctx) != Ty::F32) {
      reason = std::string(unop_name(u.op)) + " has no f64 vector form here";
      return false;
    }
    if (!is_float(type_of_(u.a, ctx))) return false;
    return expr(u.a, ctx);
  }

  const std::string& v_;
  const BufferDecls& decls_;
  const TypeOf& type_of_;
};

VecPlan plan_loop(const For& f, const BufferDecls& decls, const TypeOf& type_of, int vector_bytes) {
  VecPlan p;
  VectorBodyCheck check(f.var, decls, type_of);
  check.visit(f.body);
  bool ok = check.ok;
  p.lane_guards = check.lane_guards;
  p.stores_varying = all_stores_vary(f.body, f.var);
  std::string reason = check.reason;
  if (ok && !check.dtype) {
    ok = false;
    reason = "no store varies along the loop";
  }
  if (ok) {
    int64_t native = std::max<int64_t>(1, vector_bytes / dtype_bytes(*check.dtype));
    int64_t w = 1;
    while (w * 2 <= native && f.extent % (w * 2) == 0) w *= 2;
    if (w < 2) {
      ok = false;
      reason = "extent " + std::to_string(f.extent) + " has no power-of-two factor";
    } else {
      p.lanes = w;
      p.chunks = f.extent / w;
      p.dtype = *check.dtype;
    }
  }
  p.ok = ok;
  p.reason = reason;
  return p;
}

class PlanVectors : public StmtVisitor {
 public:
  using StmtVisitor::visit;
  PlanVectors(const BufferDecls& decls, const TypeOf& type_of, int vector_bytes)
      : decls_(decls), type_of_(type_of), vector_bytes_(vector_bytes) {}
  VectorPlans plans;
  void visit(const For& n) override {
    if (n.for_kind == ForKind::Vectorized || n.bind == BindLevel::Vector)
      plans[&n] = plan_loop(n, decls_, type_of_, vector_bytes_);
    StmtVisitor::visit(n);
  }

 private:
  const BufferDecls& decls_;
  const TypeOf& type_of_;
  int vector_bytes_;
};

}  // namespace

const VecPlan* vector_lowering(const For& f, const VectorPlans& plans) {
  if (f.for_kind != ForKind::Vectorized || f.bind == BindLevel::Vector) return nullptr;
  const VecPlan& p = plans.at(&f);
  return p.ok ? &p : nullptr;
}

VectorPlans plan_vectors(const Stmt& body, const BufferDecls& decls, const TypeOf& type_of,
                         int vector_bytes) {
  PlanVectors p(decls, type_of, vector_bytes);
  p.visit(body);
  return std::move(p.plans);
}

}  // namespace rctune::codegen::detail
