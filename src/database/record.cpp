// Tuning records as JSON lines, with the bounds every field read from a database is checked
// against (rctune/database/record.h, docs/database.md).
#include "rctune/database/record.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <tuple>

#include "database/hex.h"
#include "rctune/ir/operators.h"
#include "rctune/ir/parser.h"

namespace rctune::database {

namespace {

using nlohmann::json;

// Upper bounds of the text fields, in bytes.
constexpr size_t kMaxShort = 256;  // id, vendor, model, gpu, execution space, version, host, utc, a feature
constexpr size_t kMaxWorkload = 4096;    // a workload key
constexpr size_t kMaxFlags = 4096;       // compiler flags
constexpr size_t kMaxRun = 4096;         // a trace file's path
constexpr size_t kMaxText = 256 * 1024;  // a schedule or a workload's listing
constexpr size_t kMaxFeatures = 256;     // entries of hardware.features
constexpr int64_t kMaxSamples = int64_t{1} << 40;
constexpr int kMaxCores = 1 << 20;

// Printable text: no control characters but, where `multiline`, newline and tab.
bool printable(std::string_view s, bool multiline) {
  for (unsigned char c : s) {
    if (c == '\n' || c == '\t') {
      if (!multiline) return false;
    } else if (c < 0x20 || c == 0x7f) {
      return false;
    }
  }
  return true;
}

bool hex16(std::string_view s) {
  if (s.size() != 16) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// "YYYY-MM-DDTHH:MM:SSZ"
bool utc_text(std::string_view s) {
  static constexpr std::string_view kPattern = "dddd-dd-ddTdd:dd:ddZ";
  if (s.size() != kPattern.size()) return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (kPattern[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != kPattern[i]) return false;
  return true;
}

std::string text_problem(const std::string& field, const std::string& v, size_t max, bool multiline) {
  if (v.size() > max)
    return field + " has " + std::to_string(v.size()) + " bytes (at most " + std::to_string(max) + ")";
  if (!printable(v, multiline)) return field + " holds control characters";
  return "";
}

// The ISA features that change what the compiler emits for a kernel.
bool codegen_feature(const std::string& f) {
  static const char* const kFeatures[] = {
      // x86
      "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni", "avx512f", "avx512cd", "avx512bw",
      "avx512dq", "avx512vl", "avx512ifma", "avx512vbmi", "avx512_vbmi2", "avx512_vnni", "avx512_bf16",
      "avx512_fp16", "avx512_bitalg", "avx512_vpopcntdq", "amx_tile", "amx_bf16", "amx_int8", "amx_fp16",
      // ARM
      "asimd", "asimdhp", "asimddp", "fphp", "bf16", "i8mm", "sve", "sve2", "svebf16", "svei8mm", "sme"};
  for (const char* k : kFeatures)
    if (f == k) return true;
  return false;
}

// The field `name` of `j` as a T; throws naming the field.
template <typename T>
T field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) throw std::invalid_argument("no field \"" + std::string(name) + "\"");
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) throw std::invalid_argument("\"" + std::string(name) + "\" is not a string");
  } else if constexpr (std::is_integral_v<T>) {
    if (!it->is_number_integer())
      throw std::invalid_argument("\"" + std::string(name) + "\" is not an integer");
  } else {
    if (!it->is_number()) throw std::invalid_argument("\"" + std::string(name) + "\" is not a number");
  }
  return it->get<T>();
}

}  // namespace

std::string fingerprint_id(const HardwareFingerprint& h) {
  std::string text = h.vendor + "\n" + h.model + "\n";
  for (const auto& f : h.features) text += f + " ";
  text += "\n" + std::to_string(h.cores) + "\n" + h.gpu + "\n" + h.execution_space;
  return stable_hex(text);
}

HardwareFingerprint make_fingerprint(std::string vendor, std::string model,
                                     const std::vector<std::string>& flags, int cores, std::string gpu,
                                     std::string execution_space) {
  HardwareFingerprint h;
  h.vendor = std::move(vendor);
  h.model = std::move(model);
  for (const auto& f : flags)
    if (codegen_feature(f)) h.features.push_back(f);
  std::sort(h.features.begin(), h.features.end());
  h.features.erase(std::unique(h.features.begin(), h.features.end()), h.features.end());
  h.cores = cores;
  h.gpu = std::move(gpu);
  h.execution_space = std::move(execution_space);
  h.id = fingerprint_id(h);
  return h;
}

std::string normalize_flags(const std::string& flags) {
  std::string out;
  size_t i = 0;
  while (i < flags.size()) {
    while (i < flags.size() && std::isspace(static_cast<unsigned char>(flags[i]))) ++i;
    size_t b = i;
    while (i < flags.size() && !std::isspace(static_cast<unsigned char>(flags[i]))) ++i;
    if (i > b) out += (out.empty() ? "" : " ") + flags.substr(b, i - b);
  }
  return out;
}

std::string operator_of(const std::string& workload_key) {
  if (workload_key.rfind("workload:", 0) == 0) return "";
  return workload_key.substr(0, workload_key.find(':'));
}

const char* record_kind_name(RecordKind k) {
  switch (k) {
    case RecordKind::Schedule:
      return "schedule";
    case RecordKind::Unscheduled:
      return "unscheduled";
    case RecordKind::Library:
      return "library";
  }
  return "schedule";
}

std::optional<RecordKind> record_kind_of(const std::string& name) {
  for (RecordKind k : {RecordKind::Schedule, RecordKind::Unscheduled, RecordKind::Library})
    if (name == record_kind_name(k)) return k;
  return std::nullopt;
}

std::string to_json_line(const TuningRecord& r) {
  const bool baseline = r.kind != RecordKind::Schedule;
  json j = {{"v", baseline ? kBaselineRecordVersion : kRecordVersion},
            {"id", r.id},
            {"workload", r.workload},
            {"operator", operator_of(r.workload)},
            {"hardware",
             {{"id", r.hardware.id},
              {"vendor", r.hardware.vendor},
              {"model", r.hardware.model},
              {"features", r.hardware.features},
              {"cores", r.hardware.cores},
              {"gpu", r.hardware.gpu},
              {"execution_space", r.hardware.execution_space}}},
            {"flags", r.flags},
            {"schedule", r.schedule},
            {"seconds", r.seconds},
            {"spread", r.spread},
            {"gflops", r.gflops},
            {"samples", r.samples},
            {"run", r.run},
            {"version", r.version},
            {"host", r.host},
            {"utc", r.utc}};
  if (!r.workload_text.empty()) j["workload_text"] = r.workload_text;
  if (baseline) {
    j["kind"] = record_kind_name(r.kind);
    if (!r.routine.empty()) j["routine"] = r.routine;
    if (!r.estimate.empty()) j["estimate"] = r.estimate;
  }
  // Invalid UTF-8 (a host or path name) is replaced rather than failing the write.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

TuningRecord from_json_line(const std::string& line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded()) throw std::invalid_argument("not valid JSON");
  if (!j.is_object()) throw std::invalid_argument("not a JSON object");
  const int64_t v = field<int64_t>(j, "v");
  if (v != kRecordVersion && v != kBaselineRecordVersion)
    throw std::invalid_argument(
        "record version " + std::to_string(v) + " is not supported (this rctune reads versions " +
        std::to_string(kRecordVersion) + " and " + std::to_string(kBaselineRecordVersion) + ")");
  TuningRecord r;
  if (v == kBaselineRecordVersion) {
    const std::string kind = field<std::string>(j, "kind");
    const std::optional<RecordKind> k = record_kind_of(kind);
    if (!k || *k == RecordKind::Schedule)
      throw std::invalid_argument(
          "\"kind\" of a version 2 record is neither \"unscheduled\" nor \"library\"");
    r.kind = *k;
    if (j.contains("routine")) r.routine = field<std::string>(j, "routine");
    if (j.contains("estimate")) r.estimate = field<std::string>(j, "estimate");
  }
  r.id = field<std::string>(j, "id");
  r.workload = field<std::string>(j, "workload");
  if (j.contains("workload_text")) r.workload_text = field<std::string>(j, "workload_text");
  auto hw = j.find("hardware");
  if (hw == j.end() || !hw->is_object())
    throw std::invalid_argument("\"hardware\" is missing or not an object");
  r.hardware.id = field<std::string>(*hw, "id");
  r.hardware.vendor = field<std::string>(*hw, "vendor");
  r.hardware.model = field<std::string>(*hw, "model");
  r.hardware.gpu = field<std::string>(*hw, "gpu");
  r.hardware.execution_space = field<std::string>(*hw, "execution_space");
  const int64_t cores = field<int64_t>(*hw, "cores");
  if (cores < 0 || cores > kMaxCores) throw std::invalid_argument("\"hardware.cores\" is out of range");
  r.hardware.cores = static_cast<int>(cores);
  auto features = hw->find("features");
  if (features == hw->end() || !features->is_array())
    throw std::invalid_argument("\"hardware.features\" is missing or not an array");
  if (features->size() > kMaxFeatures)
    throw std::invalid_argument("\"hardware.features\" has too many entries");
  for (const auto& f : *features) {
    if (!f.is_string()) throw std::invalid_argument("\"hardware.features\" holds a non-string");
    r.hardware.features.push_back(f.get<std::string>());
  }
  r.flags = field<std::string>(j, "flags");
  r.schedule = field<std::string>(j, "schedule");
  r.seconds = field<double>(j, "seconds");
  r.spread = field<double>(j, "spread");
  r.gflops = field<double>(j, "gflops");
  r.samples = field<int64_t>(j, "samples");
  r.run = field<std::string>(j, "run");
  r.version = field<std::string>(j, "version");
  r.host = field<std::string>(j, "host");
  r.utc = field<std::string>(j, "utc");
  if (std::string problem = record_problem(r); !problem.empty()) throw std::invalid_argument(problem);
  return r;
}

std::string record_problem(const TuningRecord& r) {
  if (!hex16(r.id)) return "\"id\" is not 16 lower-case hex digits";
  if (r.workload.empty()) return "\"workload\" is empty";
  const std::pair<const char*, const std::string*> short_fields[] = {
      {"hardware.vendor", &r.hardware.vendor},
      {"hardware.model", &r.hardware.model},
      {"hardware.gpu", &r.hardware.gpu},
      {"hardware.execution_space", &r.hardware.execution_space},
      {"version", &r.version},
      {"host", &r.host}};
  for (const auto& [name, value] : short_fields)
    if (auto p = text_problem(std::string("\"") + name + "\"", *value, kMaxShort, false); !p.empty())
      return p;
  for (const auto& [name, value, max, multiline] :
       {std::tuple{"\"workload\"", &r.workload, kMaxWorkload, false},
        std::tuple{"\"workload_text\"", &r.workload_text, kMaxText, true},
        std::tuple{"\"flags\"", &r.flags, kMaxFlags, false},
        std::tuple{"\"schedule\"", &r.schedule, kMaxText, true},
        std::tuple{"\"run\"", &r.run, kMaxRun, false}})
    if (auto p = text_problem(name, *value, max, multiline); !p.empty()) return p;
  for (const auto& [name, value] :
       {std::pair{"\"routine\"", &r.routine}, std::pair{"\"estimate\"", &r.estimate}})
    if (auto p = text_problem(name, *value, kMaxShort, false); !p.empty()) return p;
  switch (r.kind) {
    case RecordKind::Schedule:
      if (!r.routine.empty() || !r.estimate.empty())
        return "a schedule's record has a \"routine\" or an \"estimate\"";
      break;
    case RecordKind::Unscheduled:
      if (!r.schedule.empty() || !r.routine.empty())
        return "the unscheduled kernel's record has a \"schedule\" or a \"routine\"";
      break;
    case RecordKind::Library:
      if (!r.schedule.empty() || !r.estimate.empty())
        return "a library's record has a \"schedule\" or an \"estimate\"";
      if (r.routine.empty()) return "a library's record names no \"routine\"";
      break;
  }
  if (r.flags != normalize_flags(r.flags)) return "\"flags\" are not normalized (one space between words)";
  if (r.hardware.features.size() > kMaxFeatures) return "\"hardware.features\" has too many entries";
  for (const auto& f : r.hardware.features)
    if (auto p = text_problem("\"hardware.features\"", f, kMaxShort, false); !p.empty() || f.empty())
      return p.empty() ? "\"hardware.features\" holds an empty name" : p;
  if (r.hardware.cores < 0 || r.hardware.cores > kMaxCores) return "\"hardware.cores\" is out of range";
  if (r.hardware.id != fingerprint_id(r.hardware))
    return "\"hardware.id\" does not match the hardware's parts";
  if (!(std::isfinite(r.seconds) && r.seconds > 0)) return "\"seconds\" is not a positive number";
  if (!(std::isfinite(r.spread) && r.spread >= 0)) return "\"spread\" is not a number >= 0";
  if (!(std::isfinite(r.gflops) && r.gflops >= 0)) return "\"gflops\" is not a number >= 0";
  if (r.samples < 0 || r.samples > kMaxSamples) return "\"samples\" is out of range";
  if (!utc_text(r.utc)) return "\"utc\" is not a time like 2026-12-07T14:31:02Z";
  return "";
}

std::optional<ir::Workload> workload_of(const TuningRecord& r) {
  if (!operator_of(r.workload).empty()) return ir::make_operator(r.workload);
  if (r.workload_text.empty()) return std::nullopt;
  return ir::parse_listing(r.workload_text);
}

bool faster(const TuningRecord& a, const TuningRecord& b) {
  return std::tie(a.seconds, b.utc, a.id) < std::tie(b.seconds, a.utc, b.id);
}

}  // namespace rctune::database
