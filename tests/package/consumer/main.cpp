// Calls an exported package by workload spec, as a serving program that chooses at run time would.
//   consumer list                  one line per kernel: function, workload
//   consumer lookup SPEC           the kernel of SPEC, or the package's NotTuned message (exit 2)
//   consumer run SPEC OUT          computes SPEC on inputs input_value(t, e) with run(); writes every
//                                  output element to OUT as text, one per line
//   consumer typed OUT             calls the first kernel through its KernelInfo::call (the typed
//                                  function's path) on the same inputs; writes its outputs
#include PACKAGE_HEADER

#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace pkg = PACKAGE;

namespace {

// The value of element e of buffer t; test_package_build.cpp computes the same.
double input_value(std::size_t t, std::size_t e) {
  return std::sin(0.37 * static_cast<double>(e) + 1.3 * static_cast<double>(t)) * 0.5;
}

struct Buffer {
  pkg::TensorInfo info;
  std::size_t elements = 1;
  std::unique_ptr<void, void (*)(void*)> data{nullptr, &std::free};
};

int compute(const std::vector<pkg::TensorInfo>& tensors, void (*call)(void* const*), const char* out_path) {
  std::vector<Buffer> buffers(tensors.size());
  std::vector<void*> ptrs;
  for (std::size_t t = 0; t < tensors.size(); ++t) {
    Buffer& b = buffers[t];
    b.info = tensors[t];
    for (int d = 0; d < b.info.rank; ++d) b.elements *= static_cast<std::size_t>(b.info.shape[d]);
    const std::size_t bytes = b.elements * (b.info.dtype == pkg::DType::f64 ? 8 : 4);
    b.data.reset(std::aligned_alloc(64, (bytes + 63) / 64 * 64));
    for (std::size_t e = 0; e < b.elements; ++e) {
      const double v = b.info.output ? -777.0 : input_value(t, e);
      if (b.info.dtype == pkg::DType::f64)
        static_cast<double*>(b.data.get())[e] = v;
      else
        static_cast<float*>(b.data.get())[e] = static_cast<float>(v);
    }
    ptrs.push_back(b.data.get());
  }
  call(ptrs.data());
  std::FILE* out = std::fopen(out_path, "w");
  if (!out) return 1;
  for (const Buffer& b : buffers) {
    if (!b.info.output) continue;
    for (std::size_t e = 0; e < b.elements; ++e)
      std::fprintf(out, "%.9g\n",
                   b.info.dtype == pkg::DType::f64 ? static_cast<double*>(b.data.get())[e]
                                                   : static_cast<float*>(b.data.get())[e]);
  }
  return std::fclose(out) == 0 ? 0 : 1;
}

std::string g_spec;
void run_spec(void* const* buffers) { pkg::run(g_spec, buffers); }

}  // namespace

int main(int argc, char** argv) {
  Kokkos::initialize(argc, argv);
  int rc = 0;
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "list") {
      for (std::size_t i = 0; i < pkg::kernel_count(); ++i)
        std::printf("%s %s\n", pkg::kernel(i).function, pkg::kernel(i).workload);
    } else if (mode == "lookup" && argc == 3) {
      std::printf("%s\n", pkg::lookup(argv[2]).function);
    } else if (mode == "run" && argc == 4) {
      g_spec = argv[2];
      rc = compute(pkg::tensors_of(g_spec), &run_spec, argv[3]);
    } else if (mode == "typed" && argc == 3) {
      const pkg::KernelInfo& k = pkg::kernel(0);
      rc = compute(std::vector<pkg::TensorInfo>(k.tensors, k.tensors + k.num_tensors), k.call, argv[2]);
    } else {
      std::fprintf(stderr, "usage: consumer list | lookup SPEC | run SPEC OUT | typed OUT\n");
      rc = 64;
    }
  } catch (const pkg::NotTuned& e) {
    std::fprintf(stderr, "not tuned: %s\n", e.what());
    rc = 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    rc = 3;
  }
  Kokkos::finalize();
  return rc;
}
