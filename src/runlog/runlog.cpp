#include "rctune/runlog/runlog.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>

#include "rctune/build_config.h"
#include "rctune/runlog/fields.h"
#include "rctune/runtime/host_cpu.h"

namespace rctune::runlog {

RunLogError::RunLogError(const std::string& path, const std::string& what)
    : std::runtime_error("trace file '" + path + "': " + what), path_(path) {}

double unix_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string iso8601(double unix_seconds) {
  if (!(unix_seconds > 0)) return "";
  auto whole = static_cast<std::time_t>(std::floor(unix_seconds));
  int ms = static_cast<int>((unix_seconds - static_cast<double>(whole)) * 1000);
  if (ms > 999) ms = 999;
  std::tm tm{};
  gmtime_r(&whole, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (ms < 0) ms = 0;
  std::string ms_text = std::to_string(ms);
  return std::string(buf) + "." + std::string(3 - ms_text.size(), '0') + ms_text + "Z";
}

RunInfo current_run_info() {
  RunInfo r;
  r.version = RCTUNE_VERSION;
  r.git_commit = RCTUNE_GIT_COMMIT;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) r.host = host;
  r.cpu_model = runtime::host_cpu_identity().model;
  r.start_time = unix_now();
  return r;
}

bool SampleRecord::operator==(const SampleRecord& o) const { return same_fields(*this, o); }
bool TreeNode::operator==(const TreeNode& o) const { return same_fields(*this, o); }
bool RankStats::operator==(const RankStats& o) const { return same_fields(*this, o); }
bool LlmCallRecord::operator==(const LlmCallRecord& o) const { return same_fields(*this, o); }
bool AllocationRecord::operator==(const AllocationRecord& o) const { return same_fields(*this, o); }

const TaskLog* RunLog::task(const std::string& name) const {
  for (const auto& t : tasks)
    if (t.info.name == name) return &t;
  return nullptr;
}

std::string sanitize_task_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '+' || c == '-';
    out += ok ? c : '_';
  }
  if (out.empty()) return "task";
  if (out == "." || out == "..") return std::string(out.size(), '_');
  return out;
}

std::vector<SampleRecord> measured_samples(const TaskLog& t) {
  std::vector<SampleRecord> out;
  for (const SampleRecord& s : t.samples)
    if (s.status != SampleStatus::Illegal) out.push_back(s);
  return out;
}

}  // namespace rctune::runlog
