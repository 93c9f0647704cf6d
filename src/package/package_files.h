// The files of an exported package, as text (internal to the package module). Each writer is one
// file of src/package/; write_package.cpp puts them on disk. Everything that comes from a trace or a
// database (task names, workload listings, machine names, schedules) reaches C++ and CMake only
// through c_comment / c_string_literal, or as identifiers and flags checked before.
#pragma once

#include <string>
#include <vector>

#include "rctune/package/package.h"

namespace rctune::package::detail {

// A kernel as the package's files see it.
struct KernelFiles {
  const PackageKernel* kernel = nullptr;
  std::string entry;        // extern "C" entry of its generated source: NAME_FUNCTION_kernel
  std::string source_file;  // "src/kernels/FUNCTION.cpp"
  std::string source;       // the generated kernel
  // Its buffers (the workload's tensors without intermediates, declaration order) and, for each of
  // the workload's tensors (the generated kernel's parameters), the buffer it is (-1: intermediate).
  std::vector<const ir::Tensor*> buffers;
  std::vector<bool> outputs;  // per buffer
  std::vector<int> param_buffer;
  std::vector<std::string> parameter_names;  // C++ names of the typed function's parameters
};

struct PackageFiles {
  PackageOptions options;
  std::vector<KernelFiles> kernels;
  std::string kernel_flags;  // compiler flags of the kernels' sources (checked: flag words only)
  std::string exporter_version, exporter_commit, exported_utc;
};

std::string header_text(const PackageFiles& p);          // include/NAME/NAME.hpp
std::string library_source_text(const PackageFiles& p);  // src/NAME.cpp
std::string check_source_text(const PackageFiles& p);    // src/NAME_check.cpp
std::string cmake_lists_text(const PackageFiles& p);     // CMakeLists.txt
std::string cmake_config_text(const PackageFiles& p);    // cmake/NAMEConfig.cmake.in
std::string manifest_text(const PackageFiles& p);        // manifest.json
std::string readme_text(const PackageFiles& p);          // README.md
// The generic kernels every package carries (src/package/runtime/generic_kernels.hpp).
const char* generic_kernels_text();

// Text safe inside a // comment: control characters become spaces and a trailing backslash (which
// would continue the comment onto the next line) is followed by a '.'.
std::string c_comment(const std::string& s);
// A C++ string literal of `s` ("..." with \\, \", and octal escapes for everything not printable).
std::string c_string_literal(const std::string& s);
// "void FUNCTION(const float* A, ..., float* C)": a kernel's typed function, as declared and defined.
std::string function_signature(const KernelFiles& kf);
// "f32", "f64"
const char* dtype_text(ir::DType t);
// "float", "double"
const char* c_type(ir::DType t);
// "[32, 1024]"
std::string shape_text(const std::vector<int64_t>& shape);

}  // namespace rctune::package::detail
