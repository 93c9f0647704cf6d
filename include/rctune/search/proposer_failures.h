// What a proposer dropped, by cause, and attempt(), which runs one piece of a proposer's work and
// counts its failure. An action that does not parse or that a primitive refuses is a normal
// outcome of guessing; any other exception is a bug, counted as an internal error with where it
// happened, and reported loudly by `rctune tune`, never hidden.
#pragma once

#include <cstdint>
#include <exception>
#include <string>

#include "rctune/schedule/error.h"
#include "rctune/schedule/trace.h"
#include "rctune/search/action.h"

namespace rctune::search {

// The ideas a proposer dropped, by cause.
struct ProposerFailures {
  int64_t illegal = 0;         // a primitive refused an action (schedule::ScheduleError, PrimitiveError)
  int64_t unparsable = 0;      // an action or a step did not parse (ActionError, TraceParseError)
  int64_t internal = 0;        // any other exception: a bug
  std::string first_internal;  // where and what() of the first internal error ("" if none)

  int64_t total() const { return illegal + unparsable + internal; }
  ProposerFailures& operator+=(const ProposerFailures& o);
};

// One line for the tune summary: "12 illegal actions, 3 unparsable, 1 internal error (first: ...)".
std::string failures_text(const ProposerFailures& f);

// Counts the internal error `e` raised in `where`.
void count_internal_error(ProposerFailures& f, const std::string& where, const std::exception& e);

// Runs fn(); returns whether it finished, counting why it did not in `f`. Exceptions that are
// not std::exceptions pass through.
template <class F>
bool attempt(ProposerFailures& f, const char* where, F&& fn) {
  try {
    fn();
    return true;
  } catch (const ActionError&) {
    ++f.unparsable;
  } catch (const schedule::TraceParseError&) {
    ++f.unparsable;
  } catch (const schedule::ScheduleError&) {
    ++f.illegal;
  } catch (const std::exception& e) {
    count_internal_error(f, where, e);
  }
  return false;
}

}  // namespace rctune::search
