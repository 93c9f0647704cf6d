#include "codegen/nest_queries.h"

#include "codegen/common.h"

namespace rctune::codegen::detail {
namespace {

using namespace rctune::ir;

class AnyFor : public StmtVisitor {
 public:
  using StmtVisitor::visit;
  explicit AnyFor(const std::function<bool(const For&)>& pred) : pred_(pred) {}
  bool found = false;
  void visit(const For& n) override {
    if (found) return;
    found = pred_(n);
    if (!found) visit(n.body);
  }

 private:
  const std::function<bool(const For&)>& pred_;
};

class CollectAllocates : public StmtVisitor {
 public:
  using StmtVisitor::visit;
  std::vector<const Allocate*> out;
  void visit(const Allocate& n) override {
    out.push_back(&n);
    visit(n.body);
  }
};

class StoresVary : public StmtVisitor {
 public:
  using StmtVisitor::visit;
  explicit StoresVary(const std::string& var) : var_(var) {}
  bool all = true;
  void visit(const Store& n) override {
    bool varies = false;
    for (const auto& i : n.indices) varies = varies || contains_var(i, var_);
    all = all && varies;
  }

 private:
  const std::string& var_;
};

class Accesses : public StmtVisitor {
 public:
  using StmtVisitor::visit;
  explicit Accesses(const AccessFn& fn) : fn_(fn) {}
  void visit(const Store& n) override {
    fn_(n.buffer, n.indices);
    for (const auto& i : n.indices) for_each_access(i, fn_);
    for_each_access(n.value, fn_);
  }
  void visit(const IfThenElse& n) override {
    for_each_access(n.cond, fn_);
    StmtVisitor::visit(n);
  }

 private:
  const AccessFn& fn_;
};

class UnallocatedAccesses : public StmtVisitor {
 public:
  using StmtVisitor::visit;
  std::set<std::string> out;
  void visit(const Store& n) override {
    note(n.buffer);
    for (const auto& i : n.indices) loads(i);
    loads(n.value);
  }
  void visit(const IfThenElse& n) override {
    loads(n.cond);
    StmtVisitor::visit(n);
  }
  void visit(const Allocate& n) override {
    allocated_.insert(n.buffer.name);
    StmtVisitor::visit(n);
    allocated_.erase(allocated_.find(n.buffer.name));
  }

 private:
  void note(const std::string& buffer) {
    if (!allocated_.count(buffer)) out.insert(buffer);
  }
  void loads(const Expr& e) {
    for_each_access(e, [&](const std::string& b, const std::vector<Expr>&) { note(b); });
  }
  std::multiset<std::string> allocated_;
};

}  // namespace

std::set<std::string> unallocated_accesses(const Stmt& s) {
  UnallocatedAccesses v;
  v.visit(s);
  return std::move(v.out);
}

bool any_for(const Stmt& s, const std::function<bool(const For&)>& pred) {
  AnyFor v(pred);
  v.visit(s);
  return v.found;
}

bool has_parallel(const Stmt& s) {
  return any_for(s, [](const For& f) {
    return (f.for_kind == ForKind::Parallel && f.bind == BindLevel::None) || f.bind == BindLevel::League;
  });
}

std::vector<const Allocate*> collect_allocates(const Stmt& s) {
  CollectAllocates v;
  v.visit(s);
  return std::move(v.out);
}

bool all_stores_vary(const Stmt& s, const std::string& var) {
  StoresVary v(var);
  v.visit(s);
  return v.all;
}

void for_each_access(const Expr& e, const AccessFn& fn) {
  if (!e) return;
  if (auto l = e.as<Load>()) {
    fn(l->buffer, l->indices);
    for (const auto& i : l->indices) for_each_access(i, fn);
  } else if (auto b = e.as<Binary>()) {
    for_each_access(b->a, fn);
    for_each_access(b->b, fn);
  } else if (auto u = e.as<Unary>()) {
    for_each_access(u->a, fn);
  } else if (auto s = e.as<Select>()) {
    for_each_access(s->cond, fn);
    for_each_access(s->then_value, fn);
    for_each_access(s->else_value, fn);
  }
}

void for_each_access(const Stmt& s, const AccessFn& fn) {
  Accesses v(fn);
  v.visit(s);
}

}  // namespace rctune::codegen::detail
