// The generic kernels every package carries, as text (src/package/runtime/generic_kernels.hpp,
// embedded at configure time).
#include "package/package_files.h"

namespace rctune::package::detail {

const char* generic_kernels_text() {
  static const char* const text =
#include "rctune/package_generic_kernels.inc"
      ;
  return text;
}

}  // namespace rctune::package::detail
