#include "package/function_names.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace rctune::package::detail {

namespace {

// C++ keywords and alternative tokens, and the names the package header declares itself.
const std::set<std::string>& taken_names() {
  static const std::set<std::string> s = {
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case",
      "catch", "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept", "const", "consteval",
      "constexpr", "constinit", "const_cast", "continue", "co_await", "co_return", "co_yield", "decltype",
      "default", "delete", "do", "double", "dynamic_cast", "else", "enum", "explicit", "export", "extern",
      "false", "float", "for", "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace", "new",
      "noexcept", "not", "not_eq", "nullptr", "operator", "or", "or_eq", "private", "protected", "public",
      "register", "reinterpret_cast", "requires", "return", "short", "signed", "sizeof", "static",
      "static_assert", "static_cast", "struct", "switch", "template", "this", "thread_local", "throw", "true",
      "try", "typedef", "typeid", "typename", "union", "unsigned", "using", "virtual", "void", "volatile",
      "wchar_t", "while", "xor", "xor_eq",
      // the package API (include/NAME/NAME.hpp) and common macros
      "DType", "TensorInfo", "KernelInfo", "NotTuned", "kernel_count", "kernel", "find", "lookup", "run",
      "tensors_of", "set_log", "buffers", "assert", "errno", "main", "std",
      // src/NAME.cpp's internals (package_source.cpp)
      "kPackage", "kDeviceBuffers", "log_to_stderr", "g_log", "g_mutex", "require_kokkos", "Workspace",
      "g_kernels", "canonical", "held", "not_tuned", "generic_spec", "note_generic", "interned",
      "rctune_generic", "rctune_internal"};
  return s;
}

std::string identifier(const std::string& name, const std::string& taken_suffix) {
  std::string s;
  for (char c : name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 && static_cast<unsigned char>(c) < 128;
    const char out = ok ? c : '_';
    if (out == '_' && (s.empty() || s.back() == '_')) continue;
    s += out;
  }
  while (!s.empty() && s.back() == '_') s.pop_back();
  if (s.empty()) s = "task";
  if (std::isdigit(static_cast<unsigned char>(s[0]))) s = "k_" + s;
  if (s.size() > 80) s.resize(80);
  if (taken_names().count(s) || s.rfind("__", 0) == 0 ||
      (s[0] == '_' && s.size() > 1 && std::isupper(static_cast<unsigned char>(s[1]))))
    s += taken_suffix;
  return s;
}

std::vector<std::string> distinct(const std::vector<std::string>& names, const std::string& taken_suffix) {
  std::vector<std::string> out;
  std::set<std::string> used;
  for (const std::string& n : names) {
    const std::string base = identifier(n, taken_suffix);
    std::string s = base;
    for (int k = 2; used.count(s); ++k) s = base + "_" + std::to_string(k);
    used.insert(s);
    out.push_back(s);
  }
  return out;
}

}  // namespace

std::vector<std::string> function_names(const std::vector<std::string>& names) {
  return distinct(names, "_kernel");
}

std::vector<std::string> parameter_names(const std::vector<std::string>& names) {
  return distinct(names, "_");
}

std::string name_of_workload_key(const std::string& key) {
  const size_t colon = key.find(':');
  if (colon == std::string::npos) return key;
  const std::string op = key.substr(0, colon);
  if (op == "workload") return "workload_" + key.substr(colon + 1, 8);
  std::string s = op;
  size_t start = colon + 1;
  while (start <= key.size()) {
    size_t comma = key.find(',', start);
    if (comma == std::string::npos) comma = key.size();
    const std::string item = key.substr(start, comma - start);
    const size_t eq = item.find('=');
    if (eq != std::string::npos) {
      const std::string p = item.substr(0, eq), v = item.substr(eq + 1);
      // Words (dtype, epilogue) speak for themselves; sizes keep their parameter's name.
      const bool word = !v.empty() && std::isalpha(static_cast<unsigned char>(v[0]));
      s += "_" + (word ? v : p + v);
    }
    start = comma + 1;
  }
  return s;
}

}  // namespace rctune::package::detail
