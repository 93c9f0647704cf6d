// The tuning loop of one task (include/rctune/search/tuner.h).
#include "rctune/search/tuner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "rctune/ir/stmt.h"
#include "rctune/runlog/fields.h"
#include "rctune/search/design_space.h"
#include "rctune/search/predictor.h"
#include "rctune/search/random_search.h"
#include "rctune/search/stop_request.h"

namespace rctune::runlog {

// The fields a rejected proposal's record takes from it (its action is the record's trace).
template <>
struct FieldList<search::RejectedProposal> {
  using R = search::RejectedProposal;
  static constexpr auto value =
      std::tuple{field("proposer", &R::proposer), field("parent_node", &R::parent_node),
                 field("trace", &R::action), field("rationale", &R::rationale), field("error", &R::error)};
};

}  // namespace rctune::runlog

namespace rctune::search {

namespace {

MeasureResult result_of(const runlog::SampleRecord& s) {
  MeasureResult r;
  runlog::copy_matching_fields(r, s);
  return r;
}

// The structural hash of the program that recorded sample `index` in this round (0 if none).
uint64_t best_hash(const std::vector<Candidate>& batch, const std::vector<MeasureResult>& results,
                   int64_t index) {
  for (size_t i = 0; i < batch.size(); ++i)
    if (results[i].sample == index) return batch[i].hash;
  return 0;
}

std::string rejected_key(int64_t parent_node, const std::string& action) {
  return std::to_string(parent_node) + "\n" + action;
}

// The records of a previous session, consumed as the replay meets them again.
class Replay {
 public:
  explicit Replay(const runlog::TaskLog* t) {
    if (!t) return;
    for (const runlog::SampleRecord& s : t->samples) {
      next_index_ = std::max(next_index_, s.index + 1);
      if (s.status == runlog::SampleStatus::Illegal)
        rejected_.emplace(rejected_key(s.parent_node, s.trace), s);
      else
        measured_.emplace(s.structural_hash, s);
    }
  }
  std::optional<runlog::SampleRecord> take_measured(uint64_t hash) { return take(measured_, hash); }
  std::optional<runlog::SampleRecord> take_rejected(const std::string& key) { return take(rejected_, key); }
  // The measured records not met again, in index order; the replay holds none after.
  std::vector<runlog::SampleRecord> take_all_measured() {
    std::vector<runlog::SampleRecord> left;
    for (auto& [hash, s] : measured_) left.push_back(std::move(s));
    measured_.clear();
    std::sort(left.begin(), left.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    return left;
  }
  bool holds_measured() const { return !measured_.empty(); }
  int64_t next_index() const { return next_index_; }

 private:
  template <typename M, typename K>
  static std::optional<runlog::SampleRecord> take(M& m, const K& k) {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    runlog::SampleRecord s = it->second;
    m.erase(it);
    return s;
  }
  std::multimap<uint64_t, runlog::SampleRecord> measured_;
  std::multimap<std::string, runlog::SampleRecord> rejected_;
  int64_t next_index_ = 0;
};

std::unique_ptr<SearchStrategy> make_strategy(const SearchContext& ctx, const TuneOptions& o) {
  if (o.strategy == "mcts") return make_mcts_search(ctx, o.mcts);
  if (o.strategy == "evolutionary") return make_evolutionary_search(ctx, o.evolutionary);
  if (o.strategy == "random") return make_random_search(ctx);
  throw std::invalid_argument("unknown search strategy '" + o.strategy +
                              "' (expected mcts, evolutionary or random)");
}

// A plain run: this process writes the trace.
class WriterChannel : public TaskChannel {
 public:
  WriterChannel(runlog::RunWriter& writer, runlog::RunWriter::Task task) : writer_(writer), task_(task) {}
  void samples(const std::vector<runlog::SampleRecord>& rows) override {
    if (!rows.empty()) writer_.append_samples(task_, rows);
  }
  void best(const runlog::BestSchedule& best, uint64_t) override { writer_.write_best(task_, best); }
  void tree(const std::vector<runlog::TreeNode>& nodes) override {
    if (!nodes.empty()) writer_.write_tree(task_, nodes);
  }

 private:
  runlog::RunWriter& writer_;
  runlog::RunWriter::Task task_;
};

double score_of(const MeasureResult& r, double reference_gflops) {
  return r.ok() ? (reference_gflops > 0 ? r.gflops / reference_gflops : r.gflops) : 0.0;
}

}  // namespace

std::unique_ptr<Proposer> make_proposer(const std::string& name, const DesignSpace* space) {
  if (name == "heuristic") return make_heuristic_proposer(space);
  if (name == "random") return make_random_proposer(space);
  throw std::invalid_argument("proposer '" + name + "' is not available (expected heuristic or random)");
}

std::string clock_text(double s) {
  const long t = std::lround(std::max(0.0, s));
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

std::string progress_line(const Progress& p) {
  char buf[256];
  std::string best = "no correct kernel yet";
  if (p.best_gflops > 0) {
    std::snprintf(buf, sizeof buf, "best %.1f GFLOP/s", p.best_gflops);
    best = buf;
    if (p.best_speedup > 0) {
      std::snprintf(buf, sizeof buf, " (%.1fx)", p.best_speedup);
      best += buf;
    }
  }
  std::snprintf(buf, sizeof buf, "%s: %lld/%lld samples  %s  %lld failed  %lld illegal", p.task.c_str(),
                static_cast<long long>(p.done), static_cast<long long>(p.budget), best.c_str(),
                static_cast<long long>(p.failures), static_cast<long long>(p.illegal));
  std::string line = buf;
  if (p.cached > 0) line += "  " + std::to_string(p.cached) + " cached";
  line += "  elapsed " + clock_text(p.elapsed_s);
  if (p.eta_s >= 0 && p.done < p.budget) line += "  ETA " + clock_text(p.eta_s);
  return line;
}

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

// One task's tuning session, one method per job of a round: exchange with the peers, record the
// rejected proposals, take results from the replay or measure them, train on them, keep the best,
// publish, report progress.
class TaskSession::Impl {
 public:
  Impl(std::shared_ptr<const ir::Workload> workload, const std::string& task_name, double reference_gflops,
       Evaluator& evaluator, const TuneOptions& o, const TaskRecording& rec,
       std::function<void(const Progress&)> on_progress, Proposer* proposer)
      : workload_(std::move(workload)),
        reference_gflops_(reference_gflops),
        evaluator_(evaluator),
        o_(o),
        rec_(rec),
        on_progress_(std::move(on_progress)),
        hw_(o.hardware ? *o.hardware : host_hardware_description()),
        space_(workload_, hw_.info),
        predictor_(o.shared_cost_model ? Predictor(o.shared_cost_model, task_name, hw_.info, o.use_cost_model)
                                       : Predictor(cost_model_options(o), hw_.info, o.use_cost_model)),
        replay_(rec.resumed),
        next_index_(std::max(replay_.next_index(), rec.first_index)),
        file_best_sample_(rec.resumed && rec.resumed->best ? rec.resumed->best->sample : -1) {
    if (!proposer && o.strategy == "mcts") {
      own_proposer_ = make_proposer(o.proposer, &space_);
      proposer = own_proposer_.get();
    }
    proposer_ = proposer;
    SearchContext ctx;
    ctx.workload = workload_;
    ctx.space = &space_;
    ctx.predictor = &predictor_;
    ctx.proposer = proposer;
    ctx.hardware = hw_;
    ctx.seed = o.seed;
    ctx.reference_gflops = reference_gflops;
    strategy_ = make_strategy(ctx, o);
    channel_ = rec.channel;
    if (!channel_ && rec.writer) channel_ = &writer_channel_.emplace(*rec.writer, rec.task);
    progress_.task = task_name;
    progress_.budget = o.budget;
    if (rec_.observed) learn(*rec_.observed);
  }

  int64_t run_seeds(int64_t samples) {
    const int64_t start = out_.samples;
    while (next_seed_ < rec_.seeds.size() && out_.samples < start + samples && !stop_requested()) {
      std::vector<Candidate> batch = seed_batch(static_cast<int>(start + samples - out_.samples));
      if (batch.empty()) continue;  // every seed of the batch failed to apply
      const std::vector<MeasureResult> results = results_of(batch, start + samples - out_.samples);
      learn_from_round(batch, results, /*from_strategy=*/false);
      publish(batch, results);
      report_progress();
    }
    return out_.samples - start;
  }

  int64_t run(int64_t samples) {
    const int64_t start = out_.samples, end = out_.samples + samples;
    run_seeds(samples);
    const int64_t sync_every = channel_ ? channel_->sync_every() : 0;
    const int batch_size = o_.strategy == "evolutionary" ? o_.evolutionary.measure_batch : o_.measure_batch;
    while (!exhausted_ && out_.samples < end && !stop_requested()) {
      const int n = static_cast<int>(std::min<int64_t>(batch_size, end - out_.samples));
      auto t_search = Clock::now();
      // Root-parallel search: share with the group before the first round and every sync_every
      // samples of this rank.
      if (sync_every > 0 && out_.samples >= next_sync_) {
        next_sync_ = out_.samples + sync_every;
        exchange_with_peers(n, t_search);
      }
      std::vector<Candidate> batch = strategy_->next_batch(n);
      out_.search_s += since(t_search);

      std::vector<runlog::SampleRecord> rejected = rejected_records();
      if (batch.empty()) {
        if (channel_ && !rejected.empty()) channel_->samples(rejected);
        exhausted_ = true;  // the strategy has nothing new to offer
        break;
      }
      record(std::move(rejected));
      const std::vector<MeasureResult> results = results_of(batch, end - out_.samples);
      learn_from_round(batch, results);
      publish(batch, results);
      report_progress();
    }
    return out_.samples - start;
  }

  bool exhausted() const { return exhausted_; }
  const TaskOutcome& outcome() const { return out_; }
  void set_expected_budget(int64_t budget) { progress_.budget = budget; }

  TaskOutcome finish() {
    if (proposer_) out_.proposer_failures = proposer_->failures();
    return std::move(out_);
  }

 private:
  static CostModelOptions cost_model_options(const TuneOptions& o) {
    CostModelOptions cm = o.cost_model;
    cm.seed = derive_seed(o.seed, "cost_model");
    return cm;
  }

  double elapsed() const { return since(t0_); }
  double wall() const { return rec_.wall_offset + elapsed(); }

  // Up to n seeds as candidates; a seed that does not apply to the workload is recorded as an
  // illegal proposal (no sample spent).
  std::vector<Candidate> seed_batch(int n) {
    std::vector<Candidate> batch;
    std::vector<runlog::SampleRecord> rejected;
    while (next_seed_ < rec_.seeds.size() && static_cast<int>(batch.size()) < n) {
      const Seed& seed = rec_.seeds[next_seed_++];
      try {
        Candidate c = make_candidate(workload_, seed.trace);
        c.proposer = seed.proposer;
        c.rationale = seed.rationale;
        if (known_.count(c.hash) || seeded_.count(c.hash)) continue;  // measured already
        seeded_.insert(c.hash);
        batch.push_back(std::move(c));
      } catch (const std::exception& e) {
        ++out_.illegal;
        if (replay_.take_rejected(rejected_key(-1, seed.trace))) continue;
        runlog::SampleRecord s = new_record(next_index_++);
        s.status = runlog::SampleStatus::Illegal;
        s.proposer = seed.proposer;
        s.rationale = seed.rationale;
        s.trace = seed.trace;
        s.error = e.what();
        rejected.push_back(std::move(s));
      }
    }
    record(std::move(rejected));
    return batch;
  }

  // Results of other ranks (or of a previous session): the strategy and the cost model learn
  // them, and a program among them is never measured again.
  struct Learnt {
    std::vector<Candidate> programs;
    std::vector<MeasureResult> results;
  };
  Learnt learn(const std::vector<runlog::SampleRecord>& records) {
    std::vector<Candidate> cs;
    std::vector<MeasureResult> rs;
    std::vector<double> scores;
    for (const runlog::SampleRecord& s : records) {
      if (s.status == runlog::SampleStatus::Illegal || known_.count(s.structural_hash)) continue;
      try {
        Candidate c = make_candidate(workload_, s.trace);
        c.proposer = s.proposer;
        c.rationale = s.rationale;
        MeasureResult r = result_of(s);
        known_.emplace(s.structural_hash, r);
        known_.emplace(c.hash, r);
        scores.push_back(score_of(r, reference_gflops_));
        cs.push_back(std::move(c));
        rs.push_back(std::move(r));
      } catch (const std::exception&) {
        // A trace this build cannot rebuild (another version wrote it): not learnt from.
      }
    }
    if (cs.empty()) return {};
    predictor_.update(cs, scores);
    strategy_->observe(cs, rs);
    out_.observed += static_cast<int64_t>(cs.size());
    return {std::move(cs), std::move(rs)};
  }

  // A resumed session re-proposes what the previous session measured (its decisions are replayed)
  // until it must measure something new. Records it did not propose again by then (a batch that a
  // stop cut short is proposed otherwise at another batch size) are learnt like a peer's results
  // and count as samples of this session: nothing is measured twice and the budget holds.
  // Returns how many it took.
  int64_t absorb_unreplayed() {
    const std::vector<runlog::SampleRecord> left = replay_.take_all_measured();
    const Learnt l = learn(left);
    for (size_t i = 0; i < l.programs.size(); ++i) {
      const MeasureResult& r = l.results[i];
      ++out_.samples;
      ++out_.replayed;
      if (!r.ok()) ++out_.failures;
      if (r.ok() && (!out_.found || r.gflops > out_.best.gflops)) note_best(l.programs[i], r);
      out_.best_curve.push_back(out_.found ? out_.best.gflops : 0.0);
    }
    return static_cast<int64_t>(l.programs.size());
  }

  // Sends this rank's root statistics and likely picks, learns the peers' news; programs
  // lower-ranked peers will measure next are left to them. The wait is not search time.
  void exchange_with_peers(int n, Clock::time_point& t_search) {
    const std::vector<uint64_t> picks = strategy_->likely_picks(n);
    out_.search_s += since(t_search);
    PeerNews news = channel_->exchange(strategy_->root_statistics(), picks);
    t_search = Clock::now();
    learn(news.measured);
    strategy_->set_peer_statistics(news.root);
    strategy_->set_claimed(news.claimed);
  }

  // Rejected proposals: recorded (no sample spent), unless the record is already in the file.
  std::vector<runlog::SampleRecord> rejected_records() {
    std::vector<runlog::SampleRecord> rows;
    for (const RejectedProposal& r : strategy_->take_rejected()) {
      ++out_.illegal;
      if (replay_.take_rejected(rejected_key(r.parent_node, r.action))) continue;
      runlog::SampleRecord s = new_record(next_index_++);
      runlog::copy_matching_fields(s, r);
      s.status = runlog::SampleStatus::Illegal;
      rows.push_back(s);
    }
    return rows;
  }

  // A record of this session: numbered, timed, with the rank and strategy that made it.
  runlog::SampleRecord new_record(int64_t index) const {
    runlog::SampleRecord s;
    s.index = index;
    s.wall_time = wall();
    s.rank = o_.rank;
    s.strategy = o_.strategy;
    return s;
  }

  void record(std::vector<runlog::SampleRecord> done) {
    if (channel_ && !done.empty()) channel_->samples(done);
    for (runlog::SampleRecord& s : done) out_.records.push_back(std::move(s));
  }

  // Results: from the resumed record where it has them, measured otherwise; `room`: the samples the
  // batch may add. A stop request ends the batch after the measurement in flight: the candidates
  // not measured leave the batch (as do those past the room left by records absorbed from a
  // previous session).
  std::vector<MeasureResult> results_of(std::vector<Candidate>& batch, int64_t room) {
    std::vector<MeasureResult> results(batch.size());
    std::vector<size_t> to_measure;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (auto s = replay_.take_measured(batch[i].hash)) {
        results[i] = result_of(*s);
        ++out_.replayed;
      } else {
        to_measure.push_back(i);
      }
    }
    int64_t may_measure = room - static_cast<int64_t>(batch.size() - to_measure.size());
    if (!to_measure.empty() && replay_.holds_measured()) may_measure -= absorb_unreplayed();
    // One at a time, each recorded as soon as it is measured: a run killed at any moment keeps
    // every finished measurement.
    std::vector<bool> unmeasured(batch.size(), false);
    for (size_t i : to_measure) {
      if (stop_requested() || may_measure-- <= 0) {
        unmeasured[i] = true;
        continue;
      }
      results[i] = measure(batch[i]);
      runlog::SampleRecord s = new_record(results[i].sample);
      runlog::copy_matching_fields(s, batch[i]);
      runlog::copy_matching_fields(s, results[i]);
      record({s});
      ++new_measured_;
    }
    size_t kept = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (unmeasured[i]) continue;
      if (kept != i) {
        batch[kept] = std::move(batch[i]);
        results[kept] = std::move(results[i]);
      }
      ++kept;
    }
    batch.resize(kept);
    results.resize(kept);
    return results;
  }

  MeasureResult measure(const Candidate& c) {
    MeasureResult r;
    if (auto it = known_.find(c.hash); it != known_.end()) {
      r = it->second;  // measured by another rank: reused (strategies without observe())
      r.cached = true;
      r.compile_s = 0;
    } else {
      const auto t_measure = Clock::now();
      r = evaluator_.measure({c}).front();
      out_.measure_s += since(t_measure);
    }
    r.sample = next_index_++;
    return r;
  }

  // Learn: the cost model on speedups, the strategy on the results; counts and keeps the best.
  // Seeds (from_strategy false) are observed by the strategy like other ranks' results: it did not
  // propose them.
  void learn_from_round(const std::vector<Candidate>& batch, const std::vector<MeasureResult>& results,
                        bool from_strategy = true) {
    const auto t_search = Clock::now();
    std::vector<double> scores(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      const MeasureResult& r = results[i];
      scores[i] = score_of(r, reference_gflops_);
      ++out_.samples;
      if (!r.ok()) ++out_.failures;
      if (r.cached) ++progress_.cached;
      if (r.ok() && (!out_.found || r.gflops > out_.best.gflops)) note_best(batch[i], r);
      out_.best_curve.push_back(out_.found ? out_.best.gflops : 0.0);
    }
    predictor_.update(batch, scores);
    if (from_strategy) {
      strategy_->tell(batch, results);
    } else {
      strategy_->observe(batch, results);
      for (size_t i = 0; i < batch.size(); ++i) known_.emplace(batch[i].hash, results[i]);
    }
    out_.search_s += since(t_search);
  }

  void note_best(const Candidate& c, const MeasureResult& r) {
    out_.found = true;
    out_.best.sample = r.sample;
    out_.best.wall_time = wall();
    out_.best.trace = c.trace;
    out_.best.program = ir::to_string(*c.lowered);
    out_.best.gflops = r.gflops;
    out_.best.median_s = r.median_s;
    out_.best.speedup = reference_gflops_ > 0 ? r.gflops / reference_gflops_ : 0;
  }

  // A new best and the tree, to the trace (or the rank that writes it).
  void publish(const std::vector<Candidate>& batch, const std::vector<MeasureResult>& results) {
    if (!channel_) return;
    if (out_.found && out_.best.sample != file_best_sample_) {
      channel_->best(out_.best, best_hash(batch, results, out_.best.sample));
      file_best_sample_ = out_.best.sample;
    }
    channel_->tree(strategy_->tree());
  }

  void report_progress() {
    progress_.done = out_.samples;
    progress_.failures = out_.failures;
    progress_.illegal = out_.illegal;
    progress_.best_gflops = out_.found ? out_.best.gflops : 0;
    progress_.best_speedup = out_.found ? out_.best.speedup : 0;
    progress_.elapsed_s = wall();
    progress_.eta_s = new_measured_ > 0
                          ? elapsed() / static_cast<double>(new_measured_) *
                                static_cast<double>(std::max<int64_t>(0, progress_.budget - out_.samples))
                          : -1;
    if (on_progress_) on_progress_(progress_);
  }

  const Clock::time_point t0_ = Clock::now();
  std::shared_ptr<const ir::Workload> workload_;
  double reference_gflops_;
  Evaluator& evaluator_;
  const TuneOptions o_;
  const TaskRecording rec_;
  const std::function<void(const Progress&)> on_progress_;
  const HardwareDescription hw_;
  DesignSpace space_;
  Predictor predictor_;
  std::unique_ptr<Proposer> own_proposer_;
  Proposer* proposer_ = nullptr;  // the MCTS proposer (own or given), whose failures the outcome reports
  std::unique_ptr<SearchStrategy> strategy_;
  Replay replay_;
  int64_t next_index_;
  int64_t file_best_sample_;
  std::optional<WriterChannel> writer_channel_;
  TaskChannel* channel_ = nullptr;
  std::unordered_map<uint64_t, MeasureResult> known_;
  int64_t new_measured_ = 0;
  int64_t next_sync_ = 0;
  bool exhausted_ = false;
  size_t next_seed_ = 0;
  std::unordered_set<uint64_t> seeded_;
  TaskOutcome out_;
  Progress progress_;
};

TaskSession::TaskSession(std::shared_ptr<const ir::Workload> workload, const std::string& task_name,
                         double reference_gflops, Evaluator& evaluator, const TuneOptions& options,
                         const TaskRecording& recording, std::function<void(const Progress&)> on_progress,
                         Proposer* proposer)
    : impl_(std::make_unique<Impl>(std::move(workload), task_name, reference_gflops, evaluator, options,
                                   recording, std::move(on_progress), proposer)) {}
TaskSession::~TaskSession() = default;
int64_t TaskSession::run(int64_t samples) { return impl_->run(samples); }
int64_t TaskSession::run_seeds(int64_t samples) { return impl_->run_seeds(samples); }
bool TaskSession::exhausted() const { return impl_->exhausted(); }
const TaskOutcome& TaskSession::outcome() const { return impl_->outcome(); }
void TaskSession::set_expected_budget(int64_t budget) { impl_->set_expected_budget(budget); }
TaskOutcome TaskSession::finish() { return impl_->finish(); }

TaskOutcome tune_task(std::shared_ptr<const ir::Workload> workload, const std::string& task_name,
                      double reference_gflops, Evaluator& evaluator, const TuneOptions& o,
                      const TaskRecording& rec, const std::function<void(const Progress&)>& on_progress,
                      Proposer* proposer) {
  TaskSession session(std::move(workload), task_name, reference_gflops, evaluator, o, rec, on_progress,
                      proposer);
  session.run(o.budget);
  return session.finish();
}

}  // namespace rctune::search
