// Private to the design space (src/search): the analysis of a workload's stages that the sketch
// rules read (which stages tile, pack, rfactor, inline), the sketches themselves, and the sampler
// that turns a sketch into a schedule with random parameters. docs/design-space.md describes the
// rules and the distributions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rctune/ir/workload.h"
#include "rctune/schedule/state.h"
#include "rctune/search/design_space.h"
#include "rctune/search/features.h"
#include "rctune/search/random.h"

namespace rctune::search::detail {

// What the rules need to know about one stage of the original workload.
struct StageFacts {
  std::string name;
  bool is_output = false;
  bool has_reduction = false;
  bool elementwise = false;  // op `=`
  bool cheap = false;        // no transcendental function in the body
  std::vector<ir::IndexVar> spatial;
  std::vector<ir::IndexVar> reduce;
  int vector_axis = -1;            // last spatial axis with extent > 1 (index into spatial), -1 if none
  bool vector_contiguous = false;  // every read that uses the vector axis has it as its last index
  std::vector<int> row_axes;       // spatial axes that give register reuse next to the vector axis
  std::vector<std::string> reused_inputs;  // workload inputs read without some spatial axis
  std::string pack_operand;                // the reused input to pack ("" if none)
  std::vector<bool> pack_depends;          // per spatial axis: does pack_operand's index use it
  bool inline_candidate = false;  // elementwise, not an output, cheap or read only by elementwise stages
  bool tileable = false;          // reduction with data reuse: multi-level tiling
  bool rfactorable = false;       // reduction without reuse, innermost reduced axis contiguous
  // Streaming (a memory-bound reduction such as a matrix-vector product): an input read along the
  // contiguous vector axis and every reduction axis whose elements serve at most kMaxStreamReuse
  // outputs each, so that reading it once dominates the time. Its rows (blocks of the reduction
  // axis) are streamed over the whole output width.
  bool streamable = false;
  std::string stream_operand;    // that input
  int stream_reduce = -1;        // the reduction axis blocked (index into reduce): the operand's rows
  std::vector<int> stream_rows;  // spatial axes (extent > 1) the operand does not use: its reuse
};

// The most outputs one element of a streamed operand may serve (matrix-vector products with up to
// this many rows).
inline constexpr int64_t kMaxStreamReuse = 4;

struct WorkloadFacts {
  std::vector<StageFacts> stages;  // original workload order
  int lanes = 8;                   // vector lanes of the element type
  int registers = 16;              // vector registers
  int cores = 1;
  int64_t l2_bytes = 1024 * 1024;
  int elem_bytes = 4;  // of the last stage's output
  const StageFacts* find(const std::string& name) const;
};

WorkloadFacts analyze_workload(const ir::Workload& w, const HardwareInfo& hw);

// How a sketch streams its streamable stages: not at all, with their other inputs staged per block
// of rows (cache_read into a heap buffer), or reading them directly.
enum class StreamInputs { None, Staged, Direct };

// A sketch: the rules applied (structure), the parameters left free.
struct Sketch {
  SketchInfo info;
  StreamInputs stream = StreamInputs::None;  // stream the streamable stages (the others tile)
  bool in_place = false;  // tile without a write cache (SSRSRS, accumulating in the output)
  bool pack = false;      // pack the reused operand of every tiled stage that has one
  bool rfactor = false;   // rfactor every rfactorable stage
  double weight = 1;      // relative frequency in DesignSpace::sample()
};

// At least one sketch.
std::vector<Sketch> make_sketches(const WorkloadFacts& facts);

// A state of the sketch with random parameters. Optional steps that turn out illegal are left out;
// throws schedule::ScheduleError only when a step every sample needs fails.
schedule::State sample_sketch_state(const Sketch& sketch, const WorkloadFacts& facts,
                                    const std::shared_ptr<const ir::Workload>& workload, Rng& rng);

// Random split factors for tile sizes: `parts` factors of `extent` (the first may be inferred),
// biased toward divisors and, when `vector_lanes` > 0, toward an innermost factor that is a multiple
// of the lanes. Used by the sampler and the tile-size mutation.
std::vector<int64_t> draw_split_factors(int64_t extent, int parts, int vector_lanes, Rng& rng);

}  // namespace rctune::search::detail
