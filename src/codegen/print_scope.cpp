#include "codegen/print_scope.h"

#include <stdexcept>

#include "rctune/ir/check.h"

namespace rctune::codegen::detail {

const std::string& BufInfo::register_at(int64_t element) const {
  if (element < 0 || element / lanes >= static_cast<int64_t>(regs.size()))
    throw std::logic_error("internal codegen error: vector access to " + decl.name + " at element " +
                           std::to_string(element) + " lies outside its " + std::to_string(regs.size()) +
                           " promoted registers");
  return regs[static_cast<size_t>(element / lanes)];
}

std::string BufInfo::element_ref(int64_t element) const {
  RCTUNE_CHECK(element >= 0 && element < decl.num_elements());
  if (lanes == 1) return regs[element];
  return regs[element / lanes] + "[" + std::to_string(element % lanes) + "]";
}

std::string PrintScope::var_name(const std::string& v) {
  auto it = vars_.find(v);
  if (it != vars_.end()) return it->second;
  return names.user(kVarPrefix, v);
}

std::string PrintScope::bind_var(const std::string& v, int64_t extent) {
  // Variables and buffers have different prefixes, and names keeps variables apart.
  std::string n = names.user(kVarPrefix, v);
  saved_vars_.push_back({v, vars_.count(v) ? std::optional<std::string>(vars_[v]) : std::nullopt,
                         extents.count(v) ? std::optional<int64_t>(extents[v]) : std::nullopt});
  vars_[v] = n;
  extents[v] = extent;
  return n;
}

void PrintScope::unbind_var() {
  auto s = saved_vars_.back();
  saved_vars_.pop_back();
  if (s.name)
    vars_[s.var] = *s.name;
  else
    vars_.erase(s.var);
  if (s.extent)
    extents[s.var] = *s.extent;
  else
    extents.erase(s.var);
}

}  // namespace rctune::codegen::detail
