// Small text helpers: rctune/ir/text.h.
#include "rctune/ir/text.h"

#include <cstdio>

namespace rctune::ir {

namespace {

// printf into a string of the size it needs (a long number, %f of 1e300, is never cut).
template <class... Args>
std::string printf_text(const char* format, Args... args) {
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, format, args...);
  if (n < static_cast<int>(sizeof buf)) return buf;
  std::string out(static_cast<size_t>(n), '\0');
  std::snprintf(out.data(), out.size() + 1, format, args...);
  return out;
}

}  // namespace

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

std::string trim(std::string_view s, std::string_view chars) {
  const size_t b = s.find_first_not_of(chars);
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(chars) - b + 1));
}

std::string fmt(const char* printf_format, double v) { return printf_text(printf_format, v); }

std::string fixed(double v, int digits) { return printf_text("%.*f", digits, v); }

}  // namespace rctune::ir
