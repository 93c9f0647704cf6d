// What the Kokkos printer knows at one point of the kernel: the C names of loop variables and
// buffers in scope, the loop ranges, promoted registers and the helpers used so far.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "codegen/common.h"
#include "codegen/prologue.h"
#include "rctune/ir/stmt.h"

namespace rctune::codegen::detail {

// A buffer in scope: its declaration, C name and, when promoted, its registers.
struct BufInfo {
  ir::BufferDecl decl;
  std::string cname;
  bool promoted = false;
  int64_t lanes = 1;  // elements per register when promoted
  std::vector<std::string> regs;

  // The register holding flat element `element`. Throws std::logic_error ("internal codegen
  // error: ...") for an element past the registers: promotion did not account for that access.
  const std::string& register_at(int64_t element) const;
  // The register, or the lane of a vector register, holding flat element `element`.
  std::string element_ref(int64_t element) const;
};

// The vector lane context while printing one chunk of a vectorized loop.
struct VecCtx {
  std::string var;
  int64_t lanes;
  int64_t base;
  std::string vtype;
};

// The scalar lanes of a partial vector chunk: v runs from base, and promoted registers are read
// through their spilled copies.
struct LaneCtx {
  std::string var;
  int64_t base;
};

class PrintScope {
 public:
  // Every C name of the kernel that is not the generator's own (docs/codegen.md, "Names").
  NameTable names;
  std::map<std::string, BufInfo> bufs;
  // Ranges [0, extent) of the loop variables bound here.
  std::map<std::string, int64_t> extents;
  std::optional<LaneCtx> lane;
  // The spilled copy of each promoted register inside the scalar lanes of a peeled vector chunk.
  std::map<std::string, std::string> lane_arrays;
  HelperUses uses;

  std::string var_name(const std::string& v);
  // Binds an IR loop variable to a C name for the duration of its loop.
  std::string bind_var(const std::string& v, int64_t extent);
  void unbind_var();

 private:
  struct SavedVar {
    std::string var;
    std::optional<std::string> name;
    std::optional<int64_t> extent;
  };
  std::map<std::string, std::string> vars_;
  std::vector<SavedVar> saved_vars_;
};

}  // namespace rctune::codegen::detail
