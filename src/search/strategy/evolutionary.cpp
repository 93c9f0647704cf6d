// MetaSchedule's evolutionary search (include/rctune/search/evolutionary.h).
#include "rctune/search/evolutionary.h"
#include "rctune/ir/check.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

namespace rctune::search {

namespace {

class EvolutionarySearch : public SearchStrategy {
 public:
  EvolutionarySearch(const SearchContext& ctx, EvolutionaryOptions opt)
      : ctx_(ctx), opt_(opt), rng_(derive_seed(ctx.seed, "evolutionary")) {
    RCTUNE_CHECK(ctx_.space && ctx_.predictor);
    opt_.population = std::max(opt_.population, 1);
  }

  std::string name() const override { return "evolutionary"; }

  std::vector<Candidate> next_batch(int n) override {
    if (n <= 0) return {};
    std::vector<Candidate> population = initial_population();
    for (int it = 0; it < opt_.genetic_iterations && !population.empty(); ++it)
      population = evolve(population);

    // The best predicted programs not measured yet; a share epsilon drawn from the design space.
    std::vector<Candidate> batch;
    std::unordered_set<uint64_t> in_batch;
    const int random_share = static_cast<int>(std::round(opt_.epsilon * n));
    const int by_model = n - random_share;
    for (const Candidate& c : population) {
      if (static_cast<int>(batch.size()) >= by_model) break;
      if (measured_.count(c.hash) || !in_batch.insert(c.hash).second) continue;
      batch.push_back(c);
    }
    for (int tries = 0; tries < 16 * n && static_cast<int>(batch.size()) < n; ++tries) {
      Candidate c = ctx_.space->sample(rng_);
      if (measured_.count(c.hash) || !in_batch.insert(c.hash).second) continue;
      c.predicted = ctx_.predictor->predict(c);
      batch.push_back(std::move(c));
    }
    for (const Candidate& c : batch) measured_.insert(c.hash);
    return batch;
  }

  void tell(const std::vector<Candidate>& batch, const std::vector<MeasureResult>& results) override {
    RCTUNE_CHECK(batch.size() == results.size());
    for (size_t i = 0; i < batch.size(); ++i)
      if (results[i].ok()) best_.push_back({results[i].gflops, batch[i]});
    std::stable_sort(best_.begin(), best_.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    const size_t keep = static_cast<size_t>(std::max(1.0, opt_.population * opt_.init_measured_ratio));
    if (best_.size() > keep) best_.resize(keep);
  }

 private:
  // The best measured programs, then fresh design-space samples up to the population size.
  std::vector<Candidate> initial_population() {
    std::vector<Candidate> pop;
    const size_t from_measured = static_cast<size_t>(opt_.population * opt_.init_measured_ratio);
    for (size_t i = 0; i < best_.size() && i < from_measured; ++i) pop.push_back(best_[i].second);
    const size_t need = static_cast<size_t>(opt_.population) - pop.size();
    std::vector<Candidate> fresh = ctx_.space->sample(rng_, need);
    for (Candidate& c : fresh) pop.push_back(std::move(c));
    return pop;
  }

  // One genetic iteration: parents drawn in proportion to predicted score, mutated with
  // probability mutation_probability; the population keeps the best predicted distinct programs.
  std::vector<Candidate> evolve(const std::vector<Candidate>& pop) {
    std::vector<double> scores = ctx_.predictor->predict(pop);
    std::vector<double> weights(scores.size());
    for (size_t i = 0; i < scores.size(); ++i)
      weights[i] = std::isfinite(scores[i]) ? std::max(scores[i], 0.0) : 0.0;
    const bool any = std::any_of(weights.begin(), weights.end(), [](double w) { return w > 0; });
    if (!any) std::fill(weights.begin(), weights.end(), 1.0);

    std::vector<Candidate> next;
    std::unordered_set<uint64_t> seen;
    // Draw until the population is full again (duplicates and measured programs do not count),
    // within twice its size in draws.
    for (size_t k = 0; k < 2 * pop.size() && next.size() < pop.size(); ++k) {
      const Candidate& parent = pop[weighted_index(rng_, weights)];
      if (bernoulli(rng_, opt_.mutation_probability)) {
        if (std::optional<Mutation> m = ctx_.space->mutate(parent.state, rng_)) {
          if (!measured_.count(m->candidate.hash) && seen.insert(m->candidate.hash).second) {
            m->candidate.proposer = "mutation";
            m->candidate.rationale = std::string(mutation_kind_name(m->kind)) + " mutation";
            next.push_back(std::move(m->candidate));
          }
          continue;
        }
      }
      if (seen.insert(parent.hash).second) next.push_back(parent);
    }
    // Keep the best predicted: the next iteration's parents and the batch's order.
    std::vector<double> next_scores = ctx_.predictor->predict(next);
    std::vector<size_t> order(next.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return next_scores[a] > next_scores[b]; });
    std::vector<Candidate> sorted;
    sorted.reserve(order.size());
    for (size_t i : order) {
      next[i].predicted = next_scores[i];
      sorted.push_back(std::move(next[i]));
    }
    return sorted;
  }

  SearchContext ctx_;
  EvolutionaryOptions opt_;
  Rng rng_;
  std::unordered_set<uint64_t> measured_;           // handed out (measured or pending)
  std::vector<std::pair<double, Candidate>> best_;  // measured, best GFLOP/s first
};

}  // namespace

std::unique_ptr<SearchStrategy> make_evolutionary_search(const SearchContext& ctx,
                                                         EvolutionaryOptions options) {
  return std::make_unique<EvolutionarySearch>(ctx, options);
}

}  // namespace rctune::search
