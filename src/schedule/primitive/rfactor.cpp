// rfactor(S, l): factors the part of S's reduction that loop l iterates over out into a new spatial
// axis of a new stage S.rf, as TVM's rfactor does. See docs/schedule-language.md.
#include <algorithm>

#include <functional>
#include <map>
#include "rctune/ir/check.h"

#include "common.h"
#include "traits.h"

namespace rctune::schedule {

using namespace detail;

std::string rfactor_axis_name(const std::string& loop) {
  std::string out = loop;
  std::replace(out.begin(), out.end(), '.', '_');
  return out;
}

State rfactor(const State& s, const std::string& stage, const std::string& loop) {
  const auto [step, call, st] = begin_stage_call(s, {Primitive::Rfactor, {stage, loop}});
  const ir::Stage& ist = get_ir_stage(s, call, stage);
  if (ist.op == ir::ReduceOp::None)
    fail(call, "stage " + stage + " has no reduction (it is an assignment); rfactor needs +=, max= or min=");
  if (st.attach.kind == Attach::Kind::Inline) fail(call, "stage " + stage + " is inlined");
  const int li = get_leaf(st, call, loop);
  if (!st.loops[li].reduce)
    fail(call, "loop " + loop +
                   " iterates over a spatial axis; rfactor needs a loop over (part of) a reduction axis");

  // The stage must be unscheduled apart from splits of the reduction axis that `loop` comes from.
  const std::string apply_first = "; apply rfactor right after the split(s) that create the loop";
  std::map<int, int> parent_of;  // loop -> the split relation index that created it
  for (size_t r = 0; r < st.relations.size(); ++r) {
    const Relation& rel = st.relations[r];
    if (rel.kind != Relation::Kind::Split) {
      fail(call, "stage " + stage + " has fused loops (" + st.loops[rel.fuse.child].name +
                     "); rfactor needs a loop created from one reduction axis by splits only" + apply_first);
    }
    for (int c : rel.split.children) parent_of[c] = static_cast<int>(r);
  }
  int root = li;
  while (parent_of.count(root)) root = st.relations[parent_of[root]].split.parent;
  for (const Relation& rel : st.relations) {
    int p = rel.split.parent;
    while (parent_of.count(p)) p = st.relations[parent_of[p]].split.parent;
    if (p != root) {
      fail(call, "loop " + st.loops[rel.split.parent].name + " of stage " + stage +
                     " has been split; only the reduction axis that " + loop + " comes from (" +
                     st.loops[root].name + ") may be split before rfactor");
    }
  }
  {
    StageSchedule expect = default_stage_schedule(ist);
    for (const Relation& rel : st.relations) {
      auto it = std::find(expect.leaves.begin(), expect.leaves.end(), rel.split.parent);
      RCTUNE_CHECK(it != expect.leaves.end());
      const long pos = it - expect.leaves.begin();
      expect.leaves.erase(it);
      expect.leaves.insert(expect.leaves.begin() + pos, rel.split.children.begin(), rel.split.children.end());
    }
    if (st.leaves != expect.leaves)
      fail(call, "the loops of stage " + stage + " have been reordered" + apply_first);
  }
  for (const auto& l : st.loops) {
    if (annotated(l))
      fail(call, "loop " + l.name + " of stage " + stage + " is " + annotation_text(l) + apply_first);
  }
  if (st.attach.kind != Attach::Kind::Root) {
    fail(call, "stage " + stage + " is placed at loop " + st.attach.loop + " of " + st.attach.stage +
                   "; apply rfactor before compute_at / reverse_compute_at");
  }
  if (!st.init_before.empty())
    fail(call, "the reduction of stage " + stage + " has been decomposed" + apply_first);
  if (const auto at = attached_at(s, stage, ""); !at.empty()) {
    fail(call, "stage " + at[0] + " is placed at a loop of " + stage +
                   "; apply rfactor before placing stages there");
  }

  const std::string rf_name = stage + ".rf";
  if (s.workload().find_tensor(rf_name)) fail(call, "a tensor named " + rf_name + " already exists");

  // The leaves that come from the root reduction axis, outermost first, and its value in terms of
  // them: root = sum_c child_c * prod(inner factors after c), recursively.
  const std::vector<int64_t> ext = State::loop_extents(st, root_extents(ist));
  std::vector<int> tree_leaves;
  for (int l : st.leaves) {
    int p = l;
    while (parent_of.count(p)) p = st.relations[parent_of[p]].split.parent;
    if (p == root) tree_leaves.push_back(l);
  }
  std::function<ir::Expr(int)> value_of = [&](int l) -> ir::Expr {
    if (st.is_leaf(l)) return ir::var(rfactor_axis_name(st.loops[l].name));
    // l is a split parent: find the relation that splits it.
    for (const Relation& rel : st.relations) {
      if (rel.split.parent != l) continue;
      ir::Expr v;
      for (size_t c = 0; c < rel.split.children.size(); ++c) {
        ir::Expr child = value_of(rel.split.children[c]);
        v = c == 0 ? child : v * rel.split.inner_factors[c - 1] + child;
      }
      return v;
    }
    RCTUNE_CHECK(false && "a non-leaf loop must be split");
    return ir::Expr();
  };
  const ir::Expr root_value = value_of(root);
  int64_t covered = 1;
  for (int l : tree_leaves) covered *= ext[static_cast<size_t>(l)];
  const int64_t root_extent = ext[static_cast<size_t>(root)];
  const std::string root_name = st.loops[root].name;

  // New axis names: the loop names with '.' replaced by '_' (j.1 -> j_1); they must not clash.
  std::vector<std::string> taken;
  for (const auto& a : ist.axes) taken.push_back(a.name);
  for (const auto& a : ist.reduce_axes)
    if (a.name != root_name) taken.push_back(a.name);
  for (int l : tree_leaves) {
    const std::string n = rfactor_axis_name(st.loops[l].name);
    if (std::find(taken.begin(), taken.end(), n) != taken.end())
      fail(call, "stage " + stage + " already has an index variable named " + n +
                     " (the name rfactor gives loop " + st.loops[l].name + ")");
    taken.push_back(n);
  }

  const std::string new_axis = rfactor_axis_name(loop);
  const int64_t new_extent = ext[static_cast<size_t>(li)];
  ir::Stage rf;
  rf.output = rf_name;
  rf.axes = ist.axes;
  rf.axes.push_back(ir::IndexVar{new_axis, new_extent});
  for (const auto& a : ist.reduce_axes) {
    if (a.name != root_name) {
      rf.reduce_axes.push_back(a);
      continue;
    }
    for (int l : tree_leaves) {
      if (l != li)
        rf.reduce_axes.push_back(
            ir::IndexVar{rfactor_axis_name(st.loops[l].name), ext[static_cast<size_t>(l)]});
    }
  }
  rf.op = rf.reduce_axes.empty() ? ir::ReduceOp::None : ist.op;
  rf.body = ir::substitute(ist.body, {ir::VarBinding{root_name, root_value}});
  if (covered != root_extent) {
    // The splits cover more iterations than the axis has: the extra ones contribute the identity.
    rf.body = ir::select(ir::binary(ir::BinOp::LT, root_value, ir::int_imm(root_extent)), rf.body,
                         ir::float_imm(ist.init_value()));
  }

  ir::Stage red;
  red.output = stage;
  red.axes = ist.axes;
  red.reduce_axes = {ir::IndexVar{new_axis, new_extent}};
  red.op = ist.op;
  std::vector<ir::Expr> idx;
  for (const auto& a : ist.axes) idx.push_back(ir::var(a.name));
  idx.push_back(ir::var(new_axis));
  red.body = ir::load(rf_name, idx);

  const ir::Tensor* t = s.workload().find_tensor(stage);
  ir::Tensor rft{rf_name, t->shape, t->dtype};
  rft.shape.push_back(new_extent);
  return finish_stage_split(s, stage, rft, rf, ir::MemScope::Local, red, st.scope, step);
}

PrimitiveInfo detail::rfactor_traits() {
  return primitive_traits(
      {{PK::Stage, "stage"}, {PK::Loop, "loop"}},
      "Factors the part of a reduction that a loop iterates over into a new stage <stage>.rf (scope "
      "local) whose output has the stage's axes plus one new last axis for the loop, holding partial "
      "reductions over the other reduction loops; the stage then reduces over that axis only: S[i] += "
      "S.rf[i, j_1]. The index variables of S.rf split from the reduction axis are named like the "
      "loops with '.' replaced by '_' (j.1 -> j_1, j.0 -> j_0); S and S.rf get default schedules. Used "
      "to vectorize or parallelise a reduction: reorder S.rf so j_1 is innermost, vectorize it, "
      "compute_at S.rf into S.",
      "the stage has a +=, max= or min= reduction; the loop is a current loop created from one "
      "reduction axis by splits only (or that axis itself); the stage is otherwise unscheduled (no "
      "other split, no fuse, reorder, annotation, placement or decomposed reduction, no stage placed "
      "at its loops); <stage>.rf does not exist yet.",
      "rfactor(row_sum, j.1)", apply_from_names<&rfactor>);
}

}  // namespace rctune::schedule
