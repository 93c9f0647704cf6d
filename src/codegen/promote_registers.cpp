#include "codegen/promote_registers.h"

#include <optional>
#include <string>

#include "codegen/common.h"
#include "codegen/nest_queries.h"

namespace rctune::codegen::detail {
namespace {

using namespace rctune::ir;

// Walks the scope of one local buffer and checks each of its accesses.
class PromotionCheck : public StmtVisitor {
 public:
  using StmtVisitor::visit;
  PromotionCheck(const BufferDecl& buffer, const VectorLanes& lanes_of)
      : buffer_(buffer), lanes_of_(lanes_of) {}
  bool ok = true;
  int64_t lanes = 1;

  void visit(const For& n) override {
    if (!ok) return;
    auto saved = vector_;
    if (int64_t w = lanes_of_(n)) vector_ = Vector{n.var, w};
    visit(n.body);
    vector_ = saved;
  }
  void visit(const Seq& n) override {
    if (ok) StmtVisitor::visit(n);
  }
  void visit(const Store& n) override {
    if (!ok) return;
    access(n.buffer, n.indices);
    for (const auto& i : n.indices) expr(i);
    expr(n.value);
  }
  void visit(const IfThenElse& n) override {
    if (!ok) return;
    expr(n.cond);
    StmtVisitor::visit(n);
  }
  void visit(const Allocate& n) override {
    if (ok) StmtVisitor::visit(n);
  }

 private:
  struct Vector {
    std::string var;
    int64_t lanes;
  };

  void expr(const Expr& e) {
    for_each_access(e, [this](const std::string& b, const std::vector<Expr>& i) { access(b, i); });
  }
  void access(const std::string& buf, const std::vector<Expr>& idx) {
    if (buf != buffer_.name || !ok) return;
    Affine fa = flat_index(idx, buffer_.shape);
    if (vector_ && fa.coef_of(vector_->var) != 0) {
      Affine rest = fa.without(vector_->var);
      if (fa.coef_of(vector_->var) != 1 || !rest.is_constant() || rest.constant % vector_->lanes != 0) {
        ok = false;
        return;
      }
      if (lanes != 1 && lanes != vector_->lanes) ok = false;
      lanes = vector_->lanes;
      return;
    }
    if (!fa.is_constant()) ok = false;
  }

  const BufferDecl& buffer_;
  const VectorLanes& lanes_of_;
  std::optional<Vector> vector_;
};

std::optional<int64_t> register_lanes(const Allocate& a, const VectorLanes& lanes_of) {
  PromotionCheck check(a.buffer, lanes_of);
  check.visit(a.body);
  int64_t n = a.buffer.num_elements();
  if (!check.ok || n % check.lanes != 0 || n / check.lanes > kMaxPromotedRegisters) return std::nullopt;
  return check.lanes;
}

}  // namespace

std::map<const Allocate*, int64_t> promote_registers(const Stmt& body, const VectorLanes& lanes_of) {
  std::map<const Allocate*, int64_t> r;
  for (const Allocate* a : collect_allocates(body))
    if (a->buffer.scope == MemScope::Local)
      if (auto lanes = register_lanes(*a, lanes_of)) r[a] = *lanes;
  return r;
}

}  // namespace rctune::codegen::detail
