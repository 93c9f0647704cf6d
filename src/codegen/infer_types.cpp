#include "codegen/infer_types.h"

#include <stdexcept>

namespace rctune::codegen::detail {

using namespace rctune::ir;

Ty join(Ty a, Ty b) {
  if (a == Ty::F64 || b == Ty::F64) return Ty::F64;
  if (a == Ty::F32 || b == Ty::F32) return Ty::F32;
  return Ty::Int;
}

DType TypeOf::buffer_dtype(const std::string& name) const {
  auto it = decls_.find(name);
  if (it == decls_.end())
    throw std::invalid_argument("codegen: access to unknown buffer '" + name + "' in kernel " + kernel_);
  return it->second.dtype;
}

Ty TypeOf::operator()(const Expr& e, DType ctx) const {
  const TypeOf& type_of = *this;
  switch (e.kind()) {
    case ExprKind::IntImm:
      return Ty::Int;
    case ExprKind::FloatImm:
      return float_ty(ctx);
    case ExprKind::Var:
      return Ty::Int;
    case ExprKind::Load:
      return float_ty(buffer_dtype(e.as<Load>()->buffer));
    case ExprKind::Binary: {
      auto b = e.as<Binary>();
      if (is_boolean_op(b->op)) return Ty::Bool;
      return join(type_of(b->a, ctx), type_of(b->b, ctx));
    }
    case ExprKind::Unary: {
      auto u = e.as<Unary>();
      Ty a = type_of(u->a, ctx);
      if (u->op == UnOp::Neg || u->op == UnOp::Abs) return a == Ty::Bool ? Ty::Int : a;
      return is_float(a) ? a : float_ty(ctx);
    }
    case ExprKind::Select: {
      auto s = e.as<Select>();
      return join(type_of(s->then_value, ctx), type_of(s->else_value, ctx));
    }
  }
  return Ty::Int;
}

}  // namespace rctune::codegen::detail
