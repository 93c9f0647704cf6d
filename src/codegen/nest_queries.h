// Small structural queries over a loop nest, shared by the codegen passes and the printer.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "rctune/ir/stmt.h"

namespace rctune::codegen::detail {

// Every buffer a kernel may access by name: its parameters and the buffers allocated in its body.
using BufferDecls = std::map<std::string, ir::BufferDecl>;

// True when some loop in s satisfies pred.
bool any_for(const ir::Stmt& s, const std::function<bool(const ir::For&)>& pred);
// True when s holds a loop that starts a parallel region (a parallel loop or a league binding).
bool has_parallel(const ir::Stmt& s);
// The Allocate nodes in s, outermost first.
std::vector<const ir::Allocate*> collect_allocates(const ir::Stmt& s);
// True when every store in s writes an element that depends on var (no reduction across var), so
// that `#pragma omp simd` cannot break a loop-carried dependence through a store.
bool all_stores_vary(const ir::Stmt& s, const std::string& var);

// Calls fn(buffer, indices) for every load in e, loads inside indices included.
using AccessFn = std::function<void(const std::string&, const std::vector<ir::Expr>&)>;
void for_each_access(const ir::Expr& e, const AccessFn& fn);
// Calls fn for every store target and every load in s (in conditions, indices and values).
void for_each_access(const ir::Stmt& s, const AccessFn& fn);

// The buffers s accesses outside every Allocate of their name: the kernel parameters it uses (an
// intermediate that a schedule computes into a local buffer of its own name is not among them).
std::set<std::string> unallocated_accesses(const ir::Stmt& s);

}  // namespace rctune::codegen::detail
