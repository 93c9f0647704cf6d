// Rank 0's coordinator of a many-rank run (include/rctune/dist/hub.h).
#include "rctune/dist/hub.h"

#include <fcntl.h>
#include <mpi.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <unordered_map>

#include "rctune/database/database.h"
#include "rctune/dist/codec.h"
#include "rctune/dist/database_start.h"
#include "rctune/dist/protocol.h"
#include "rctune/dist/run_setup.h"
#include "rctune/dist/stop_signals.h"
#include "rctune/dist/task_rounds.h"
#include "rctune/dist/tree_merge.h"
#include "rctune/ir/workload.h"
#include "rctune/llm/wire.h"
#include "rctune/runtime/jit_compiler.h"
#include "rctune/search/stop_request.h"
#include "rctune/search/task_scheduler.h"
#include "rctune/search/tuner.h"

namespace rctune::dist {

namespace {

using nlohmann::json;
using clock = std::chrono::steady_clock;
double since(clock::time_point t) { return std::chrono::duration<double>(clock::now() - t).count(); }

// What each rank was doing, readable from a signal handler (rank 0 prints it when mpirun ends the
// job, e.g. because a rank died): fixed buffers and lock-free timestamps, formatted by hand.
struct SignalStatus {
  static constexpr size_t kText = 160;
  std::vector<std::array<char, kText>> doing;
  std::unique_ptr<std::atomic<int64_t>[]> heard_ms;
  std::array<char, 512> trace_path{};
  std::array<char, 600> report_path{};  // the trace's path + ".stopped.txt"
};
SignalStatus* signal_status = nullptr;

int64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void put(int fd, const char* text) { (void)!::write(fd, text, std::strlen(text)); }

// Writes a non-negative number through `out` (a callable taking const char*), without allocating.
template <typename Out>
void put_number(Out&& out, int64_t v) {
  char buf[24];
  int n = 0;
  if (v < 0) v = 0;
  do buf[n++] = static_cast<char>('0' + v % 10);
  while ((v /= 10) > 0);
  char text[24];
  for (int i = 0; i < n; ++i) text[i] = buf[n - 1 - i];
  text[n] = '\0';
  out(text);
}

// What each rank was doing and where the trace is, through `out`. Async-signal-safe when `out` is
// (clock_gettime and hand formatting only): the signal handler and the failure message share it.
template <typename Out>
void describe_ranks(const SignalStatus& st, Out&& out) {
  out("what each rank was doing (as rank 0 last heard):\n");
  const int64_t now = now_ms();
  for (size_t r = 0; r < st.doing.size(); ++r) {
    out("  rank ");
    put_number(out, static_cast<int64_t>(r));
    out(": ");
    out(st.doing[r].data());
    const int64_t ago = now - st.heard_ms[r].load();
    out("  (");
    put_number(out, ago / 1000);
    out(".");
    put_number(out, ago / 100 % 10);
    out(" s ago)\n");
  }
  out("every sample rank 0 received is in the trace ");
  out(st.trace_path.data());
  out("; continue it with --resume\n");
}

// Whether the stop report may be written at `path`: nothing is there, or a report an earlier
// stop of a run wrote (a file of the user's, a link or a directory is never replaced).
bool report_path_is_free(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT;
  if (!S_ISREG(st.st_mode)) return false;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return false;
  static constexpr char kHead[] = "rctune: stopped by signal ";
  char head[sizeof kHead - 1] = {};
  const ssize_t n = ::pread(fd, head, sizeof head, 0);
  ::close(fd);
  return n == static_cast<ssize_t>(sizeof head) && std::memcmp(head, kHead, sizeof head) == 0;
}

void write_report(int fd, int sig, const SignalStatus& st) {
  auto out = [fd](const char* text) { put(fd, text); };
  out("rctune: stopped by signal ");
  put_number(out, sig);
  out("\n");
  describe_ranks(st, out);
}

// Async-signal-safe: open, write, close and clock_gettime only. The report goes to a file beside
// the trace too: when mpirun ends a job it may stop forwarding the ranks' output.
void write_stop_report(int sig) {
  if (SignalStatus* st = signal_status) {
    const int fd =
        st->report_path[0] == '\0'
            ? -1
            : ::open(st->report_path.data(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd >= 0) {
      write_report(fd, sig, *st);
      ::close(fd);
    }
    put(STDERR_FILENO, "\n");
    write_report(STDERR_FILENO, sig, *st);
    if (fd >= 0) {
      put(STDERR_FILENO, "(this report is also in ");
      put(STDERR_FILENO, st->report_path.data());
      put(STDERR_FILENO, ")\n");
    }
  } else {
    auto out = [](const char* text) { put(STDERR_FILENO, text); };
    out("\nrctune: stopped by signal ");
    put_number(out, sig);
    out("\n");
  }
}

// The round of a task in flight: the group tuning it and what its ranks sent in it.
struct Round {
  // A confirmation or a round of the run's TaskRounds; none: the group's first rank measures the
  // task's baselines.
  std::optional<RoundWork> work;
  int group = 0;
  std::vector<int> members;                                  // world ranks, in order
  std::map<int, std::vector<runlog::SampleRecord>> rows_by;  // measured records of the round, by member
  std::map<int, std::map<int, size_t>> seen;                 // seen[m][p]: p's rows m has been told about
  std::map<int, std::vector<search::RootStatistic>> root;    // latest root statistics by member
  std::map<int, std::vector<uint64_t>> picks;                // programs each waiting member announced
  std::map<int, std::vector<runlog::TreeNode>>
      latest_trees;          // members' latest trees sent with synchronisations
  bool trees_fresh = false;  // one came since the last write
  std::set<int> sync_waiting, done;
  std::map<int, TaskReport> reports;
  int64_t measured = 0;      // samples measured in the round
  int64_t spent_before = 0;  // the task's samples before the round (earlier sessions included)
  clock::time_point start = clock::now();
};

// One task of the run, across the rounds groups tune it in.
struct TaskRun {
  size_t ti = 0;  // in the config
  std::string name;
  runlog::RunWriter::Task wt = 0;
  int64_t recorded = 0;  // measured samples in the file before this session
  const runlog::TaskLog* resumed = nullptr;
  bool reference_known = false;
  bool baselines_taken = false;  // a group's first rank measures them
  double reference_gflops = 0;
  // Every measured record of the task in the file: the ranks of its next round observe them.
  std::vector<runlog::SampleRecord> measured_rows;
  // Each rank's trees of the task in this session, merged over the rounds it tuned.
  std::map<int, std::vector<runlog::TreeNode>> rank_trees;
  std::set<int> ranks;                                  // ranks that measured samples of it in this session
  search::ProposerFailures proposer_failures;           // what its ranks' proposers dropped (this session)
  std::unordered_map<uint64_t, int64_t> index_of_hash;  // the sample that measured a program (ok first)
  std::set<uint64_t> ok_hashes;
  int64_t llm_index = 0;
  int64_t next_index = 0;                           // of the next sample in the file
  int64_t measured = 0, failures = 0, illegal = 0;  // this session
  bool found = false;
  runlog::BestSchedule best;
  std::optional<Round> round;  // the round in flight (at most one: the scheduler hands out one per task)
  clock::time_point last_print{};
  DatabaseStart db;       // what the tuning database offers it; its seeds go with its first round
  size_t seeds_sent = 0;  // of db.seeds: sent with a round (the first with the confirmation)
};

struct Group {
  std::vector<int> ranks;
  std::set<int> waiting_next;  // ranks that asked for their next task; all of them: the group is free
  std::optional<size_t> task;  // index into Hub::runs_ while the group tunes a round of it
  bool released = false;       // told that no task is left
};

// A request of one member to the language models, waiting at the hub.
struct LlmAsk {
  int rank = 0;
  size_t model = 0;
  std::vector<llm::ChatRequest> requests;
};

class Hub {
 public:
  Hub(const HubSetup& s, MessageQueue& from_local, MessageQueue& to_local)
      : s_(s),
        cfg_(*s.cfg),
        from_local_(from_local),
        to_local_(to_local),
        names_(task_names(cfg_)),
        scheduler_(config::effective_scheduler(cfg_)) {
    for (int r = 0; r < s_.world_size; r += s_.group_size) {
      Group g;
      for (int k = r; k < std::min(s_.world_size, r + s_.group_size); ++k) g.ranks.push_back(k);
      groups_.push_back(std::move(g));
    }
    // Every task is begun in the trace at once, heaviest first (as a plain run does).
    for (size_t ti : task_order(cfg_)) runs_.push_back(begin_task(ti));
    start_from_database();
    start_scheduler_once_baselines_known();
    status_.doing.resize(static_cast<size_t>(s_.world_size));
    status_.heard_ms = std::make_unique<std::atomic<int64_t>[]>(static_cast<size_t>(s_.world_size));
    for (int r = 0; r < s_.world_size; ++r) {
      set_doing(r, "starting");
      status_.heard_ms[static_cast<size_t>(r)] = now_ms();
    }
    std::strncpy(status_.trace_path.data(), s_.writer->path().c_str(), status_.trace_path.size() - 1);
    const std::string report = s_.writer->path() + kStoppedSuffix;
    if (report.size() < status_.report_path.size() && report_path_is_free(report))
      std::strncpy(status_.report_path.data(), report.c_str(), status_.report_path.size() - 1);
    signal_status = &status_;
    blocked_.assign(static_cast<size_t>(s_.world_size), false);
    result_.ranks.resize(static_cast<size_t>(s_.world_size));
    if (s_.llm)
      for (const llm::Endpoint& e : s_.llm->models) clients_.emplace_back(e, s_.llm->client);
  }

  ~Hub() { signal_status = nullptr; }

  HubResult run() {
    Backoff backoff;
    bool stopping = false;
    while (finished_ < s_.world_size) {
      if (!stopping && search::stop_requested()) {
        stopping = true;  // groups waiting for work are released now
        spdlog::info("stopping: no more rounds; waiting for the measurements in flight");
        dispatch_free_groups();
      }
      bool any = false;
      while (auto m = mpi_poll_from_members()) handle(*m), any = true;
      while (auto m = from_local_.try_pop()) handle(*m), any = true;
      any |= poll_llm();
      complete_sends();
      if (any) {
        backoff.reset();
      } else if (auto m = from_local_.pop_for(backoff.seconds())) {
        handle(*m);
        backoff.reset();
      } else {
        backoff.pause();
      }
    }
    for (auto& [buf, req] : sends_) MPI_Wait(&req, MPI_STATUS_IGNORE);
    sends_.clear();
    for (const TaskRun& t : runs_) summarize(t);
    result_.llm = llm_stats_;
    return std::move(result_);
  }

 private:
  // ---- messages ----
  void handle(const Message& m) {
    status_.heard_ms[static_cast<size_t>(m.source)] = now_ms();
    // A rank that asks (or has finished) sends nothing more until it is answered.
    if (m.type == MessageType::NextTask || m.type == MessageType::Sync || m.type == MessageType::Llm ||
        m.type == MessageType::Finished)
      blocked_[static_cast<size_t>(m.source)] = true;
    try {
      switch (m.type) {
        case MessageType::NextTask:
          return on_next_task(m.source);
        case MessageType::Reference:
          return on_reference(m);
        case MessageType::Samples:
          return on_samples(m);
        case MessageType::Best:
          return on_best(m);
        case MessageType::Sync:
          return on_sync(m);
        case MessageType::TaskDone:
          return on_task_done(m);
        case MessageType::Llm:
          return on_llm(m);
        case MessageType::LlmCalls:
          return on_llm_calls(m);
        case MessageType::Finished:
          return on_finished(m);
        case MessageType::Failed:
          return on_failed(m);
        default:
          throw std::runtime_error(std::string("unexpected message ") + message_type_name(m.type));
      }
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error("rank " + std::to_string(m.source) + " sent a malformed " +
                               message_type_name(m.type) + " message: " + e.what());
    }
  }

  void reply(int rank, MessageType type, std::string body) {
    blocked_[static_cast<size_t>(rank)] = false;
    Message m{type, 0, std::move(body)};
    if (rank == 0) return to_local_.push(std::move(m));
    sends_.emplace_back(pack_message(m), MPI_REQUEST_NULL);
    auto& [buf, req] = sends_.back();
    MPI_Isend(buf.data(), static_cast<int>(buf.size()), MPI_CHAR, rank, kTagToMember, MPI_COMM_WORLD, &req);
  }

  void complete_sends() {
    for (auto it = sends_.begin(); it != sends_.end();) {
      int flag = 0;
      MPI_Test(&it->second, &flag, MPI_STATUS_IGNORE);
      it = flag ? sends_.erase(it) : std::next(it);
    }
  }

  Group& group_of(int rank) { return groups_[static_cast<size_t>(rank / s_.group_size)]; }

  TaskRun& run_of(int64_t ti, int rank) {
    Group& g = group_of(rank);
    if (!g.task || runs_[*g.task].ti != static_cast<size_t>(ti))
      throw std::runtime_error("rank " + std::to_string(rank) +
                               " sent records of a task its group is not tuning");
    return runs_[*g.task];
  }

  double wall() const { return s_.wall_offset + since(start_); }

  // A task of the run, begun in the trace; what a previous session recorded of it is known.
  TaskRun begin_task(size_t ti) {
    const config::TaskConfig& tc = cfg_.tasks[ti];
    runlog::TaskInfo info;
    info.name = names_[ti];
    info.workload = ir::to_string(tc.workload);
    info.weight = tc.weight;
    info.flops = tc.workload.flops();
    TaskRun t;
    t.ti = ti;
    t.name = info.name;
    t.wt = s_.writer->begin_task(info);
    t.resumed = s_.writer->resumed().task(info.name);
    if (!t.resumed) return t;
    t.measured_rows = runlog::measured_samples(*t.resumed);
    t.recorded = static_cast<int64_t>(t.measured_rows.size());
    for (const runlog::SampleRecord& r : t.measured_rows) note_sample(t, r);
    if (t.resumed->best) t.found = true, t.best = *t.resumed->best;
    t.llm_index = static_cast<int64_t>(t.resumed->llm_calls.size());
    for (const runlog::SampleRecord& r : t.resumed->samples)
      t.next_index = std::max(t.next_index, r.index + 1);
    for (const runlog::LlmCallRecord& c : t.resumed->llm_calls)
      t.llm_index = std::max(t.llm_index, c.index + 1);
    if (t.resumed->info.reference_gflops > 0) {
      t.reference_known = true;
      t.reference_gflops = t.resumed->info.reference_gflops;
    }
    return t;
  }

  // What the tuning database offers each task: its seeds go with the task's first round (to the
  // group's first rank), and its record decides when the task stops (end_round). A database that
  // cannot be read is passed over with a warning: the run goes on without it.
  void start_from_database() {
    if (s_.database.empty()) return;
    try {
      const database::Database db(s_.database);
      const std::string hardware = database::host_fingerprint(s_.writer->info().execution_space).id;
      const std::string flags =
          database::normalize_flags(runtime::JitCompiler(jit_options(cfg_.measure)).flags());
      for (TaskRun& t : runs_) {
        const database::Key key{database::workload_key(cfg_.tasks[t.ti].workload), hardware, flags};
        t.db = database_start(db, key);
        if (!t.db.summary.empty() && !s_.quiet)
          std::fprintf(stderr, "%s: %s\n", t.name.c_str(), t.db.summary.c_str());
        // Baselines a run on this machine measured are not measured again.
        if (t.reference_known) continue;
        const std::optional<Baselines> b = recorded_baselines(db, key);
        if (!b) continue;
        write_baselines(*s_.writer, t.wt, *b);
        t.reference_known = true;
        t.reference_gflops = b->reference_gflops;
        if (!s_.quiet) std::fprintf(stderr, "%s: baselines from the %s\n", t.name.c_str(), b->source.c_str());
      }
    } catch (const database::DatabaseError& e) {
      spdlog::warn("the tuning database is not used: {}", e.what());
    }
  }

  // The run's task scheduler, made as a plain run makes it once every task's baselines are known
  // and the rounds that measured them have ended (its first rounds go to the largest shares of the
  // model's latency). The samples a previous session recorded count as the tasks' spent samples.
  void start_scheduler_once_baselines_known() {
    if (rounds_ || !std::all_of(runs_.begin(), runs_.end(),
                                [](const TaskRun& t) { return t.reference_known && !t.round; }))
      return;
    std::vector<RoundTask> tasks;
    for (const TaskRun& t : runs_) {
      RoundTask rt;
      rt.config_index = t.ti;
      rt.name = t.name;
      rt.reference_gflops = t.reference_gflops;
      rt.db = t.db;
      rt.prior_samples = t.recorded;
      rt.prior_best_s = t.found ? t.best.median_s : 0;
      // A task this trace has samples of (a resumed run) was confirmed in its earlier session.
      rt.record_confirmed = t.recorded > 0;
      tasks.push_back(std::move(rt));
    }
    // A round keeps every rank of a group busy, a measure batch per rank, as long as the budget
    // still gives every task a first round; never below a plain run's round.
    search::SchedulerOptions so = scheduler_options(cfg_);
    const int64_t per_task = cfg_.budget / static_cast<int64_t>(runs_.size());
    so.round = std::max(so.round, std::min(so.round * s_.group_size, per_task));
    // This process cannot replay a many-rank trace's rounds: its rows follow the recorded ones.
    rounds_.emplace(cfg_, std::move(tasks), so, *s_.writer, false, s_.quiet);
  }

  void on_next_task(int rank) {
    set_doing(rank, "waiting for the next task");
    Group& g = group_of(rank);
    g.waiting_next.insert(rank);
    dispatch(g);
  }

  // Work for a group whose ranks all asked for it: the baselines of a task that has none yet (one
  // task per group, measured by its first rank), then the scheduler's rounds. With neither while
  // rounds are in flight, the group waits until one ends: its results decide the next round, and
  // samples its task did not use go back to the others. Nothing in flight: no task is left.
  void dispatch(Group& g) {
    if (g.task || g.released || g.waiting_next.size() < g.ranks.size()) return;
    if (search::stop_requested()) return release(g);  // a signal: no new work
    if (!rounds_) {
      for (size_t k = 0; k < runs_.size(); ++k)
        if (!runs_[k].reference_known && !runs_[k].baselines_taken) return measure_baselines(g, k);
      return;
    }
    if (std::optional<RoundWork> w = rounds_->next())
      return w->confirmation ? confirm_record(g, std::move(*w)) : start_round(g, std::move(*w));
    if (rounds_->in_flight()) return;
    release(g);
  }

  // Tells the group's ranks that no task is left for them.
  void release(Group& g) {
    g.released = true;
    g.waiting_next.clear();
    for (int r : g.ranks) reply(r, MessageType::Assignment, to_body(Assignment{}));
  }

  void dispatch_free_groups() {
    for (Group& g : groups_) dispatch(g);
  }

  // The group's first rank measures the task's baselines (a round without samples); the other
  // ranks of the group wait for its next round.
  void measure_baselines(Group& g, size_t k) {
    TaskRun& t = runs_[k];
    t.baselines_taken = true;
    const int leader = g.ranks.front();
    Round& r = t.round.emplace();
    r.group = static_cast<int>(&g - groups_.data());
    r.members = {leader};
    g.task = k;
    g.waiting_next.erase(leader);
    Assignment a;
    a.task = static_cast<int64_t>(t.ti);
    a.measure_baselines = true;
    set_doing(leader, "measuring the baselines of " + t.name);
    reply(leader, MessageType::Assignment, to_body(a));
  }

  // The group's first rank measures the task's best record of the tuning database again (its first
  // seed, one sample); the other ranks of the group wait for the next round. Like the scheduler's
  // rounds, it is a row of /allocations ("confirm recorded best").
  void confirm_record(Group& g, RoundWork w) {
    const size_t k = w.allocation.task;
    TaskRun& t = runs_[k];
    const int leader = g.ranks.front();
    Round& r = t.round.emplace();
    r.group = static_cast<int>(&g - groups_.data());
    r.members = {leader};
    r.spent_before = rounds_->scheduler().task_spent(k);
    r.work = std::move(w);
    g.task = k;
    g.waiting_next.erase(leader);
    Assignment as;
    as.task = static_cast<int64_t>(t.ti);
    as.share = 1;
    as.observed = t.measured_rows;
    as.reference_gflops = t.reference_gflops;
    as.seeds = {t.db.seeds.front()};
    as.seeds_only = true;
    t.seeds_sent = 1;
    set_doing(leader, "confirming the recorded best of " + t.name);
    reply(leader, MessageType::Assignment, to_body(as));
  }

  // A round of the scheduler: its samples split among the group's ranks, each starting a fresh
  // search that observes every sample of the task measured so far (by any group, in any session).
  void start_round(Group& g, RoundWork w) {
    TaskRun& t = runs_[w.allocation.task];
    Round& r = t.round.emplace();
    r.group = static_cast<int>(&g - groups_.data());
    r.members = g.ranks;
    r.spent_before = rounds_->scheduler().task_spent(w.allocation.task);
    r.work = std::move(w);
    g.task = r.work->allocation.task;
    g.waiting_next.clear();
    const int64_t samples = r.work->allocation.samples;
    const int64_t n = static_cast<int64_t>(g.ranks.size());
    // The database's seeds not measured yet go with the task's first round, to the group's first rank.
    std::vector<search::Seed> seeds(t.db.seeds.begin() + static_cast<std::ptrdiff_t>(t.seeds_sent),
                                    t.db.seeds.end());
    t.seeds_sent = t.db.seeds.size();
    for (int64_t j = 0; j < n; ++j) {
      Assignment as;
      as.task = static_cast<int64_t>(t.ti);
      as.share = samples / n + (j < samples % n ? 1 : 0);
      as.observed = t.measured_rows;
      as.reference_gflops = t.reference_gflops;
      if (j == 0) as.seeds = std::move(seeds);
      const int rank = g.ranks[static_cast<size_t>(j)];
      set_doing(rank, "tuning " + t.name);
      spdlog::debug("round of {}: {} of {} samples to rank {} (group {})", t.name, as.share, samples, rank,
                    r.group);
      reply(rank, MessageType::Assignment, to_body(as));
    }
    if (!s_.quiet && scheduler_ == "per_task")
      std::fprintf(stderr, "%s: %lld samples on %lld rank%s (group %d)%s\n", t.name.c_str(),
                   static_cast<long long>(samples), static_cast<long long>(n), n == 1 ? "" : "s", r.group,
                   t.recorded > 0 ? (" after " + std::to_string(t.recorded) + " in the trace").c_str() : "");
  }

  // Every rank of the round reported: the scheduler learns its result, the merged tree is written,
  // the round is a row of /allocations, and waiting groups may get work.
  void end_round(TaskRun& t) {
    Round r = std::move(*t.round);
    t.round.reset();
    groups_[static_cast<size_t>(r.group)].task.reset();
    if (r.work) {
      for (int m : r.members) {
        TaskReport& report = r.reports[m];
        t.proposer_failures += report.proposer_failures;
        if (report.tree.empty()) continue;
        std::vector<runlog::TreeNode>& mine = t.rank_trees[m];
        mine = mine.empty() ? std::move(report.tree) : merge_trees({mine, report.tree});
      }
      write_trees(t, t.rank_trees);
      show_round(t, r, rounds_->ended(*r.work, r.measured, t.found ? t.best.median_s : 0, r.group, wall()));
      print_progress(t, r, true);
    } else {
      start_scheduler_once_baselines_known();
    }
    dispatch_free_groups();
  }

  // One line after a round's row of /allocations (rows are numbered in the order rounds end, which
  // is the order the scheduler learnt their results: several groups may tune at once).
  void show_round(const TaskRun& t, const Round& r, const runlog::AllocationRecord& row) {
    if (s_.quiet || scheduler_ == "per_task") return;
    std::fprintf(stderr, "round %lld: %s (group %d)  model %lld/%lld samples, estimated latency %.4g ms\n",
                 static_cast<long long>(row.round), t.name.c_str(), r.group,
                 static_cast<long long>(rounds_->scheduler().spent()),
                 static_cast<long long>(rounds_->scheduler().total_budget()), 1e3 * row.latency_s);
    std::fflush(stderr);
  }

  void on_reference(const Message& m) {
    const json j = json::parse(m.body);
    TaskRun& t = run_of(j.at("task").get<int64_t>(), m.source);
    Baselines b;
    b.reference_seconds = j.at("reference_seconds").get<double>();
    b.reference_gflops = j.at("reference_gflops").get<double>();
    b.reference_estimate = j.at("reference_estimate").get<std::string>();
    b.library = j.at("library").get<std::string>();
    b.library_seconds = j.at("library_seconds").get<double>();
    b.library_gflops = j.at("library_gflops").get<double>();
    write_baselines(*s_.writer, t.wt, b);
    t.reference_known = true;
    t.reference_gflops = b.reference_gflops;
  }

  static void note_sample(TaskRun& t, const runlog::SampleRecord& r) {
    if (r.status == runlog::SampleStatus::Illegal) return;
    const bool ok = r.status == runlog::SampleStatus::Ok;
    if (ok && t.ok_hashes.insert(r.structural_hash).second)
      t.index_of_hash[r.structural_hash] = r.index;
    else
      t.index_of_hash.emplace(r.structural_hash, r.index);
  }

  void on_samples(const Message& m) {
    const json j = json::parse(m.body);
    TaskRun& t = run_of(j.at("task").get<int64_t>(), m.source);
    Round& round = *t.round;
    std::vector<runlog::SampleRecord> rows =
        from_json_array<runlog::SampleRecord>(j.at("rows"), sample_from_json);
    const double w = wall();
    for (runlog::SampleRecord& r : rows) {
      r.index = t.next_index++;
      r.wall_time = w;
      r.rank = m.source;
      if (r.status == runlog::SampleStatus::Illegal) {
        ++t.illegal;
        continue;
      }
      ++t.measured;
      ++round.measured;
      if (r.status != runlog::SampleStatus::Ok) ++t.failures;
      note_sample(t, r);
      t.measured_rows.push_back(r);
      t.ranks.insert(m.source);
      round.rows_by[m.source].push_back(r);
    }
    s_.writer->append_samples(t.wt, rows);
    set_doing(m.source,
              "tuning " + t.name + " (" + std::to_string(round.rows_by[m.source].size()) + " samples sent)");
    print_progress(t, round, false);
  }

  void on_best(const Message& m) {
    const json j = json::parse(m.body);
    TaskRun& t = run_of(j.at("task").get<int64_t>(), m.source);
    runlog::BestSchedule b = best_from_json(j.at("best"));
    if (t.found && b.gflops <= t.best.gflops) return;
    auto it = t.index_of_hash.find(j.at("hash").get<uint64_t>());
    b.sample = it == t.index_of_hash.end() ? -1 : it->second;
    b.wall_time = wall();
    t.found = true;
    t.best = b;
    s_.writer->write_best(t.wt, b);
  }

  void on_sync(const Message& m) {
    SyncRequest req = sync_from_body(m.body);
    TaskRun& t = run_of(req.task, m.source);
    Round& round = *t.round;
    round.root[m.source] = std::move(req.root);
    round.picks[m.source] = std::move(req.picks);
    if (req.tree) {
      round.latest_trees[m.source] = std::move(*req.tree);
      round.trees_fresh = true;
    }
    round.sync_waiting.insert(m.source);
    set_doing(m.source, "synchronising " + t.name + " with its group");
    answer_syncs(t);
  }

  // Answers the waiting ranks once every rank of the group waits or is done.
  void answer_syncs(TaskRun& t) {
    Round& round = *t.round;
    if (round.sync_waiting.empty() || round.sync_waiting.size() + round.done.size() < round.members.size())
      return;
    const auto t0 = clock::now();
    std::vector<std::pair<int, std::string>> replies;
    for (int m : round.sync_waiting) {
      search::PeerNews news;
      std::vector<search::RootStatistic> sums;
      std::unordered_map<uint64_t, size_t> at;
      // Programs the ranks before this one in the group announced: left to them.
      for (int p : round.members) {
        if (p == m) break;
        if (round.sync_waiting.count(p))
          news.claimed.insert(news.claimed.end(), round.picks[p].begin(), round.picks[p].end());
      }
      for (int p : round.members) {
        if (p == m) continue;
        const std::vector<runlog::SampleRecord>& rows = round.rows_by[p];
        size_t& cursor = round.seen[m][p];
        news.measured.insert(news.measured.end(), rows.begin() + static_cast<std::ptrdiff_t>(cursor),
                             rows.end());
        cursor = rows.size();
        for (const search::RootStatistic& r : round.root[p]) {
          auto [it, fresh] = at.emplace(r.hash, sums.size());
          if (fresh) {
            sums.push_back(r);
          } else {
            sums[it->second].visits += r.visits;
            sums[it->second].value += r.value;
          }
        }
      }
      news.root = std::move(sums);
      replies.emplace_back(m, to_body(news));
    }
    round.sync_waiting.clear();
    result_.merge_s += since(t0);
    for (auto& [m, body] : replies) {
      set_doing(m, "tuning " + t.name);
      reply(m, MessageType::SyncReply, std::move(body));
    }
    // Trees members sent along, over their trees of earlier rounds: the merged tree so far, for a
    // job killed before the round's end.
    if (round.trees_fresh) {
      std::map<int, std::vector<runlog::TreeNode>> trees = t.rank_trees;
      for (const auto& [m, nodes] : round.latest_trees) {
        std::vector<runlog::TreeNode>& mine = trees[m];
        mine = mine.empty() ? nodes : merge_trees({mine, nodes});
      }
      write_trees(t, std::move(trees));
      round.trees_fresh = false;
    }
  }

  void on_task_done(const Message& m) {
    TaskReport r = task_report_from_body(m.body);
    TaskRun& t = run_of(r.task, m.source);
    spdlog::debug("rank {} ended its round of {}: {} samples, {} failed, {} illegal", m.source, t.name,
                  r.samples, r.failures, r.illegal);
    Round& round = *t.round;
    // A rank's final root statistics: its peers' last synchronisations still count them.
    if (!r.tree.empty()) {
      std::vector<search::RootStatistic> root{{r.tree[0].structural_hash, r.tree[0].visits, r.tree[0].value}};
      for (const runlog::TreeNode& n : r.tree)
        if (n.parent == 0) root.push_back({n.structural_hash, n.visits, n.value});
      round.root[m.source] = std::move(root);
    }
    round.reports[m.source] = std::move(r);
    round.done.insert(m.source);
    set_doing(m.source, "done with its share of " + t.name);
    answer_syncs(t);
    if (round.done.size() == round.members.size()) end_round(t);
  }

  // Merges the ranks' trees (and the tree a previous session left) and writes the merged tree and
  // the ranks' own trees, with sample numbers as the trace numbers them.
  void write_trees(TaskRun& t, std::map<int, std::vector<runlog::TreeNode>> own) {
    const auto t0 = clock::now();
    std::vector<std::vector<runlog::TreeNode>> trees;
    if (t.resumed && !t.resumed->tree.empty()) trees.push_back(t.resumed->tree);
    for (const auto& [m, nodes] : own)
      if (!nodes.empty()) trees.push_back(nodes);
    std::vector<runlog::TreeNode> merged = merge_trees(trees);
    auto renumber = [&](std::vector<runlog::TreeNode>& nodes) {
      for (runlog::TreeNode& n : nodes) {
        auto it = n.structural_hash == 0 ? t.index_of_hash.end() : t.index_of_hash.find(n.structural_hash);
        n.sample = it == t.index_of_hash.end() ? -1 : it->second;
      }
    };
    renumber(merged);
    std::map<int32_t, std::vector<runlog::TreeNode>> ranks;
    for (auto& [m, nodes] : own)
      if (!nodes.empty()) renumber(ranks[m] = std::move(nodes));
    result_.merge_s += since(t0);
    if (!merged.empty()) s_.writer->write_tree(t.wt, merged);
    if (!ranks.empty()) s_.writer->write_rank_trees(t.wt, ranks);
  }

  // The task's row of the summary: every round of it, and the samples of earlier sessions.
  void summarize(const TaskRun& t) {
    TaskSummary sum;
    sum.task = t.name;
    sum.samples = t.recorded + t.measured;
    sum.failures = t.failures;
    sum.illegal = t.illegal;
    if (t.resumed)
      for (const runlog::SampleRecord& r : t.resumed->samples) {
        if (r.status == runlog::SampleStatus::Illegal)
          ++sum.illegal;
        else if (r.status != runlog::SampleStatus::Ok)
          ++sum.failures;
      }
    sum.found = t.found;
    sum.best = t.best;
    const runlog::TaskInfo& info = s_.writer->task_info(t.wt);
    sum.reference_gflops = info.reference_gflops;
    sum.library = info.library_name;
    sum.library_gflops = info.library_gflops;
    sum.ranks = static_cast<int>(t.ranks.size());
    sum.proposer_failures = t.proposer_failures;
    result_.tasks.push_back(std::move(sum));
  }

  // The task's progress in its round: samples in the file of what it has at the round's end.
  void print_progress(TaskRun& t, const Round& r, bool final) {
    if (s_.quiet) return;
    if (!final && since(t.last_print) < 1.0) return;
    t.last_print = clock::now();
    search::Progress p;
    p.task = t.name;
    p.done = t.recorded + t.measured;
    p.budget = r.spent_before + (r.work ? r.work->allocation.samples : 0);
    p.failures = t.failures;
    p.illegal = t.illegal;
    p.best_gflops = t.found ? t.best.gflops : 0;
    p.best_speedup = t.found && t.reference_gflops > 0 ? t.best.gflops / t.reference_gflops : 0;
    p.elapsed_s = since(r.start);
    p.eta_s = r.measured > 0 ? p.elapsed_s / static_cast<double>(r.measured) *
                                   static_cast<double>(std::max<int64_t>(0, p.budget - p.done))
                             : -1;
    std::string line = search::progress_line(p) + "  " + std::to_string(r.members.size()) + " ranks";
    if (s_.simulate) line += "  (simulated)";
    std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
  }

  // ---- language models ----
  void on_llm(const Message& m) {
    auto [model, requests] = llm::requests_from_wire(m.body);
    if (clients_.empty())
      throw std::runtime_error("rank " + std::to_string(m.source) +
                               " asked a language model, but the run has none");
    if (llm_pending_.empty()) llm_first_ = clock::now();
    llm_pending_.push_back({m.source, model, std::move(requests)});
    set_doing(m.source, "waiting for an LLM answer");
  }

  // Sends the gathered requests once the window has passed or no rank can ask anything more (every
  // rank waits for the hub), and answers the ranks when the batch is back. True if anything happened.
  bool poll_llm() {
    if (llm_inflight_.valid()) {
      if (llm_inflight_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
      std::vector<llm::ChatResponse> answers = llm_inflight_.get();
      size_t k = 0;
      for (const LlmAsk& a : llm_batch_) {
        std::vector<llm::ChatResponse> mine(
            answers.begin() + static_cast<std::ptrdiff_t>(k),
            answers.begin() + static_cast<std::ptrdiff_t>(k + a.requests.size()));
        k += a.requests.size();
        reply(a.rank, MessageType::LlmAnswer, llm::to_wire(mine));
      }
      llm_batch_.clear();
      return true;
    }
    if (llm_pending_.empty()) return false;
    const bool all_waiting = std::all_of(blocked_.begin(), blocked_.end(), [](bool b) { return b; });
    if (since(llm_first_) < cfg_.dist.llm_batch_window && !all_waiting) return false;
    llm_batch_ = std::move(llm_pending_);
    llm_pending_.clear();
    std::vector<llm::PendingRequest> flat;
    for (size_t i = 0; i < llm_batch_.size(); ++i)
      for (const llm::ChatRequest& r : llm_batch_[i].requests)
        flat.push_back({static_cast<int>(i), llm_batch_[i].model, r});
    // The endpoint is slow: the batch goes out on a thread of its own (libcurl only, never MPI).
    llm_inflight_ = std::async(std::launch::async, [this, flat = std::move(flat)] {
      llm::BatchStats st;
      std::vector<llm::ChatResponse> out = llm::answer_batched(clients_, flat, &st);
      llm_stats_.requests += st.requests;
      llm_stats_.http_requests += st.http_requests;
      llm_stats_.merged += st.merged;
      return out;
    });
    return true;
  }

  void on_llm_calls(const Message& m) {
    const json j = json::parse(m.body);
    TaskRun& t = run_of(j.at("task").get<int64_t>(), m.source);
    std::vector<runlog::LlmCallRecord> calls =
        from_json_array<runlog::LlmCallRecord>(j.at("calls"), llm_call_from_json);
    const double w = wall();
    for (runlog::LlmCallRecord& c : calls) {
      c.index = t.llm_index++;
      c.wall_time = w;
      c.rank = m.source;
    }
    s_.writer->append_llm_calls(t.wt, calls);
  }

  // ---- the end ----
  void on_finished(const Message& m) {
    result_.ranks[static_cast<size_t>(m.source)] = rank_stats_from_json(json::parse(m.body));
    set_doing(m.source, "finished");
    ++finished_;
  }

  void on_failed(const Message& m) {
    const json j = json::parse(m.body);
    throw std::runtime_error("rank " + std::to_string(m.source) + " failed while " +
                             j.at("activity").get<std::string>() + ": " + j.at("error").get<std::string>() +
                             status_report());
  }

  void set_doing(int rank, const std::string& what) {
    std::array<char, SignalStatus::kText>& buf = status_.doing[static_cast<size_t>(rank)];
    std::strncpy(buf.data(), what.c_str(), buf.size() - 1);
  }

  std::string status_report() const {
    std::string s = "\n";
    describe_ranks(status_, [&](const char* text) { s += text; });
    s.pop_back();  // the last newline: the caller's message ends there
    return s;
  }

  const HubSetup& s_;
  const config::TuneConfig& cfg_;
  MessageQueue& from_local_;
  MessageQueue& to_local_;
  std::vector<std::string> names_;
  std::string scheduler_;  // the policy's name
  std::vector<Group> groups_;
  std::vector<TaskRun> runs_;         // heaviest first: the scheduler's tasks
  std::optional<TaskRounds> rounds_;  // once every task's baselines are known
  SignalStatus status_;
  std::vector<bool> blocked_;  // waiting for a reply of the hub (or finished)
  std::list<std::pair<std::string, MPI_Request>> sends_;
  int finished_ = 0;
  clock::time_point start_ = clock::now();
  HubResult result_;
  // LLM batching
  std::vector<llm::ChatClient> clients_;
  std::vector<LlmAsk> llm_pending_, llm_batch_;
  clock::time_point llm_first_;
  std::future<std::vector<llm::ChatResponse>> llm_inflight_;
  llm::BatchStats llm_stats_;
};

}  // namespace

void hub_stopped_at_once(int signal) {
  write_stop_report(signal);
  std::_Exit(stopped_exit_code(signal));
}

void hub_stopping(int signal) { write_stop_report(signal); }

HubResult run_hub(const HubSetup& setup, MessageQueue& from_local, MessageQueue& to_local) {
  Hub hub(setup, from_local, to_local);
  return hub.run();
}

}  // namespace rctune::dist
