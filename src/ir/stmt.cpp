#include "rctune/ir/stmt.h"
#include "rctune/ir/check.h"

#include "rctune/ir/limits.h"

#include <sstream>

namespace rctune::ir {

const char* for_kind_name(ForKind k) {
  switch (k) {
    case ForKind::Serial:
      return "serial";
    case ForKind::Parallel:
      return "parallel";
    case ForKind::Vectorized:
      return "vectorized";
    case ForKind::Unrolled:
      return "unrolled";
  }
  return "?";
}

const char* bind_level_name(BindLevel b) {
  switch (b) {
    case BindLevel::None:
      return "";
    case BindLevel::League:
      return "league";
    case BindLevel::Team:
      return "team";
    case BindLevel::Vector:
      return "vector";
  }
  return "?";
}

const char* mem_scope_name(MemScope s) {
  switch (s) {
    case MemScope::Global:
      return "global";
    case MemScope::Local:
      return "local";
    case MemScope::Shared:
      return "shared";
    case MemScope::Heap:
      return "heap";
  }
  return "?";
}

int64_t BufferDecl::num_elements() const {
  // Saturates instead of overflowing (shapes are bounded by rctune/ir/limits.h).
  return checked_product(shape).value_or(INT64_MAX);
}

Stmt make_for(std::string var, int64_t extent, ForKind kind, BindLevel bind, Stmt body) {
  RCTUNE_CHECK(extent >= 1 && body);
  return Stmt(std::make_shared<For>(std::move(var), extent, kind, bind, std::move(body)));
}

Stmt make_seq(std::vector<Stmt> stmts) {
  std::vector<Stmt> flat;
  for (auto& s : stmts) {
    if (!s) continue;
    if (auto q = s.as<Seq>()) {
      for (const auto& x : q->stmts) flat.push_back(x);
    } else {
      flat.push_back(std::move(s));
    }
  }
  if (flat.size() == 1) return flat[0];
  return Stmt(std::make_shared<Seq>(std::move(flat)));
}

Stmt make_store(std::string buffer, std::vector<Expr> indices, Expr value) {
  RCTUNE_CHECK(value);
  return Stmt(std::make_shared<Store>(std::move(buffer), std::move(indices), std::move(value)));
}

Stmt make_if(Expr cond, Stmt then_case, Stmt else_case) {
  RCTUNE_CHECK(cond && then_case);
  if (auto c = cond.as<IntImm>()) return c->value ? then_case : else_case;
  return Stmt(std::make_shared<IfThenElse>(std::move(cond), std::move(then_case), std::move(else_case)));
}

Stmt make_allocate(BufferDecl buffer, Stmt body) {
  RCTUNE_CHECK(body);
  return Stmt(std::make_shared<Allocate>(std::move(buffer), std::move(body)));
}

// ---------------------------------------------------------------- visitor / mutator

void StmtVisitor::visit(const Stmt& s) {
  if (!s) return;
  switch (s.kind()) {
    case StmtKind::For:
      return visit(*s.as<For>());
    case StmtKind::Seq:
      return visit(*s.as<Seq>());
    case StmtKind::Store:
      return visit(*s.as<Store>());
    case StmtKind::IfThenElse:
      return visit(*s.as<IfThenElse>());
    case StmtKind::Allocate:
      return visit(*s.as<Allocate>());
  }
}
void StmtVisitor::visit(const For& n) { visit(n.body); }
void StmtVisitor::visit(const Seq& n) {
  for (const auto& s : n.stmts) visit(s);
}
void StmtVisitor::visit(const Store&) {}
void StmtVisitor::visit(const IfThenElse& n) {
  visit(n.then_case);
  visit(n.else_case);
}
void StmtVisitor::visit(const Allocate& n) { visit(n.body); }

Stmt StmtMutator::mutate(const Stmt& s) {
  if (!s) return s;
  switch (s.kind()) {
    case StmtKind::For:
      return mutate_for(*s.as<For>(), s);
    case StmtKind::Seq:
      return mutate_seq(*s.as<Seq>(), s);
    case StmtKind::Store:
      return mutate_store(*s.as<Store>(), s);
    case StmtKind::IfThenElse:
      return mutate_if(*s.as<IfThenElse>(), s);
    case StmtKind::Allocate:
      return mutate_allocate(*s.as<Allocate>(), s);
  }
  return s;
}
Stmt StmtMutator::mutate_for(const For& n, const Stmt& self) {
  Stmt b = mutate(n.body);
  if (!b) return Stmt();
  return b.get() == n.body.get() ? self : make_for(n.var, n.extent, n.for_kind, n.bind, b);
}
Stmt StmtMutator::mutate_seq(const Seq& n, const Stmt& self) {
  std::vector<Stmt> out;
  bool changed = false;
  for (const auto& s : n.stmts) {
    out.push_back(mutate(s));
    changed |= out.back().get() != s.get();
  }
  return changed ? make_seq(std::move(out)) : self;
}
Stmt StmtMutator::mutate_store(const Store& n, const Stmt& self) {
  std::vector<Expr> idx;
  bool changed = false;
  for (const auto& i : n.indices) {
    idx.push_back(mutate_expr(i));
    changed |= !idx.back().same_as(i);
  }
  Expr v = mutate_expr(n.value);
  changed |= !v.same_as(n.value);
  return changed ? make_store(n.buffer, std::move(idx), v) : self;
}
Stmt StmtMutator::mutate_if(const IfThenElse& n, const Stmt& self) {
  Expr c = mutate_expr(n.cond);
  Stmt t = mutate(n.then_case), e = mutate(n.else_case);
  if (c.same_as(n.cond) && t.get() == n.then_case.get() && e.get() == n.else_case.get()) return self;
  if (!t) return e ? make_if(binary(BinOp::EQ, c, int_imm(0)), e) : Stmt();
  return make_if(c, t, e);
}
Stmt StmtMutator::mutate_allocate(const Allocate& n, const Stmt& self) {
  Stmt b = mutate(n.body);
  if (!b) return Stmt();
  return b.get() == n.body.get() ? self : make_allocate(n.buffer, b);
}

// ---------------------------------------------------------------- printer

namespace {

std::string shape_string(const BufferDecl& b) {
  std::ostringstream os;
  os << dtype_name(b.dtype) << "[";
  for (size_t i = 0; i < b.shape.size(); ++i) os << (i ? ", " : "") << b.shape[i];
  os << "]";
  return os.str();
}

class StmtPrinter : public StmtVisitor {
 public:
  explicit StmtPrinter(int indent) : indent_(indent) {}
  std::ostringstream os;
  using StmtVisitor::visit;

  void visit(const For& n) override {
    pad();
    os << "for " << n.var << " in 0.." << n.extent;
    if (n.bind != BindLevel::None) {
      os << " bind(" << bind_level_name(n.bind) << ")";
    }
    if (n.for_kind != ForKind::Serial) os << " " << for_kind_name(n.for_kind);
    os << ":\n";
    nested(n.body);
  }
  void visit(const Store& n) override {
    pad();
    os << n.buffer << "[";
    for (size_t i = 0; i < n.indices.size(); ++i) os << (i ? ", " : "") << to_string(n.indices[i]);
    os << "] = " << to_string(n.value) << "\n";
  }
  void visit(const IfThenElse& n) override {
    pad();
    os << "if " << to_string(n.cond) << ":\n";
    nested(n.then_case);
    if (n.else_case) {
      pad();
      os << "else:\n";
      nested(n.else_case);
    }
  }
  void visit(const Allocate& n) override {
    pad();
    os << "alloc " << n.buffer.name << ": " << shape_string(n.buffer) << " " << mem_scope_name(n.buffer.scope)
       << "\n";
    visit(n.body);
  }

 private:
  int indent_;
  void pad() { os << std::string(static_cast<size_t>(indent_) * 2, ' '); }
  void nested(const Stmt& s) {
    ++indent_;
    visit(s);
    --indent_;
  }
};

}  // namespace

std::string to_string(const Stmt& s, int indent) {
  StmtPrinter p(indent);
  p.visit(s);
  return p.os.str();
}

std::string to_string(const LoweredFunc& f) {
  std::ostringstream os;
  os << "kernel " << f.name << "(";
  for (size_t i = 0; i < f.params.size(); ++i) {
    const auto& b = f.params[i];
    os << (i ? ", " : "") << b.name << ": " << shape_string(b);
  }
  os << ")";
  if (!f.outputs.empty()) {
    os << " -> ";
    for (size_t i = 0; i < f.outputs.size(); ++i) os << (i ? ", " : "") << f.outputs[i];
  }
  os << "\n" << to_string(f.body, 1);
  return os.str();
}

}  // namespace rctune::ir
