// Vector math for generated host kernels (internal to the codegen module): float32 implementations of
// exp, log, tanh, erf, gelu, sigmoid, sqrt and rsqrt on GCC vector-extension types, emitted into the
// kernel source only when a vectorized loop calls them. See docs/codegen.md, "Vector math".
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "rctune/ir/expr.h"

namespace rctune::codegen::detail {

// True when unary op `op` has a float32 vector form (rctune_v<name>), e.g. Exp -> "exp".
bool has_vector_math(ir::UnOp op);
// The function name without prefix: "exp", "log", "sqrt", "rsqrt", "tanh", "erf", "gelu", "sigmoid".
// Only for ops where has_vector_math() holds.
std::string vector_math_name(ir::UnOp op);

// Source text that defines `static inline <vtype> rctune_v<name>(<vtype> x)` for every name in
// `names` (plus the helpers they call) on the float32 vector type `vtype` of `lanes` lanes, which
// the caller has already declared with a typedef. Needs <cstdint>; includes <immintrin.h> itself
// (x86 only) when sqrt or rsqrt is requested and `with_include` is set.
std::string vector_math_source(const std::string& vtype, int64_t lanes, const std::set<std::string>& names,
                               bool with_include = true);

}  // namespace rctune::codegen::detail
