// Register promotion, an analysis of the unrolled nest: which local buffers become named
// variables (one per register) instead of arrays, and how many elements each register holds.
#pragma once

#include <cstdint>
#include <functional>
#include <map>

#include "rctune/ir/stmt.h"

namespace rctune::codegen::detail {

// A local buffer is promoted to named registers only up to this many of them.
inline constexpr int64_t kMaxPromotedRegisters = 64;

// The lanes of a loop lowered to vector types, 0 for any other loop.
using VectorLanes = std::function<int64_t(const ir::For&)>;

// Elements per register of every local buffer of body that can live in registers: every access
// has a constant flat index, or inside a loop lowered to vectors is constant + the loop variable
// with the constant a multiple of the vector width (then a register holds one vector).
std::map<const ir::Allocate*, int64_t> promote_registers(const ir::Stmt& body, const VectorLanes& lanes_of);

}  // namespace rctune::codegen::detail
