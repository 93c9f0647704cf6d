// Kokkos C++ text of kernel expressions: index arithmetic, float math, loads from buffers and
// promoted registers, and vector values inside a vector chunk.
#pragma once

#include <optional>
#include <string>

#include "codegen/infer_types.h"
#include "codegen/print_scope.h"

namespace rctune::codegen::detail {

// A printed expression: text, C precedence of its top operator, whether it is a vector value,
// and its type.
struct CExpr {
  std::string s;
  int prec = 100;
  bool vec = false;
  Ty ty = Ty::Int;
};

// The text of e, in parentheses when its precedence is below need.
std::string wrap(const CExpr& e, int need);

class ExprPrinter {
 public:
  ExprPrinter(PrintScope& scope, const TypeOf& type_of, std::string kernel)
      : scope_(scope), type_of_(type_of), kernel_(std::move(kernel)) {}

  // e as a value of the store context ctx; vc: inside a vector chunk (vector values allowed).
  CExpr print(const ir::Expr& e, ir::DType ctx, const VecCtx* vc);
  // An integer affine expression; *prec_out gets its precedence.
  std::string affine(const Affine& a, int* prec_out = nullptr);
  // Converts an operand to the float type t (integer literals become float literals).
  std::string as_float(const CExpr& e, const ir::Expr& src, Ty t, int need) const;
  // A scalar operand broadcast to the chunk's vector type.
  std::string as_vec(const CExpr& e, const VecCtx* vc, const std::string& text) const;
  // In the scalar remainder of a peeled vector chunk, lane accesses to promoted registers go to a
  // spilled copy of the register: reg_lanes[v - base].
  std::optional<std::string> lane_ref(const BufInfo& b, const Affine& fa);

 private:
  CExpr load(const ir::Load& l, const VecCtx* vc);
  CExpr select(const ir::Select& s, ir::DType ctx, const VecCtx* vc);
  CExpr binary(const ir::Expr& self, const ir::Binary& b, ir::DType ctx, const VecCtx* vc);
  CExpr min_max(const ir::Binary& b, Ty ty, ir::DType ctx, const VecCtx* vc);
  CExpr int_div_mod(const ir::Binary& b, ir::DType ctx);
  CExpr comparison(const ir::Expr& self, const ir::Binary& b, ir::DType ctx);
  CExpr unary(const ir::Unary& u, ir::DType ctx, const VecCtx* vc);
  CExpr vector_math(const ir::Unary& u, const CExpr& a, const std::string& arg, Ty ty, const VecCtx* vc);

  PrintScope& scope_;
  const TypeOf& type_of_;
  std::string kernel_;
};

}  // namespace rctune::codegen::detail
