// Hex digits of numbers and stable hashes, for ids, keys and file names of the tuning database.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rctune::database {

// 16 lower-case hex digits.
inline std::string hex16_of(uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<size_t>(i)] = digits[v & 15];
  return s;
}

// hex16_of a 64-bit FNV-1a hash of `s`: keys stored in files need a hash that never changes
// between versions or machines, not a fast one.
inline std::string stable_hex(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return hex16_of(h);
}

// 16 hex digits from the operating system's random source.
std::string random_hex();

}  // namespace rctune::database
