// Internal to the trace module: RAII handles, error capture and the on-disk types of the trace.
#pragma once

#include <functional>

#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "rctune/runlog/fields.h"
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
// A row of a task's rank_trees table: the rank whose tree it belongs to, then a tree node.
struct RankTreeNode {
  int32_t rank = 0;
  TreeNode node;
};

}  // namespace rctune::runlog::detail

namespace rctune::runlog {
template <>
struct FieldList<detail::RankTreeNode> {
  using R = detail::RankTreeNode;
  static constexpr auto value = std::tuple{field("rank", &R::rank), inline_fields(&R::node)};
};
}  // namespace rctune::runlog

namespace rctune::runlog::detail {

// The HDF5 types shared by the tables.
struct Types {
  Handle str;          // variable-length UTF-8 string
  Handle status_mem;   // enum sample_status over int8
  Handle status_file;  // same over little-endian int8
  Handle bool_mem;     // enum {FALSE, TRUE} over int8, as h5py writes numpy bool
  Handle bool_file;
  Types();
};
const Types& types();

// The table of a record type R, derived from FieldList<R> (rctune/runlog/fields.h): a compound
// type for the file (packed, little-endian) and one for rows in memory (each column at its natural
// alignment; strings as borrowed or HDF5-owned char*, bools and enums as int8).
class RowType {
 public:
  struct Column {
    const char* name;
    hid_t mem;  // owned by types() or predefined
    hid_t file;
    std::size_t offset;  // in a row in memory
    bool added_later;    // may be absent in older files
  };
  explicit RowType(std::vector<Column> columns);
  hid_t mem() const { return mem_.get(); }
  hid_t file() const { return file_.get(); }
  std::size_t row_size() const { return row_size_; }
  const std::vector<Column>& columns() const { return columns_; }
  // A memory type of the same row layout with only the columns `keep` accepts: writes (or reads)
  // those columns and leaves the others alone.
  Handle mem_with(const std::function<bool(const Column&)>& keep) const;
  // The memory type for reading the table `dset`: the columns added later that it lacks are left
  // out (read as zero).
  Handle mem_for(hid_t dset) const;

 private:
  std::vector<Column> columns_;
  std::size_t row_size_ = 0;
  Handle mem_, file_;
};

namespace row_detail {

template <typename T>
std::size_t mem_size() {
  if constexpr (std::is_same_v<T, std::string>)
    return sizeof(char*);
  else if constexpr (std::is_same_v<T, bool>)
    return sizeof(int8_t);
  else
    return sizeof(T);
}

template <typename T>
std::pair<hid_t, hid_t> hdf5_types() {
  const Types& t = types();
  if constexpr (std::is_same_v<T, std::string>)
    return {t.str.get(), t.str.get()};
  else if constexpr (std::is_same_v<T, bool>)
    return {t.bool_mem.get(), t.bool_file.get()};
  else if constexpr (std::is_same_v<T, SampleStatus>)
    return {t.status_mem.get(), t.status_file.get()};
  else if constexpr (std::is_same_v<T, int32_t>)
    return {H5T_NATIVE_INT32, H5T_STD_I32LE};
  else if constexpr (std::is_same_v<T, int64_t>)
    return {H5T_NATIVE_INT64, H5T_STD_I64LE};
  else if constexpr (std::is_same_v<T, uint64_t>)
    return {H5T_NATIVE_UINT64, H5T_STD_U64LE};
  else {
    static_assert(std::is_same_v<T, double>, "a record field of a type the run log cannot store");
    return {H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE};
  }
}

// Writes a field into a row in memory (a string is borrowed: the record must outlive the row).
template <typename T>
void put(std::byte* at, const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    const char* p = v.c_str();
    std::memcpy(at, &p, sizeof p);
  } else if constexpr (std::is_same_v<T, bool>) {
    const int8_t b = v ? 1 : 0;
    std::memcpy(at, &b, sizeof b);
  } else {
    std::memcpy(at, &v, sizeof v);
  }
}

template <typename T>
void get(const std::byte* at, T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    const char* p = nullptr;
    std::memcpy(&p, at, sizeof p);
    v = p ? std::string(p) : std::string();
  } else if constexpr (std::is_same_v<T, bool>) {
    int8_t b = 0;
    std::memcpy(&b, at, sizeof b);
    v = b != 0;
  } else {
    std::memcpy(&v, at, sizeof v);
  }
}

template <typename R>
RowType make_row_type() {
  std::vector<RowType::Column> columns;
  std::size_t offset = 0;
  for_each_field<R>([&](const char* name, bool added_later, auto access) {
    using T = std::remove_cvref_t<decltype(access(std::declval<R&>()))>;
    const std::size_t size = mem_size<T>();
    offset = (offset + size - 1) / size * size;
    auto [mem, file] = hdf5_types<T>();
    columns.push_back({name, mem, file, offset, added_later});
    offset += size;
  });
  return RowType(std::move(columns));
}

}  // namespace row_detail

// The table of R, built once (never destroyed, as types()).
template <typename R>
const RowType& row_type() {
  static const RowType* t = new RowType(row_detail::make_row_type<R>());
  return *t;
}

// Records as rows in memory, in row_type<R>()'s layout; strings are borrowed from the records.
template <typename R>
std::vector<std::byte> to_rows(std::span<const R> records) {
  const RowType& t = row_type<R>();
  std::vector<std::byte> rows(t.row_size() * records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    std::byte* row = rows.data() + i * t.row_size();
    std::size_t c = 0;
    for_each_field<R>([&](const char*, bool, auto access) {
      row_detail::put(row + t.columns()[c++].offset, access(records[i]));
    });
  }
  return rows;
}

// Rows read into row_type<R>()'s layout as records (strings copied; the caller reclaims them).
template <typename R>
std::vector<R> from_rows(const std::byte* rows, std::size_t n) {
  const RowType& t = row_type<R>();
  std::vector<R> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::byte* row = rows + i * t.row_size();
    std::size_t c = 0;
    for_each_field<R>([&](const char*, bool, auto access) {
      row_detail::get(row + t.columns()[c++].offset, access(out[i]));
    });
  }
  return out;
}

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
inline constexpr const char* kAllocations = "allocations";  // at the root
inline constexpr hsize_t kAllocationChunk = 64;
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

// The same for the whole file: per task, then the root's allocations table.
struct FileRows {
  std::vector<TableRows> tasks;
  std::size_t allocations = 0;
};

// Reads an open trace file (used by read_run_log and open_for_resume). `rows` receives the number
// of rows of the appended tables.
RunLog read_file(hid_t file, const std::string& path, FileRows* rows);

}  // namespace rctune::runlog::detail
