// The tuning database: the best records of every workload ever tuned (rctune/database/record.h),
// keyed by workload, hardware fingerprint and compiler flags, shared by every run of a user or a
// group, on a local disk or on NFS/Lustre. docs/database.md describes the format and protocol.
//
//  - A directory. Each writing process appends to a file of its own,
//    records/<host>-<domain>-<pid>-<random>.jsonl, one JSON record per line, each line written with
//    one write(); flush() and close() fsync it; close() then creates <same name>.closed. No locks:
//    no two processes ever write one file, so many jobs (Slurm array tasks, MPI ranks, several
//    mpirun jobs) write one database at once without corruption.
//  - Readers read every records/*.jsonl. A line that is not a valid record is skipped and counted
//    (ReadReport): an unterminated last line is what a killed writer leaves (it loses at most the
//    record it was writing); any other bad line is reported with its file and line.
//  - Compaction (prune(), merge()) writes its result under a temporary name and renames it to
//    records/compact-*.jsonl, then removes the files it absorbed. It absorbs only finished files:
//    compact-* files, files with a .closed marker, and files of a writer on this host (same boot
//    and pid namespace) whose process is gone. A live writer's file is never removed, and every
//    record has an id, so a reader that sees a record twice (during a compaction) counts it once.
//  - A record is data: every field is validated and bounded on reading; schedules are trace text
//    that the tuner parses and replays with the schedule language's own checks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "rctune/database/record.h"

namespace rctune::database {

// A database that cannot be created, written or read (never a bad record: those are skipped and
// reported). what() names the path and the cause.
class DatabaseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The default directory: $RCTUNE_DATABASE, else $XDG_DATA_HOME/rctune/database, else
// $HOME/.local/share/rctune/database.
std::string default_database_dir();

// How many problems a ReadReport lists; the counts go on.
inline constexpr size_t kMaxListedProblems = 100;

// What a read found besides the records.
struct ReadReport {
  int64_t files = 0;                  // record files read
  int64_t lines = 0;                  // lines read (valid or not)
  int64_t skipped_lines = 0;          // lines that were not valid records
  int64_t truncated = 0;              // of those: unterminated last lines (a killed or still writing writer)
  int64_t duplicates = 0;             // records seen more than once (same id)
  std::vector<std::string> problems;  // "FILE:LINE: reason" per skipped line, "FILE: reason" per file not
                                      // read (the first kMaxListedProblems)
};

// A record for training a cost model, and whether it was measured on the hardware asked for:
// records of other hardware may seed a model but are never used as measurements.
struct TrainingRecord {
  TuningRecord record;
  bool same_hardware = false;
};

// append(), flush() and close() may be called from several threads at once; the queries and
// reload() must not run while another thread appends.
class Database {
 public:
  // Opens the database in `dir`, creating the directory when missing, and reads every record.
  // Throws DatabaseError when the directory cannot be created or read.
  explicit Database(const std::string& dir);
  ~Database();  // close()
  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;

  const std::string& dir() const;

  // Appends `r` to this process's record file (created at the first append), with id, utc,
  // version and host filled in where empty; the record is visible to queries at once. Throws
  // std::invalid_argument for a record that cannot be stored (record_problem), DatabaseError when
  // the file cannot be written.
  void append(TuningRecord r);
  // fsyncs this process's record file.
  void flush();
  // flush(), closes the file and marks it finished (its .closed marker). A later append starts a
  // new file.
  void close();
  // The file append() writes ("" before the first append).
  std::string writer_file() const;

  // Reads every record file again (other processes' records written since).
  void reload();
  const ReadReport& report() const;

  // The k fastest records of exactly this key, one per schedule (its fastest record).
  std::vector<TuningRecord> best(const Key& key, size_t k) const;
  // For transfer across shapes: the fastest record of each workload of operator `op` measured on
  // `hardware` (any flags), by workload key.
  std::vector<TuningRecord> neighbours(const std::string& op, const std::string& hardware) const;
  // Every record, those of `hardware` first (same_hardware), then the others (for seeding only).
  std::vector<TrainingRecord> records_for_model_training(const std::string& hardware) const;
  // Every schedule record, each once, in the order read (baselines are not among them).
  const std::vector<TuningRecord>& all() const;
  // Every baseline record (kinds Unscheduled and Library), each once, in the order read.
  const std::vector<TuningRecord>& baselines() const;
  // The newest baseline of `kind` for the key's workload on its hardware: for the unscheduled
  // kernel with the key's flags too, for a library routine with any flags (its time does not depend
  // on them). std::nullopt when there is none.
  std::optional<TuningRecord> baseline(const Key& key, RecordKind kind) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What a compaction did.
struct CompactionResult {
  int64_t files_absorbed = 0;        // finished files replaced by the compacted one
  int64_t files_left_open = 0;       // files of writers still running or of unknown state (not absorbed)
  int64_t files_with_bad_lines = 0;  // finished files kept as they are: not readable, or with lines
                                     // this version cannot read
  int64_t records_before = 0;        // records in the absorbed files
  int64_t records_after = 0;         // records in the compacted file
  std::string compacted_file;        // "" when nothing was written
  ReadReport report;                 // what reading the absorbed files skipped
};

// Keeps the `keep` fastest records per key (one per schedule) and the newest baseline of each kind
// per key, of the finished files, and compacts them into one file. Files still being written, and files with
// lines this version cannot read (other than a killed writer's unterminated last line), are left as they are.
// keep >= 1.
CompactionResult prune(const std::string& dir, int keep);

// Imports every record of the database in `other` that `dir` lacks (by id) as one new compacted
// file of `dir`; `other` is only read. records_after is the number imported.
CompactionResult merge(const std::string& dir, const std::string& other);

}  // namespace rctune::database
