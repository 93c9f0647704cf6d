// What a record is keyed by: the workload, this host's hardware fingerprint
// (rctune/database/record.h).
#include <random>

#include "database/hex.h"
#include "rctune/database/record.h"
#include "rctune/ir/operators.h"
#include "rctune/runtime/host_cpu.h"

namespace rctune::database {

std::string random_hex() {
  std::random_device rd;
  const uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return hex16_of(v);
}

HardwareFingerprint host_fingerprint(const std::string& execution_space) {
  const runtime::CpuIdentity& cpu = runtime::host_cpu_identity();
  // Serial kernels run on one core whatever the process may use: a run under `mpirun` (a core per
  // rank) and one on the whole node measure the same hardware. Other execution spaces run threads
  // on every core the process may use.
  const int cores = execution_space == "Serial" ? 1 : runtime::allowed_cores();
  return make_fingerprint(cpu.vendor, cpu.model, cpu.flags, cores, "", execution_space);
}

std::string workload_key(const ir::Workload& w) {
  const std::string text = ir::to_string(w);
  // The listing without its first line, "workload NAME".
  const std::string body = text.substr(std::min(text.size(), text.find('\n') + 1));
  if (const auto spec = ir::operator_spec_of(w)) return *spec;
  return "workload:" + stable_hex(body);
}

}  // namespace rctune::database
