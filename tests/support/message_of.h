// What a call that must fail says: the message of the exception of one type that it throws.
#pragma once

#include <optional>
#include <string>

namespace rctune::test_support {

// The message of the `Error` that `f` throws; nullopt when it throws none.
template <class Error, class F>
std::optional<std::string> message_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return std::nullopt;
}

}  // namespace rctune::test_support
