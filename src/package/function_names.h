// The C++ names of a package's kernel functions (internal to the package module).
#pragma once

#include <string>
#include <vector>

namespace rctune::package::detail {

// One C++ identifier per name, in order, distinct from each other, from C++ keywords, from reserved
// identifiers and from the package's own API (find, lookup, run, ...): characters other than
// letters and digits become '_', runs of '_' become one, a leading digit gets "k_", and a name taken
// before gets "_2", "_3", ... ("layer1.0.conv1" -> "layer1_0_conv1").
std::vector<std::string> function_names(const std::vector<std::string>& names);

// Names of a function's parameters (a kernel's tensors): the same identifiers, distinct; a C++ keyword
// or reserved name gets a trailing '_' instead (tensor names are identifiers already).
std::vector<std::string> parameter_names(const std::vector<std::string>& names);

// A readable name for a workload key: "matmul:M=32,N=64,K=16,dtype=f32,epilogue=bias+relu" ->
// "matmul_M32_N64_K16_f32_bias_relu"; "workload:0123abcd..." -> "workload_0123abcd".
std::string name_of_workload_key(const std::string& key);

}  // namespace rctune::package::detail
