// How a measurement ended: what a worker reports for a kernel, and what the run log records for a
// sample (runlog::SampleStatus is this type). Header only, so that the run log, below the runtime
// in the module graph's link order, shares it without linking the runtime.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace rctune::runtime {

// Illegal is never measured: a proposal the schedule primitives rejected, recorded with its error.
// The values are those of the run log's HDF5 enum `status` (docs/trace-format.md).
enum class Status : int8_t { Ok, CompileError, RuntimeError, Timeout, WrongResult, Illegal };
inline constexpr Status kLastStatus = Status::Illegal;

// "ok", "compile_error", "runtime_error", "timeout", "wrong_result", "illegal".
inline const char* status_name(Status s) {
  switch (s) {
    case Status::Ok:
      return "ok";
    case Status::CompileError:
      return "compile_error";
    case Status::RuntimeError:
      return "runtime_error";
    case Status::Timeout:
      return "timeout";
    case Status::WrongResult:
      return "wrong_result";
    case Status::Illegal:
      return "illegal";
  }
  return "?";
}

// Throws std::invalid_argument for an unknown name.
inline Status parse_status(const std::string& name) {
  for (int v = 0; v <= static_cast<int>(kLastStatus); ++v)
    if (name == status_name(static_cast<Status>(v))) return static_cast<Status>(v);
  throw std::invalid_argument(
      "unknown status '" + name +
      "' (expected ok, compile_error, runtime_error, timeout, wrong_result or illegal)");
}

}  // namespace rctune::runtime
