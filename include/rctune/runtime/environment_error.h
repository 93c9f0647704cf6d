// A failure of the machine the tuner runs on, not of the kernel being measured: the compiler, the
// assembler or the linker cannot be run, the kernel cache cannot be written (read-only, full), a
// system limit was reached (open files, processes, memory), the worker cannot be started.
//
// Such a failure is never a sample's result and is never written to the kernel cache: the
// measurement throws it, the search does not catch it, and the command stops with its message
// (`rctune: error: ...`, exit 2). Samples measured before it stay in the trace.
#pragma once

#include <stdexcept>
#include <string>

namespace rctune::runtime {

class EnvironmentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace rctune::runtime
