// generate_reference: the correctness oracle. Every stage is evaluated straight from its definition,
// serially, in double precision, with zero padding for reads outside a tensor.
#include <set>
#include <sstream>
#include <stdexcept>

#include "common.h"
#include "rctune/codegen/kokkos.h"

namespace rctune::codegen {
namespace {

using namespace rctune::ir;
using namespace rctune::codegen::detail;

struct RefExpr {
  std::string s;
  bool is_float;
};

class ReferenceEmitter {
 public:
  explicit ReferenceEmitter(const Workload& w) : w_(w) {}

  KernelSource run() {
    std::ostringstream body;
    for (size_t i = 0; i < w_.tensors.size(); ++i) {
      const auto& t = w_.tensors[i];
      body << "  double* " << tensor_name(t.name) << " = buffers[" << i << "];  "
           << comment(t.name + ": " + dtype_name(t.dtype) + shape_text(t.shape)) << "\n";
    }
    for (const auto& st : w_.stages) emit_stage(st, body);

    std::ostringstream out;
    out << comment("rctune reference kernel: " + w_.name) << "\n"
        << "// Plain serial C++, double precision, every stage evaluated from its definition;\n"
        << "// reads outside a tensor are zero (padding). Workload:\n";
    std::istringstream listing(to_string(w_));
    for (std::string l; std::getline(listing, l);) out << comment("  " + l) << "\n";
    out << "#include <cmath>\n#include <cstdint>\n\n";
    out << "static inline int64_t rctune_floordiv(int64_t a, int64_t b) {\n"
        << "  int64_t q = a / b;\n  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;\n}\n"
        << "static inline int64_t rctune_floormod(int64_t a, int64_t b) { return a - rctune_floordiv(a, b) * "
           "b; }\n"
        << "static inline double rctune_max(double a, double b) { return a > b ? a : b; }\n"
        << "static inline double rctune_min(double a, double b) { return a < b ? a : b; }\n"
        << "static inline int64_t rctune_imax(int64_t a, int64_t b) { return a > b ? a : b; }\n"
        << "static inline int64_t rctune_imin(int64_t a, int64_t b) { return a < b ? a : b; }\n"
        << "// gelu, erf form: 0.5 x (1 + erf(x / sqrt(2))).\n"
        << "static inline double rctune_gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / "
           "std::sqrt(2.0))); }\n"
        << "static inline double rctune_sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }\n";
    // One bounds-checked reader per tensor: zero outside the shape.
    for (const auto& t : w_.tensors) {
      std::string n = tensor_name(t.name);
      out << "static inline double rctune_read_" << n << "(const double* p";
      for (size_t d = 0; d < t.shape.size(); ++d) out << ", int64_t i" << d;
      out << ") {\n";
      if (!t.shape.empty()) {
        out << "  if (";
        for (size_t d = 0; d < t.shape.size(); ++d)
          out << (d ? " || " : "") << "i" << d << " < 0 || i" << d << " >= " << t.shape[d];
        out << ") return 0.0;\n";
      }
      out << "  return p[";
      std::string idx;
      int64_t stride = 1;
      for (size_t d = t.shape.size(); d-- > 0;) {
        std::string term = "i" + std::to_string(d) + (stride == 1 ? "" : " * " + std::to_string(stride));
        idx = idx.empty() ? term : term + " + " + idx;
        stride *= t.shape[d];
      }
      out << (idx.empty() ? "0" : idx) << "];\n}\n";
    }
    out << "\nextern \"C\" void rctune_reference(double* const* buffers) {\n" << body.str() << "}\n";
    check_generated_source(out.str(), "the reference of " + w_.name);
    return KernelSource{out.str(), "rctune_reference", false};
  }

 private:
  static std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
  }

  // User names get prefixes that the generator's own names (rctune_*, buffers, p, i0, ...) never
  // have; names_ keeps them apart from each other (docs/codegen.md, "Names").
  const std::string& tensor_name(const std::string& t) { return names_.user(kTensorPrefix, t); }
  const std::string& axis_name(const std::string& v) { return names_.user(kVarPrefix, v); }

  RefExpr emit(const Expr& e) {
    switch (e.kind()) {
      case ExprKind::IntImm:
        return {"int64_t(" + std::to_string(e.as<IntImm>()->value) + ")", false};
      case ExprKind::FloatImm:
        return {float_literal(e.as<FloatImm>()->value, DType::F64), true};
      case ExprKind::Var:
        return {axis_name(e.as<Var>()->name), false};
      case ExprKind::Load: {
        auto l = e.as<Load>();
        const Tensor* t = w_.find_tensor(l->buffer);
        if (!t)
          throw std::invalid_argument("codegen: reference of '" + w_.name + "' reads unknown tensor " +
                                      l->buffer);
        if (t->shape.size() != l->indices.size())
          throw std::invalid_argument("codegen: reference of '" + w_.name + "': " + l->buffer + " has " +
                                      std::to_string(t->shape.size()) + " dimensions, read with " +
                                      std::to_string(l->indices.size()) + " indices");
        std::string s = "rctune_read_" + tensor_name(t->name) + "(" + tensor_name(t->name);
        for (const auto& i : l->indices) s += ", " + emit(i).s;
        return {s + ")", true};
      }
      case ExprKind::Binary: {
        auto b = e.as<Binary>();
        RefExpr x = emit(b->a), y = emit(b->b);
        bool f = x.is_float || y.is_float;
        auto dbl = [](const RefExpr& r) { return r.is_float ? r.s : "double(" + r.s + ")"; };
        auto call = [](const std::string& fn, const std::string& l, const std::string& r) {
          return fn + "(" + l + ", " + r + ")";
        };
        // Division, modulo, max and min: of doubles when an operand is one, else the integer helpers.
        const std::string p = f ? dbl(x) : x.s, q = f ? dbl(y) : y.s;
        switch (b->op) {
          case BinOp::Div:
            return {f ? "(" + p + " / " + q + ")" : call("rctune_floordiv", p, q), f};
          case BinOp::Mod:
            return {call(f ? "std::fmod" : "rctune_floormod", p, q), f};
          case BinOp::Max:
          case BinOp::Min:  // rctune_max, rctune_min; rctune_imax, rctune_imin
            return {call(std::string(f ? "rctune_" : "rctune_i") + binop_name(b->op), p, q), f};
          default:
            break;
        }
        // + - * keep the operands' type; comparisons and logical operators give 0 or 1.
        return {"(" + x.s + " " + binop_name(b->op) + " " + y.s + ")", f && !is_boolean_op(b->op)};
      }
      case ExprKind::Unary: {
        auto u = e.as<Unary>();
        RefExpr a = emit(u->a);
        std::string d = a.is_float ? a.s : "double(" + a.s + ")";
        switch (u->op) {
          case UnOp::Neg:
            return {"(-" + a.s + ")", a.is_float};
          case UnOp::Rsqrt:
            return {"(1.0 / std::sqrt(" + d + "))", true};
          case UnOp::Relu:
            return {"rctune_max(" + d + ", 0.0)", true};
          case UnOp::Abs:
            return {"std::fabs(" + d + ")", true};
          case UnOp::Exp:
          case UnOp::Log:
          case UnOp::Sqrt:
          case UnOp::Tanh:
          case UnOp::Erf:  // <cmath> calls them by their IR names
            return {"std::" + std::string(unop_name(u->op)) + "(" + d + ")", true};
          case UnOp::Gelu:
          case UnOp::Sigmoid:  // the reference's own helpers
            return {"rctune_" + std::string(unop_name(u->op)) + "(" + d + ")", true};
        }
        break;
      }
      case ExprKind::Select: {
        auto s = e.as<Select>();
        RefExpr c = emit(s->cond), t = emit(s->then_value), f = emit(s->else_value);
        bool fl = t.is_float || f.is_float;
        auto conv = [&](const RefExpr& r) { return fl && !r.is_float ? "double(" + r.s + ")" : r.s; };
        return {"(" + c.s + " ? " + conv(t) + " : " + conv(f) + ")", fl};
      }
    }
    return {"0", false};
  }

  void emit_stage(const Stage& st, std::ostringstream& o) {
    const Tensor* out = w_.find_tensor(st.output);
    if (!out)
      throw std::invalid_argument("codegen: reference of '" + w_.name + "': stage writes unknown tensor " +
                                  st.output);
    if (out->shape.size() != st.axes.size())
      throw std::invalid_argument("codegen: reference of '" + w_.name + "': stage " + st.output + " has " +
                                  std::to_string(st.axes.size()) + " axes for a " +
                                  std::to_string(out->shape.size()) + "-dimensional tensor");
    std::string text = st.output + "[";
    for (size_t i = 0; i < st.axes.size(); ++i) text += (i ? ", " : "") + st.axes[i].name;
    text += std::string("] ") + reduce_op_token(st.op) + " " + to_string(st.body);
    o << "\n  " << comment(text) << "\n";
    std::string ind = "  ";
    auto open = [&](const IndexVar& v) {
      const std::string& n = axis_name(v.name);
      o << ind << "for (int64_t " << n << " = 0; " << n << " < " << v.extent << "; ++" << n << ") {\n";
      ind += "  ";
    };
    auto close = [&]() {
      ind.resize(ind.size() - 2);
      o << ind << "}\n";
    };
    for (const auto& a : st.axes) open(a);
    std::string target = tensor_name(out->name) + "[";
    {
      std::string idx;
      int64_t stride = 1;
      for (size_t d = st.axes.size(); d-- > 0;) {
        std::string term = axis_name(st.axes[d].name) + (stride == 1 ? "" : " * " + std::to_string(stride));
        idx = idx.empty() ? term : term + " + " + idx;
        stride *= out->shape[d];
      }
      target += (idx.empty() ? "0" : idx) + "]";
    }
    RefExpr v = emit(st.body);
    std::string val = v.is_float ? v.s : "double(" + v.s + ")";
    if (st.op == ReduceOp::None) {
      o << ind << target << " = " << val << ";\n";
    } else {
      o << ind << "double rctune_acc = " << float_literal(st.init_value(), DType::F64) << ";\n";
      for (const auto& r : st.reduce_axes) open(r);
      switch (st.op) {
        case ReduceOp::Sum:
          o << ind << "rctune_acc = rctune_acc + " << val << ";\n";
          break;
        case ReduceOp::Max:
          o << ind << "rctune_acc = rctune_max(rctune_acc, " << val << ");\n";
          break;
        case ReduceOp::Min:
          o << ind << "rctune_acc = rctune_min(rctune_acc, " << val << ");\n";
          break;
        case ReduceOp::None:
          break;
      }
      for (size_t i = 0; i < st.reduce_axes.size(); ++i) close();
      o << ind << target << " = rctune_acc;\n";
    }
    for (size_t i = 0; i < st.axes.size(); ++i) close();
  }

  const Workload& w_;
  NameTable names_;
};

}  // namespace

KernelSource generate_reference(const ir::Workload& w) {
  std::string err = w.validate();
  if (!err.empty()) throw std::invalid_argument("codegen: workload '" + w.name + "' is invalid: " + err);
  ReferenceEmitter e(w);
  return e.run();
}

}  // namespace rctune::codegen
