// parse_answer (prompt.h): finds the proposals block in a model's answer and reads it. The answer
// is split into fenced code blocks and the prose around them; every JSON value in them that looks
// like a proposals block (an object with "proposals", a bare list of action objects, or one action
// object) is a candidate, and the last complete one wins (else the last truncated one). Nothing of
// the answer is ever run: C++, shell or anything else outside the block is ignored text.
//
// An answer may come from anyone, so the work is bounded: the candidate starts together read at
// most kWorkPerByte times the answer's size (plus a constant) before the scan gives up, only
// starts before the last key a block would hold are tried, values nest at most 16 deep, and what is handed on
// is bounded too (kMaxProposals proposals, actions of at most kMaxActionBytes that nest brackets at most
// kMaxActionDepth deep, rationales cut at kMaxRationaleBytes), so that the schedule parser never sees a bomb.
#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

#include "lenient_json.h"
#include "rctune/ir/text.h"
#include "rctune/llm/prompt.h"

namespace rctune::llm {
namespace {

// The reading work (characters the lenient reader goes through, over every candidate start): for
// the whole answer at most kWorkBase + kWorkPerByte * size, and for one region at most
// kRegionWorkBase + kWorkPerByte * its size, so that garbage in one region leaves work for the
// others. Regions are read last first: the block that wins is normally the last one.
constexpr size_t kWorkPerByte = 4;
constexpr size_t kWorkBase = size_t{1} << 20;
constexpr size_t kRegionWorkBase = size_t{64} << 10;
// What a start costs at least (a failed read unwinds its nesting).
constexpr size_t kWorkPerStart = 256;
constexpr size_t kMaxProposals = 64;
constexpr size_t kMaxActionBytes = 64 * 1024;
constexpr int kMaxActionDepth = 32;
constexpr size_t kMaxRationaleBytes = 2048;

// A part of the answer: a fenced code block's content or the text between blocks.
struct Region {
  size_t begin = 0, end = 0;  // the content, [begin, end) of the answer
  bool fenced = false;
  bool closed = true;      // fenced: the closing fence was found
  size_t fence_begin = 0;  // fenced: where the opening fence line starts
};

enum class Shape { Block, BareList, Single };

struct Found {
  size_t region = 0;
  size_t start = 0;  // where the block starts in the answer (its fence line when fenced)
  Shape shape = Shape::Block;
  bool complete = true;
  std::vector<search::Proposal> proposals;
  std::set<std::string> tolerated;
};

using ir::trim;

bool is_fence(std::string_view trimmed_line) {
  return trimmed_line.substr(0, 3) == "```" || trimmed_line.substr(0, 3) == "~~~";
}

// Fenced blocks and the text between them, in order.
std::vector<Region> split_regions(const std::string& text) {
  std::vector<Region> regions;
  size_t prose_begin = 0;
  std::optional<Region> open;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    const size_t next = eol == std::string::npos ? text.size() : eol + 1;
    if (eol == std::string::npos) eol = text.size();
    const std::string line = trim(std::string_view(text).substr(pos, eol - pos));
    if (!open && is_fence(line)) {
      if (pos > prose_begin) regions.push_back({prose_begin, pos, false, true, 0});
      open = Region{next, next, true, false, pos};
    } else if (open && is_fence(line) && trim(line.substr(3)).empty()) {
      open->end = pos;
      open->closed = true;
      regions.push_back(*open);
      open.reset();
      prose_begin = next;
    }
    pos = next;
  }
  if (open) {
    open->end = text.size();
    regions.push_back(*open);
  } else if (prose_begin < text.size()) {
    regions.push_back({prose_begin, text.size(), false, true, 0});
  }
  return regions;
}

const nlohmann::json* member(const nlohmann::json& obj, std::initializer_list<const char*> names) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    std::string key = it.key();
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
    for (const char* n : names)
      if (key == n) return &it.value();
  }
  return nullptr;
}

bool is_action_object(const nlohmann::json& v) {
  return v.is_object() && member(v, {"action", "actions", "edit", "edits", "steps"}) != nullptr;
}

// Splits a line at the ';' that end calls ("parallel(C, i); unroll(C, k)"): the trace language
// has no ';' inside a call.
std::vector<std::string> split_calls(const std::string& line, std::set<std::string>& tolerated) {
  std::vector<std::string> parts;
  std::string cur;
  // next_solid[i]: the first position >= i that is not ' ', '\t' or ';' (one pass from the right,
  // so that a line of many ';' costs linear time).
  std::vector<size_t> next_solid(line.size() + 1, std::string::npos);
  for (size_t i = line.size(); i-- > 0;)
    next_solid[i] = (line[i] == ' ' || line[i] == '\t' || line[i] == ';') ? next_solid[i + 1] : i;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#') {  // a comment runs to the end of the line
      cur += line.substr(i);
      break;
    }
    const size_t next = next_solid[i];
    if (line[i] == ';' && next != std::string::npos && line[next] != '#') {
      tolerated.insert("several steps on one line");
      parts.push_back(cur);
      cur.clear();
      continue;
    }
    cur += line[i];
  }
  parts.push_back(cur);
  return parts;
}

// One line per edit: literal "\n" taken as a line break (a double-escaped answer), steps joined
// with ';' split, blank lines, wrapping backticks and list bullets removed.
std::string normalize_action(std::string action, std::set<std::string>& tolerated) {
  if (action.find("\\n") != std::string::npos) {
    std::string unescaped;  // one pass (replacing in place would be quadratic)
    unescaped.reserve(action.size());
    for (size_t i = 0; i < action.size(); ++i) {
      if (action[i] == '\\' && i + 1 < action.size() && action[i + 1] == 'n') {
        unescaped += '\n';
        ++i;
      } else {
        unescaped += action[i];
      }
    }
    action = std::move(unescaped);
    tolerated.insert("escaped line breaks in an action");
  }
  std::string out;
  std::istringstream in(action);
  for (std::string line; std::getline(in, line);) {
    for (std::string l : split_calls(line, tolerated)) {
      l = trim(l);
      while (l.size() >= 2 && l.front() == '`' && l.back() == '`') l = trim(l.substr(1, l.size() - 2));
      if (l.size() >= 2 && (l[0] == '-' || l[0] == '*') && l[1] == ' ') {
        tolerated.insert("list bullets in an action");
        l = trim(l.substr(2));
      }
      if (l.empty()) continue;
      out += (out.empty() ? "" : "\n") + l;
    }
  }
  return out;
}

std::string one_line(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      out += c;
      space = false;
    }
  }
  return out;
}

std::string text_of(const nlohmann::json& v, const char* separator, std::set<std::string>& tolerated,
                    const char* list_note) {
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_array()) return "";
  std::string out;
  for (const auto& item : v)
    if (item.is_string()) out += (out.empty() ? "" : separator) + item.get<std::string>();
  if (list_note) tolerated.insert(list_note);
  return out;
}

// The deepest nesting of ( [ { in an action (quoted text skipped).
int bracket_depth(const std::string& action) {
  int depth = 0, deepest = 0;
  char quote = 0;
  for (char c : action) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '(' || c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

std::optional<search::Proposal> proposal_of(const nlohmann::json& entry, std::set<std::string>& tolerated) {
  search::Proposal p;
  std::string raw;
  if (entry.is_string()) {
    tolerated.insert("a proposal given as a bare string");
    raw = entry.get<std::string>();
  } else if (entry.is_object()) {
    if (const nlohmann::json* a = member(entry, {"action", "actions", "edit", "edits", "steps"}))
      raw = text_of(*a, "\n", tolerated, "action given as a list of lines");
    if (const nlohmann::json* r = member(entry, {"rationale", "reason", "reasoning", "why", "explanation"})) {
      p.rationale = one_line(text_of(*r, " ", tolerated, nullptr).substr(0, 4 * kMaxRationaleBytes));
      if (p.rationale.size() > kMaxRationaleBytes) {
        p.rationale = p.rationale.substr(0, kMaxRationaleBytes) + "...";
        tolerated.insert("a rationale over " + std::to_string(kMaxRationaleBytes) + " bytes cut");
      }
    }
  }
  // Bounded before anything else reads it: the schedule parser recurses into nested lists.
  if (raw.size() > kMaxActionBytes) {
    tolerated.insert("a proposal with an action over " + std::to_string(kMaxActionBytes) + " bytes skipped");
    return std::nullopt;
  }
  p.action = normalize_action(std::move(raw), tolerated);
  if (bracket_depth(p.action) > kMaxActionDepth) {
    tolerated.insert("a proposal with an action nesting brackets over " + std::to_string(kMaxActionDepth) +
                     " deep skipped");
    return std::nullopt;
  }
  if (p.action.empty()) {
    tolerated.insert("a proposal without an action skipped");
    return std::nullopt;
  }
  return p;
}

// The proposals of a value that looks like a proposals block, or nullopt.
std::optional<Found> recognise(const nlohmann::json& v) {
  Found f;
  const nlohmann::json* list = nullptr;
  if (v.is_object() && (list = member(v, {"proposals"})) != nullptr) {
    f.shape = Shape::Block;
    if (!list->is_array()) return std::nullopt;
  } else if (v.is_array() && std::any_of(v.begin(), v.end(), is_action_object)) {
    f.shape = Shape::BareList;
    list = &v;
  } else if (is_action_object(v)) {
    f.shape = Shape::Single;
    if (auto p = proposal_of(v, f.tolerated)) f.proposals.push_back(*p);
    return f;
  } else {
    return std::nullopt;
  }
  for (const auto& entry : *list) {
    if (f.proposals.size() >= kMaxProposals) {
      f.tolerated.insert("more than " + std::to_string(kMaxProposals) + " proposals: the rest ignored");
      break;
    }
    if (auto p = proposal_of(entry, f.tolerated)) f.proposals.push_back(*p);
  }
  return f;
}

// Every candidate block of one region, in order, while `work` (characters the reader may still
// go through) lasts; false when it ran out.
bool scan_region(const std::string& text, const Region& r, size_t index, std::vector<Found>& out,
                 size_t& work) {
  const std::string_view content = std::string_view(text).substr(r.begin, r.end - r.begin);
  // A candidate holds one of the keys that recognise() looks for: a start after the last of them
  // cannot be one (so text without any is not read at all).
  std::string lower(content);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  size_t last_key = 0;
  bool any_key = false;
  for (const char* k : {"proposals", "action", "edit", "steps"})
    if (const size_t at = lower.rfind(k); at != std::string::npos) {
      last_key = any_key ? std::max(last_key, at) : at;
      any_key = true;
    }
  if (!any_key) return true;
  size_t pos = 0;
  while ((pos = content.find_first_of("{[", pos)) != std::string_view::npos && pos < last_key) {
    if (work == 0) return false;
    size_t reached = pos;
    std::optional<detail::LenientValue> v = detail::read_lenient_json(content, pos, &reached);
    work -= std::min(work, std::max(kWorkPerStart, reached - std::min(reached, pos) + 1));
    std::optional<Found> f = v ? recognise(v->value) : std::nullopt;
    if (!f) {
      ++pos;
      continue;
    }
    f->region = index;
    f->start = r.fenced ? r.fence_begin : r.begin + pos;
    f->complete = v->complete;
    f->tolerated.insert(v->tolerated.begin(), v->tolerated.end());
    out.push_back(std::move(*f));
    if (!v->complete) break;
    pos = v->end;
  }
  return true;
}

}  // namespace

ParsedAnswer parse_answer(const std::string& text) {
  ParsedAnswer out;
  const std::vector<Region> regions = split_regions(text);
  std::vector<std::vector<Found>> per_region(regions.size());
  size_t work = kWorkBase + kWorkPerByte * text.size();
  bool gave_up = false;
  for (size_t i = regions.size(); i-- > 0;) {
    const size_t region_size = regions[i].end - regions[i].begin;
    size_t allowance = std::min(work, kRegionWorkBase + kWorkPerByte * region_size);
    work -= allowance;
    if (!scan_region(text, regions[i], i, per_region[i], allowance)) gave_up = true;
    work += allowance;  // what the region did not use
  }
  std::vector<Found> found;
  for (auto& f : per_region)
    for (auto& x : f) found.push_back(std::move(x));
  if (gave_up)
    out.warnings.push_back("the answer took too long to read (" + std::to_string(text.size()) +
                           " bytes): the rest of it was ignored");
  if (found.empty()) return out;

  // The last complete block (or bare list), else the last complete single action object (an
  // example in prose, or what is left of a malformed block), else the last candidate (truncated).
  auto chosen = std::find_if(found.rbegin(), found.rend(),
                             [](const Found& f) { return f.complete && f.shape != Shape::Single; });
  if (chosen == found.rend())
    chosen = std::find_if(found.rbegin(), found.rend(), [](const Found& f) { return f.complete; });
  if (chosen == found.rend()) chosen = found.rbegin();
  Found result = *chosen;
  if (result.shape == Shape::Single) {
    // A block that does not read as a whole (an unescaped quote, say) still yields its proposals
    // one by one: the single action objects of the same region, in order.
    result.proposals.clear();
    for (const Found& f : found)
      if (f.region == chosen->region && f.shape == Shape::Single && f.complete) {
        result.proposals.insert(result.proposals.end(), f.proposals.begin(), f.proposals.end());
        result.start = std::min(result.start, f.start);
        result.tolerated.insert(f.tolerated.begin(), f.tolerated.end());
      }
  }

  out.found_block = true;
  out.truncated = !result.complete;
  out.proposals = std::move(result.proposals);
  out.reasoning = trim(std::string_view(text).substr(0, result.start));
  const Region& region = regions[result.region];
  if (!region.fenced) out.warnings.push_back("code fence missing");
  if (region.fenced && !region.closed && result.complete)
    out.warnings.push_back("closing code fence missing");
  if (result.shape == Shape::BareList) out.warnings.push_back("\"proposals\" missing: a bare list");
  if (result.shape == Shape::Single)
    out.warnings.push_back("proposals read one by one (not a proposals list)");
  const size_t blocks = static_cast<size_t>(
      std::count_if(found.begin(), found.end(), [](const Found& f) { return f.shape != Shape::Single; }));
  if (blocks > 1) out.warnings.push_back(std::to_string(blocks) + " blocks: the last complete one was used");
  if (result.complete && !found.back().complete)
    out.warnings.push_back("the answer was cut inside a later block; the last complete block was used");
  for (const std::string& t : result.tolerated) out.warnings.push_back(t);
  return out;
}

}  // namespace rctune::llm
