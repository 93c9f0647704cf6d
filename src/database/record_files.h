// The files of a tuning database's records/ directory (docs/database.md, "Protocol"): their names,
// reading one with its bad lines counted, whether one is finished, and writing a compacted one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rctune/database/database.h"

namespace rctune::database::files {

inline constexpr const char* kRecordsDir = "records";
inline constexpr const char* kSuffix = ".jsonl";
inline constexpr const char* kClosedSuffix = ".closed";
inline constexpr const char* kCompactPrefix = "compact-";
inline constexpr size_t kMaxLineBytes = 1 << 20;

// This process's "<host>-<domain>-<pid>-<random>" (host: letters, digits, '.', '_' and '-';
// domain: 8 hex digits of the boot id and pid namespace, so that a pid is only compared with the
// processes of the same machine and namespace). A new random part for each call.
std::string new_file_stem();

// The names of the record files in `records_dir` (*.jsonl, not hidden), sorted. Throws
// DatabaseError when the directory cannot be read.
std::vector<std::string> list_record_files(const std::string& records_dir);

// Whether the file `name` in `records_dir` is finished: a compacted file, a writer's with its
// .closed marker, or a writer's of this machine and pid namespace whose process is gone.
bool is_finished(const std::string& records_dir, const std::string& name);

enum class FileRead {
  Whole,       // every line was read (bad ones skipped and counted)
  Vanished,    // the file was removed (by a compaction) before it could be read whole
  Unreadable,  // not opened or not read to its end: a link, not a regular file, no permission, an I/O
               // error (in report.problems)
};

// Reads the valid records of one file into `out` and counts what it skips in `report`.
FileRead read_record_file(const std::string& path, std::vector<TuningRecord>& out, ReadReport& report);

// Writes `records` as a new compacted file of `records_dir` (a temporary name, fsync, rename) and
// returns its name; "" when `records` is empty. Throws DatabaseError when it cannot be written.
std::string write_compacted(const std::string& records_dir, const std::vector<TuningRecord>& records);

// Removes a finished file and its .closed marker; a file already gone is no error.
void remove_finished(const std::string& records_dir, const std::string& name);

// Removes what crashed compactions leave: .closed markers without their file, temporary files of
// compactions of this machine whose process is gone.
void remove_leftovers(const std::string& records_dir);

// Writes all of `data` to `fd` (one write() unless the kernel takes less); false with errno set
// on failure.
bool write_all(int fd, const std::string& data);

// fsyncs the directory, so that a rename or a new file in it is durable.
void sync_directory(const std::string& dir);

// Adds `problem` ("FILE:LINE: reason") to the report's list, which keeps the first
// kMaxListedProblems.
void add_problem(ReadReport& report, const std::string& problem);

}  // namespace rctune::database::files
