// A stop asked for from outside the search (SIGTERM or SIGUSR1: a scheduler's time limit, scancel,
// sbatch --signal): every search of the process ends after the measurements in flight, which are
// recorded like any other; the run then writes what it has and says how to continue it.
//
// request_stop is async-signal-safe (one lock-free store): signal handlers call it.
#pragma once

namespace rctune::search {

// Asks every search of this process to stop; the first signal asked for is kept.
void request_stop(int signal) noexcept;
// The signal that asked for the stop, or 0 while none did.
int stop_signal() noexcept;
inline bool stop_requested() noexcept { return stop_signal() != 0; }
// Forgets a request (a test runs several searches in one process).
void clear_stop_request() noexcept;

}  // namespace rctune::search
