// Validation before kernel generation: every access names a declared buffer with as many indices
// as it has dimensions.
#pragma once

#include <string>

#include "codegen/nest_queries.h"
#include "rctune/ir/stmt.h"

namespace rctune::codegen::detail {

// Throws std::invalid_argument naming kernel for the first bad access in body.
void check_accesses(const ir::Stmt& body, const BufferDecls& decls, const std::string& kernel);

}  // namespace rctune::codegen::detail
