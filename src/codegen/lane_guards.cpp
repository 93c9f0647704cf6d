#include "codegen/lane_guards.h"

#include "codegen/common.h"

namespace rctune::codegen::detail {
namespace {

using namespace rctune::ir;

void lane_selects_of(const Expr& e, const std::string& v, std::vector<Expr>* out) {
  if (!e) return;
  if (auto sel = e.as<Select>()) {
    if (contains_var(sel->cond, v)) out->push_back(sel->cond);
    lane_selects_of(sel->then_value, v, out);
    lane_selects_of(sel->else_value, v, out);
  } else if (auto b = e.as<Binary>()) {
    lane_selects_of(b->a, v, out);
    lane_selects_of(b->b, v, out);
  } else if (auto u = e.as<Unary>()) {
    lane_selects_of(u->a, v, out);
  }
}

class LaneGuards : public StmtVisitor {
 public:
  using StmtVisitor::visit;
  LaneGuards(const std::string& v, std::vector<Expr>* out) : v_(v), out_(out) {}
  void visit(const Store& n) override { lane_selects_of(n.value, v_, out_); }
  void visit(const IfThenElse& n) override {
    if (contains_var(n.cond, v_)) out_->push_back(n.cond);
    StmtVisitor::visit(n);
  }

 private:
  const std::string& v_;
  std::vector<Expr>* out_;
};

// Finds a store that some lane of the chunk reaches. The lane variable is rebased to the chunk:
// v stands for base + v with v in [0, lanes).
class SomeLaneRuns : public StmtVisitor {
 public:
  using StmtVisitor::visit;
  SomeLaneRuns(const std::string& v, int64_t base, int64_t lanes, std::map<std::string, int64_t> extents)
      : v_(v), rebase_{{v, binary(BinOp::Add, var(v), int_imm(base))}}, extents_(std::move(extents)) {
    extents_[v] = lanes;
  }
  bool runs = false;
  void visit(const Store&) override { runs = true; }
  void visit(const IfThenElse& n) override {
    if (contains_var(n.cond, v_)) {
      auto c = fold_condition(substitute(n.cond, rebase_), extents_);
      if (c && !*c) return;
    }
    StmtVisitor::visit(n);
  }

 private:
  const std::string& v_;
  std::vector<VarBinding> rebase_;
  std::map<std::string, int64_t> extents_;
};

}  // namespace

bool is_lane_guard(const Expr& c, const std::string& v, const TypeOf& type_of) {
  if (!contains_var(c, v)) return true;
  auto b = c.as<Binary>();
  if (!b) return false;
  if (b->op == BinOp::And) return is_lane_guard(b->a, v, type_of) && is_lane_guard(b->b, v, type_of);
  if (b->op != BinOp::LT && b->op != BinOp::LE && b->op != BinOp::GT && b->op != BinOp::GE) return false;
  if (type_of(b->a, DType::F32) != Ty::Int || type_of(b->b, DType::F32) != Ty::Int) return false;
  Affine d = to_affine(binary(BinOp::Sub, b->a, b->b));
  return d.coef_of(v) != 0 && !d.var_in_atom(v);
}

Expr all_lanes(const Expr& c, const std::string& v, int64_t lo, int64_t hi) {
  if (!contains_var(c, v)) return c;
  auto b = c.as<Binary>();
  if (b->op == BinOp::And) return binary(BinOp::And, all_lanes(b->a, v, lo, hi), all_lanes(b->b, v, lo, hi));
  int64_t k = to_affine(binary(BinOp::Sub, b->a, b->b)).coef_of(v);
  bool upper = b->op == BinOp::LT || b->op == BinOp::LE;  // a - b bounded above
  int64_t lane = (upper == (k > 0)) ? hi : lo;
  return substitute(c, {{v, int_imm(lane)}});
}

std::vector<Expr> lane_guards_of(const Stmt& body, const std::string& v) {
  std::vector<Expr> out;
  LaneGuards g(v, &out);
  g.visit(body);
  return out;
}

bool no_lane_runs(const Stmt& body, const std::string& v, int64_t base, int64_t lanes,
                  const std::map<std::string, int64_t>& extents) {
  SomeLaneRuns r(v, base, lanes, extents);
  r.visit(body);
  return !r.runs;
}

}  // namespace rctune::codegen::detail
