// Writing an exported package (include/rctune/package/package.h): kernels generated again from their
// schedules, then every file of the package, into a directory that is empty or holds a package.
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>

#include "package/function_names.h"
#include "package/package_files.h"
#include "rctune/build_config.h"
#include "rctune/config/compiler_flags.h"
#include "rctune/schedule/lower.h"
#include "rctune/schedule/trace.h"

namespace rctune::package {

namespace fs = std::filesystem;
using namespace detail;

namespace {

// The entries of a package directory that rctune writes (and replaces when it exports again).
const char* const kOwnEntries[] = {"CMakeLists.txt", "README.md", "manifest.json", "cmake", "include", "src"};

constexpr size_t kMaxRank = 8;  // TensorInfo::shape of the package API

KernelFiles kernel_files(const PackageKernel& k, const PackageOptions& o) {
  KernelFiles kf;
  kf.kernel = &k;
  kf.entry = o.name + "_" + k.function + "_kernel";
  kf.source_file = "src/kernels/" + k.function + ".cpp";
  const std::string where = "task '" + k.task + "' (" + k.workload_key + ")";
  std::vector<std::string> names;
  for (const ir::Tensor& t : k.workload.tensors) {
    if (t.shape.size() > kMaxRank)
      throw ExportError(where + ": tensor " + t.name + " has rank " + std::to_string(t.shape.size()) +
                        "; a package's kernels take tensors of rank at most " + std::to_string(kMaxRank));
    const ir::TensorRole role = k.workload.role(t.name);
    if (role == ir::TensorRole::Intermediate) {
      kf.param_buffer.push_back(-1);
      continue;
    }
    kf.param_buffer.push_back(static_cast<int>(kf.buffers.size()));
    kf.buffers.push_back(&t);
    kf.outputs.push_back(role == ir::TensorRole::Output);
    names.push_back(t.name);
  }
  kf.parameter_names = detail::parameter_names(names);
  ir::LoweredFunc lowered;
  try {
    const auto w = std::make_shared<const ir::Workload>(k.workload);
    lowered = schedule::lower(schedule::apply_trace(schedule::State(w), k.schedule));
  } catch (const std::exception& e) {
    throw ExportError(where + ": its schedule does not apply to its workload: " + std::string(e.what()));
  }
  // The generated kernel takes the workload's tensors in order (runtime::evaluate checks the same).
  bool same = lowered.params.size() == k.workload.tensors.size();
  for (size_t i = 0; same && i < lowered.params.size(); ++i)
    same = lowered.params[i].name == k.workload.tensors[i].name;
  if (!same)
    throw ExportError(where +
                      ": internal error: the lowered kernel's parameters differ from the workload's tensors");
  try {
    codegen::Target target;
    target.space = o.target;
    kf.source = codegen::generate_kernel(lowered, target, kf.entry).code;
  } catch (const std::exception& e) {
    throw ExportError(where + ": code generation failed: " + std::string(e.what()));
  }
  return kf;
}

// The flags the kernels' sources compile with: those they were tuned with (of the first kernel;
// the manifest keeps each kernel's own), checked to be compiler flags only, as a config's are.
std::string kernel_flags(const std::vector<PackageKernel>& ks, const PackageOptions& o) {
  if (o.target == codegen::Space::Cuda) return "-O3";  // host flags (-march=native) are not nvcc's
  const std::string flags =
      ks.front().origin.flags.empty() ? std::string(RCTUNE_JIT_FLAGS) : ks.front().origin.flags;
  if (const std::string why = config::compiler_flags_problem(flags); !why.empty())
    throw ExportError("task '" + ks.front().task +
                      "' was tuned with compiler flags that a package cannot carry: " + why);
  return flags;
}

// `dir` ready for a package: created, empty, or a package rctune wrote (whose files are removed).
void prepare_directory(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) {
    fs::create_directories(dir, ec);
    if (ec) throw ExportError("cannot create the output directory " + dir + ": " + ec.message());
    return;
  }
  if (!fs::is_directory(dir, ec)) throw ExportError("--out " + dir + " exists and is not a directory");
  if (fs::is_empty(dir, ec)) return;
  std::ifstream in(fs::path(dir) / "manifest.json");
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (head.find("\"generator\": \"rctune export\"") == std::string::npos)
    throw ExportError("--out " + dir +
                      " is not empty and holds no package rctune exported (no manifest.json of one): "
                      "choose an empty or new directory");
  for (const char* e : kOwnEntries) {
    fs::remove_all(fs::path(dir) / e, ec);
    if (ec) throw ExportError("cannot replace " + (fs::path(dir) / e).string() + ": " + ec.message());
  }
}

void write_file(const fs::path& path, const std::string& text) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) throw ExportError("cannot create " + path.parent_path().string() + ": " + ec.message());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) throw ExportError("cannot write " + path.string() + " (is the disk full?)");
}

}  // namespace

std::string package_name_problem(const std::string& name) {
  if (name.empty()) return "a package name must not be empty";
  if (name.size() > 64) return "a package name has at most 64 characters";
  if (!std::islower(static_cast<unsigned char>(name[0])))
    return "a package name starts with a lower-case letter (a-z)";
  for (char c : name)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '_'))
      return "a package name has lower-case letters, digits and '_' only ('" + std::string(1, c) +
             "' is not one)";
  if (function_names({name}).front() != name)
    return "'" + name + "' is a C++ keyword or a name the package API uses";
  if (name == "rctune_generic" || name == "kokkos")
    return "'" + name + "' is taken by the package's own code";
  return "";
}

void write_package(const std::vector<PackageKernel>& kernels, const PackageOptions& o,
                   const std::string& out_dir) {
  if (const std::string why = package_name_problem(o.name); !why.empty())
    throw ExportError("--name '" + o.name + "': " + why);
  if (kernels.empty()) throw ExportError("there is no kernel to export");
  PackageFiles p;
  p.options = o;
  p.exporter_version = RCTUNE_VERSION;
  p.exporter_commit = RCTUNE_GIT_COMMIT;
  p.exported_utc = runlog::iso8601(runlog::unix_now());
  p.kernel_flags = kernel_flags(kernels, o);
  std::set<std::string> functions;
  for (const PackageKernel& k : kernels) {
    if (!functions.insert(k.function).second)
      throw ExportError("two kernels are named '" + k.function + "' (tasks must have distinct names)");
    p.kernels.push_back(kernel_files(k, o));
  }
  prepare_directory(out_dir);
  const fs::path d(out_dir);
  write_file(d / "include" / o.name / (o.name + ".hpp"), header_text(p));
  write_file(d / "src" / (o.name + ".cpp"), library_source_text(p));
  write_file(d / "src" / (o.name + "_check.cpp"), check_source_text(p));
  write_file(d / "src" / "generic_kernels.hpp", generic_kernels_text());
  for (const KernelFiles& kf : p.kernels) write_file(d / kf.source_file, kf.source);
  write_file(d / "CMakeLists.txt", cmake_lists_text(p));
  write_file(d / "cmake" / (o.name + "Config.cmake.in"), cmake_config_text(p));
  write_file(d / "README.md", readme_text(p));
  // Last: a directory with a manifest holds a whole package.
  write_file(d / "manifest.json", manifest_text(p));
}

}  // namespace rctune::package
