#include "rctune/ir/names.h"

#include <cstdio>

#include "rctune/ir/workload.h"

namespace rctune::ir {

namespace {

bool ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool ascii_digit(char c) { return c >= '0' && c <= '9'; }
bool ident_char(char c) { return ascii_letter(c) || ascii_digit(c) || c == '_'; }

// The first byte that breaks a rule, as text ("a line feed", "'-'", "byte 0xc3").
std::string describe_byte(char ch) {
  unsigned char c = static_cast<unsigned char>(ch);
  if (c == '\n') return "a line feed";
  if (c == '\r') return "a carriage return";
  if (c == '\t') return "a tab";
  if (c == ' ') return "a space";
  char buf[32];
  if (c < 0x20 || c >= 0x7f)
    std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
  else
    std::snprintf(buf, sizeof buf, "'%c'", c);
  return buf;
}

}  // namespace

std::string quote_name(const std::string& s) {
  std::string q = "'";
  size_t n = 0;
  for (char ch : s) {
    if (++n > 80) {
      q += "...";
      break;
    }
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\'' || c == '\\') {
      q += '\\';
      q += ch;
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      q += buf;
    } else {
      q += ch;
    }
  }
  return q + "'";
}

std::string identifier_problem(const std::string& name) {
  if (name.empty()) return "name is empty";
  if (name.size() > kMaxIdentifierLength)
    return "name " + quote_name(name) + " is longer than " + std::to_string(kMaxIdentifierLength) +
           " characters";
  if (ascii_digit(name[0])) return "name " + quote_name(name) + " starts with a digit";
  for (char c : name)
    if (!ident_char(c))
      return "name " + quote_name(name) + " contains " + describe_byte(c) +
             " (names are ASCII letters, digits and '_')";
  return "";
}

std::string ir_name_problem(const std::string& name) {
  if (name.empty()) return "name is empty";
  if (name.size() > kMaxIrNameLength)
    return "name " + quote_name(name) + " is longer than " + std::to_string(kMaxIrNameLength) + " characters";
  if (ascii_digit(name[0])) return "name " + quote_name(name) + " starts with a digit";
  bool part_empty = true;
  for (char c : name) {
    if (c == '.') {
      if (part_empty) return "name " + quote_name(name) + " has an empty part between dots";
      part_empty = true;
    } else if (ident_char(c)) {
      part_empty = false;
    } else {
      return "name " + quote_name(name) + " contains " + describe_byte(c) +
             " (names are ASCII letters, digits and '_', with '.' between the parts of derived names)";
    }
  }
  if (part_empty) return "name " + quote_name(name) + " ends with a dot";
  return "";
}

std::string workload_name_problem(const std::string& name) {
  if (name.empty()) return "the workload's name is empty";
  if (name.size() > kMaxWorkloadNameLength)
    return "the workload's name " + quote_name(name) + " is longer than " +
           std::to_string(kMaxWorkloadNameLength) + " characters";
  for (char ch : name) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f)
      return "the workload's name " + quote_name(name) + " contains " + describe_byte(ch) +
             " (a workload's name is printable ASCII: no line breaks, control characters or non-ASCII)";
  }
  return "";
}

std::string workload_names_problem(const Workload& w) {
  if (auto e = workload_name_problem(w.name); !e.empty()) return e;
  for (const auto& t : w.tensors)
    if (auto e = ir_name_problem(t.name); !e.empty()) return "tensor " + e;
  for (const auto& s : w.stages) {
    for (const auto& v : s.axes)
      if (auto e = ir_name_problem(v.name); !e.empty())
        return "stage " + quote_name(s.output) + ": index " + e;
    for (const auto& v : s.reduce_axes)
      if (auto e = ir_name_problem(v.name); !e.empty())
        return "stage " + quote_name(s.output) + ": index " + e;
  }
  return "";
}

}  // namespace rctune::ir
