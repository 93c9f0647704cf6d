#include "rctune/ir/parser.h"

#include "rctune/ir/limits.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

#include "rctune/ir/names.h"
#include "rctune/ir/text.h"

namespace rctune::ir {

namespace {

std::string format_error(const std::string& reason, int line, int column, const std::string& source_line,
                         int caret_column) {
  std::string s = "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + reason;
  if (!source_line.empty()) {
    if (caret_column < 1) caret_column = column;
    s += "\n    " + source_line + "\n    " + std::string(static_cast<size_t>(caret_column - 1), ' ') + "^";
  }
  return s;
}

}  // namespace

ParseError::ParseError(const std::string& reason, int line, int column, const std::string& source_line,
                       int caret_column)
    : std::runtime_error(format_error(reason, line, column, source_line, caret_column)),
      reason_(reason),
      line_(line),
      column_(column),
      source_line_(source_line) {}

namespace {

// ---------------------------------------------------------------- source text and positions

struct Source {
  const std::string& text;
  SourcePos pos;

  // Throws a ParseError for the character at `offset` of the text.
  [[noreturn]] void error(size_t offset, const std::string& reason, bool limit = false) const {
    offset = std::min(offset, text.size());
    size_t line_start = 0;
    int line = 1;
    for (size_t i = 0; i < offset; ++i)
      if (text[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    size_t line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) line_end = text.size();
    std::string shown = text.substr(line_start, line_end - line_start);
    for (char& c : shown)
      if (c == '\t' || c == '\r') c = ' ';
    int caret = static_cast<int>(offset - line_start) + 1;
    // Drop the indentation of the shown line (keeps the caret aligned).
    size_t indent = std::min(shown.find_first_not_of(' '), shown.size());
    indent = std::min(indent, static_cast<size_t>(caret - 1));
    shown = shown.substr(indent);
    caret -= static_cast<int>(indent);
    int column = static_cast<int>(offset - line_start) + 1 + (line == 1 ? pos.column_offset : 0);
    if (limit) throw SizeLimitError(reason, line + pos.line_offset, column, shown, caret);
    throw ParseError(reason, line + pos.line_offset, column, shown, caret);
  }
};

// ---------------------------------------------------------------- lexer

enum class Tok { Ident, Int, Float, Punct, Newline, End };

struct Token {
  Tok kind = Tok::End;
  std::string text;
  size_t pos = 0;
  bool is(const char* punct) const { return kind == Tok::Punct && text == punct; }
  bool is_ident(const char* name) const { return kind == Tok::Ident && text == name; }
};

std::string describe(const Token& t) {
  switch (t.kind) {
    case Tok::End:
      return "the end of the text";
    case Tok::Newline:
      return "the end of the line";
    default:
      return "'" + t.text + "'";
  }
}

// ASCII only, whatever the locale (docs/workloads.md, "Names").
bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }
bool digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// Tokens of text[begin, end); `#` comments are skipped; ends with an End token.
std::vector<Token> lex(const Source& src, size_t begin, size_t end) {
  const std::string& s = src.text;
  std::vector<Token> out;
  size_t i = begin;
  while (i < end) {
    char c = s[i];
    if (c == '\n') {
      out.push_back({Tok::Newline, "\n", i});
      ++i;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '#') {
      while (i < end && s[i] != '\n') ++i;
    } else if (ident_start(c)) {
      size_t j = i;
      while (j < end && ident_char(s[j])) ++j;
      if (j - i > kMaxIdentifierLength)
        src.error(i, "name " + quote_name(s.substr(i, j - i)) + " is longer than " +
                         std::to_string(kMaxIdentifierLength) + " characters");
      out.push_back({Tok::Ident, s.substr(i, j - i), i});
      i = j;
    } else if (digit(c) || (c == '.' && i + 1 < end && digit(s[i + 1]))) {
      size_t j = i;
      bool is_float = false;
      while (j < end && digit(s[j])) ++j;
      if (j < end && s[j] == '.') {
        is_float = true;
        ++j;
        while (j < end && digit(s[j])) ++j;
      }
      if (j < end && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < end && (s[k] == '+' || s[k] == '-')) ++k;
        if (k < end && digit(s[k])) {
          is_float = true;
          j = k;
          while (j < end && digit(s[j])) ++j;
        }
      }
      std::string text = s.substr(i, j - i);
      if (j < end && (s[j] == 'f' || s[j] == 'F') && !(j + 1 < end && ident_char(s[j + 1]))) {
        is_float = true;  // C-style suffix: 1.0f, 2f
        ++j;
      }
      if (j < end && ident_char(s[j]))
        src.error(j, "unexpected '" + std::string(1, s[j]) + "' after the number " + text);
      out.push_back({is_float ? Tok::Float : Tok::Int, text, i});
      i = j;
    } else if (c == '+' && i + 1 < end && s[i + 1] == '=') {
      out.push_back({Tok::Punct, "+=", i});
      i += 2;
    } else if (std::string("[](),+-*/%=<:;").find(c) != std::string::npos) {
      out.push_back({Tok::Punct, std::string(1, c), i});
      ++i;
    } else {
      src.error(i, "unexpected character '" + std::string(1, c) + "'");
    }
  }
  out.push_back({Tok::End, "", end});
  return out;
}

std::vector<Token> without_newlines(std::vector<Token> toks) {
  toks.erase(std::remove_if(toks.begin(), toks.end(), [](const Token& t) { return t.kind == Tok::Newline; }),
             toks.end());
  return toks;
}

// ---------------------------------------------------------------- functions

struct Function {
  const char* name;
  int arity;
  bool binary;
  BinOp bop;
  UnOp uop;
};

const std::vector<Function>& functions() {
  static const std::vector<Function> f = {
      {"max", 2, true, BinOp::Max, UnOp::Neg},          {"min", 2, true, BinOp::Min, UnOp::Neg},
      {"exp", 1, false, BinOp::Add, UnOp::Exp},         {"log", 1, false, BinOp::Add, UnOp::Log},
      {"sqrt", 1, false, BinOp::Add, UnOp::Sqrt},       {"rsqrt", 1, false, BinOp::Add, UnOp::Rsqrt},
      {"tanh", 1, false, BinOp::Add, UnOp::Tanh},       {"erf", 1, false, BinOp::Add, UnOp::Erf},
      {"relu", 1, false, BinOp::Add, UnOp::Relu},       {"gelu", 1, false, BinOp::Add, UnOp::Gelu},
      {"sigmoid", 1, false, BinOp::Add, UnOp::Sigmoid}, {"abs", 1, false, BinOp::Add, UnOp::Abs},
  };
  return f;
}

const Function* find_function(const std::string& name) {
  for (const auto& f : functions())
    if (name == f.name) return &f;
  return nullptr;
}

// ---------------------------------------------------------------- parser

struct Parsed {
  Expr e;
  bool has_var = false;
  size_t pos = 0;
  int depth = 1;  // of the expression tree e
};

const Tensor* find(const std::vector<Tensor>& tensors, const std::string& name) {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::string tensor_list(const std::vector<Tensor>& tensors) {
  std::vector<std::string> names;
  for (const auto& t : tensors) names.push_back(t.name);
  return names.empty() ? "none" : join(names);
}

class Parser {
 public:
  Parser(const Source& src, std::vector<Token> toks, const std::vector<Tensor>* tensors)
      : src_(src), toks_(std::move(toks)), tensors_(tensors) {}

  const Token& peek(size_t ahead = 0) const { return toks_[std::min(i_ + ahead, toks_.size() - 1)]; }
  const Token& next() {
    const Token& t = toks_[i_];
    if (i_ + 1 < toks_.size()) ++i_;
    return t;
  }
  [[noreturn]] void fail(const Token& t, const std::string& reason) const { src_.error(t.pos, reason); }
  [[noreturn]] void fail(size_t pos, const std::string& reason) const { src_.error(pos, reason); }
  [[noreturn]] void fail_limit(const Token& t, const std::string& reason) const {
    src_.error(t.pos, reason, true);
  }
  // Entered by every recursive rule; refuses nesting beyond kMaxNesting.
  void check_nesting(const NestingGuard& g) const {
    if (g.exceeded())
      fail_limit(peek(), "the expression nests more than " + std::to_string(kMaxNesting) +
                             " levels deep (parentheses, unary minus, calls and indices; the limit is " +
                             std::to_string(kMaxNesting) + ")");
  }
  // The depth of a tree built from `a` and `b` under a new node; refuses trees beyond kMaxExprDepth.
  int joined_depth(const Token& at, int a, int b) const {
    const int d = std::max(a, b) + 1;
    if (d > kMaxExprDepth)
      fail_limit(at, "the expression is more than " + std::to_string(kMaxExprDepth) +
                         " operators deep (the limit is " + std::to_string(kMaxExprDepth) +
                         "; split it into several stages)");
    return d;
  }
  const Token& expect(const char* punct, const std::string& what) {
    if (!peek().is(punct))
      fail(peek(), "expected '" + std::string(punct) + "' " + what + ", found " + describe(peek()));
    return next();
  }
  void expect_end(const std::string& after) {
    if (peek().is(";")) next();
    if (peek().kind != Tok::End) fail(peek(), "unexpected " + describe(peek()) + " after " + after);
  }

  // ---- tensor declarations: NAME ':' TYPE, TYPE = dtype '[' int, ... ']'
  Tensor declaration() {
    const Token& name = next();
    if (name.kind != Tok::Ident) fail(name, "expected a tensor name, found " + describe(name));
    expect(":", "after the tensor name " + name.text);
    return type(name.text);
  }

  Tensor type(const std::string& name) {
    Tensor t;
    t.name = name;
    const Token dt = next();
    if (dt.kind != Tok::Ident) fail(dt, "expected a dtype (f32 or f64), found " + describe(dt));
    if (dt.text == "f32" || dt.text == "float32")
      t.dtype = DType::F32;
    else if (dt.text == "f64" || dt.text == "float64")
      t.dtype = DType::F64;
    else
      fail(dt, "unknown dtype '" + dt.text + "' (known: f32, f64)");
    expect("[", "before the shape of " + name);
    if (peek().is("]")) fail(peek(), "tensor " + name + " needs at least one dimension");
    while (true) {
      const Token& d = next();
      if (d.kind != Tok::Int) fail(d, "expected a positive integer extent, found " + describe(d));
      int64_t v = integer(d);
      if (v <= 0) fail(d, "extent " + d.text + " of tensor " + name + " must be positive");
      t.shape.push_back(v);
      if (t.shape.size() > kMaxRank)
        fail_limit(d, "tensor " + name + " has more than " + std::to_string(kMaxRank) +
                          " dimensions (the limit is " + std::to_string(kMaxRank) + ")");
      if (peek().is(",")) {
        next();
        continue;
      }
      expect("]", "after the shape of " + name);
      break;
    }
    if (std::string why = check_tensor_shape(t); !why.empty()) fail_limit(dt, why);
    expect_end("the declaration of " + name);
    return t;
  }

  // ---- stages
  Stage stage() {
    const std::vector<Tensor>& tensors = *tensors_;
    const Token name = next();
    if (name.kind != Tok::Ident) fail(name, "expected the output tensor of a stage, found " + describe(name));
    const Tensor* out = find(tensors, name.text);
    if (!out) fail(name, "unknown tensor '" + name.text + "' (declared: " + tensor_list(tensors) + ")");
    output_ = name.text;
    expect("[", "after the output tensor " + name.text);
    std::vector<Token> lhs;
    if (!peek().is("]")) {
      while (true) {
        const Token& v = next();
        if (v.kind != Tok::Ident || !(peek().is(",") || peek().is("]")))
          fail(v, "left-hand side indices must be plain variables, as in C[i, j]");
        if (find(tensors, v.text)) fail(v, "'" + v.text + "' is a tensor, not an index variable");
        if (find_function(v.text) || v.text == "where" || v.text == "inf")
          fail(v, "'" + v.text + "' is reserved and cannot name an index variable");
        for (const auto& o : lhs)
          if (o.text == v.text) fail(v, "variable '" + v.text + "' appears twice on the left-hand side");
        lhs.push_back(v);
        if (lhs.size() > kMaxRank)
          fail(v, "tensor '" + name.text + "' has " + std::to_string(out->shape.size()) + " dimension" +
                      (out->shape.size() == 1 ? "" : "s") + ", but the left-hand side has more than " +
                      std::to_string(kMaxRank) + " indices");
        if (peek().is(",")) {
          next();
          continue;
        }
        break;
      }
    }
    expect("]", "after the left-hand side indices");
    if (lhs.size() != out->shape.size())
      fail(name, "tensor '" + name.text + "' has " + std::to_string(out->shape.size()) + " dimension" +
                     (out->shape.size() == 1 ? "" : "s") + ", but the left-hand side has " +
                     std::to_string(lhs.size()) + " ind" + (lhs.size() == 1 ? "ex" : "ices"));
    for (const auto& v : lhs) lhs_vars_.push_back(v.text);

    Stage st;
    st.output = name.text;
    for (size_t d = 0; d < lhs.size(); ++d) st.axes.push_back({lhs[d].text, out->shape[d]});

    const Token op_tok = peek();
    if (op_tok.is("=")) {
      st.op = ReduceOp::None;
      next();
    } else if (op_tok.is("+=")) {
      st.op = ReduceOp::Sum;
      next();
    } else if ((op_tok.is_ident("max") || op_tok.is_ident("min")) && peek(1).is("=")) {
      st.op = op_tok.text == "max" ? ReduceOp::Max : ReduceOp::Min;
      next();
      next();
    } else {
      fail(op_tok,
           "expected '=', '+=', 'max=' or 'min=' after the left-hand side, found " + describe(op_tok));
    }
    if (peek().kind == Tok::End)
      fail(peek(), "expected an expression after '" + std::string(reduce_op_token(st.op)) + "'");
    st.body = sum(false).e;

    // Optional: where r < 3, s < 3
    std::vector<std::pair<Token, int64_t>> where;
    if (peek().is_ident("where")) {
      next();
      while (true) {
        const Token v = next();
        if (v.kind != Tok::Ident) fail(v, "expected a variable after 'where', found " + describe(v));
        expect("<", "after '" + v.text + "' in the where clause (write: where " + v.text + " < EXTENT)");
        const Token& n = next();
        if (n.kind != Tok::Int) fail(n, "expected a positive integer extent, found " + describe(n));
        int64_t e = integer(n);
        if (e <= 0) fail(n, "extent of '" + v.text + "' must be positive");
        for (const auto& w : where)
          if (w.first.text == v.text) fail(v, "'" + v.text + "' is constrained twice");
        where.emplace_back(v, e);
        if (where.size() > kMaxStageAxes)
          fail_limit(v, "the where clause names more than " + std::to_string(kMaxStageAxes) +
                            " variables (the limit is " + std::to_string(kMaxStageAxes) + ")");
        if (peek().is(",") || peek().is_ident("and")) {
          next();
          continue;
        }
        break;
      }
    }
    expect_end("the expression");

    // Reduction variables: right-hand side variables that are not on the left, first occurrence first.
    std::vector<std::pair<std::string, size_t>> reduce;
    for (const auto& [v, pos] : rhs_vars_)
      if (std::find(lhs_vars_.begin(), lhs_vars_.end(), v) == lhs_vars_.end()) reduce.emplace_back(v, pos);
    if (st.op == ReduceOp::None && !reduce.empty())
      fail(reduce.front().second, "variable '" + reduce.front().first +
                                      "' occurs only on the right-hand side; '=' does not reduce (use '+=', "
                                      "'max=' or 'min=' to reduce over it, or add it to the left-hand side)");
    if (st.op != ReduceOp::None && reduce.empty())
      fail(op_tok, std::string("'") + reduce_op_token(st.op) +
                       "' reduces, but no index variable occurs only on the right-hand side (use '=' for an "
                       "elementwise stage)");
    for (const auto& [v, e] : where) {
      if (std::find(lhs_vars_.begin(), lhs_vars_.end(), v.text) != lhs_vars_.end())
        fail(v,
             "'" + v.text + "' is a left-hand side variable; its extent comes from the shape of " + output_);
      bool found =
          std::any_of(reduce.begin(), reduce.end(), [&](const auto& r) { return r.first == v.text; });
      if (!found) fail(v, "the where clause names '" + v.text + "', which is not a variable of this stage");
    }
    for (const auto& [v, pos] : reduce) {
      auto w = std::find_if(where.begin(), where.end(), [&](const auto& x) { return x.first.text == v; });
      if (w != where.end()) {
        st.reduce_axes.push_back({v, w->second});
        continue;
      }
      const Direct* first = nullptr;
      for (const auto& d : direct_) {
        if (d.var != v) continue;
        if (!first) {
          first = &d;
        } else if (d.extent != first->extent) {
          fail(d.pos, "reduction variable '" + v + "' indexes dimension " + std::to_string(d.dim) + " of " +
                          d.tensor + " (extent " + std::to_string(d.extent) + ") but dimension " +
                          std::to_string(first->dim) + " of " + first->tensor + " (extent " +
                          std::to_string(first->extent) + "); give its extent with 'where " + v + " < N'");
        }
      }
      if (!first)
        fail(pos, "cannot infer the extent of reduction variable '" + v +
                      "': it never indexes a tensor dimension directly; give it with 'where " + v + " < N'");
      st.reduce_axes.push_back({v, first->extent});
    }
    if (std::string why = check_stage_sizes(tensors, st); !why.empty()) fail_limit(name, why);
    return st;
  }

  // ---- expressions; `index` selects integer index arithmetic inside [...]
  Parsed sum(bool index) {
    NestingGuard guard(nesting_, kMaxNesting);
    check_nesting(guard);
    Parsed a = product(index);
    while (peek().is("+") || peek().is("-")) {
      const Token op = next();
      Parsed b = product(index);
      a.depth = joined_depth(op, a.depth, b.depth);
      a.e = op.text == "+" ? combine(BinOp::Add, a.e, b.e, index) : combine(BinOp::Sub, a.e, b.e, index);
      a.has_var = a.has_var || b.has_var;
    }
    return a;
  }

  Parsed product(bool index) {
    Parsed a = unary_minus(index);
    while (peek().is("*") || peek().is("/") || peek().is("%")) {
      const Token op = next();
      Parsed b = unary_minus(index);
      if (op.text == "%" && !index) fail(op, "'%' is only allowed in index expressions");
      if (index) {
        if (op.text == "*" && a.has_var && b.has_var)
          fail(op, "index expressions must be affine: '" + to_string(a.e) + " * " + to_string(b.e) +
                       "' multiplies two variables");
        if (op.text != "*") {
          auto c = b.e.as<IntImm>();
          if (!c || c->value <= 0)
            fail(op, std::string("'") + op.text +
                         "' in an index must have a positive integer constant on its right, not '" +
                         to_string(b.e) + "'");
        }
      }
      BinOp bop = op.text == "*" ? BinOp::Mul : op.text == "/" ? BinOp::Div : BinOp::Mod;
      a.depth = joined_depth(op, a.depth, b.depth);
      a.e = combine(bop, a.e, b.e, index);
      a.has_var = a.has_var || b.has_var;
    }
    return a;
  }

  Parsed unary_minus(bool index) {
    if (peek().is("-")) {
      NestingGuard guard(nesting_, kMaxNesting);
      check_nesting(guard);
      const Token op = next();
      Parsed a = unary_minus(index);
      a.pos = op.pos;
      a.depth = joined_depth(op, a.depth, 0);
      if (index) {
        if (auto c = a.e.as<IntImm>())
          a.e = int_imm(-c->value);
        else
          a.e = binary(BinOp::Sub, int_imm(0), a.e);
      } else {
        if (auto c = a.e.as<FloatImm>())
          a.e = float_imm(-c->value);
        else
          a.e = unary(UnOp::Neg, a.e);
      }
      return a;
    }
    return primary(index);
  }

  Parsed primary(bool index) {
    const Token t = next();
    Parsed p;
    p.pos = t.pos;
    switch (t.kind) {
      case Tok::Int:
        p.e = index ? int_imm(integer(t)) : float_imm(static_cast<double>(integer(t)));
        return p;
      case Tok::Float:
        if (index) fail(t, "index expressions are integers; '" + t.text + "' is not");
        p.e = float_imm(floating(t));
        return p;
      case Tok::Punct:
        if (t.is("(")) {
          p = sum(index);
          p.pos = t.pos;
          expect(")", "to close the parenthesis");
          return p;
        }
        fail(t, "expected " + std::string(index ? "an index expression" : "an expression") + ", found " +
                    describe(t));
      case Tok::Ident:
        break;
      default:
        fail(t, "expected " + std::string(index ? "an index expression" : "an expression") + ", found " +
                    describe(t));
    }
    const std::vector<Tensor>& tensors = *tensors_;
    if (peek().is("(")) return call(t, index);
    if (peek().is("[")) {
      if (index) fail(t, "tensor reads are not allowed inside an index");
      return read(t);
    }
    if (index) {
      if (find(tensors, t.text)) fail(t, "'" + t.text + "' is a tensor, not an index variable");
      if (find_function(t.text) || t.text == "where" || t.text == "inf")
        fail(t, "'" + t.text + "' is reserved and cannot name an index variable");
      bool seen =
          std::any_of(rhs_vars_.begin(), rhs_vars_.end(), [&](const auto& v) { return v.first == t.text; });
      if (!seen) rhs_vars_.emplace_back(t.text, t.pos);
      p.e = var(t.text);
      p.has_var = true;
      return p;
    }
    if (const Tensor* tensor = find(tensors, t.text))
      fail(t, "tensor '" + t.text + "' has " + std::to_string(tensor->shape.size()) +
                  " dimensions; read it with indices, as in " + t.text + "[...]");
    if (t.text == "inf") {
      p.e = float_imm(std::numeric_limits<double>::infinity());
      return p;
    }
    if (std::find(lhs_vars_.begin(), lhs_vars_.end(), t.text) != lhs_vars_.end() ||
        std::any_of(rhs_vars_.begin(), rhs_vars_.end(), [&](const auto& v) { return v.first == t.text; }))
      fail(t, "index variable '" + t.text +
                  "' cannot be used as a value (a value reads tensors, constants and function results)");
    if (find_function(t.text)) fail(t, "function '" + t.text + "' needs arguments: " + t.text + "(...)");
    fail(t, "unknown tensor '" + t.text + "' (declared: " + tensor_list(tensors) + ")");
  }

  Parsed call(const Token& name, bool index) {
    const Function* f = find_function(name.text);
    if (!f) {
      if (find(*tensors_, name.text))
        fail(name, "'" + name.text + "' is a tensor; read it with square brackets: " + name.text + "[...]");
      fail(name, "unknown function '" + name.text + "' (known: " + join(known_functions()) + ")");
    }
    if (index && !f->binary)
      fail(name, "function '" + name.text + "' cannot be used in an index (only max and min can)");
    expect("(", "after " + name.text);
    std::vector<Parsed> args;
    if (!peek().is(")")) {
      while (true) {
        args.push_back(sum(index));
        if (peek().is(",")) {
          next();
          continue;
        }
        break;
      }
    }
    expect(")", "to close the arguments of " + name.text);
    if (static_cast<int>(args.size()) != f->arity)
      fail(name, "function '" + name.text + "' takes " + std::to_string(f->arity) + " argument" +
                     (f->arity == 1 ? "" : "s") + ", got " + std::to_string(args.size()));
    Parsed p;
    p.pos = name.pos;
    for (const auto& a : args) p.depth = joined_depth(name, p.depth, a.depth);
    p.has_var = std::any_of(args.begin(), args.end(), [](const Parsed& a) { return a.has_var; });
    p.e = f->binary ? binary(f->bop, args[0].e, args[1].e) : unary(f->uop, args[0].e);
    return p;
  }

  Parsed read(const Token& name) {
    const Tensor* t = find(*tensors_, name.text);
    if (!t) fail(name, "unknown tensor '" + name.text + "' (declared: " + tensor_list(*tensors_) + ")");
    if (name.text == output_)
      fail(name, "stage " + output_ + " cannot read its own output; compute it into another tensor first");
    expect("[", "after " + name.text);
    std::vector<Expr> idx;
    std::vector<size_t> idx_pos;
    int depth = 1;
    if (!peek().is("]")) {
      while (true) {
        Parsed a = sum(true);
        idx.push_back(a.e);
        idx_pos.push_back(a.pos);
        depth = joined_depth(name, depth, a.depth);
        if (idx.size() > kMaxRank)
          fail(name, "tensor '" + name.text + "' has " + std::to_string(t->shape.size()) + " dimension" +
                         (t->shape.size() == 1 ? "" : "s") + ", but more than " + std::to_string(kMaxRank) +
                         " indices are given");
        if (peek().is(",")) {
          next();
          continue;
        }
        break;
      }
    }
    expect("]", "to close the indices of " + name.text);
    if (idx.size() != t->shape.size())
      fail(name, "tensor '" + name.text + "' has " + std::to_string(t->shape.size()) + " dimension" +
                     (t->shape.size() == 1 ? "" : "s") + ", but " + std::to_string(idx.size()) + " ind" +
                     (idx.size() == 1 ? "ex is" : "ices are") + " given");
    for (size_t d = 0; d < idx.size(); ++d)
      if (auto v = idx[d].as<Var>()) direct_.push_back({v->name, name.text, d, t->shape[d], idx_pos[d]});
    Parsed p;
    p.pos = name.pos;
    p.depth = depth;
    p.e = load(name.text, std::move(idx));
    return p;
  }

  Expr combine(BinOp op, const Expr& a, const Expr& b, bool index) const {
    (void)index;
    return binary(op, a, b);
  }

  int64_t integer(const Token& t) const {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
    if (ec != std::errc() || ptr != t.text.data() + t.text.size())
      fail(t, "integer constant " + t.text + " is too large");
    return v;
  }

  double floating(const Token& t) const {
    double v = 0;
    auto [ptr, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
    if (ec != std::errc() || ptr != t.text.data() + t.text.size() || !std::isfinite(v))
      fail(t, "invalid floating-point constant " + t.text);
    return v;
  }

 private:
  struct Direct {
    std::string var;
    std::string tensor;
    size_t dim;
    int64_t extent;
    size_t pos;
  };
  const Source& src_;
  std::vector<Token> toks_;
  size_t i_ = 0;
  const std::vector<Tensor>* tensors_;
  std::string output_;
  std::vector<std::string> lhs_vars_;
  std::vector<std::pair<std::string, size_t>> rhs_vars_;
  std::vector<Direct> direct_;
  int nesting_ = 0;
};

const std::vector<Tensor>& no_tensors() {
  static const std::vector<Tensor> none;
  return none;
}

}  // namespace

std::vector<std::string> default_outputs(const Workload& w) {
  std::set<std::string> read;
  for (const auto& st : w.stages)
    for (const auto& in : st.inputs()) read.insert(in);
  std::vector<std::string> out;
  for (const auto& st : w.stages)
    if (!read.count(st.output)) out.push_back(st.output);
  return out;
}

std::vector<std::string> known_functions() {
  std::vector<std::string> r;
  for (const auto& f : functions()) r.push_back(f.name);
  return r;
}

Tensor parse_tensor_decl(const std::string& text, SourcePos pos) {
  Source src{text, pos};
  Parser p(src, without_newlines(lex(src, 0, text.size())), &no_tensors());
  return p.declaration();
}

Tensor parse_tensor_type(const std::string& name, const std::string& text, SourcePos pos) {
  Source src{text, pos};
  Parser p(src, without_newlines(lex(src, 0, text.size())), &no_tensors());
  return p.type(name);
}

Stage parse_stage(const std::string& text, const std::vector<Tensor>& tensors, SourcePos pos) {
  Source src{text, pos};
  Parser p(src, without_newlines(lex(src, 0, text.size())), &tensors);
  return p.stage();
}

Stage parse_stage(const std::string& text, const std::vector<Tensor>& tensors, int line_offset) {
  return parse_stage(text, tensors, SourcePos{line_offset, 0});
}

Workload parse_workload(const std::string& text, const std::string& name, SourcePos pos) {
  Source src{text, pos};
  std::vector<Token> all = lex(src, 0, text.size());
  // Split into statements at newlines outside brackets and at ';'.
  std::vector<std::vector<Token>> statements(1);
  int depth = 0;
  const Token* prev = nullptr;
  for (const auto& t : all) {
    // A line that ends in an operator or a comma continues on the next one.
    bool continues =
        prev && prev->kind == Tok::Punct && std::string("+-*/%,=+=<").find(prev->text) != std::string::npos;
    if (t.kind != Tok::Newline) prev = &t;
    if (t.is("(") || t.is("[")) ++depth;
    if ((t.is(")") || t.is("]")) && depth > 0) --depth;
    bool split = t.kind == Tok::End || t.is(";") || (t.kind == Tok::Newline && depth == 0 && !continues);
    if (split) {
      if (!statements.back().empty()) statements.emplace_back();
      prev = nullptr;
      depth = 0;
      continue;
    }
    if (t.kind != Tok::Newline) statements.back().push_back(t);
  }
  if (statements.back().empty()) statements.pop_back();
  for (auto& s : statements) s.push_back({Tok::End, "", s.back().pos + s.back().text.size()});

  Workload w;
  w.name = name;
  std::vector<size_t> decl_pos;
  std::vector<const std::vector<Token>*> stage_statements;
  std::optional<std::vector<Token>> outputs;
  for (const auto& s : statements) {
    bool decl = s.size() >= 3 && s[0].kind == Tok::Ident && s[1].is(":");
    if (decl && s[0].text == "outputs" && !(s[2].kind == Tok::Ident && s.size() > 3 && s[3].is("["))) {
      if (outputs) src.error(s[0].pos, "outputs are given twice");
      outputs = s;
      continue;
    }
    if (decl) {
      if (w.tensors.size() == kMaxTensors)
        src.error(s[0].pos, "more than " + std::to_string(kMaxTensors) + " tensors (the limit)", true);
      Parser p(src, s, &no_tensors());
      Tensor t = p.declaration();
      if (find(w.tensors, t.name)) src.error(s[0].pos, "tensor '" + t.name + "' is declared twice");
      w.tensors.push_back(t);
      decl_pos.push_back(s[0].pos);
      continue;
    }
    stage_statements.push_back(&s);
  }
  if (stage_statements.empty()) src.error(text.size(), "the workload has no stage");
  std::vector<size_t> stage_pos;
  for (const auto* s : stage_statements) {
    if (w.stages.size() == kMaxStages)
      src.error((*s)[0].pos, "more than " + std::to_string(kMaxStages) + " stages (the limit)", true);
    Parser p(src, *s, &w.tensors);
    Stage st = p.stage();
    int prev = w.stage_index(st.output);
    if (prev >= 0) src.error((*s)[0].pos, "tensor '" + st.output + "' is computed by two stages");
    w.stages.push_back(std::move(st));
    stage_pos.push_back((*s)[0].pos);
  }
  // Producers first.
  for (size_t i = 0; i < w.stages.size(); ++i)
    for (const auto& in : w.stages[i].inputs()) {
      int j = w.stage_index(in);
      if (j >= static_cast<int>(i))
        src.error(stage_pos[i], "stage " + w.stages[i].output + " reads '" + in +
                                    "' before the stage that computes it; write producers first");
    }
  if (outputs) {
    const auto& s = *outputs;
    size_t k = 2;
    while (true) {
      const Token& t = s[k];
      if (t.kind != Tok::Ident)
        src.error(t.pos, "expected a tensor name in the outputs, found " + describe(t));
      if (!w.find_tensor(t.text))
        src.error(t.pos, "unknown output tensor '" + t.text + "' (declared: " + tensor_list(w.tensors) + ")");
      if (!w.find_stage(t.text)) src.error(t.pos, "output '" + t.text + "' is not computed by any stage");
      if (std::find(w.outputs.begin(), w.outputs.end(), t.text) != w.outputs.end())
        src.error(t.pos, "output '" + t.text + "' is listed twice");
      w.outputs.push_back(t.text);
      ++k;
      if (s[k].is(",")) {
        ++k;
        continue;
      }
      if (s[k].kind != Tok::End) src.error(s[k].pos, "expected ',' between outputs, found " + describe(s[k]));
      break;
    }
  } else {
    w.outputs = default_outputs(w);
  }
  std::string err = w.validate();
  if (!err.empty()) src.error(0, "invalid workload: " + err);
  return w;
}

}  // namespace rctune::ir

namespace rctune::ir {

Workload parse_listing(const std::string& listing) {
  std::istringstream lines(listing);
  std::string line, name, text, outputs;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (number == 1) {
      if (line.rfind("workload ", 0) != 0)
        throw ParseError("a workload listing starts with 'workload NAME'", 1, 1, line);
      name = line.substr(9);
      continue;
    }
    // "  X: f32[8, 32]  input": the declaration, and the role that the outputs line says.
    const size_t colon = line.find(": ");
    const size_t role_at = line.rfind("]  ");
    if (colon != std::string::npos && role_at != std::string::npos && line.find('=') == std::string::npos) {
      const std::string role = line.substr(role_at + 3);
      if (role == "output") outputs += (outputs.empty() ? "" : ", ") + trim(line.substr(0, colon), " ");
      text += line.substr(0, role_at + 1) + "\n";
      continue;
    }
    // "  C[i, j] += A[i, k] * B[k, j]    # reduce over k < 32": the extents as a where clause.
    const size_t comment = line.find("    # reduce over ");
    if (comment != std::string::npos)
      line = line.substr(0, comment) + " where " +
             line.substr(comment + std::string("    # reduce over ").size());
    text += line + "\n";
  }
  if (!outputs.empty()) text += "outputs: " + outputs + "\n";
  Workload w = parse_workload(text, name, SourcePos{1, 0});
  if (to_string(w) != listing)
    throw std::invalid_argument(
        "workload listing of '" + name +
        "': the workload it describes lists differently (was it edited, or written by "
        "another version of rctune?)");
  return w;
}

}  // namespace rctune::ir
