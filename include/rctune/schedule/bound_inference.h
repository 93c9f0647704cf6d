// Bound inference for lowering: the region of a tensor that a loop body touches, as a symbolic base
// (an expression over the loops that are fixed) and a constant extent per dimension.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "rctune/ir/expr.h"

namespace rctune::schedule {

// Inclusive interval [lo, hi] whose bounds are expressions over the fixed variables.
struct SymbolicInterval {
  ir::Expr lo, hi;
};

// Interval of the integer expression e when the variables in `ranging` run over [0, extent) and
// every other variable is held fixed (it appears in lo and hi as itself). Affine expressions (with
// constant multipliers, floor division and modulo by positive constants, min and max) are handled;
// nullopt for anything else that depends on a ranging variable.
std::optional<SymbolicInterval> symbolic_interval(const ir::Expr& e,
                                                  const std::vector<ir::VarRange>& ranging);

// The lower (want_min) or upper bound of two bound expressions a and b: the one that is, when
// their difference simplifies to a constant over `ranges`, else min(a, b) or max(a, b).
ir::Expr union_bound(const ir::Expr& a, const ir::Expr& b, bool want_min,
                     const std::vector<ir::VarRange>& ranges);

// The number of values from lo to hi when the variables run over `ranges`: the largest hi - lo + 1;
// nullopt when hi - lo cannot be bounded.
std::optional<int64_t> span_extent(const ir::Expr& lo, const ir::Expr& hi,
                                   const std::vector<ir::VarRange>& ranges);

// The region of a tensor of shape `shape` covered by index tuples `accesses`, per dimension a base
// (an expression over the fixed variables) and a constant extent, such that every access lies in
// [base, base + extent) for every value of the ranging variables.
//  - `ranging`: variables that vary inside the region (inner loops);
//  - `all_ranges`: ranges of every variable, ranging and fixed, used to bound extents that are not
//    constant and as a fallback when the symbolic interval is not available.
// With `clip` (the default), a dimension whose extent would reach the whole shape becomes
// [0, shape): reads outside a tensor's shape are zero padding and never touch its buffer. Without
// it, the region is the one the accesses cover, which may reach outside [0, shape) (the padded
// region that a cache_read copy fills, zeros included); only a dimension whose accesses cannot be
// bounded falls back to [0, shape).
struct Region {
  std::vector<ir::Expr> base;
  std::vector<int64_t> extent;
};
Region infer_region(const std::vector<std::vector<ir::Expr>>& accesses,
                    const std::vector<ir::VarRange>& ranging, const std::vector<ir::VarRange>& all_ranges,
                    const std::vector<int64_t>& shape, bool clip = true);

}  // namespace rctune::schedule
