// One record of the tuning database (rctune/database/database.h, docs/database.md): the best
// schedule a run found for one workload on one machine with one set of compiler flags, and what
// identifies those three.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rctune/ir/workload.h"

namespace rctune::database {

// The versions of the record format (the field "v" of every line). A schedule is written as version
// 1; a baseline (RecordKind) as version 2, which adds "kind", so that a reader of version 1 skips it
// (and reports it) rather than taking a library's time for a schedule's. A reader refuses other
// versions.
inline constexpr int kRecordVersion = 1;
inline constexpr int kBaselineRecordVersion = 2;

// The machine a time was measured on. `id` is 16 hex digits: a hash of the other fields, so that
// equal machines have equal ids and a record whose id does not match its parts is refused.
struct HardwareFingerprint {
  std::string id;
  std::string vendor;                 // "GenuineIntel", "AuthenticAMD", ARM's implementer ("0x41")
  std::string model;                  // "AMD EPYC 9R14 96-Core Processor"
  std::vector<std::string> features;  // the ISA features that matter for code generation, sorted
  int cores = 0;                      // CPUs the measuring process could run on
  std::string gpu;                    // the GPU's name; "" for a CPU run
  std::string execution_space;        // Kokkos execution space the kernels ran in ("Serial", "OpenMP")
  bool operator==(const HardwareFingerprint&) const = default;
};

// A fingerprint of these parts: `features` keeps only the features code generation depends on
// (avx2, fma, avx512f, avx512_bf16, amx_tile, sve, ...; the list is in docs/database.md), and
// `id` is computed.
HardwareFingerprint make_fingerprint(std::string vendor, std::string model,
                                     const std::vector<std::string>& flags, int cores, std::string gpu = "",
                                     std::string execution_space = "");
// This host's CPU (runtime/host_cpu.h) and the cores its kernels run on, for kernels run in
// `execution_space` (the evaluator's; "" when not known): 1 for "Serial", else the cores this
// process may run on.
HardwareFingerprint host_fingerprint(const std::string& execution_space = "");
// The id a fingerprint with these parts has.
std::string fingerprint_id(const HardwareFingerprint& h);

// The compiler flags as keyed: words separated by one space, no leading or trailing space. The
// order of the words is kept (it matters to the compiler).
std::string normalize_flags(const std::string& flags);

// The key of a workload: its canonical operator spec when it is exactly the library operator its
// name specifies ("matmul:M=512,N=512,K=512,dtype=f32"), else "workload:" and 16 hex digits of a
// hash of its text without its name (ir::to_string without the first line), so that equal
// hand-written workloads under different names share records.
std::string workload_key(const ir::Workload& w);
// The operator of a key: the part before ':' of a spec ("matmul"), "" for a hand-written workload.
std::string operator_of(const std::string& workload_key);

struct Key {
  std::string workload;  // workload_key()
  std::string hardware;  // HardwareFingerprint::id
  std::string flags;     // normalize_flags()
  auto operator<=>(const Key&) const = default;
};

// What a record times: a schedule the tuner found (the database's purpose), or a baseline a run
// measured for the workload (its unscheduled kernel, a library routine), kept so that a later run
// of the workload need not spend time measuring it again.
enum class RecordKind { Schedule, Unscheduled, Library };
// "schedule", "unscheduled", "library"; and back (std::nullopt for any other text).
const char* record_kind_name(RecordKind k);
std::optional<RecordKind> record_kind_of(const std::string& name);

struct TuningRecord {
  RecordKind kind = RecordKind::Schedule;
  std::string id;             // 16 hex digits, random, unique: copies of one record are one record
  std::string workload;       // workload_key()
  std::string workload_text;  // the workload's listing (ir::to_string) for a hand-written one ("" for
                              // an operator, and in records written before runs kept it)
  HardwareFingerprint hardware;
  std::string flags;     // normalize_flags() of the JIT's flags (runtime::JitCompiler::flags())
  std::string schedule;  // the schedule's trace text (schedule/trace.h), replayable; "" for a baseline
  std::string routine;   // Library: the routine timed ("openblas_sgemm+epilogue"); else ""
  // Unscheduled: how the time was estimated when it was not measured on the workload itself ("M=64
  // of 4096, time x 64": on a smaller instance, scaled); else ""
  std::string estimate;
  double seconds = 0;  // median seconds per kernel run
  double spread = 0;   // its spread (interquartile range, seconds)
  double gflops = 0;
  int64_t samples = 0;  // samples the writing run spent on this workload
  std::string run;      // the run that wrote it: its trace file
  std::string version;  // rctune version of the writer
  std::string host;     // host name of the writer
  std::string utc;      // when it was written: "2026-12-07T14:31:02Z"

  Key key() const { return {workload, hardware.id, flags}; }
  bool operator==(const TuningRecord&) const = default;
};

// The record as one line of JSON (without the newline), and back. from_json_line throws
// std::invalid_argument naming the field that is missing, of the wrong type, out of bounds, or of
// a version other than kRecordVersion; unknown fields are ignored.
std::string to_json_line(const TuningRecord& r);
TuningRecord from_json_line(const std::string& line);
// Why `r` cannot be stored ("" when it can): the bounds from_json_line checks.
std::string record_problem(const TuningRecord& r);

// The workload a record times: its operator spec built again, or its listing parsed for a
// hand-written one (ir::parse_listing); std::nullopt for a hand-written workload whose record keeps
// no listing. Throws ir::ParseError, ir::OperatorSpecError or std::invalid_argument for a listing
// or spec that does not parse.
std::optional<ir::Workload> workload_of(const TuningRecord& r);

// Fastest first; equal times: the newer first, then by id (a total order).
bool faster(const TuningRecord& a, const TuningRecord& b);

}  // namespace rctune::database
