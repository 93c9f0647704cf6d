#include "common.h"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "rctune/ir/check.h"
#include "rctune/ir/expr.h"
#include "rctune/ir/limits.h"

namespace rctune::schedule {

namespace detail {

const char* level_text(ir::BindLevel b) { return b == ir::BindLevel::None ? "none" : ir::bind_level_name(b); }

void fail(const std::string& call, const std::string& reason) { throw PrimitiveError(call, reason); }

const StageSchedule& get_stage(const State& s, const std::string& call, const std::string& stage) {
  const StageSchedule* st = s.stage(stage);
  if (!st) {
    std::vector<std::string> names;
    for (const auto& p : s.stages()) names.push_back(p->stage);
    std::string why = "there is no stage named '" + stage + "'";
    if (s.workload().find_tensor(stage)) why += " (" + stage + " is an input tensor, no stage computes it)";
    fail(call, why + "; stages: " + join(names));
  }
  return *st;
}

StageCall begin_stage_call(const State& s, Step step) {
  std::string call = to_text(step);
  const StageSchedule& st = get_stage(s, call, step.name(0));
  return {std::move(step), std::move(call), st};
}

const ir::Stage& get_ir_stage(const State& s, const std::string& call, const std::string& stage) {
  get_stage(s, call, stage);
  const ir::Stage* st = s.workload().find_stage(stage);
  RCTUNE_CHECK(st);
  return *st;
}

int get_loop(const StageSchedule& st, const std::string& call, const std::string& loop) {
  const int idx = st.find_loop(loop);
  if (idx < 0) {
    fail(call,
         "stage " + st.stage + " has no loop named '" + loop + "'; its loops are " + join(st.leaf_names()));
  }
  return idx;
}

int get_leaf(const StageSchedule& st, const std::string& call, const std::string& loop) {
  const int idx = get_loop(st, call, loop);
  if (!st.is_leaf(idx)) {
    // Find what replaced it.
    std::string by;
    for (const auto& r : st.relations) {
      if (r.kind == Relation::Kind::Split && r.split.parent == idx) {
        std::vector<std::string> ch;
        for (int c : r.split.children) ch.push_back(st.loops[c].name);
        by = "split into " + join(ch);
      } else if (r.kind == Relation::Kind::Fuse &&
                 std::find(r.fuse.parents.begin(), r.fuse.parents.end(), idx) != r.fuse.parents.end()) {
        by = "fused into " + st.loops[r.fuse.child].name;
      }
    }
    fail(call, "loop " + loop + " of stage " + st.stage + " no longer exists (it was " + by +
                   "); the loops of " + st.stage + " are " + join(st.leaf_names()));
  }
  return idx;
}

int leaf_to_annotate(const StageSchedule& st, const std::string& call, const std::string& loop,
                     const std::string& spatial_only) {
  if (st.attach.kind == Attach::Kind::Inline)
    fail(call, "stage " + st.stage + " is inlined and has no loops");
  const int idx = get_leaf(st, call, loop);
  const LoopVar& l = st.loops[idx];
  if (l.reduce && !spatial_only.empty()) {
    fail(call, "loop " + loop + " iterates over a reduction axis; " + spatial_only);
  }
  if (annotated(l)) fail(call, "loop " + loop + " is already " + annotation_text(l));
  return idx;
}

std::vector<int64_t> root_extents(const ir::Stage& st) {
  std::vector<int64_t> r;
  for (const auto& a : st.axes) r.push_back(a.extent);
  for (const auto& a : st.reduce_axes) r.push_back(a.extent);
  return r;
}

int64_t extent_of(const State& s, const StageSchedule& st, int loop) {
  const ir::Stage* ist = s.workload().find_stage(st.stage);
  RCTUNE_CHECK(ist);
  return State::loop_extents(st, root_extents(*ist))[loop];
}

std::vector<std::string> attached_at(const State& s, const std::string& stage, const std::string& loop) {
  std::vector<std::string> out;
  for (const auto& p : s.stages()) {
    const Attach& a = p->attach;
    if ((a.kind == Attach::Kind::At || a.kind == Attach::Kind::ReverseAt) && a.stage == stage &&
        (loop.empty() || a.loop == loop)) {
      out.push_back(p->stage);
    }
  }
  return out;
}

bool annotated(const LoopVar& l) { return l.kind != ir::ForKind::Serial || l.bind != ir::BindLevel::None; }

std::string annotation_text(const LoopVar& l) {
  if (l.bind != ir::BindLevel::None) return std::string("bound to ") + level_text(l.bind);
  return ir::for_kind_name(l.kind);
}

namespace {
// The sizes a schedule may reach (rctune/ir/limits.h): checked after every step, so that no trace
// grows a loop nest, a name or the number of stages without bound.
std::string check_schedule_limits(const State& s) {
  if (s.stages().size() > ir::kMaxStages)
    return "the schedule would have " + std::to_string(s.stages().size()) + " stages (the limit is " +
           std::to_string(ir::kMaxStages) + ")";
  for (const auto& p : s.stages()) {
    const StageSchedule& st = *p;
    if (st.stage.size() > ir::kMaxNameLength)
      return "a stage name would be " + std::to_string(st.stage.size()) + " characters long (the limit is " +
             std::to_string(ir::kMaxNameLength) + ")";
    if (st.leaves.size() > ir::kMaxLoops)
      return "stage " + st.stage + " would have " + std::to_string(st.leaves.size()) +
             " loops (the limit is " + std::to_string(ir::kMaxLoops) + ")";
    if (st.loops.size() > ir::kMaxLoopsCreated)
      return "stage " + st.stage + " would have created " + std::to_string(st.loops.size()) +
             " loops (the limit is " + std::to_string(ir::kMaxLoopsCreated) + ")";
    for (const auto& l : st.loops)
      if (l.name.size() > ir::kMaxNameLength)
        return "stage " + st.stage + " would have a loop name " + std::to_string(l.name.size()) +
               " characters long (the limit is " + std::to_string(ir::kMaxNameLength) + ")";
  }
  return "";
}
}  // namespace

State finish(const State& s, const Step& step) {
  if (std::string why = check_schedule_limits(s); !why.empty()) fail(to_text(step), why);
  const std::string err = check_state(s);
  if (!err.empty()) fail(to_text(step), err);
  return s.with_step(step);
}

State finish_stage_split(const State& s, const std::string& stage, const ir::Tensor& tensor,
                         const ir::Stage& inserted, ir::MemScope inserted_scope, const ir::Stage& replacement,
                         ir::MemScope replacement_scope, const Step& step) {
  const ir::Workload& w = s.workload();
  auto nw = std::make_shared<ir::Workload>(w);
  for (size_t i = 0; i < nw->tensors.size(); ++i) {
    if (nw->tensors[i].name == stage) {
      nw->tensors.insert(nw->tensors.begin() + static_cast<long>(i), tensor);
      break;
    }
  }
  const int si = w.stage_index(stage);
  nw->stages[static_cast<size_t>(si)] = replacement;
  nw->stages.insert(nw->stages.begin() + si, inserted);
  RCTUNE_CHECK(nw->validate().empty());

  std::vector<std::shared_ptr<const StageSchedule>> stages = s.stages();
  StageSchedule is = default_stage_schedule(inserted);
  is.scope = inserted_scope;
  StageSchedule rs = default_stage_schedule(replacement);
  rs.scope = replacement_scope;
  stages[static_cast<size_t>(si)] = std::make_shared<const StageSchedule>(rs);
  stages.insert(stages.begin() + si, std::make_shared<const StageSchedule>(is));
  return finish(s.with_workload(nw, std::move(stages)), step);
}

State finish_loop_kind(const State& s, const StageSchedule& st, int loop, ir::ForKind kind,
                       const Step& step) {
  StageSchedule ns = st;
  ns.loops[loop].kind = kind;
  return finish(s.with_stage(ns), step);
}

}  // namespace detail

using namespace detail;

std::string split_loop_name(const std::string& parent, int index) {
  return parent + "." + std::to_string(index);
}

std::string fused_loop_name(const std::vector<std::string>& parents) { return join(parents, "."); }

ir::MemScope parse_mem_scope(const std::string& name) {
  if (name == "local") return ir::MemScope::Local;
  if (name == "shared") return ir::MemScope::Shared;
  if (name == "heap") return ir::MemScope::Heap;
  if (name == "global") return ir::MemScope::Global;
  throw ScheduleError("unknown memory scope '" + name + "'; expected local, shared or heap");
}

ir::BindLevel parse_bind_level(const std::string& name) {
  if (name == "league") return ir::BindLevel::League;
  if (name == "team") return ir::BindLevel::Team;
  if (name == "vector") return ir::BindLevel::Vector;
  throw ScheduleError("unknown bind level '" + name + "'; expected league, team or vector");
}

namespace {

// Stages that read `tensor` once inlined stages are replaced by their readers.
void effective_readers(const State& s, const std::string& tensor, std::vector<std::string>* out,
                       int depth = 0) {
  if (depth > 64) return;
  for (const auto& r : readers_of(s.workload(), tensor)) {
    const StageSchedule* rs = s.stage(r);
    if (rs && rs->attach.kind == Attach::Kind::Inline) {
      effective_readers(s, r, out, depth + 1);
    } else if (std::find(out->begin(), out->end(), r) == out->end()) {
      out->push_back(r);
    }
  }
}

// Stages whose tensors `stage` reads, looking through inlined stages, in first-read order.
void effective_producers(const State& s, const std::string& stage, std::vector<std::string>* out,
                         int depth = 0) {
  const ir::Stage* st = s.workload().find_stage(stage);
  if (!st || depth > 64) return;
  for (const auto& t : st->inputs()) {
    const StageSchedule* ps = s.stage(t);
    if (!ps) continue;  // an input
    if (ps->attach.kind == Attach::Kind::Inline) {
      effective_producers(s, t, out, depth + 1);
    } else if (std::find(out->begin(), out->end(), t) == out->end()) {
      out->push_back(t);
    }
  }
}

std::string loop_ref(const std::string& stage, const std::string& loop) {
  return "loop " + loop + " of " + stage;
}

}  // namespace

// Checks a placed stage's attach point and its readers / producer. Empty when fine.
std::string detail::check_attach(const State& s, const StageSchedule& st) {
  const Attach& a = st.attach;
  if (a.kind == Attach::Kind::Root) return "";
  if (a.kind == Attach::Kind::Inline) {
    if (!attached_at(s, st.stage, "").empty()) {
      return "stage " + st.stage + " is inlined but stages are placed at its loops";
    }
    return "";
  }
  const StageSchedule* target = s.stage(a.stage);
  if (!target) return "stage " + st.stage + " is placed in stage " + a.stage + ", which does not exist";
  if (target->attach.kind == Attach::Kind::Inline) {
    return "stage " + st.stage + " is placed at a loop of " + a.stage + ", which is inlined and has no loops";
  }
  const int li = target->find_loop(a.loop);
  if (li < 0 || !target->is_leaf(li)) {
    return "stage " + st.stage + " is placed at loop " + a.loop + " of " + a.stage +
           ", which is not a loop of it";
  }
  const LoopVar& lv = target->loops[li];
  if (lv.kind == ir::ForKind::Vectorized || lv.bind == ir::BindLevel::Vector) {
    return "stage " + st.stage + " is placed at " + loop_ref(a.stage, a.loop) + ", which is " +
           annotation_text(lv) + "; a vector loop cannot contain other stages";
  }
  // No cycles: walking up from the target must not reach this stage.
  std::string cur = a.stage;
  for (int guard = 0; guard < 1000; ++guard) {
    if (cur == st.stage) return "placing " + st.stage + " inside " + a.stage + " would form a cycle";
    const StageSchedule* c = s.stage(cur);
    if (!c || (c->attach.kind != Attach::Kind::At && c->attach.kind != Attach::Kind::ReverseAt)) break;
    cur = c->attach.stage;
  }
  const int pos = target->leaf_position(li);
  if (a.kind == Attach::Kind::At) {
    std::vector<std::string> readers;
    effective_readers(s, st.stage, &readers);
    if (readers.empty()) return "no stage reads " + st.stage;
    // For each reader: the loop of the target it is placed under ("" when it is the target itself),
    // or nullopt when it is not inside the target at all.
    std::vector<std::pair<std::string, std::optional<std::string>>> where;
    bool any_inside = false;
    for (const auto& r : readers) {
      std::optional<std::string> via;
      bool moves_with_stage = false;  // the reader is placed inside this stage and moves with it
      if (r == a.stage) {
        via = "";
      } else {
        std::string c = r;
        for (int guard = 0; guard < 1000; ++guard) {
          const StageSchedule* cs = s.stage(c);
          if (!cs || (cs->attach.kind != Attach::Kind::At && cs->attach.kind != Attach::Kind::ReverseAt))
            break;
          if (cs->attach.stage == st.stage) {
            moves_with_stage = true;
            break;
          }
          if (cs->attach.stage == a.stage) {
            via = cs->attach.loop;
            break;
          }
          c = cs->attach.stage;
        }
      }
      if (moves_with_stage) continue;
      any_inside = any_inside || via.has_value();
      where.emplace_back(r, via);
    }
    if (!any_inside)
      return a.stage + " does not read " + st.stage + "; readers of " + st.stage + ": " + join(readers) +
             (readers.size() == 1 ? ", which is not" : ", none of which is") + " computed inside " + a.stage;
    for (const auto& [r, via] : where) {
      if (!via) {
        return "stage " + r + " also reads " + st.stage + " and is not computed inside " +
               loop_ref(a.stage, a.loop) +
               "; a stage can only be computed at a loop that encloses all its readers";
      }
      if (via->empty()) continue;
      if (target->leaf_position(target->find_loop(*via)) < pos) {
        return "stage " + r + " reads " + st.stage + " but is placed at loop " + *via + " of " + a.stage +
               ", outside loop " + a.loop + " where " + st.stage + " is computed";
      }
    }
    return "";
  }
  // ReverseAt: the stage reads the producer and has no reduction.
  std::vector<std::string> readers;
  effective_readers(s, a.stage, &readers);
  if (std::find(readers.begin(), readers.end(), st.stage) == readers.end()) {
    return st.stage + " does not read " + a.stage;
  }
  // The producer's region is complete after an iteration of the loop only when no reduction loop
  // encloses the stage.
  for (int p = 0; p <= pos; ++p) {
    const LoopVar& l = target->loops[target->leaves[p]];
    if (l.reduce) {
      return "loop " + l.name + " of " + a.stage + " iterates over a reduction axis; " + st.stage +
             " placed at " + loop_ref(a.stage, a.loop) + " would read " + a.stage +
             " before its reduction is complete";
    }
  }
  return "";
}

namespace {

struct NestLoop {
  std::string stage;
  const LoopVar* loop;
};

// Full loop nest around and of a stage, outermost first.
std::vector<NestLoop> full_nest(const State& s, const StageSchedule& st) {
  std::vector<NestLoop> nest;
  for (const auto& e : enclosing_loops(s, st.stage)) {
    const StageSchedule* es = s.stage(e.stage);
    nest.push_back({e.stage, &es->loops[es->find_loop(e.loop)]});
  }
  for (int l : st.leaves) nest.push_back({st.stage, &st.loops[l]});
  return nest;
}

std::string check_nesting(const State& s, const StageSchedule& st) {
  if (st.attach.kind == Attach::Kind::Inline) return "";
  const std::vector<NestLoop> nest = full_nest(s, st);
  const size_t own_begin = nest.size() - st.leaves.size();
  for (size_t p = own_begin; p < nest.size(); ++p) {
    const LoopVar& l = *nest[p].loop;
    const std::string here = "loop " + l.name + " of " + st.stage;
    if (l.kind == ir::ForKind::Vectorized && p + 1 != nest.size()) {
      return here + " is vectorized but is not the innermost loop of " + st.stage +
             " (vectorized loops must stay innermost)";
    }
    if (l.kind != ir::ForKind::Parallel && l.bind == ir::BindLevel::None) continue;
    bool league_outside = false;
    for (size_t q = 0; q < p; ++q) {
      const LoopVar& o = *nest[q].loop;
      const std::string there = "loop " + o.name + " of " + nest[q].stage;
      if (o.bind == ir::BindLevel::League) league_outside = true;
      if (l.kind == ir::ForKind::Parallel) {
        if (o.bind != ir::BindLevel::None) {
          return here + " is parallel inside " + there + ", which is " + annotation_text(o) +
                 "; parallel and bind cannot be nested";
        }
        if (o.kind == ir::ForKind::Parallel) {
          // Adjacent parallel loops of one stage form one multi-dimensional range.
          bool adjacent = nest[q].stage == st.stage;
          for (size_t m = q + 1; m < p && adjacent; ++m)
            adjacent = nest[m].loop->kind == ir::ForKind::Parallel;
          if (!adjacent) {
            return here + " is parallel inside parallel " + there +
                   "; nested parallel loops must be adjacent loops of one stage";
          }
        }
        continue;
      }
      if (o.kind == ir::ForKind::Parallel) {
        return here + " is " + annotation_text(l) + " inside parallel " + there +
               "; parallel and bind cannot be nested";
      }
      if (o.bind == l.bind) {
        return here + " is " + annotation_text(l) + " inside " + there + ", which is bound to " +
               level_text(o.bind) + " as well; fuse the loops first, each level can be bound once";
      }
      if (l.bind == ir::BindLevel::League && o.bind != ir::BindLevel::None) {
        return here + " is bound to league inside " + there + ", which is " + annotation_text(o) +
               "; league must be the outermost level";
      }
      if (l.bind == ir::BindLevel::Team && o.bind == ir::BindLevel::Vector) {
        return here + " is bound to team inside " + there +
               ", which is bound to vector; team goes outside vector";
      }
    }
    if ((l.bind == ir::BindLevel::Team || l.bind == ir::BindLevel::Vector) && !league_outside) {
      return here + " is bound to " + level_text(l.bind) + " but no enclosing loop is bound to league";
    }
  }
  return "";
}

}  // namespace

std::vector<std::string> readers_of(const ir::Workload& w, const std::string& tensor) {
  std::vector<std::string> out;
  for (const auto& st : w.stages) {
    if (st.output == tensor) continue;
    const std::vector<std::string> reads = st.inputs();
    if (std::find(reads.begin(), reads.end(), tensor) != reads.end()) out.push_back(st.output);
  }
  return out;
}

std::vector<EnclosingLoop> enclosing_loops(const State& s, const std::string& stage) {
  std::vector<EnclosingLoop> out;
  const StageSchedule* st = s.stage(stage);
  for (int guard = 0; st && guard < 1000; ++guard) {
    const Attach& a = st->attach;
    if (a.kind != Attach::Kind::At && a.kind != Attach::Kind::ReverseAt) break;
    const StageSchedule* t = s.stage(a.stage);
    if (!t) break;
    const int li = t->find_loop(a.loop);
    const int pos = li < 0 ? -1 : t->leaf_position(li);
    std::vector<EnclosingLoop> level;
    for (int p = 0; p <= pos; ++p) level.push_back({t->stage, t->loops[t->leaves[p]].name});
    out.insert(out.begin(), level.begin(), level.end());
    st = t;
  }
  return out;
}

namespace {

// The order in which the kernel runs the stages: root stages in workload order; within a stage,
// the stages placed before a loop's body (compute_at) come before it, those placed after a loop's
// body (reverse_compute_at) after it, inner loops' first. Then every stage must read only tensors
// computed before it, and a stage running inside the loops of a producer reads it only when it is
// placed directly after that producer's loop body (there the region just computed is complete).
std::string check_order(const State& s) {
  const auto& stages = s.stages();
  std::map<std::string, int> seq;
  int next = 0;
  std::function<void(const StageSchedule&)> visit = [&](const StageSchedule& st) {
    const std::vector<std::string> leaves = st.leaf_names();
    for (const auto& l : leaves) {
      for (const auto& p : stages) {
        if (p->attach.kind == Attach::Kind::At && p->attach.stage == st.stage && p->attach.loop == l)
          visit(*p);
      }
    }
    seq[st.stage] = next++;
    for (size_t k = leaves.size(); k-- > 0;) {
      for (const auto& p : stages) {
        if (p->attach.kind == Attach::Kind::ReverseAt && p->attach.stage == st.stage &&
            p->attach.loop == leaves[k]) {
          visit(*p);
        }
      }
    }
  };
  for (const auto& p : stages) {
    if (p->attach.kind == Attach::Kind::Root) visit(*p);
  }
  for (const auto& p : stages) {
    const StageSchedule& st = *p;
    if (st.attach.kind == Attach::Kind::Inline || !seq.count(st.stage)) continue;
    std::vector<std::string> producers;
    effective_producers(s, st.stage, &producers);
    for (const auto& q : producers) {
      if (!seq.count(q)) continue;
      bool nested = false;
      for (const auto& e : enclosing_loops(s, st.stage)) nested = nested || e.stage == q;
      if (nested && !(st.attach.kind == Attach::Kind::ReverseAt && st.attach.stage == q)) {
        return st.stage + " reads " + q + " inside the loops that compute " + q + ", where " + q +
               " is only partly computed (only a stage placed with reverse_compute_at directly at a loop "
               "of " +
               q + " may read it there)";
      }
      if (seq[q] > seq[st.stage]) {
        return st.stage + " reads " + q + ", which with these placements is computed after " + st.stage;
      }
    }
  }
  return "";
}

}  // namespace

std::string check_state(const State& s) {
  for (const auto& p : s.stages()) {
    std::string e = detail::check_attach(s, *p);
    if (e.empty()) e = check_nesting(s, *p);
    if (!e.empty()) return e;
  }
  return check_order(s);
}

}  // namespace rctune::schedule
