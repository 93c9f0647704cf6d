#include "codegen/unroll_loops.h"

#include <memory>
#include <vector>

namespace rctune::codegen::detail {
namespace {

using namespace rctune::ir;

// One copy of a loop body for a fixed value of the loop variable. Every node is rebuilt (Seqs
// flattened), so that no copy shares an unrolled group's node and its comment.
class SubstituteVar : public StmtMutator {
 public:
  SubstituteVar(const std::string& var, int64_t value) : var_(var), binding_{{var, int_imm(value)}} {}

  Stmt mutate_for(const For& n, const Stmt& self) override {
    if (n.var == var_) return self;  // shadowed
    return make_for(n.var, n.extent, n.for_kind, n.bind, mutate(n.body));
  }
  Stmt mutate_seq(const Seq& n, const Stmt&) override {
    std::vector<Stmt> r;
    for (const auto& x : n.stmts) r.push_back(mutate(x));
    return make_seq(std::move(r));
  }
  Stmt mutate_store(const Store& n, const Stmt&) override {
    std::vector<Expr> idx;
    for (const auto& i : n.indices) idx.push_back(mutate_expr(i));
    return make_store(n.buffer, std::move(idx), mutate_expr(n.value));
  }
  Stmt mutate_if(const IfThenElse& n, const Stmt&) override {
    return make_if(mutate_expr(n.cond), mutate(n.then_case), n.else_case ? mutate(n.else_case) : Stmt());
  }
  Stmt mutate_allocate(const Allocate& n, const Stmt&) override {
    return make_allocate(n.buffer, mutate(n.body));
  }
  Expr mutate_expr(const Expr& e) override { return e ? substitute(e, binding_) : e; }

 private:
  std::string var_;
  std::vector<VarBinding> binding_;
};

// How many stores run in s (loop extents multiplied out).
class CountStores : public StmtVisitor {
 public:
  using StmtVisitor::visit;
  int64_t count = 0;
  void visit(const For& n) override {
    int64_t outer = count;
    count = 0;
    visit(n.body);
    count = outer + n.extent * count;
  }
  void visit(const Store&) override { ++count; }
};

int64_t count_stores(const Stmt& s) {
  CountStores c;
  c.visit(s);
  return c.count;
}

std::string loop_note(const For& f) {
  std::string n = f.var + " (" + std::to_string(f.extent) + ")";
  if (f.for_kind == ForKind::Vectorized) n += " vectorized";
  return n;
}

class UnrollLoops : public StmtMutator {
 public:
  explicit UnrollLoops(UnrolledGroups* groups) : groups_(groups) {}

  Stmt mutate_for(const For& f, const Stmt&) override {
    Stmt body = mutate(f.body);
    if (f.for_kind != ForKind::Unrolled || f.bind != BindLevel::None || f.extent > kMaxTextualUnroll ||
        f.extent * count_stores(body) > kMaxUnrolledStores)
      return make_for(f.var, f.extent, f.for_kind, f.bind, body);
    std::string inner;
    if (auto it = groups_->find(body.get()); it != groups_->end())
      inner = " x " + it->second.second;
    else if (auto bf = body.as<For>())
      inner = " x " + loop_note(*bf);
    std::vector<Stmt> copies;
    for (int64_t i = 0; i < f.extent; ++i) copies.push_back(SubstituteVar(f.var, i).mutate(body));
    Stmt r = make_seq(std::move(copies));
    (*groups_)[r.get()] = {r, loop_note(f) + inner};
    return r;
  }
  Stmt mutate_seq(const Seq& n, const Stmt&) override {
    std::vector<Stmt> r;
    for (const auto& x : n.stmts) r.push_back(mutate(x));
    return Stmt(std::make_shared<Seq>(std::move(r)));  // not flattened: keeps unrolled groups apart
  }

 private:
  UnrolledGroups* groups_;
};

}  // namespace

Stmt unroll_loops(const Stmt& s, UnrolledGroups* groups) { return UnrollLoops(groups).mutate(s); }

}  // namespace rctune::codegen::detail
