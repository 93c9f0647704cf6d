// The sampler of the design space: turns a sketch (rules applied to a workload) into a schedule
// with random parameters, by calling the schedule primitives in the order the rules need:
//   1. auto-inline, 2. streaming of memory-bound reductions (stream sketches) or multi-level
//   tiling (+ packing), 3. rfactor, 4. epilogue fusion, 5. vectorize untiled elementwise stages,
//   6. compute_at of producers into their consumers, 7. parallel on a fused prefix of every root
//   stage's outer loops.
// Optional steps that are illegal in the state reached are left out (the primitives check); the
// distributions are described in docs/design-space.md.
#include <algorithm>
#include <map>
#include <set>

#include "rctune/schedule/error.h"
#include "rctune/schedule/primitives.h"
#include "search/space/sketch_rules.h"

namespace rctune::search::detail {

namespace {

using schedule::State;

// Applies f to s; on a ScheduleError leaves s unchanged and returns false.
template <class F>
bool attempt(State& s, F&& f) {
  try {
    s = f(s);
    return true;
  } catch (const schedule::ScheduleError&) {
    return false;
  }
}

// A random order of items, item i drawn before the others with probability proportional to w[i].
template <class T>
std::vector<T> weighted_order(Rng& rng, std::vector<T> items, std::vector<double> w) {
  std::vector<T> out;
  while (!items.empty()) {
    size_t i = weighted_index(rng, w);
    out.push_back(items[i]);
    items.erase(items.begin() + static_cast<std::ptrdiff_t>(i));
    w.erase(w.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return out;
}

std::string sub(const std::string& loop, int index) { return schedule::split_loop_name(loop, index); }

bool is_root(const State& s, const std::string& stage) {
  const schedule::StageSchedule* st = s.stage(stage);
  return st && st->attach.kind == schedule::Attach::Kind::Root;
}

// Loop of a stage by name.
const schedule::LoopVar* loop_of(const schedule::StageSchedule& st, const std::string& name) {
  int l = st.find_loop(name);
  return l < 0 ? nullptr : &st.loops[static_cast<size_t>(l)];
}

// What tiling a stage left for the later rules.
struct TileInfo {
  std::string stage;
  std::vector<std::string> outer;  // S's loops that enclose S.local, outermost first
  std::string local_at;
  int64_t register_elems = 1;
  bool streamed = false;  // by the streaming rule: local_at is the loop over width blocks
};

// A vector-friendly inner factor for an axis of `extent`: a multiple of the lanes (dividing the
// extent when possible) up to 4 vectors, the extent itself when shorter than a vector.
int64_t draw_vector_factor(int64_t extent, int lanes, Rng& rng) {
  std::vector<int64_t> vals;
  std::vector<double> w;
  for (int64_t m = lanes; m <= std::min<int64_t>(extent, 4 * lanes); m += lanes) {
    vals.push_back(m);
    w.push_back(extent % m == 0 ? 4.0 : 1.0);
  }
  if (extent < lanes || vals.empty()) return extent;
  return vals[weighted_index(rng, w)];
}

class Sampler {
 public:
  Sampler(const Sketch& sketch, const WorkloadFacts& facts, Rng& rng)
      : sketch_(sketch), facts_(facts), rng_(rng) {}

  State run(State s) {
    // 1. auto-inline
    for (const StageFacts& f : facts_.stages)
      if (f.inline_candidate) attempt(s, [&](const State& t) { return schedule::compute_inline(t, f.name); });
    // 2. multi-level tiling
    for (const StageFacts& f : facts_.stages) {
      if (f.streamable && sketch_.stream != StreamInputs::None)
        stream(s, f);
      else if (f.tileable)
        sketch_.in_place ? tile_in_place(s, f) : tile(s, f);
    }
    // 3. rfactor
    if (sketch_.rfactor)
      for (const StageFacts& f : facts_.stages)
        if (f.rfactorable) rfactor(s, f);
    // 4. epilogue fusion
    fuse_epilogues(s);
    // 5. vectorize the untiled elementwise stages at the root
    for (const StageFacts& f : facts_.stages) {
      if (!is_root(s, f.name) || fused_.count(f.name)) continue;
      if (f.elementwise)
        vectorize_elementwise(s, f);
      else if (f.has_reduction && f.vector_contiguous)
        vectorize_reduction(s, f);
    }
    // 6. producers into their consumers
    for (auto it = facts_.stages.rbegin(); it != facts_.stages.rend(); ++it) place_producer(s, *it);
    // 7. parallel
    for (const auto& st : s.stages())
      if (st->attach.kind == schedule::Attach::Kind::Root) parallelize(s, st->stage);
    return s;
  }

 private:
  // Register tile extents per spatial axis: the vector axis a few whole vectors, one row axis
  // within the register budget, the others mostly 1 (80% biased draws, 20% free divisors).
  std::vector<int64_t> draw_register_tile(const StageFacts& f) {
    const size_t n = f.spatial.size();
    const size_t va = static_cast<size_t>(f.vector_axis);
    const int lanes = facts_.lanes;
    const int64_t budget = std::max(2, facts_.registers * 3 / 4);
    std::vector<int64_t> reg(n, 1);
    const bool biased = bernoulli(rng_, 0.8);
    const int64_t ev = f.spatial[va].extent;
    if (biased) {
      reg[va] = draw_vector_factor(ev, lanes, rng_);
    } else {
      std::vector<int64_t> d;
      for (int64_t x : divisors(ev))
        if (x <= 64) d.push_back(x);
      reg[va] = pick(rng_, d);
    }
    const int64_t nv = (reg[va] + lanes - 1) / lanes;
    if (!f.row_axes.empty()) {
      const size_t ra = static_cast<size_t>(pick(rng_, f.row_axes));
      const int64_t er = f.spatial[ra].extent;
      if (biased) {
        const int64_t cap = std::max<int64_t>(1, std::min(er, budget / nv));
        std::vector<int64_t> vals;
        std::vector<double> w;
        for (int64_t r = 1; r <= cap; ++r) {
          vals.push_back(r);
          w.push_back(r == 1 && cap > 1 ? 0.3 : (er % r == 0 ? 3.0 : 1.0));
        }
        reg[ra] = vals[weighted_index(rng_, w)];
      } else {
        std::vector<int64_t> d;
        for (int64_t x : divisors(er))
          if (x <= 32) d.push_back(x);
        reg[ra] = pick(rng_, d);
      }
    }
    for (size_t a = 0; a < n; ++a) {
      if (a == va || f.spatial[a].extent <= 1 || reg[a] > 1 || bernoulli(rng_, 0.85)) continue;
      std::vector<int64_t> d;
      for (int64_t x : divisors(f.spatial[a].extent))
        if (x <= 4) d.push_back(x);
      reg[a] = pick(rng_, d);
    }
    return reg;
  }

  void tile(State& s, const StageFacts& f) {
    const std::string& S = f.name;
    const std::string local = S + ".local";
    // cache_write is essential: the stage is unscheduled at this point.
    s = schedule::cache_write(s, S, ir::MemScope::Local);
    const size_t n = f.spatial.size();
    const size_t va = static_cast<size_t>(f.vector_axis);
    const std::vector<int64_t> reg = draw_register_tile(f);
    // Levels: 2 (outer tile, register tile) or 3 (outer, middle, register).
    const int levels = bernoulli(rng_, 0.4) ? 3 : 2;
    std::vector<std::vector<int64_t>> ext(n);  // per axis, extent of each level
    std::vector<size_t> split_axes, unsplit_axes;
    for (size_t a = 0; a < n; ++a) {
      const int64_t e = f.spatial[a].extent;
      if (e <= 1) {
        unsplit_axes.push_back(a);
        continue;
      }
      split_axes.push_back(a);
      const int64_t rest = (e + reg[a] - 1) / reg[a];
      std::vector<int64_t> factors{schedule::kInferredFactor};
      if (levels == 3) {
        const int64_t mid = pick(rng_, divisors(rest));
        factors.push_back(mid);
        ext[a] = {(rest + mid - 1) / mid, mid, reg[a]};
      } else {
        ext[a] = {rest, reg[a]};
      }
      factors.push_back(reg[a]);
      s = schedule::split(s, S, f.spatial[a].name, factors);
    }
    // Loop order: axes of extent 1, then level by level; the outer level puts the axes the packed
    // operand depends on first (its panel is then packed once and reused by the inner tiles).
    std::vector<size_t> lvl0 = split_axes;
    const bool pack = sketch_.pack && !f.pack_operand.empty();
    if (pack) {
      std::stable_partition(lvl0.begin(), lvl0.end(), [&](size_t a) { return f.pack_depends[a]; });
    } else if (bernoulli(rng_, 0.3)) {
      shuffle(rng_, lvl0);
    }
    std::vector<std::string> order;
    std::vector<int64_t> order_ext;
    std::vector<bool> order_dep;
    for (size_t a : unsplit_axes) {
      order.push_back(f.spatial[a].name);
      order_ext.push_back(1);
      order_dep.push_back(true);
    }
    for (int l = 0; l < levels; ++l) {
      for (size_t a : l == 0 ? lvl0 : split_axes) {
        order.push_back(sub(f.spatial[a].name, l));
        order_ext.push_back(ext[a][static_cast<size_t>(l)]);
        order_dep.push_back(pack ? f.pack_depends[a] : true);
      }
    }
    if (order.size() > 1) s = schedule::reorder(s, S, order);
    const size_t n_outer = order.size() - split_axes.size();  // loops above the register level
    // Compute location of the register tile: the innermost outer loop, or another one whose
    // region stays small.
    size_t loc = n_outer - 1;
    if (n_outer > 1 && bernoulli(rng_, 0.2)) {
      std::vector<size_t> ok;
      for (size_t p = 0; p < n_outer; ++p) {
        int64_t region = 1;
        for (size_t q = p + 1; q < order.size(); ++q) region *= order_ext[q];
        if (region <= 16384) ok.push_back(p);
      }
      if (!ok.empty()) loc = pick(rng_, ok);
    }
    TileInfo info;
    info.stage = S;
    info.outer.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(loc) + 1);
    info.local_at = order[loc];
    for (size_t q = loc + 1; q < order.size(); ++q) info.register_elems *= order_ext[q];
    s = schedule::compute_at(s, local, S, order[loc]);
    // Inside the tile: reduction loops outside, the register tile inside (vector axis innermost).
    std::vector<std::string> inner_order;
    for (const ir::IndexVar& r : f.reduce) inner_order.push_back(r.name);
    for (const ir::IndexVar& a : f.spatial) inner_order.push_back(a.name);
    attempt(s, [&](const State& t) { return schedule::reorder(t, local, inner_order); });
    const bool reg_tile = loc == n_outer - 1;
    for (size_t a = 0; a < n; ++a) {
      if (a == va || !reg_tile || reg[a] <= 1 || reg[a] > 16 || !bernoulli(rng_, 0.85)) continue;
      attempt(s, [&](const State& t) { return schedule::unroll(t, local, f.spatial[a].name); });
    }
    for (const ir::IndexVar& r : f.reduce)
      if (r.extent > 1 && r.extent <= 4 && bernoulli(rng_, 0.3))
        attempt(s, [&](const State& t) { return schedule::unroll(t, local, r.name); });
    if (bernoulli(rng_, 0.95))
      attempt(s, [&](const State& t) { return schedule::vectorize(t, local, f.spatial[va].name); });
    // Write-back of the tile.
    const int last = levels - 1;
    if (bernoulli(rng_, 0.9))
      attempt(s, [&](const State& t) { return schedule::vectorize(t, S, sub(f.spatial[va].name, last)); });
    for (size_t a : split_axes) {
      if (a == va || reg[a] <= 1 || reg[a] > 16 || !bernoulli(rng_, 0.6)) continue;
      attempt(s, [&](const State& t) { return schedule::unroll(t, S, sub(f.spatial[a].name, last)); });
    }
    // Packing of the reused operand at an outer loop.
    if (pack) {
      size_t preferred = loc;
      for (size_t p = 0; p <= loc; ++p) {
        if (order_ext[p] == 1 && p < unsplit_axes.size()) continue;
        if (!order_dep[p]) break;
        preferred = p;
      }
      pack_operand(
          s, f, local, S,
          std::vector<std::string>(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(loc) + 1),
          preferred);
    }
    tiles_[S] = info;
    fused_.insert(S);
  }

  // Packing: cache_read(operand, heap, reader) placed at one of `loops` of S (the preferred one
  // first most of the time; the first legal one kept), its innermost axis vectorized. Nothing
  // changes when no loop is legal.
  void pack_operand(State& s, const StageFacts& f, const std::string& reader, const std::string& S,
                    const std::vector<std::string>& loops, size_t preferred) {
    std::vector<std::string> order = loops;
    std::vector<double> w;
    for (size_t p = 0; p < loops.size(); ++p)
      w.push_back(p == preferred ? 3.0 * static_cast<double>(loops.size()) : 1.0);
    const std::string packed = f.pack_operand + ".heap";
    State with_pack = s;
    if (!attempt(with_pack, [&](const State& t) {
          return schedule::cache_read(t, f.pack_operand, ir::MemScope::Heap, {reader});
        }))
      return;
    for (const std::string& l : weighted_order(rng_, order, w)) {
      State t = with_pack;
      if (!attempt(t, [&](const State& u) { return schedule::compute_at(u, packed, S, l); })) continue;
      const ir::Tensor* op = s.workload().find_tensor(f.pack_operand);
      if (op && bernoulli(rng_, 0.8))
        attempt(t, [&](const State& u) {
          return schedule::vectorize(u, packed, "ax" + std::to_string(op->shape.size() - 1));
        });
      s = t;
      return;
    }
  }

  // Multi-level tiling without a write cache (MetaSchedule's SSRSRS): the stage accumulates in
  // its output; spatial axes in 3 levels, the longest reduction axis in 2 (a reduction block, as
  // BLAS blocks k), short reduction axes inside; a packed operand per reduction block.
  void tile_in_place(State& s, const StageFacts& f) {
    const std::string& S = f.name;
    const size_t n = f.spatial.size();
    const size_t va = static_cast<size_t>(f.vector_axis);
    const std::vector<int64_t> reg = draw_register_tile(f);
    std::vector<size_t> split_axes, unsplit_axes;
    for (size_t a = 0; a < n; ++a) {
      if (f.spatial[a].extent <= 1) {
        unsplit_axes.push_back(a);
        continue;
      }
      split_axes.push_back(a);
      const int64_t rest = (f.spatial[a].extent + reg[a] - 1) / reg[a];
      s = schedule::split(s, S, f.spatial[a].name,
                          {schedule::kInferredFactor, pick(rng_, divisors(rest)), reg[a]});
    }
    // The reduction block: the longest reduction axis split, its block from its divisors (16..1024
    // preferred, as KC of a BLAS).
    size_t longest = 0;
    for (size_t r = 1; r < f.reduce.size(); ++r)
      if (f.reduce[r].extent > f.reduce[longest].extent) longest = r;
    const ir::IndexVar& rk = f.reduce[longest];
    const bool block = rk.extent > 8;
    if (block) {
      std::vector<int64_t> good, all = divisors(rk.extent);
      for (int64_t d : all)
        if (d >= 16 && d <= 1024) good.push_back(d);
      const int64_t kb = !good.empty() && bernoulli(rng_, 0.8) ? pick(rng_, good) : pick(rng_, all);
      s = schedule::split(s, S, rk.name, {schedule::kInferredFactor, kb});
    }
    std::vector<size_t> lvl0 = split_axes;
    const bool pack = sketch_.pack && !f.pack_operand.empty();
    if (pack) std::stable_partition(lvl0.begin(), lvl0.end(), [&](size_t a) { return f.pack_depends[a]; });
    std::vector<std::string> order;
    for (size_t a : unsplit_axes) order.push_back(f.spatial[a].name);
    for (size_t a : lvl0) order.push_back(sub(f.spatial[a].name, 0));
    const size_t n_outer = order.size();
    if (block) order.push_back(sub(rk.name, 0));
    const size_t block_pos = order.size() - 1;
    for (size_t a : split_axes) order.push_back(sub(f.spatial[a].name, 1));
    for (size_t r = 0; r < f.reduce.size(); ++r)
      order.push_back(r == longest && block ? sub(rk.name, 1) : f.reduce[r].name);
    for (size_t a : split_axes) order.push_back(sub(f.spatial[a].name, 2));
    s = schedule::reorder(s, S, order);
    for (const ir::IndexVar& r : f.reduce)
      if (r.extent > 1 && r.extent <= 4 && bernoulli(rng_, 0.3))
        attempt(s, [&](const State& t) { return schedule::unroll(t, S, r.name); });
    for (size_t a : split_axes) {
      if (a == va || reg[a] <= 1 || reg[a] > 16 || !bernoulli(rng_, 0.85)) continue;
      attempt(s, [&](const State& t) { return schedule::unroll(t, S, sub(f.spatial[a].name, 2)); });
    }
    if (bernoulli(rng_, 0.95))
      attempt(s, [&](const State& t) { return schedule::vectorize(t, S, sub(f.spatial[va].name, 2)); });
    if (pack) {
      // Preferred: per reduction block (a KC x NC panel), else the last outer loop.
      const size_t upto = block ? block_pos : n_outer - 1;
      pack_operand(
          s, f, S, S,
          std::vector<std::string>(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(upto) + 1),
          upto);
    }
    TileInfo info;
    info.stage = S;
    info.outer.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_outer));
    info.local_at = info.outer.empty() ? "" : info.outer.back();
    info.register_elems = 1 << 30;  // epilogues placed here cover a whole outer tile
    if (!info.outer.empty()) {
      tiles_[S] = info;
      fused_.insert(S);
    }
  }

  // Streaming of a memory-bound reduction (docs/design-space.md): the operand read once is streamed
  // a block of rows (the reduction axis split by 4, 8 or 16) at a time over the output width (all
  // of it, blocks of it only now and then or when its output would not fit in L2), 32, 64 or 128
  // elements of the contiguous axis per vector tile; the spatial axes the operand does not use (its
  // few rows of reuse) inside, unrolled; the other inputs staged per block of rows (Staged). The stage
  // accumulates in place; epilogues go after a width block.
  //   for j.0 (width blocks): for k.0: [other inputs staged] for j.1: for k.1: for rows: for j.2 (vector)
  void stream(State& s, const StageFacts& f) {
    const std::string& S = f.name;
    const ir::IndexVar& jv = f.spatial[static_cast<size_t>(f.vector_axis)];
    const ir::IndexVar& kv = f.reduce[static_cast<size_t>(f.stream_reduce)];
    std::vector<int64_t> widths, blocks;
    for (int64_t v : {32, 64, 128})
      if (v % facts_.lanes == 0 && jv.extent % v == 0) widths.push_back(v);
    for (int64_t b : {4, 8, 16})
      if (kv.extent % b == 0) blocks.push_back(b);
    // Else a multiple of the lanes that divides the width, else the width itself when short.
    for (int64_t v = facts_.lanes; widths.empty() && v <= 128; v += facts_.lanes)
      if (jv.extent % v == 0) widths.push_back(v);
    if (widths.empty() && jv.extent <= 128) widths.push_back(jv.extent);
    const int64_t vw =
        widths.empty() ? draw_vector_factor(jv.extent, facts_.lanes, rng_) : pick(rng_, widths);
    int64_t kb = kv.extent;
    if (!blocks.empty())
      kb = pick(rng_, blocks);
    else if (kv.extent > 16)
      for (int64_t d : divisors(kv.extent))
        if (d <= 16) kb = d;
    // Output bytes of a width block: the rows of reuse times the width.
    int64_t row_bytes = facts_.elem_bytes;
    for (int a : f.stream_rows) row_bytes *= f.spatial[static_cast<size_t>(a)].extent;
    const int64_t tiles = std::max<int64_t>(1, jv.extent / vw);  // whole vector tiles (a guard for the rest)
    int64_t per_block = tiles;
    // Width blocks: where the full width's output is over half the L2, the widest block that fits;
    // else now and then (15%) a half, a quarter or an eighth of the width.
    const bool must = tiles * vw * row_bytes > facts_.l2_bytes / 2;
    if (must || bernoulli(rng_, 0.15)) {
      std::vector<int64_t> fit;
      for (int64_t d : divisors(tiles))
        if (d < tiles && d * vw * row_bytes <= facts_.l2_bytes / 2 && (must || tiles / d <= 8))
          fit.push_back(d);
      if (!fit.empty()) per_block = must ? fit.back() : pick(rng_, fit);
    }
    s = schedule::split(s, S, jv.name, {schedule::kInferredFactor, per_block, vw});
    const bool block = kb < kv.extent;
    if (block) s = schedule::split(s, S, kv.name, {schedule::kInferredFactor, kb});
    // Loop order.
    std::vector<std::string> order, rows, other_reduce;
    for (size_t a = 0; a < f.spatial.size(); ++a) {
      const bool row =
          std::find(f.stream_rows.begin(), f.stream_rows.end(), static_cast<int>(a)) != f.stream_rows.end();
      if (row)
        rows.push_back(f.spatial[a].name);
      else if (static_cast<int>(a) != f.vector_axis)
        order.push_back(f.spatial[a].name);
    }
    for (const ir::IndexVar& r : f.reduce)
      if (r.name != kv.name) other_reduce.push_back(r.name);
    order.push_back(sub(jv.name, 0));
    const size_t n_outer = order.size();
    const std::string k_outer = block ? sub(kv.name, 0) : kv.name;
    order.push_back(k_outer);
    order.insert(order.end(), other_reduce.begin(), other_reduce.end());
    order.push_back(sub(jv.name, 1));
    if (block) order.push_back(sub(kv.name, 1));
    order.insert(order.end(), rows.begin(), rows.end());
    order.push_back(sub(jv.name, 2));
    s = schedule::reorder(s, S, order);
    attempt(s, [&](const State& t) { return schedule::vectorize(t, S, sub(jv.name, 2)); });
    for (const std::string& r : rows)
      if (s.loop_extent(S, r) <= 8 && bernoulli(rng_, 0.85))
        attempt(s, [&](const State& t) { return schedule::unroll(t, S, r); });
    if (block && bernoulli(rng_, 0.25))
      attempt(s, [&](const State& t) { return schedule::unroll(t, S, sub(kv.name, 1)); });
    // The other inputs, staged per block of rows.
    const ir::Stage* stage = s.workload().find_stage(S);
    for (const std::string& in : stage ? stage->inputs() : std::vector<std::string>{}) {
      if (in == f.stream_operand || s.workload().role(in) != ir::TensorRole::Input) continue;
      if (sketch_.stream != StreamInputs::Staged) continue;
      State t = s;
      const std::string staged = in + ".heap";
      if (!attempt(t, [&](const State& u) { return schedule::cache_read(u, in, ir::MemScope::Heap, {S}); }) ||
          !attempt(t, [&](const State& u) { return schedule::compute_at(u, staged, S, k_outer); }))
        continue;
      if (const ir::Tensor* op = s.workload().find_tensor(in); op && !op->shape.empty())
        attempt(t, [&](const State& u) {
          return schedule::vectorize(u, staged, "ax" + std::to_string(op->shape.size() - 1));
        });
      s = t;
    }
    TileInfo info;
    info.stage = S;
    info.outer.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_outer));
    info.local_at = info.outer.back();
    info.register_elems = 1 << 30;  // epilogues placed here cover a whole width block
    info.streamed = true;
    tiles_[S] = info;
    fused_.insert(S);
  }

  void rfactor(State& s, const StageFacts& f) {
    const ir::IndexVar& r = f.reduce.back();
    int64_t width = draw_vector_factor(r.extent, facts_.lanes, rng_);
    if (bernoulli(rng_, 0.15)) {
      std::vector<int64_t> d;
      for (int64_t x : divisors(r.extent))
        if (x >= 2 && x <= 64) d.push_back(x);
      if (!d.empty()) width = pick(rng_, d);
    }
    const std::string rf = f.name + ".rf";
    const std::string r1 = schedule::rfactor_axis_name(sub(r.name, 1));
    State t = s;
    try {
      t = schedule::split(t, f.name, r.name, {schedule::kInferredFactor, width});
      t = schedule::rfactor(t, f.name, sub(r.name, 1));
      const int64_t acc = (width + facts_.lanes - 1) / facts_.lanes;
      const bool multi = acc > 1 && width % facts_.lanes == 0 && bernoulli(rng_, 0.7);
      if (multi) t = schedule::split(t, rf, r1, {schedule::kInferredFactor, facts_.lanes});
      // S.rf: spatial loops, reduction loops, then the factored axis innermost.
      const schedule::StageSchedule& st = *t.stage(rf);
      std::vector<std::string> spatial, reduce, factored;
      for (int l : st.leaves) {
        const schedule::LoopVar& v = st.loops[static_cast<size_t>(l)];
        if (v.name.rfind(r1, 0) == 0)
          factored.push_back(v.name);
        else
          (v.reduce ? reduce : spatial).push_back(v.name);
      }
      std::vector<std::string> order = spatial;
      order.insert(order.end(), reduce.begin(), reduce.end());
      order.insert(order.end(), factored.begin(), factored.end());
      t = schedule::reorder(t, rf, order);
      if (multi) attempt(t, [&](const State& u) { return schedule::unroll(u, rf, sub(r1, 0)); });
      attempt(t, [&](const State& u) { return schedule::vectorize(u, rf, factored.back()); });
      // S.rf per iteration of S's innermost spatial loop: its buffer is one row of partial results.
      const schedule::StageSchedule& sst = *t.stage(f.name);
      std::string at;
      for (int l : sst.leaves)
        if (!sst.loops[static_cast<size_t>(l)].reduce) at = sst.loops[static_cast<size_t>(l)].name;
      if (!at.empty()) t = schedule::compute_at(t, rf, f.name, at);
      if (bernoulli(rng_, 0.9)) attempt(t, [&](const State& u) { return schedule::unroll(u, f.name, r1); });
      s = t;
    } catch (const schedule::ScheduleError&) {
      // rfactor does not fit this state: the reduction stays as it is.
    }
  }

  // Vectorize the innermost loop of a stage when it is its last spatial axis; with `unroll_rest`,
  // unroll the others (a placed stage whose region is a register tile).
  void annotate_placed(State& s, const std::string& stage, const StageFacts& f, bool unroll_rest,
                       double p_vectorize = 0.9) {
    const schedule::StageSchedule* st = s.stage(stage);
    if (!st || st->leaves.empty()) return;
    // Copies: `s` (and the stage schedule `st` points into) changes below.
    const std::vector<std::string> names = st->leaf_names();
    const schedule::LoopVar inner = st->loops[static_cast<size_t>(st->leaves.back())];
    if (f.vector_axis >= 0 && !inner.reduce &&
        inner.name == f.spatial[static_cast<size_t>(f.vector_axis)].name && bernoulli(rng_, p_vectorize))
      attempt(s, [&](const State& t) { return schedule::vectorize(t, stage, inner.name); });
    if (!unroll_rest) return;
    for (size_t i = 0; i + 1 < names.size(); ++i)
      if (bernoulli(rng_, 0.6))
        attempt(s, [&](const State& t) { return schedule::unroll(t, stage, names[i]); });
  }

  void fuse_epilogues(State& s) {
    for (const StageFacts& f : facts_.stages) {
      if (!f.elementwise || !is_root(s, f.name)) continue;
      const ir::Stage* stage = s.workload().find_stage(f.name);
      if (!stage) continue;
      for (const std::string& in : stage->inputs()) {
        if (!fused_.count(in)) continue;
        auto tile = tiles_.find(in);
        bool placed = false;
        if (tile != tiles_.end()) {
          // Into the producer's tile: at the register tile's loop, or an outer tile loop (after a
          // width block of a streamed stage, always vectorized: a streamed stage's epilogue is
          // memory bound too).
          const TileInfo& ti = tile->second;
          std::vector<std::string> loops = ti.streamed ? std::vector<std::string>{ti.local_at} : ti.outer;
          std::vector<double> w(loops.size(), 1.0);
          w.back() = 3.0 * static_cast<double>(loops.size());
          for (const std::string& l : weighted_order(rng_, loops, w)) {
            if (!attempt(s, [&](const State& t) { return schedule::reverse_compute_at(t, f.name, in, l); }))
              continue;
            annotate_placed(s, f.name, f, l == ti.local_at && ti.register_elems <= 1024,
                            ti.streamed ? 1.0 : 0.9);
            placed = true;
            break;
          }
        } else {
          // A chain of epilogues: after the previous one, at one of its outer loops.
          const std::vector<std::string> loops = s.stage(in)->leaf_names();
          for (const std::string& l : loops) {
            const schedule::LoopVar* v = loop_of(*s.stage(in), l);
            if (!v || v->kind == ir::ForKind::Vectorized) continue;
            if (!attempt(s, [&](const State& t) { return schedule::reverse_compute_at(t, f.name, in, l); }))
              continue;
            annotate_placed(s, f.name, f, false);
            placed = true;
            break;
          }
        }
        if (placed) {
          fused_.insert(f.name);
          break;
        }
      }
    }
  }

  void vectorize_elementwise(State& s, const StageFacts& f) {
    if (f.vector_axis < 0) return;
    const schedule::StageSchedule* st = s.stage(f.name);
    if (!st || st->leaves.empty()) return;
    const std::string& v = f.spatial[static_cast<size_t>(f.vector_axis)].name;
    if (st->leaf_names().back() != v) return;
    const double u = uniform_real(rng_);
    if (u < 0.75) {
      const int64_t w =
          draw_vector_factor(f.spatial[static_cast<size_t>(f.vector_axis)].extent, facts_.lanes, rng_);
      State t = s;
      if (attempt(t,
                  [&](const State& x) {
                    return schedule::split(x, f.name, v, {schedule::kInferredFactor, w});
                  }) &&
          attempt(t, [&](const State& x) { return schedule::vectorize(x, f.name, sub(v, 1)); }))
        s = t;
    } else if (u < 0.9) {
      attempt(s, [&](const State& x) { return schedule::vectorize(x, f.name, v); });
    }
  }

  // A reduction without reuse along a contiguous spatial axis (column sums): that axis split, its
  // inner part moved inside the reduction loops and vectorized.
  void vectorize_reduction(State& s, const StageFacts& f) {
    const schedule::StageSchedule* st = s.stage(f.name);
    if (!st || !bernoulli(rng_, 0.7)) return;
    const std::string& v = f.spatial[static_cast<size_t>(f.vector_axis)].name;
    if (st->find_loop(v) < 0 || !st->is_leaf(st->find_loop(v))) return;  // rfactored
    const int64_t w =
        draw_vector_factor(f.spatial[static_cast<size_t>(f.vector_axis)].extent, facts_.lanes, rng_);
    State t = s;
    try {
      t = schedule::split(t, f.name, v, {schedule::kInferredFactor, w});
      std::vector<std::string> spatial, reduce;
      const schedule::StageSchedule& ts = *t.stage(f.name);
      for (int l : ts.leaves) {
        const schedule::LoopVar& lv = ts.loops[static_cast<size_t>(l)];
        if (lv.name != sub(v, 1)) (lv.reduce ? reduce : spatial).push_back(lv.name);
      }
      spatial.insert(spatial.end(), reduce.begin(), reduce.end());
      spatial.push_back(sub(v, 1));
      t = schedule::reorder(t, f.name, spatial);
      t = schedule::vectorize(t, f.name, sub(v, 1));
      s = t;
    } catch (const schedule::ScheduleError&) {
      // Left serial.
    }
  }

  // The root stage whose loops run `stage`: follows placements up to the root.
  std::string root_of(const State& s, std::string stage) const {
    for (int guard = 0; guard < 64; ++guard) {
      const schedule::StageSchedule* st = s.stage(stage);
      if (!st || st->attach.kind == schedule::Attach::Kind::Root ||
          st->attach.kind == schedule::Attach::Kind::Inline)
        return stage;
      stage = st->attach.stage;
    }
    return stage;
  }

  void place_producer(State& s, const StageFacts& f) {
    if (f.is_output || !is_root(s, f.name)) return;
    const std::vector<std::string> readers = schedule::readers_of(s.workload(), f.name);
    if (readers.empty()) return;
    std::string anchor;
    int anchor_index = -1;
    bool all_inside = true;
    for (const std::string& r : readers) {
      const std::string root = root_of(s, r);
      if (root != f.name) all_inside = false;
      const int idx = s.workload().stage_index(root);
      if (root != f.name && idx > anchor_index) {
        anchor_index = idx;
        anchor = root;
      }
    }
    if (all_inside || anchor.empty() || bernoulli(rng_, 0.1)) return;
    const schedule::StageSchedule& ast = *s.stage(anchor);
    std::vector<std::string> loops;
    std::vector<double> w;
    for (int l : ast.leaves) {
      const schedule::LoopVar& v = ast.loops[static_cast<size_t>(l)];
      if (v.reduce || v.kind == ir::ForKind::Vectorized || v.bind != ir::BindLevel::None) continue;
      loops.push_back(v.name);
      w.push_back(1.0 / static_cast<double>(loops.size()));
    }
    for (const std::string& l : weighted_order(rng_, loops, w)) {
      if (!attempt(s, [&](const State& t) { return schedule::compute_at(t, f.name, anchor, l); })) continue;
      if (f.elementwise) annotate_placed(s, f.name, f, false);
      return;
    }
  }

  void parallelize(State& s, const std::string& stage) {
    if (bernoulli(rng_, 0.05)) return;
    const schedule::StageSchedule& st = *s.stage(stage);
    auto tile = tiles_.find(stage);
    std::vector<std::string> prefix;
    for (int l : st.leaves) {
      const schedule::LoopVar& v = st.loops[static_cast<size_t>(l)];
      if (v.reduce || v.kind != ir::ForKind::Serial || v.bind != ir::BindLevel::None) break;
      if (tile != tiles_.end() &&
          std::find(tile->second.outer.begin(), tile->second.outer.end(), v.name) == tile->second.outer.end())
        break;
      prefix.push_back(v.name);
      if (prefix.size() == 4) break;
    }
    if (prefix.empty()) return;
    // Fuse enough outer loops to give every core work (most of the time), or a random number.
    size_t k = prefix.size();
    int64_t product = 1;
    for (size_t i = 0; i < prefix.size(); ++i) {
      product *= s.loop_extent(stage, prefix[i]);
      if (product >= facts_.cores) {
        k = i + 1;
        break;
      }
    }
    if (bernoulli(rng_, 0.4))
      k = static_cast<size_t>(uniform_int(rng_, 1, static_cast<int64_t>(prefix.size())));
    for (; k >= 1; --k) {
      State t = s;
      std::string loop = prefix[0];
      if (k > 1) {
        std::vector<std::string> loops(prefix.begin(), prefix.begin() + static_cast<std::ptrdiff_t>(k));
        if (!attempt(t, [&](const State& x) { return schedule::fuse(x, stage, loops); })) continue;
        loop = schedule::fused_loop_name(loops);
      }
      if (attempt(t, [&](const State& x) { return schedule::parallel(x, stage, loop); })) {
        s = t;
        return;
      }
    }
  }

  const Sketch& sketch_;
  const WorkloadFacts& facts_;
  Rng& rng_;
  std::map<std::string, TileInfo> tiles_;
  std::set<std::string> fused_;  // tiled stages and the epilogues fused into them
};

}  // namespace

schedule::State sample_sketch_state(const Sketch& sketch, const WorkloadFacts& facts,
                                    const std::shared_ptr<const ir::Workload>& workload, Rng& rng) {
  Sampler sampler(sketch, facts, rng);
  return sampler.run(schedule::State(workload));
}

}  // namespace rctune::search::detail
