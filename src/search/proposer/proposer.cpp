// What proposers are told about the machine: HardwareDescription::text() (a few lines for a prompt)
// and the host's description (rctune/search/proposer.h).
#include "rctune/search/proposer.h"

#include <sstream>

#include "rctune/runtime/host_cpu.h"

namespace rctune::search {

namespace {

std::string bytes_text(int64_t b) {
  if (b >= (int64_t{1} << 20) && b % (int64_t{1} << 20) == 0) return std::to_string(b >> 20) + " MiB";
  if (b >= 1024 && b % 1024 == 0) return std::to_string(b >> 10) + " KiB";
  return std::to_string(b) + " B";
}

}  // namespace

std::string HardwareDescription::text() const {
  std::ostringstream out;
  out << "CPU: " << (cpu_model.empty() ? "unknown model" : cpu_model) << ", " << info.cores
      << (info.cores == 1 ? " core" : " cores") << "\n";
  out << "caches: L1d " << bytes_text(info.l1_bytes) << " per core, L2 " << bytes_text(info.l2_bytes)
      << " per core, L3 " << bytes_text(info.l3_bytes) << " shared\n";
  out << "vectors: " << info.vector_bytes * 8 << "-bit SIMD = " << info.vector_bytes / 4 << " f32 lanes ("
      << info.vector_bytes / 8 << " f64), " << info.vector_registers() << " vector registers\n";
  out << "Kokkos execution space: " << (execution_space.empty() ? "Serial" : execution_space) << "\n";
  return out.str();
}

HardwareDescription host_hardware_description(const std::string& execution_space) {
  HardwareDescription d;
  d.info = host_hardware_info();
  d.cpu_model = runtime::host_cpu_identity().model;
  d.execution_space = execution_space.empty() ? "Serial" : execution_space;
  return d;
}

}  // namespace rctune::search
