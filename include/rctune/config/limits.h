// The ranges of the values a user gives on the command line and in the run config: both check a
// value through the same functions here, so `--budget 0` fails like `budget: 0` does
// (docs/config.md lists every range; docs/cli.md the options that share them).
#pragma once

#include <cstdint>
#include <limits>
#include <string>

namespace rctune::config {

struct IntRange {
  int64_t lo, hi;
};
struct RealRange {
  double lo, hi;
};

namespace limits {
inline constexpr IntRange kSeed{0, std::numeric_limits<int64_t>::max()};
inline constexpr IntRange kBudget{1, 10'000'000};   // samples per task
inline constexpr RealRange kMinTime{0, 3600};       // s of timed runs per candidate
inline constexpr RealRange kTimeout{0.001, 86400};  // s a kernel may run
}  // namespace limits

// "" when v lies in [lo, hi]; otherwise "must be between LO and HI, got TEXT".
std::string range_error(double v, double lo, double hi, const std::string& text);
std::string range_error(int64_t v, IntRange r, const std::string& text);

// "" when `text` is a whole number (decimal, optional sign) within `r`; otherwise the reason.
std::string integer_error(const std::string& text, IntRange r);

// "" when `text` is a finite number within `r`; otherwise the reason (nan and inf are not numbers).
std::string number_error(const std::string& text, RealRange r);

// "" when `text` is an http:// or https:// URL (an LLM endpoint's base URL); otherwise the reason.
std::string url_error(const std::string& text);

// "" when `text` is auto, none, or the number of a core this process may run on (its CPU affinity
// mask, sched_getaffinity); otherwise the reason, listing the cores it may run on.
std::string pin_core_error(const std::string& text);

}  // namespace rctune::config
