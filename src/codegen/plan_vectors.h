// Vector planning, an analysis of the unrolled nest: how each vectorized loop is lowered on the
// host (GCC vector types of W lanes, or a scalar loop and the reason why).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "codegen/infer_types.h"
#include "codegen/nest_queries.h"
#include "rctune/ir/stmt.h"

namespace rctune::codegen::detail {

struct VecPlan {
  bool ok = false;
  std::string reason;  // why not, when !ok
  int64_t lanes = 0;   // W: lanes per vector variable
  int64_t chunks = 0;  // extent / W
  ir::DType dtype = ir::DType::F32;
  bool stores_varying = true;  // false: some store is invariant in the loop (reduction)
  bool lane_guards = false;    // guards depend on the lane: full vectors only where all lanes pass
};

// The plan of every vectorized or vector-bound loop of body, by node.
using VectorPlans = std::map<const ir::For*, VecPlan>;

// The plan of f when f is lowered to vector types (a vectorized loop, not bound to the vector
// level, whose plan is ok), else null.
const VecPlan* vector_lowering(const ir::For& f, const VectorPlans& plans);

VectorPlans plan_vectors(const ir::Stmt& body, const BufferDecls& decls, const TypeOf& type_of,
                         int vector_bytes);

}  // namespace rctune::codegen::detail
