// Type inference for kernel expressions: integer index arithmetic, booleans, or f32/f64 values.
#pragma once

#include <string>

#include "codegen/nest_queries.h"
#include "rctune/ir/expr.h"

namespace rctune::codegen::detail {

enum class Ty { Int, Bool, F32, F64 };
inline Ty float_ty(ir::DType d) { return d == ir::DType::F32 ? Ty::F32 : Ty::F64; }
inline bool is_float(Ty t) { return t == Ty::F32 || t == Ty::F64; }
inline ir::DType ty_dtype(Ty t) { return t == Ty::F64 ? ir::DType::F64 : ir::DType::F32; }
// The type of a binary operation on a and b: f64 over f32 over integers.
Ty join(Ty a, Ty b);

// The types of one kernel's expressions. ctx is the dtype of the value being computed (the store's
// buffer), which float literals take.
class TypeOf {
 public:
  TypeOf(const BufferDecls& decls, std::string kernel) : decls_(decls), kernel_(std::move(kernel)) {}
  Ty operator()(const ir::Expr& e, ir::DType ctx) const;
  // Throws std::invalid_argument for a buffer the kernel does not declare.
  ir::DType buffer_dtype(const std::string& name) const;

 private:
  const BufferDecls& decls_;
  std::string kernel_;
};

}  // namespace rctune::codegen::detail
