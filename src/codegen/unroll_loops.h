// Textual unrolling, the first pass of kernel generation: small unrolled loops become one copy of
// their body per iteration with the loop variable replaced by the constant, innermost first, so
// that index expressions fold to constants (what lets local buffers live in registers).
#pragma once

#include <map>
#include <string>
#include <utility>

#include "rctune/ir/stmt.h"

namespace rctune::codegen::detail {

// Loops marked unrolled are copied when their extent and the resulting body stay small.
inline constexpr int64_t kMaxTextualUnroll = 64;
inline constexpr int64_t kMaxUnrolledStores = 1024;

// The Seq node of each unrolled group and the text of its comment ("i.1 (8) x j.1 (3)"). The map
// also holds the node, so that its address cannot be reused while the map lives.
using UnrolledGroups = std::map<const ir::StmtNode*, std::pair<ir::Stmt, std::string>>;

// s with its small unrolled loops copied out; each group is a Seq recorded in *groups.
ir::Stmt unroll_loops(const ir::Stmt& s, UnrolledGroups* groups);

}  // namespace rctune::codegen::detail
