// How a tuning run answers the signals that stop it (docs/cli.md, "Stopping and continuing a run"):
//  - SIGTERM or SIGUSR1 (a scheduler's time limit, scancel, sbatch --signal): the first asks every
//    search of the process to stop after the measurement in flight (search/stop_request.h) and
//    writes `notice`; the run then commits what it has, writes the trees so far and exits with
//    128 + the signal, saying how to continue the trace.
//  - SIGINT (^C), or a second SIGTERM or SIGUSR1: `at_once(signal)` at once (it must be
//    async-signal-safe and end the process).
// The signals are unblocked: a mask inherited from the launcher (a job script, a harness) would
// hold them back.
#pragma once

#include <string>

namespace rctune::dist {

using StopAtOnce = void (*)(int signal);

// What the first SIGTERM or SIGUSR1 makes a run say.
inline constexpr const char* kStopNotice =
    "\nrctune: signal {signal}: stopping after the measurement in flight (send it again to stop at once)\n";

// `notice` is composed before (a handler only writes it); "{signal}" in it becomes the number.
// `also` (async-signal-safe, may be null) runs after the notice of the first SIGTERM or SIGUSR1.
void install_stop_signals(StopAtOnce at_once, const std::string& notice, StopAtOnce also = nullptr);

// The line that says how to continue the trace at `path` after a stop by `signal`:
// "rctune: stopped by signal N: the trace PATH keeps every sample measured before; continue it
// with: rctune tune --resume 'PATH'".
std::string resume_hint(int signal, const std::string& path);

// The exit status of a run stopped by `signal`.
inline int stopped_exit_code(int signal) { return 128 + signal; }

}  // namespace rctune::dist
