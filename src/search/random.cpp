#include "rctune/search/random.h"

#include <cstring>

namespace rctune::search {

namespace {
uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

uint64_t derive_seed(uint64_t base, uint64_t tag) {
  return splitmix64(splitmix64(base) ^ (tag * 0x2545f4914f6cdd1dULL));
}

uint64_t derive_seed(uint64_t base, const char* tag) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a of the tag
  for (size_t i = 0; i < std::strlen(tag); ++i)
    h = (h ^ static_cast<unsigned char>(tag[i])) * 1099511628211ULL;
  return derive_seed(base, h);
}

int64_t uniform_int(Rng& rng, int64_t lo, int64_t hi) {
  if (lo > hi) throw std::invalid_argument("search::uniform_int: empty range");
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  if (span == 0) return static_cast<int64_t>(rng());  // the whole 64-bit range
  // Rejection sampling keeps the draw unbiased and defined by the engine alone.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  uint64_t x;
  do x = rng();
  while (x >= limit);
  return lo + static_cast<int64_t>(x % span);
}

double uniform_real(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

bool bernoulli(Rng& rng, double p) { return uniform_real(rng) < p; }

size_t weighted_index(Rng& rng, const std::vector<double>& weights) {
  double total = 0;
  for (double w : weights) {
    if (!(w >= 0)) throw std::invalid_argument("search::weighted_index: negative or NaN weight");
    total += w;
  }
  if (!(total > 0)) throw std::invalid_argument("search::weighted_index: all weights are zero");
  double x = uniform_real(rng) * total;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (x < weights[i]) return i;
    x -= weights[i];
  }
  for (size_t i = weights.size(); i-- > 0;)  // rounding: the last positive weight
    if (weights[i] > 0) return i;
  return 0;
}

}  // namespace rctune::search
