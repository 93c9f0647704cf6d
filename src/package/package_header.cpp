// include/NAME/NAME.hpp of an exported package: the API every package has, then one documented
// function per kernel.
#include <sstream>

#include "package/package_files.h"
#include "rctune/ir/text.h"

namespace rctune::package::detail {

namespace {

void document_kernel(std::ostringstream& h, const KernelFiles& kf, bool device) {
  const PackageKernel& k = *kf.kernel;
  h << "/// " << c_comment(k.task) << ": " << c_comment(k.workload_key) << "\n";
  h << "///   buffers (row-major, dense" << (device ? ", in device memory" : "")
    << "; 64-byte aligned is fastest):\n";
  for (size_t i = 0; i < kf.buffers.size(); ++i)
    h << "///     " << kf.parameter_names[i] << ": " << dtype_text(kf.buffers[i]->dtype)
      << shape_text(kf.buffers[i]->shape) << (kf.outputs[i] ? "  output" : "  input") << "\n";
  h << "///   computes:\n";
  std::istringstream lines(ir::to_string(k.workload));
  std::string line;
  std::getline(lines, line);  // "workload NAME"
  while (std::getline(lines, line)) {
    // Stage lines only: the tensors are listed above with their roles.
    if (line.find(": f32[") != std::string::npos || line.find(": f64[") != std::string::npos) continue;
    h << "///   " << c_comment(line) << "\n";
  }
  h << "///   tuned: " << ir::fmt("%.1f", k.gflops) << " GFLOP/s, " << ir::fmt("%.4g", k.seconds * 1e3)
    << " ms per call, on " << c_comment(k.origin.cpu_model) << " (" << c_comment(k.origin.execution_space)
    << "), " << k.origin.samples << " samples; manifest.json has its schedule\n";
  h << function_signature(kf) << ";\n\n";
}

}  // namespace

std::string header_text(const PackageFiles& p) {
  const std::string& n = p.options.name;
  const bool device = p.options.target == codegen::Space::Cuda;
  std::ostringstream h;
  h << "// " << n << ": " << p.kernels.size() << " kernel" << (p.kernels.size() == 1 ? "" : "s")
    << " tuned by rctune, exported by rctune " << c_comment(p.exporter_version) << " ("
    << c_comment(p.exporter_commit) << ") at " << p.exported_utc << ".\n"
    << "// Generated: do not edit. manifest.json says where each kernel came from.\n"
    << "//\n"
    << "// Each kernel is a function named after its task, for the shapes it was tuned for. find() and\n"
    << "// lookup() choose a kernel by workload spec at run time; run() also computes other shapes of the\n"
    << "// library operators with generic kernels (correct, not tuned; it says so once per workload).\n"
    << "// Kernels run on Kokkos: call Kokkos::initialize before the first call. Calls are not\n"
    << "// thread-safe: one thread at a time."
    << (device ? "\n// Target CUDA: buffers are device memory; run() has no generic kernels.\n" : "\n")
    << "#pragma once\n\n"
    << "#include <cstddef>\n#include <cstdint>\n#include <stdexcept>\n#include <string_view>\n#include "
       "<vector>\n\n"
    << "namespace " << n << " {\n\n"
    << "enum class DType { f32, f64 };\n\n"
    << "// One buffer of a call.\n"
    << "struct TensorInfo {\n"
    << "  const char* name;       // the workload's tensor (\"A\", \"bias\", \"res0\", ...)\n"
    << "  DType dtype;\n"
    << "  int rank;\n"
    << "  std::int64_t shape[8];  // row-major, dense\n"
    << "  bool output;\n"
    << "};\n\n"
    << "struct KernelInfo {\n"
    << "  const char* function;      // its function in this header\n"
    << "  const char* task;          // the task it was tuned as\n"
    << "  const char* workload;      // canonical workload spec (or \"workload:HASH\" for a hand-written "
       "one)\n"
    << "  int num_tensors;           // the buffers of a call: inputs and outputs in declaration order,\n"
    << "  const TensorInfo* tensors; //   intermediates excluded (the package allocates them)\n"
    << "  double gflops;             // measured when tuned\n"
    << "  double seconds;            // median seconds per call when tuned\n"
    << "  const char* schedule;      // its schedule (rctune's trace text)\n"
    << "  void (*call)(void* const* buffers);\n"
    << "};\n\n"
    << "// The workload is not among this package's kernels (lookup), or run() cannot compute it.\n"
    << "class NotTuned : public std::runtime_error {\n"
    << " public:\n"
    << "  using std::runtime_error::runtime_error;\n"
    << "};\n\n"
    << "std::size_t kernel_count() noexcept;\n"
    << "// Throws std::out_of_range for i >= kernel_count().\n"
    << "const KernelInfo& kernel(std::size_t i);\n"
    << "// The kernel of a workload spec (\"matmul:M=32,N=64,K=16\": defaults filled in, parameters in any\n"
    << "// order) or key; nullptr when this package holds none.\n"
    << "const KernelInfo* find(std::string_view workload) noexcept;\n"
    << "// The same; throws NotTuned naming the workload and the ones this package holds.\n"
    << "const KernelInfo& lookup(std::string_view workload);\n"
    << "// Computes `workload` on `buffers` (as tensors_of lists them): with its tuned kernel, or for\n"
    << "// another shape of a library operator with a generic kernel (logged once per workload). Throws\n"
    << "// NotTuned for a hand-written workload this package does not hold, std::invalid_argument for a\n"
    << "// malformed spec, std::logic_error before Kokkos::initialize.\n"
    << "void run(std::string_view workload, void* const* buffers);\n"
    << "// The buffers run() takes for `workload`; throws like run().\n"
    << "std::vector<TensorInfo> tensors_of(std::string_view workload);\n"
    << "// Where the package's messages go (the generic-kernel notice); default: a line on stderr;\n"
    << "// nullptr: nowhere.\n"
    << "void set_log(void (*log)(const char* message));\n\n"
    << "// ---- the kernels ----\n\n";
  for (const KernelFiles& kf : p.kernels) document_kernel(h, kf, device);
  h << "}  // namespace " << n << "\n";
  return h.str();
}

}  // namespace rctune::package::detail
