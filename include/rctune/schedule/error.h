// The error every schedule operation throws when a user (or an LLM) asks for something illegal.
#pragma once

#include <stdexcept>
#include <string>

namespace rctune::schedule {

class ScheduleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace rctune::schedule
