#include "common.h"
#include "traits.h"

namespace rctune::schedule {

using namespace detail;

State reverse_compute_at(const State& s, const std::string& stage, const std::string& producer,
                         const std::string& loop) {
  return place_stage(s, stage, producer, loop, Attach::Kind::ReverseAt);
}

PrimitiveInfo detail::reverse_compute_at_traits() {
  return primitive_traits(
      {{PK::Stage, "stage"}, {PK::Stage, "producer"}, {PK::Loop, "loop"}},
      "Computes a consumer stage inside a loop of its producer, after that loop's body, over the "
      "region that iteration produced.",
      "the stage reads the producer directly, indexed by its own axes (one per dimension, the same in "
      "every read), and has no reduction; the loop is a current loop of the producer, not vectorized, "
      "and neither it nor an enclosing loop of the producer is a reduction loop; no cycles; every "
      "stage still reads only tensors computed before it.",
      "reverse_compute_at(C, C.local, i.0)", apply_from_names<&reverse_compute_at>);
}

}  // namespace rctune::schedule
