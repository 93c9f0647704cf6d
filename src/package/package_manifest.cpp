// manifest.json and README.md of an exported package: where every kernel came from, and how to use it.
#include <nlohmann/json.hpp>
#include <sstream>

#include "package/package_files.h"
#include "rctune/ir/text.h"

namespace rctune::package::detail {

std::string manifest_text(const PackageFiles& p) {
  nlohmann::ordered_json m;
  m["generator"] = "rctune export";
  m["package"] = p.options.name;
  m["target"] = p.options.target == codegen::Space::Cuda ? "cuda" : "host";
  m["exported_from"] = p.options.source;
  m["exported_utc"] = p.exported_utc;
  m["rctune"] = {{"version", p.exporter_version}, {"commit", p.exporter_commit}};
  m["kernel_flags"] = p.kernel_flags;
  nlohmann::ordered_json ks = nlohmann::ordered_json::array();
  for (const KernelFiles& kf : p.kernels) {
    const PackageKernel& k = *kf.kernel;
    nlohmann::ordered_json buffers = nlohmann::ordered_json::array();
    for (size_t i = 0; i < kf.buffers.size(); ++i)
      buffers.push_back({{"name", kf.buffers[i]->name},
                         {"dtype", dtype_text(kf.buffers[i]->dtype)},
                         {"shape", kf.buffers[i]->shape},
                         {"layout", "row-major"},
                         {"role", kf.outputs[i] ? "output" : "input"}});
    const KernelOrigin& o = k.origin;
    ks.push_back({{"function", k.function},
                  {"task", k.task},
                  {"workload", k.workload_key},
                  {"workload_listing", ir::to_string(k.workload)},
                  {"buffers", buffers},
                  {"source", kf.source_file},
                  {"gflops", k.gflops},
                  {"seconds", k.seconds},
                  {"schedule", k.schedule},
                  {"tuned",
                   {{"run", o.run},
                    {"measurement", o.sample},
                    {"cpu_model", o.cpu_model},
                    {"hardware_id", o.hardware_id},
                    {"execution_space", o.execution_space},
                    {"flags", o.flags},
                    {"samples", o.samples},
                    {"rctune_version", o.version},
                    {"rctune_commit", o.commit},
                    {"utc", o.utc}}}});
  }
  m["kernels"] = ks;
  return m.dump(2) + "\n";
}

std::string readme_text(const PackageFiles& p) {
  const std::string& n = p.options.name;
  std::ostringstream r;
  r << "# " << n << "\n\n"
    << "Kernels tuned by rctune and exported with `rctune export` (rctune " << p.exporter_version << "). "
    << "`manifest.json` says where each kernel came from: the run, the machine, the compiler flags, the "
    << "GFLOP/s measured and the schedule.\n\n"
    << "| function | workload | GFLOP/s when tuned |\n| --- | --- | --- |\n";
  for (const KernelFiles& kf : p.kernels) {
    std::string w = kf.kernel->workload_key;
    for (char& ch : w)
      if (ch == '|' || ch == '`' || static_cast<unsigned char>(ch) < 0x20) ch = ' ';
    r << "| `" << kf.kernel->function << "` | `" << w << "` | " << ir::fmt("%.1f", kf.kernel->gflops)
      << " |\n";
  }
  r << "\n## Build and install\n\n```sh\ncmake -S . -B build -DCMAKE_BUILD_TYPE=Release\n"
    << "cmake --build build\ncmake --install build --prefix PREFIX\n```\n\n"
    << "Kokkos is found with `find_package(Kokkos)`: point `CMAKE_PREFIX_PATH` at the Kokkos your program "
    << "uses. `" << n << "_KERNEL_FLAGS` holds the compiler flags the kernels were tuned with. `-D" << n
    << "_BUILD_CHECK=ON` builds `" << n
    << "_check` (run by ctest): every kernel against the generic kernel of its "
    << "workload.\n\n"
    << "## Use\n\n```cmake\nfind_package(" << n << " REQUIRED)\ntarget_link_libraries(app PRIVATE " << n
    << "::" << n << ")\n```\n\n```cpp\n#include <" << n << "/" << n << ".hpp>\n"
    << "// after Kokkos::initialize:\n"
    << n << "::" << p.kernels.front().kernel->function << "(...);  // typed, fixed shapes\n"
    << n << "::run(\"" << p.kernels.front().kernel->workload_key
    << "\", buffers);  // by workload spec\n```\n\n"
    << "`include/" << n << "/" << n << ".hpp` documents every function: its buffers, shapes and layouts.\n";
  return r.str();
}

}  // namespace rctune::package::detail
