// The helpers a kernel's body uses (vector typedefs, rctune_vload, rctune_max, vector math, heap
// allocation, ...) and their definitions, printed before the kernel.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "rctune/ir/expr.h"

namespace rctune::codegen::detail {

class Flavour;

// Set while the body is printed; each flag asks for one helper.
struct HelperUses {
  bool max = false, min = false, floordiv = false, floormod = false;
  bool gelu_f = false, gelu_d = false, sigmoid_f = false, sigmoid_d = false;
  bool vload = false, vstore = false, alloc = false, team = false;
  std::set<std::pair<ir::DType, int64_t>> vector_types;
  std::map<int64_t, std::set<std::string>> vector_math;  // f32 vector math per lane count

  // The name of the GCC vector type of `lanes` elements of d ("v16f"), recorded for its typedef.
  std::string vector_type(ir::DType d, int64_t lanes);
};

// The definitions of the helpers in uses, each once, followed by a blank line (empty if none).
std::string print_prologue(HelperUses uses, const Flavour& flavour);

}  // namespace rctune::codegen::detail
