#include "common.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace rctune::codegen::detail {

using namespace rctune::ir;

std::string user_ident(const char* prefix, const std::string& name) {
  constexpr size_t kMaxBody = 80;
  std::string body;
  bool pending_sep = false;
  for (char c : name) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum) {
      pending_sep = true;
      continue;
    }
    if (body.size() >= kMaxBody) break;
    if (pending_sep && !body.empty()) body += '_';
    pending_sep = false;
    body += c;
  }
  if (body.empty()) body = "x";
  return prefix + body;
}

const std::string& NameTable::user(const char* prefix, const std::string& name) {
  auto key = std::make_pair(std::string(prefix), name);
  auto it = user_.find(key);
  if (it != user_.end()) return it->second;
  return user_.emplace(key, fresh(user_ident(prefix, name))).first->second;
}

std::string NameTable::fresh(const std::string& base) {
  std::string n = base;
  for (int i = 2; used_.count(n); ++i) n = base + "_" + std::to_string(i);
  used_.insert(n);
  return n;
}

std::string comment_text(const std::string& s) {
  std::string r;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    bool keep = c >= 0x20 && c < 0x7f && c != '\\' && c != '?' && c != '%' && c != '"' &&
                !(c == '/' && i > 0 && s[i - 1] == '*');
    if (keep) {
      r += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      r += buf;
    }
  }
  return r;
}

std::string comment(const std::string& s) { return "// " + comment_text(s); }

std::string string_literal(const std::string& s) { return "\"" + comment_text(s) + "\""; }

void check_generated_source(const std::string& code, const std::string& what) {
  size_t line = 1;
  for (size_t i = 0; i < code.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(code[i]);
    if (c == '\n') {
      if (i > 0 && code[i - 1] == '\\')
        throw std::logic_error("internal codegen error: line " + std::to_string(line) + " of " + what +
                               " ends with a backslash");
      ++line;
    } else if (c < 0x20 || c >= 0x7f) {
      throw std::logic_error("internal codegen error: line " + std::to_string(line) + " of " + what +
                             " holds byte " + std::to_string(c) + ", which is not printable ASCII");
    }
  }
}

std::string float_literal(double v, DType t) {
  bool f32 = t == DType::F32;
  if (std::isnan(v)) return f32 ? "__builtin_nanf(\"\")" : "__builtin_nan(\"\")";
  if (std::isinf(v)) {
    std::string h = f32 ? "__builtin_huge_valf()" : "__builtin_huge_val()";
    return v > 0 ? h : "(-" + h + ")";
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, f32 ? "%.9g" : "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  if (f32) s += "f";
  if (v < 0 || (v == 0 && std::signbit(v))) s = "(" + s + ")";
  return s;
}

std::string int_literal(int64_t v) {
  std::string s = std::to_string(v);
  return v < 0 ? "(" + s + ")" : s;
}

const char* c_type(DType t) { return t == DType::F32 ? "float" : "double"; }
const char* math_suffix(DType t) { return t == DType::F32 ? "f" : ""; }

std::optional<Interval> interval_of(const Expr& e, const std::map<std::string, int64_t>& extents) {
  return ir::interval_of(
      e,
      [&](const std::string& name) -> std::optional<Interval> {
        auto it = extents.find(name);
        if (it == extents.end()) return std::nullopt;
        return Interval{0, it->second - 1};
      },
      ir::kCodegenIntervalRules);
}

std::optional<bool> fold_condition(const Expr& cond, const std::map<std::string, int64_t>& extents) {
  if (auto i = cond.as<IntImm>()) return i->value != 0;
  auto b = cond.as<Binary>();
  if (!b) return std::nullopt;
  if (b->op == BinOp::And || b->op == BinOp::Or) {
    auto x = fold_condition(b->a, extents);
    auto y = fold_condition(b->b, extents);
    bool is_and = b->op == BinOp::And;
    if (x && y) return is_and ? (*x && *y) : (*x || *y);
    if (is_and && ((x && !*x) || (y && !*y))) return false;
    if (!is_and && ((x && *x) || (y && *y))) return true;
    return std::nullopt;
  }
  // Compare through the difference a - b, which cancels shared terms.
  Affine d = to_affine(binary(BinOp::Sub, b->a, b->b));
  std::optional<Interval> r;
  if (d.is_constant()) {
    r = Interval{d.constant, d.constant};
  } else {
    r = interval_of(binary(BinOp::Sub, b->a, b->b), extents);
  }
  if (!r) return std::nullopt;
  switch (b->op) {
    case BinOp::LT:
      if (r->hi < 0) return true;
      if (r->lo >= 0) return false;
      break;
    case BinOp::LE:
      if (r->hi <= 0) return true;
      if (r->lo > 0) return false;
      break;
    case BinOp::GT:
      if (r->lo > 0) return true;
      if (r->hi <= 0) return false;
      break;
    case BinOp::GE:
      if (r->lo >= 0) return true;
      if (r->hi < 0) return false;
      break;
    case BinOp::EQ:
      if (r->lo == 0 && r->hi == 0) return true;
      if (r->lo > 0 || r->hi < 0) return false;
      break;
    case BinOp::NE:
      if (r->lo == 0 && r->hi == 0) return false;
      if (r->lo > 0 || r->hi < 0) return true;
      break;
    default:
      break;
  }
  return std::nullopt;
}

}  // namespace rctune::codegen::detail
