// Small helpers shared by the programs in bench/.
#pragma once

#include <sstream>
#include <string>
#include <vector>

namespace rctune::bench {

// "a,b,,c" -> {"a", "b", "c"}: the non-empty items of a separated list (command-line options).
inline std::vector<std::string> split_list(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace rctune::bench
