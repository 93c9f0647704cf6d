// rctune db list|show|export|merge|prune: the tuning database (docs/database.md).
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>

#include "rctune/apps/commands.h"
#include "rctune/apps/terminal_text.h"
#include "rctune/config/workload_file.h"
#include "rctune/database/database.h"
#include "rctune/ir/text.h"

namespace rctune::apps {

namespace {

using database::Database;
using database::TuningRecord;

std::string dir_of(const DbArgs& a) {
  return a.database.empty() ? database::default_database_dir() : a.database;
}

std::string shown(const std::string& s) { return terminal_safe(s); }

// The totals line and every problem the read found: skipped lines are never silent.
void print_read_report(const database::ReadReport& r, std::FILE* f) {
  std::fprintf(f, "%lld files, %lld lines; %lld skipped (%lld unterminated last lines), %lld duplicates\n",
               static_cast<long long>(r.files), static_cast<long long>(r.lines),
               static_cast<long long>(r.skipped_lines), static_cast<long long>(r.truncated),
               static_cast<long long>(r.duplicates));
  for (const auto& p : r.problems) std::fprintf(f, "  skipped: %s\n", shown(p).c_str());
  if (r.problems.size() >= database::kMaxListedProblems)
    std::fprintf(f, "  (only the first %zu problems are listed)\n", database::kMaxListedProblems);
}

// "12.3x": how much faster the best schedule is than the key's baseline of `kind`; "-" without one.
std::string speedup_over(const Database& db, const database::Key& key, database::RecordKind kind,
                         const TuningRecord* best) {
  const std::optional<TuningRecord> b = db.baseline(key, kind);
  if (!b || !best) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.2fx", b->seconds / best->seconds);
  return text;
}

int list(const Database& db) {
  std::map<database::Key, std::vector<const TuningRecord*>> by_key;
  for (const auto& r : db.all()) by_key[r.key()].push_back(&r);
  for (const auto& r : db.baselines()) by_key[r.key()];  // a key with baselines only is listed too
  std::printf("database %s\n", shown(db.dir()).c_str());
  std::printf("%-44s %-16s %-28s %10s %7s %13s %9s  %s\n", "workload", "hardware", "flags", "GFLOP/s",
              "records", "x unscheduled", "x library", "last update");
  for (const auto& [key, records] : by_key) {
    const TuningRecord* best = records.empty() ? nullptr : records.front();
    std::string last;
    for (const TuningRecord* r : records) {
      if (database::faster(*r, *best)) best = r;
      last = std::max(last, r->utc);
    }
    std::printf("%-44s %-16s %-28s %10s %7zu %13s %9s  %s\n", shown(key.workload).c_str(),
                key.hardware.c_str(), shown(key.flags).c_str(),
                best ? ir::fmt("%.2f", best->gflops).c_str() : "-", records.size(),
                speedup_over(db, key, database::RecordKind::Unscheduled, best).c_str(),
                speedup_over(db, key, database::RecordKind::Library, best).c_str(),
                last.empty() ? "-" : last.c_str());
  }
  std::printf("%zu keys, %zu records, %zu baselines; ", by_key.size(), db.all().size(),
              db.baselines().size());
  print_read_report(db.report(), stdout);
  return 0;
}

// The workload key a user names: a key as `db list` prints it (workload:HASH), or an operator spec
// or workload file (config::load_workload, whose errors name the file and the cause).
std::string workload_key_of(const std::string& text) {
  if (text.rfind("workload:", 0) == 0) return text;
  return database::workload_key(config::load_workload(text));
}

int show(const Database& db, const DbArgs& a) {
  const std::string workload = workload_key_of(a.workload);
  std::map<database::Key, std::vector<TuningRecord>> by_key;
  for (const auto* list : {&db.all(), &db.baselines()})
    for (const auto& r : *list)
      if (r.workload == workload && r.hardware.id.rfind(a.hardware, 0) == 0) by_key[r.key()].push_back(r);
  if (by_key.empty())
    throw std::invalid_argument("db show: no records of '" + workload + "'" +
                                (a.hardware.empty() ? "" : " on hardware " + a.hardware) +
                                " in the database '" + db.dir() + "'");
  for (auto& [key, records] : by_key) {
    std::sort(records.begin(), records.end(), database::faster);
    const auto& hw = records.front().hardware;
    std::printf("%s\n  hardware %s: %s %s, %d cores%s%s, execution space %s\n  flags: %s\n",
                shown(key.workload).c_str(), key.hardware.c_str(), shown(hw.vendor).c_str(),
                shown(hw.model).c_str(), hw.cores, hw.gpu.empty() ? "" : ", GPU ", shown(hw.gpu).c_str(),
                hw.execution_space.empty() ? "unknown" : shown(hw.execution_space).c_str(),
                shown(key.flags).c_str());
    int n = 0;
    for (const auto& r : records) {
      if (r.kind != database::RecordKind::Schedule) {
        std::printf("  %s%s: %.2f GFLOP/s  %.6g s%s  %s  %s on %s (rctune %s)  id %s\n",
                    r.kind == database::RecordKind::Library ? "library " : "unscheduled kernel",
                    shown(r.routine).c_str(), r.gflops, r.seconds,
                    r.estimate.empty() ? "" : (" (estimated: " + shown(r.estimate) + ")").c_str(),
                    r.utc.c_str(), shown(r.run).c_str(), shown(r.host).c_str(), shown(r.version).c_str(),
                    r.id.c_str());
        continue;
      }
      std::printf(
          "  #%d  %.2f GFLOP/s  %.6g s (spread %.3g s)  %lld samples  %s  %s on %s (rctune %s)  id %s\n", ++n,
          r.gflops, r.seconds, r.spread, static_cast<long long>(r.samples), r.utc.c_str(),
          shown(r.run).c_str(), shown(r.host).c_str(), shown(r.version).c_str(), r.id.c_str());
      std::string line;
      for (char c : r.schedule + "\n") {
        if (c != '\n') {
          line += c;
        } else if (!line.empty()) {
          std::printf("      %s\n", shown(line).c_str());
          line.clear();
        }
      }
    }
  }
  return 0;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string csv_row(const TuningRecord& r) {
  std::string features;
  for (const auto& f : r.hardware.features) features += (features.empty() ? "" : " ") + f;
  char numbers[128];
  std::snprintf(numbers, sizeof numbers, "%.17g,%.17g,%.17g,%lld", r.seconds, r.spread, r.gflops,
                static_cast<long long>(r.samples));
  std::string row;
  for (const std::string& f : {r.id, r.workload, database::operator_of(r.workload), r.hardware.id,
                               r.hardware.vendor, r.hardware.model, std::to_string(r.hardware.cores),
                               features, r.hardware.gpu, r.hardware.execution_space, r.flags})
    row += csv_field(f) + ",";
  row += numbers;
  for (const std::string& f : {r.run, r.version, r.host, r.utc, r.schedule, r.workload_text,
                               std::string(database::record_kind_name(r.kind)), r.routine, r.estimate})
    row += "," + csv_field(f);
  return row + "\n";
}

int export_records(const Database& db, const DbArgs& a) {
  std::string format = a.format;
  if (format.empty()) format = std::filesystem::path(a.out).extension() == ".csv" ? "csv" : "jsonl";
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(a.out, ec)))
    throw std::invalid_argument("db export: '" + a.out + "' exists; remove it or choose another --out");
  std::string text;
  if (format == "csv")
    text =
        "id,workload,operator,hardware,vendor,model,cores,features,gpu,execution_space,flags,seconds,spread,"
        "gflops,samples,"
        "run,version,host,utc,schedule,workload_text,kind,routine,estimate\n";
  for (const auto* list : {&db.all(), &db.baselines()})
    for (const auto& r : *list) text += format == "csv" ? csv_row(r) : database::to_json_line(r) + "\n";
  std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("db export: cannot write '" + a.out + "': " + std::strerror(errno));
  std::printf("wrote %zu records to %s (%s)\n", db.all().size() + db.baselines().size(), shown(a.out).c_str(),
              format == "csv" ? "CSV, one row per record" : "JSON lines, one record per line");
  print_read_report(db.report(), stdout);
  return 0;
}

}  // namespace

int run_db(const DbArgs& a) {
  const std::string dir = dir_of(a);
  if (a.command == "merge") {
    const database::CompactionResult m = database::merge(dir, a.other);
    std::printf("imported %lld of the %lld records of %s into %s (%lld already there)%s%s\n",
                static_cast<long long>(m.records_after), static_cast<long long>(m.records_before),
                shown(a.other).c_str(), shown(dir).c_str(),
                static_cast<long long>(m.records_before - m.records_after),
                m.compacted_file.empty() ? "" : ": ", shown(m.compacted_file).c_str());
    print_read_report(m.report, stdout);
    return 0;
  }
  if (a.command == "prune") {
    const database::CompactionResult p = database::prune(dir, static_cast<int>(a.keep));
    std::printf("kept %lld of %lld records (the %lld fastest per key) from %lld finished files%s%s\n",
                static_cast<long long>(p.records_after), static_cast<long long>(p.records_before),
                static_cast<long long>(a.keep), static_cast<long long>(p.files_absorbed),
                p.compacted_file.empty() ? "" : " into ", shown(p.compacted_file).c_str());
    if (p.files_left_open)
      std::printf("%lld files of running writers (or of writers on other hosts) left as they are\n",
                  static_cast<long long>(p.files_left_open));
    if (p.files_with_bad_lines)
      std::printf("%lld files not readable whole, or with lines this version cannot read, left as they are\n",
                  static_cast<long long>(p.files_with_bad_lines));
    print_read_report(p.report, stdout);
    return 0;
  }
  const Database db(dir);
  if (a.command == "show") return show(db, a);
  if (a.command == "export") return export_records(db, a);
  return list(db);
}

}  // namespace rctune::apps
