#include "h5util.h"

#include <fcntl.h>
#include <pthread.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <stdexcept>

#include <mutex>

namespace rctune::runlog::detail {

Quiet::Quiet() {
  H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

Quiet::~Quiet() {
  H5Eclear2(H5E_DEFAULT);
  H5Eset_auto2(H5E_DEFAULT, func_, data_);
}

namespace {

struct Walk {
  std::string innermost;
  std::string system;  // "error message = '...'" of a failed system call
  bool lock = false;   // the failure was HDF5's file lock
};

herr_t walk_cb(unsigned n, const H5E_error2_t* e, void* data) {
  auto* w = static_cast<Walk*>(data);
  std::string desc = e->desc ? e->desc : "";
  if (n == 0) w->innermost = desc;
  if (desc.find("unable to lock the file") != std::string::npos) w->lock = true;
  if (w->system.empty()) {
    const std::string key = "error message = '";
    auto p = desc.find(key);
    if (p != std::string::npos) {
      auto q = desc.find('\'', p + key.size());
      if (q != std::string::npos) w->system = desc.substr(p + key.size(), q - p - key.size());
    }
  }
  return 0;
}

}  // namespace

bool hdf5_error_is_lock() {
  Walk w;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &w);
  return w.lock;
}

std::string hdf5_cause() {
  Walk w;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &w);
  H5Eclear2(H5E_DEFAULT);
  if (w.lock) return "it is locked by another process that has it open (a run still writing it?)";
  if (!w.system.empty()) return w.system;
  if (!w.innermost.empty()) return "HDF5: " + w.innermost;
  return "HDF5 error";
}

void fail(const std::string& path, const std::string& what) {
  throw RunLogError(path, what + ": " + hdf5_cause());
}

Handle file_access_plist() {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18);
  return fapl;
}

namespace {
std::mutex& fork_guard() {
  static std::mutex m;
  static std::once_flag registered;
  std::call_once(registered, [] {
    pthread_atfork([] { fork_guard().lock(); }, [] { fork_guard().unlock(); }, [] { fork_guard().unlock(); });
  });
  return m;
}
}  // namespace

Handle open_file_no_inherit(const std::function<hid_t()>& open) {
  std::lock_guard<std::mutex> lock(fork_guard());
  Handle f(open());
  if (f.valid()) close_on_exec(f.get());
  return f;
}

void close_on_exec(hid_t file) {
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) < 0 || handle == nullptr) {
    H5Eclear2(H5E_DEFAULT);
    return;
  }
  const int fd = *static_cast<int*>(handle);  // the POSIX (sec2) driver's descriptor
  const int flags = fcntl(fd, F_GETFD);
  if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

namespace {
// A file whose close failed (a disk that filled up under the trace) leaves HDF5 an identifier whose
// object it has already freed: HDF5's cleanup at exit (H5_term_library, registered with atexit by
// its first call) would close it again and crash after the error was printed. Every file is closed
// explicitly (RunWriter flushes each commit, readers close their handles), so that cleanup is not
// needed: turn it off before the first HDF5 call of the process (static initialisation).
[[maybe_unused]] const bool no_cleanup_at_exit = [] {
  H5dont_atexit();
  return true;
}();
}  // namespace

namespace {
bool eoa_short(hid_t file) {
  haddr_t eoa = 0;
  hsize_t size = 0;
  if (H5Fget_eoa(file, &eoa) < 0 || H5Fget_filesize(file, &size) < 0) return false;
  return size > eoa;
}
}  // namespace

void repair_eoa(hid_t file) {
  if (eoa_short(file)) H5Fincrement_filesize(file, 0);
  H5Eclear2(H5E_DEFAULT);
}

std::string eoa_hint(hid_t file, const std::string& path) {
  if (!eoa_short(file)) return "";
  return " (the writer was killed while the file grew; `h5clear --increment=0 " + path +
         "` or resuming the run repairs it)";
}

// ---- attributes ----

bool has_attr(hid_t obj, const char* name) { return H5Aexists(obj, name) > 0; }

namespace {

void write_raw_attr(hid_t obj, const char* name, hid_t file_type, hid_t mem_type, hid_t space,
                    const void* buf) {
  if (has_attr(obj, name) && H5Adelete(obj, name) < 0)
    throw std::runtime_error(std::string("cannot replace attribute ") + name + ": " + hdf5_cause());
  Handle a(H5Acreate2(obj, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid() || H5Awrite(a.get(), mem_type, buf) < 0)
    throw std::runtime_error(std::string("cannot write attribute ") + name + ": " + hdf5_cause());
}

template <typename T>
bool read_scalar_attr(hid_t obj, const char* name, hid_t mem_type, T& out) {
  if (!has_attr(obj, name)) return false;
  Handle a(H5Aopen(obj, name, H5P_DEFAULT));
  Handle space(H5Aget_space(a.get()));
  Handle ftype(H5Aget_type(a.get()));
  if (H5Sget_simple_extent_npoints(space.get()) != 1 || H5Tget_class(ftype.get()) == H5T_STRING)
    throw std::runtime_error(std::string("attribute ") + name + " is not a number");
  T v{};
  if (H5Aread(a.get(), mem_type, &v) < 0)
    throw std::runtime_error(std::string("cannot read attribute ") + name);
  out = v;
  return true;
}

}  // namespace

void write_attr(hid_t obj, const char* name, const std::string& value) {
  Handle space(H5Screate(H5S_SCALAR));
  const char* p = value.c_str();
  write_raw_attr(obj, name, types().str.get(), types().str.get(), space.get(), &p);
}

void write_fixed_attr(hid_t obj, const char* name, const std::string& value) {
  Handle space(H5Screate(H5S_SCALAR));
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), std::max<std::size_t>(1, value.size()));
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  std::string buf = value.empty() ? std::string(1, '\0') : value;
  write_raw_attr(obj, name, type.get(), type.get(), space.get(), buf.data());
}

void write_attr(hid_t obj, const char* name, double value) {
  Handle space(H5Screate(H5S_SCALAR));
  write_raw_attr(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space.get(), &value);
}

void write_attr(hid_t obj, const char* name, int64_t value) {
  Handle space(H5Screate(H5S_SCALAR));
  write_raw_attr(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, space.get(), &value);
}

void write_attr(hid_t obj, const char* name, uint64_t value) {
  Handle space(H5Screate(H5S_SCALAR));
  write_raw_attr(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, space.get(), &value);
}

void write_attr(hid_t obj, const char* name, const std::vector<double>& value) {
  hsize_t n = value.size();
  Handle space(n == 0 ? H5Screate(H5S_NULL) : H5Screate_simple(1, &n, nullptr));
  if (n == 0) {  // an empty attribute (null dataspace) has nothing to write
    if (has_attr(obj, name) && H5Adelete(obj, name) < 0)
      throw std::runtime_error(std::string("cannot replace attribute ") + name + ": " + hdf5_cause());
    Handle a(H5Acreate2(obj, name, H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT));
    if (!a.valid())
      throw std::runtime_error(std::string("cannot write attribute ") + name + ": " + hdf5_cause());
    return;
  }
  write_raw_attr(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space.get(), value.data());
}

bool read_attr(hid_t obj, const char* name, std::string& out) {
  if (!has_attr(obj, name)) return false;
  Handle a(H5Aopen(obj, name, H5P_DEFAULT));
  Handle ftype(H5Aget_type(a.get()));
  Handle space(H5Aget_space(a.get()));
  if (H5Tget_class(ftype.get()) != H5T_STRING || H5Sget_simple_extent_npoints(space.get()) != 1)
    throw std::runtime_error(std::string("attribute ") + name + " is not a string");
  if (H5Tis_variable_str(ftype.get()) > 0) {
    char* p = nullptr;
    if (H5Aread(a.get(), types().str.get(), &p) < 0)
      throw std::runtime_error(std::string("cannot read attribute ") + name);
    out = take(p);
    H5free_memory(p);
  } else {  // a fixed-length string (as some tools write)
    std::size_t size = H5Tget_size(ftype.get());
    std::string buf(size, '\0');
    Handle mtype(H5Tcopy(H5T_C_S1));
    H5Tset_size(mtype.get(), size);
    // The file's character set and padding: HDF5 does not convert between character sets, and a
    // null-terminated memory type of the same size would drop the last character.
    H5Tset_cset(mtype.get(), H5Tget_cset(ftype.get()));
    H5Tset_strpad(mtype.get(), H5Tget_strpad(ftype.get()));
    if (H5Aread(a.get(), mtype.get(), buf.data()) < 0)
      throw std::runtime_error(std::string("cannot read attribute ") + name);
    out = buf.substr(0, buf.find('\0'));
  }
  return true;
}

bool read_attr(hid_t obj, const char* name, double& out) {
  return read_scalar_attr(obj, name, H5T_NATIVE_DOUBLE, out);
}
bool read_attr(hid_t obj, const char* name, int64_t& out) {
  return read_scalar_attr(obj, name, H5T_NATIVE_INT64, out);
}
bool read_attr(hid_t obj, const char* name, uint64_t& out) {
  return read_scalar_attr(obj, name, H5T_NATIVE_UINT64, out);
}

bool read_attr(hid_t obj, const char* name, std::vector<double>& out) {
  if (!has_attr(obj, name)) return false;
  Handle a(H5Aopen(obj, name, H5P_DEFAULT));
  Handle space(H5Aget_space(a.get()));
  hssize_t n = H5Sget_simple_extent_npoints(space.get());
  std::vector<double> v(n > 0 ? static_cast<std::size_t>(n) : 0);
  if (!v.empty() && H5Aread(a.get(), H5T_NATIVE_DOUBLE, v.data()) < 0)
    throw std::runtime_error(std::string("cannot read attribute ") + name);
  out = std::move(v);
  return true;
}

// ---- types ----

namespace {

struct Member {
  const char* name;
  hid_t mem;
  hid_t file;
  std::size_t offset;
};

// A compound type for memory (the struct's layout) and a packed one for the file.
void make_compound(std::size_t size, const std::vector<Member>& members, Handle& mem, Handle& file) {
  mem = Handle(H5Tcreate(H5T_COMPOUND, size));
  std::size_t file_size = 0;
  for (const auto& m : members) {
    H5Tinsert(mem.get(), m.name, m.offset, m.mem);
    file_size += H5Tget_size(m.file);
  }
  file = Handle(H5Tcreate(H5T_COMPOUND, file_size));
  std::size_t off = 0;
  for (const auto& m : members) {
    H5Tinsert(file.get(), m.name, off, m.file);
    off += H5Tget_size(m.file);
  }
}

// The columns of the tree table, for a TreeRow that lies `base` bytes into the row.
std::vector<Member> tree_row_members(hid_t str, std::size_t base) {
  return {
      {"id", H5T_NATIVE_INT64, H5T_STD_I64LE, base + offsetof(TreeRow, id)},
      {"parent", H5T_NATIVE_INT64, H5T_STD_I64LE, base + offsetof(TreeRow, parent)},
      {"action", str, str, base + offsetof(TreeRow, action)},
      {"visits", H5T_NATIVE_INT64, H5T_STD_I64LE, base + offsetof(TreeRow, visits)},
      {"value", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, base + offsetof(TreeRow, value)},
      {"best_gflops", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, base + offsetof(TreeRow, best_gflops)},
      {"sample", H5T_NATIVE_INT64, H5T_STD_I64LE, base + offsetof(TreeRow, sample)},
      {kTreeHash, H5T_NATIVE_UINT64, H5T_STD_U64LE, base + offsetof(TreeRow, structural_hash)},
  };
}

}  // namespace

Types::Types() {
  H5open();
  str = Handle(H5Tcopy(H5T_C_S1));
  H5Tset_size(str.get(), H5T_VARIABLE);
  H5Tset_cset(str.get(), H5T_CSET_UTF8);

  status_mem = Handle(H5Tenum_create(H5T_NATIVE_INT8));
  status_file = Handle(H5Tenum_create(H5T_STD_I8LE));
  for (int8_t v = 0; v <= static_cast<int8_t>(SampleStatus::Illegal); ++v) {
    const char* name = sample_status_name(static_cast<SampleStatus>(v));
    H5Tenum_insert(status_mem.get(), name, &v);
    H5Tenum_insert(status_file.get(), name, &v);
  }
  bool_mem = Handle(H5Tenum_create(H5T_NATIVE_INT8));
  bool_file = Handle(H5Tenum_create(H5T_STD_I8LE));
  for (int8_t v = 0; v <= 1; ++v) {
    H5Tenum_insert(bool_mem.get(), v ? "TRUE" : "FALSE", &v);
    H5Tenum_insert(bool_file.get(), v ? "TRUE" : "FALSE", &v);
  }

  const hid_t s = str.get();
  make_compound(
      sizeof(SampleRow),
      {
          {"index", H5T_NATIVE_INT64, H5T_STD_I64LE, offsetof(SampleRow, index)},
          {"wall_time", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(SampleRow, wall_time)},
          {"rank", H5T_NATIVE_INT32, H5T_STD_I32LE, offsetof(SampleRow, rank)},
          {"strategy", s, s, offsetof(SampleRow, strategy)},
          {"proposer", s, s, offsetof(SampleRow, proposer)},
          {"node", H5T_NATIVE_INT64, H5T_STD_I64LE, offsetof(SampleRow, node)},
          {"parent_node", H5T_NATIVE_INT64, H5T_STD_I64LE, offsetof(SampleRow, parent_node)},
          {"trace", s, s, offsetof(SampleRow, trace)},
          {"rationale", s, s, offsetof(SampleRow, rationale)},
          {"structural_hash", H5T_NATIVE_UINT64, H5T_STD_U64LE, offsetof(SampleRow, structural_hash)},
          {"status", status_mem.get(), status_file.get(), offsetof(SampleRow, status)},
          {"error", s, s, offsetof(SampleRow, error)},
          {"cached", bool_mem.get(), bool_file.get(), offsetof(SampleRow, cached)},
          {"median_s", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(SampleRow, median_s)},
          {"min_s", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(SampleRow, min_s)},
          {"max_s", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(SampleRow, max_s)},
          {"iqr_s", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(SampleRow, iqr_s)},
          {"gflops", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(SampleRow, gflops)},
          {"predicted", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(SampleRow, predicted)},
          {"compile_s", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(SampleRow, compile_s)},
      },
      sample_mem, sample_file);
  std::vector<Member> tree_members = tree_row_members(s, 0);
  make_compound(sizeof(TreeRow), tree_members, tree_mem, tree_file);
  std::vector<Member> rank_tree_members = {
      {"rank", H5T_NATIVE_INT32, H5T_STD_I32LE, offsetof(RankTreeRow, rank)}};
  for (const Member& m : tree_row_members(s, offsetof(RankTreeRow, node))) rank_tree_members.push_back(m);
  make_compound(sizeof(RankTreeRow), rank_tree_members, rank_tree_mem, rank_tree_file);
  // The same memory layout without the hash (the last member), for files written before that
  // column existed: reading with a memory type that has a member the file lacks fails.
  tree_members.pop_back();
  Handle tree_file_without_hash;
  make_compound(sizeof(TreeRow), tree_members, tree_mem_without_hash, tree_file_without_hash);
  make_compound(sizeof(BestRow),
                {
                    {"sample", H5T_NATIVE_INT64, H5T_STD_I64LE, offsetof(BestRow, sample)},
                    {"wall_time", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(BestRow, wall_time)},
                    {"trace", s, s, offsetof(BestRow, trace)},
                    {"program", s, s, offsetof(BestRow, program)},
                    {"gflops", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(BestRow, gflops)},
                    {"median_s", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(BestRow, median_s)},
                    {"speedup", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(BestRow, speedup)},
                },
                best_mem, best_file);
  const hid_t bm = bool_mem.get(), bf = bool_file.get();
  make_compound(
      sizeof(LlmCallRow),
      {
          {"index", H5T_NATIVE_INT64, H5T_STD_I64LE, offsetof(LlmCallRow, index)},
          {"wall_time", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(LlmCallRow, wall_time)},
          {"rank", H5T_NATIVE_INT32, H5T_STD_I32LE, offsetof(LlmCallRow, rank)},
          {"node", H5T_NATIVE_INT64, H5T_STD_I64LE, offsetof(LlmCallRow, node)},
          {"model", s, s, offsetof(LlmCallRow, model)},
          {"prompt_tokens", H5T_NATIVE_INT64, H5T_STD_I64LE, offsetof(LlmCallRow, prompt_tokens)},
          {"completion_tokens", H5T_NATIVE_INT64, H5T_STD_I64LE, offsetof(LlmCallRow, completion_tokens)},
          {"latency_s", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(LlmCallRow, latency_s)},
          {"cost_usd", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(LlmCallRow, cost_usd)},
          {"ok", bm, bf, offsetof(LlmCallRow, ok)},
          {"from_cache", bm, bf, offsetof(LlmCallRow, from_cache)},
          {"fallback", bm, bf, offsetof(LlmCallRow, fallback)},
          {"proposals", H5T_NATIVE_INT32, H5T_STD_I32LE, offsetof(LlmCallRow, proposals)},
          {"legal", H5T_NATIVE_INT32, H5T_STD_I32LE, offsetof(LlmCallRow, legal)},
          {"error", s, s, offsetof(LlmCallRow, error)},
      },
      llm_call_mem, llm_call_file);
  make_compound(sizeof(RankRow),
                {
                    {"rank", H5T_NATIVE_INT32, H5T_STD_I32LE, offsetof(RankRow, rank)},
                    {"host", s, s, offsetof(RankRow, host)},
                    {"group", H5T_NATIVE_INT32, H5T_STD_I32LE, offsetof(RankRow, group)},
                    {"node_rank", H5T_NATIVE_INT32, H5T_STD_I32LE, offsetof(RankRow, node_rank)},
                    {"pin_core", H5T_NATIVE_INT32, H5T_STD_I32LE, offsetof(RankRow, pin_core)},
                    {"samples", H5T_NATIVE_INT64, H5T_STD_I64LE, offsetof(RankRow, samples)},
                    {"wall_s", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(RankRow, wall_s)},
                    {"search_s", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(RankRow, search_s)},
                    {"measure_s", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(RankRow, measure_s)},
                    {"comm_s", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(RankRow, comm_s)},
                    {"merge_s", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(RankRow, merge_s)},
                },
                rank_mem, rank_file);
  Handle unused;
  make_compound(sizeof(TreeStatsRow),
                {
                    {"id", H5T_NATIVE_INT64, H5T_STD_I64LE, offsetof(TreeStatsRow, id)},
                    {"parent", H5T_NATIVE_INT64, H5T_STD_I64LE, offsetof(TreeStatsRow, parent)},
                    {"visits", H5T_NATIVE_INT64, H5T_STD_I64LE, offsetof(TreeStatsRow, visits)},
                    {"value", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(TreeStatsRow, value)},
                    {"best_gflops", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, offsetof(TreeStatsRow, best_gflops)},
                    {"sample", H5T_NATIVE_INT64, H5T_STD_I64LE, offsetof(TreeStatsRow, sample)},
                },
                tree_stats_mem, unused);
}

const Types& types() {
  // Never destroyed: with the MPI build of HDF5, MPI_Finalize shuts the library down (an
  // attribute HDF5 puts on MPI_COMM_SELF) before static destructors run, and closing the types then
  // fails loudly. The library frees them when it shuts down, whichever way that happens.
  static const Types* t = new Types;
  return *t;
}

SampleRow to_row(const SampleRecord& s) {
  SampleRow r{};
  r.index = s.index;
  r.wall_time = s.wall_time;
  r.rank = s.rank;
  r.strategy = cstr(s.strategy);
  r.proposer = cstr(s.proposer);
  r.node = s.node;
  r.parent_node = s.parent_node;
  r.trace = cstr(s.trace);
  r.rationale = cstr(s.rationale);
  r.structural_hash = s.structural_hash;
  r.status = static_cast<int8_t>(s.status);
  r.error = cstr(s.error);
  r.cached = s.cached ? 1 : 0;
  r.median_s = s.median_s;
  r.min_s = s.min_s;
  r.max_s = s.max_s;
  r.iqr_s = s.iqr_s;
  r.gflops = s.gflops;
  r.predicted = s.predicted;
  r.compile_s = s.compile_s;
  return r;
}

SampleRecord from_row(const SampleRow& r) {
  SampleRecord s;
  s.index = r.index;
  s.wall_time = r.wall_time;
  s.rank = r.rank;
  s.strategy = take(r.strategy);
  s.proposer = take(r.proposer);
  s.node = r.node;
  s.parent_node = r.parent_node;
  s.trace = take(r.trace);
  s.rationale = take(r.rationale);
  s.structural_hash = r.structural_hash;
  s.status = static_cast<SampleStatus>(r.status);
  s.error = take(r.error);
  s.cached = r.cached != 0;
  s.median_s = r.median_s;
  s.min_s = r.min_s;
  s.max_s = r.max_s;
  s.iqr_s = r.iqr_s;
  s.gflops = r.gflops;
  s.predicted = r.predicted;
  s.compile_s = r.compile_s;
  return s;
}

TreeRow to_row(const TreeNode& n) {
  return TreeRow{n.id,    n.parent,      cstr(n.action), n.visits,
                 n.value, n.best_gflops, n.sample,       n.structural_hash};
}

TreeNode from_row(const TreeRow& r) {
  TreeNode n;
  n.id = r.id;
  n.parent = r.parent;
  n.action = take(r.action);
  n.visits = r.visits;
  n.value = r.value;
  n.best_gflops = r.best_gflops;
  n.sample = r.sample;
  n.structural_hash = r.structural_hash;
  return n;
}

BestRow to_row(const BestSchedule& b) {
  return BestRow{b.sample, b.wall_time, cstr(b.trace), cstr(b.program), b.gflops, b.median_s, b.speedup};
}

BestSchedule from_row(const BestRow& r) {
  BestSchedule b;
  b.sample = r.sample;
  b.wall_time = r.wall_time;
  b.trace = take(r.trace);
  b.program = take(r.program);
  b.gflops = r.gflops;
  b.median_s = r.median_s;
  b.speedup = r.speedup;
  return b;
}

LlmCallRow to_row(const LlmCallRecord& c) {
  LlmCallRow r{};
  r.index = c.index;
  r.wall_time = c.wall_time;
  r.rank = c.rank;
  r.node = c.node;
  r.model = cstr(c.model);
  r.prompt_tokens = c.prompt_tokens;
  r.completion_tokens = c.completion_tokens;
  r.latency_s = c.latency_s;
  r.cost_usd = c.cost_usd;
  r.ok = c.ok ? 1 : 0;
  r.from_cache = c.from_cache ? 1 : 0;
  r.fallback = c.fallback ? 1 : 0;
  r.proposals = c.proposals;
  r.legal = c.legal;
  r.error = cstr(c.error);
  return r;
}

LlmCallRecord from_row(const LlmCallRow& r) {
  LlmCallRecord c;
  c.index = r.index;
  c.wall_time = r.wall_time;
  c.rank = r.rank;
  c.node = r.node;
  c.model = take(r.model);
  c.prompt_tokens = r.prompt_tokens;
  c.completion_tokens = r.completion_tokens;
  c.latency_s = r.latency_s;
  c.cost_usd = r.cost_usd;
  c.ok = r.ok != 0;
  c.from_cache = r.from_cache != 0;
  c.fallback = r.fallback != 0;
  c.proposals = r.proposals;
  c.legal = r.legal;
  c.error = take(r.error);
  return c;
}

RankRow to_row(const RankStats& r) {
  return RankRow{r.rank,   cstr(r.host), r.group,     r.node_rank, r.pin_core, r.samples,
                 r.wall_s, r.search_s,   r.measure_s, r.comm_s,    r.merge_s};
}

RankStats from_row(const RankRow& r) {
  RankStats s;
  s.rank = r.rank;
  s.host = take(r.host);
  s.group = r.group;
  s.node_rank = r.node_rank;
  s.pin_core = r.pin_core;
  s.samples = r.samples;
  s.wall_s = r.wall_s;
  s.search_s = r.search_s;
  s.measure_s = r.measure_s;
  s.comm_s = r.comm_s;
  s.merge_s = r.merge_s;
  return s;
}

RankTreeRow to_row(int32_t rank, const TreeNode& n) { return RankTreeRow{rank, to_row(n)}; }

bool has_member(hid_t dset, const char* name) {
  Handle type(H5Dget_type(dset));
  if (!type.valid() || H5Tget_class(type.get()) != H5T_COMPOUND) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  const bool found = H5Tget_member_index(type.get(), name) >= 0;
  H5Eclear2(H5E_DEFAULT);  // a missing member leaves an error on the stack
  return found;
}

}  // namespace rctune::runlog::detail
