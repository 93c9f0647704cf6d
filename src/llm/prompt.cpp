// The LLM proposer's prompt: the built-in templates (identical to configs/llm/prompts/*.txt, a test
// compares them), loading user templates with their placeholders checked, and build_prompt, which
// renders a search::ProposerInput (workload, hardware, the node and its ancestors, the best
// program, recent failures) into the system and user messages.
#include "rctune/llm/prompt.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "rctune/config/input_file.h"
#include "rctune/ir/text.h"
#include "rctune/ir/workload.h"
#include "rctune/schedule/trace.h"

namespace rctune::llm {
namespace {

// configs/llm/prompts/system.txt
const char* const kSystemTemplate =
    R"PROMPT(You are an expert performance engineer. You make a tensor kernel fast by scheduling its loop nest:
you choose a sequence of compiler transformations (a schedule), and a compiler turns the scheduled
loop nest into a Kokkos C++ kernel that is checked against a reference and timed. You never write
code yourself: only transformations of the schedule language below reach the compiler.

# The schedule language

{{primitives}}
# Actions

You change a program by proposing actions. An action is a short edit script over the program's
numbered trace (the steps shown as "N: step"), one edit per line:

  vectorize(C, j.1)              append this step after the existing steps
  3: split(C, i, [None, 16])     replace step 3 by this step
  3: delete                      remove step 3
  # a comment                    ignored (so are blank lines)

Step numbers refer to the numbering of the trace you are shown, whatever the order of the lines;
appended steps go after the remaining steps, in the order written. A parameter change (tile size,
unroll, parallel extent, compute location) is a replacement; a structural transformation is
usually an append. Each action is applied to the program and checked: an illegal action is
rejected with its error and costs nothing but the proposal.

# Your answer

First reason step by step about the program: where its time goes (loop order, memory access
contiguity, data reuse in registers and caches, vectorization, parallelism), how the measured
history responded to the last changes, and which proposals that failed must not be repeated.
Then end your answer with exactly one JSON block holding {{count}} proposals, most promising
first, each different from the others:

```json
{"proposals": [{"action": "3: split(C, i, [None, 16])\nvectorize(C, j.1)", "rationale": "one line: why this is faster"}]}
```

Write each action with the step syntax above ("\n" between the lines of one action). Do not
write anything after the JSON block.
)PROMPT";

// configs/llm/prompts/user.txt
const char* const kUserTemplate = R"PROMPT(# Workload

{{workload}}

# Hardware

{{hardware}}

# The program to improve and its ancestors

{{history}}

# Best program so far

{{best}}

# Recent proposals that failed in this part of the search

{{failed}}

# Task

Propose {{count}} actions for the current program (the first one above). Reason first, then give
the JSON block.
)PROMPT";

const std::set<std::string> kSystemPlaceholders = {"primitives", "count"};
const std::set<std::string> kUserPlaceholders = {"workload", "hardware", "history",
                                                 "best",     "failed",   "count"};

// Programs longer than this many lines are shown as their head and tail.
constexpr size_t kMaxProgramLines = 120;
constexpr size_t kTailLines = 30;

struct Placeholder {
  size_t begin = 0, end = 0;  // [begin, end) covers "{{name}}"
  std::string name;
};

// Every {{name}} of a template, in order.
std::vector<Placeholder> placeholders(const std::string& t) {
  std::vector<Placeholder> out;
  for (size_t pos = t.find("{{"); pos != std::string::npos; pos = t.find("{{", pos + 2)) {
    const size_t close = t.find("}}", pos + 2);
    if (close == std::string::npos) break;
    out.push_back({pos, close + 2, ir::trim(t.substr(pos + 2, close - pos - 2), " \t")});
  }
  return out;
}

// "{{a}}, {{b}}".
std::string placeholder_list(const std::set<std::string>& names) {
  std::vector<std::string> items;
  for (const auto& n : names) items.push_back("{{" + n + "}}");
  return ir::join(items);
}

// Throws when the template names a placeholder not in `known`. `what` names the template.
void check_placeholders(const std::string& t, const std::set<std::string>& known, const std::string& what) {
  for (const Placeholder& p : placeholders(t))
    if (!known.count(p.name))
      throw std::runtime_error(what + ": unknown placeholder {{" + p.name +
                               "}} (known: " + placeholder_list(known) + ")");
}

// Replaces each placeholder by its value, in one pass (values are not scanned again).
std::string render(const std::string& t, const std::map<std::string, std::string>& values,
                   const std::string& what) {
  std::string out;
  size_t last = 0;
  for (const Placeholder& p : placeholders(t)) {
    auto it = values.find(p.name);
    if (it == values.end()) throw std::runtime_error(what + ": unknown placeholder {{" + p.name + "}}");
    out.append(t, last, p.begin - last);
    out += it->second;
    last = p.end;
  }
  out.append(t, last, std::string::npos);
  return out;
}

std::string read_file(const std::string& path) {
  return config::read_input_file(path, "the prompt template");
}

using ir::fixed;

std::string with_newline(const std::string& s) { return s.empty() || s.back() == '\n' ? s : s + "\n"; }

std::string ancestor_label(size_t k) {
  switch (k) {
    case 0:
      return "Current program";
    case 1:
      return "Parent";
    case 2:
      return "Grandparent";
    case 3:
      return "Great-grandparent";
    default:
      return "Ancestor " + std::to_string(k) + " levels up";
  }
}

std::string measurement_text(const search::ProgramView& v) {
  std::string s;
  if (std::isfinite(v.gflops)) {
    s = "measured: " + fixed(v.gflops, 2) + " GFLOP/s";
    if (std::isfinite(v.speedup)) s += ", speedup x" + fixed(v.speedup, 2) + " over the unscheduled kernel";
  } else if (!v.status.empty() && v.status != "ok") {
    s = "measurement failed: " + v.status;
  } else {
    s = "not measured";
  }
  // A measured program's prediction adds nothing (and differs between the ranks of a run, whose
  // cost models learnt in different orders: without it, ranks at the same node ask the same).
  if (std::isfinite(v.gflops)) return s + "\n";
  s += "\npredicted score: ";
  s += std::isfinite(v.predicted) ? fixed(v.predicted, 4) + " (cost model; higher is faster)" : "none";
  return s + "\n";
}

std::string trace_text(const std::string& numbered) {
  return numbered.empty() ? "(no steps: the unscheduled program)\n" : with_newline(numbered);
}

// The program, its head and tail when it is long.
std::string program_text(const std::string& program) {
  std::vector<std::string> lines;
  std::istringstream in(program);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::string out;
  if (lines.size() <= kMaxProgramLines) {
    out = with_newline(program);
  } else {
    const size_t head = kMaxProgramLines - kTailLines;
    for (size_t i = 0; i < head; ++i) out += lines[i] + "\n";
    out += "    ... (" + std::to_string(lines.size() - head - kTailLines) + " lines omitted) ...\n";
    for (size_t i = lines.size() - kTailLines; i < lines.size(); ++i) out += lines[i] + "\n";
  }
  std::string note;
  if (lines.size() > kMaxProgramLines)
    note = " (trimmed: the first " + std::to_string(kMaxProgramLines - kTailLines) + " and last " +
           std::to_string(kTailLines) + " of " + std::to_string(lines.size()) + " lines)";
  return "program" + note + ":\n```\n" + out + "```\n";
}

std::string history_text(const search::ProposerInput& in) {
  std::string out;
  for (size_t k = 0; k < in.history.size(); ++k) {
    const search::ProgramView& v = in.history[k];
    out += "## " + ancestor_label(k);
    if (k == 0 && in.history.size() > 1) out += " (the last action produced it from its parent)";
    out += "\n\n";
    out += measurement_text(v);
    out += "trace (numbered as actions refer to steps):\n" + trace_text(v.trace);
    if (!v.program.empty()) out += program_text(v.program);
    out += "\n";
  }
  if (in.history.empty()) out = "(no history)";
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string best_text(const search::ProposerInput& in) {
  if (!in.best) return "(nothing measured yet)";
  const search::ProgramView& b = *in.best;
  std::string out;
  bool in_history = false;
  for (size_t k = 0; k < in.history.size() && !in_history; ++k)
    if (in.history[k].trace == b.trace) {
      out = "(the same program as \"" + ancestor_label(k) + "\" above)\n";
      in_history = true;
    }
  out += measurement_text(b);
  out += "trace:\n" + trace_text(b.trace);
  // The program is shown once: here only when it is not in the history above.
  if (!in_history && !b.program.empty()) out += program_text(b.program);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string indent(const std::string& text, const std::string& prefix) {
  std::string out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out += prefix + l + "\n";
  return out;
}

std::string failed_text(const search::ProposerInput& in) {
  if (in.failed.empty()) return "(none)";
  std::string out = "Oldest first. Do not propose these again; avoid the steps their errors name.\n";
  for (size_t i = 0; i < in.failed.size(); ++i) {
    const search::FailedProposal& f = in.failed[i];
    out += std::to_string(i + 1) + ". action:\n" + indent(f.action.empty() ? "(none)" : f.action, "     ");
    out += "   error: " + f.error + "\n";
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string workload_text(const search::ProposerInput& in) {
  auto w = in.state.original_workload_ptr() ? in.state.original_workload_ptr() : in.state.workload_ptr();
  if (!w) return "(unknown)";
  std::string s = ir::to_string(*w);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string hardware_text(const search::ProposerInput& in) {
  std::string s = in.hardware.text();
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace

PromptTemplates PromptTemplates::defaults() { return {kSystemTemplate, kUserTemplate}; }

PromptTemplates PromptTemplates::load(const std::string& system_file, const std::string& user_file) {
  PromptTemplates t = defaults();
  if (!system_file.empty()) {
    t.system = read_file(system_file);
    check_placeholders(t.system, kSystemPlaceholders, "prompt template " + system_file);
  }
  if (!user_file.empty()) {
    t.user = read_file(user_file);
    check_placeholders(t.user, kUserPlaceholders, "prompt template " + user_file);
  }
  return t;
}

std::vector<Message> build_prompt(const search::ProposerInput& in, const PromptTemplates& t) {
  const std::string count = std::to_string(in.count);
  const std::map<std::string, std::string> system_values = {
      {"primitives", schedule::primitive_reference()},
      {"count", count},
  };
  const std::map<std::string, std::string> user_values = {
      {"workload", workload_text(in)}, {"hardware", hardware_text(in)}, {"history", history_text(in)},
      {"best", best_text(in)},         {"failed", failed_text(in)},     {"count", count},
  };
  return {{"system", render(t.system, system_values, "system prompt template")},
          {"user", render(t.user, user_values, "user prompt template")}};
}

}  // namespace rctune::llm
