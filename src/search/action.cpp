#include "rctune/search/action.h"

#include <cctype>
#include <map>
#include <sstream>

#include "rctune/ir/text.h"
#include "rctune/schedule/trace.h"

namespace rctune::search {

namespace {

using ir::trim;

// The canonical text of one step written in the trace language; throws ActionError naming the line.
std::string canonical_step(const std::string& text, int line) {
  std::vector<schedule::ParsedStep> steps;
  try {
    steps = schedule::parse_trace(text);
  } catch (const schedule::ScheduleError& e) {
    throw ActionError("action line " + std::to_string(line) + ": " + e.what());
  }
  if (steps.size() != 1)
    throw ActionError("action line " + std::to_string(line) + ": expected one step, found " +
                      std::to_string(steps.size()));
  return schedule::to_text(steps.front());
}

}  // namespace

std::vector<Edit> parse_action(const std::string& action_text) {
  std::vector<Edit> edits;
  std::istringstream in(action_text);
  std::string raw;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    std::string s = trim(raw);
    if (s.empty() || s[0] == '#') continue;
    Edit e;
    size_t digits = 0;
    while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
    if (digits > 0 && digits < s.size() && s[digits] == ':') {
      try {
        e.step = std::stoi(s.substr(0, digits));
      } catch (const std::exception&) {
        throw ActionError("action line " + std::to_string(line) + ": step number out of range");
      }
      std::string rest = trim(s.substr(digits + 1));
      if (rest == "delete") {
        e.kind = Edit::Kind::Delete;
      } else {
        e.kind = Edit::Kind::Replace;
        e.text = canonical_step(rest, line);
      }
    } else {
      e.kind = Edit::Kind::Append;
      e.text = canonical_step(s, line);
    }
    edits.push_back(std::move(e));
  }
  return edits;
}

std::string to_text(const std::vector<Edit>& edits) {
  std::string out;
  for (const Edit& e : edits) {
    switch (e.kind) {
      case Edit::Kind::Append:
        out += e.text;
        break;
      case Edit::Kind::Replace:
        out += std::to_string(e.step) + ": " + e.text;
        break;
      case Edit::Kind::Delete:
        out += std::to_string(e.step) + ": delete";
        break;
    }
    out += '\n';
  }
  return out;
}

std::string edited_trace(const std::vector<schedule::Step>& parent_steps, const std::vector<Edit>& edits) {
  std::map<int, const Edit*> at;  // step -> its replacement or deletion
  std::string appended;
  for (const Edit& e : edits) {
    if (e.kind == Edit::Kind::Append) {
      appended += e.text + '\n';
      continue;
    }
    if (e.step < 1 || e.step > static_cast<int>(parent_steps.size()))
      throw ActionError("action: step " + std::to_string(e.step) + " does not exist (the trace has " +
                        std::to_string(parent_steps.size()) + " steps)");
    if (!at.emplace(e.step, &e).second)
      throw ActionError("action: step " + std::to_string(e.step) + " is edited twice");
  }
  std::string out;
  for (size_t i = 0; i < parent_steps.size(); ++i) {
    auto it = at.find(static_cast<int>(i) + 1);
    if (it == at.end()) {
      out += schedule::to_text(parent_steps[i]) + '\n';
    } else if (it->second->kind == Edit::Kind::Replace) {
      out += it->second->text + '\n';
    }
  }
  return out + appended;
}

schedule::State apply_action(const schedule::State& parent, const std::string& action_text) {
  const std::string text = edited_trace(parent.trace(), parse_action(action_text));
  return schedule::apply_trace(schedule::State(parent.original_workload_ptr()), text);
}

std::string number_steps(const std::vector<schedule::Step>& steps) {
  std::string out;
  for (size_t i = 0; i < steps.size(); ++i) out += std::to_string(i + 1) + ": " + schedule::to_text(steps[i]) + '\n';
  return out;
}

}  // namespace rctune::search
