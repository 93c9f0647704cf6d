// Actions: how a proposer says what to do to a node's schedule. An action is a short edit script
// over the node's trace, one edit per line, written in the trace language:
//
//   vectorize(C, j.1)                 append this step to the trace
//   3: split(C, i, [None, 16])        replace step 3 (steps numbered from 1, as number_steps() shows)
//   3: delete                         remove step 3
//   # a comment                       ignored (so are blank lines)
//
// Replacements and deletions refer to the numbering of the parent's trace, whatever their order in
// the script; appended steps go after the parent's (remaining) steps, in the order written. A
// parameter mutation (tile size, unroll, parallel extent, compute location) is a replacement; a
// structural transformation is usually an append.
#pragma once

#include <string>
#include <vector>

#include "rctune/schedule/error.h"
#include "rctune/schedule/state.h"

namespace rctune::search {

// A malformed action (bad line number, unparseable step). what() names the action's line.
class ActionError : public schedule::ScheduleError {
 public:
  using schedule::ScheduleError::ScheduleError;
};

struct Edit {
  enum class Kind { Append, Replace, Delete } kind = Kind::Append;
  int step = 0;      // 1-based step of the parent's trace (Replace, Delete)
  std::string text;  // the step in canonical trace text (Append, Replace)
};

// Parses an action; throws ActionError ("action line 2: ...").
std::vector<Edit> parse_action(const std::string& action_text);
std::string to_text(const std::vector<Edit>& edits);

// The parent's steps with the edits applied (canonical text, one step per line). Throws
// ActionError when a step number is out of range or edited twice.
std::string edited_trace(const std::vector<schedule::Step>& parent_steps, const std::vector<Edit>& edits);

// Applies an action to a state: edits its trace and replays the result on the unscheduled
// workload. Throws ActionError or the primitive's ScheduleError ("step 4 `...`: ...").
schedule::State apply_action(const schedule::State& parent, const std::string& action_text);

// The trace with its steps numbered as actions refer to them: "1: cache_write(C, local)\n2: ...".
std::string number_steps(const std::vector<schedule::Step>& steps);

}  // namespace rctune::search
