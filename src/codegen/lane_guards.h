// Conditions on the lane of a vectorized loop (guards of a non-dividing split, padding selects):
// which ones vector lowering accepts, and what they say about one vector chunk of lanes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "codegen/infer_types.h"
#include "rctune/ir/stmt.h"

namespace rctune::codegen::detail {

// A lane-dependent condition that peeling can handle: a conjunction of <, <=, >, >= between integer
// expressions that are affine in the lane variable v. Conditions without v are accepted too.
bool is_lane_guard(const ir::Expr& c, const std::string& v, const TypeOf& type_of);

// The condition that lane guard c holds for every lane v in [lo, hi]: affine comparisons are
// monotone in v, so it is enough to test the extreme lane.
ir::Expr all_lanes(const ir::Expr& c, const std::string& v, int64_t lo, int64_t hi);

// The lane-dependent conditions of a vectorized body: its ifs and its values' selects.
std::vector<ir::Expr> lane_guards_of(const ir::Stmt& body, const std::string& v);

// True when no lane v in [base, base + lanes) reaches a store of body: each store lies under an if
// whose condition the ranges of the other variables (extents) decide false for all those lanes.
bool no_lane_runs(const ir::Stmt& body, const std::string& v, int64_t base, int64_t lanes,
                  const std::map<std::string, int64_t>& extents);

}  // namespace rctune::codegen::detail
