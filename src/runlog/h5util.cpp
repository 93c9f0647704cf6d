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
    out = p ? std::string(p) : std::string();
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
}

const Types& types() {
  // Never destroyed: with the MPI build of HDF5, MPI_Finalize shuts the library down (an
  // attribute HDF5 puts on MPI_COMM_SELF) before static destructors run, and closing the types then
  // fails loudly. The library frees them when it shuts down, whichever way that happens.
  static const Types* t = new Types;
  return *t;
}

RowType::RowType(std::vector<Column> columns) : columns_(std::move(columns)) {
  std::size_t file_size = 0;
  for (const Column& c : columns_) {
    row_size_ = std::max(row_size_, c.offset + H5Tget_size(c.mem));
    file_size += H5Tget_size(c.file);
  }
  row_size_ =
      (row_size_ + alignof(std::max_align_t) - 1) / alignof(std::max_align_t) * alignof(std::max_align_t);
  mem_ = mem_with([](const Column&) { return true; });
  file_ = Handle(H5Tcreate(H5T_COMPOUND, file_size));
  std::size_t off = 0;
  for (const Column& c : columns_) {
    H5Tinsert(file_.get(), c.name, off, c.file);
    off += H5Tget_size(c.file);
  }
}

Handle RowType::mem_with(const std::function<bool(const Column&)>& keep) const {
  Handle mem(H5Tcreate(H5T_COMPOUND, row_size_));
  for (const Column& c : columns_)
    if (keep(c)) H5Tinsert(mem.get(), c.name, c.offset, c.mem);
  return mem;
}

Handle RowType::mem_for(hid_t dset) const {
  return mem_with([&](const Column& c) { return !c.added_later || has_member(dset, c.name); });
}

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
