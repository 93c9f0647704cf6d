#include "codegen/prologue.h"

#include <sstream>

#include "codegen/common.h"
#include "codegen/flavour.h"
#include "codegen/vmath.h"

namespace rctune::codegen::detail {

using namespace rctune::ir;

std::string HelperUses::vector_type(DType d, int64_t lanes) {
  vector_types.insert({d, lanes});
  return "v" + std::to_string(lanes) + (d == DType::F32 ? "f" : "d");
}

std::string print_prologue(HelperUses uses, const Flavour& flavour) {
  std::ostringstream o;
  std::string fp = flavour.helper_prefix();
  for (const auto& [d, lanes] : uses.vector_types)
    o << "typedef " << c_type(d) << " v" << lanes << (d == DType::F32 ? "f" : "d")
      << " __attribute__((vector_size(" << lanes * dtype_bytes(d) << ")));\n";
  if (!uses.vector_types.empty()) o << "\n";
  if (uses.vload)
    o << "// Unaligned vector load/store (compiles to one vmovups).\n"
      << "template <class V, class T>\n"
      << fp << "V rctune_vload(const T* p) {\n  V v;\n"
      << "  __builtin_memcpy(&v, p, sizeof(V));\n  return v;\n}\n";
  if (uses.vstore)
    o << "template <class V, class T>\n"
      << fp << "void rctune_vstore(T* p, V v) {\n"
      << "  __builtin_memcpy(p, &v, sizeof(V));\n}\n";
  if (uses.max) o << "template <class T>\n" << fp << "T rctune_max(T a, T b) { return a > b ? a : b; }\n";
  if (uses.min) o << "template <class T>\n" << fp << "T rctune_min(T a, T b) { return a < b ? a : b; }\n";
  if (uses.floordiv)
    o << fp << "int64_t rctune_floordiv(int64_t a, int64_t b) {\n"
      << "  int64_t q = a / b;\n  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;\n}\n";
  if (uses.floormod)
    o << fp << "int64_t rctune_floormod(int64_t a, int64_t b) {\n"
      << "  int64_t r = a % b;\n  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;\n}\n";
  if (uses.gelu_f)
    o << "// gelu, erf form: 0.5 x (1 + erf(x / sqrt(2))) (the reference uses the same form).\n"
      << fp << "float rctune_gelu(float x) { return 0.5f * x * (1.0f + erff(x * 0.707106781186547524f)); }\n";
  if (uses.gelu_d)
    o << "// gelu, erf form: 0.5 x (1 + erf(x / sqrt(2))) (the reference uses the same form).\n"
      << fp << "double rctune_gelu(double x) { return 0.5 * x * (1.0 + erf(x * 0.707106781186547524)); }\n";
  if (uses.sigmoid_f) o << fp << "float rctune_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }\n";
  if (uses.sigmoid_d) o << fp << "double rctune_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }\n";
  for (const auto& [lanes, names] : uses.vector_math)
    o << vector_math_source(uses.vector_type(DType::F32, lanes), lanes, names);
  if (uses.alloc) o << flavour.alloc_helpers();
  if (uses.team) o << "using rctune_team_policy = Kokkos::TeamPolicy<Kokkos::DefaultExecutionSpace>;\n";
  std::string s = o.str();
  return s.empty() ? s : s + "\n";
}

}  // namespace rctune::codegen::detail
