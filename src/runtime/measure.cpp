#include "rctune/runtime/measure.h"

#include <algorithm>

namespace rctune::runtime {

std::vector<BufferSpec> workload_buffers(const ir::Workload& w) {
  std::vector<BufferSpec> out;
  for (const auto& t : w.tensors) {
    BufferSpec b;
    b.name = t.name;
    b.dtype = ir::dtype_name(t.dtype);
    b.shape = t.shape;
    switch (w.role(t.name)) {
      case ir::TensorRole::Input:
        b.role = BufferRole::Input;
        break;
      case ir::TensorRole::Intermediate:
        b.role = BufferRole::Intermediate;
        break;
      case ir::TensorRole::Output:
        b.role = BufferRole::Output;
        break;
    }
    out.push_back(std::move(b));
  }
  return out;
}

int64_t workload_reduction_length(const ir::Workload& w) {
  int64_t total = 0;
  for (const auto& s : w.stages) {
    if (s.reduce_axes.empty()) continue;
    int64_t len = 1;
    for (const auto& v : s.reduce_axes) len *= std::max<int64_t>(v.extent, 1);
    total += len;
  }
  return std::max<int64_t>(total, 1);
}

Measurement measure_workload(Measurer& m, const ir::Workload& w, const std::string& kernel_source,
                             const std::string& reference_source, const MeasureOptions& opts,
                             SourceKind kernel_kind) {
  MeasureInput in;
  in.buffers = workload_buffers(w);
  in.kernel_source = kernel_source;
  in.kernel_kind = kernel_kind;
  in.reference_source = reference_source;
  in.reduction_length = workload_reduction_length(w);
  Measurement r = m.measure(in, opts);
  if (r.ok() && r.times.median_s > 0) r.gflops = w.flops() / r.times.median_s / 1e9;
  return r;
}

}  // namespace rctune::runtime
