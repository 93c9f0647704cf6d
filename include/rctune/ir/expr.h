// Expressions: the right-hand sides of workload stages, index expressions, and the values of the
// lowered loop nest. Nodes are immutable and shared; an Expr is a cheap handle to one.
//
// The same node set serves two levels:
//   - in a workload, Var names an index variable of the stage (i, j, k, ...) and Load names a tensor;
//   - in a lowered loop nest, Var names a loop variable (i.0, i.1, ...) and Load names a buffer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace rctune::ir {

enum class DType { F32, F64 };
const char* dtype_name(DType t);    // "f32", "f64"
int dtype_bytes(DType t);

enum class ExprKind { IntImm, FloatImm, Var, Load, Binary, Unary, Select };

enum class BinOp {
  Add,
  Sub,
  Mul,
  Div,  // arithmetic (Div on integers is floor division)
  Mod,  // integer floor modulo (index arithmetic only)
  Max,
  Min,
  LT,
  LE,
  GT,
  GE,
  EQ,
  NE,  // comparisons, value 0 or 1
  And,
  Or  // logical, operands are comparisons
};
const char* binop_name(BinOp op);  // "+", "-", ..., "max", "min", "<", "&&", ...
bool is_boolean_op(BinOp op);      // comparisons and logical operators: the value is 0 or 1

enum class UnOp { Neg, Exp, Log, Sqrt, Rsqrt, Tanh, Erf, Relu, Gelu, Sigmoid, Abs };
const char* unop_name(UnOp op);  // "neg", "exp", ...

struct ExprNode;
class Expr {
 public:
  Expr() = default;
  explicit Expr(std::shared_ptr<const ExprNode> n) : node_(std::move(n)) {}
  const ExprNode* get() const { return node_.get(); }
  const ExprNode* operator->() const { return node_.get(); }
  const ExprNode& operator*() const { return *node_; }
  explicit operator bool() const { return static_cast<bool>(node_); }
  ExprKind kind() const;
  template <class T>
  const T* as() const;  // nullptr when the node is of another kind
  bool same_as(const Expr& o) const { return node_ == o.node_; }

 private:
  std::shared_ptr<const ExprNode> node_;
};

struct ExprNode {
  explicit ExprNode(ExprKind k) : kind(k) {}
  virtual ~ExprNode() = default;
  const ExprKind kind;
};

struct IntImm final : ExprNode {
  static constexpr ExprKind kKind = ExprKind::IntImm;
  explicit IntImm(int64_t v) : ExprNode(kKind), value(v) {}
  int64_t value;
};
struct FloatImm final : ExprNode {
  static constexpr ExprKind kKind = ExprKind::FloatImm;
  explicit FloatImm(double v) : ExprNode(kKind), value(v) {}
  double value;
};
struct Var final : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Var;
  explicit Var(std::string n) : ExprNode(kKind), name(std::move(n)) {}
  std::string name;
};
struct Load final : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Load;
  Load(std::string b, std::vector<Expr> idx)
      : ExprNode(kKind), buffer(std::move(b)), indices(std::move(idx)) {}
  std::string buffer;  // tensor (workload) or buffer (loop nest) name
  std::vector<Expr> indices;
};
struct Binary final : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Binary;
  Binary(BinOp o, Expr x, Expr y) : ExprNode(kKind), op(o), a(std::move(x)), b(std::move(y)) {}
  BinOp op;
  Expr a, b;
};
struct Unary final : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Unary;
  Unary(UnOp o, Expr x) : ExprNode(kKind), op(o), a(std::move(x)) {}
  UnOp op;
  Expr a;
};
struct Select final : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Select;
  Select(Expr c, Expr t, Expr f)
      : ExprNode(kKind), cond(std::move(c)), then_value(std::move(t)), else_value(std::move(f)) {}
  Expr cond, then_value, else_value;
};

inline ExprKind Expr::kind() const { return node_->kind; }
template <class T>
const T* Expr::as() const {
  return node_ && node_->kind == T::kKind ? static_cast<const T*>(node_.get()) : nullptr;
}

// Constructors. The arithmetic helpers fold constants (int+int, x*1, x+0, x*0 on integers) so that
// index expressions built by lowering stay readable.
Expr int_imm(int64_t v);
Expr float_imm(double v);
Expr var(const std::string& name);
Expr load(const std::string& buffer, std::vector<Expr> indices);
Expr binary(BinOp op, Expr a, Expr b);
Expr unary(UnOp op, Expr a);
Expr select(Expr cond, Expr t, Expr f);
Expr operator+(Expr a, Expr b);
Expr operator-(Expr a, Expr b);
Expr operator*(Expr a, Expr b);
Expr operator/(Expr a, Expr b);  // floor division on integer index expressions
Expr operator%(Expr a, Expr b);  // floor modulo on integer index expressions
Expr operator+(Expr a, int64_t b);
Expr operator*(Expr a, int64_t b);

// Visitor over expressions. The default implementation of each visit walks the children.
class ExprVisitor {
 public:
  virtual ~ExprVisitor() = default;
  void visit(const Expr& e);
  virtual void visit(const IntImm&) {}
  virtual void visit(const FloatImm&) {}
  virtual void visit(const Var&) {}
  virtual void visit(const Load& n);
  virtual void visit(const Binary& n);
  virtual void visit(const Unary& n);
  virtual void visit(const Select& n);
};

// Mutator: returns a rewritten expression. The default implementation rebuilds a node only when
// one of its children changed, so unchanged subtrees stay shared.
class ExprMutator {
 public:
  virtual ~ExprMutator() = default;
  Expr mutate(const Expr& e);
  virtual Expr mutate_int(const IntImm& n, const Expr& self);
  virtual Expr mutate_float(const FloatImm& n, const Expr& self);
  virtual Expr mutate_var(const Var& n, const Expr& self);
  virtual Expr mutate_load(const Load& n, const Expr& self);
  virtual Expr mutate_binary(const Binary& n, const Expr& self);
  virtual Expr mutate_unary(const Unary& n, const Expr& self);
  virtual Expr mutate_select(const Select& n, const Expr& self);
};

// Readable, stable text, e.g. "A[i, k] * B[k, j]", "max(x, 0.0f)", "exp(X[i, j] - M[i])".
std::string to_string(const Expr& e);

// Replace variables by expressions (names not in the map stay).
struct VarBinding {
  std::string name;
  Expr value;
};
Expr substitute(const Expr& e, const std::vector<VarBinding>& bindings);

// Structural equality (same tree shape, names, values).
bool structural_equal(const Expr& a, const Expr& b);

// Names of all variables that occur in e, in first-occurrence order.
std::vector<std::string> free_vars(const Expr& e);

// Simplify integer index arithmetic (constant folding, (x*c + y) / c when 0 <= y < c, ...).
// var_extents gives known ranges [0, extent) of variables; unknown variables are unbounded.
struct VarRange {
  std::string name;
  int64_t extent;
};
Expr simplify(const Expr& e, const std::vector<VarRange>& var_extents = {});

// Interval [lo, hi] of an integer expression over the given variable ranges; false when unbounded.
// The same as ir::interval_of with the default rules (rctune/ir/analysis.h).
bool bound_of(const Expr& e, const std::vector<VarRange>& var_extents, int64_t* lo, int64_t* hi);

}  // namespace rctune::ir
