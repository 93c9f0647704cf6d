// The last step of kernel generation: Kokkos C++ text of an unrolled, analysed loop nest, for the
// host or for CUDA (see flavour.h). docs/codegen.md describes the mapping.
#pragma once

#include <cstdint>
#include <map>

#include "codegen/flavour.h"
#include "codegen/nest_queries.h"
#include "codegen/plan_vectors.h"
#include "codegen/unroll_loops.h"
#include "rctune/codegen/kokkos.h"
#include "rctune/ir/stmt.h"

namespace rctune::codegen::detail {

// What the passes before the printer found.
struct KernelPlan {
  const ir::LoweredFunc& func;
  ir::Stmt body;                 // func.body after unroll_loops
  const UnrolledGroups& groups;  // of body, for their comments
  const BufferDecls& decls;      // parameters and every buffer allocated in body
  const VectorPlans& vectors;
  const std::map<const ir::Allocate*, int64_t>& registers;  // promoted buffers: elements per register
  const std::string& entry;  // name of the extern "C" entry point
};

KernelSource print_kokkos(const KernelPlan& plan, const Flavour& flavour);

}  // namespace rctune::codegen::detail
