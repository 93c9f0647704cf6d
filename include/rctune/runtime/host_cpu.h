// What the host says about its CPU: vendor, model name and ISA flags from /proc/cpuinfo, and the
// cores this process may run on. The one reader of /proc/cpuinfo: the run log's metadata, the
// proposers' hardware description, the cost model's features and the tuning database's hardware
// fingerprint all use it. Header only, so that the run log, below the runtime in the module
// graph's link order, shares it without linking the runtime (as runtime/status.h).
#pragma once

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace rctune::runtime {

struct CpuIdentity {
  std::string vendor;              // "GenuineIntel", "AuthenticAMD"; ARM: "CPU implementer" ("0x41")
  std::string model;               // "model name" ("AMD EPYC 9R14 96-Core Processor"); "" if none
  std::vector<std::string> flags;  // "flags" (x86) or "Features" (ARM), sorted, without duplicates
};

// The first processor's entries of /proc/cpuinfo text. Missing entries stay empty.
inline CpuIdentity parse_cpuinfo(std::string_view text) {
  CpuIdentity c;
  bool have_flags = false;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      if (!c.model.empty() || have_flags) break;  // end of the first processor's block
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto trim = [](std::string s) {
      const size_t b = s.find_first_not_of(" \t\r");
      const size_t e = s.find_last_not_of(" \t\r");
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    const std::string key = trim(line.substr(0, colon));
    const std::string value = trim(line.substr(colon + 1));
    if (key == "model name" && c.model.empty()) c.model = value;
    if ((key == "vendor_id" || key == "CPU implementer") && c.vendor.empty()) c.vendor = value;
    if ((key == "flags" || key == "Features") && !have_flags) {
      have_flags = true;
      std::istringstream words(value);
      for (std::string w; words >> w;) c.flags.push_back(w);
    }
  }
  std::sort(c.flags.begin(), c.flags.end());
  c.flags.erase(std::unique(c.flags.begin(), c.flags.end()), c.flags.end());
  return c;
}

// parse_cpuinfo of the file at `path` (empty fields when it cannot be read).
inline CpuIdentity read_cpu_identity(const std::string& path = "/proc/cpuinfo") {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_cpuinfo(text.str());
}

// The host's CpuIdentity, read once.
inline const CpuIdentity& host_cpu_identity() {
  static const CpuIdentity c = read_cpu_identity();
  return c;
}

// CPUs this process may run on (its affinity mask); 1 when that cannot be read.
inline int allowed_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return 1;
}

}  // namespace rctune::runtime
