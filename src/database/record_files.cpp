// The files of a tuning database's records/ directory (database/record_files.h).
#include "database/record_files.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "database/hex.h"

namespace rctune::database::files {

namespace {

namespace fs = std::filesystem;

std::string host_part() {
  char host[256] = {};
  std::string h = gethostname(host, sizeof host - 1) == 0 ? host : "";
  for (char& c : h)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  if (h.size() > 64) h.resize(64);
  return h.empty() ? "host" : h;
}

// 8 hex digits of the boot id and the pid namespace: processes with the same domain see the same
// pids.
std::string domain_part() {
  std::string boot;
  std::ifstream("/proc/sys/kernel/random/boot_id") >> boot;
  char ns[256] = {};
  const ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
  return stable_hex(boot + "|" + std::string(ns, n > 0 ? static_cast<size_t>(n) : 0)).substr(0, 8);
}

struct WriterName {
  std::string host, domain;
  pid_t pid = 0;
};

bool hex_digits(const std::string& s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return !s.empty();
}

// "<host>-<domain>-<pid>-<random>", read from the right (host names hold '-').
bool parse_stem(const std::string& stem, WriterName& w) {
  const size_t r = stem.rfind('-');
  if (r == std::string::npos || r == 0 || !hex_digits(stem.substr(r + 1))) return false;
  const size_t p = stem.rfind('-', r - 1);
  if (p == std::string::npos || p == 0) return false;
  const std::string pid = stem.substr(p + 1, r - p - 1);
  if (pid.empty() || pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos) return false;
  const size_t d = stem.rfind('-', p - 1);
  if (d == std::string::npos || d == 0) return false;
  w.domain = stem.substr(d + 1, p - d - 1);
  w.host = stem.substr(0, d);
  w.pid = static_cast<pid_t>(std::stol(pid));
  return hex_digits(w.domain) && w.pid > 0;
}

// The writer named by `stem` ran on this machine, in this pid namespace, and has exited.
bool writer_is_gone(const std::string& stem) {
  static const std::string host = host_part(), domain = domain_part();
  WriterName w;
  if (!parse_stem(stem, w) || w.host != host || w.domain != domain) return false;
  return kill(w.pid, 0) != 0 && errno == ESRCH;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string stem_of(const std::string& name, const std::string& suffix) {
  return name.substr(0, name.size() - suffix.size());
}

// Checks one line; a valid record goes to `out`.
void take_line(const std::string& path, int64_t number, const std::string& line,
               std::vector<TuningRecord>& out, ReadReport& report) {
  ++report.lines;
  try {
    out.push_back(from_json_line(line));
  } catch (const std::invalid_argument& e) {
    ++report.skipped_lines;
    add_problem(report, path + ":" + std::to_string(number) + ": " + e.what());
  }
}

}  // namespace

void add_problem(ReadReport& report, const std::string& problem) {
  if (report.problems.size() < kMaxListedProblems) report.problems.push_back(problem);
}

std::string new_file_stem() {
  static const std::string host = host_part(), domain = domain_part();
  return host + "-" + domain + "-" + std::to_string(getpid()) + "-" + random_hex();
}

std::vector<std::string> list_record_files(const std::string& records_dir) {
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(records_dir, ec);
  if (ec) throw DatabaseError("database directory '" + records_dir + "': cannot read: " + ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name[0] != '.' && ends_with(name, kSuffix)) names.push_back(name);
  }
  if (ec) throw DatabaseError("database directory '" + records_dir + "': cannot read: " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

bool is_finished(const std::string& records_dir, const std::string& name) {
  if (name.rfind(kCompactPrefix, 0) == 0) return true;
  const std::string stem = stem_of(name, kSuffix);
  std::error_code ec;
  if (fs::exists(records_dir + "/" + stem + kClosedSuffix, ec)) return true;
  return writer_is_gone(stem);
}

FileRead read_record_file(const std::string& path, std::vector<TuningRecord>& out, ReadReport& report) {
  const int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT || errno == ESTALE) return FileRead::Vanished;
    add_problem(report, path + ": not read: " + (errno == ELOOP ? "a symbolic link" : std::strerror(errno)));
    return FileRead::Unreadable;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    add_problem(report, path + ": not read: not a regular file");
    close(fd);
    return FileRead::Unreadable;
  }
  std::vector<TuningRecord> records;
  ReadReport mine;
  std::string line;
  bool oversized = false;
  int64_t number = 0;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      if (err == ESTALE || err == ENOENT) return FileRead::Vanished;
      add_problem(report, path + ": read error: " + std::strerror(err));
      return FileRead::Unreadable;
    }
    if (n == 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] != '\n') {
        if (line.size() < kMaxLineBytes)
          line += buf[i];
        else
          oversized = true;
        continue;
      }
      ++number;
      if (oversized) {
        ++mine.lines;
        ++mine.skipped_lines;
        add_problem(mine, path + ":" + std::to_string(number) + ": longer than " +
                              std::to_string(kMaxLineBytes) + " bytes");
      } else {
        take_line(path, number, line, records, mine);
      }
      line.clear();
      oversized = false;
    }
  }
  close(fd);
  if (!line.empty() || oversized) {
    ++mine.lines;
    ++mine.skipped_lines;
    ++mine.truncated;
    add_problem(mine, path + ":" + std::to_string(number + 1) +
                          ": unterminated last line, skipped (its writer was killed, or is writing it now)");
  }
  ++report.files;
  report.lines += mine.lines;
  report.skipped_lines += mine.skipped_lines;
  report.truncated += mine.truncated;
  for (auto& p : mine.problems) add_problem(report, p);
  for (auto& r : records) out.push_back(std::move(r));
  return FileRead::Whole;
}

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void sync_directory(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  fsync(fd);  // best effort: some file systems refuse fsync of a directory
  close(fd);
}

std::string write_compacted(const std::string& records_dir, const std::vector<TuningRecord>& records) {
  if (records.empty()) return "";
  const std::string stem = new_file_stem();
  const std::string tmp = records_dir + "/.tmp-" + stem + kSuffix;
  const std::string name = kCompactPrefix + stem + kSuffix;
  std::string text;
  for (const auto& r : records) text += to_json_line(r) + "\n";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) throw DatabaseError("cannot create '" + tmp + "': " + std::strerror(errno));
  const bool ok = write_all(fd, text) && fsync(fd) == 0;
  const int err = errno;
  if (close(fd) != 0 || !ok || rename(tmp.c_str(), (records_dir + "/" + name).c_str()) != 0) {
    const int e = ok ? errno : err;
    unlink(tmp.c_str());
    throw DatabaseError("cannot write '" + tmp + "': " + std::strerror(e));
  }
  sync_directory(records_dir);
  return name;
}

void remove_finished(const std::string& records_dir, const std::string& name) {
  unlink((records_dir + "/" + name).c_str());
  unlink((records_dir + "/" + stem_of(name, kSuffix) + kClosedSuffix).c_str());
}

void remove_leftovers(const std::string& records_dir) {
  std::error_code ec;
  for (fs::directory_iterator it(records_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // A marker whose file a compaction removed (it crashed between the two unlinks).
    if (ends_with(name, kClosedSuffix) &&
        !fs::exists(records_dir + "/" + stem_of(name, kClosedSuffix) + kSuffix, ec))
      unlink((records_dir + "/" + name).c_str());
    // A compaction's temporary file, of a compaction that died.
    const std::string tmp = ".tmp-";
    if (name.rfind(tmp, 0) == 0 && ends_with(name, kSuffix) &&
        writer_is_gone(stem_of(name, kSuffix).substr(tmp.size())))
      unlink((records_dir + "/" + name).c_str());
  }
}

}  // namespace rctune::database::files
