// Private helpers of the proposers: see nest_analysis.h.
#include "search/space/nest_analysis.h"

#include <algorithm>
#include <exception>

#include "rctune/ir/analysis.h"
#include "rctune/ir/expr.h"
#include "rctune/ir/text.h"
#include "rctune/schedule/lower.h"
#include "rctune/schedule/trace.h"
#include "rctune/search/action.h"
#include "rctune/search/cost_model.h"

namespace rctune::search::nest {

namespace {

int elem_size(ir::DType t) { return t == ir::DType::F64 ? 8 : 4; }

std::string trim(const std::string& s) { return ir::trim(s, " \t\r\n"); }

class LocalBuffers : public ir::StmtVisitor {
 public:
  int64_t max_bytes = 0;
  using ir::StmtVisitor::visit;
  void visit(const ir::Allocate& n) override {
    if (n.buffer.scope == ir::MemScope::Local)
      max_bytes = std::max(max_bytes, n.buffer.num_elements() * ir::dtype_bytes(n.buffer.dtype));
    ir::StmtVisitor::visit(n);
  }
};

}  // namespace

bool Access::depends_on(const std::string& axis) const {
  for (const auto& v : index_vars)
    if (v.count(axis)) return true;
  return false;
}

bool Access::contiguous_in(const std::string& axis) const {
  return !index_vars.empty() && index_vars.back().count(axis) > 0;
}

bool StageInfo::has_parallel() const {
  for (const LoopInfo& l : leaves)
    if (l.kind == ir::ForKind::Parallel || l.bind != ir::BindLevel::None) return true;
  return false;
}

bool StageInfo::unscheduled() const {
  if (!sched->relations.empty() || !at_root() || !sched->init_before.empty()) return false;
  for (size_t i = 0; i < sched->leaves.size(); ++i)
    if (sched->leaves[i] != static_cast<int>(i)) return false;
  for (const LoopInfo& l : leaves)
    if (l.annotated()) return false;
  return true;
}

const LoopInfo* StageInfo::leaf(const std::string& n) const {
  for (const LoopInfo& l : leaves)
    if (l.name == n) return &l;
  return nullptr;
}

int64_t StageInfo::axis_extent(const std::string& axis) const {
  if (!stage) return 0;
  for (const auto& a : stage->axes)
    if (a.name == axis) return a.extent;
  for (const auto& a : stage->reduce_axes)
    if (a.name == axis) return a.extent;
  return 0;
}

std::string StageInfo::contiguous_axis() const {
  if (!stage || stage->axes.empty()) return "";
  return stage->axes.back().name;
}

const StageInfo* NestAnalysis::find(const std::string& name) const {
  for (const StageInfo& s : stages)
    if (s.name == name) return &s;
  return nullptr;
}

std::string NestAnalysis::root_of(const std::string& name) const {
  std::string cur = name;
  for (size_t guard = 0; guard <= stages.size(); ++guard) {
    const StageInfo* s = find(cur);
    if (!s || s->at_root() || s->sched->attach.kind == schedule::Attach::Kind::Inline) return cur;
    cur = s->sched->attach.stage;
  }
  return cur;
}

NestAnalysis analyse(const schedule::State& st) {
  NestAnalysis out;
  const ir::Workload& w = st.workload();
  for (const auto& sp : st.stages()) {
    StageInfo info;
    info.name = sp->stage;
    info.sched = sp.get();
    info.stage = w.find_stage(sp->stage);
    if (const ir::Tensor* t = w.find_tensor(sp->stage)) info.elem_bytes = elem_size(t->dtype);
    info.is_output = std::find(w.outputs.begin(), w.outputs.end(), sp->stage) != w.outputs.end();
    // Root axes of every loop, through the relations.
    std::vector<std::set<std::string>> roots(sp->loops.size());
    size_t nroot = info.stage ? info.stage->axes.size() + info.stage->reduce_axes.size() : 0;
    for (size_t i = 0; i < std::min(nroot, sp->loops.size()); ++i) roots[i].insert(sp->loops[i].name);
    for (const auto& r : sp->relations) {
      if (r.kind == schedule::Relation::Kind::Split) {
        for (int c : r.split.children) roots[c] = roots[r.split.parent];
      } else {
        for (int p : r.fuse.parents) roots[r.fuse.child].insert(roots[p].begin(), roots[p].end());
      }
    }
    std::vector<int64_t> ext;
    if (info.stage) {
      std::vector<int64_t> re;
      for (const auto& a : info.stage->axes) re.push_back(a.extent);
      for (const auto& a : info.stage->reduce_axes) re.push_back(a.extent);
      ext = schedule::State::loop_extents(*sp, re);
    }
    for (int idx : sp->leaves) {
      LoopInfo l;
      const schedule::LoopVar& v = sp->loops[idx];
      l.name = v.name;
      l.reduce = v.reduce;
      l.kind = v.kind;
      l.bind = v.bind;
      l.extent = idx < static_cast<int>(ext.size()) ? std::max<int64_t>(ext[idx], 1) : 1;
      l.roots = roots[idx];
      info.leaves.push_back(std::move(l));
    }
    if (info.stage) {
      ir::for_each_load(info.stage->body, [&](const ir::Load& l) {
        Access a;
        a.tensor = l.buffer;
        for (const ir::Expr& idx : l.indices) {
          std::vector<std::string> vars = ir::free_vars(idx);
          a.index_vars.emplace_back(vars.begin(), vars.end());
        }
        info.reads.push_back(std::move(a));
      });
    }
    out.stages.push_back(std::move(info));
  }
  for (const auto& sp : st.stages()) {
    const auto k = sp->attach.kind;
    if (k == schedule::Attach::Kind::At || k == schedule::Attach::Kind::ReverseAt)
      for (StageInfo& s : out.stages)
        if (s.name == sp->attach.stage) s.placed_here.push_back(sp->stage);
  }
  return out;
}

std::optional<schedule::Step> parse_step(const std::string& text) {
  try {
    std::vector<schedule::ParsedStep> steps = schedule::parse_trace(text);
    if (steps.size() != 1) return std::nullopt;
    return schedule::Step(std::move(steps.front()));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string canonical_step(const std::string& text) {
  const std::optional<schedule::Step> s = parse_step(text);
  return s ? schedule::to_text(*s) : "";
}

std::vector<std::string> trace_steps(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = trim(text.substr(pos, nl - pos));
    pos = nl + 1;
    size_t hash = line.find('#');
    if (hash != std::string::npos) line = trim(line.substr(0, hash));
    if (line.empty()) continue;
    size_t d = 0;
    while (d < line.size() && std::isdigit(static_cast<unsigned char>(line[d]))) ++d;
    if (d > 0 && d < line.size() && line[d] == ':') line = trim(line.substr(d + 1));
    std::string c = canonical_step(line);
    out.push_back(c.empty() ? line : c);
  }
  return out;
}

Evaluation evaluate_state(const schedule::State& s, const HardwareInfo& hw) {
  Evaluation e;
  try {
    ir::LoweredFunc f = schedule::lower(s);
    e.score = analytic_score(extract_features(f, hw), hw);
    LocalBuffers lb;
    lb.visit(f.body);
    e.max_local_bytes = lb.max_bytes;
    e.hash = schedule::structural_hash(std::move(f));
    e.state = s;
    e.legal = true;
  } catch (const std::exception& ex) {
    e.error = ex.what();
  }
  return e;
}

int lanes_for(const HardwareInfo& hw, int elem_bytes) {
  return std::max(1, hw.vector_bytes / std::max(elem_bytes, 1));
}

}  // namespace rctune::search::nest
