// The tuning loop of one task (include/rctune/search/tuner.h).
#include "rctune/search/tuner.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "rctune/ir/stmt.h"
#include "rctune/search/design_space.h"
#include "rctune/search/predictor.h"
#include "rctune/search/random_search.h"

namespace rctune::search {

namespace {

runlog::SampleRecord record_of(const Candidate& c, const MeasureResult& r, const TuneOptions& o, int64_t index,
                              double wall) {
  runlog::SampleRecord s;
  s.index = index;
  s.wall_time = wall;
  s.rank = o.rank;
  s.strategy = o.strategy;
  s.proposer = c.proposer;
  s.node = c.node;
  s.parent_node = c.parent_node;
  s.trace = c.trace;
  s.rationale = c.rationale;
  s.structural_hash = c.hash;
  s.status = r.status;
  s.error = r.error;
  s.cached = r.cached;
  s.median_s = r.median_s;
  s.min_s = r.min_s;
  s.max_s = r.max_s;
  s.iqr_s = r.iqr_s;
  s.gflops = r.gflops;
  s.predicted = c.predicted;
  s.compile_s = r.compile_s;
  return s;
}

MeasureResult result_of(const runlog::SampleRecord& s) {
  MeasureResult r;
  r.status = s.status;
  r.error = s.error;
  r.median_s = s.median_s;
  r.min_s = s.min_s;
  r.max_s = s.max_s;
  r.iqr_s = s.iqr_s;
  r.gflops = s.gflops;
  r.compile_s = s.compile_s;
  r.cached = s.cached;
  r.sample = s.index;
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

std::string clock_text(double s) {
  const long t = std::lround(std::max(0.0, s));
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

}  // namespace

std::unique_ptr<Proposer> make_proposer(const std::string& name, const DesignSpace* space) {
  if (name == "heuristic") return make_heuristic_proposer(space);
  if (name == "random") return make_random_proposer(space);
  throw std::invalid_argument("proposer '" + name + "' is not available (expected heuristic or random)");
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

TaskOutcome tune_task(std::shared_ptr<const ir::Workload> workload, const std::string& task_name,
                      double reference_gflops, Evaluator& evaluator, const TuneOptions& o,
                      const TaskRecording& rec, const std::function<void(const Progress&)>& on_progress,
                      Proposer* proposer) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - t0).count(); };
  auto since = [](clock::time_point t) { return std::chrono::duration<double>(clock::now() - t).count(); };

  const HardwareDescription hw = host_hardware_description();
  DesignSpace space(workload, hw.info);
  CostModelOptions cm = o.cost_model;
  cm.seed = derive_seed(o.seed, "cost_model");
  Predictor predictor(cm, hw.info, o.use_cost_model);
  std::unique_ptr<Proposer> own_proposer;
  if (!proposer && o.strategy == "mcts") {
    own_proposer = make_proposer(o.proposer, &space);
    proposer = own_proposer.get();
  }
  SearchContext ctx;
  ctx.workload = workload;
  ctx.space = &space;
  ctx.predictor = &predictor;
  ctx.proposer = proposer;
  ctx.hardware = hw;
  ctx.seed = o.seed;
  ctx.reference_gflops = reference_gflops;
  std::unique_ptr<SearchStrategy> strategy = make_strategy(ctx, o);

  Replay replay(rec.resumed);
  int64_t next_index = std::max(replay.next_index(), rec.first_index);
  int64_t file_best_sample = rec.resumed && rec.resumed->best ? rec.resumed->best->sample : -1;
  TaskOutcome out;
  std::optional<WriterChannel> writer_channel;
  TaskChannel* channel = rec.channel;
  if (!channel && rec.writer) channel = &writer_channel.emplace(*rec.writer, rec.task);

  // Results of other ranks (or of a previous session): the strategy and the cost model learn
  // them, and a program among them is never measured again.
  std::unordered_map<uint64_t, MeasureResult> known;
  auto learn = [&](const std::vector<runlog::SampleRecord>& records) {
    std::vector<Candidate> cs;
    std::vector<MeasureResult> rs;
    std::vector<double> scores;
    for (const runlog::SampleRecord& s : records) {
      if (s.status == runlog::SampleStatus::Illegal || known.count(s.structural_hash)) continue;
      try {
        Candidate c = make_candidate(workload, s.trace);
        c.proposer = s.proposer;
        c.rationale = s.rationale;
        MeasureResult r = result_of(s);
        known.emplace(s.structural_hash, r);
        known.emplace(c.hash, r);
        scores.push_back(score_of(r, reference_gflops));
        cs.push_back(std::move(c));
        rs.push_back(std::move(r));
      } catch (const std::exception&) {
        // A trace this build cannot rebuild (another version wrote it): not learnt from.
      }
    }
    if (cs.empty()) return;
    predictor.update(cs, scores);
    strategy->observe(cs, rs);
    out.observed += static_cast<int64_t>(cs.size());
  };
  if (rec.observed) learn(*rec.observed);
  const int64_t sync_every = channel ? channel->sync_every() : 0;
  int64_t next_sync = 0;
  int64_t new_measured = 0;
  Progress progress;
  progress.task = task_name;
  progress.budget = o.budget;

  const int batch_size = o.strategy == "evolutionary" ? o.evolutionary_batch : o.measure_batch;
  while (out.samples < o.budget) {
    const int n = static_cast<int>(std::min<int64_t>(batch_size, o.budget - out.samples));
    auto t_search = clock::now();
    // Root-parallel search: share with the group before the first round and every sync_every
    // samples of this rank; programs lower-ranked peers will measure next are left to them.
    if (sync_every > 0 && out.samples >= next_sync) {
      next_sync = out.samples + sync_every;
      const std::vector<uint64_t> picks = strategy->likely_picks(n);
      out.search_s += since(t_search);
      PeerNews news = channel->exchange(strategy->root_statistics(), picks);
      t_search = clock::now();
      learn(news.measured);
      strategy->set_peer_statistics(news.root);
      strategy->set_claimed(news.claimed);
    }
    std::vector<Candidate> batch = strategy->next_batch(n);
    out.search_s += since(t_search);

    // Rejected proposals: recorded (no sample spent), unless the record is already in the file.
    std::vector<runlog::SampleRecord> rows;
    for (const RejectedProposal& r : strategy->take_rejected()) {
      ++out.illegal;
      if (replay.take_rejected(rejected_key(r.parent_node, r.action))) continue;
      runlog::SampleRecord s;
      s.index = next_index++;
      s.wall_time = rec.wall_offset + elapsed();
      s.rank = o.rank;
      s.strategy = o.strategy;
      s.proposer = r.proposer;
      s.parent_node = r.parent_node;
      s.trace = r.action;
      s.rationale = r.rationale;
      s.status = runlog::SampleStatus::Illegal;
      s.error = r.error;
      rows.push_back(s);
    }
    if (batch.empty()) {
      if (channel && !rows.empty()) channel->samples(rows);
      break;  // the strategy has nothing new to offer
    }

    // Results: from the resumed record where it has them, measured otherwise.
    std::vector<MeasureResult> results(batch.size());
    std::vector<Candidate> to_measure;
    std::vector<size_t> where;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (auto s = replay.take_measured(batch[i].hash)) {
        results[i] = result_of(*s);
        ++out.replayed;
      } else {
        to_measure.push_back(batch[i]);
        where.push_back(i);
      }
    }
    // One at a time, each recorded as soon as it is measured: a run killed at any moment keeps
    // every finished measurement.
    auto record = [&](std::vector<runlog::SampleRecord> done) {
      if (channel && !done.empty()) channel->samples(done);
      for (runlog::SampleRecord& s : done) out.records.push_back(std::move(s));
    };
    record(std::move(rows));
    for (size_t k = 0; k < to_measure.size(); ++k) {
      MeasureResult r;
      if (auto it = known.find(to_measure[k].hash); it != known.end()) {
        r = it->second;  // measured by another rank: reused (strategies without observe())
        r.cached = true;
        r.compile_s = 0;
      } else {
        const auto t_measure = clock::now();
        r = evaluator.measure({to_measure[k]}).front();
        out.measure_s += since(t_measure);
      }
      r.sample = next_index++;
      record({record_of(to_measure[k], r, o, r.sample, rec.wall_offset + elapsed())});
      results[where[k]] = std::move(r);
      ++new_measured;
    }

    // Learn: the cost model on speedups, the strategy on the results.
    t_search = clock::now();
    std::vector<double> scores(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      const MeasureResult& r = results[i];
      scores[i] = score_of(r, reference_gflops);
      ++out.samples;
      if (!r.ok()) ++out.failures;
      if (r.cached) ++progress.cached;
      if (r.ok() && (!out.found || r.gflops > out.best.gflops)) {
        out.found = true;
        out.best.sample = r.sample;
        out.best.wall_time = rec.wall_offset + elapsed();
        out.best.trace = batch[i].trace;
        out.best.program = ir::to_string(*batch[i].lowered);
        out.best.gflops = r.gflops;
        out.best.median_s = r.median_s;
        out.best.speedup = reference_gflops > 0 ? r.gflops / reference_gflops : 0;
      }
      out.best_curve.push_back(out.found ? out.best.gflops : 0.0);
    }
    predictor.update(batch, scores);
    strategy->tell(batch, results);
    out.search_s += since(t_search);
    if (channel) {
      if (out.found && out.best.sample != file_best_sample) {
        channel->best(out.best, best_hash(batch, results, out.best.sample));
        file_best_sample = out.best.sample;
      }
      channel->tree(strategy->tree());
    }

    progress.done = out.samples;
    progress.failures = out.failures;
    progress.illegal = out.illegal;
    progress.best_gflops = out.found ? out.best.gflops : 0;
    progress.best_speedup = out.found ? out.best.speedup : 0;
    progress.elapsed_s = rec.wall_offset + elapsed();
    progress.eta_s = new_measured > 0 ? elapsed() / static_cast<double>(new_measured) *
                                            static_cast<double>(o.budget - out.samples)
                                      : -1;
    if (on_progress) on_progress(progress);
  }
  if (proposer) out.proposer_failures = proposer->failures();
  return out;
}

}  // namespace rctune::search
