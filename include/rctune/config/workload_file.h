// Workload files (YAML): tensors and stages in the index-expression syntax.
//
//   name: my_op                      # optional; defaults to the file name without extension
//   tensors:
//     A: f32[128, 64]
//     B: f32[64, 32]
//     C: f32[128, 32]
//   stages:
//     - C[i, j] += A[i, k] * B[k, j]
//   outputs: [C]                     # optional; defaults to the computed tensors no stage reads
//
// docs/workloads.md describes the format.
#pragma once

#include <stdexcept>
#include <string>

#include "rctune/config/error.h"
#include "rctune/ir/workload.h"

namespace YAML {
class Node;
}

namespace rctune::config {

// An error in a workload file. what() reads "FILE:LINE:COLUMN: KEY: REASON", followed by the
// offending text and a caret when the error is inside an expression.
class WorkloadFileError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

// Reads and validates a workload file.
ir::Workload load_workload_file(const std::string& path);

// The same from YAML text; `source_name` stands for the file in messages and gives the default name.
ir::Workload parse_workload_yaml(const std::string& yaml_text, const std::string& source_name = "<string>");

// The same from an already parsed YAML mapping (e.g. a workload written inline in a larger config).
// `file` is used in messages; `file_text` (optional) lets positions inside quoted or block scalars be
// exact; `key_prefix` is prepended to keys in messages (e.g. "tasks[2].workload.").
ir::Workload workload_from_yaml(const YAML::Node& node, const std::string& file,
                                const std::string& default_name, const std::string& file_text = "",
                                const std::string& key_prefix = "");

// An operator spec ("matmul:M=512,N=512,K=512", see ir/operators.h) or the path of a workload file.
// A string whose part before ':' names a library operator is a spec; anything else is a path.
// Throws ir::OperatorSpecError for a bad spec, WorkloadFileError for a bad file, and
// std::invalid_argument when the string is neither.
ir::Workload load_workload(const std::string& spec_or_path);

}  // namespace rctune::config
