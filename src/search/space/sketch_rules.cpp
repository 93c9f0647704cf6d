// The sketch rules of the design space: which stages of a workload are inlined, tiled (with a
// register tile and optionally a packed operand), rfactored or only annotated, decided from the
// structure of the stages (axes, reductions, which tensors each read indexes with which axes),
// never from the operator's name; and the list of sketches those rules give.
#include <algorithm>
#include <set>

#include "rctune/ir/analysis.h"
#include "rctune/ir/expr.h"
#include "search/space/sketch_rules.h"

namespace rctune::search::detail {

namespace {

// True when e applies no unary function beyond negation, abs and relu.
bool only_cheap_unaries(const ir::Expr& e) {
  struct Finder : ir::ExprVisitor {
    bool expensive = false;
    using ir::ExprVisitor::visit;
    void visit(const ir::Unary& n) override {
      if (n.op != ir::UnOp::Neg && n.op != ir::UnOp::Abs && n.op != ir::UnOp::Relu) expensive = true;
      ir::ExprVisitor::visit(n);
    }
  } f;
  f.visit(e);
  return !f.expensive;
}

std::set<std::string> vars_of(const ir::Load& load) {
  std::set<std::string> out;
  for (const ir::Expr& e : load.indices)
    for (const std::string& v : ir::free_vars(e)) out.insert(v);
  return out;
}

bool is_var(const ir::Expr& e, const std::string& name) {
  const ir::Var* v = e.as<ir::Var>();
  return v != nullptr && v->name == name;
}

// Streaming: among the inputs read along the vector axis and every non-trivial reduction axis,
// the one with the largest footprint, when each of its elements serves at most kMaxStreamReuse
// outputs (the product of the spatial extents its index does not use). Its rows are the blocks of
// its longest reduction axis.
void find_stream_operand(const ir::Workload& w, const std::vector<const ir::Load*>& loads,
                         const std::vector<std::set<std::string>>& read_vars, StageFacts& f) {
  const std::string& vname = f.spatial[static_cast<size_t>(f.vector_axis)].name;
  int64_t best_footprint = 0;
  for (size_t r = 0; r < loads.size(); ++r) {
    if (w.role(loads[r]->buffer) != ir::TensorRole::Input || !read_vars[r].count(vname)) continue;
    bool all_reductions = true;
    for (const ir::IndexVar& ax : f.reduce)
      if (ax.extent > 1 && !read_vars[r].count(ax.name)) all_reductions = false;
    if (!all_reductions) continue;
    int64_t reuse = 1, footprint = 1;
    for (const ir::IndexVar& ax : f.spatial) (read_vars[r].count(ax.name) ? footprint : reuse) *= ax.extent;
    for (const ir::IndexVar& ax : f.reduce) footprint *= ax.extent;
    if (reuse > kMaxStreamReuse || footprint <= best_footprint) continue;
    best_footprint = footprint;
    f.stream_operand = loads[r]->buffer;
  }
  if (f.stream_operand.empty()) return;
  for (size_t a = 0; a < f.reduce.size(); ++a)
    if (f.stream_reduce < 0 || f.reduce[a].extent > f.reduce[static_cast<size_t>(f.stream_reduce)].extent)
      f.stream_reduce = static_cast<int>(a);
  std::set<std::string> used;
  for (size_t r = 0; r < loads.size(); ++r)
    if (loads[r]->buffer == f.stream_operand) used.insert(read_vars[r].begin(), read_vars[r].end());
  for (size_t a = 0; a < f.spatial.size(); ++a)
    if (f.spatial[a].extent > 1 && !used.count(f.spatial[a].name))
      f.stream_rows.push_back(static_cast<int>(a));
  f.streamable = true;
}

StageFacts analyze_stage(const ir::Workload& w, const ir::Stage& st, int lanes) {
  StageFacts f;
  f.name = st.output;
  f.is_output = w.role(st.output) == ir::TensorRole::Output;
  f.has_reduction = st.op != ir::ReduceOp::None && !st.reduce_axes.empty();
  f.elementwise = st.op == ir::ReduceOp::None;
  f.spatial = st.axes;
  f.reduce = st.reduce_axes;
  // Every tensor read of the body, with its index expressions.
  std::vector<const ir::Load*> loads;
  ir::for_each_load(st.body, [&](const ir::Load& l) { loads.push_back(&l); });
  f.cheap = only_cheap_unaries(st.body);
  for (int a = static_cast<int>(f.spatial.size()) - 1; a >= 0; --a) {
    if (f.spatial[static_cast<size_t>(a)].extent > 1) {
      f.vector_axis = a;
      break;
    }
  }
  // Data reuse: a read that does not use some (non-trivial) spatial axis is read again for every
  // value of that axis.
  std::vector<std::set<std::string>> read_vars;
  for (const ir::Load* l : loads) read_vars.push_back(vars_of(*l));
  bool reuse = false;
  for (size_t r = 0; r < loads.size(); ++r) {
    bool lacks = false;
    for (const ir::IndexVar& ax : f.spatial)
      if (ax.extent > 1 && !read_vars[r].count(ax.name)) lacks = true;
    if (!lacks) continue;
    reuse = true;
    const std::string& t = loads[r]->buffer;
    if (w.role(t) == ir::TensorRole::Input &&
        std::find(f.reused_inputs.begin(), f.reused_inputs.end(), t) == f.reused_inputs.end())
      f.reused_inputs.push_back(t);
  }
  if (f.vector_axis >= 0) {
    const std::string& vname = f.spatial[static_cast<size_t>(f.vector_axis)].name;
    f.vector_contiguous = true;
    for (size_t r = 0; r < loads.size(); ++r) {
      const auto& idx = loads[r]->indices;
      if (read_vars[r].count(vname) && (idx.empty() || !is_var(idx.back(), vname)))
        f.vector_contiguous = false;
    }
  }
  f.tileable = f.has_reduction && reuse && f.vector_axis >= 0;
  if (f.tileable) {
    const std::string& vname = f.spatial[static_cast<size_t>(f.vector_axis)].name;
    // Rows of the register tile: axes that a read along the vector axis does not depend on (each
    // loaded vector is then reused for every row).
    for (size_t a = 0; a < f.spatial.size(); ++a) {
      if (static_cast<int>(a) == f.vector_axis || f.spatial[a].extent <= 1) continue;
      bool gives_reuse = false;
      for (const auto& rv : read_vars)
        if (rv.count(vname) && !rv.count(f.spatial[a].name)) gives_reuse = true;
      if (gives_reuse) f.row_axes.push_back(static_cast<int>(a));
    }
    // The operand to pack: a reused input read along the vector axis (its panel is what the
    // register tile streams), else the first reused input.
    for (const std::string& t : f.reused_inputs) {
      for (size_t r = 0; r < loads.size(); ++r)
        if (loads[r]->buffer == t && read_vars[r].count(vname) && f.pack_operand.empty()) f.pack_operand = t;
    }
    if (f.pack_operand.empty() && !f.reused_inputs.empty()) f.pack_operand = f.reused_inputs.front();
    if (!f.pack_operand.empty()) {
      std::set<std::string> used;
      for (size_t r = 0; r < loads.size(); ++r)
        if (loads[r]->buffer == f.pack_operand) used.insert(read_vars[r].begin(), read_vars[r].end());
      for (const ir::IndexVar& ax : f.spatial) f.pack_depends.push_back(used.count(ax.name) > 0);
    }
  }
  if (f.has_reduction && f.vector_axis >= 0 && f.vector_contiguous)
    find_stream_operand(w, loads, read_vars, f);
  // rfactor: a reduction without reuse whose innermost reduced axis is the last (contiguous) index
  // of every read that uses it, long enough to fill a vector.
  if (f.has_reduction && !f.tileable) {
    const ir::IndexVar& r = f.reduce.back();
    bool contiguous = r.extent >= lanes;
    bool used = false;
    for (size_t i = 0; i < loads.size(); ++i) {
      if (!read_vars[i].count(r.name)) continue;
      used = true;
      const auto& idx = loads[i]->indices;
      if (idx.empty() || !is_var(idx.back(), r.name)) contiguous = false;
    }
    f.rfactorable = contiguous && used;
  }
  return f;
}

}  // namespace

const StageFacts* WorkloadFacts::find(const std::string& name) const {
  for (const StageFacts& s : stages)
    if (s.name == name) return &s;
  return nullptr;
}

WorkloadFacts analyze_workload(const ir::Workload& w, const HardwareInfo& hw) {
  WorkloadFacts facts;
  int elem_bytes = 4;
  if (!w.stages.empty()) {
    const ir::Tensor* t = w.find_tensor(w.stages.back().output);
    if (t) elem_bytes = ir::dtype_bytes(t->dtype);
  }
  facts.lanes = std::max(1, hw.vector_bytes / elem_bytes);
  facts.registers = hw.vector_registers();
  facts.cores = std::max(1, hw.cores);
  facts.l2_bytes = hw.l2_bytes;
  facts.elem_bytes = elem_bytes;
  for (const ir::Stage& st : w.stages) facts.stages.push_back(analyze_stage(w, st, facts.lanes));
  // Inlining: elementwise intermediates, unless inlining would recompute an expensive body inside
  // a reduction (attention's P stays a stage placed in its consumer).
  for (StageFacts& f : facts.stages) {
    if (!f.elementwise || f.is_output) continue;
    bool readers_elementwise = true;
    for (const ir::Stage& st : w.stages) {
      const auto in = st.inputs();
      if (std::find(in.begin(), in.end(), f.name) != in.end() && st.op != ir::ReduceOp::None)
        readers_elementwise = false;
    }
    f.inline_candidate = f.cheap || readers_elementwise;
  }
  return facts;
}

std::vector<Sketch> make_sketches(const WorkloadFacts& facts) {
  std::vector<std::string> inlined, tiled, packable, rfactorable;
  for (const StageFacts& f : facts.stages) {
    if (f.inline_candidate) inlined.push_back(f.name);
    if (f.tileable) tiled.push_back(f.name);
    if (f.tileable && !f.pack_operand.empty()) packable.push_back(f.name);
    if (f.rfactorable) rfactorable.push_back(f.name);
  }
  std::vector<std::string> streamed;
  for (const StageFacts& f : facts.stages)
    if (f.streamable) streamed.push_back(f.name);
  std::vector<Sketch> out;
  auto list = [](const char* rule, const std::vector<std::string>& names) {
    std::string s;
    for (const std::string& n : names) s += std::string(s.empty() ? "" : " ") + rule + "(" + n + ")";
    return s;
  };
  auto names = [](const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& n : v) s += (s.empty() ? "" : ", ") + n;
    return s;
  };
  // Memory-bound stages first: the first samples of the search (MCTS takes the sketches in turn)
  // are the streaming kernels, which the tiling sketches only reach by chance.
  for (StreamInputs inputs : streamed.empty()
                                 ? std::vector<StreamInputs>{}
                                 : std::vector<StreamInputs>{StreamInputs::Staged, StreamInputs::Direct}) {
    Sketch k;
    k.stream = inputs;
    k.pack = !packable.empty();
    k.weight = inputs == StreamInputs::Staged ? 6.0 : 3.0;
    std::vector<std::string> parts;
    if (!inlined.empty()) parts.push_back(list("inline", inlined));
    parts.push_back(list(inputs == StreamInputs::Staged ? "stream_staged" : "stream", streamed));
    std::vector<std::string> others;
    for (const std::string& t : tiled)
      if (std::find(streamed.begin(), streamed.end(), t) == streamed.end()) others.push_back(t);
    if (!others.empty()) parts.push_back(list("tile", others));
    for (const std::string& p : parts) k.info.name += (k.info.name.empty() ? "" : " ") + p;
    k.info.description =
        "auto-inline of cheap elementwise intermediates; streaming of " + names(streamed) +
        " (memory bound: blocks of rows of the operand read once over the output width, "
        "vectorized along the contiguous axis" +
        (inputs == StreamInputs::Staged ? ", the other inputs staged per block of rows)" : ")") +
        (others.empty() ? "" : "; multi-level tiling of " + names(others)) +
        "; epilogue fusion, compute_at of producers, parallel/vectorize/unroll annotations";
    out.push_back(std::move(k));
  }
  const std::vector<bool> no{false};
  for (bool in_place : tiled.empty() ? no : std::vector<bool>{false, true}) {
    for (bool pack : packable.empty() ? no : std::vector<bool>{true, false}) {
      for (bool rf : rfactorable.empty() ? no : std::vector<bool>{true, false}) {
        Sketch k;
        k.in_place = in_place;
        k.pack = pack;
        k.rfactor = rf;
        // Accumulating in the output is the secondary structure: a quarter of the samples.
        k.weight = in_place ? 1.0 : 3.0;
        std::vector<std::string> parts;
        if (!inlined.empty()) parts.push_back(list("inline", inlined));
        if (!tiled.empty()) parts.push_back(list(in_place ? "tile_in_place" : "tile", tiled));
        if (pack) {
          std::vector<std::string> ops;
          for (const std::string& s : packable) ops.push_back(facts.find(s)->pack_operand);
          parts.push_back(list("pack", ops));
        }
        if (rf) parts.push_back(list("rfactor", rfactorable));
        if (tiled.empty() && !rf) parts.push_back("annotate");
        for (const std::string& p : parts) k.info.name += (k.info.name.empty() ? "" : " ") + p;
        std::string d = "auto-inline of cheap elementwise intermediates";
        if (!tiled.empty() && !in_place)
          d += "; multi-level tiling of " + names(tiled) + " with a register tile (cache_write local)";
        if (in_place) d += "; multi-level tiling (SSRSRS) of " + names(tiled) + " accumulating in place";
        if (pack) d += "; packing of the reused operand into a heap panel";
        if (rf) d += "; rfactor of " + names(rfactorable) + " into vector partial results";
        d += "; epilogue fusion, compute_at of producers, parallel/vectorize/unroll annotations";
        k.info.description = d;
        out.push_back(std::move(k));
      }
    }
  }
  return out;
}

std::vector<int64_t> draw_split_factors(int64_t extent, int parts, int vector_lanes, Rng& rng) {
  std::vector<int64_t> f(static_cast<size_t>(parts), 1);
  int64_t rest = std::max<int64_t>(extent, 1);
  // Innermost first.
  for (int p = parts - 1; p >= 1; --p) {
    int64_t v = 1;
    if (p == parts - 1 && vector_lanes > 1 && bernoulli(rng, 0.7)) {
      // A multiple of the lanes (a divisor when one exists), or the whole extent when it is short.
      std::vector<int64_t> mult;
      for (int64_t m = vector_lanes; m <= std::min<int64_t>(rest, 4 * vector_lanes); m += vector_lanes)
        if (rest % m == 0 || bernoulli(rng, 0.3)) mult.push_back(m);
      v = mult.empty() ? rest : pick(rng, mult);
    } else if (bernoulli(rng, 0.9)) {
      v = pick(rng, divisors(rest));
    } else {
      v = uniform_int(rng, 1, std::min<int64_t>(rest, 64));
    }
    f[static_cast<size_t>(p)] = v;
    rest = (rest + v - 1) / v;
  }
  f[0] = rest;
  return f;
}

}  // namespace rctune::search::detail
