// Random search over the design space (include/rctune/search/random_search.h).
#include "rctune/search/random_search.h"
#include "rctune/ir/check.h"

#include <unordered_set>

namespace rctune::search {

namespace {

class RandomSearch : public SearchStrategy {
 public:
  explicit RandomSearch(const SearchContext& ctx) : ctx_(ctx), rng_(derive_seed(ctx.seed, "random")) {
    RCTUNE_CHECK(ctx_.space);
  }
  std::string name() const override { return "random"; }

  std::vector<Candidate> next_batch(int n) override {
    std::vector<Candidate> batch;
    for (int tries = 0; tries < 32 * n + 64 && static_cast<int>(batch.size()) < n; ++tries) {
      Candidate c = ctx_.space->sample(rng_);
      if (!seen_.insert(c.hash).second) continue;
      batch.push_back(std::move(c));
    }
    return batch;
  }
  void tell(const std::vector<Candidate>&, const std::vector<MeasureResult>&) override {}

 private:
  SearchContext ctx_;
  Rng rng_;
  std::unordered_set<uint64_t> seen_;
};

}  // namespace

std::unique_ptr<SearchStrategy> make_random_search(const SearchContext& ctx) {
  return std::make_unique<RandomSearch>(ctx);
}

}  // namespace rctune::search
