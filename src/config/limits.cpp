#include "rctune/config/limits.h"

#include <sched.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <sstream>

namespace rctune::config {

namespace {

std::string quoted(const std::string& text) { return "'" + text + "'"; }

// The cores this process may run on, as ranges ("0-3, 6"); "" when the mask cannot be read.
std::string allowed_cores(const cpu_set_t& set) {
  std::string s;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (!CPU_ISSET(c, &set)) continue;
    int end = c;
    while (end + 1 < CPU_SETSIZE && CPU_ISSET(end + 1, &set)) ++end;
    s += (s.empty() ? "" : ", ") + std::to_string(c) + (end > c ? "-" + std::to_string(end) : "");
    c = end;
  }
  return s;
}

}  // namespace

std::string range_error(double v, double lo, double hi, const std::string& text) {
  if (v >= lo && v <= hi) return "";
  std::ostringstream os;
  os << std::setprecision(15) << "must be between " << lo << " and " << hi << ", got " << text;
  return os.str();
}

std::string range_error(int64_t v, IntRange r, const std::string& text) {
  if (v >= r.lo && v <= r.hi) return "";
  return "must be between " + std::to_string(r.lo) + " and " + std::to_string(r.hi) + ", got " + text;
}

std::string integer_error(const std::string& text, IntRange r) {
  int64_t v = 0;
  const char* b = text.data();
  const char* e = b + text.size();
  if (b != e && *b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec == std::errc::result_out_of_range && p == e)  // beyond int64: out of every range
    return "must be between " + std::to_string(r.lo) + " and " + std::to_string(r.hi) + ", got " + text;
  if (b == e || ec != std::errc() || p != e) return "expected a whole number, got " + quoted(text);
  return range_error(v, r, text);
}

std::string number_error(const std::string& text, RealRange r) {
  const char* b = text.c_str();
  char* end = nullptr;
  const double v = text.empty() ? 0 : std::strtod(b, &end);
  // Decimal only, as in the config: no hexadecimal, nan or inf.
  if (text.empty() || text.find_first_not_of("0123456789+-.eE") != std::string::npos ||
      end != b + text.size() || !std::isfinite(v))
    return "expected a number, got " + quoted(text);
  return range_error(v, r.lo, r.hi, text);
}

std::string url_error(const std::string& text) {
  if ((text.rfind("http://", 0) == 0 && text.size() > 7) ||
      (text.rfind("https://", 0) == 0 && text.size() > 8))
    return "";
  return "expected an http:// or https:// URL, got " + quoted(text);
}

std::string pin_core_error(const std::string& text) {
  if (text == "auto" || text == "none") return "";
  int64_t core = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), core);
  if (text.empty() || ec == std::errc::invalid_argument || p != text.data() + text.size() || core < 0)
    return "expected auto, none or a core number, got " + quoted(text);
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return "";  // nothing to check against
  if (ec == std::errc() && core < CPU_SETSIZE && CPU_ISSET(static_cast<int>(core), &set)) return "";
  return "core " + text + " is not one this process may run on (its cores: " + allowed_cores(set) + ")";
}

}  // namespace rctune::config
