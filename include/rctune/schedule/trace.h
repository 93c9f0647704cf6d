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
#include "rctune/schedule/state.h"

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

struct TraceValue {
  enum class Kind { Name, Int, None, List } kind = Kind::Name;
  std::string name;               // Kind::Name
  int64_t value = 0;              // Kind::Int
  std::vector<TraceValue> items;  // Kind::List
  int line = 0, column = 0;
};

struct TraceArg {
  std::string keyword;  // empty for a positional argument
  TraceValue value;
  int line = 0, column = 0;
};

// One parsed call, already checked against the primitive's signature.
struct ParsedStep {
  std::string primitive;
  std::vector<TraceArg> args;  // as written
  int line = 0, column = 0;    // where the call starts
  std::string source;          // the call as written (comments and surrounding blanks removed)
};

std::vector<ParsedStep> parse_trace(const std::string& text);

// Canonical text of a step: positional arguments, ", " separators, factors as "[None, 8]".
std::string to_text(const ParsedStep& step);
// One step per line, each followed by '\n'.
std::string to_text(const std::vector<Step>& trace);
std::string to_text(const std::vector<ParsedStep>& steps);

// Applies one step; throws the primitive's ScheduleError (PrimitiveError) when it is illegal.
State apply_step(const State& s, const ParsedStep& step);
// Parses and applies a whole trace. An illegal step throws ScheduleError
//   "step 3 `vectorize(C, k)`: loop k iterates over a reduction axis; ..."
// (steps are counted from 1, comments and blank lines not counted); a parse error throws
// TraceParseError.
State apply_trace(const State& s, const std::string& text);
// Replays a state's trace on the workload it started from: equal (same_schedule) to s.
State replay(const State& s);

// The registry of primitives, from which docs and the LLM's system prompt are generated.
struct PrimitiveParam {
  enum class Kind {
    Stage,    // a stage name
    Tensor,   // a tensor name
    Loop,     // a loop name of the stage
    Loops,    // one or more loop names (the rest of the positional arguments, or a list)
    Stages,   // zero or more stage names (the rest of the positional arguments, or a list)
    Factors,  // a list of integers, the first may be None; a single integer f means [None, f]
    Scope,    // local | shared | heap
    Level,    // league | team | vector
  } kind;
  std::string name;
};

struct PrimitiveInfo {
  std::string name;
  std::vector<PrimitiveParam> params;
  std::string signature;    // "split(stage, loop, factors)"
  std::string description;  // one line
  std::string legality;     // when it is refused
  std::string example;      // a valid call
};

const std::vector<PrimitiveInfo>& primitive_registry();
const PrimitiveInfo* find_primitive(const std::string& name);  // nullptr if unknown

// Reference text of the language: syntax, naming, then for each primitive its signature,
// description, legality rules and an example.
std::string primitive_reference();

}  // namespace rctune::schedule
