#include "rctune/runlog/writer.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <set>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "h5util.h"
#include "writer_lock.h"

namespace rctune::runlog {

using detail::Handle;
using detail::Quiet;

namespace {

// The identity of a tree row: a row whose key is unchanged is updated in place.
struct TreeKey {
  int64_t id, parent;
  std::string action;
  uint64_t structural_hash;
  bool operator==(const TreeKey&) const = default;
};

TreeKey tree_key(const TreeNode& n) { return {n.id, n.parent, n.action, n.structural_hash}; }

}  // namespace

struct TaskState {
  TaskInfo info;
  std::string group_name;
  Handle group, samples, tree, best;  // best: created by the first write_best
  Handle llm_calls;                   // created by the first append_llm_calls
  std::size_t num_samples = 0;
  std::size_t num_best = 0;
  std::size_t num_llm_calls = 0;
  bool any_sample = false;
  int64_t last_index = 0;
  int64_t last_llm_index = 0;      // of the last LLM call (when num_llm_calls > 0)
  std::vector<TreeKey> tree_keys;  // id, parent, action, hash of the rows stored in the tree dataset
  bool tree_has_hash = true;       // false: the stored tree is of an older file, without the hash column
};

struct RunWriter::Impl {
  std::string path;
  detail::WriterLock lock;  // held from create/open to destruction (writer_lock.h)
  bool broken = false;      // a commit failed: nothing more is written (see commit)
  Handle file;
  Handle root, tasks_group;  // "/" and "/tasks"
  Handle allocations;        // "/allocations", created by the first append_allocations
  std::size_t num_allocations = 0;
  int64_t last_round = 0;  // of the last allocation (when num_allocations > 0)
  RunInfo info;
  RunLog resumed;
  std::vector<TaskState> tasks;
  std::set<std::string> group_names;
  // Objects unlinked by a commit, kept open until the headers that no longer link them are on
  // disk: closing them frees their space, and HDF5 may then shrink the file below them.
  std::vector<Handle> release_after_flush;

  ~Impl() {
    Quiet quiet;
    close_file_quietly();
    tasks.clear();
  }

  void require_open() const {
    if (broken)
      throw RunLogError(path,
                        "not written to after a failed write; it holds every commit before that failure");
    if (!file.valid()) throw std::logic_error("trace file '" + path + "': already finished");
  }
  TaskState& task(Task t) {
    require_open();
    if (t >= tasks.size()) throw std::out_of_range("trace file '" + path + "': no task " + std::to_string(t));
    return tasks[t];
  }

  // Runs `fn`, turning a failure of HDF5 into a RunLogError naming the file.
  void guarded(const std::string& what, const std::function<void()>& fn) {
    try {
      fn();
    } catch (const RunLogError&) {
      throw;
    } catch (const std::invalid_argument&) {
      throw;
    } catch (const std::runtime_error& e) {
      throw RunLogError(path, what + ": " + e.what());
    }
  }
  hid_t check(hid_t id, const std::string& what) { return detail::check(id, path, what); }
  // Writes everything to the file; `what` says what was being written, for the error message.
  void flush(const std::string& what) {
    if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) detail::fail(path, what);
  }

  // Makes a change reach the file in an order that keeps the file readable if the process dies at
  // any point: `fn` changes the file; the metadata of the objects in `corked` (those whose headers
  // point to what `fn` adds: a table whose extent grows, a group that gets a link) is held back
  // while everything else (table rows, strings in the global heap, new objects) is flushed; then
  // those headers are flushed. A crash in between leaves the file as it was before `fn`.
  //
  // A commit that fails (a disk that filled up) leaves the writer broken: nothing more is written,
  // and the file is never flushed or closed again (the headers held back would reach the file and
  // point to rows whose data could not be written, making the committed ones unreadable). The
  // file keeps what the last successful commit wrote.
  void commit(std::initializer_list<hid_t> corked, const std::string& what, const std::function<void()>& fn) {
    require_open();
    try {
      guarded(what, [&] {
        for (hid_t id : corked)
          if (H5Odisable_mdc_flushes(id) < 0) detail::fail(path, what);
        fn();
        flush(what);
        for (hid_t id : corked)
          if (H5Oenable_mdc_flushes(id) < 0) detail::fail(path, what);
        flush(what);
        release_after_flush.clear();
        reopen(what);
      });
    } catch (...) {
      broken = true;
      throw;
    }
  }

  // Closes and reopens the file. HDF5 puts new strings into the global-heap collections it has
  // seen with free space since the file was opened, rewriting them in place; a kill during such a
  // rewrite (the kernel may stop a write between pages) would damage the strings of rows already
  // written. After a reopen, the strings of the next commit go to a collection of their own.
  void reopen(const std::string& what) {
    close_file(what);
    open_again(what);
  }

  // Closes every object of the file and the file itself.
  void close_file(const std::string& what) {
    drop_objects();
    hid_t f = file.get();
    // Every object must be closed, or HDF5 keeps the file open underneath and nothing is reset.
    if (H5Fget_obj_count(f, H5F_OBJ_ALL | H5F_OBJ_LOCAL) != 1)
      throw RunLogError(path, what + ": internal error: an object of the file is still open");
    H5Iinc_ref(f);
    file.reset();
    // A close that fails (disk full) leaves an identifier that must not be touched again
    // (h5util.cpp, no_cleanup_at_exit).
    if (H5Fclose(f) < 0) detail::fail(path, what);
  }

  // After a failure: closes every identifier of the file once, whatever HDF5 says; after a failed
  // commit (broken), leaves them open instead, so that HDF5 writes nothing more. Never throws.
  void close_file_quietly() noexcept {
    if (broken) {
      for (auto& ts : tasks)
        for (Handle* h : {&ts.llm_calls, &ts.best, &ts.tree, &ts.samples, &ts.group}) h->release();
      for (Handle& h : release_after_flush) h.release();
      allocations.release();
      tasks_group.release();
      root.release();
      file.release();
      return;
    }
    drop_objects();
    file.reset();
  }

  void drop_objects() noexcept {
    for (auto& ts : tasks) {
      ts.llm_calls.reset();
      ts.best.reset();
      ts.tree.reset();
      ts.samples.reset();
      ts.group.reset();
    }
    release_after_flush.clear();
    allocations.reset();
    tasks_group.reset();
    root.reset();
  }

  void open_again(const std::string& what) {
    Handle fapl = detail::writer_access_plist();
    // A program this process starts holds the file for a moment: a child forked by another thread
    // (rank 0's own search compiling a kernel while the hub writes) keeps a copy of the
    // descriptor, and HDF5's lock, until it executes the program. Wait for it (up to 5 s) before
    // calling the file locked by someone else.
    for (int attempt = 0;; ++attempt) {
      file = detail::open_file_no_inherit([&] { return H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.get()); });
      if (file.valid()) break;
      if (attempt >= 500 || !detail::hdf5_error_is_lock()) detail::fail(path, what + " (reopening)");
      H5Eclear2(H5E_DEFAULT);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    require_locked_file(what);
    open_groups();
    for (auto& ts : tasks) open_task_objects(ts);
  }

  // The file open under `path` is the one this writer locked: nobody replaced or removed it.
  void require_locked_file(const std::string& what) {
    if (!lock.is(file.get())) {
      file.reset();
      throw RunLogError(path, what +
                                  ": the file was replaced or removed by another process while this run "
                                  "wrote it");
    }
  }

  std::string unique_group_name(const std::string& name) {
    std::string base = sanitize_task_name(name), g = base;
    for (int k = 2; group_names.count(g); ++k) g = base + "~" + std::to_string(k);
    group_names.insert(g);
    return g;
  }

  void open_task_objects(TaskState& ts) {
    ts.group = Handle(check(H5Gopen2(tasks_group.get(), ts.group_name.c_str(), H5P_DEFAULT),
                            "cannot open task group " + ts.group_name));
    ts.samples = Handle(check(H5Dopen2(ts.group.get(), detail::kSamples, H5P_DEFAULT),
                              "cannot open samples of task " + ts.info.name));
    ts.tree = Handle(check(H5Dopen2(ts.group.get(), detail::kTree, H5P_DEFAULT),
                           "cannot open tree of task " + ts.info.name));
    if (H5Lexists(ts.group.get(), detail::kBest, H5P_DEFAULT) > 0)
      ts.best = Handle(check(H5Dopen2(ts.group.get(), detail::kBest, H5P_DEFAULT),
                             "cannot open best of task " + ts.info.name));
    if (H5Lexists(ts.group.get(), detail::kLlmCalls, H5P_DEFAULT) > 0)
      ts.llm_calls = Handle(check(H5Dopen2(ts.group.get(), detail::kLlmCalls, H5P_DEFAULT),
                                  "cannot open llm_calls of task " + ts.info.name));
    // A table a crash left being rebuilt (see write_tree) is not part of the trace.
    if (H5Lexists(ts.group.get(), detail::kTreeNew, H5P_DEFAULT) > 0)
      H5Ldelete(ts.group.get(), detail::kTreeNew, H5P_DEFAULT);
    // Likewise for write_rank_trees.
    if (H5Lexists(ts.group.get(), detail::kRankTreesNew, H5P_DEFAULT) > 0)
      H5Ldelete(ts.group.get(), detail::kRankTreesNew, H5P_DEFAULT);
  }

  void open_groups() {
    root = Handle(check(H5Gopen2(file.get(), "/", H5P_DEFAULT), "cannot open /"));
    tasks_group = Handle(check(H5Gopen2(file.get(), detail::kTasksGroup, H5P_DEFAULT), "cannot open /tasks"));
    // A table a crash left being rebuilt (see write_rank_stats) is not part of the trace.
    if (H5Lexists(root.get(), detail::kRanksNew, H5P_DEFAULT) > 0)
      H5Ldelete(root.get(), detail::kRanksNew, H5P_DEFAULT);
    if (H5Lexists(root.get(), detail::kAllocations, H5P_DEFAULT) > 0)
      allocations = Handle(check(H5Dopen2(root.get(), detail::kAllocations, H5P_DEFAULT),
                                 "cannot open the allocations table"));
  }

  Handle create_table(hid_t group, const char* name, hid_t file_type, hsize_t chunk) {
    hsize_t dims = 0, maxdims = H5S_UNLIMITED;
    Handle space(H5Screate_simple(1, &dims, &maxdims));
    Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_chunk(dcpl.get(), 1, &chunk);
    return Handle(check(H5Dcreate2(group, name, file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                        std::string("cannot create dataset ") + name));
  }

  // Clears what a killed commit can leave beyond a table's extent: rows written into the tail of
  // its last chunk, or into chunks after it, whose strings may lie past the end of the file. HDF5
  // frees the strings of a row before it writes over the row, and that would fail at the next
  // append ("len not positive after adjustment for EOA"). Growing the table over that debris and
  // shrinking it back to `keep` rows resets the tail of the last chunk to the fill value and
  // drops the chunks beyond. Does nothing (no commit) when there is no debris.
  void scrub_table(hid_t dset, hsize_t keep, const std::string& what) {
    hsize_t n = 0, chunk = 0;
    {
      Handle space(check(H5Dget_space(dset), what));
      H5Sget_simple_extent_dims(space.get(), &n, nullptr);
      Handle dcpl(check(H5Dget_create_plist(dset), what));
      if (H5Pget_chunk(dcpl.get(), 1, &chunk) != 1 || chunk == 0) detail::fail(path, what);
    }
    // The end of the last chunk that holds rows of the extent.
    const hsize_t edge = (std::max(n, keep) + chunk - 1) / chunk * chunk;
    hsize_t end = edge;
    bool debris = n > keep;
    for (hsize_t offset = edge;; offset += chunk) {  // chunks beyond the extent (allocated in a row)
      unsigned filters = 0;
      haddr_t addr = HADDR_UNDEF;
      hsize_t size = 0;
      if (H5Dget_chunk_info_by_coord(dset, &offset, &filters, &addr, &size) < 0) detail::fail(path, what);
      if (addr == HADDR_UNDEF) break;
      debris = true;
      end = offset + chunk;
    }
    if (!debris && keep % chunk != 0) {  // rows in the tail of the last chunk: not all fill value
      hsize_t offset = keep / chunk * chunk, bytes = 0;
      if (H5Dget_chunk_storage_size(dset, &offset, &bytes) < 0) detail::fail(path, what);
      std::vector<unsigned char> raw(bytes);
      uint32_t filters = 0;
      if (bytes > 0 && H5Dread_chunk(dset, H5P_DEFAULT, &offset, &filters, raw.data()) < 0)
        detail::fail(path, what);
      // Rows as stored (H5Tget_size would give the in-memory size of the string fields).
      const std::size_t row = raw.size() / chunk;
      for (std::size_t b = (keep - offset) * row; b < raw.size() && !debris; ++b) debris = raw[b] != 0;
    }
    if (!debris) return;
    commit({dset}, what, [&] {
      if (H5Dset_extent(dset, &end) < 0 || H5Dset_extent(dset, &keep) < 0) detail::fail(path, what);
    });
  }

  // Within a commit that holds back `group`'s header: replaces the table `name` in `group` with
  // `n` rows, built as `new_name` beside the old one, then swaps the links. On disk the group
  // links either the old table or the new one.
  Handle replace_table(hid_t group, const char* name, const char* new_name, hid_t file_type, hid_t mem_type,
                       hsize_t chunk, hsize_t n, const void* rows, const std::string& what) {
    Handle fresh = create_table(group, new_name, file_type, chunk);
    if (H5Dset_extent(fresh.get(), &n) < 0) detail::fail(path, what);
    write_rows(fresh.get(), mem_type, 0, n, rows, what);
    if (H5Lexists(group, name, H5P_DEFAULT) > 0) {
      // Kept open until the group no longer links it on disk (see release_after_flush).
      release_after_flush.emplace_back(
          check(H5Dopen2(group, name, H5P_DEFAULT), what + " (opening the old table)"));
      if (H5Ldelete(group, name, H5P_DEFAULT) < 0) detail::fail(path, what);
    }
    if (H5Lmove(group, new_name, group, name, H5P_DEFAULT, H5P_DEFAULT) < 0) detail::fail(path, what);
    return fresh;
  }

  // Writes `rows` to rows [start, start + n) of a 1-D dataset.
  void write_rows(hid_t dset, hid_t memtype, hsize_t start, hsize_t n, const void* rows,
                  const std::string& what) {
    if (n == 0) return;
    Handle fspace(check(H5Dget_space(dset), what));
    H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, &start, nullptr, &n, nullptr);
    Handle mspace(H5Screate_simple(1, &n, nullptr));
    if (H5Dwrite(dset, memtype, mspace.get(), fspace.get(), H5P_DEFAULT, rows) < 0) detail::fail(path, what);
  }

  // Grows table dset to start + n rows and writes the n rows after the first `start`.
  void append_rows(hid_t dset, hid_t memtype, hsize_t start, hsize_t n, const void* rows,
                   const std::string& what) {
    hsize_t size = start + n;
    if (H5Dset_extent(dset, &size) < 0) detail::fail(path, what);
    write_rows(dset, memtype, start, n, rows, what);
  }

  // append_rows in one commit, to a table of `group` that the first append creates.
  void append_rows_creating(hid_t group, Handle& table, const char* name, const detail::RowType& type,
                            hsize_t chunk, hsize_t start, hsize_t n, const void* rows,
                            const std::string& what) {
    auto append = [&] { append_rows(table.get(), type.mem(), start, n, rows, what); };
    if (!table.valid()) {  // the first: the group gains the table, filled in the same commit
      commit({group}, what, [&] {
        table = create_table(group, name, type.file(), chunk);
        append();
      });
    } else {
      commit({table.get()}, what, append);
    }
  }
};

namespace {

void write_run_info(hid_t f, const RunInfo& i) {
  using detail::write_attr;
  write_attr(f, "format", std::string(kFormatName));
  write_attr(f, "format_version", static_cast<int64_t>(kFormatVersion));
  write_attr(f, "config", i.config_text);
  write_attr(f, "config_path", i.config_path);
  write_attr(f, "command_line", i.command_line);
  write_attr(f, "version", i.version);
  write_attr(f, "git_commit", i.git_commit);
  write_attr(f, "host", i.host);
  write_attr(f, "cpu_model", i.cpu_model);
  write_attr(f, "execution_space", i.execution_space);
  write_attr(f, "strategy", i.strategy);
  write_attr(f, "proposer", i.proposer);
  write_attr(f, "seed", i.seed);
  write_attr(f, "budget", i.budget);
  write_attr(f, "num_ranks", static_cast<int64_t>(i.num_ranks));
  write_attr(f, "start_time", i.start_time);
  detail::write_fixed_attr(f, "start_time_iso", iso8601(i.start_time));
  write_attr(f, "end_time", i.end_time);
  detail::write_fixed_attr(f, "end_time_iso", iso8601(i.end_time));
  write_attr(f, "resume_times", i.resume_times);
  write_attr(f, "start_options", i.start_options);
}

void write_task_info(hid_t g, const TaskInfo& t, int64_t order) {
  using detail::write_attr;
  write_attr(g, "name", t.name);
  write_attr(g, "workload", t.workload);
  write_attr(g, "weight", t.weight);
  write_attr(g, "flops", t.flops);
  write_attr(g, "reference_seconds", t.reference_seconds);
  write_attr(g, "reference_gflops", t.reference_gflops);
  // Fixed-length: set_library() replaces it.
  detail::write_fixed_attr(g, "library_name", t.library_name);
  write_attr(g, "library_seconds", t.library_seconds);
  write_attr(g, "library_gflops", t.library_gflops);
  write_attr(g, "order", order);
}

}  // namespace

RunWriter::RunWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RunWriter::RunWriter(RunWriter&&) noexcept = default;
RunWriter& RunWriter::operator=(RunWriter&&) noexcept = default;
RunWriter::~RunWriter() = default;

namespace {

// Refuses to create a trace where `path` exists, unless it is a trace, `replace` is set and no
// process writes it. Throws RunLogError naming the file and what is there.
void refuse_existing(const std::string& path, bool replace) {
  // First whether a run writes it: a trace read half-way through a commit may not look like one.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd >= 0) {
    struct stat st {};
    const std::string busy = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? detail::busy_reason(fd) : "";
    ::close(fd);
    if (!busy.empty())
      throw RunLogError(path, "cannot create: " + busy + "; wait for it, or choose another --out");
  }
  std::string what;
  switch (detail::classify_path(path, &what)) {
    case detail::PathKind::Missing:
      return;
    case detail::PathKind::Directory:
      throw RunLogError(path, "cannot create: it is a directory; --out names the trace file itself");
    case detail::PathKind::Symlink:
      throw RunLogError(
          path,
          "cannot create: it is a symbolic link; rctune does not write through one (give the path "
          "of the file itself)");
    case detail::PathKind::Special:
      throw RunLogError(path, "cannot create: it exists and is not a regular file");
    case detail::PathKind::OtherFile:
      throw RunLogError(path,
                        "cannot create: it exists and is " + what +
                            "; rctune never replaces such a file (not even with --force): choose another "
                            "--out");
    case detail::PathKind::Trace:
      if (!replace)
        throw RunLogError(
            path, "cannot create: it exists and holds " + what +
                      "; continue it with --resume, replace it with --force, or choose another --out");
      return;
  }
}

// Removes `path` if it still names the file of `lock` (a file this process created and holds).
void remove_own(const std::string& path, const detail::WriterLock& lock) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && lock.is_inode(st.st_dev, st.st_ino)) ::unlink(path.c_str());
}

}  // namespace

RunWriter RunWriter::create(const std::string& path, const RunInfo& info, bool replace) {
  Quiet quiet;
  if (path.empty()) throw RunLogError(path, "cannot create: the path is empty");
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->info = info;
  impl->info.end_time = 0;
  impl->info.resume_times.clear();
  impl->resumed.path = path;
  impl->resumed.format_version = kFormatVersion;
  impl->resumed.info = impl->info;

  // The file is created (O_EXCL) and locked before HDF5 writes a byte to it: an existing file is
  // never truncated. A trace replaced with --force is built under a temporary name beside it and
  // renamed over it once written, while this process holds the old one's lock.
  std::string target = path;  // where HDF5 creates the file
  detail::WriterLock old_lock;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0 && errno != EEXIST)
    throw RunLogError(path, std::string("cannot create: ") + std::strerror(errno));
  if (fd >= 0) {
    impl->lock = detail::WriterLock(fd, path, "cannot create");
  } else {
    refuse_existing(path, replace);
    old_lock =
        detail::WriterLock(detail::open_for_lock(path, true, "cannot replace it"), path, "cannot replace it");
    std::string what;
    if (detail::classify_path(path, &what) != detail::PathKind::Trace)  // changed meanwhile
      refuse_existing(path, replace);
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
    target = dir + "." + path.substr(slash == std::string::npos ? 0 : slash + 1) + ".rctune-new." +
             std::to_string(::getpid());
    fd = ::open(target.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
      throw RunLogError(path, "cannot create its replacement '" + target + "': " + std::strerror(errno));
    impl->lock = detail::WriterLock(fd, target, "cannot create");
  }
  try {
    Handle fapl = detail::writer_access_plist();
    impl->file = detail::open_file_no_inherit(
        [&] { return H5Fcreate(target.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()); });
    if (!impl->file.valid()) detail::fail(path, "cannot create");
    impl->require_locked_file("cannot create");
    impl->guarded("cannot write", [&] {
      write_run_info(impl->file.get(), impl->info);
      Handle gcpl(H5Pcreate(H5P_GROUP_CREATE));
      H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
      Handle tasks(
          impl->check(H5Gcreate2(impl->file.get(), detail::kTasksGroup, H5P_DEFAULT, gcpl.get(), H5P_DEFAULT),
                      "cannot create /tasks"));
      impl->open_groups();
      impl->flush("cannot write");
    });
    if (target != path) {  // the replacement is complete: it takes the old trace's place
      impl->close_file("cannot write");
      if (::rename(target.c_str(), path.c_str()) != 0)
        throw RunLogError(path, "cannot replace it with '" + target + "': " + std::strerror(errno));
      target = path;
      impl->guarded("cannot open", [&] { impl->open_again("cannot open"); });
    }
  } catch (...) {
    // Nothing of this run is in the file yet: remove what this call created.
    {
      Quiet q;
      impl->close_file_quietly();
    }
    remove_own(target, impl->lock);
    throw;
  }
  return RunWriter(std::move(impl));
}

namespace {

// Indices (rounds) must increase row by row: a resume continues after the last row and replays the
// rows in order, so a row out of order would have the rows after it dropped and measured again.
// `what` names the rows ("task 'x': sample"), `key_name` the ordering column of `key`.
template <typename Record, typename Key>
void require_increasing(const std::string& path, const std::string& what, const std::vector<Record>& rows,
                        const char* key_name, Key key) {
  for (std::size_t r = 1; r < rows.size(); ++r)
    if (key(rows[r]) <= key(rows[r - 1]))
      throw RunLogError(path,
                        "cannot resume: " + what + " row " + std::to_string(r) + " has " + key_name + " " +
                            std::to_string(key(rows[r])) + ", not above " + std::to_string(key(rows[r - 1])) +
                            " of row " + std::to_string(r - 1) +
                            " (rctune writes them in increasing order: was the file edited?); nothing was "
                            "changed; `rctune report` still reads it");
}

// The ordering key of a task's samples and LLM calls, and of the allocations.
constexpr auto index_of = [](const auto& r) -> int64_t { return r.index; };
constexpr auto round_of = [](const AllocationRecord& a) -> int64_t { return a.round; };

}  // namespace

RunWriter RunWriter::open_for_resume(const std::string& path,
                                     const std::function<void(const RunLog&)>& accept) {
  Quiet quiet;
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->lock = detail::WriterLock(detail::open_for_lock(path, false, "cannot open for writing"), path,
                                  "cannot open for writing");
  impl->file = detail::open_file(path, true);
  impl->require_locked_file("cannot open");
  // A run killed while the file grew can leave its end-of-allocation mark short of what was
  // written: set it to the file's size so that everything written can be read.
  detail::repair_eoa(impl->file.get());
  detail::FileRows file_rows;
  impl->resumed = detail::read_file(impl->file.get(), path, &file_rows);
  const std::vector<detail::TableRows>& rows = file_rows.tasks;
  if (accept) accept(impl->resumed);
  for (const TaskLog& t : impl->resumed.tasks) {
    require_increasing(path, "task '" + t.info.name + "': sample", t.samples, "index", index_of);
    require_increasing(path, "task '" + t.info.name + "': LLM call", t.llm_calls, "index", index_of);
  }
  require_increasing(path, "allocation", impl->resumed.allocations, "round", round_of);
  impl->info = impl->resumed.info;
  impl->info.resume_times.push_back(unix_now());
  impl->guarded("cannot open", [&] { impl->open_groups(); });
  for (std::size_t k = 0; k < impl->resumed.tasks.size(); ++k) {
    const TaskLog& tr = impl->resumed.tasks[k];
    TaskState ts;
    ts.info = tr.info;
    ts.group_name = tr.group.substr(tr.group.rfind('/') + 1);
    impl->group_names.insert(ts.group_name);
    impl->guarded("cannot open task '" + tr.info.name + "'", [&] { impl->open_task_objects(ts); });
    ts.num_samples = tr.samples.size();
    ts.any_sample = !tr.samples.empty();
    if (ts.any_sample) ts.last_index = tr.samples.back().index;
    for (const auto& n : tr.tree) ts.tree_keys.push_back(tree_key(n));
    ts.tree_has_hash = detail::has_member(ts.tree.get(), detail::kTreeHash);
    ts.num_best = tr.best_history.size();
    ts.num_llm_calls = tr.llm_calls.size();
    if (!tr.llm_calls.empty()) ts.last_llm_index = tr.llm_calls.back().index;
    impl->tasks.push_back(std::move(ts));
  }
  impl->num_allocations = impl->resumed.allocations.size();
  if (impl->num_allocations > 0) impl->last_round = impl->resumed.allocations.back().round;
  if (file_rows.allocations > impl->num_allocations) {  // drop rows a crash left torn
    if (!impl->allocations.valid()) throw std::logic_error("trace: allocation rows without a table");
    impl->commit({impl->allocations.get()}, "cannot drop a torn allocation", [&] {
      hsize_t n = impl->num_allocations;
      if (H5Dset_extent(impl->allocations.get(), &n) < 0) detail::fail(path, "cannot drop a torn allocation");
    });
  }
  for (std::size_t k = 0; k < impl->tasks.size(); ++k) {
    TaskState& ts = impl->tasks[k];
    if (rows[k].samples > ts.num_samples) {  // drop rows a crash left torn
      impl->commit({ts.samples.get()}, "cannot drop a torn sample", [&] {
        hsize_t n = ts.num_samples;
        if (H5Dset_extent(ts.samples.get(), &n) < 0) detail::fail(path, "cannot drop a torn sample");
      });
    }
    if (rows[k].llm_calls > ts.num_llm_calls) {
      if (!ts.llm_calls.valid()) throw std::logic_error("trace: llm_calls rows without a table");
      impl->commit({ts.llm_calls.get()}, "cannot drop a torn LLM call", [&] {
        hsize_t n = ts.num_llm_calls;
        if (H5Dset_extent(ts.llm_calls.get(), &n) < 0) detail::fail(path, "cannot drop a torn LLM call");
      });
    }
  }
  for (auto& ts : impl->tasks) {
    const std::string what = "cannot clear what a crash left in task '" + ts.info.name + "'";
    // Each scrub that commits reopens the file and with it the task's handles: take them anew.
    impl->scrub_table(ts.samples.get(), ts.num_samples, what);
    impl->scrub_table(ts.tree.get(), ts.tree_keys.size(), what);
    if (ts.best.valid()) impl->scrub_table(ts.best.get(), ts.num_best, what);
    if (ts.llm_calls.valid()) impl->scrub_table(ts.llm_calls.get(), ts.num_llm_calls, what);
  }
  if (impl->allocations.valid())
    impl->scrub_table(impl->allocations.get(), impl->num_allocations,
                      "cannot clear what a crash left in the allocations table");
  impl->guarded("cannot open", [&] { impl->reopen("cannot open"); });  // forget the heap collections read
  impl->commit({impl->root.get()}, "cannot write",
               [&] { detail::write_attr(impl->file.get(), "resume_times", impl->info.resume_times); });
  return RunWriter(std::move(impl));
}

void RunWriter::set_budget(int64_t budget) {
  impl_->info.budget = budget;
  impl_->commit({impl_->root.get()}, "cannot write",
                [&] { detail::write_attr(impl_->file.get(), "budget", budget); });
}

void RunWriter::set_start_options(const std::string& options) {
  impl_->info.start_options = options;
  impl_->commit({impl_->root.get()}, "cannot write",
                [&] { detail::write_attr(impl_->file.get(), "start_options", options); });
}

const std::string& RunWriter::path() const { return impl_->path; }
const RunInfo& RunWriter::info() const { return impl_->info; }
const RunLog& RunWriter::resumed() const { return impl_->resumed; }
bool RunWriter::is_open() const { return impl_ && impl_->file.valid(); }

std::optional<RunWriter::Task> RunWriter::find_task(const std::string& name) const {
  for (std::size_t t = 0; t < impl_->tasks.size(); ++t)
    if (impl_->tasks[t].info.name == name) return t;
  return std::nullopt;
}

const TaskInfo& RunWriter::task_info(Task t) const { return impl_->task(t).info; }
std::size_t RunWriter::num_samples(Task t) const { return impl_->task(t).num_samples; }

RunWriter::Task RunWriter::begin_task(const TaskInfo& task) {
  Quiet quiet;
  impl_->require_open();
  if (auto existing = find_task(task.name)) {
    if (impl_->tasks[*existing].info.workload != task.workload)
      throw std::invalid_argument("trace file '" + impl_->path + "': task '" + task.name +
                                  "' is already in the file with a different workload");
    return *existing;
  }
  impl_->tasks.emplace_back();
  TaskState& ts = impl_->tasks.back();
  ts.info = task;
  ts.group_name = impl_->unique_group_name(task.name);
  try {
    impl_->commit({impl_->tasks_group.get()}, "cannot write task '" + task.name + "'", [&] {
      ts.group = Handle(impl_->check(
          H5Gcreate2(impl_->tasks_group.get(), ts.group_name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
          "cannot create task group"));
      write_task_info(ts.group.get(), task, static_cast<int64_t>(impl_->tasks.size()));
      ts.samples = impl_->create_table(ts.group.get(), detail::kSamples,
                                       detail::row_type<SampleRecord>().file(), detail::kSampleChunk);
      ts.tree = impl_->create_table(ts.group.get(), detail::kTree, detail::row_type<TreeNode>().file(),
                                    detail::kTreeChunk);
    });
  } catch (...) {
    impl_->group_names.erase(impl_->tasks.back().group_name);
    impl_->tasks.pop_back();
    throw;
  }
  return impl_->tasks.size() - 1;
}

void RunWriter::set_reference(Task t, double reference_seconds, double reference_gflops,
                              const std::string& estimate) {
  Quiet quiet;
  TaskState& ts = impl_->task(t);
  impl_->commit({ts.group.get()}, "cannot write task '" + ts.info.name + "'", [&] {
    detail::write_attr(ts.group.get(), "reference_seconds", reference_seconds);
    detail::write_attr(ts.group.get(), "reference_gflops", reference_gflops);
    // Only when estimated, so that traces of measured baselines keep their attributes as they were.
    if (!estimate.empty()) detail::write_attr(ts.group.get(), "reference_estimate", estimate);
  });
  ts.info.reference_seconds = reference_seconds;
  ts.info.reference_gflops = reference_gflops;
  ts.info.reference_estimate = estimate;
}

void RunWriter::set_library(Task t, const std::string& name, double seconds, double gflops) {
  Quiet quiet;
  TaskState& ts = impl_->task(t);
  impl_->commit({ts.group.get()}, "cannot write task '" + ts.info.name + "'", [&] {
    detail::write_fixed_attr(ts.group.get(), "library_name", name);
    detail::write_attr(ts.group.get(), "library_seconds", seconds);
    detail::write_attr(ts.group.get(), "library_gflops", gflops);
  });
  ts.info.library_name = name;
  ts.info.library_seconds = seconds;
  ts.info.library_gflops = gflops;
}

void RunWriter::set_baselines_source(Task t, const std::string& source) {
  Quiet quiet;
  TaskState& ts = impl_->task(t);
  impl_->commit({ts.group.get()}, "cannot write task '" + ts.info.name + "'",
                [&] { detail::write_attr(ts.group.get(), "baselines_source", source); });
  ts.info.baselines_source = source;
}

namespace {

// The key (index, round) of the last of `records`, after checking that each key follows the one
// before it (`last` when `any`: records were written before); `what` starts the message and names
// the key ("trace file 'x': task 'y': sample index"), `again` the record written twice.
template <typename R, typename Key>
int64_t last_key_after(std::span<const R> records, bool any, int64_t last, const std::string& what,
                       const char* again, Key key) {
  for (const auto& r : records) {
    if (any && key(r) <= last)
      throw std::invalid_argument(what + " " + std::to_string(key(r)) + " does not follow " +
                                  std::to_string(last) + " (" + again + " recorded twice?)");
    any = true;
    last = key(r);
  }
  return last;
}

}  // namespace

void RunWriter::append_sample(Task t, const SampleRecord& s) {
  append_samples(t, std::span<const SampleRecord>(&s, 1));
}

void RunWriter::append_samples(Task t, std::span<const SampleRecord> samples) {
  Quiet quiet;
  TaskState& ts = impl_->task(t);
  if (samples.empty()) return;
  const int64_t last = last_key_after(
      samples, ts.any_sample, ts.last_index,
      "trace file '" + impl_->path + "': task '" + ts.info.name + "': sample index", "a sample", index_of);
  const std::size_t n_rows = samples.size();
  const std::vector<std::byte> rows = detail::to_rows(samples);
  const std::string what = "cannot write samples of task '" + ts.info.name + "'";
  impl_->commit({ts.samples.get()}, what, [&] {
    impl_->append_rows(ts.samples.get(), detail::row_type<SampleRecord>().mem(), ts.num_samples, n_rows,
                       rows.data(), what);
  });
  ts.num_samples += n_rows;
  ts.any_sample = true;
  ts.last_index = last;
}

void RunWriter::write_tree(Task t, const std::vector<TreeNode>& nodes) {
  Quiet quiet;
  TaskState& ts = impl_->task(t);
  std::vector<TreeKey> keys;
  keys.reserve(nodes.size());
  for (const auto& n : nodes) keys.push_back(tree_key(n));
  // Rows [0, same) keep id, parent, action and hash: only their numbers are rewritten, in place.
  std::size_t same = 0;
  while (same < keys.size() && same < ts.tree_keys.size() && keys[same] == ts.tree_keys[same]) ++same;
  const std::string what = "cannot write the tree of task '" + ts.info.name + "'";
  const detail::RowType& type = detail::row_type<TreeNode>();
  const std::vector<std::byte> rows = detail::to_rows(std::span<const TreeNode>(nodes));
  // The stored tree is a prefix: update numbers, append the rest. A table of an older file, without
  // the hash column, is rebuilt (in place, the hashes of new rows would be dropped).
  if (same == ts.tree_keys.size() && ts.tree_has_hash) {
    impl_->commit({ts.tree.get()}, what, [&] {
      hsize_t n = nodes.size();
      if (H5Dset_extent(ts.tree.get(), &n) < 0) detail::fail(impl_->path, what);
      // The numeric columns but the hash (the key's columns stay as they are).
      const detail::Handle stats = type.mem_with([](const detail::RowType::Column& c) {
        return c.mem != detail::types().str.get() && std::strcmp(c.name, detail::kTreeHash) != 0;
      });
      impl_->write_rows(ts.tree.get(), stats.get(), 0, same, rows.data(), what);
      impl_->write_rows(ts.tree.get(), type.mem(), same, nodes.size() - same,
                        rows.data() + same * type.row_size(), what);
    });
  } else {  // another tree: build it beside the old one, then swap the links
    impl_->commit({ts.group.get()}, what, [&] {
      impl_->release_after_flush.push_back(std::move(ts.tree));
      ts.tree = impl_->replace_table(ts.group.get(), detail::kTree, detail::kTreeNew, type.file(), type.mem(),
                                     detail::kTreeChunk, nodes.size(), rows.data(), what);
    });
  }
  ts.tree_keys = std::move(keys);
  ts.tree_has_hash = true;
}

void RunWriter::write_best(Task t, const BestSchedule& best) {
  Quiet quiet;
  TaskState& ts = impl_->task(t);
  const std::string what = "cannot write the best schedule of task '" + ts.info.name + "'";
  const detail::RowType& type = detail::row_type<BestSchedule>();
  const std::vector<std::byte> row = detail::to_rows(std::span<const BestSchedule>(&best, 1));
  impl_->append_rows_creating(ts.group.get(), ts.best, detail::kBest, type, detail::kBestChunk, ts.num_best,
                              1, row.data(), what);
  ts.num_best += 1;
}

void RunWriter::append_llm_calls(Task t, std::span<const LlmCallRecord> calls) {
  Quiet quiet;
  TaskState& ts = impl_->task(t);
  if (calls.empty()) return;
  const int64_t last = last_key_after(
      calls, ts.num_llm_calls > 0, ts.last_llm_index,
      "trace file '" + impl_->path + "': task '" + ts.info.name + "': LLM call index", "a call", index_of);
  const detail::RowType& type = detail::row_type<LlmCallRecord>();
  const std::size_t n_rows = calls.size();
  const std::vector<std::byte> rows = detail::to_rows(calls);
  const std::string what = "cannot write the LLM calls of task '" + ts.info.name + "'";
  impl_->append_rows_creating(ts.group.get(), ts.llm_calls, detail::kLlmCalls, type, detail::kLlmCallChunk,
                              ts.num_llm_calls, n_rows, rows.data(), what);
  ts.num_llm_calls += n_rows;
  ts.last_llm_index = last;
}

void RunWriter::append_allocations(std::span<const AllocationRecord> rows) {
  Quiet quiet;
  impl_->require_open();
  if (rows.empty()) return;
  const int64_t last =
      last_key_after(rows, impl_->num_allocations > 0, impl_->last_round,
                     "trace file '" + impl_->path + "': allocation round", "a round", round_of);
  const detail::RowType& type = detail::row_type<AllocationRecord>();
  const std::vector<std::byte> data = detail::to_rows(rows);
  impl_->append_rows_creating(impl_->root.get(), impl_->allocations, detail::kAllocations, type,
                              detail::kAllocationChunk, impl_->num_allocations, rows.size(), data.data(),
                              "cannot write the allocations");
  impl_->num_allocations += rows.size();
  impl_->last_round = last;
}

void RunWriter::write_rank_stats(const std::vector<RankStats>& ranks) {
  Quiet quiet;
  impl_->require_open();
  const detail::RowType& type = detail::row_type<RankStats>();
  const std::vector<std::byte> rows = detail::to_rows(std::span<const RankStats>(ranks));
  const std::string what = "cannot write the rank statistics";
  // Built beside the old table, then the links are swapped: the root's header, held back until the
  // new table is on disk, links either the old table or the new one.
  impl_->commit({impl_->root.get()}, what, [&] {
    impl_->replace_table(impl_->root.get(), detail::kRanks, detail::kRanksNew, type.file(), type.mem(),
                         detail::kRankChunk, ranks.size(), rows.data(), what);
  });
}

void RunWriter::write_rank_trees(Task t, const std::map<int32_t, std::vector<TreeNode>>& trees) {
  Quiet quiet;
  TaskState& ts = impl_->task(t);
  const detail::RowType& type = detail::row_type<detail::RankTreeNode>();
  std::vector<detail::RankTreeNode> nodes_of_ranks;
  for (const auto& [rank, nodes] : trees)
    for (const auto& n : nodes) nodes_of_ranks.push_back({rank, n});
  const std::vector<std::byte> rows = detail::to_rows(std::span<const detail::RankTreeNode>(nodes_of_ranks));
  const std::string what = "cannot write the rank trees of task '" + ts.info.name + "'";
  // Built beside the old table, then the links are swapped, with the task group's header held back.
  impl_->commit({ts.group.get()}, what, [&] {
    impl_->replace_table(ts.group.get(), detail::kRankTrees, detail::kRankTreesNew, type.file(), type.mem(),
                         detail::kRankTreeChunk, nodes_of_ranks.size(), rows.data(), what);
  });
}

void RunWriter::finish(double end_time) {
  Quiet quiet;
  impl_->require_open();
  impl_->commit({impl_->root.get()}, "cannot write", [&] {
    detail::write_attr(impl_->file.get(), "end_time", end_time);
    detail::write_fixed_attr(impl_->file.get(), "end_time_iso", iso8601(end_time));
  });
  impl_->info.end_time = end_time;
  impl_->close_file("cannot close");  // close it ourselves to see the result
  impl_->tasks.clear();
}

}  // namespace rctune::runlog
