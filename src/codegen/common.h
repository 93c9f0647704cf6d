// Helpers shared by the kernel and reference generators (internal to the codegen module).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "rctune/ir/analysis.h"
#include "rctune/ir/expr.h"

namespace rctune::codegen::detail {

// ---- Hygiene: how names and text from the IR reach the generated C++ (docs/codegen.md) ----
//
// Every name that comes from the workload (tensors, buffers derived from them, loop variables) is
// written with a prefix that the generator's own names never start with: kTensorPrefix for tensors
// and buffers, kVarPrefix for loop and index variables. The generator's own names start with
// "rctune_" or are fixed words (buffers, team, Kokkos, std, v16f, ...), so that no user name can be
// a C++ keyword, an alternative token, a macro of the included headers, a Kokkos or std name, or
// one of the generator's variables. NameTable makes the mapping injective within one source.
inline constexpr const char* kTensorPrefix = "t_";
inline constexpr const char* kVarPrefix = "v_";

// prefix + the name's ASCII letters and digits, every other run of bytes ('.', '_', anything else)
// written as one '_', no '_' at either end, at most 80 characters: "i.0" -> v_i_0, "C.local" ->
// t_C_local, "__x" -> t_x. Always a valid identifier without "__"; not injective (see NameTable).
std::string user_ident(const char* prefix, const std::string& name);

// The C names of one generated source.
class NameTable {
 public:
  // The C name of the IR name `name` of one kind (kTensorPrefix or kVarPrefix): user_ident(...),
  // with _2, _3, ... appended when another name already took it. The same (prefix, name) always
  // gets the same C name; two different ones never do, nor does any name from fresh().
  const std::string& user(const char* prefix, const std::string& name);
  // A name no other name of this table has: base, else base_2, base_3, ...
  std::string fresh(const std::string& base);

 private:
  std::map<std::pair<std::string, std::string>, std::string> user_;
  std::set<std::string> used_;
};

// Text for the inside of a `//` comment or of a string literal: printable ASCII is kept, except
// '\\', '?' (trigraphs), '%' and '"', and the '/' of "*/"; those and every other byte (line
// breaks, other control characters, non-ASCII) are written %HH. The result cannot end the
// comment or the literal early, splice lines or open a block comment.
std::string comment_text(const std::string& s);
// "// " + comment_text(s).
std::string comment(const std::string& s);
// A C++ string literal holding comment_text(s), quotes included.
std::string string_literal(const std::string& s);

// Checks generated source: only printable ASCII and line feeds, and no line ending in '\\'.
// Throws std::logic_error ("internal codegen error: ...") otherwise; user text that reached the
// source unescaped cannot pass.
void check_generated_source(const std::string& code, const std::string& what);

// A C++ literal of the given dtype: 1.5f, (-2.0), (-__builtin_huge_valf()).
std::string float_literal(double v, ir::DType t);
std::string int_literal(int64_t v);

// The C type of a dtype ("float", "double") and the math function suffix ("f", "").
const char* c_type(ir::DType t);
const char* math_suffix(ir::DType t);

// Integer analysis (rctune/ir/analysis.h). The generator's intervals use ir::kCodegenIntervalRules.
using ir::Affine;
using ir::AffineTerm;
using ir::contains_var;
using ir::flat_index;
using ir::Interval;
using ir::to_affine;
// Over variables with ranges [0, extent); other variables are unknown.
std::optional<Interval> interval_of(const ir::Expr& e, const std::map<std::string, int64_t>& extents);

// Folds a condition to a constant when the variable ranges decide it.
std::optional<bool> fold_condition(const ir::Expr& cond, const std::map<std::string, int64_t>& extents);

}  // namespace rctune::codegen::detail
