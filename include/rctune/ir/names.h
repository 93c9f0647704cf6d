// The naming rules of workloads, in one place (docs/workloads.md, "Names").
//
// - An identifier (a tensor or an index variable written by a user) is 1 to 64 ASCII letters,
//   digits and '_', not starting with a digit: [A-Za-z_][A-Za-z0-9_]{0,63}.
// - An IR name (tensors and loops that schedules derive from them: "C.local", "i.0", "i.j") is
//   identifier-like parts joined by '.': each part 1 or more letters, digits and '_', the first not
//   starting with a digit, 256 characters at most.
// - A workload's name (shown in reports, "matmul:M=512,N=512,K=512,dtype=f32", a file name's stem)
//   is 1 to 200 printable ASCII characters (space to '~'): never a line break, another control
//   character or a non-ASCII byte.
//
// Each check returns an empty string when the name is valid, else the reason (a sentence fragment
// that quotes the name safely, see quote_name).
#pragma once

#include <cstddef>
#include <string>

namespace rctune::ir {

struct Workload;

inline constexpr size_t kMaxIdentifierLength = 64;
inline constexpr size_t kMaxIrNameLength = 256;
inline constexpr size_t kMaxWorkloadNameLength = 200;

std::string identifier_problem(const std::string& name);
std::string ir_name_problem(const std::string& name);
std::string workload_name_problem(const std::string& name);

// Every name of w (its own, its tensors', its stages' index variables) against the rules above;
// "" when all are valid. Workload::validate() calls it.
std::string workload_names_problem(const Workload& w);

// `s` in single quotes for a message: printable ASCII as is ('\'' and '\\' escaped), every other
// byte as \xHH, cut after 80 characters ("...").
std::string quote_name(const std::string& s);

}  // namespace rctune::ir
