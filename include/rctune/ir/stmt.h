// The loop-nest IR: what a scheduled workload lowers to, what the printer shows and what codegen
// turns into Kokkos C++. Loops run from 0 to a compile-time extent.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rctune/ir/expr.h"

namespace rctune::ir {

enum class ForKind { Serial, Parallel, Vectorized, Unrolled };
const char* for_kind_name(ForKind k);  // "serial", "parallel", "vectorized", "unrolled"

// Kokkos hierarchical parallelism a loop may be bound to (TeamPolicy league, TeamThreadRange,
// ThreadVectorRange).
enum class BindLevel { None, League, Team, Vector };
const char* bind_level_name(BindLevel b);  // "", "league", "team", "vector"

// Where a buffer lives. Global: a kernel argument (workload tensor). Local: per-thread storage
// (registers or stack). Shared: Kokkos team scratch. Heap: a kernel-private buffer allocated once
// per kernel call (large intermediates and packed panels that exceed the stack).
enum class MemScope { Global, Local, Shared, Heap };
const char* mem_scope_name(MemScope s);  // "global", "local", "shared", "heap"

struct BufferDecl {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // row-major, compile-time extents
  MemScope scope = MemScope::Global;
  int64_t num_elements() const;
};

enum class StmtKind { For, Seq, Store, IfThenElse, Allocate };

struct StmtNode;
class Stmt {
 public:
  Stmt() = default;
  explicit Stmt(std::shared_ptr<const StmtNode> n) : node_(std::move(n)) {}
  const StmtNode* get() const { return node_.get(); }
  const StmtNode* operator->() const { return node_.get(); }
  explicit operator bool() const { return static_cast<bool>(node_); }
  StmtKind kind() const;
  template <class T>
  const T* as() const;

 private:
  std::shared_ptr<const StmtNode> node_;
};

struct StmtNode {
  explicit StmtNode(StmtKind k) : kind(k) {}
  virtual ~StmtNode() = default;
  const StmtKind kind;
};

struct For final : StmtNode {
  static constexpr StmtKind kKind = StmtKind::For;
  For(std::string v, int64_t e, ForKind k, BindLevel b, Stmt s)
      : StmtNode(kKind), var(std::move(v)), extent(e), for_kind(k), bind(b), body(std::move(s)) {}
  std::string var;  // loop variable, runs 0 .. extent-1
  int64_t extent;
  ForKind for_kind;
  BindLevel bind;
  Stmt body;
};
struct Seq final : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Seq;
  explicit Seq(std::vector<Stmt> s) : StmtNode(kKind), stmts(std::move(s)) {}
  std::vector<Stmt> stmts;
};
// buffer[indices] = value. A reduction update is a Store whose value reads the same element,
// e.g. C[i, j] = C[i, j] + A[i, k] * B[k, j].
struct Store final : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Store;
  Store(std::string b, std::vector<Expr> idx, Expr v)
      : StmtNode(kKind), buffer(std::move(b)), indices(std::move(idx)), value(std::move(v)) {}
  std::string buffer;
  std::vector<Expr> indices;
  Expr value;
};
struct IfThenElse final : StmtNode {
  static constexpr StmtKind kKind = StmtKind::IfThenElse;
  IfThenElse(Expr c, Stmt t, Stmt e)
      : StmtNode(kKind), cond(std::move(c)), then_case(std::move(t)), else_case(std::move(e)) {}
  Expr cond;
  Stmt then_case;
  Stmt else_case;  // may be empty
};
// Declares a buffer that is visible in body only.
struct Allocate final : StmtNode {
  static constexpr StmtKind kKind = StmtKind::Allocate;
  Allocate(BufferDecl b, Stmt s) : StmtNode(kKind), buffer(std::move(b)), body(std::move(s)) {}
  BufferDecl buffer;
  Stmt body;
};

inline StmtKind Stmt::kind() const { return node_->kind; }
template <class T>
const T* Stmt::as() const {
  return node_ && node_->kind == T::kKind ? static_cast<const T*>(node_.get()) : nullptr;
}

Stmt make_for(std::string var, int64_t extent, ForKind kind, BindLevel bind, Stmt body);
Stmt make_seq(std::vector<Stmt> stmts);  // flattens nested Seq, drops empty statements
Stmt make_store(std::string buffer, std::vector<Expr> indices, Expr value);
Stmt make_if(Expr cond, Stmt then_case, Stmt else_case = Stmt());
Stmt make_allocate(BufferDecl buffer, Stmt body);

class StmtVisitor {
 public:
  virtual ~StmtVisitor() = default;
  void visit(const Stmt& s);
  virtual void visit(const For& n);
  virtual void visit(const Seq& n);
  virtual void visit(const Store& n);
  virtual void visit(const IfThenElse& n);
  virtual void visit(const Allocate& n);
};

class StmtMutator {
 public:
  virtual ~StmtMutator() = default;
  Stmt mutate(const Stmt& s);
  virtual Stmt mutate_for(const For& n, const Stmt& self);
  virtual Stmt mutate_seq(const Seq& n, const Stmt& self);
  virtual Stmt mutate_store(const Store& n, const Stmt& self);
  virtual Stmt mutate_if(const IfThenElse& n, const Stmt& self);
  virtual Stmt mutate_allocate(const Allocate& n, const Stmt& self);
  // Called for every expression inside statements; identity by default.
  virtual Expr mutate_expr(const Expr& e) { return e; }
};

// A lowered kernel: the global buffers it takes (workload tensors, in workload declaration
// order) and the loop nest.
struct LoweredFunc {
  std::string name;
  std::vector<BufferDecl> params;
  std::vector<std::string> outputs;  // names of params the caller reads back
  Stmt body;
};

// Readable, stable pseudo-code of a loop nest. This text is what users and the LLM read:
//
//   kernel matmul(A: f32[512, 512] global, B: f32[512, 512] global, C: f32[512, 512] global)
//   for i.0 in 0..64 parallel:
//     alloc C.local: f32[8, 64] local
//     for j.1 in 0..64 vectorized:
//       ...
//       C[i, j] = C[i, j] + A[i, k] * B[k, j]
std::string to_string(const Stmt& s, int indent = 0);
std::string to_string(const LoweredFunc& f);

}  // namespace rctune::ir
