// A rank's part of a many-rank run (include/rctune/dist/member.h).
#include "rctune/dist/member.h"

#include <chrono>
#include <mutex>

#include "rctune/dist/codec.h"
#include "rctune/dist/cost_model_seed.h"
#include "rctune/dist/protocol.h"
#include "rctune/dist/run_setup.h"
#include "rctune/llm/wire.h"
#include "rctune/search/runtime_evaluator.h"

namespace rctune::dist {

namespace {

using clock = std::chrono::steady_clock;
double since(clock::time_point t) { return std::chrono::duration<double>(clock::now() - t).count(); }

std::mutex activity_mu;
std::string activity = "starting";

void set_activity(std::string what) {
  std::lock_guard<std::mutex> lock(activity_mu);
  activity = std::move(what);
}

// Request and reply with the hub, timed as communication.
class HubLink {
 public:
  HubLink(Mailbox& mailbox, int rank, runlog::RankStats& stats)
      : mailbox_(mailbox), rank_(rank), stats_(stats) {}
  void send(MessageType type, std::string body) {
    const auto t = clock::now();
    mailbox_.send({type, rank_, std::move(body)});
    stats_.comm_s += since(t);
  }
  Message request(MessageType type, std::string body, MessageType expect) {
    const auto t = clock::now();
    mailbox_.send({type, rank_, std::move(body)});
    Message reply = mailbox_.receive();
    stats_.comm_s += since(t);
    if (reply.type != expect)
      throw std::runtime_error(std::string("protocol error: expected ") + message_type_name(expect) +
                               " from the hub, got " + message_type_name(reply.type));
    return reply;
  }

 private:
  Mailbox& mailbox_;
  int rank_;
  runlog::RankStats& stats_;
};

// The tuner's records go to the hub; synchronisation goes through it.
class GroupChannel : public search::TaskChannel {
 public:
  GroupChannel(HubLink& hub, int64_t task, int64_t sync_every, double tree_interval, runlog::RankStats& stats,
               std::string name)
      : hub_(hub),
        task_(task),
        sync_every_(sync_every),
        tree_interval_(tree_interval),
        stats_(stats),
        name_(std::move(name)) {}
  void samples(const std::vector<runlog::SampleRecord>& rows) override {
    for (const runlog::SampleRecord& s : rows)
      if (s.status != runlog::SampleStatus::Illegal) ++sent_;
    set_activity("tuning " + name_ + " (" + std::to_string(sent_) + " samples sent)");
    hub_.send(MessageType::Samples, dump({{"task", task_}, {"rows", to_json_array(rows)}}));
  }
  void best(const runlog::BestSchedule& best, uint64_t hash) override {
    hub_.send(MessageType::Best, dump({{"task", task_}, {"best", to_json(best)}, {"hash", hash}}));
  }
  void tree(const std::vector<runlog::TreeNode>& nodes) override { tree_ = nodes; }
  int64_t sync_every() const override { return sync_every_; }
  search::PeerNews exchange(const std::vector<search::RootStatistic>& mine,
                            const std::vector<uint64_t>& picks) override {
    set_activity("synchronising " + name_ + " with its group");
    // Now and then the tree goes along, so that the trace has a merged tree while the task runs.
    const bool with_tree = !tree_.empty() && since(last_tree_) >= tree_interval_;
    if (with_tree) last_tree_ = clock::now();
    const Message reply =
        hub_.request(MessageType::Sync, sync_body(task_, mine, picks, with_tree ? &tree_ : nullptr),
                     MessageType::SyncReply);
    const auto t = clock::now();
    search::PeerNews news = peer_news_from_body(reply.body);
    stats_.merge_s += since(t);
    set_activity("tuning " + name_ + " (" + std::to_string(sent_) + " samples sent)");
    return news;
  }
  const std::vector<runlog::TreeNode>& last_tree() const { return tree_; }

 private:
  HubLink& hub_;
  int64_t task_;
  int64_t sync_every_;
  double tree_interval_;
  clock::time_point last_tree_ = clock::now();
  runlog::RankStats& stats_;
  std::string name_;
  int64_t sent_ = 0;
  std::vector<runlog::TreeNode> tree_;
};

}  // namespace

std::string member_activity() {
  std::lock_guard<std::mutex> lock(activity_mu);
  return activity;
}

runlog::RankStats run_member(Mailbox& mailbox, const MemberSetup& s) {
  const config::TuneConfig& cfg = *s.cfg;
  const auto t_start = clock::now();
  runlog::RankStats stats;
  stats.rank = s.layout.rank;
  stats.host = s.layout.host;
  stats.group = s.layout.group;
  stats.node_rank = s.layout.node_rank;
  stats.pin_core = s.simulate ? -1 : s.pin_core;
  HubLink hub(mailbox, s.layout.rank, stats);

  // Measurement on this rank: its own worker, pinned to its own core.
  runtime::MeasureOptions mopts = measure_options(cfg.measure, cfg.seed);
  mopts.pin_core = s.pin_core;
  mopts.run_lock = s.run_lock;
  std::unique_ptr<search::Evaluator> evaluator = make_evaluator(cfg, s.simulate, mopts);
  search::MeasurementCache cache;
  search::CachedEvaluator cached(*evaluator, cache);
  const std::vector<std::string> names = task_names(cfg);
  // The machine every task of this rank is tuned for, read once.
  auto* runtime_evaluator = dynamic_cast<search::RuntimeEvaluator*>(evaluator.get());
  const search::HardwareDescription hardware =
      search::host_hardware_description(runtime_evaluator ? runtime_evaluator->execution_space() : "Serial");
  // One cost model for every round this rank tunes, of any task, warm from the tuning database.
  std::optional<database::Database> db;
  if (!s.database.empty()) {
    try {
      db.emplace(s.database);
    } catch (const database::DatabaseError&) {
      // rank 0's hub says why the database is not used; this rank's model starts cold
    }
  }
  const bool records = db && !db->all().empty();
  const std::shared_ptr<search::CostModel> cost_model = shared_cost_model(cfg, hardware.info, records);
  if (records && cost_model)
    seed_cost_model(*cost_model, *db, database::host_fingerprint(hardware.execution_space).id, hardware.info);

  // The LLM proposer's requests travel to the hub, which batches them with other ranks'.
  llm::Transport to_hub = [&](size_t model, const std::vector<llm::ChatRequest>& requests) {
    set_activity("waiting for an LLM answer from rank 0");
    const Message reply =
        hub.request(MessageType::Llm, llm::to_wire(model, requests), MessageType::LlmAnswer);
    return llm::responses_from_wire(reply.body);
  };

  while (true) {
    set_activity("waiting for the next task");
    const Assignment a =
        assignment_from_body(hub.request(MessageType::NextTask, "{}", MessageType::Assignment).body);
    if (a.task < 0) break;
    const size_t ti = static_cast<size_t>(a.task);
    const std::string& name = names[ti];
    auto workload = std::make_shared<const ir::Workload>(cfg.tasks[ti].workload);

    double reference_gflops = a.reference_gflops;
    if (a.measure_baselines) {
      set_activity("measuring the unscheduled kernel of " + name);
      const auto t = clock::now();
      const Baselines b =
          measure_baselines(name, workload, cached, cfg.measure, mopts.pin_core, s.simulate, true);
      stats.measure_s += since(t);
      reference_gflops = b.reference_gflops;
      hub.send(MessageType::Reference, dump({{"task", a.task},
                                             {"reference_seconds", b.reference_seconds},
                                             {"reference_gflops", b.reference_gflops},
                                             {"reference_estimate", b.reference_estimate},
                                             {"library", b.library},
                                             {"library_seconds", b.library_seconds},
                                             {"library_gflops", b.library_gflops}}));
    }

    search::TuneOptions o = tune_options(cfg);
    o.budget = a.share;
    o.seed = task_seed(cfg, ti, s.layout.group_rank);
    o.rank = s.layout.rank;
    o.hardware = hardware;
    o.shared_cost_model = cost_model;
    GroupChannel channel(hub, a.task, s.layout.group_size > 1 ? cfg.dist.sync_every : 0,
                         cfg.dist.tree_interval, stats, name);
    search::TaskRecording rec;
    rec.channel = &channel;
    rec.observed = &a.observed;
    rec.seeds = a.seeds;

    std::unique_ptr<search::Proposer> fallback;
    std::unique_ptr<llm::LlmProposer> llm_proposer;
    if (s.llm) {
      fallback = search::make_proposer("heuristic", nullptr);
      llm_proposer = std::make_unique<llm::LlmProposer>(*s.llm, fallback.get(), to_hub);
    }
    auto send_llm_calls = [&] {
      if (!llm_proposer) return;
      std::vector<runlog::LlmCallRecord> rows;
      for (const llm::CallRecord& c : llm_proposer->take_calls())
        rows.push_back(llm::to_trace_record(c, 0, 0, s.layout.rank));  // the hub numbers and times them
      if (!rows.empty())
        hub.send(MessageType::LlmCalls, dump({{"task", a.task}, {"calls", to_json_array(rows)}}));
    };
    set_activity("tuning " + name);
    search::TaskOutcome out;
    if (a.share > 0) {
      search::TaskSession session(
          workload, name, reference_gflops, cached, o, rec,
          [&](const search::Progress&) { send_llm_calls(); }, llm_proposer.get());
      if (a.seeds_only)
        session.run_seeds(a.share);
      else
        session.run(a.share);
      out = session.finish();
    }
    send_llm_calls();
    stats.search_s += out.search_s;
    stats.measure_s += out.measure_s;
    stats.samples += out.samples - out.replayed;

    TaskReport report;
    report.task = a.task;
    report.tree = channel.last_tree();
    report.samples = out.samples;
    report.failures = out.failures;
    report.illegal = out.illegal;
    report.observed = out.observed;
    report.proposer_failures = out.proposer_failures;
    if (fallback) report.proposer_failures += fallback->failures();
    hub.send(MessageType::TaskDone, to_body(report));
  }
  set_activity("finished");
  stats.wall_s = since(t_start);
  hub.send(MessageType::Finished, dump(to_json(stats)));
  return stats;
}

}  // namespace rctune::dist
