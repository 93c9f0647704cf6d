#include "rctune/schedule/trace.h"

#include <algorithm>
#include <cctype>

#include "rctune/ir/limits.h"
#include "rctune/schedule/primitives.h"
#include "rctune/schedule/step.h"

namespace rctune::schedule {

namespace {

using PK = PrimitiveParam::Kind;

// Steps of one trace (a bound on what a file or an answer can make rctune apply; applying a trace
// is linear in its length).
constexpr size_t kMaxTraceSteps = 10000;

// A value as written: a name, an integer, None or a list.
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

// One call as written, before it is checked against its primitive's signature.
struct Call {
  std::string primitive;
  std::vector<TraceArg> args;
  int line = 0, column = 0;  // where the call starts
  std::string source;        // the call as written (comments and surrounding blanks removed)
};

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Edit distance, for "did you mean" hints.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// The candidate closest to `word` when it is close enough to be a likely typo, else "".
std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

class Parser {
 public:
  explicit Parser(const std::string& text) : t_(text) {}

  std::vector<Call> parse() {
    std::vector<Call> steps;
    for (;;) {
      skip_blank_lines();
      if (at_end()) break;
      if (steps.size() == kMaxTraceSteps) {
        error("the trace has more than " + std::to_string(kMaxTraceSteps) + " steps (the limit is " +
              std::to_string(kMaxTraceSteps) + ")");
      }
      steps.push_back(parse_call());
    }
    return steps;
  }

 private:
  const std::string& t_;
  size_t p_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;

  bool at_end() const { return p_ >= t_.size(); }
  char peek(size_t k = 0) const { return p_ + k < t_.size() ? t_[p_ + k] : '\0'; }
  int col() const { return static_cast<int>(p_ - line_start_) + 1; }
  void advance() {
    if (t_[p_] == '\n') {
      ++line_;
      line_start_ = p_ + 1;
    }
    ++p_;
  }
  [[noreturn]] void error(const std::string& what) {
    std::string w = what;
    if (open_line_ > 0 && open_line_ != line_) {
      w += " (the '(' at line " + std::to_string(open_line_) + ", column " + std::to_string(open_col_) +
           " is not closed)";
    }
    throw TraceParseError(w, line_, col());
  }
  int open_line_ = 0, open_col_ = 0;  // the '(' of the call being parsed
  int nesting_ = 0;                   // of lists, in parse_value
  [[noreturn]] void error_at(const std::string& what, int line, int column) {
    throw TraceParseError(what, line, column);
  }
  std::string found() const {
    if (at_end()) return "the end of the text";
    const char c = peek();
    if (c == '\n' || c == '\r') return "the end of the line";
    if (c == '#') return "a comment";
    size_t e = p_;
    if (is_ident_char(c)) {
      while (e < t_.size() && (is_ident_char(t_[e]) || t_[e] == '.')) ++e;
    } else {
      e = p_ + 1;
    }
    return "'" + t_.substr(p_, e - p_) + "'";
  }

  void skip_comment() {
    while (!at_end() && peek() != '\n') advance();
  }
  // Spaces and tabs (and, inside brackets, newlines and comments).
  void skip_space(bool newlines) {
    for (;;) {
      const char c = peek();
      if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
        advance();
      } else if (newlines && c == '\n') {
        advance();
      } else if (newlines && c == '#') {
        skip_comment();
      } else {
        return;
      }
    }
  }
  void skip_blank_lines() {
    for (;;) {
      skip_space(false);
      if (peek() == '#') skip_comment();
      if (peek() == ';') {
        advance();
        continue;
      }
      if (peek() == '\n') {
        advance();
        continue;
      }
      return;
    }
  }

  std::string scan_name() {
    const size_t b = p_;
    while (!at_end()) {
      if (is_ident_char(peek())) {
        advance();
      } else if (peek() == '.' && is_ident_char(peek(1))) {
        advance();
      } else {
        break;
      }
    }
    return t_.substr(b, p_ - b);
  }

  TraceValue parse_value() {
    TraceValue v;
    v.line = line_;
    v.column = col();
    const char c = peek();
    if (c == '[' || c == '(') {
      // A list; a parenthesised tuple (None, 8) is accepted as well.
      ir::NestingGuard guard(nesting_, ir::kMaxNesting);
      if (guard.exceeded()) {
        error_at("lists nest more than " + std::to_string(ir::kMaxNesting) + " levels deep (the limit is " +
                     std::to_string(ir::kMaxNesting) + ")",
                 v.line, v.column);
      }
      const char close = c == '[' ? ']' : ')';
      v.kind = TraceValue::Kind::List;
      advance();
      skip_space(true);
      if (peek() == close) {
        advance();
        return v;
      }
      for (;;) {
        v.items.push_back(parse_value());
        skip_space(true);
        if (peek() == ',') {
          advance();
          skip_space(true);
          if (peek() == close) {
            advance();
            return v;
          }
          continue;
        }
        if (peek() == close) {
          advance();
          return v;
        }
        error(std::string("expected ',' or '") + close + "' in a list, found " + found());
      }
    }
    if (c == '"' || c == '\'') {
      advance();
      const size_t b = p_;
      while (!at_end() && peek() != c && peek() != '\n') advance();
      if (peek() != c) error_at("unterminated quoted name", v.line, v.column);
      v.name = t_.substr(b, p_ - b);
      advance();
      if (v.name.empty()) error_at("empty quoted name", v.line, v.column);
      v.kind = TraceValue::Kind::Name;
      return v;
    }
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      const size_t b = p_;
      if (c == '-') advance();
      if (!std::isdigit(static_cast<unsigned char>(peek())))
        error("expected digits after '-', found " + found());
      while (std::isdigit(static_cast<unsigned char>(peek()))) advance();
      if (peek() == '.' && std::isdigit(static_cast<unsigned char>(peek(1)))) {
        size_t e = p_ + 1;
        while (e < t_.size() && std::isdigit(static_cast<unsigned char>(t_[e]))) ++e;
        error_at("numbers must be integers, found '" + t_.substr(b, e - b) + "'", v.line, v.column);
      }
      if (is_ident_start(peek()) || peek() == '.') {
        error_at("a name must start with a letter or '_', found '" + t_.substr(b, p_ - b + 1) + "'", v.line,
                 v.column);
      }
      const std::string digits = t_.substr(b, p_ - b);
      if (digits.size() > 18) error_at("integer " + digits + " is too large", v.line, v.column);
      v.kind = TraceValue::Kind::Int;
      v.value = std::stoll(digits);
      return v;
    }
    if (is_ident_start(c)) {
      v.name = scan_name();
      v.kind = v.name == "None" ? TraceValue::Kind::None : TraceValue::Kind::Name;
      return v;
    }
    error("expected a value (a name, an integer, None or a [list]), found " + found());
  }

  Call parse_call() {
    Call s;
    s.line = line_;
    s.column = col();
    const size_t begin = p_;
    if (!is_ident_start(peek()))
      error("expected a primitive such as split(C, i, [None, 8]), found " + found());
    s.primitive = scan_name();
    const PrimitiveInfo* info = find_primitive(s.primitive);
    if (!info) {
      std::vector<std::string> names;
      for (const auto& pi : primitive_registry()) names.push_back(pi.name);
      std::string hint;
      const size_t dot = s.primitive.rfind('.');
      if (dot != std::string::npos && find_primitive(s.primitive.substr(dot + 1))) {
        hint = " (write " + s.primitive.substr(dot + 1) + "(...) without a prefix)";
      } else if (auto m = closest(s.primitive, names); !m.empty()) {
        hint = " (did you mean " + m + "?)";
      }
      std::string all;
      for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
      error_at("unknown primitive '" + s.primitive + "'" + hint + "; the primitives are " + all, s.line,
               s.column);
    }
    skip_space(false);
    if (peek() != '(') error("expected '(' after " + s.primitive + ", found " + found());
    open_line_ = line_;
    open_col_ = col();
    advance();
    skip_space(true);
    if (peek() == ')') {
      advance();
    } else {
      for (;;) {
        TraceArg a;
        a.line = line_;
        a.column = col();
        // keyword=value?
        if (is_ident_start(peek())) {
          const size_t save_p = p_;
          const int save_line = line_;
          const size_t save_ls = line_start_;
          const std::string word = scan_name();
          skip_space(false);
          if (peek() == '=' && peek(1) != '=' && word.find('.') == std::string::npos) {
            advance();
            skip_space(true);
            a.keyword = word;
          } else {
            p_ = save_p;
            line_ = save_line;
            line_start_ = save_ls;
          }
        }
        a.value = parse_value();
        s.args.push_back(std::move(a));
        skip_space(true);
        if (peek() == ',') {
          advance();
          skip_space(true);
          if (peek() == ')') {
            advance();
            break;
          }
          continue;
        }
        if (peek() == ')') {
          advance();
          break;
        }
        error("expected ',' or ')' after an argument, found " + found());
      }
    }
    open_line_ = 0;
    s.source = t_.substr(begin, p_ - begin);
    // Collapse the whitespace of calls written over several lines.
    std::string src;
    bool space = false;
    bool comment = false;
    for (char c : s.source) {
      if (comment && c != '\n') continue;
      comment = false;
      if (c == '#') {
        comment = true;
        space = true;
        continue;
      }
      if (std::isspace(static_cast<unsigned char>(c))) {
        space = true;
        continue;
      }
      if (space && !src.empty() && src.back() != '(' && src.back() != '[' && c != ')' && c != ']' &&
          c != ',') {
        src += ' ';
      }
      space = false;
      src += c;
    }
    s.source = src;
    skip_space(false);
    if (peek() == ';') advance();
    skip_space(false);
    if (peek() == '#') skip_comment();
    if (!at_end() && peek() != '\n') {
      error("expected the end of the line after " + s.primitive + "(...) (one primitive per line), found " +
            found());
    }
    return s;
  }
};

// Arguments bound to a primitive's parameters: one list of values per parameter.
struct Bound {
  std::vector<std::vector<const TraceValue*>> values;
  std::vector<TraceValue> owned_factor_lists;  // for "factor=8" / a bare integer
};

const char* kind_text(PK k) {
  switch (k) {
    case PK::Stage:
      return "a stage name";
    case PK::Tensor:
      return "a tensor name";
    case PK::Loop:
      return "a loop name";
    case PK::Loops:
      return "loop names";
    case PK::Stages:
      return "stage names";
    case PK::Factors:
      return "a list of factors such as [None, 8]";
    case PK::Scope:
      return "a scope (local, shared or heap)";
    case PK::Level:
      return "a level (league, team or vector)";
  }
  return "?";
}

std::string value_text(const TraceValue& v) {
  switch (v.kind) {
    case TraceValue::Kind::Name:
      return v.name;
    case TraceValue::Kind::Int:
      return std::to_string(v.value);
    case TraceValue::Kind::None:
      return "None";
    case TraceValue::Kind::List: {
      std::string s = "[";
      for (size_t i = 0; i < v.items.size(); ++i) s += (i ? ", " : "") + value_text(v.items[i]);
      return s + "]";
    }
  }
  return "?";
}

[[noreturn]] void bind_error(const std::string& what, int line, int column) {
  throw TraceParseError(what, line, column);
}

void check_value(const Call& s, const PrimitiveParam& p, const TraceValue& v) {
  auto bad = [&](const std::string& extra = "") {
    bind_error("argument '" + p.name + "' of " + s.primitive + " must be " + kind_text(p.kind) + ", found " +
                   value_text(v) + extra,
               v.line, v.column);
  };
  switch (p.kind) {
    case PK::Stage:
    case PK::Tensor:
    case PK::Loop:
    case PK::Loops:
    case PK::Stages:
      if (v.kind != TraceValue::Kind::Name) bad();
      return;
    case PK::Scope:
      if (v.kind != TraceValue::Kind::Name || (v.name != "local" && v.name != "shared" && v.name != "heap"))
        bad();
      return;
    case PK::Level:
      if (v.kind != TraceValue::Kind::Name || (v.name != "league" && v.name != "team" && v.name != "vector"))
        bad();
      return;
    case PK::Factors:
      if (v.kind != TraceValue::Kind::List) bad();
      for (const auto& it : v.items) {
        if (it.kind != TraceValue::Kind::Int && it.kind != TraceValue::Kind::None) {
          bind_error("factors of " + s.primitive + " must be integers or None, found " + value_text(it),
                     it.line, it.column);
        }
      }
      return;
  }
}

Bound bind_args(const Call& s, const PrimitiveInfo* info) {
  const auto& params = info->params;
  Bound b;
  b.values.resize(params.size());
  std::vector<bool> given(params.size(), false);
  b.owned_factor_lists.reserve(s.args.size());
  auto make_factor_list = [&](const TraceValue& v) -> const TraceValue* {
    TraceValue l;
    l.kind = TraceValue::Kind::List;
    l.line = v.line;
    l.column = v.column;
    TraceValue none;
    none.kind = TraceValue::Kind::None;
    none.line = v.line;
    none.column = v.column;
    l.items = {none, v};
    b.owned_factor_lists.push_back(l);
    return &b.owned_factor_lists.back();
  };
  auto assign = [&](size_t pi, const TraceArg& a) {
    const PrimitiveParam& p = params[pi];
    const bool variadic = p.kind == PK::Loops || p.kind == PK::Stages;
    if (given[pi] && !variadic) {
      bind_error("argument '" + p.name + "' of " + s.primitive + " is given twice", a.line, a.column);
    }
    given[pi] = true;
    if (variadic && a.value.kind == TraceValue::Kind::List) {
      for (const auto& it : a.value.items) {
        check_value(s, p, it);
        b.values[pi].push_back(&it);
      }
      return;
    }
    if (p.kind == PK::Factors && a.value.kind == TraceValue::Kind::Int) {
      b.values[pi].push_back(make_factor_list(a.value));
      return;
    }
    check_value(s, p, a.value);
    b.values[pi].push_back(&a.value);
  };
  size_t next = 0;
  bool seen_keyword = false;
  for (const auto& a : s.args) {
    if (!a.keyword.empty()) {
      seen_keyword = true;
      std::string kw = a.keyword;
      if (info->id == Primitive::Split && kw == "factor") {
        if (a.value.kind != TraceValue::Kind::Int) {
          bind_error("factor= of split must be an integer (the inner factor)", a.value.line, a.value.column);
        }
        kw = "factors";
      }
      size_t pi = params.size();
      for (size_t k = 0; k < params.size(); ++k) {
        if (params[k].name == kw) pi = k;
      }
      if (pi == params.size()) {
        std::vector<std::string> pnames;
        for (const auto& q : params) pnames.push_back(q.name);
        const std::string m = closest(a.keyword, pnames);
        bind_error(s.primitive + " has no parameter '" + a.keyword + "'" +
                       (m.empty() ? "" : " (did you mean " + m + "?)") + "; its signature is " +
                       info->signature,
                   a.line, a.column);
      }
      if (given[pi]) {
        bind_error("argument '" + params[pi].name + "' of " + s.primitive + " is given twice", a.line,
                   a.column);
      }
      assign(pi, a);
      continue;
    }
    if (seen_keyword) bind_error("a positional argument follows a keyword argument", a.line, a.column);
    if (next >= params.size()) {
      bind_error(s.primitive + " takes " + std::to_string(params.size()) + " argument" +
                     (params.size() == 1 ? "" : "s") + ": " + info->signature + "; this is one too many",
                 a.line, a.column);
    }
    assign(next, a);
    const PK k = params[next].kind;
    if (k != PK::Loops && k != PK::Stages) ++next;
  }
  for (size_t k = 0; k < params.size(); ++k) {
    if (params[k].kind == PK::Stages) continue;
    if (b.values[k].empty()) {
      bind_error(
          s.primitive + " is missing argument '" + params[k].name + "'; its signature is " + info->signature,
          s.line, s.column);
    }
  }
  return b;
}

std::vector<std::string> names(const std::vector<const TraceValue*>& vs) {
  std::vector<std::string> out;
  for (const auto* v : vs) out.push_back(v->name);
  return out;
}

Factors factors(const TraceValue& v) {
  Factors out;
  for (const auto& it : v.items)
    out.push_back(it.kind == TraceValue::Kind::None ? std::nullopt : std::optional<int64_t>(it.value));
  return out;
}

// The call as a typed step, its arguments bound to the primitive's parameters.
ParsedStep typed_step(const Call& c) {
  const PrimitiveInfo* info = find_primitive(c.primitive);
  if (!info) bind_error("unknown primitive '" + c.primitive + "'", c.line, c.column);
  const Bound b = bind_args(c, info);
  ParsedStep out;
  out.primitive = info->id;
  out.line = c.line;
  out.column = c.column;
  out.source = c.source;
  for (size_t k = 0; k < info->params.size(); ++k) {
    switch (info->params[k].kind) {
      case PK::Loops:
      case PK::Stages:
        out.args.emplace_back(names(b.values[k]));
        break;
      case PK::Factors:
        out.args.emplace_back(factors(*b.values[k].at(0)));
        break;
      case PK::Stage:
      case PK::Tensor:
      case PK::Loop:
      case PK::Scope:
      case PK::Level:
        out.args.emplace_back(b.values[k].at(0)->name);
        break;
    }
  }
  return out;
}

// Applies steps in order; an illegal step throws "step <n> `<source>`: <reason>".
template <typename Steps, typename SourceOf>
State apply_steps(const State& s, const Steps& steps, SourceOf source_of) {
  State cur = s;
  for (size_t i = 0; i < steps.size(); ++i) {
    try {
      cur = apply_step(cur, steps[i]);
    } catch (const PrimitiveError& e) {
      throw ScheduleError("step " + std::to_string(i + 1) + " `" + source_of(steps[i]) + "`: " + e.reason());
    } catch (const ScheduleError& e) {
      throw ScheduleError("step " + std::to_string(i + 1) + " `" + source_of(steps[i]) + "`: " + e.what());
    }
  }
  return cur;
}

}  // namespace

std::vector<ParsedStep> parse_trace(const std::string& text) {
  const std::vector<Call> calls = Parser(text).parse();
  std::vector<ParsedStep> steps;
  steps.reserve(calls.size());
  for (const auto& c : calls) steps.push_back(typed_step(c));
  return steps;
}

std::string to_text(const std::vector<Step>& trace) {
  std::string out;
  for (const auto& s : trace) out += to_text(s) + "\n";
  return out;
}

std::string to_text(const std::vector<ParsedStep>& steps) {
  std::string out;
  for (const auto& s : steps) out += to_text(static_cast<const Step&>(s)) + "\n";
  return out;
}

State apply_step(const State& s, const Step& step) { return primitive_info(step.primitive).apply(s, step); }

State apply_trace(const State& s, const std::string& text) {
  return apply_steps(s, parse_trace(text),
                     [](const ParsedStep& p) -> const std::string& { return p.source; });
}

State replay(const State& s) {
  return apply_steps(State(s.original_workload_ptr()), s.trace(), [](const Step& p) { return to_text(p); });
}

}  // namespace rctune::schedule
