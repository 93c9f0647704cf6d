// The worker side: the request loop that `rctune-worker` runs. It loads kernels with dlopen,
// fills inputs, checks the candidate against the reference and times it.
#pragma once

#include "rctune/runtime/protocol.h"

namespace rctune::runtime {

// Environment variable that enables the request field `test_fault` (tests only).
inline constexpr const char* kTestFaultsEnv = "RCTUNE_WORKER_TEST_FAULTS";

// Handles one request (op "measure") in this process. Candidate kernels that use Kokkos need
// Kokkos initialised by the caller. Faults in the kernel (signals, hangs) are not caught here:
// that is the supervising process's job.
WorkerResponse handle_request(const WorkerRequest& req, bool test_faults_enabled);

// Runs the request loop: reads one JSON request per line from `in_fd`, writes one JSON response
// per line to `out_fd`, until EOF or {"op":"quit"}. Writes {"op":"ready",...} first.
// `hello` is merged into the ready line (e.g. the Kokkos execution space). Returns an exit code.
int run_worker_loop(int in_fd, int out_fd, const nlohmann::json& hello);

// Deterministic input values: element i of buffer number `buffer_index` for `seed`, uniform in
// [-1, 1]. Exposed for tests.
double input_value(uint64_t seed, int buffer_index, int64_t i);

}  // namespace rctune::runtime
