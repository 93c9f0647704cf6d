#include "rctune/schedule/trace.h"

#include <algorithm>
#include <cctype>

#include "rctune/ir/limits.h"
#include "rctune/schedule/primitives.h"

namespace rctune::schedule {

namespace {

using PK = PrimitiveParam::Kind;

// Steps of one trace (a bound on what a file or an answer can make rctune apply; applying a trace
// is linear in its length).
constexpr size_t kMaxTraceSteps = 10000;

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

  std::vector<ParsedStep> parse() {
    std::vector<ParsedStep> steps;
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

  ParsedStep parse_call() {
    ParsedStep s;
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

void check_value(const ParsedStep& s, const PrimitiveParam& p, const TraceValue& v) {
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

Bound bind_args(const ParsedStep& s) {
  const PrimitiveInfo* info = find_primitive(s.primitive);
  if (!info) bind_error("unknown primitive '" + s.primitive + "'", s.line, s.column);
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
      if (s.primitive == "split" && kw == "factor") {
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

std::vector<int64_t> factors(const TraceValue& v) {
  std::vector<int64_t> out;
  for (const auto& it : v.items)
    out.push_back(it.kind == TraceValue::Kind::None ? kInferredFactor : it.value);
  return out;
}

PrimitiveInfo make(std::string name, std::vector<PrimitiveParam> params, std::string description,
                   std::string legality, std::string example) {
  PrimitiveInfo i;
  i.name = std::move(name);
  i.params = std::move(params);
  std::string sig = i.name + "(";
  for (size_t k = 0; k < i.params.size(); ++k) {
    if (k) sig += ", ";
    const bool variadic = i.params[k].kind == PK::Loops || i.params[k].kind == PK::Stages;
    sig += i.params[k].name + (variadic ? "..." : "");
  }
  i.signature = sig + ")";
  i.description = std::move(description);
  i.legality = std::move(legality);
  i.example = std::move(example);
  return i;
}

std::vector<PrimitiveInfo> build_registry() {
  const PrimitiveParam stage{PK::Stage, "stage"};
  const PrimitiveParam loop{PK::Loop, "loop"};
  return {
      make(
          "split", {stage, loop, {PK::Factors, "factors"}},
          "Splits a loop into nested loops loop.0 (outermost) ... loop.n with the given extents; the first "
          "factor may be None (inferred as ceil(extent / product of the others)); factors that do not divide "
          "the extent are allowed (the body is guarded).",
          "the loop is a current, unannotated loop of the stage; at least two factors, all positive "
          "integers, only the first may be None; the inner factors may not multiply to more than the extent.",
          "split(C, i, [None, 8])"),
      make("reorder", {stage, {PK::Loops, "loops"}},
           "Reorders loops: the named loops take the positions the named loops occupy now, in the given "
           "order; "
           "other loops stay where they are.",
           "every name is a current loop of the stage, named once; a vectorized loop stays "
           "innermost; a reduction loop may not move outside the loop chosen by decompose_reduction.",
           "reorder(C, i.0, j.0, k, i.1, j.1)"),
      make("fuse", {stage, {PK::Loops, "loops"}},
           "Fuses adjacent loops into one loop named by joining their names with '.' (fuse(C, i.0, j.0) "
           "creates "
           "i.0.j.0).",
           "at least two current loops, adjacent and given outermost first, all spatial or all reduction, "
           "none "
           "annotated; a stage placed at one of them must be placed at the innermost one.",
           "fuse(C, i.0, j.0)"),
      make("parallel", {stage, loop},
           "Runs the iterations of a loop in parallel on CPU threads (Kokkos RangePolicy; adjacent parallel "
           "loops of one stage become an MDRangePolicy).",
           "a current, unannotated, spatial loop; not inside another parallel loop (except an adjacent "
           "parallel "
           "loop of the same stage) nor inside or around a bound loop.",
           "parallel(C, i.0)"),
      make("vectorize", {stage, loop},
           "Vectorizes the innermost loop of a stage (explicit vector types on CPU, ThreadVectorRange on "
           "GPU).",
           "a current, unannotated, spatial loop that is the innermost loop of its stage, with no stage "
           "placed "
           "at it.",
           "vectorize(C.local, j)"),
      make("unroll", {stage, loop}, "Unrolls a loop completely in the generated code.",
           "a current, unannotated loop (spatial or reduction); for a stage at the root the loop may have at "
           "most " +
               std::to_string(kMaxUnrollExtent) + " iterations.",
           "unroll(C.local, i)"),
      make("bind", {stage, loop, {PK::Level, "level"}},
           "Binds a loop to a level of Kokkos hierarchical parallelism: league (TeamPolicy league), team "
           "(TeamThreadRange) or vector (ThreadVectorRange).",
           "a current, unannotated, spatial loop; league outermost and at most once in a loop nest; team and "
           "vector "
           "need an enclosing league loop; team goes outside vector; no parallel loops in the same nest.",
           "bind(C, i.0, league)"),
      make("cache_write", {stage, {PK::Scope, "scope"}},
           "Computes the stage into a new buffer <stage>.<scope> (stage \"C.local\" takes the body and the "
           "reduction) and turns the stage into a copy C[i, j] = C.local[i, j]; used to accumulate a tile in "
           "registers (compute_at the new stage into the copy).",
           "the stage is unscheduled (no split, fuse, reorder, annotation, placement, and no stage "
           "placed at "
           "its loops); scope local, shared or heap; <stage>.<scope> does not exist yet.",
           "cache_write(C, local)"),
      make("cache_read", {{PK::Tensor, "tensor"}, {PK::Scope, "scope"}, {PK::Stages, "readers"}},
           "Adds a stage <tensor>.<scope> that copies the tensor (loops ax0, ax1, ...) and makes the given "
           "reader "
           "stages (all readers when none is named) read the copy; placed with compute_at it copies only the "
           "tile "
           "that one iteration needs, into a contiguous buffer: this is packing.",
           "the tensor exists and every named reader reads it directly; scope local, shared or heap; "
           "<tensor>.<scope> does not exist yet.",
           "cache_read(B, local, C.local)"),
      make("compute_at", {stage, {PK::Stage, "consumer"}, loop},
           "Computes the stage inside a loop of a consumer, before that loop's body, only over the region "
           "one iteration needs.",
           "the stage is not an output and not inlined; the consumer reads it, and every other reader is "
           "placed inside the consumer at that loop or deeper; the loop is a current loop of the consumer, "
           "not vectorized; no cycles; every stage still reads only tensors computed before it, and inside "
           "a producer's loops only a reverse_compute_at stage placed directly there reads the producer.",
           "compute_at(C.local, C, j.0)"),
      make("reverse_compute_at", {stage, {PK::Stage, "producer"}, loop},
           "Computes a consumer stage inside a loop of its producer, after that loop's body, over the "
           "region that iteration produced.",
           "the stage reads the producer directly, indexed by its own axes (one per dimension, the same in "
           "every read), and has no reduction; the loop is a current loop of the producer, not vectorized, "
           "and neither it nor an enclosing loop of the producer is a reduction loop; no cycles; every "
           "stage still reads only tensors computed before it.",
           "reverse_compute_at(C, C.local, i.0)"),
      make("compute_inline", {stage},
           "Inlines a stage: its consumers evaluate its body in place and it is never stored.",
           "the stage is not an output, has no reduction, is unscheduled and at the root, and no stage is "
           "placed "
           "at its loops.",
           "compute_inline(E)"),
      make("decompose_reduction", {stage, loop},
           "Places the initialisation of a reduction just before the given loop instead of before the "
           "outermost "
           "reduction loop.",
           "the stage has a reduction; the loop is a current loop of the stage and no reduction loop "
           "encloses it.",
           "decompose_reduction(C, j.0)"),
      make(
          "rfactor", {stage, loop},
          "Factors the part of a reduction that a loop iterates over into a new stage <stage>.rf (scope "
          "local) whose output has the stage's axes plus one new last axis for the loop, holding partial "
          "reductions over the other reduction loops; the stage then reduces over that axis only: "
          "S[i] += S.rf[i, j_1]. The index variables of S.rf split from the reduction axis are named like "
          "the "
          "loops with '.' replaced by '_' (j.1 -> j_1, j.0 -> j_0); S and S.rf get default schedules. Used "
          "to "
          "vectorize or parallelise a reduction: reorder S.rf so j_1 is innermost, vectorize it, compute_at "
          "S.rf into S.",
          "the stage has a +=, max= or min= reduction; the loop is a current loop created from one reduction "
          "axis by splits only (or that axis itself); the stage is otherwise unscheduled (no other split, no "
          "fuse, reorder, annotation, placement or decomposed reduction, no stage placed at its loops); "
          "<stage>.rf does not exist yet.",
          "rfactor(row_sum, j.1)"),
  };
}

}  // namespace

const std::vector<PrimitiveInfo>& primitive_registry() {
  static const std::vector<PrimitiveInfo> r = build_registry();
  return r;
}

const PrimitiveInfo* find_primitive(const std::string& name) {
  for (const auto& p : primitive_registry()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<ParsedStep> parse_trace(const std::string& text) {
  std::vector<ParsedStep> steps = Parser(text).parse();
  for (const auto& s : steps) bind_args(s);
  return steps;
}

std::string to_text(const ParsedStep& step) {
  const Bound b = bind_args(step);
  const PrimitiveInfo* info = find_primitive(step.primitive);
  std::string out = step.primitive + "(";
  bool first = true;
  for (size_t k = 0; k < info->params.size(); ++k) {
    for (const auto* v : b.values[k]) {
      if (!first) out += ", ";
      first = false;
      out += value_text(*v);
    }
  }
  return out + ")";
}

std::string to_text(const std::vector<Step>& trace) {
  std::string out;
  for (const auto& s : trace) out += s.text + "\n";
  return out;
}

std::string to_text(const std::vector<ParsedStep>& steps) {
  std::string out;
  for (const auto& s : steps) out += to_text(s) + "\n";
  return out;
}

State apply_step(const State& s, const ParsedStep& step) {
  const Bound b = bind_args(step);
  const auto& v = b.values;
  const std::string& p = step.primitive;
  auto one = [&](size_t k) { return v[k][0]->name; };
  if (p == "split") return split(s, one(0), one(1), factors(*v[2][0]));
  if (p == "reorder") return reorder(s, one(0), names(v[1]));
  if (p == "fuse") return fuse(s, one(0), names(v[1]));
  if (p == "parallel") return parallel(s, one(0), one(1));
  if (p == "vectorize") return vectorize(s, one(0), one(1));
  if (p == "unroll") return unroll(s, one(0), one(1));
  if (p == "bind") return bind(s, one(0), one(1), parse_bind_level(one(2)));
  if (p == "cache_write") return cache_write(s, one(0), parse_mem_scope(one(1)));
  if (p == "cache_read") return cache_read(s, one(0), parse_mem_scope(one(1)), names(v[2]));
  if (p == "compute_at") return compute_at(s, one(0), one(1), one(2));
  if (p == "reverse_compute_at") return reverse_compute_at(s, one(0), one(1), one(2));
  if (p == "compute_inline") return compute_inline(s, one(0));
  if (p == "decompose_reduction") return decompose_reduction(s, one(0), one(1));
  if (p == "rfactor") return rfactor(s, one(0), one(1));
  throw ScheduleError("unknown primitive '" + p + "'");
}

State apply_trace(const State& s, const std::string& text) {
  const std::vector<ParsedStep> steps = parse_trace(text);
  State cur = s;
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string where = "step " + std::to_string(i + 1) + " `" + steps[i].source + "`: ";
    try {
      cur = apply_step(cur, steps[i]);
    } catch (const PrimitiveError& e) {
      throw ScheduleError(where + e.reason());
    } catch (const ScheduleError& e) {
      throw ScheduleError(where + e.what());
    }
  }
  return cur;
}

State replay(const State& s) { return apply_trace(State(s.original_workload_ptr()), to_text(s.trace())); }

std::string primitive_reference() {
  std::string r =
      "Schedule language: one primitive per line, written as a call: name(arg, arg, ...).\n"
      "Arguments are names (stages, tensors, loops, scopes, levels), integers, None, or [lists]; a keyword "
      "form\n"
      "param=value is accepted. '#' starts a comment. Stages are named after the tensor they compute.\n"
      "Loop names: a stage starts with one loop per output axis then one per reduction axis, named after "
      "the\n"
      "index variables (i, j, k). split(S, x, [None, a, b]) replaces x by x.0, x.1, x.2 (outermost first);\n"
      "fuse(S, a, b) replaces a and b by a.b (e.g. i.0.j.0). cache_write(S, local) adds stage S.local;\n"
      "cache_read(T, local, ...) adds stage T.local with loops ax0, ax1, ...; rfactor(S, j.1) adds stage "
      "S.rf\n"
      "with loops named like S's axes plus j_1, j_0 ('.' becomes '_'). A stage placed at a loop that\n"
      "is later split moves to the innermost new loop; stages placed at the same loop run in workload "
      "order.\n\n";
  for (const auto& p : primitive_registry()) {
    r += p.signature + "\n";
    r += "  " + p.description + "\n";
    r += "  Legal when: " + p.legality + "\n";
    r += "  Example: " + p.example + "\n\n";
  }
  return r;
}

}  // namespace rctune::schedule
