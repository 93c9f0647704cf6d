#include "rctune/config/compiler_flags.h"

#include <sstream>
#include <vector>

#include "rctune/ir/names.h"

namespace rctune::config {

namespace {

bool lower_name(const std::string& s) {
  if (s.empty() || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'))) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

bool value_ok(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '+' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// NAME or NAME=VALUE after a prefix such as "-m".
bool name_and_value(const std::string& rest) {
  size_t eq = rest.find('=');
  if (eq == std::string::npos) return lower_name(rest);
  return lower_name(rest.substr(0, eq)) && value_ok(rest.substr(eq + 1));
}

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

bool flag_ok(const std::string& f) {
  static const std::vector<std::string> fixed = {"-O0", "-O1", "-O2", "-O3", "-Os", "-Og", "-Oz", "-Ofast",
                                                 "-O",  "-g",  "-g0", "-g1", "-g2", "-g3", "-w",  "-pipe"};
  for (const auto& x : fixed)
    if (f == x) return true;
  for (const char* p : {"-std=", "-march=", "-mtune="})
    if (starts_with(f, p)) return value_ok(f.substr(std::string(p).size()));
  if (starts_with(f, "-f")) {
    const std::string rest = f.substr(2);
    for (const char* bad : {"plugin", "profile", "auto-profile", "dump", "no-plugin"})
      if (starts_with(rest, bad)) return false;
    if (rest.find("prefix-map") != std::string::npos) return false;
    return name_and_value(rest);
  }
  if (starts_with(f, "-m")) return name_and_value(f.substr(2));
  if (starts_with(f, "-W")) return lower_name(f.substr(2));  // no -Wl, -Wa, -Wp: those have commas
  if (starts_with(f, "-U")) return ir::identifier_problem(f.substr(2)).empty();
  if (starts_with(f, "-D")) {
    const std::string rest = f.substr(2);
    const size_t eq = rest.find('=');
    if (!ir::identifier_problem(rest.substr(0, eq)).empty()) return false;
    return eq == std::string::npos || eq + 1 == rest.size() || value_ok(rest.substr(eq + 1));
  }
  return false;
}

}  // namespace

std::string compiler_flags_problem(const std::string& flags) {
  std::istringstream ss(flags);
  for (std::string f; ss >> f;)
    if (!flag_ok(f))
      return "compiler flag " + ir::quote_name(f) +
             " is not allowed in a config (a config may come from others; allowed: -O*, -g*, -w, -pipe, "
             "-std=, -march=, -mtune=, -m*, -f* except plugin, profile, dump and prefix-map options, -W* "
             "without "
             "commas, -D, -U; give other flags with rctune bench --flags)";
  for (char c : flags) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x7f || (u < 0x20 && c != ' ' && c != '\t'))
      return "compiler flags " + ir::quote_name(flags) + " hold a control or non-ASCII byte";
  }
  return "";
}

}  // namespace rctune::config
