// The prompt the LLM proposer sends, and the parser of what comes back.
//
// The system message explains the task and the trace language (generated from the schedule
// module's primitive registry, schedule::primitive_reference(), so it never drifts from what the
// parser accepts), the action format (search/action.h) and the answer format: reasoning first,
// then one machine-readable block
//   ```json
//   {"proposals": [{"action": "3: split(C, i, [None, 16])\nvectorize(C, j.1)", "rationale": "..."}]}
//   ```
// The user message carries the proposer input: the node's program and numbered trace with its
// measured and predicted performance, the same for its ancestors (history depth), the best
// program so far, the recent failed proposals of the subtree with their errors, the hardware.
//
// Templates live in files a user can override from the config; placeholders are {{name}}.
#pragma once

#include <string>
#include <vector>

#include "rctune/llm/client.h"
#include "rctune/search/proposer.h"

namespace rctune::llm {

struct PromptTemplates {
  std::string system;  // placeholders: {{primitives}}, {{count}}
  std::string user;    // placeholders: {{workload}}, {{hardware}}, {{history}}, {{best}}, {{failed}}, {{count}}
  // The built-in templates (also shipped as configs/llm/prompts/system.txt and user.txt).
  static PromptTemplates defaults();
  // The defaults with the given files replacing them ("" keeps a default). Throws
  // std::runtime_error naming a file that cannot be read or names an unknown placeholder.
  static PromptTemplates load(const std::string& system_file, const std::string& user_file);
};

std::vector<Message> build_prompt(const search::ProposerInput& in, const PromptTemplates& t);

struct ParsedAnswer {
  std::vector<search::Proposal> proposals;  // as written (not yet checked by applying them)
  std::string reasoning;                    // the text before the block
  bool found_block = false;                 // a proposals block (or a recoverable part of one) was found
  bool truncated = false;                   // the answer ended inside the block; complete entries kept
  std::vector<std::string> warnings;        // what was tolerated ("trailing comma", "code fence missing", ...)
};

// Tolerates what real models do: code fences or none, prose around the block, trailing commas,
// single-quoted strings, a truncated answer (complete proposals before the cut are kept), an action
// given as a list of lines. Text outside the block (C++, shell, anything) is ignored.
ParsedAnswer parse_answer(const std::string& text);

}  // namespace rctune::llm
