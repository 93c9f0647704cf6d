// Internal to the trace module: RAII handles, error capture and the on-disk types of the trace.
#pragma once

#include <functional>

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rctune/runlog/runlog.h"

namespace rctune::runlog::detail {

// Owns one HDF5 identifier of any kind (file, group, dataset, dataspace, type, property list,
// attribute) and releases it on destruction.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }
  void reset() {
    if (id_ >= 0) H5Idec_ref(id_);
    id_ = H5I_INVALID_HID;
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Forgets the identifier without releasing it (left open for the rest of the process).
  hid_t release() { return std::exchange(id_, H5I_INVALID_HID); }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// Turns off HDF5's printing of its error stack for the lifetime of the object (errors are turned
// into exceptions instead); clears the stack on exit.
class Quiet {
 public:
  Quiet();
  ~Quiet();
  Quiet(const Quiet&) = delete;
  Quiet& operator=(const Quiet&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// The cause of the last HDF5 failure, for a person: the operating system's message when the
// library recorded one ("No space left on device"), otherwise the innermost HDF5 description.
std::string hdf5_cause();

// Whether HDF5's current error is its file lock (another process holds the file); keeps the
// error for hdf5_cause().
bool hdf5_error_is_lock();

// Throws RunLogError(path, what + ": " + hdf5_cause()).
[[noreturn]] void fail(const std::string& path, const std::string& what);

// Checks an HDF5 return value (negative: failure) / identifier and throws through fail().
inline hid_t check(hid_t id, const std::string& path, const std::string& what) {
  if (id < 0) fail(path, what);
  return id;
}

// Property lists used for every trace file: superblock v2 (no SWMR status flags, so a file left
// by a killed writer opens without h5clear), v1.8 object formats.
Handle file_access_plist();

// Marks the file's descriptor close-on-exec: a program the run starts (a compile or measurement
// worker) would otherwise inherit it, and with it HDF5's lock on the file, and keep the writer
// from reopening the file (or a resumed run from opening it) while that program lives.
void close_on_exec(hid_t file);

// Opens (or creates) a trace file with `open` and marks its descriptor close-on-exec with no fork
// of this process in between (a pthread_atfork guard): in a run where another thread forks (rank
// 0's own search compiles kernels while the hub writes), a fork in that window would pass the
// descriptor, and HDF5's lock on the file, to a compiler that lives for seconds.
Handle open_file_no_inherit(const std::function<hid_t()>& open);

// Sets the file's end-of-allocation mark to at least its size (what `h5clear --increment=0`
// does): a writer killed between growing the file and rewriting the superblock leaves it short.
void repair_eoa(hid_t file);

// The file's end-of-allocation mark is below its size: a hint for an error message ("" if not).
std::string eoa_hint(hid_t file, const std::string& path);

// ---- attributes ----
bool has_attr(hid_t obj, const char* name);
void write_attr(hid_t obj, const char* name, const std::string& value);
// A fixed-length string: for attributes that are replaced, since replacing a variable-length
// one frees its old text in the global heap before the new attribute is on disk.
void write_fixed_attr(hid_t obj, const char* name, const std::string& value);
void write_attr(hid_t obj, const char* name, double value);
void write_attr(hid_t obj, const char* name, int64_t value);
void write_attr(hid_t obj, const char* name, uint64_t value);
void write_attr(hid_t obj, const char* name, const std::vector<double>& value);
// Readers return false (leaving `out` alone) when the attribute is absent; they throw
// std::runtime_error when it exists with an unreadable type.
bool read_attr(hid_t obj, const char* name, std::string& out);
bool read_attr(hid_t obj, const char* name, double& out);
bool read_attr(hid_t obj, const char* name, int64_t& out);
bool read_attr(hid_t obj, const char* name, uint64_t& out);
bool read_attr(hid_t obj, const char* name, std::vector<double>& out);

// ---- tables ----
// In-memory row of the samples table (strings borrowed when writing, owned by HDF5 when read).
struct SampleRow {
  int64_t index;
  double wall_time;
  int32_t rank;
  char* strategy;
  char* proposer;
  int64_t node;
  int64_t parent_node;
  char* trace;
  char* rationale;
  uint64_t structural_hash;
  int8_t status;
  char* error;
  int8_t cached;
  double median_s, min_s, max_s, iqr_s, gflops, predicted, compile_s;
};

struct TreeRow {
  int64_t id;
  int64_t parent;
  char* action;
  int64_t visits;
  double value;
  double best_gflops;
  int64_t sample;
  uint64_t structural_hash;  // a column added later: absent in older files (read as 0)
};

// The numeric columns of the tree, for updating visits/values in place.
struct TreeStatsRow {
  int64_t id;
  int64_t parent;
  int64_t visits;
  double value;
  double best_gflops;
  int64_t sample;
};

// A row of a task's rank_trees table: the rank whose tree it belongs to, then a tree row.
struct RankTreeRow {
  int32_t rank;
  TreeRow node;
};

struct BestRow {
  int64_t sample;
  double wall_time;
  char* trace;
  char* program;
  double gflops, median_s, speedup;
};

struct RankRow {
  int32_t rank;
  char* host;
  int32_t group, node_rank, pin_core;
  int64_t samples;
  double wall_s, search_s, measure_s, comm_s, merge_s;
};

struct LlmCallRow {
  int64_t index;
  double wall_time;
  int32_t rank;
  int64_t node;
  char* model;
  int64_t prompt_tokens, completion_tokens;
  double latency_s, cost_usd;
  int8_t ok, from_cache, fallback;
  int32_t proposals, legal;
  char* error;
};

struct Types {
  Handle str;          // variable-length UTF-8 string
  Handle status_mem;   // enum sample_status over int8
  Handle status_file;  // same over little-endian int8
  Handle bool_mem;     // enum {FALSE, TRUE} over int8, as h5py writes numpy bool
  Handle bool_file;
  Handle sample_mem, sample_file;
  Handle tree_mem, tree_file;
  Handle tree_mem_without_hash;  // TreeRow without structural_hash: reads a tree of an older file
  Handle tree_stats_mem;
  Handle best_mem, best_file;
  Handle llm_call_mem, llm_call_file;
  Handle rank_mem, rank_file;
  Handle rank_tree_mem, rank_tree_file;  // a leading rank, then the tree's columns
  Types();
};
const Types& types();

// Borrowed C string for writing a std::string into a vlen field.
inline char* cstr(const std::string& s) { return const_cast<char*>(s.c_str()); }
inline std::string take(const char* s) { return s ? std::string(s) : std::string(); }

SampleRow to_row(const SampleRecord& s);
SampleRecord from_row(const SampleRow& r);
TreeRow to_row(const TreeNode& n);
TreeNode from_row(const TreeRow& r);
BestRow to_row(const BestSchedule& b);
BestSchedule from_row(const BestRow& r);
LlmCallRow to_row(const LlmCallRecord& c);
LlmCallRecord from_row(const LlmCallRow& r);
RankRow to_row(const RankStats& r);
RankStats from_row(const RankRow& r);
RankTreeRow to_row(int32_t rank, const TreeNode& n);

// Whether the compound rows of a dataset have a member of that name (a column added in a later
// version of the format may be missing from an older file).
bool has_member(hid_t dset, const char* name);

// Names of objects in the file.
inline constexpr const char* kTasksGroup = "tasks";
inline constexpr const char* kSamples = "samples";
inline constexpr const char* kTree = "tree";
inline constexpr const char* kBest = "best";
inline constexpr hsize_t kSampleChunk = 64;
inline constexpr const char* kTreeNew = "tree.new";
inline constexpr hsize_t kTreeChunk = 256;
inline constexpr hsize_t kBestChunk = 16;
inline constexpr const char* kLlmCalls = "llm_calls";
inline constexpr hsize_t kLlmCallChunk = 64;
inline constexpr const char* kRanks = "ranks";  // at the root
inline constexpr const char* kRanksNew = "ranks.new";
inline constexpr hsize_t kRankChunk = 64;
inline constexpr const char* kTreeHash = "structural_hash";  // column of the tree table
inline constexpr const char* kRankTrees = "rank_trees";      // in a task group
inline constexpr const char* kRankTreesNew = "rank_trees.new";
inline constexpr hsize_t kRankTreeChunk = 256;

// Opens an existing file for reading or writing; throws RunLogError when it is missing, not an
// HDF5 file or cannot be opened (the file's format is checked by read_file).
Handle open_file(const std::string& path, bool write);

// The number of rows of a task's appended tables in the file, which may exceed the records kept
// when a torn last row was dropped.
struct TableRows {
  std::size_t samples = 0;
  std::size_t llm_calls = 0;
};

// Reads an open trace file (used by read_run_log and open_for_resume). `rows` receives, per task,
// the number of rows of its samples and llm_calls datasets.
RunLog read_file(hid_t file, const std::string& path, std::vector<TableRows>* rows);

}  // namespace rctune::runlog::detail
