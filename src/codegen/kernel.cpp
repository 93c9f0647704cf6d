// generate_kernel: Kokkos C++ from a lowered loop nest. See docs/codegen.md for the mapping.
#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "common.h"
#include "rctune/codegen/kokkos.h"
#include "rctune/ir/check.h"
#include "vmath.h"

namespace rctune::codegen {
namespace {

using namespace rctune::ir;
using namespace rctune::codegen::detail;

// Loops marked unrolled are copied textually when their extent and the resulting body stay small.
constexpr int64_t kMaxTextualUnroll = 64;
constexpr int64_t kMaxUnrolledStores = 1024;
// Local buffers larger than this go to the heap instead of the stack.
constexpr int64_t kStackLimitBytes = 128 * 1024;
// A local buffer is promoted to named registers only up to this many of them.
constexpr int64_t kMaxPromotedRegisters = 64;
// MDRangePolicy supports up to rank 6.
constexpr size_t kMaxMDRank = 6;

// ---------------------------------------------------------------------------------------------
// Textual unrolling (before emission): small unrolled loops become one copy of the body per
// iteration with the loop variable replaced by the constant.

Stmt subst_stmt(const Stmt& s, const std::string& v, int64_t value) {
  std::vector<VarBinding> b{{v, int_imm(value)}};
  auto se = [&](const Expr& e) { return e ? substitute(e, b) : e; };
  auto sv = [&](const std::vector<Expr>& es) {
    std::vector<Expr> r;
    for (const auto& e : es) r.push_back(se(e));
    return r;
  };
  switch (s.kind()) {
    case StmtKind::For: {
      auto f = s.as<For>();
      if (f->var == v) return s;  // shadowed
      return make_for(f->var, f->extent, f->for_kind, f->bind, subst_stmt(f->body, v, value));
    }
    case StmtKind::Seq: {
      std::vector<Stmt> r;
      for (const auto& x : s.as<Seq>()->stmts) r.push_back(subst_stmt(x, v, value));
      return make_seq(std::move(r));
    }
    case StmtKind::Store: {
      auto st = s.as<Store>();
      return make_store(st->buffer, sv(st->indices), se(st->value));
    }
    case StmtKind::IfThenElse: {
      auto i = s.as<IfThenElse>();
      return make_if(se(i->cond), subst_stmt(i->then_case, v, value),
                     i->else_case ? subst_stmt(i->else_case, v, value) : Stmt());
    }
    case StmtKind::Allocate: {
      auto a = s.as<Allocate>();
      return make_allocate(a->buffer, subst_stmt(a->body, v, value));
    }
  }
  return s;
}

int64_t count_stores(const Stmt& s) {
  if (!s) return 0;
  switch (s.kind()) {
    case StmtKind::For:
      return s.as<For>()->extent * count_stores(s.as<For>()->body);
    case StmtKind::Seq: {
      int64_t n = 0;
      for (const auto& x : s.as<Seq>()->stmts) n += count_stores(x);
      return n;
    }
    case StmtKind::Store:
      return 1;
    case StmtKind::IfThenElse:
      return count_stores(s.as<IfThenElse>()->then_case) + count_stores(s.as<IfThenElse>()->else_case);
    case StmtKind::Allocate:
      return count_stores(s.as<Allocate>()->body);
  }
  return 0;
}

// Unrolled copies are emitted under one comment ("unrolled i.1 (8) x j.1 (3)"), keyed by the Seq
// node that holds them.
// The map also holds the node, so that its address cannot be reused while the map lives.
using UnrollNotes = std::map<const StmtNode*, std::pair<Stmt, std::string>>;

std::string loop_note(const For& f) {
  std::string n = f.var + " (" + std::to_string(f.extent) + ")";
  if (f.for_kind == ForKind::Vectorized) n += " vectorized";
  return n;
}

Stmt unroll_small(const Stmt& s, UnrollNotes* notes) {
  if (!s) return s;
  switch (s.kind()) {
    case StmtKind::For: {
      auto f = s.as<For>();
      Stmt body = unroll_small(f->body, notes);
      if (f->for_kind == ForKind::Unrolled && f->bind == BindLevel::None && f->extent <= kMaxTextualUnroll &&
          f->extent * count_stores(body) <= kMaxUnrolledStores) {
        std::string inner;
        if (auto it = notes->find(body.get()); it != notes->end())
          inner = " x " + it->second.second;
        else if (auto bf = body.as<For>())
          inner = " x " + loop_note(*bf);
        std::vector<Stmt> copies;
        for (int64_t i = 0; i < f->extent; ++i) copies.push_back(subst_stmt(body, f->var, i));
        Stmt r = make_seq(std::move(copies));
        (*notes)[r.get()] = {r, loop_note(*f) + inner};
        return r;
      }
      return make_for(f->var, f->extent, f->for_kind, f->bind, body);
    }
    case StmtKind::Seq: {
      std::vector<Stmt> r;
      for (const auto& x : s.as<Seq>()->stmts) r.push_back(unroll_small(x, notes));
      return Stmt(std::make_shared<Seq>(std::move(r)));  // not flattened: keeps unrolled groups apart
    }
    case StmtKind::Store:
      return s;
    case StmtKind::IfThenElse: {
      auto i = s.as<IfThenElse>();
      return make_if(i->cond, unroll_small(i->then_case, notes), unroll_small(i->else_case, notes));
    }
    case StmtKind::Allocate: {
      auto a = s.as<Allocate>();
      return make_allocate(a->buffer, unroll_small(a->body, notes));
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Small structural queries.

template <class Pred>
bool any_for(const Stmt& s, Pred p) {
  if (!s) return false;
  switch (s.kind()) {
    case StmtKind::For:
      return p(*s.as<For>()) || any_for(s.as<For>()->body, p);
    case StmtKind::Seq:
      for (const auto& x : s.as<Seq>()->stmts)
        if (any_for(x, p)) return true;
      return false;
    case StmtKind::Store:
      return false;
    case StmtKind::IfThenElse:
      return any_for(s.as<IfThenElse>()->then_case, p) || any_for(s.as<IfThenElse>()->else_case, p);
    case StmtKind::Allocate:
      return any_for(s.as<Allocate>()->body, p);
  }
  return false;
}

bool has_parallel(const Stmt& s) {
  return any_for(s, [](const For& f) {
    return (f.for_kind == ForKind::Parallel && f.bind == BindLevel::None) || f.bind == BindLevel::League;
  });
}

void collect_allocates(const Stmt& s, std::vector<const Allocate*>* out) {
  if (!s) return;
  switch (s.kind()) {
    case StmtKind::For:
      collect_allocates(s.as<For>()->body, out);
      break;
    case StmtKind::Seq:
      for (const auto& x : s.as<Seq>()->stmts) collect_allocates(x, out);
      break;
    case StmtKind::Store:
      break;
    case StmtKind::IfThenElse:
      collect_allocates(s.as<IfThenElse>()->then_case, out);
      collect_allocates(s.as<IfThenElse>()->else_case, out);
      break;
    case StmtKind::Allocate:
      out->push_back(s.as<Allocate>());
      collect_allocates(s.as<Allocate>()->body, out);
      break;
  }
}

// True when every store in s writes an element that depends on var (no reduction across var), so
// that `#pragma omp simd` cannot break a loop-carried dependence through a store.
bool all_stores_vary(const Stmt& s, const std::string& var) {
  if (!s) return true;
  switch (s.kind()) {
    case StmtKind::For:
      return all_stores_vary(s.as<For>()->body, var);
    case StmtKind::Seq:
      for (const auto& x : s.as<Seq>()->stmts)
        if (!all_stores_vary(x, var)) return false;
      return true;
    case StmtKind::Store: {
      for (const auto& i : s.as<Store>()->indices)
        if (contains_var(i, var)) return true;
      return false;
    }
    case StmtKind::IfThenElse:
      return all_stores_vary(s.as<IfThenElse>()->then_case, var) &&
             all_stores_vary(s.as<IfThenElse>()->else_case, var);
    case StmtKind::Allocate:
      return all_stores_vary(s.as<Allocate>()->body, var);
  }
  return true;
}

// Calls fn(buffer, indices) for every load and store in s (indices of nested loads included).
template <class Fn>
void for_each_access_expr(const Expr& e, Fn& fn) {
  if (!e) return;
  if (auto l = e.as<Load>()) {
    fn(l->buffer, l->indices);
    for (const auto& i : l->indices) for_each_access_expr(i, fn);
  } else if (auto b = e.as<Binary>()) {
    for_each_access_expr(b->a, fn);
    for_each_access_expr(b->b, fn);
  } else if (auto u = e.as<Unary>()) {
    for_each_access_expr(u->a, fn);
  } else if (auto s = e.as<Select>()) {
    for_each_access_expr(s->cond, fn);
    for_each_access_expr(s->then_value, fn);
    for_each_access_expr(s->else_value, fn);
  }
}

enum class Ty { Int, Bool, F32, F64 };
Ty float_ty(DType d) { return d == DType::F32 ? Ty::F32 : Ty::F64; }
bool is_float(Ty t) { return t == Ty::F32 || t == Ty::F64; }
DType ty_dtype(Ty t) { return t == Ty::F64 ? DType::F64 : DType::F32; }

// Emitted expression: text, C precedence of its top operator, whether it is a vector value.
struct E {
  std::string s;
  int prec = 100;
  bool vec = false;
  Ty ty = Ty::Int;
};
std::string wrap(const E& e, int need) { return e.prec < need ? "(" + e.s + ")" : e.s; }
// "-x", with parentheses where x itself starts with a minus sign ("-(-y)", never "--y").
std::string negate(const E& e) {
  std::string x = wrap(e, 90);
  return "-" + (x[0] == '-' ? "(" + x + ")" : x);
}

int c_prec(BinOp op) {
  switch (op) {
    case BinOp::Mul:
    case BinOp::Div:
    case BinOp::Mod:
      return 80;
    case BinOp::Add:
    case BinOp::Sub:
      return 70;
    case BinOp::LT:
    case BinOp::LE:
    case BinOp::GT:
    case BinOp::GE:
      return 60;
    case BinOp::EQ:
    case BinOp::NE:
      return 55;
    case BinOp::And:
      return 40;
    case BinOp::Or:
      return 30;
    default:
      return 100;
  }
}
const char* c_op(BinOp op) {
  switch (op) {
    case BinOp::Add:
      return "+";
    case BinOp::Sub:
      return "-";
    case BinOp::Mul:
      return "*";
    case BinOp::Div:
      return "/";
    case BinOp::Mod:
      return "%";
    case BinOp::LT:
      return "<";
    case BinOp::LE:
      return "<=";
    case BinOp::GT:
      return ">";
    case BinOp::GE:
      return ">=";
    case BinOp::EQ:
      return "==";
    case BinOp::NE:
      return "!=";
    case BinOp::And:
      return "&&";
    case BinOp::Or:
      return "||";
    default:
      return "?";
  }
}

// How a vectorized loop is lowered on the host.
struct VecPlan {
  bool ok = false;
  std::string reason;  // why not, when !ok
  int64_t lanes = 0;   // W: lanes per vector variable
  int64_t chunks = 0;  // extent / W
  DType dtype = DType::F32;
  bool stores_varying = true;  // false: some store is invariant in the loop (reduction)
  bool lane_guards = false;    // guards depend on the lane: full vectors only where all lanes pass
};

// The vector lane context while emitting one chunk of a vectorized loop.
struct VecCtx {
  std::string var;
  int64_t lanes;
  int64_t base;
  std::string vtype;
};

struct BufInfo {
  BufferDecl decl;
  std::string cname;
  bool promoted = false;
  int64_t lanes = 1;  // elements per register when promoted
  std::vector<std::string> regs;
};

enum class Region { Top, Parallel, Team, Thread };

class KernelEmitter {
 public:
  KernelEmitter(const LoweredFunc& f, const Target& t) : f_(f), t_(t), cuda_(t.space == Space::Cuda) {}

  KernelSource run() {
    for (const auto& p : f_.params) decls_[p.name] = p;
    Stmt body = unroll_small(f_.body, &notes_);
    std::vector<const Allocate*> allocs;
    collect_allocates(body, &allocs);
    for (auto a : allocs) decls_[a->buffer.name] = a->buffer;
    check_accesses(body);

    // Entry: typed, restrict-qualified pointers to the kernel arguments.
    for (size_t i = 0; i < f_.params.size(); ++i) {
      const auto& p = f_.params[i];
      BufInfo b;
      b.decl = p;
      b.cname = names_.user(kTensorPrefix, p.name);
      bufs_[p.name] = b;
      std::ostringstream l;
      l << c_type(p.dtype) << "* __restrict__ " << b.cname << " = static_cast<" << c_type(p.dtype)
        << "*>(buffers[" << i << "]);";
      line(l.str(), p.name + ": " + dtype_name(p.dtype) + shape_text(p.shape));
    }
    emit_stmt(body);
    line("Kokkos::fence();");

    std::ostringstream out;
    out << comment("rctune kernel: " + f_.name) << "\n";
    out << "// Generated by rctune codegen for " << (cuda_ ? "Kokkos (CUDA)" : "Kokkos (host)")
        << "; do not edit. Loop nest:\n";
    std::istringstream nest(to_string(f_));
    for (std::string l; std::getline(nest, l);) out << comment("  " + l) << "\n";
    out << "#include <Kokkos_Core.hpp>\n\n#include <cmath>\n#include <cstdint>\n";
    if (use_alloc_ && !cuda_) out << "#include <cstdlib>\n";
    out << "\n";
    out << prologue();
    out << "extern \"C\" void rctune_kernel(void* const* buffers) {\n" << body_.str() << "}\n";
    check_generated_source(out.str(), "kernel " + f_.name);
    return KernelSource{out.str(), "rctune_kernel", true};
  }

 private:
  // ---- output helpers ----
  // One line of code. Names in it come from names_ and user text from comment(): a line break or
  // another control character here is a generator bug.
  void line(const std::string& s) {
    if (s.empty()) {
      body_ << "\n";
      return;
    }
    for (char c : s)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
        throw std::logic_error(
            "internal codegen error: a control or non-ASCII byte in a code line of kernel " + f_.name);
    body_ << std::string(2 * ind_, ' ') << s << "\n";
  }
  // A line of code with a trailing comment.
  void line(const std::string& code, const std::string& note) { line(code + "  " + comment(note)); }
  // A comment line.
  void note(const std::string& text) { line(comment(text)); }
  static std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
  }
  std::string fresh(const std::string& base) { return names_.fresh(base); }
  std::string var_name(const std::string& v) const {
    auto it = vars_.find(v);
    if (it != vars_.end()) return it->second;
    return names_.user(kVarPrefix, v);
  }
  // Binds an IR loop variable to a C name for the duration of its loop.
  std::string bind_var(const std::string& v, int64_t extent) {
    // Variables and buffers have different prefixes, and names_ keeps variables apart.
    std::string n = names_.user(kVarPrefix, v);
    saved_vars_.push_back({v, vars_.count(v) ? std::optional<std::string>(vars_[v]) : std::nullopt,
                           extents_.count(v) ? std::optional<int64_t>(extents_[v]) : std::nullopt});
    vars_[v] = n;
    extents_[v] = extent;
    return n;
  }
  void unbind_var() {
    auto s = saved_vars_.back();
    saved_vars_.pop_back();
    if (s.name)
      vars_[s.var] = *s.name;
    else
      vars_.erase(s.var);
    if (s.extent)
      extents_[s.var] = *s.extent;
    else
      extents_.erase(s.var);
  }
  std::string vtype(DType d, int64_t lanes) {
    vtypes_.insert({d, lanes});
    return "v" + std::to_string(lanes) + (d == DType::F32 ? "f" : "d");
  }
  std::string fn_prefix() const { return cuda_ ? "KOKKOS_INLINE_FUNCTION " : "static inline "; }

  std::string prologue() {
    std::ostringstream o;
    std::string fp = fn_prefix();
    for (const auto& [d, lanes] : vtypes_)
      o << "typedef " << c_type(d) << " v" << lanes << (d == DType::F32 ? "f" : "d")
        << " __attribute__((vector_size(" << lanes * dtype_bytes(d) << ")));\n";
    if (!vtypes_.empty()) o << "\n";
    if (use_vload_)
      o << "// Unaligned vector load/store (compiles to one vmovups).\n"
        << "template <class V, class T>\n"
        << fp << "V rctune_vload(const T* p) {\n  V v;\n"
        << "  __builtin_memcpy(&v, p, sizeof(V));\n  return v;\n}\n";
    if (use_vstore_)
      o << "template <class V, class T>\n"
        << fp << "void rctune_vstore(T* p, V v) {\n"
        << "  __builtin_memcpy(p, &v, sizeof(V));\n}\n";
    if (use_max_) o << "template <class T>\n" << fp << "T rctune_max(T a, T b) { return a > b ? a : b; }\n";
    if (use_min_) o << "template <class T>\n" << fp << "T rctune_min(T a, T b) { return a < b ? a : b; }\n";
    if (use_floordiv_)
      o << fp << "int64_t rctune_floordiv(int64_t a, int64_t b) {\n"
        << "  int64_t q = a / b;\n  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;\n}\n";
    if (use_floormod_)
      o << fp << "int64_t rctune_floormod(int64_t a, int64_t b) {\n"
        << "  int64_t r = a % b;\n  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;\n}\n";
    if (use_gelu_f_)
      o << "// gelu, erf form: 0.5 x (1 + erf(x / sqrt(2))) (the reference uses the same form).\n"
        << fp
        << "float rctune_gelu(float x) { return 0.5f * x * (1.0f + erff(x * 0.707106781186547524f)); }\n";
    if (use_gelu_d_)
      o << "// gelu, erf form: 0.5 x (1 + erf(x / sqrt(2))) (the reference uses the same form).\n"
        << fp << "double rctune_gelu(double x) { return 0.5 * x * (1.0 + erf(x * 0.707106781186547524)); }\n";
    if (use_sigmoid_f_) o << fp << "float rctune_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }\n";
    if (use_sigmoid_d_) o << fp << "double rctune_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }\n";
    for (const auto& [lanes, names] : vmath_uses_)
      o << vector_math_source(vtype(DType::F32, lanes), lanes, names);
    if (use_alloc_) {
      if (cuda_)
        o << "static void* rctune_alloc(size_t bytes) {\n"
          << "  return Kokkos::kokkos_malloc<Kokkos::DefaultExecutionSpace::memory_space>(\"rctune\", "
             "bytes);\n}\n"
          << "static void rctune_free(void* p) { "
             "Kokkos::kokkos_free<Kokkos::DefaultExecutionSpace::memory_space>(p); }\n";
      else
        o << "// 64-byte aligned heap buffers for kernel-private data.\n"
          << "static void* rctune_alloc(size_t bytes) { return std::aligned_alloc(64, (bytes + 63) / 64 * "
             "64); }\n"
          << "static void rctune_free(void* p) { std::free(p); }\n";
    }
    if (use_team_) o << "using rctune_team_policy = Kokkos::TeamPolicy<Kokkos::DefaultExecutionSpace>;\n";
    std::string s = o.str();
    return s.empty() ? s : s + "\n";
  }

  // Every access names a declared buffer with as many indices as it has dimensions.
  void check_access(const std::string& buf, const std::vector<Expr>& idx) const {
    auto it = decls_.find(buf);
    if (it == decls_.end())
      throw std::invalid_argument("codegen: kernel " + f_.name + " accesses buffer '" + buf +
                                  "', which is neither a parameter nor allocated");
    if (it->second.shape.size() != idx.size())
      throw std::invalid_argument("codegen: kernel " + f_.name + " accesses " + buf + " (rank " +
                                  std::to_string(it->second.shape.size()) + ") with " +
                                  std::to_string(idx.size()) + " indices");
  }
  void check_accesses(const Stmt& s) const {
    if (!s) return;
    auto fn = [this](const std::string& b, const std::vector<Expr>& i) { check_access(b, i); };
    switch (s.kind()) {
      case StmtKind::For:
        return check_accesses(s.as<For>()->body);
      case StmtKind::Seq:
        for (const auto& x : s.as<Seq>()->stmts) check_accesses(x);
        return;
      case StmtKind::Store: {
        auto st = s.as<Store>();
        check_access(st->buffer, st->indices);
        for (const auto& i : st->indices) for_each_access_expr(i, fn);
        for_each_access_expr(st->value, fn);
        return;
      }
      case StmtKind::IfThenElse:
        for_each_access_expr(s.as<IfThenElse>()->cond, fn);
        check_accesses(s.as<IfThenElse>()->then_case);
        check_accesses(s.as<IfThenElse>()->else_case);
        return;
      case StmtKind::Allocate:
        return check_accesses(s.as<Allocate>()->body);
    }
  }

  // ---- types ----
  DType buffer_dtype(const std::string& name) const {
    auto it = decls_.find(name);
    if (it == decls_.end())
      throw std::invalid_argument("codegen: access to unknown buffer '" + name + "' in kernel " + f_.name);
    return it->second.dtype;
  }
  Ty type_of(const Expr& e, DType ctx) const {
    switch (e.kind()) {
      case ExprKind::IntImm:
        return Ty::Int;
      case ExprKind::FloatImm:
        return float_ty(ctx);
      case ExprKind::Var:
        return Ty::Int;
      case ExprKind::Load:
        return float_ty(buffer_dtype(e.as<Load>()->buffer));
      case ExprKind::Binary: {
        auto b = e.as<Binary>();
        if (is_boolean_op(b->op)) return Ty::Bool;
        return join(type_of(b->a, ctx), type_of(b->b, ctx));
      }
      case ExprKind::Unary: {
        auto u = e.as<Unary>();
        Ty a = type_of(u->a, ctx);
        if (u->op == UnOp::Neg || u->op == UnOp::Abs) return a == Ty::Bool ? Ty::Int : a;
        return is_float(a) ? a : float_ty(ctx);
      }
      case ExprKind::Select: {
        auto s = e.as<Select>();
        return join(type_of(s->then_value, ctx), type_of(s->else_value, ctx));
      }
    }
    return Ty::Int;
  }
  static Ty join(Ty a, Ty b) {
    if (a == Ty::F64 || b == Ty::F64) return Ty::F64;
    if (a == Ty::F32 || b == Ty::F32) return Ty::F32;
    return Ty::Int;
  }

  // ---- vectorization analysis ----
  const VecPlan& plan_for(const For& f) {
    auto it = plans_.find(&f);
    if (it != plans_.end()) return it->second;
    VecPlan p;
    std::optional<DType> dt;
    std::string reason;
    lane_guards_seen_ = false;
    bool ok = check_vec_stmt(f.body, f.var, &dt, &reason, &p.stores_varying);
    p.lane_guards = lane_guards_seen_;
    p.stores_varying = all_stores_vary(f.body, f.var);
    if (ok && !dt) {
      ok = false;
      reason = "no store varies along the loop";
    }
    if (ok) {
      int64_t native = std::max<int64_t>(1, t_.vector_bytes / dtype_bytes(*dt));
      int64_t w = 1;
      while (w * 2 <= native && f.extent % (w * 2) == 0) w *= 2;
      if (w < 2) {
        ok = false;
        reason = "extent " + std::to_string(f.extent) + " has no power-of-two factor";
      } else {
        p.lanes = w;
        p.chunks = f.extent / w;
        p.dtype = *dt;
      }
    }
    p.ok = ok;
    p.reason = reason;
    return plans_[&f] = p;
  }
  // True when the loop is lowered to GCC vector types.
  bool vector_lowered(const For& f) {
    return !cuda_ && f.for_kind == ForKind::Vectorized && f.bind != BindLevel::Vector && plan_for(f).ok;
  }

  bool set_dtype(std::optional<DType>* dt, DType d, std::string* reason) {
    if (*dt && **dt != d) {
      *reason = "mixed f32/f64 lanes";
      return false;
    }
    *dt = d;
    return true;
  }
  // A varying access must be unit-stride in v.
  bool unit_stride(const std::string& buf, const std::vector<Expr>& idx, const std::string& v,
                   std::string* reason) {
    Affine a = flat_index(idx, decls_.at(buf).shape);
    if (a.coef_of(v) != 1 || a.var_in_atom(v)) {
      *reason = "access to " + buf + " is not unit-stride in " + v;
      return false;
    }
    return true;
  }
  bool check_vec_expr(const Expr& e, const std::string& v, DType ctx, std::optional<DType>* dt,
                      std::string* reason) {
    if (!contains_var(e, v)) return true;
    switch (e.kind()) {
      case ExprKind::Var:
        *reason = "loop variable " + v + " used as a value";
        return false;
      case ExprKind::Load: {
        auto l = e.as<Load>();
        if (decls_.find(l->buffer) == decls_.end()) return false;
        return unit_stride(l->buffer, l->indices, v, reason) &&
               set_dtype(dt, decls_.at(l->buffer).dtype, reason);
      }
      case ExprKind::Binary: {
        auto b = e.as<Binary>();
        bool arith = b->op == BinOp::Add || b->op == BinOp::Sub || b->op == BinOp::Mul ||
                     b->op == BinOp::Div || b->op == BinOp::Max || b->op == BinOp::Min;
        if (!arith || !is_float(type_of(e, ctx))) {
          *reason = std::string("'") + binop_name(b->op) + "' on the vector lanes";
          return false;
        }
        if (type_of(b->a, ctx) == Ty::Int || type_of(b->b, ctx) == Ty::Int) {
          if (contains_var(b->a, v) && type_of(b->a, ctx) == Ty::Int) return false;
          if (contains_var(b->b, v) && type_of(b->b, ctx) == Ty::Int) return false;
        }
        return check_vec_expr(b->a, v, ctx, dt, reason) && check_vec_expr(b->b, v, ctx, dt, reason);
      }
      case ExprKind::Unary: {
        auto u = e.as<Unary>();
        bool math = has_vector_math(u->op);
        if (u->op != UnOp::Neg && u->op != UnOp::Relu && u->op != UnOp::Abs && !math) {
          *reason = std::string(unop_name(u->op)) + " has no vector form here";
          return false;
        }
        // Vector math (rctune_vexp, ...) exists for float32 only; f64 keeps the scalar loop.
        if (math && type_of(e, ctx) != Ty::F32) {
          *reason = std::string(unop_name(u->op)) + " has no f64 vector form here";
          return false;
        }
        if (!is_float(type_of(u->a, ctx))) return false;
        return check_vec_expr(u->a, v, ctx, dt, reason);
      }
      case ExprKind::Select: {
        auto s = e.as<Select>();
        if (contains_var(s->cond, v)) {
          if (!lane_guard_ok(s->cond, v)) {
            *reason = "condition depends on " + v;
            return false;
          }
          lane_guards_seen_ = true;  // padding: full vectors where every lane is in range
        }
        return check_vec_expr(s->then_value, v, ctx, dt, reason) &&
               check_vec_expr(s->else_value, v, ctx, dt, reason);
      }
      default:
        return false;
    }
  }
  bool check_vec_stmt(const Stmt& s, const std::string& v, std::optional<DType>* dt, std::string* reason,
                      bool* stores_varying) {
    if (!s) return true;
    switch (s.kind()) {
      case StmtKind::For:
        *reason = "body contains a loop";
        return false;
      case StmtKind::Allocate:
        *reason = "body allocates a buffer";
        return false;
      case StmtKind::Seq:
        for (const auto& x : s.as<Seq>()->stmts)
          if (!check_vec_stmt(x, v, dt, reason, stores_varying)) return false;
        return true;
      case StmtKind::IfThenElse: {
        auto i = s.as<IfThenElse>();
        if (contains_var(i->cond, v)) {
          if (i->else_case || !lane_guard_ok(i->cond, v)) {
            *reason = "guard depends on " + v;
            return false;
          }
          lane_guards_seen_ = true;
        }
        return check_vec_stmt(i->then_case, v, dt, reason, stores_varying) &&
               check_vec_stmt(i->else_case, v, dt, reason, stores_varying);
      }
      case StmtKind::Store: {
        auto st = s.as<Store>();
        if (decls_.find(st->buffer) == decls_.end()) return false;
        bool varying = false;
        for (const auto& i : st->indices) varying = varying || contains_var(i, v);
        if (!varying) {
          *stores_varying = false;
          *reason = "store to " + st->buffer + " does not vary along " + v + " (a reduction)";
          return false;
        }
        DType d = decls_.at(st->buffer).dtype;
        return unit_stride(st->buffer, st->indices, v, reason) && set_dtype(dt, d, reason) &&
               check_vec_expr(st->value, v, d, dt, reason);
      }
    }
    return false;
  }

  // A lane-dependent guard that peeling can handle: a conjunction of <, <=, >, >= between integer
  // expressions that are affine in v.
  bool lane_guard_ok(const Expr& c, const std::string& v) const {
    if (!contains_var(c, v)) return true;
    auto b = c.as<Binary>();
    if (!b) return false;
    if (b->op == BinOp::And) return lane_guard_ok(b->a, v) && lane_guard_ok(b->b, v);
    if (b->op != BinOp::LT && b->op != BinOp::LE && b->op != BinOp::GT && b->op != BinOp::GE) return false;
    if (type_of(b->a, DType::F32) != Ty::Int || type_of(b->b, DType::F32) != Ty::Int) return false;
    Affine d = to_affine(binary(BinOp::Sub, b->a, b->b));
    return d.coef_of(v) != 0 && !d.var_in_atom(v);
  }
  // The condition that guard c holds for every lane v in [lo, hi]: affine comparisons are monotone
  // in v, so it is enough to test the extreme lane.
  Expr all_lanes(const Expr& c, const std::string& v, int64_t lo, int64_t hi) const {
    if (!contains_var(c, v)) return c;
    auto b = c.as<Binary>();
    if (b->op == BinOp::And)
      return binary(BinOp::And, all_lanes(b->a, v, lo, hi), all_lanes(b->b, v, lo, hi));
    int64_t k = to_affine(binary(BinOp::Sub, b->a, b->b)).coef_of(v);
    bool upper = b->op == BinOp::LT || b->op == BinOp::LE;  // a - b bounded above
    int64_t lane = (upper == (k > 0)) ? hi : lo;
    return substitute(c, {{v, int_imm(lane)}});
  }
  void lane_selects_of(const Expr& e, const std::string& v, std::vector<Expr>* out) const {
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
  void lane_guards_of(const Stmt& s, const std::string& v, std::vector<Expr>* out) const {
    if (!s) return;
    if (auto st = s.as<Store>()) {
      lane_selects_of(st->value, v, out);
    } else if (auto q = s.as<Seq>()) {
      for (const auto& x : q->stmts) lane_guards_of(x, v, out);
    } else if (auto i = s.as<IfThenElse>()) {
      if (contains_var(i->cond, v)) out->push_back(i->cond);
      lane_guards_of(i->then_case, v, out);
      lane_guards_of(i->else_case, v, out);
    }
  }
  // True when no lane v in [base, base + lanes) reaches a store: every store lies under a lane guard
  // that fails for all of them.
  bool no_lane_runs(const Stmt& s, const std::string& v, int64_t base, int64_t lanes) {
    if (!s) return true;
    if (auto q = s.as<Seq>()) {
      for (const auto& x : q->stmts)
        if (!no_lane_runs(x, v, base, lanes)) return false;
      return true;
    }
    if (auto i = s.as<IfThenElse>()) {
      if (contains_var(i->cond, v)) {
        auto ext = extents_;
        ext[v] = lanes;
        auto c = fold_condition(substitute(i->cond, {{v, binary(BinOp::Add, var(v), int_imm(base))}}), ext);
        if (c && !*c) return true;
      }
      return no_lane_runs(i->then_case, v, base, lanes) && no_lane_runs(i->else_case, v, base, lanes);
    }
    return false;
  }
  bool touches_registers(const Stmt& s, const std::string& v) {
    bool any = false;
    auto fn = [&](const std::string& buf, const std::vector<Expr>& idx) {
      auto it = bufs_.find(buf);
      if (it == bufs_.end() || !it->second.promoted) return;
      Affine fa = flat_index(idx, it->second.decl.shape);
      if (fa.coef_of(v) != 0) any = true;
    };
    std::function<void(const Stmt&)> walk = [&](const Stmt& s) {
      if (!s) return;
      if (auto q = s.as<Seq>()) {
        for (const auto& x : q->stmts) walk(x);
      } else if (auto i = s.as<IfThenElse>()) {
        walk(i->then_case);
        walk(i->else_case);
      } else if (auto st = s.as<Store>()) {
        fn(st->buffer, st->indices);
        for_each_access_expr(st->value, fn);
      }
    };
    walk(s);
    return any;
  }
  // Registers of promoted buffers that the vectorized body touches along the lane.
  void lane_registers(const Stmt& s, const std::string& v, int64_t base, std::set<std::string>* regs) {
    auto fn = [&](const std::string& buf, const std::vector<Expr>& idx) {
      auto it = bufs_.find(buf);
      if (it == bufs_.end() || !it->second.promoted) return;
      Affine fa = flat_index(idx, it->second.decl.shape);
      if (fa.coef_of(v) == 0) return;
      const int64_t r = (fa.without(v).constant + base) / it->second.lanes;
      // A lane access outside the promoted registers means the promotion did not account for this
      // access: refuse to generate the kernel rather than read past the register list.
      if (fa.without(v).constant + base < 0 || r >= static_cast<int64_t>(it->second.regs.size()))
        throw std::runtime_error("internal codegen error: vector access to " + buf + " at element " +
                                 std::to_string(fa.without(v).constant + base) + " lies outside its " +
                                 std::to_string(it->second.regs.size()) + " promoted registers");
      regs->insert(it->second.regs[static_cast<size_t>(r)]);
    };
    if (!s) return;
    if (auto q = s.as<Seq>()) {
      for (const auto& x : q->stmts) lane_registers(x, v, base, regs);
    } else if (auto i = s.as<IfThenElse>()) {
      lane_registers(i->then_case, v, base, regs);
      lane_registers(i->else_case, v, base, regs);
    } else if (auto st = s.as<Store>()) {
      fn(st->buffer, st->indices);
      for_each_access_expr(st->value, fn);
    }
  }

  // ---- register promotion of local buffers ----
  // Every access must have a constant flat index, or inside a vector-lowered loop be
  // constant + loop variable with the constant a multiple of the vector width.
  bool promotable(const Allocate& a, int64_t* lanes_out) {
    const std::string& name = a.buffer.name;
    int64_t lanes = 1;
    bool ok = true;
    struct Walker {
      KernelEmitter* self;
      const std::string& name;
      int64_t& lanes;
      bool& ok;
      std::optional<VecCtx> vc;
      void access(const std::string& buf, const std::vector<Expr>& idx) {
        if (buf != name || !ok) return;
        Affine fa = flat_index(idx, self->decls_.at(buf).shape);
        if (vc && fa.coef_of(vc->var) != 0) {
          Affine rest = fa.without(vc->var);
          if (fa.coef_of(vc->var) != 1 || !rest.is_constant() || rest.constant % vc->lanes != 0) {
            ok = false;
            return;
          }
          if (lanes != 1 && lanes != vc->lanes) ok = false;
          lanes = vc->lanes;
          return;
        }
        if (!fa.is_constant()) ok = false;
      }
      void expr(const Expr& e) {
        auto fn = [this](const std::string& b, const std::vector<Expr>& i) { access(b, i); };
        for_each_access_expr(e, fn);
      }
      void stmt(const Stmt& s) {
        if (!s || !ok) return;
        switch (s.kind()) {
          case StmtKind::For: {
            auto f = s.as<For>();
            auto saved = vc;
            if (self->vector_lowered(*f)) vc = VecCtx{f->var, self->plan_for(*f).lanes, 0, ""};
            stmt(f->body);
            vc = saved;
            break;
          }
          case StmtKind::Seq:
            for (const auto& x : s.as<Seq>()->stmts) stmt(x);
            break;
          case StmtKind::Store: {
            auto st = s.as<Store>();
            access(st->buffer, st->indices);
            for (const auto& i : st->indices) expr(i);
            expr(st->value);
            break;
          }
          case StmtKind::IfThenElse:
            expr(s.as<IfThenElse>()->cond);
            stmt(s.as<IfThenElse>()->then_case);
            stmt(s.as<IfThenElse>()->else_case);
            break;
          case StmtKind::Allocate:
            stmt(s.as<Allocate>()->body);
            break;
        }
      }
    };
    Walker w{this, name, lanes, ok, std::nullopt};
    w.stmt(a.body);
    int64_t n = a.buffer.num_elements();
    if (!ok || n % lanes != 0 || n / lanes > kMaxPromotedRegisters) return false;
    *lanes_out = lanes;
    return true;
  }

  // ---- expressions ----
  std::string affine_text(const Affine& a, int* prec_out = nullptr) {
    std::string s;
    int prec = 100;
    int pieces = 0;
    for (const auto& t : a.terms) {
      std::string x;
      int xp = 100;
      if (!t.var.empty()) {
        x = var_name(t.var);
      } else {
        E e = emit(t.expr, DType::F32, nullptr);
        x = e.s;
        xp = e.prec;
      }
      int64_t m = t.coef < 0 ? -t.coef : t.coef;
      std::string term = x;
      int tp = xp;
      if (m != 1) {
        term = (xp < 80 ? "(" + x + ")" : x) + " * " + std::to_string(m);
        tp = 80;
      }
      if (pieces == 0) {
        if (t.coef < 0) {
          term = "-" + (tp < 90 || term[0] == '-' ? "(" + term + ")" : term);
          tp = 90;
        }
        s = term;
        prec = tp;
      } else {
        if (pieces == 1 && prec < 70) s = "(" + s + ")";
        s += (t.coef < 0 ? " - " : " + ") + (tp <= 70 ? "(" + term + ")" : term);
        prec = 70;
      }
      ++pieces;
    }
    if (pieces == 0) {
      s = int_literal(a.constant);
      prec = 100;
    } else if (a.constant != 0) {
      if (pieces == 1 && prec < 70) s = "(" + s + ")";
      s += (a.constant < 0 ? " - " : " + ") + std::to_string(a.constant < 0 ? -a.constant : a.constant);
      prec = 70;
    }
    if (prec_out) *prec_out = prec;
    return s;
  }

  // The register holding flat element e of a promoted buffer.
  std::string reg_ref(const BufInfo& b, int64_t e) {
    RCTUNE_CHECK(e >= 0 && e < b.decl.num_elements());
    if (b.lanes == 1) return b.regs[e];
    return b.regs[e / b.lanes] + "[" + std::to_string(e % b.lanes) + "]";
  }

  // In the scalar remainder of a peeled vector chunk, lane accesses to promoted registers go to a
  // spilled copy of the register: reg_lanes[v - base].
  std::optional<std::string> lane_ref(const BufInfo& b, const Affine& fa) const {
    if (!b.promoted || !lane_ || fa.coef_of(lane_->var) != 1) return std::nullopt;
    Affine rest = fa.without(lane_->var);
    if (!rest.is_constant()) return std::nullopt;
    const std::string& reg = b.regs[(rest.constant + lane_->base) / b.lanes];
    auto spilled = lane_arrays_.find(reg);
    if (spilled == lane_arrays_.end())
      throw std::logic_error("internal codegen error: register " + reg + " has no spilled lanes here");
    std::string idx = var_name(lane_->var);
    if (lane_->base != 0) idx += " - " + std::to_string(lane_->base);
    return spilled->second + "[" + idx + "]";
  }

  E emit_load(const Load& l, const VecCtx* vc) {
    auto it = bufs_.find(l.buffer);
    if (it == bufs_.end())
      throw std::invalid_argument("codegen: load from buffer '" + l.buffer +
                                  "' outside its scope in kernel " + f_.name);
    const BufInfo& b = it->second;
    Ty ty = float_ty(b.decl.dtype);
    Affine fa = flat_index(l.indices, b.decl.shape);
    if (vc && fa.coef_of(vc->var) != 0) {
      Affine off = fa.without(vc->var);
      off.constant += vc->base;
      if (b.promoted) return {b.regs[off.constant / b.lanes], 100, true, ty};
      use_vload_ = true;
      return {"rctune_vload<" + vc->vtype + ">(&" + b.cname + "[" + affine_text(off) + "])", 100, true, ty};
    }
    if (auto r = lane_ref(b, fa)) return {*r, 100, false, ty};
    if (b.promoted) return {reg_ref(b, fa.constant), 100, false, ty};
    return {b.cname + "[" + affine_text(fa) + "]", 100, false, ty};
  }

  // Converts an operand to the float type t (integer literals become float literals).
  std::string as_float(const E& e, const Expr& src, Ty t, int need) {
    if (is_float(e.ty) || e.vec) return wrap(e, need);
    if (auto i = src.as<IntImm>()) return float_literal(static_cast<double>(i->value), ty_dtype(t));
    return std::string("static_cast<") + c_type(ty_dtype(t)) + ">(" + e.s + ")";
  }
  std::string as_vec(const E& e, const VecCtx* vc, const std::string& text) {
    if (e.vec || !vc) return text;
    if (text == "0.0f" || text == "0.0") return vc->vtype + "{}";
    return vc->vtype + "{} + " + (e.prec <= 70 ? "(" + text + ")" : text);
  }

  E emit(const Expr& e, DType ctx, const VecCtx* vc) {
    switch (e.kind()) {
      case ExprKind::IntImm:
        return {int_literal(e.as<IntImm>()->value), 100, false, Ty::Int};
      case ExprKind::FloatImm:
        return {float_literal(e.as<FloatImm>()->value, ctx), 100, false, float_ty(ctx)};
      case ExprKind::Var:
        return {var_name(e.as<Var>()->name), 100, false, Ty::Int};
      case ExprKind::Load:
        return emit_load(*e.as<Load>(), vc);
      case ExprKind::Binary:
        return emit_binary(e, *e.as<Binary>(), ctx, vc);
      case ExprKind::Unary:
        return emit_unary(*e.as<Unary>(), ctx, vc);
      case ExprKind::Select: {
        auto s = e.as<Select>();
        if (auto c = fold_condition(s->cond, extents_))
          return emit(*c ? s->then_value : s->else_value, ctx, vc);
        // Inside a full vector every lane passes a lane-dependent condition (see emit_vector_loop).
        if (vc && contains_var(s->cond, vc->var)) return emit(s->then_value, ctx, vc);
        E c = emit(s->cond, ctx, nullptr);
        E t = emit(s->then_value, ctx, vc), f = emit(s->else_value, ctx, vc);
        Ty ty = join(t.ty, f.ty);
        bool vec = t.vec || f.vec;
        std::string ts = is_float(ty) ? as_float(t, s->then_value, ty, 21) : wrap(t, 21);
        std::string fs = is_float(ty) ? as_float(f, s->else_value, ty, 20) : wrap(f, 20);
        if (vec) {
          ts = as_vec(t, vc, ts);
          fs = as_vec(f, vc, fs);
        }
        return {wrap(c, 21) + " ? " + ts + " : " + fs, 20, vec, ty};
      }
    }
    return {};
  }

  E emit_binary(const Expr& self, const Binary& b, DType ctx, const VecCtx* vc) {
    Ty ty = type_of(self, ctx);
    if (ty == Ty::Int && (b.op == BinOp::Add || b.op == BinOp::Sub || b.op == BinOp::Mul)) {
      int p;
      std::string s = affine_text(to_affine(self), &p);
      return {s, p, false, Ty::Int};
    }
    if (b.op == BinOp::Max || b.op == BinOp::Min) {
      (b.op == BinOp::Max ? use_max_ : use_min_) = true;
      E x = emit(b.a, ctx, vc), y = emit(b.b, ctx, vc);
      bool vec = x.vec || y.vec;
      std::string xs = is_float(ty) ? as_float(x, b.a, ty, 0) : x.s;
      std::string ys = is_float(ty) ? as_float(y, b.b, ty, 0) : y.s;
      std::string t = ty == Ty::Int ? "int64_t" : c_type(ty_dtype(ty));
      if (vec) {
        t = vc->vtype;
        xs = as_vec(x, vc, xs);
        ys = as_vec(y, vc, ys);
      }
      return {std::string(b.op == BinOp::Max ? "rctune_max" : "rctune_min") + "<" + t + ">(" + xs + ", " +
                  ys + ")",
              100, vec, ty};
    }
    if (ty == Ty::Int && (b.op == BinOp::Div || b.op == BinOp::Mod)) {
      E x = emit(b.a, ctx, nullptr), y = emit(b.b, ctx, nullptr);
      auto xi = interval_of(b.a, extents_);
      auto yi = interval_of(b.b, extents_);
      if (xi && yi && xi->lo >= 0 && yi->lo > 0)
        return {wrap(x, 80) + (b.op == BinOp::Div ? " / " : " % ") + wrap(y, 81), 80, false, Ty::Int};
      (b.op == BinOp::Div ? use_floordiv_ : use_floormod_) = true;
      return {
          std::string(b.op == BinOp::Div ? "rctune_floordiv(" : "rctune_floormod(") + x.s + ", " + y.s + ")",
          100, false, Ty::Int};
    }
    int p = c_prec(b.op);
    if (is_boolean_op(b.op)) {
      if (auto c = fold_condition(self, extents_)) return {*c ? "true" : "false", 100, false, Ty::Bool};
      if (b.op == BinOp::And || b.op == BinOp::Or) {
        // A side that the loop ranges decide drops out: (true && x) is x, (false || x) is x.
        auto ca = fold_condition(b.a, extents_), cb = fold_condition(b.b, extents_);
        if (ca) return emit(b.b, ctx, nullptr);
        if (cb) return emit(b.a, ctx, nullptr);
      }
      if (b.op != BinOp::And && b.op != BinOp::Or && type_of(b.a, ctx) == Ty::Int &&
          type_of(b.b, ctx) == Ty::Int) {
        // Index comparisons against a constant keep the constant on the right: p + 1 < 9 -> p < 8.
        Affine x = to_affine(b.a), y = to_affine(b.b);
        if (y.is_constant() && !x.is_constant()) {
          int64_t rhs = y.constant - x.constant;
          x.constant = 0;
          int xp;
          std::string xs = affine_text(x, &xp);
          return {(xp < p ? "(" + xs + ")" : xs) + " " + c_op(b.op) + " " + int_literal(rhs), p, false,
                  Ty::Bool};
        }
      }
      E x = emit(b.a, ctx, nullptr), y = emit(b.b, ctx, nullptr);
      return {wrap(x, p) + " " + c_op(b.op) + " " + wrap(y, p + 1), p, false, Ty::Bool};
    }
    // Float arithmetic (+ - * /).
    E x = emit(b.a, ctx, vc), y = emit(b.b, ctx, vc);
    std::string xs = is_float(ty) ? as_float(x, b.a, ty, p) : wrap(x, p);
    std::string ys = is_float(ty) ? as_float(y, b.b, ty, p + 1) : wrap(y, p + 1);
    return {xs + " " + c_op(b.op) + " " + ys, p, x.vec || y.vec, ty};
  }

  E emit_unary(const Unary& u, DType ctx, const VecCtx* vc) {
    E a = emit(u.a, ctx, vc);
    Ty ty = is_float(a.ty) ? a.ty : (u.op == UnOp::Neg || u.op == UnOp::Abs ? Ty::Int : float_ty(ctx));
    if (u.op == UnOp::Neg) return {negate(a), 90, a.vec, ty};
    DType d = ty_dtype(ty);
    std::string arg = is_float(ty) ? as_float(a, u.a, ty, 0) : a.s;
    std::string suf = math_suffix(d);
    auto call = [&](const std::string& fn) -> E { return {fn + "(" + arg + ")", 100, a.vec, ty}; };
    // A vector operand: the float32 vector math emitted into the prologue (see vmath.h).
    if (a.vec && has_vector_math(u.op)) {
      RCTUNE_CHECK(vc && d == DType::F32);
      std::string name = vector_math_name(u.op);
      vmath_uses_[vc->lanes].insert(u.op == UnOp::Rsqrt ? "sqrt" : name);
      if (u.op == UnOp::Rsqrt) {  // like the scalar form 1 / sqrtf(x)
        return {float_literal(1.0, d) + " / rctune_vsqrt(" + arg + ")", 80, true, ty};
      }
      return call("rctune_v" + name);
    }
    switch (u.op) {
      case UnOp::Relu: {
        use_max_ = true;
        std::string t = a.vec ? vc->vtype : c_type(d);
        std::string zero = a.vec ? vc->vtype + "{}" : float_literal(0.0, d);
        return {"rctune_max<" + t + ">(" + arg + ", " + zero + ")", 100, a.vec, ty};
      }
      case UnOp::Abs:
        if (a.vec) {
          use_max_ = true;
          return {"rctune_max<" + vc->vtype + ">(" + arg + ", " + negate(a) + ")", 100, true, ty};
        }
        if (ty == Ty::Int)
          return {"(" + a.s + " < 0 ? " + negate(a) + " : " + wrap(a, 20) + ")", 100, false, ty};
        return call("fabs" + suf);
      case UnOp::Exp:
        return call("exp" + suf);
      case UnOp::Log:
        return call("log" + suf);
      case UnOp::Sqrt:
        return call("sqrt" + suf);
      case UnOp::Rsqrt:
        return {float_literal(1.0, d) + " / sqrt" + suf + "(" + arg + ")", 80, false, ty};
      case UnOp::Tanh:
        return call("tanh" + suf);
      case UnOp::Erf:
        return call("erf" + suf);
      case UnOp::Gelu:
        (d == DType::F32 ? use_gelu_f_ : use_gelu_d_) = true;
        return call("rctune_gelu");
      case UnOp::Sigmoid:
        (d == DType::F32 ? use_sigmoid_f_ : use_sigmoid_d_) = true;
        return call("rctune_sigmoid");
      case UnOp::Neg:
        break;
    }
    return a;
  }

  // ---- statements ----
  void emit_store(const Store& st, const VecCtx* vc) {
    auto it = bufs_.find(st.buffer);
    if (it == bufs_.end())
      throw std::invalid_argument("codegen: store to buffer '" + st.buffer +
                                  "' outside its scope in kernel " + f_.name);
    const BufInfo& b = it->second;
    Ty ty = float_ty(b.decl.dtype);
    E v = emit(st.value, b.decl.dtype, vc);
    std::string vs = as_float(v, st.value, ty, 0);
    Affine fa = flat_index(st.indices, b.decl.shape);
    if (vc && fa.coef_of(vc->var) != 0) {
      Affine off = fa.without(vc->var);
      off.constant += vc->base;
      vs = as_vec(v, vc, vs);
      if (b.promoted) {
        line(b.regs[off.constant / b.lanes] + " = " + vs + ";");
      } else {
        use_vstore_ = true;
        line("rctune_vstore(&" + b.cname + "[" + affine_text(off) + "], " + vs + ");");
      }
      return;
    }
    std::string target;
    if (auto r = lane_ref(b, fa))
      target = *r;
    else
      target = b.promoted ? reg_ref(b, fa.constant) : b.cname + "[" + affine_text(fa) + "]";
    line(target + " = " + vs + ";");
  }

  void emit_block(const Stmt& s, const VecCtx* vc = nullptr) {
    ++ind_;
    emit_stmt(s, vc);
    --ind_;
  }

  void emit_stmt(const Stmt& s, const VecCtx* vc = nullptr) {
    if (!s) return;
    if (s.kind() != StmtKind::Seq) {
      // Device code cannot allocate heap buffers: those stay on the host, their bodies go to the device.
      bool host_alloc = s.kind() == StmtKind::Allocate && s.as<Allocate>()->buffer.scope != MemScope::Local;
      if (region_ == Region::Top && cuda_ && !has_parallel(s) && !host_alloc) return emit_serial_on_device(s);
      if (region_ == Region::Team && !any_for(s, [](const For& f) { return f.bind == BindLevel::Team; }))
        return emit_team_single(s);
    }
    switch (s.kind()) {
      case StmtKind::Seq: {
        auto note = notes_.find(s.get());
        bool saved = quiet_vector_comments_;
        if (note != notes_.end() && !vc) {
          this->note("unrolled " + note->second.second);
          quiet_vector_comments_ = true;
        }
        for (const auto& x : s.as<Seq>()->stmts) emit_stmt(x, vc);
        quiet_vector_comments_ = saved;
        return;
      }
      case StmtKind::Store:
        return emit_store(*s.as<Store>(), vc);
      case StmtKind::IfThenElse: {
        auto i = s.as<IfThenElse>();
        if (vc && contains_var(i->cond, vc->var)) return emit_stmt(i->then_case, vc);  // all lanes pass
        if (auto c = fold_condition(i->cond, extents_))
          return emit_stmt(*c ? i->then_case : i->else_case, vc);
        line("if (" + emit(i->cond, DType::F32, nullptr).s + ") {");
        emit_block(i->then_case, vc);
        if (i->else_case) {
          line("} else {");
          emit_block(i->else_case, vc);
        }
        line("}");
        return;
      }
      case StmtKind::Allocate:
        return emit_allocate(*s.as<Allocate>(), vc);
      case StmtKind::For:
        return emit_for(*s.as<For>());
    }
  }

  // On a device, serial code at top level still has to run inside a kernel: one iteration.
  void emit_serial_on_device(const Stmt& s) {
    note("serial code, run as a single device iteration");
    line("Kokkos::parallel_for(" + string_literal(f_.name + ":serial") +
         ", Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace, "
         "Kokkos::IndexType<int64_t>>(0, 1), KOKKOS_LAMBDA(const int64_t) {");
    region_ = Region::Parallel;
    emit_block(s);
    region_ = Region::Top;
    line("});");
  }

  // Team-level statements without TeamThreadRange loops run once per team.
  void emit_team_single(const Stmt& s) {
    line("Kokkos::single(Kokkos::PerTeam(" + member_ + "), [&]() {");
    region_ = Region::Thread;
    emit_block(s);
    region_ = Region::Team;
    line("});");
    line(member_ + ".team_barrier();");
  }

  // What a loop is, for a comment: "for i.0 in 0..16 parallel".
  std::string loop_text(const For& f) {
    std::string c = "for " + f.var + " in 0.." + std::to_string(f.extent) + " " + for_kind_name(f.for_kind);
    if (f.bind != BindLevel::None) c += std::string(" bound to ") + bind_level_name(f.bind);
    return c;
  }

  void emit_serial_loop(const For& f, const std::string& pragma, const std::string& what) {
    // Inside a textually unrolled group the group's comment already names the loop.
    bool saved = quiet_vector_comments_;
    quiet_vector_comments_ = false;
    if (!saved || f.for_kind != ForKind::Vectorized) note(what.empty() ? loop_text(f) : what);
    if (!pragma.empty()) line(pragma);
    std::string v = bind_var(f.var, f.extent);
    line("for (int64_t " + v + " = 0; " + v + " < " + std::to_string(f.extent) + "; ++" + v + ") {");
    emit_block(f.body);
    line("}");
    unbind_var();
    quiet_vector_comments_ = saved;
  }

  void emit_for(const For& f) {
    if (region_ == Region::Top &&
        ((f.for_kind == ForKind::Parallel && f.bind == BindLevel::None) || f.bind == BindLevel::League))
      return emit_parallel_region(f);
    if (region_ == Region::Team && f.bind == BindLevel::Team) return emit_team_thread_range(f);
    bool in_team = region_ == Region::Team || region_ == Region::Thread;
    if (in_team && (f.bind == BindLevel::Vector || (cuda_ && f.for_kind == ForKind::Vectorized)))
      return emit_thread_vector_range(f);
    if (f.for_kind == ForKind::Vectorized || f.bind == BindLevel::Vector) {
      if (vector_lowered(f)) return emit_vector_loop(f);
      std::string why = cuda_ ? "no team handle here for ThreadVectorRange" : plan_for(f).reason;
      if (f.bind == BindLevel::Vector && !cuda_) why = "bound to the vector level outside a team";
      bool simd = plan_for(f).stores_varying;
      return emit_serial_loop(f, simd ? "#pragma omp simd" : "",
                              loop_text(f) + ": scalar loop (" + why + ")" +
                                  (simd ? ", vectorization left to the compiler via omp simd" : ""));
    }
    if (f.for_kind == ForKind::Unrolled)
      return emit_serial_loop(f, "#pragma GCC unroll " + std::to_string(std::min<int64_t>(f.extent, 16)), "");
    if (f.for_kind == ForKind::Parallel || f.bind != BindLevel::None)
      return emit_serial_loop(f, "", loop_text(f) + " (inside a parallel region: runs serially)");
    emit_serial_loop(f, "", "");
  }

  void emit_vector_loop(const For& f) {
    const VecPlan& p = plan_for(f);
    std::string vt = vtype(p.dtype, p.lanes);
    if (!quiet_vector_comments_) note(loop_text(f) + ": " + std::to_string(p.chunks) + " x " + vt);
    extents_[f.var] = f.extent;
    std::vector<Expr> guards;
    if (p.lane_guards) lane_guards_of(f.body, f.var, &guards);
    for (int64_t c = 0; c < p.chunks; ++c) {
      VecCtx vc{f.var, p.lanes, c * p.lanes, vt};
      if (p.lane_guards && no_lane_runs(f.body, f.var, vc.base, vc.lanes) && touches_registers(f.body, f.var))
        continue;
      if (guards.empty()) {
        emit_stmt(f.body, &vc);
        continue;
      }
      // Full vector where every lane passes the guards, else the lanes one by one.
      Expr all;
      for (const auto& g : guards) {
        Expr a = all_lanes(g, f.var, vc.base, vc.base + vc.lanes - 1);
        all = all ? binary(BinOp::And, all, a) : a;
      }
      std::optional<bool> folded = fold_condition(all, extents_);
      if (folded && *folded) {
        emit_stmt(f.body, &vc);
        continue;
      }
      if (!folded) {
        line("if (" + emit(all, DType::F32, nullptr).s + ") {");
        emit_block(f.body, &vc);
        line("} else {");
        ++ind_;
      }
      emit_lane_loop(f, vc, vt);
      if (!folded) {
        --ind_;
        line("}");
      }
    }
    extents_.erase(f.var);
  }

  // The scalar lanes [base, base + W) of a vectorized loop, with promoted registers spilled to a
  // small array around them.
  void emit_lane_loop(const For& f, const VecCtx& vc, const std::string& vt) {
    std::set<std::string> regs;
    lane_registers(f.body, f.var, vc.base, &regs);
    const VecPlan& p = plan_for(f);
    note("partial vector: lanes " + std::to_string(vc.base) + ".." + std::to_string(vc.base + vc.lanes - 1) +
         " of " + f.var + " one by one");
    auto saved_arrays = lane_arrays_;
    for (const auto& r : regs) {
      use_vstore_ = true;
      const std::string& a = lane_arrays_[r] = fresh(r + "_lanes");
      line("alignas(64) " + std::string(c_type(p.dtype)) + " " + a + "[" + std::to_string(vc.lanes) + "];");
      line("rctune_vstore(" + a + ", " + r + ");");
    }
    std::string v = bind_var(f.var, f.extent);
    line("for (int64_t " + v + " = " + std::to_string(vc.base) + "; " + v + " < " +
         std::to_string(vc.base + vc.lanes) + "; ++" + v + ") {");
    auto saved = lane_;
    lane_ = LaneCtx{f.var, vc.base};
    emit_block(f.body);
    lane_ = saved;
    line("}");
    unbind_var();
    for (const auto& r : regs) {
      use_vload_ = true;
      line(r + " = rctune_vload<" + vt + ">(" + lane_arrays_.at(r) + ");");
    }
    lane_arrays_ = saved_arrays;
  }

  void emit_thread_vector_range(const For& f) {
    note(loop_text(f));
    std::string v = bind_var(f.var, f.extent);
    line("Kokkos::parallel_for(Kokkos::ThreadVectorRange(" + member_ + ", int64_t(" +
         std::to_string(f.extent) + ")), [&](const int64_t " + v + ") {");
    Region saved = region_;
    region_ = Region::Thread;
    emit_block(f.body);
    region_ = saved;
    line("});");
    unbind_var();
  }

  // Decomposes a flat index over loops (outermost first) into the loop variables.
  void decompose(const std::string& flat, const std::vector<const For*>& loops) {
    int64_t inner = 1;
    std::vector<int64_t> strides(loops.size());
    for (size_t k = loops.size(); k-- > 0;) {
      strides[k] = inner;
      inner *= loops[k]->extent;
    }
    for (size_t k = 0; k < loops.size(); ++k) {
      std::string v = bind_var(loops[k]->var, loops[k]->extent);
      std::string e = flat;
      if (strides[k] != 1) e = "(" + e + " / " + std::to_string(strides[k]) + ")";
      if (k != 0) e += " % " + std::to_string(loops[k]->extent);
      line("const int64_t " + v + " = " + e + ";", loop_text(*loops[k]));
    }
  }

  void emit_team_thread_range(const For& f) {
    std::vector<const For*> loops{&f};
    while (auto in = loops.back()->body.as<For>()) {
      if (in->bind != BindLevel::Team) break;
      loops.push_back(in);
    }
    int64_t n = 1;
    for (auto l : loops) n *= l->extent;
    std::string flat = loops.size() == 1 ? bind_var(f.var, f.extent) : fresh("rctune_t");
    if (loops.size() == 1) note(loop_text(f));
    line("Kokkos::parallel_for(Kokkos::TeamThreadRange(" + member_ + ", int64_t(" + std::to_string(n) +
         ")), [&](const int64_t " + flat + ") {");
    ++ind_;
    if (loops.size() > 1) decompose(flat, loops);
    region_ = Region::Thread;
    emit_stmt(loops.back()->body);
    region_ = Region::Team;
    --ind_;
    line("});");
    line(member_ + ".team_barrier();");
    for (size_t k = 0; k < loops.size(); ++k) unbind_var();
  }

  // Buffers that live on the heap (allocated outside the parallel region, one slot per thread).
  bool heap_buffer(const BufferDecl& b, bool team_region) const {
    if (b.scope == MemScope::Heap || b.scope == MemScope::Global) return true;
    if (b.scope == MemScope::Shared) return !team_region;
    return b.num_elements() * dtype_bytes(b.dtype) > kStackLimitBytes;
  }

  void emit_parallel_region(const For& f) {
    std::vector<const For*> loops{&f};
    bool team = f.bind == BindLevel::League;
    if (team) {
      while (auto in = loops.back()->body.as<For>()) {
        if (in->bind != BindLevel::League) break;
        loops.push_back(in);
      }
    } else {
      while (auto in = loops.back()->body.as<For>()) {
        if (in->for_kind != ForKind::Parallel || in->bind != BindLevel::None || loops.size() >= kMaxMDRank)
          break;
        loops.push_back(in);
      }
    }
    const Stmt& body = loops.back()->body;
    // On a device, vectorized loops need a team handle (ThreadVectorRange): use a TeamPolicy.
    if (!team && cuda_ && any_for(body, [](const For& x) { return x.for_kind == ForKind::Vectorized; }))
      team = true;
    if (team) use_team_ = true;

    std::string what;
    for (auto l : loops) what += (what.empty() ? "" : ", ") + l->var + " (" + std::to_string(l->extent) + ")";
    std::string policy_name = team ? "TeamPolicy" : loops.size() == 1 ? "RangePolicy" : "MDRangePolicy";
    note("parallel over " + what + ": " + policy_name);
    line("{");
    ++ind_;

    // Heap buffers used inside: one slot per concurrent thread, allocated once per call.
    std::vector<const Allocate*> allocs;
    collect_allocates(body, &allocs);
    std::vector<std::string> pools;
    std::map<std::string, int64_t> shared_off;
    int64_t shared_bytes = 0;
    for (auto a : allocs) {
      const BufferDecl& b = a->buffer;
      if (heap_buffer(b, team)) {
        use_alloc_ = true;
        const std::string& cn = names_.user(kTensorPrefix, b.name);
        const std::string token = fresh(cn + "_token"), pool = fresh(cn + "_pool");
        int64_t slot = (b.num_elements() + 15) / 16 * 16;
        line("Kokkos::Experimental::UniqueToken<Kokkos::DefaultExecutionSpace> " + token + ";");
        line(std::string(c_type(b.dtype)) + "* " + pool + " = static_cast<" + c_type(b.dtype) +
                 "*>(rctune_alloc(sizeof(" + c_type(b.dtype) + ") * " + std::to_string(slot) + " * " + token +
                 ".size()));",
             b.name + ": " + std::to_string(slot) + " elements per thread");
        pools.push_back(pool);
        pool_slot_[b.name] = slot;
        pool_names_[b.name] = {token, pool};
      } else if (b.scope == MemScope::Shared) {
        shared_off[b.name] = shared_bytes;
        shared_bytes += (b.num_elements() * dtype_bytes(b.dtype) + 63) / 64 * 64;
      }
    }

    std::string label = string_literal(f_.name + ":" + f.var);
    if (team) {
      int64_t league = 1;
      for (auto l : loops) league *= l->extent;
      std::string pol = "rctune_team_policy(" + std::to_string(league) + ", " +
                        (cuda_ && f.bind != BindLevel::League ? "1" : "Kokkos::AUTO") + ")";
      int level = cuda_ && shared_bytes > 48 * 1024 ? 1 : 0;
      if (shared_bytes > 0)
        pol += ".set_scratch_size(" + std::to_string(level) + ", Kokkos::PerTeam(" +
               std::to_string(shared_bytes + 64) + "))";
      std::string saved_member = member_;
      member_ = "team";
      line("Kokkos::parallel_for(" + label + ", " + pol +
           ", KOKKOS_LAMBDA(const rctune_team_policy::member_type& " + member_ + ") {");
      ++ind_;
      decompose(member_ + ".league_rank()", loops);
      if (shared_bytes > 0) {
        note("team scratch: " + std::to_string(shared_bytes) + " bytes");
        line("char* rctune_shared = static_cast<char*>(" + member_ + ".team_scratch(" +
             std::to_string(level) + ").get_shmem_aligned(" + std::to_string(shared_bytes) + ", 64));");
      }
      auto saved_off = shared_off_;
      shared_off_ = shared_off;
      // A league nest whose body holds no team-level loop runs with one thread per team.
      bool has_team_loops = any_for(body, [](const For& x) { return x.bind == BindLevel::Team; });
      region_ = has_team_loops ? Region::Team : Region::Thread;
      emit_stmt(body);
      region_ = Region::Top;
      shared_off_ = saved_off;
      --ind_;
      line("});");
      for (size_t k = 0; k < loops.size(); ++k) unbind_var();
      member_ = saved_member;
    } else if (loops.size() == 1) {
      std::string v = bind_var(f.var, f.extent);
      line("Kokkos::parallel_for(" + label +
           ", Kokkos::RangePolicy<Kokkos::DefaultExecutionSpace, Kokkos::IndexType<int64_t>>(0, " +
           std::to_string(f.extent) + "), KOKKOS_LAMBDA(const int64_t " + v + ") {");
      region_ = Region::Parallel;
      emit_block(body);
      region_ = Region::Top;
      line("});");
      unbind_var();
    } else {
      std::string lo, hi, params;
      for (auto l : loops) {
        std::string v = bind_var(l->var, l->extent);
        lo += std::string(lo.empty() ? "" : ", ") + "0";
        hi += std::string(hi.empty() ? "" : ", ") + std::to_string(l->extent);
        params += std::string(params.empty() ? "" : ", ") + "const int64_t " + v;
      }
      line("Kokkos::parallel_for(" + label +
           ", Kokkos::MDRangePolicy<Kokkos::DefaultExecutionSpace, Kokkos::Rank<" +
           std::to_string(loops.size()) + ">, Kokkos::IndexType<int64_t>>({" + lo + "}, {" + hi +
           "}), KOKKOS_LAMBDA(" + params + ") {");
      region_ = Region::Parallel;
      emit_block(body);
      region_ = Region::Top;
      line("});");
      for (size_t k = 0; k < loops.size(); ++k) unbind_var();
    }
    if (cuda_ && !pools.empty()) line("Kokkos::fence();  // the kernel may still run: wait before freeing");
    for (const auto& p : pools) line("rctune_free(" + p + ");");
    for (auto a : allocs) {
      pool_slot_.erase(a->buffer.name);
      pool_names_.erase(a->buffer.name);
    }
    --ind_;
    line("}");
  }

  void emit_allocate(const Allocate& a, const VecCtx* vc) {
    const BufferDecl& d = a.buffer;
    BufInfo b;
    b.decl = d;
    b.cname = names_.user(kTensorPrefix, d.name);
    std::string ct = c_type(d.dtype);
    int64_t n = d.num_elements();
    std::string desc =
        d.name + ": " + dtype_name(d.dtype) + shape_text(d.shape) + " " + mem_scope_name(d.scope);
    line("{");
    ++ind_;
    std::vector<std::string> epilogue;
    bool in_region = region_ != Region::Top;
    if (d.scope == MemScope::Shared && shared_off_.count(d.name)) {
      line(ct + "* __restrict__ " + b.cname + " = reinterpret_cast<" + ct + "*>(rctune_shared + " +
               std::to_string(shared_off_.at(d.name)) + ");",
           desc + " (team scratch)");
    } else if (heap_buffer(d, false) && in_region && pool_slot_.count(d.name)) {
      const auto& [token, pool] = pool_names_.at(d.name);
      std::string slot = fresh(b.cname + "_slot");
      line("const int " + slot + " = " + token + ".acquire();");
      line(ct + "* __restrict__ " + b.cname + " = " + pool + " + " + slot + " * " +
               std::to_string(pool_slot_.at(d.name)) + ";",
           desc + " (this thread's slot)");
      epilogue.push_back(token + ".release(" + slot + ");");
    } else if (heap_buffer(d, false) || d.scope == MemScope::Shared || (!in_region && has_parallel(a.body))) {
      // A buffer declared outside a parallel region but written inside it must be reached through a
      // pointer: a Kokkos lambda captures arrays and registers by value, as constants.
      use_alloc_ = true;
      line(ct + "* __restrict__ " + b.cname + " = static_cast<" + ct + "*>(rctune_alloc(sizeof(" + ct +
               ") * " + std::to_string(n) + "));",
           desc);
      if (cuda_) epilogue.push_back("Kokkos::fence();  // kernels using " + b.cname + " may still run");
      epilogue.push_back("rctune_free(" + b.cname + ");");
    } else {
      int64_t lanes = 1;
      if (promotable(a, &lanes)) {
        b.promoted = true;
        b.lanes = lanes;
        int64_t nregs = n / lanes;
        std::string t = lanes == 1 ? ct : vtype(d.dtype, lanes);
        int64_t last = d.shape.empty() ? 1 : d.shape.back();
        bool named_by_index = lanes == 1 || last % lanes == 0;
        int64_t per_line = named_by_index && !d.shape.empty() ? std::max<int64_t>(1, last / lanes) : 8;
        note(desc + ": " + std::to_string(nregs) + " register" + (nregs > 1 ? "s" : "") + " of " + t);
        std::string cur;
        for (int64_t r = 0; r < nregs; ++r) {
          std::string name = b.cname;
          if (named_by_index) {
            int64_t e = r * lanes;
            std::vector<int64_t> idx(d.shape.size());
            for (size_t k = d.shape.size(); k-- > 0;) {
              idx[k] = e % d.shape[k];
              e /= d.shape[k];
            }
            if (!idx.empty()) idx.back() /= lanes;
            for (auto i : idx) name += "_" + std::to_string(i);
          } else {
            name += "_r" + std::to_string(r);
          }
          name = fresh(name);
          b.regs.push_back(name);
          cur += (cur.empty() ? t + " " : ", ") + name + " = {}";
          if ((r + 1) % per_line == 0 || r + 1 == nregs) {
            line(cur + ";");
            cur.clear();
          }
        }
      } else {
        line("alignas(64) " + ct + " " + b.cname + "[" + std::to_string(n) + "];", desc);
      }
    }
    bufs_[d.name] = b;
    emit_stmt(a.body, vc);
    bufs_.erase(d.name);
    for (const auto& e : epilogue) line(e);
    --ind_;
    line("}");
  }

  struct SavedVar {
    std::string var;
    std::optional<std::string> name;
    std::optional<int64_t> extent;
  };

  const LoweredFunc& f_;
  Target t_;
  bool cuda_;
  std::ostringstream body_;
  int ind_ = 1;
  std::map<std::string, BufferDecl> decls_;
  std::map<std::string, BufInfo> bufs_;
  std::map<std::string, std::string> vars_;
  std::map<std::string, int64_t> extents_;
  std::vector<SavedVar> saved_vars_;
  // Every C name of the kernel that is not the generator's own (docs/codegen.md, "Names").
  mutable NameTable names_;
  // The spilled copy of each promoted register inside the scalar lanes of a peeled vector chunk.
  std::map<std::string, std::string> lane_arrays_;
  std::map<std::string, std::pair<std::string, std::string>> pool_names_;  // buffer -> token, pool
  std::set<std::pair<DType, int64_t>> vtypes_;
  std::map<const For*, VecPlan> plans_;
  UnrollNotes notes_;
  bool lane_guards_seen_ = false;
  struct LaneCtx {
    std::string var;
    int64_t base;
  };
  std::optional<LaneCtx> lane_;
  bool quiet_vector_comments_ = false;
  std::map<std::string, int64_t> pool_slot_;
  std::map<std::string, int64_t> shared_off_;
  Region region_ = Region::Top;
  std::string member_;
  bool use_max_ = false, use_min_ = false, use_floordiv_ = false, use_floormod_ = false;
  bool use_gelu_f_ = false, use_gelu_d_ = false, use_sigmoid_f_ = false, use_sigmoid_d_ = false;
  std::map<int64_t, std::set<std::string>> vmath_uses_;  // f32 vector math per lane count
  bool use_vload_ = false, use_vstore_ = false, use_alloc_ = false, use_team_ = false;
};

}  // namespace

KernelSource generate_kernel(const ir::LoweredFunc& f, const Target& target) {
  if (!f.body) throw std::invalid_argument("codegen: kernel '" + f.name + "' has an empty body");
  if (target.vector_bytes <= 0 || (target.vector_bytes & (target.vector_bytes - 1)) != 0)
    throw std::invalid_argument("codegen: Target::vector_bytes must be a positive power of two, got " +
                                std::to_string(target.vector_bytes));
  KernelEmitter e(f, target);
  return e.run();
}

}  // namespace rctune::codegen
