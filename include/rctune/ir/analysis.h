// Integer analysis of expressions: intervals, affine forms, the loads an expression reads, and the
// precedence of operators in printed text. Every module that reasons about index arithmetic (the
// simplifier, lowering, codegen, the cost model's features) uses these, so that one rule decides
// what a division, a modulo or an unknown variable means.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rctune/ir/expr.h"

namespace rctune::ir {

// ---------------------------------------------------------------- intervals

// A closed integer interval [lo, hi].
struct Interval {
  int64_t lo = 0, hi = 0;
};

// The rules interval_of applies where callers need different answers. The defaults are the
// simplifier's and lowering's (bound_of). Every result is sound; a rule that is off only makes
// the answer weaker (wider, or unknown).
struct IntervalRules {
  // x % c with x in [lo, hi]: when lo and hi lie between the same two multiples of c the result is
  // [lo mod c, hi mod c] ([12, 13] % 10 = [2, 3]); when off, only an x already in [0, c) passes
  // through unchanged and everything else is [0, c - 1].
  bool exact_mod = true;
  // Comparisons and logical operators are [0, 1] (when their operands are known); when off they
  // are unknown.
  bool booleans = true;
  // Unary negation -x is [-hi, -lo]; when off it is unknown.
  bool negation = false;
  // select(c, t, f) is the hull of t and f (c is not looked at); when off it is unknown.
  bool select_hull = false;
};

// The rules of the Kokkos code generator, which folds guards and divisions with them.
inline constexpr IntervalRules kCodegenIntervalRules{.exact_mod = false, .booleans = false, .negation = true};
// The rules of the cost model's footprints and strides.
inline constexpr IntervalRules kFeatureIntervalRules{.booleans = false, .select_hull = true};

// The interval of a variable by name; nullopt when it is unknown (unbounded).
using VarIntervalFn = std::function<std::optional<Interval>(const std::string& name)>;

// Interval of an integer expression: integer constants, variables (through `var_interval`), + - *
// (nullopt when a bound overflows int64), floor division and modulo by a positive constant,
// min, max, and what `rules` adds. Anything else (loads, floats, other unary functions,
// division by a non-constant) is unknown: nullopt.
std::optional<Interval> interval_of(const Expr& e, const VarIntervalFn& var_interval,
                                    const IntervalRules& rules = {});
// Variables with ranges [0, extent); the first entry of a name counts; other names are unknown.
std::optional<Interval> interval_of(const Expr& e, const std::vector<VarRange>& var_extents,
                                    const IntervalRules& rules = {});
// The step of interval_of for one binary operator whose operands lie in x and y: nullopt when a
// bound of + - * overflows int64, for division or modulo by anything but a positive constant, and
// for comparisons and logical operators unless rules.booleans.
std::optional<Interval> binary_interval(BinOp op, Interval x, Interval y, const IntervalRules& rules = {});

// Floor division and modulo (the IR's Div and Mod on integers); b != 0.
int64_t floor_div(int64_t a, int64_t b);
int64_t floor_mod(int64_t a, int64_t b);

// ---------------------------------------------------------------- affine forms

// An integer expression as  sum(coef * term) + constant. Terms are variables or opaque
// sub-expressions ("atoms": divisions, modulos, min/max, loads, products of two non-constants)
// kept whole. Two variable terms are the same when their names are; two atoms when they are
// structurally equal.
struct AffineTerm {
  Expr expr;        // the variable or the atom
  std::string var;  // the name when the term is a plain variable, else empty
  int64_t coef = 0;
};
struct Affine {
  std::vector<AffineTerm> terms;  // first-occurrence order, no zero coefficients
  int64_t constant = 0;

  bool is_constant() const { return terms.empty(); }
  // Coefficient of a plain variable term (0 if absent).
  int64_t coef_of(const std::string& var) const;
  // True when var occurs inside an atom (a non-affine use).
  bool var_in_atom(const std::string& var) const;
  // This form without the term of variable var.
  Affine without(const std::string& var) const;

  // Adds coef * term (a Var becomes a variable term, anything else an atom); a term whose
  // coefficient reaches 0 is removed.
  void add_term(const Expr& term, int64_t coef);
  // Adds scale * o.
  void add(const Affine& o, int64_t scale);
};

// Decomposes e: integer constants, variables, + and -, unary negation, products with a constant
// side, and integer division or modulo of two constants; every other sub-expression is an atom.
Affine to_affine(const Expr& e);
// Row-major flat index of a multi-dimensional access into a buffer of the given shape.
Affine flat_index(const std::vector<Expr>& indices, const std::vector<int64_t>& shape);

// ---------------------------------------------------------------- loads

// Calls fn for every load in e, in pre-order: a load before the loads inside its indices, and
// operands left to right.
void for_each_load(const Expr& e, const std::function<void(const Load&)>& fn);
// The index lists of every load of `buffer` in e, in for_each_load order.
std::vector<std::vector<Expr>> load_indices_of(const Expr& e, const std::string& buffer);

// True when variable `name` occurs in e.
bool contains_var(const Expr& e, const std::string& name);

// ---------------------------------------------------------------- precedence

// Binding strength of an operator in printed text (IR text and generated C++, whose precedences
// agree): a larger number binds tighter. Max and min print as calls.
inline constexpr int kPrecedenceOr = 30;
inline constexpr int kPrecedenceAnd = 40;
inline constexpr int kPrecedenceEquality = 55;        // == !=
inline constexpr int kPrecedenceRelational = 60;      // < <= > >=
inline constexpr int kPrecedenceAdditive = 70;        // + -
inline constexpr int kPrecedenceMultiplicative = 80;  // * / %
inline constexpr int kPrecedenceUnary = 90;           // -x
inline constexpr int kPrecedenceAtom = 100;           // names, literals, calls, subscripts
int binop_precedence(BinOp op);

}  // namespace rctune::ir
