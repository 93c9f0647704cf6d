// generate_kernel: the pipeline from a lowered loop nest to Kokkos C++. Each step is its own file:
//   unroll_loops (pass) -> check_accesses -> plan_vectors (analysis) -> promote_registers
//   (analysis) -> print_kokkos (host or CUDA flavour; types from infer_types).
// See docs/codegen.md for the mapping.
#include <cctype>
#include <stdexcept>

#include "codegen/check_accesses.h"
#include "codegen/flavour.h"
#include "codegen/infer_types.h"
#include "codegen/kokkos_printer.h"
#include "codegen/nest_queries.h"
#include "codegen/plan_vectors.h"
#include "codegen/promote_registers.h"
#include "codegen/unroll_loops.h"
#include "rctune/codegen/kokkos.h"

namespace rctune::codegen {

using namespace rctune::codegen::detail;

namespace {

bool is_c_identifier(const std::string& s) {
  if (s.empty() || s.size() > 200 || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

}  // namespace

KernelSource generate_kernel(const ir::LoweredFunc& f, const Target& target, const std::string& entry) {
  if (!is_c_identifier(entry))
    throw std::invalid_argument("codegen: the kernel's entry name '" + entry + "' is not a C identifier");
  if (!f.body) throw std::invalid_argument("codegen: kernel '" + f.name + "' has an empty body");
  if (target.vector_bytes <= 0 || (target.vector_bytes & (target.vector_bytes - 1)) != 0)
    throw std::invalid_argument("codegen: Target::vector_bytes must be a positive power of two, got " +
                                std::to_string(target.vector_bytes));
  UnrolledGroups groups;
  const ir::Stmt body = unroll_loops(f.body, &groups);

  BufferDecls decls;
  for (const auto& p : f.params) decls[p.name] = p;
  for (const ir::Allocate* a : collect_allocates(body)) decls[a->buffer.name] = a->buffer;
  check_accesses(body, decls, f.name);

  const TypeOf type_of(decls, f.name);
  const VectorPlans vectors = plan_vectors(body, decls, type_of, target.vector_bytes);
  const auto flavour = flavour_for(target.space);
  const auto registers = promote_registers(body, [&](const ir::For& loop) -> int64_t {
    const VecPlan* p = flavour->vector_types() ? vector_lowering(loop, vectors) : nullptr;
    return p ? p->lanes : 0;
  });
  return print_kokkos(KernelPlan{f, body, groups, decls, vectors, registers, entry}, *flavour);
}

}  // namespace rctune::codegen
