#include "rctune/config/error.h"

namespace rctune::config {

namespace {
std::string format(const std::string& file, int line, int column, const std::string& key,
                   const std::string& reason) {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line);
  if (line > 0 && column > 0) s += ":" + std::to_string(column);
  s += ": ";
  if (!key.empty()) s += key + ": ";
  return s + reason;
}
}  // namespace

ConfigError::ConfigError(const std::string& file, int line, int column, const std::string& key,
                         const std::string& reason)
    : std::runtime_error(format(file, line, column, key, reason)),
      file_(file),
      line_(line),
      column_(column),
      key_(key),
      reason_(reason) {}

}  // namespace rctune::config
