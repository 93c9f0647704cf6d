// The tuning database: appending, reading, queries and compaction (rctune/database/database.h).
#include "rctune/database/database.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <unordered_set>

#include "database/hex.h"
#include "database/record_files.h"
#include "rctune/build_config.h"

namespace rctune::database {

namespace {

namespace fs = std::filesystem;

std::string records_dir_of(const std::string& dir) { return dir + "/" + files::kRecordsDir; }

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void create_database_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(records_dir_of(dir), ec);
  if (ec) throw DatabaseError("database '" + dir + "': cannot create it: " + ec.message());
}

// Adds the records of `file_records` whose ids are new to `out`.
void add_unique(std::vector<TuningRecord>& file_records, std::vector<TuningRecord>& out,
                std::unordered_set<std::string>& ids, ReadReport& report) {
  for (auto& r : file_records) {
    if (ids.insert(r.id).second)
      out.push_back(std::move(r));
    else
      ++report.duplicates;
  }
}

// Every record of the database in `dir`, each once. A file that vanishes while it is listed (a
// compaction absorbed it) makes the directory be listed again: the compacted file is in place
// before the files it absorbed are removed.
std::vector<TuningRecord> read_all(const std::string& dir, ReadReport& report) {
  const std::string records_dir = records_dir_of(dir);
  std::vector<TuningRecord> out;
  std::unordered_set<std::string> ids;
  std::set<std::string> done;
  for (int round = 0; round < 100; ++round) {
    bool vanished = false;
    for (const std::string& name : files::list_record_files(records_dir)) {
      if (done.count(name)) continue;
      std::vector<TuningRecord> records;
      if (files::read_record_file(records_dir + "/" + name, records, report) == files::FileRead::Vanished) {
        vanished = true;
        continue;
      }
      done.insert(name);
      add_unique(records, out, ids, report);
    }
    if (!vanished) return out;
  }
  throw DatabaseError("database '" + dir + "': its files keep vanishing while they are read");
}

// Per key, the `keep` fastest records with distinct schedules, in key order.
std::vector<TuningRecord> fastest_per_key(std::vector<TuningRecord> records, size_t keep) {
  std::sort(records.begin(), records.end(), [](const TuningRecord& a, const TuningRecord& b) {
    return a.key() != b.key() ? a.key() < b.key() : faster(a, b);
  });
  std::vector<TuningRecord> out;
  std::set<std::string> schedules;
  size_t kept = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    if (i == 0 || records[i].key() != records[i - 1].key()) schedules.clear(), kept = 0;
    if (kept < keep && schedules.insert(records[i].schedule).second) {
      out.push_back(records[i]);
      ++kept;
    }
  }
  return out;
}

// The newest first; equal times by id (a total order).
bool newer(const TuningRecord& a, const TuningRecord& b) {
  return std::tie(a.utc, a.id) > std::tie(b.utc, b.id);
}

// What a compaction keeps: per key, the `keep` fastest schedules (fastest_per_key) and the newest
// baseline of each kind and routine.
std::vector<TuningRecord> kept_by_compaction(std::vector<TuningRecord> records, size_t keep) {
  std::vector<TuningRecord> schedules, baselines;
  for (TuningRecord& r : records)
    (r.kind == RecordKind::Schedule ? schedules : baselines).push_back(std::move(r));
  std::vector<TuningRecord> out = fastest_per_key(std::move(schedules), keep);
  std::sort(baselines.begin(), baselines.end(), newer);
  std::set<std::tuple<Key, RecordKind, std::string>> seen;
  for (TuningRecord& r : baselines)
    if (seen.insert({r.key(), r.kind, r.routine}).second) out.push_back(std::move(r));
  return out;
}

}  // namespace

std::string default_database_dir() {
  if (const char* d = std::getenv("RCTUNE_DATABASE"); d && *d) return d;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/rctune/database";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/rctune/database";
  throw DatabaseError(
      "no database directory: set RCTUNE_DATABASE, XDG_DATA_HOME or HOME, or give --database DIR");
}

struct Database::Impl {
  std::string dir;
  std::vector<TuningRecord> records;    // schedules
  std::vector<TuningRecord> baselines;  // unscheduled kernels and library routines
  std::unordered_set<std::string> ids;
  ReadReport report;
  mutable std::mutex mu;  // append() from several threads
  int fd = -1;
  pid_t owner = 0;  // the process that opened fd (a forked child opens a file of its own)
  std::string file;

  // Closes this process's file and writes its marker; "" or what failed.
  std::string finish_file() {
    if (fd < 0) return "";
    if (owner != getpid()) {  // the parent's file, inherited through fork(): not ours to finish
      ::close(fd);
      fd = -1;
      return "";
    }
    std::string problem;
    if (fsync(fd) != 0) problem = "cannot sync '" + file + "': " + std::strerror(errno);
    ::close(fd);
    fd = -1;
    const std::string records_dir = records_dir_of(dir);
    const std::string stem = file.substr(0, file.size() - std::strlen(files::kSuffix));
    const std::string marker = records_dir + "/" + stem + files::kClosedSuffix;
    const int m = open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (m < 0 && problem.empty()) problem = "cannot create '" + marker + "': " + std::strerror(errno);
    if (m >= 0) ::close(m);
    files::sync_directory(records_dir);
    return problem;
  }
};

Database::Database(const std::string& dir) : impl_(std::make_unique<Impl>()) {
  impl_->dir = dir;
  create_database_dir(dir);
  reload();
}

Database::~Database() {
  // Errors cannot be reported from here; close() reports them to a caller that wants them.
  if (impl_) (void)impl_->finish_file();
}

Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;

const std::string& Database::dir() const { return impl_->dir; }

void Database::append(TuningRecord r) {
  if (r.id.empty()) r.id = random_hex();
  if (r.utc.empty()) r.utc = utc_now();
  if (r.version.empty()) r.version = RCTUNE_VERSION;
  if (r.host.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) r.host = host;
  }
  r.flags = normalize_flags(r.flags);
  if (std::string problem = record_problem(r); !problem.empty())
    throw std::invalid_argument("tuning record of '" + r.workload + "': " + problem);
  const std::string line = to_json_line(r) + "\n";
  if (line.size() > files::kMaxLineBytes)
    throw std::invalid_argument("tuning record of '" + r.workload + "': longer than " +
                                std::to_string(files::kMaxLineBytes) + " bytes");
  std::lock_guard<std::mutex> lock(impl_->mu);
  Impl& m = *impl_;
  if (m.fd >= 0 && m.owner != getpid()) (void)m.finish_file();
  if (m.fd < 0) {
    m.file = files::new_file_stem() + files::kSuffix;
    const std::string path = records_dir_of(m.dir) + "/" + m.file;
    m.fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0666);
    if (m.fd < 0)
      throw DatabaseError("database '" + m.dir + "': cannot create '" + path + "': " + std::strerror(errno));
    m.owner = getpid();
  }
  if (!files::write_all(m.fd, line))
    throw DatabaseError("database '" + m.dir + "': cannot write '" + m.file + "': " + std::strerror(errno));
  if (m.ids.insert(r.id).second)
    (r.kind == RecordKind::Schedule ? m.records : m.baselines).push_back(std::move(r));
}

void Database::flush() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->fd >= 0 && impl_->owner == getpid() && fsync(impl_->fd) != 0)
    throw DatabaseError("database '" + impl_->dir + "': cannot sync '" + impl_->file +
                        "': " + std::strerror(errno));
}

void Database::close() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (std::string problem = impl_->finish_file(); !problem.empty())
    throw DatabaseError("database '" + impl_->dir + "': " + problem);
}

std::string Database::writer_file() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->fd >= 0 ? records_dir_of(impl_->dir) + "/" + impl_->file : "";
}

void Database::reload() {
  ReadReport report;
  std::vector<TuningRecord> records = read_all(impl_->dir, report);
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->records.clear();
  impl_->baselines.clear();
  impl_->ids.clear();
  for (auto& r : records) {
    impl_->ids.insert(r.id);
    (r.kind == RecordKind::Schedule ? impl_->records : impl_->baselines).push_back(std::move(r));
  }
  impl_->report = std::move(report);
}

const ReadReport& Database::report() const { return impl_->report; }

const std::vector<TuningRecord>& Database::all() const { return impl_->records; }

const std::vector<TuningRecord>& Database::baselines() const { return impl_->baselines; }

std::optional<TuningRecord> Database::baseline(const Key& key, RecordKind kind) const {
  const TuningRecord* found = nullptr;
  for (const auto& r : impl_->baselines) {
    if (r.kind != kind || r.workload != key.workload || r.hardware.id != key.hardware) continue;
    if (kind != RecordKind::Library && r.flags != key.flags) continue;
    if (!found || newer(r, *found)) found = &r;
  }
  if (!found) return std::nullopt;
  return *found;
}

std::vector<TuningRecord> Database::best(const Key& key, size_t k) const {
  std::vector<TuningRecord> same;
  for (const auto& r : impl_->records)
    if (r.key() == key) same.push_back(r);
  return fastest_per_key(std::move(same), k);
}

std::vector<TuningRecord> Database::neighbours(const std::string& op, const std::string& hardware) const {
  std::map<std::string, TuningRecord> fastest;  // by workload key
  for (const auto& r : impl_->records) {
    if (op.empty() || operator_of(r.workload) != op || r.hardware.id != hardware) continue;
    auto it = fastest.find(r.workload);
    if (it == fastest.end() || faster(r, it->second)) fastest[r.workload] = r;
  }
  std::vector<TuningRecord> out;
  for (auto& [workload, r] : fastest) out.push_back(std::move(r));
  return out;
}

std::vector<TrainingRecord> Database::records_for_model_training(const std::string& hardware) const {
  std::vector<TrainingRecord> out;
  for (bool same : {true, false})
    for (const auto& r : impl_->records)
      if ((r.hardware.id == hardware) == same) out.push_back({r, same});
  return out;
}

CompactionResult prune(const std::string& dir, int keep) {
  if (keep < 1) throw std::invalid_argument("prune: keep must be at least 1, not " + std::to_string(keep));
  create_database_dir(dir);
  const std::string records_dir = records_dir_of(dir);
  CompactionResult result;
  std::vector<std::string> absorbed;
  std::vector<TuningRecord> records;
  std::unordered_set<std::string> ids;
  for (const std::string& name : files::list_record_files(records_dir)) {
    if (!files::is_finished(records_dir, name)) {
      ++result.files_left_open;
      continue;
    }
    std::vector<TuningRecord> file_records;
    const int64_t skipped = result.report.skipped_lines, truncated = result.report.truncated;
    const files::FileRead read =
        files::read_record_file(records_dir + "/" + name, file_records, result.report);
    // A file another compaction removed meanwhile: its records are in that compaction's file.
    if (read == files::FileRead::Vanished) continue;
    // A file not read whole, or with lines this version cannot read (a newer record version,
    // damage), is never removed; an unterminated last line is only the record a killed writer was
    // writing.
    if (read == files::FileRead::Unreadable ||
        result.report.skipped_lines - skipped > result.report.truncated - truncated) {
      ++result.files_with_bad_lines;
      continue;
    }
    absorbed.push_back(name);
    add_unique(file_records, records, ids, result.report);
  }
  result.records_before = static_cast<int64_t>(records.size());
  std::vector<TuningRecord> kept = kept_by_compaction(std::move(records), static_cast<size_t>(keep));
  result.records_after = static_cast<int64_t>(kept.size());
  // One file already holding exactly what would be kept: nothing to do.
  if (absorbed.size() <= 1 && result.records_after == result.records_before && result.report.truncated == 0)
    return result;
  result.compacted_file = files::write_compacted(records_dir, kept);
  for (const auto& name : absorbed) files::remove_finished(records_dir, name);
  files::sync_directory(records_dir);
  files::remove_leftovers(records_dir);
  result.files_absorbed = static_cast<int64_t>(absorbed.size());
  return result;
}

CompactionResult merge(const std::string& dir, const std::string& other) {
  std::error_code ec;
  if (!fs::is_directory(records_dir_of(other), ec))
    throw DatabaseError("'" + other + "' is not an rctune database (it has no " + files::kRecordsDir +
                        "/ directory)");
  create_database_dir(dir);
  CompactionResult result;
  ReadReport ours;
  std::unordered_set<std::string> ids;
  for (const auto& r : read_all(dir, ours)) ids.insert(r.id);
  std::vector<TuningRecord> imported;
  for (auto& r : read_all(other, result.report)) {
    ++result.records_before;
    if (ids.insert(r.id).second) imported.push_back(std::move(r));
  }
  result.records_after = static_cast<int64_t>(imported.size());
  result.compacted_file = files::write_compacted(records_dir_of(dir), imported);
  return result;
}

}  // namespace rctune::database
