// Reading a trace file: read_run_log() and the part of open_for_resume that reads back.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "h5util.h"
#include "writer_lock.h"

namespace rctune::runlog {

namespace detail {

Handle open_file(const std::string& path, bool write) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw RunLogError(path, std::string("cannot open: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw RunLogError(path, "cannot open: it is a directory");
  htri_t is_h5 = H5Fis_hdf5(path.c_str());
  if (is_h5 < 0) fail(path, "cannot open");
  if (is_h5 == 0) throw RunLogError(path, "not an rctune trace: not an HDF5 file");
  Handle fapl = write ? writer_access_plist() : file_access_plist();
  Handle f = open_file_no_inherit(
      [&] { return H5Fopen(path.c_str(), write ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.get()); });
  if (!f.valid()) fail(path, write ? "cannot open for writing" : "cannot open");
  return f;
}

namespace {

// Reads all rows of a 1-D table of R, retrying without the last rows (up to max_drop) when the
// read fails: a crash during a flush can leave the newest rows unreadable. Columns added to the
// format later that the table lacks read as zero.
template <typename R>
std::vector<R> read_table(hid_t dset, std::size_t max_drop, std::size_t* rows_in_file) {
  const RowType& type = row_type<R>();
  const Handle memtype = type.mem_for(dset);
  Handle space(H5Dget_space(dset));
  hsize_t n = 0;
  if (H5Sget_simple_extent_ndims(space.get()) != 1) throw std::runtime_error("table is not one-dimensional");
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  if (rows_in_file) *rows_in_file = static_cast<std::size_t>(n);
  std::string first_cause;
  for (hsize_t drop = 0; drop <= std::min<hsize_t>(max_drop, n); ++drop) {
    hsize_t m = n - drop;
    if (m == 0) return {};
    std::vector<std::byte> rows(type.row_size() * m);  // zeroed: absent columns read as 0
    Handle fspace(H5Dget_space(dset));
    hsize_t start = 0;
    H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, &start, nullptr, &m, nullptr);
    Handle mspace(H5Screate_simple(1, &m, nullptr));
    if (H5Dread(dset, memtype.get(), mspace.get(), fspace.get(), H5P_DEFAULT, rows.data()) < 0) {
      std::string cause = hdf5_cause();
      if (first_cause.empty()) first_cause = cause;
      continue;
    }
    std::vector<R> out = from_rows<R>(rows.data(), m);
    H5Dvlen_reclaim(memtype.get(), mspace.get(), H5P_DEFAULT, rows.data());
    return out;
  }
  throw std::runtime_error("table is unreadable: " + first_cause);
}

template <typename T>
void get(hid_t obj, const char* name, T& out) {
  read_attr(obj, name, out);
}

struct TaskEntry {
  int64_t order = 0;
  TaskLog trace;
  TableRows rows;
};

// A crash between extending a table and writing its rows leaves fill-value rows (index 0, empty
// strings) at the end: drop those. Rows with data are kept whatever their index (a resume refuses a
// table whose indices do not increase, RunWriter::open_for_resume).
bool is_fill(const SampleRecord& s) { return s.index == 0 && s.strategy.empty() && s.trace.empty(); }
bool is_fill(const LlmCallRecord& c) { return c.index == 0 && c.model.empty(); }
bool is_fill(const AllocationRecord& a) { return a.round == 0 && a.task.empty() && a.scheduler.empty(); }

int64_t order_of(const SampleRecord& s) { return s.index; }
int64_t order_of(const LlmCallRecord& c) { return c.index; }
int64_t order_of(const AllocationRecord& a) { return a.round; }

template <typename Record>
void drop_fill_rows(std::vector<Record>& v) {
  while (v.size() > 1 && is_fill(v.back()) && order_of(v.back()) <= order_of(v[v.size() - 2])) v.pop_back();
  if (v.size() == 1 && is_fill(v.back())) v.pop_back();
}

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

TaskEntry read_task(hid_t tasks, const std::string& name) {
  TaskEntry e;
  Handle g(H5Gopen2(tasks, name.c_str(), H5P_DEFAULT));
  if (!g.valid()) throw std::runtime_error("cannot open task group '" + name + "'");
  e.trace.group = std::string("/") + kTasksGroup + "/" + name;
  TaskInfo& info = e.trace.info;
  info.name = name;
  get(g.get(), "name", info.name);
  get(g.get(), "workload", info.workload);
  get(g.get(), "weight", info.weight);
  get(g.get(), "flops", info.flops);
  get(g.get(), "reference_seconds", info.reference_seconds);
  get(g.get(), "reference_gflops", info.reference_gflops);
  get(g.get(), "reference_estimate", info.reference_estimate);  // optional: only when estimated
  // Optional: absent in traces written before the library baseline existed.
  get(g.get(), "library_name", info.library_name);
  get(g.get(), "library_seconds", info.library_seconds);
  get(g.get(), "library_gflops", info.library_gflops);
  get(g.get(), "baselines_source", info.baselines_source);  // optional: only when not measured in the run
  get(g.get(), "order", e.order);

  if (H5Lexists(g.get(), kSamples, H5P_DEFAULT) > 0) {
    Handle d(H5Dopen2(g.get(), kSamples, H5P_DEFAULT));
    if (!d.valid()) throw std::runtime_error("cannot open " + e.trace.group + "/samples");
    e.trace.samples = read_table<SampleRecord>(d.get(), 2, &e.rows.samples);
    drop_fill_rows(e.trace.samples);
  }
  if (H5Lexists(g.get(), kTree, H5P_DEFAULT) > 0) {
    Handle d(H5Dopen2(g.get(), kTree, H5P_DEFAULT));
    if (!d.valid()) throw std::runtime_error("cannot open " + e.trace.group + "/tree");
    // The structural_hash column is absent in files written before it existed: read as 0.
    // The tree is updated in place (RunWriter::write_tree): HDF5 writes the unchanged strings of its
    // rows anew, and a write that failed half-way (a full disk) can leave them pointing to strings
    // that never reached the file. The tree is the search's state, not a result: such a tree reads
    // as empty (and a resume writes a new one), so that the samples stay readable.
    try {
      e.trace.tree = read_table<TreeNode>(d.get(), 0, nullptr);
    } catch (const std::runtime_error&) {
      e.trace.tree.clear();
    }
  }
  if (H5Lexists(g.get(), kBest, H5P_DEFAULT) > 0) {
    Handle d(H5Dopen2(g.get(), kBest, H5P_DEFAULT));
    if (!d.valid()) throw std::runtime_error("cannot open " + e.trace.group + "/best");
    e.trace.best_history = read_table<BestSchedule>(d.get(), 0, nullptr);
    if (!e.trace.best_history.empty()) e.trace.best = e.trace.best_history.back();
  }
  // Optional: written by the first append_llm_calls, absent in traces without LLM requests.
  if (H5Lexists(g.get(), kLlmCalls, H5P_DEFAULT) > 0) {
    Handle d(H5Dopen2(g.get(), kLlmCalls, H5P_DEFAULT));
    if (!d.valid()) throw std::runtime_error("cannot open " + e.trace.group + "/" + kLlmCalls);
    e.trace.llm_calls = read_table<LlmCallRecord>(d.get(), 2, &e.rows.llm_calls);
    drop_fill_rows(e.trace.llm_calls);
  }
  // Optional: written by the first write_rank_trees (many-rank runs), absent otherwise.
  if (H5Lexists(g.get(), kRankTrees, H5P_DEFAULT) > 0) {
    Handle d(H5Dopen2(g.get(), kRankTrees, H5P_DEFAULT));
    if (!d.valid()) throw std::runtime_error("cannot open " + e.trace.group + "/" + kRankTrees);
    for (RankTreeNode& r : read_table<RankTreeNode>(d.get(), 0, nullptr))
      e.trace.rank_trees[r.rank].push_back(std::move(r.node));
  }
  return e;
}

}  // namespace

RunLog read_file(hid_t file, const std::string& path, FileRows* rows) {
  RunLog run;
  run.path = path;
  try {
    std::string format;
    if (!read_attr(file, "format", format) || format != kFormatName)
      throw RunLogError(path,
                        std::string("not an rctune trace: the root group has no attribute format = \"") +
                            kFormatName + "\"");
    int64_t version = 0;
    read_attr(file, "format_version", version);
    if (version < 1 || version > kFormatVersion)
      throw RunLogError(path, "trace format version " + std::to_string(version) +
                                  " is not supported (this rctune reads version 1 to " +
                                  std::to_string(kFormatVersion) + ")");
    run.format_version = static_cast<int>(version);
    RunInfo& i = run.info;
    get(file, "config", i.config_text);
    get(file, "config_path", i.config_path);
    get(file, "command_line", i.command_line);
    get(file, "version", i.version);
    get(file, "git_commit", i.git_commit);
    get(file, "host", i.host);
    get(file, "cpu_model", i.cpu_model);
    get(file, "execution_space", i.execution_space);
    get(file, "strategy", i.strategy);
    get(file, "proposer", i.proposer);
    get(file, "seed", i.seed);
    get(file, "budget", i.budget);
    int64_t ranks = 1;
    get(file, "num_ranks", ranks);
    i.num_ranks = static_cast<int>(ranks);
    get(file, "start_time", i.start_time);
    get(file, "end_time", i.end_time);
    get(file, "resume_times", i.resume_times);
    get(file, "start_options", i.start_options);

    std::vector<TaskEntry> entries;
    if (H5Lexists(file, kTasksGroup, H5P_DEFAULT) > 0) {
      Handle tasks(H5Gopen2(file, kTasksGroup, H5P_DEFAULT));
      std::vector<std::string> names;
      hsize_t idx = 0;
      H5Literate(tasks.get(), H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, &names);
      for (const auto& n : names) entries.push_back(read_task(tasks.get(), n));
    }
    std::stable_sort(entries.begin(), entries.end(),
                     [](const TaskEntry& a, const TaskEntry& b) { return a.order < b.order; });
    // Optional: written by the first write_rank_stats, absent in older files.
    if (H5Lexists(file, kRanks, H5P_DEFAULT) > 0) {
      Handle d(H5Dopen2(file, kRanks, H5P_DEFAULT));
      if (!d.valid()) throw std::runtime_error(std::string("cannot open /") + kRanks);
      run.ranks = read_table<RankStats>(d.get(), 0, nullptr);
    }
    // Optional: written by the first append_allocations (runs with a task scheduler), absent
    // otherwise and in older files. Appended as samples are: a crash can leave a torn last row.
    std::size_t allocation_rows = 0;
    if (H5Lexists(file, kAllocations, H5P_DEFAULT) > 0) {
      Handle d(H5Dopen2(file, kAllocations, H5P_DEFAULT));
      if (!d.valid()) throw std::runtime_error(std::string("cannot open /") + kAllocations);
      run.allocations = read_table<AllocationRecord>(d.get(), 2, &allocation_rows);
      drop_fill_rows(run.allocations);
    }
    if (rows) *rows = FileRows{{}, allocation_rows};
    for (auto& e : entries) {
      run.tasks.push_back(std::move(e.trace));
      if (rows) rows->tasks.push_back(e.rows);
    }
  } catch (const RunLogError&) {
    throw;
  } catch (const std::exception& e) {
    throw RunLogError(path, std::string("cannot read: ") + e.what());
  }
  return run;
}

}  // namespace detail

RunLog read_run_log(const std::string& path) {
  detail::Quiet quiet;
  detail::Handle f = detail::open_file(path, false);
  try {
    return detail::read_file(f.get(), path, nullptr);
  } catch (const RunLogError& e) {
    std::string hint = detail::eoa_hint(f.get(), path);
    if (hint.empty()) throw;
    throw RunLogError(path,
                      std::string(e.what()).substr(std::string("trace file '" + path + "': ").size()) + hint);
  }
}

}  // namespace rctune::runlog
