#include "common.h"

namespace rctune::schedule {

using namespace detail;

State reverse_compute_at(const State& s, const std::string& stage, const std::string& producer,
                         const std::string& loop) {
  return place_stage(s, "reverse_compute_at", stage, producer, loop, Attach::Kind::ReverseAt);
}

}  // namespace rctune::schedule
