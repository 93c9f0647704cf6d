// The trace language: a schedule as text, one primitive per line in a Python-call form.
//
//   # register tile for matmul
//   cache_write(C, local)
//   split(C, i, [None, 8])          # loops i.0, i.1
//   split(C, j, [None, 64])
//   reorder(C, i.0, j.0, i.1, j.1)
//   compute_at(C.local, C, j.0)
//   reorder(C.local, k, i, j)
//   vectorize(C.local, j)
//
// Grammar (docs/schedule-language.md has the full description):
//   trace := { [ call ] [ "#" comment ] newline }       blank lines and comments are ignored
//   call  := primitive "(" [ arg { "," arg } [ "," ] ] ")" [ ";" ]
//   arg   := [ keyword "=" ] value                       keywords are the parameter names
//   value := name | integer | "None" | "[" [ value { "," value } ] "]"
//   name  := identifier { "." ( identifier | digits ) }  e.g. C, C.local, i.0, i.0.j.0;
//            may also be quoted: "C.local" or 'C.local'
// A call may continue on the next lines while a parenthesis or bracket is open.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rctune/schedule/error.h"
#include "rctune/schedule/primitive_registry.h"
#include "rctune/schedule/state.h"
#include "rctune/schedule/step.h"

namespace rctune::schedule {

// A syntax error or a call that does not match a primitive's signature. what() reads
// "line 3, column 14: expected ',' or ')' after an argument, found '8'".
class TraceParseError : public ScheduleError {
 public:
  TraceParseError(const std::string& reason, int line, int column)
      : ScheduleError("line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + reason),
        reason_(reason),
        line_(line),
        column_(column) {}
  const std::string& reason() const { return reason_; }
  int line() const { return line_; }      // 1-based
  int column() const { return column_; }  // 1-based

 private:
  std::string reason_;
  int line_;
  int column_;
};

// One step as written in a trace: the typed step plus where it was written.
struct ParsedStep : Step {
  int line = 0, column = 0;  // where the call starts
  std::string source;        // the call as written (comments and surrounding blanks removed)
};

// Parses a trace into typed steps, each checked against its primitive's signature.
std::vector<ParsedStep> parse_trace(const std::string& text);

// One step per line, each followed by '\n'.
std::string to_text(const std::vector<Step>& trace);
std::string to_text(const std::vector<ParsedStep>& steps);

// Applies one step; throws the primitive's ScheduleError (PrimitiveError) when it is illegal.
State apply_step(const State& s, const Step& step);
// Parses and applies a whole trace. An illegal step throws ScheduleError
//   "step 3 `vectorize(C, k)`: loop k iterates over a reduction axis; ..."
// (steps are counted from 1, comments and blank lines not counted); a parse error throws
// TraceParseError.
State apply_trace(const State& s, const std::string& text);
// Replays a state's trace (its typed steps, no text involved) on the workload it started from:
// equal (same_schedule) to s. An illegal step throws as in apply_trace.
State replay(const State& s);

}  // namespace rctune::schedule
