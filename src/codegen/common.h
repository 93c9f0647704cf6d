// Helpers shared by the kernel and reference generators (internal to the codegen module).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rctune/ir/expr.h"

namespace rctune::codegen::detail {

// A C identifier for an IR name: "i.0" -> "i_0", "C.local" -> "C_local".
std::string c_ident(const std::string& name);

// A C++ literal of the given dtype: 1.5f, (-2.0), (-__builtin_huge_valf()).
std::string float_literal(double v, ir::DType t);
std::string int_literal(int64_t v);

// The C type of a dtype ("float", "double") and the math function suffix ("f", "").
const char* c_type(ir::DType t);
const char* math_suffix(ir::DType t);

bool contains_var(const ir::Expr& e, const std::string& var);

// Integer interval of an index expression over known variable ranges [0, extent).
struct Interval {
  int64_t lo, hi;
};
std::optional<Interval> interval_of(const ir::Expr& e, const std::map<std::string, int64_t>& extents);

// Folds a condition to a constant when the variable ranges decide it.
std::optional<bool> fold_condition(const ir::Expr& cond, const std::map<std::string, int64_t>& extents);

// An integer expression as  sum(coef * term) + constant. Terms are either loop variables or opaque
// sub-expressions ("atoms": divisions, modulos, min/max, loads) that are kept whole.
struct AffineTerm {
  ir::Expr expr;    // the variable or the atom
  std::string var;  // variable name when the term is a plain variable, else empty
  int64_t coef = 0;
};
struct Affine {
  std::vector<AffineTerm> terms;  // first-occurrence order, no zero coefficients
  int64_t constant = 0;
  bool is_constant() const { return terms.empty(); }
  // Coefficient of a plain variable term (0 if absent).
  int64_t coef_of(const std::string& var) const;
  // True when var occurs inside an atom (non-affine use).
  bool var_in_atom(const std::string& var) const;
  Affine without(const std::string& var) const;
};
Affine to_affine(const ir::Expr& e);
// Row-major flat index of a multi-dimensional access.
Affine flat_index(const std::vector<ir::Expr>& indices, const std::vector<int64_t>& shape);

}  // namespace rctune::codegen::detail
