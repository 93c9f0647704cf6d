// The error every configuration file (run configs, workload files) reports: where and what.
#pragma once

#include <stdexcept>
#include <string>

namespace rctune::config {

// what() reads "FILE:LINE:COLUMN: KEY: REASON" (line and column left out when unknown).
class ConfigError : public std::runtime_error {
 public:
  ConfigError(const std::string& file, int line, int column, const std::string& key, const std::string& reason);
  const std::string& file() const { return file_; }
  int line() const { return line_; }               // 1-based; 0 when unknown (e.g. the file cannot be read)
  int column() const { return column_; }           // 1-based; 0 when unknown
  const std::string& key() const { return key_; }  // e.g. "tasks[1].budget", "measure.min_time"
  const std::string& reason() const { return reason_; }

 private:
  std::string file_;
  int line_;
  int column_;
  std::string key_;
  std::string reason_;
};

}  // namespace rctune::config
