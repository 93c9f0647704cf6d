#include "codegen/check_accesses.h"

#include <stdexcept>

namespace rctune::codegen::detail {

void check_accesses(const ir::Stmt& body, const BufferDecls& decls, const std::string& kernel) {
  for_each_access(body, [&](const std::string& buf, const std::vector<ir::Expr>& idx) {
    auto it = decls.find(buf);
    if (it == decls.end())
      throw std::invalid_argument("codegen: kernel " + kernel + " accesses buffer '" + buf +
                                  "', which is neither a parameter nor allocated");
    if (it->second.shape.size() != idx.size())
      throw std::invalid_argument("codegen: kernel " + kernel + " accesses " + buf + " (rank " +
                                  std::to_string(it->second.shape.size()) + ") with " +
                                  std::to_string(idx.size()) + " indices");
  });
}

}  // namespace rctune::codegen::detail
