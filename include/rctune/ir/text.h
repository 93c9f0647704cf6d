// Small text helpers every module uses: joining, trimming, and numbers in a printf format. The ir
// module is the lowest, so everyone can use them; each keeps the exact output of the copies it
// replaced (the same separators, the same trimmed characters, printf's rounding).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rctune::ir {

// The whitespace std::isspace knows in the C locale: space, \t, \n, \v, \f, \r.
inline constexpr std::string_view kWhitespace = " \t\n\v\f\r";

// The items with `sep` between them: join({"a", "b"}) is "a, b"; join({}) is "".
std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");

// `s` without the leading and trailing characters in `chars` (whitespace unless told).
std::string trim(std::string_view s, std::string_view chars = kWhitespace);

// One number in a printf format with one double conversion: fmt("%.1fx", 2.345) is "2.3x".
std::string fmt(const char* printf_format, double v);

// Fixed notation with `digits` decimals, as printf's "%.*f": fixed(2.345, 1) is "2.3".
std::string fixed(double v, int digits);

}  // namespace rctune::ir
