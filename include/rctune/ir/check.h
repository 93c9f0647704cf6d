// RCTUNE_CHECK(cond): an internal invariant that stays checked in release builds (NDEBUG turns
// assert() off). A failed check is a bug in rctune, never a user's mistake: it throws
// std::logic_error naming the condition, the file and the line, so the command stops with that
// message instead of running on with broken state.
#pragma once

#include <stdexcept>
#include <string>

namespace rctune::detail {

[[noreturn]] inline void check_failed(const char* condition, const char* file, int line) {
  throw std::logic_error(std::string("internal check failed: ") + condition + " (" + file + ":" +
                         std::to_string(line) + "; a bug in rctune, not in the input)");
}

}  // namespace rctune::detail

#define RCTUNE_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::rctune::detail::check_failed(#cond, __FILE__, __LINE__))
