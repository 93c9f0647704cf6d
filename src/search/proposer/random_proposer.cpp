// The random proposer (make_random_proposer, rctune/search/proposer.h): uniform over legal actions.
// Each proposal is, with probability 1/2 when a design space is given, one of its parameter
// mutations; otherwise one structural primitive with random arguments (random_actions.h), kept only
// when it applies and lowers and changes the program. Rationale "random". What it drops is
// counted by cause in failures().
#include <set>

#include "rctune/search/action.h"
#include "rctune/search/design_space.h"
#include "rctune/search/proposer.h"
#include "rctune/search/proposer_failures.h"
#include "search/proposer/random_actions.h"
#include "search/space/nest_analysis.h"

namespace rctune::search {

namespace {

class RandomProposer final : public Proposer {
 public:
  explicit RandomProposer(const DesignSpace* space) : space_(space) {}
  std::string name() const override { return "random"; }

  std::vector<Proposal> propose(const ProposerInput& in, Rng& rng) override {
    std::vector<Proposal> out;
    attempt(failures_, "random proposer", [&] {
      std::set<std::string> failed;
      for (const FailedProposal& f : in.failed) {
        try {
          failed.insert(to_text(parse_action(f.action)));
        } catch (const ActionError&) {
          // another proposer's action that did not parse: it cannot be proposed again anyway
        }
      }
      const nest::Evaluation base = nest::evaluate_state(in.state, in.hardware.info);
      std::set<uint64_t> seen;
      if (base.legal) seen.insert(base.hash);
      for (int tries = 0; static_cast<int>(out.size()) < in.count && tries < 40 * std::max(in.count, 1);
           ++tries) {
        if (space_ && bernoulli(rng, 0.5)) {
          std::optional<Mutation> m = space_->mutate(in.state, rng);
          if (!m) continue;
          std::string canon = to_text(parse_action(m->action));
          if (failed.count(canon) || !seen.insert(m->candidate.hash).second) continue;
          out.push_back({canon, "random"});
          continue;
        }
        const std::string step = nest::random_primitive(in.state, rng);
        if (step.empty()) continue;
        std::string canon;
        if (!attempt(failures_, "random proposer: parsing a random step",
                     [&] { canon = to_text(parse_action(step)); }))
          continue;
        if (failed.count(canon)) continue;
        nest::Evaluation e;
        if (!attempt(failures_, "random proposer: applying a random step",
                     [&] { e = nest::evaluate_state(apply_action(in.state, canon), in.hardware.info); }))
          continue;
        if (!e.legal) {
          ++failures_.illegal;  // it does not lower
          continue;
        }
        if (!seen.insert(e.hash).second) continue;
        out.push_back({canon, "random"});
      }
    });
    return out;
  }

 private:
  const DesignSpace* space_;
};

}  // namespace

std::unique_ptr<Proposer> make_random_proposer(const DesignSpace* space) {
  return std::make_unique<RandomProposer>(space);
}

}  // namespace rctune::search
