// rctune-worker: loads generated kernels and runs them for the tuner, one JSON request per line
// on stdin, one JSON answer per line on stdout (see docs/runtime.md). It initialises Kokkos once;
// kernels resolve their Kokkos symbols against this executable and its libraries.
#include <fcntl.h>
#include <unistd.h>
#include <Kokkos_Core.hpp>
#include <cstdio>

#include "rctune/runtime/worker.h"

int main(int argc, char** argv) {
  // The protocol owns the original stdin/stdout. Anything else that writes to stdout (Kokkos
  // warnings, a kernel's printf) goes to stderr instead and cannot corrupt the protocol.
  const int proto_in = fcntl(0, F_DUPFD_CLOEXEC, 3);
  const int proto_out = fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (proto_in < 0 || proto_out < 0) {
    std::perror("rctune-worker: dup");
    return 1;
  }
  std::fflush(stdout);
  dup2(2, 1);
  const int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull >= 0) dup2(devnull, 0);

  Kokkos::initialize(argc, argv);
  int rc = 0;
  {
    nlohmann::json hello = {{"kokkos_execution_space", Kokkos::DefaultExecutionSpace::name()},
                            {"kokkos_concurrency", Kokkos::DefaultExecutionSpace::concurrency()}};
    rc = rctune::runtime::run_worker_loop(proto_in, proto_out, hello);
  }
  Kokkos::finalize();
  return rc;
}
