// Monte Carlo tree search over schedules (include/rctune/search/mcts.h).
#include "rctune/search/mcts.h"
#include "rctune/ir/check.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "rctune/ir/stmt.h"
#include "rctune/schedule/error.h"
#include "rctune/search/action.h"

namespace rctune::search {

namespace {

struct Node {
  int64_t id = 0;
  int64_t parent = -1;
  int depth = 0;
  std::vector<int64_t> children;
  Candidate cand;
  std::string action;  // from the parent
  int64_t visits = 0;
  double value = 0;  // sum of backpropagated values
  // Root children and the root: the sums of the other ranks' visits and values (root-parallel
  // search); selection adds them to the node's own.
  int64_t peer_visits = 0;
  double peer_value = 0;
  bool expanded = false;
  bool exhausted = false;  // an expansion found nothing new: not expanded again
  bool measured = false;
  bool handed_out = false;  // given to the tuner, result pending or known
  MeasureResult result;
  double predicted = kNaN;
  std::vector<FailedProposal> failed;  // proposals from this node that were rejected
};

class MctsSearch : public SearchStrategy {
 public:
  MctsSearch(const SearchContext& ctx, MctsOptions opt)
      : ctx_(ctx), opt_(opt), rng_(derive_seed(ctx.seed, "mcts")) {
    RCTUNE_CHECK(ctx_.space && ctx_.predictor);
    Node root;
    root.cand = make_candidate(schedule::State(ctx_.workload));
    root.expanded = false;
    root.handed_out = true;  // the unscheduled program is the tuner's reference, not a sample
    by_hash_.emplace(root.cand.hash, 0);
    nodes_.push_back(std::move(root));
  }

  std::string name() const override { return "mcts"; }

  std::vector<Candidate> next_batch(int n) override {
    if (n <= 0) return {};
    std::vector<int64_t> pending = ranked_pending(n);
    if (pending.empty()) return {};

    std::vector<Candidate> batch;
    while (static_cast<int>(batch.size()) < n && !pending.empty()) {
      size_t pick_at = 0;
      if (pending.size() > 1 && bernoulli(rng_, opt_.epsilon))
        pick_at = static_cast<size_t>(uniform_int(rng_, 0, static_cast<int64_t>(pending.size()) - 1));
      Node& node = nodes_[pending[pick_at]];
      pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(pick_at));
      node.handed_out = true;
      Candidate c = node.cand;
      c.predicted = node.predicted;
      batch.push_back(std::move(c));
    }
    return batch;
  }

  void tell(const std::vector<Candidate>& batch, const std::vector<MeasureResult>& results) override {
    RCTUNE_CHECK(batch.size() == results.size());
    std::vector<int64_t> ids;
    for (size_t i = 0; i < batch.size(); ++i) {
      auto it = by_hash_.find(batch[i].hash);
      if (it == by_hash_.end()) continue;
      set_result(it->second, results[i]);
      ids.push_back(it->second);
    }
    // Values after the best is updated, so that a round's results share one scale.
    for (int64_t id : ids) backpropagate(id, measured_value(id));
  }

  void observe(const std::vector<Candidate>& programs, const std::vector<MeasureResult>& results) override {
    RCTUNE_CHECK(programs.size() == results.size());
    // The best of the news that this tree does not have yet becomes a child of the root, so that
    // selection can build on it (the broadcast of the group's best schedule).
    std::optional<size_t> best_new;
    for (size_t i = 0; i < programs.size(); ++i) {
      if (by_hash_.count(programs[i].hash) || !results[i].ok() || results[i].gflops <= best_gflops_) continue;
      if (!best_new || results[i].gflops > results[*best_new].gflops) best_new = i;
    }
    std::vector<int64_t> ids;
    for (size_t i = 0; i < programs.size(); ++i) {
      auto it = by_hash_.find(programs[i].hash);
      if (it == by_hash_.end() && best_new == i) {
        Candidate c = programs[i];
        c.proposer = "peer";
        if (add_child(0, std::move(c), "")) it = by_hash_.find(programs[i].hash);
      }
      known_.emplace(programs[i].hash, results[i]);
      if (it == by_hash_.end() || nodes_[it->second].measured) continue;
      set_result(it->second, results[i]);
      nodes_[it->second].handed_out = true;
      ids.push_back(it->second);
    }
    for (int64_t id : ids) backpropagate(id, measured_value(id));
  }

  std::vector<uint64_t> likely_picks(int n) override {
    std::vector<uint64_t> out;
    if (n <= 0) return out;
    for (int64_t id : ranked_pending(n)) {
      if (static_cast<int>(out.size()) >= n) break;
      out.push_back(nodes_[id].cand.hash);
    }
    return out;
  }

  void set_claimed(const std::vector<uint64_t>& hashes) override {
    for (uint64_t h : hashes) {
      claimed_.insert(h);
      if (auto it = by_hash_.find(h); it != by_hash_.end()) nodes_[it->second].handed_out = true;
    }
  }

  std::vector<RootStatistic> root_statistics() const override {
    std::vector<RootStatistic> out;
    out.push_back({nodes_[0].cand.hash, nodes_[0].visits, nodes_[0].value});
    for (int64_t c : nodes_[0].children)
      out.push_back({nodes_[c].cand.hash, nodes_[c].visits, nodes_[c].value});
    return out;
  }

  void set_peer_statistics(const std::vector<RootStatistic>& peers) override {
    std::unordered_map<uint64_t, const RootStatistic*> by_hash;
    for (const RootStatistic& p : peers) by_hash.emplace(p.hash, &p);
    auto apply = [&](Node& n) {
      auto it = by_hash.find(n.cand.hash);
      n.peer_visits = it == by_hash.end() ? 0 : it->second->visits;
      n.peer_value = it == by_hash.end() ? 0 : it->second->value;
    };
    apply(nodes_[0]);
    for (int64_t c : nodes_[0].children) apply(nodes_[c]);
  }

  std::vector<RejectedProposal> take_rejected() override { return std::exchange(rejected_, {}); }

  std::vector<runlog::TreeNode> tree() const override {
    std::vector<runlog::TreeNode> out(nodes_.size());
    for (const Node& n : nodes_) {
      runlog::TreeNode& t = out[n.id];
      t.id = n.id;
      t.parent = n.parent;
      t.action = n.action;
      t.visits = n.visits;
      t.value = n.value;
      t.sample = n.measured ? n.result.sample : -1;
      t.structural_hash = n.cand.hash;
    }
    // Best measured GFLOP/s of each subtree: children have larger ids than their parents.
    for (size_t i = nodes_.size(); i-- > 0;) {
      const Node& n = nodes_[i];
      if (n.measured && n.result.ok())
        out[i].best_gflops =
            std::isnan(out[i].best_gflops) ? n.result.gflops : std::max(out[i].best_gflops, n.result.gflops);
      if (n.parent >= 0 && !std::isnan(out[i].best_gflops)) {
        double& p = out[n.parent].best_gflops;
        p = std::isnan(p) ? out[i].best_gflops : std::max(p, out[i].best_gflops);
      }
    }
    return out;
  }

 private:
  // Expands until at least n unmeasured programs wait (within a bound on the work of one round),
  // re-predicts them (the model has learned since they were created) and ranks them, best first.
  std::vector<int64_t> ranked_pending(int n) {
    const int max_iterations = 8 * n + 16;
    for (int it = 0; it < max_iterations && pending_count() < static_cast<size_t>(n); ++it) {
      if (!iterate()) break;
    }
    std::vector<int64_t> pending;
    for (const Node& node : nodes_)
      if (!node.handed_out) pending.push_back(node.id);
    if (pending.empty()) return pending;
    std::vector<Candidate> cs;
    cs.reserve(pending.size());
    for (int64_t id : pending) cs.push_back(nodes_[id].cand);
    std::vector<double> scores = ctx_.predictor->predict(cs);
    for (size_t i = 0; i < pending.size(); ++i) nodes_[pending[i]].predicted = scores[i];
    std::stable_sort(pending.begin(), pending.end(),
                     [&](int64_t a, int64_t b) { return nodes_[a].predicted > nodes_[b].predicted; });
    return pending;
  }

  size_t pending_count() const {
    size_t k = 0;
    for (const Node& n : nodes_) k += n.handed_out ? 0 : 1;
    return k;
  }

  // Own and peers' statistics together (the peers' are zero below the root's children).
  double uct(const Node& parent, const Node& child) const {
    const int64_t visits = child.visits + child.peer_visits;
    if (visits == 0) return std::numeric_limits<double>::infinity();
    const int64_t parent_visits = std::max<int64_t>(parent.visits + parent.peer_visits, 1);
    return (child.value + child.peer_value) / static_cast<double>(visits) +
           opt_.exploration *
               std::sqrt(std::log(static_cast<double>(parent_visits)) / static_cast<double>(visits));
  }

  void set_result(int64_t id, const MeasureResult& r) {
    Node& node = nodes_[id];
    node.measured = true;
    node.result = r;
    if (r.ok() && r.gflops > best_gflops_) best_gflops_ = r.gflops;
    if (r.ok() && (best_node_ < 0 || r.gflops > nodes_[best_node_].result.gflops)) best_node_ = id;
  }

  double measured_value(int64_t id) const {
    const MeasureResult& r = nodes_[id].result;
    return r.ok() && best_gflops_ > 0 ? r.gflops / best_gflops_ : 0.0;
  }

  bool root_wants_widening() const {
    const Node& root = nodes_[0];
    const double allowed =
        std::max<double>(opt_.root_samples, std::floor(std::sqrt(static_cast<double>(root.visits))));
    return static_cast<double>(root.children.size()) < allowed && !root.exhausted;
  }

  // One select-expand-simulate-backpropagate iteration. False when the tree cannot grow.
  bool iterate() {
    int64_t cur = 0;
    while (true) {
      Node& node = nodes_[cur];
      if (cur == 0 && root_wants_widening()) break;
      std::vector<int64_t> options;
      for (int64_t c : node.children)
        if (!subtree_exhausted(c)) options.push_back(c);
      if (options.empty()) break;
      int64_t best = options.front();
      double best_u = -std::numeric_limits<double>::infinity();
      for (int64_t c : options) {
        const double u = uct(node, nodes_[c]);
        if (u > best_u) best_u = u, best = c;
      }
      cur = best;
    }
    if (nodes_[cur].exhausted) return false;
    const std::vector<int64_t> added = expand(cur);
    if (added.empty()) {
      nodes_[cur].exhausted = true;
      // Nothing new here: count a visit of value 0 so that UCT looks elsewhere.
      backpropagate(cur, 0.0);
      return !subtree_exhausted(0);
    }
    for (int64_t c : added) backpropagate(c, nodes_[c].measured ? measured_value(c) : rollout(c));
    return true;
  }

  bool subtree_exhausted(int64_t id) const {
    const Node& n = nodes_[id];
    if (!n.exhausted) return false;
    for (int64_t c : n.children)
      if (!subtree_exhausted(c)) return false;
    return true;
  }

  // Adds children to a node; returns the new node ids.
  std::vector<int64_t> expand(int64_t id) {
    std::vector<int64_t> added;
    if (id == 0) {
      // The root: design-space samples, one sketch after another (so that the first children
      // cover different structures), each the best predicted of a few draws of its sketch that
      // is not in the tree yet.
      const int want = nodes_[0].children.empty() ? opt_.root_samples : 1;
      const size_t sketches = ctx_.space->sketches().size();
      for (int tries = 0; tries < 4 * want && static_cast<int>(added.size()) < want; ++tries) {
        const size_t sketch = next_root_sketch_++ % sketches;
        std::vector<Candidate> draws;
        for (int d = 0; d < opt_.root_draws; ++d) {
          Candidate c = ctx_.space->sample_sketch(sketch, rng_);
          if (!by_hash_.count(c.hash)) draws.push_back(std::move(c));
        }
        if (draws.empty()) continue;
        const std::vector<double> scores = ctx_.predictor->predict(draws);
        const size_t best =
            static_cast<size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
        if (auto child = add_child(0, std::move(draws[best]), "")) added.push_back(*child);
      }
      return added;
    }
    nodes_[id].expanded = true;
    if (ctx_.proposer) {
      ProposerInput in = proposer_input(id);
      std::vector<Proposal> proposals;
      try {
        proposals = ctx_.proposer->propose(in, rng_);
      } catch (const std::exception& e) {
        record_failure(id, ctx_.proposer->name(), "", "", std::string("proposer failed: ") + e.what());
      }
      for (const Proposal& p : proposals) {
        if (static_cast<int>(added.size()) >= opt_.branching) break;
        try {
          Candidate c = make_candidate(apply_action(nodes_[id].cand.state, p.action));
          c.proposer = ctx_.proposer->name();
          c.rationale = p.rationale;
          if (auto child = add_child(id, std::move(c), p.action)) added.push_back(*child);
        } catch (const schedule::ScheduleError& e) {
          record_failure(id, ctx_.proposer->name(), p.rationale, p.action, e.what());
        }
      }
    }
    // Top up with parameter mutations (the paper's fallback: a random mutator).
    for (int tries = 0; tries < 4 * opt_.branching && static_cast<int>(added.size()) < opt_.branching;
         ++tries) {
      std::optional<Mutation> m = ctx_.space->mutate(nodes_[id].cand.state, rng_);
      if (!m) break;
      m->candidate.proposer = "mutation";
      m->candidate.rationale = std::string("random ") + mutation_kind_name(m->kind) + " mutation";
      if (auto child = add_child(id, std::move(m->candidate), m->action)) added.push_back(*child);
    }
    return added;
  }

  void record_failure(int64_t id, const std::string& proposer, const std::string& rationale,
                      const std::string& action, const std::string& error) {
    Node& n = nodes_[id];
    n.failed.push_back({action, error});
    if (static_cast<int>(n.failed.size()) > opt_.failure_memory) n.failed.erase(n.failed.begin());
    rejected_.push_back({proposer, rationale, action, n.cand.trace, id, error});
  }

  std::optional<int64_t> add_child(int64_t parent, Candidate c, const std::string& action) {
    if (by_hash_.count(c.hash)) {
      ++transpositions_;
      return std::nullopt;
    }
    Node child;
    child.id = static_cast<int64_t>(nodes_.size());
    child.parent = parent;
    child.depth = nodes_[parent].depth + 1;
    child.action = action;
    c.node = child.id;
    c.parent_node = parent;
    c.action = action;
    child.cand = std::move(c);
    by_hash_.emplace(child.cand.hash, child.id);
    nodes_[parent].children.push_back(child.id);
    nodes_.push_back(std::move(child));
    // A program another rank has measured already: its result, not a measurement. One another
    // rank said it will measure: its result comes later.
    if (auto known = known_.find(nodes_.back().cand.hash); known != known_.end()) {
      set_result(nodes_.back().id, known->second);
      nodes_.back().handed_out = true;
    } else if (claimed_.count(nodes_.back().cand.hash)) {
      nodes_.back().handed_out = true;
    }
    return nodes_.back().id;
  }

  // The best predicted score on a short random walk of mutations from the node, normalised.
  double rollout(int64_t id) {
    std::vector<Candidate> walk{nodes_[id].cand};
    schedule::State s = nodes_[id].cand.state;
    for (int d = 0; d < opt_.rollout_depth; ++d) {
      std::optional<Mutation> m = ctx_.space->mutate(s, rng_);
      if (!m) break;
      s = m->candidate.state;
      walk.push_back(std::move(m->candidate));
    }
    const std::vector<double> scores = ctx_.predictor->predict(walk);
    if (ctx_.predictor->trained() != predictions_trained_) {
      // The scale of the predictions changes when the model replaces the analytic score.
      predictions_trained_ = ctx_.predictor->trained();
      best_prediction_ = 0;
    }
    nodes_[id].predicted = scores.front();
    double best = *std::max_element(scores.begin(), scores.end());
    if (!std::isfinite(best)) best = 0;
    best_prediction_ = std::max(best_prediction_, best);
    return best_prediction_ > 0 ? std::max(0.0, best / best_prediction_) : 0.0;
  }

  void backpropagate(int64_t id, double v) {
    for (int64_t cur = id; cur >= 0; cur = nodes_[cur].parent) {
      nodes_[cur].visits += 1;
      nodes_[cur].value += v;
    }
  }

  ProgramView view(const Node& n) const {
    ProgramView v;
    v.program = ir::to_string(*n.cand.lowered);
    v.trace = number_steps(n.cand.state.trace());
    v.predicted = n.predicted;
    if (n.id == 0 && ctx_.reference_gflops > 0) {  // the unscheduled program: the tuner measured it
      v.status = "ok";
      v.gflops = ctx_.reference_gflops;
      v.speedup = 1;
    } else if (n.measured) {
      v.status = runlog::sample_status_name(n.result.status);
      if (n.result.ok()) {
        v.gflops = n.result.gflops;
        if (ctx_.reference_gflops > 0) v.speedup = n.result.gflops / ctx_.reference_gflops;
      }
    }
    return v;
  }

  ProposerInput proposer_input(int64_t id) const {
    ProposerInput in;
    in.state = nodes_[id].cand.state;
    in.node = id;
    in.depth = nodes_[id].depth;
    in.count = opt_.branching;
    in.hardware = ctx_.hardware;
    int64_t cur = id;
    for (int k = 0; cur >= 0 && k <= opt_.history_depth; ++k, cur = nodes_[cur].parent)
      in.history.push_back(view(nodes_[cur]));
    if (best_node_ >= 0) in.best = view(nodes_[best_node_]);
    // Failures of this subtree: the node's own and its ancestors', oldest first, newest last.
    std::vector<FailedProposal> failed;
    for (cur = id; cur >= 0; cur = nodes_[cur].parent)
      failed.insert(failed.begin(), nodes_[cur].failed.begin(), nodes_[cur].failed.end());
    if (static_cast<int>(failed.size()) > opt_.failure_memory)
      failed.erase(failed.begin(), failed.end() - opt_.failure_memory);
    in.failed = std::move(failed);
    return in;
  }

  SearchContext ctx_;
  MctsOptions opt_;
  Rng rng_;
  std::vector<Node> nodes_;
  std::unordered_map<uint64_t, int64_t> by_hash_;
  std::unordered_map<uint64_t, MeasureResult> known_;  // measured by other ranks (observe)
  std::unordered_set<uint64_t> claimed_;               // to be measured by other ranks (set_claimed)
  std::vector<RejectedProposal> rejected_;
  double best_gflops_ = 0;
  int64_t best_node_ = -1;
  double best_prediction_ = 0;
  bool predictions_trained_ = false;
  int64_t transpositions_ = 0;
  size_t next_root_sketch_ = 0;
};

}  // namespace

std::unique_ptr<SearchStrategy> make_mcts_search(const SearchContext& ctx, MctsOptions options) {
  return std::make_unique<MctsSearch>(ctx, options);
}

}  // namespace rctune::search
