#include "rctune/ir/interpreter.h"

#include "rctune/ir/analysis.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace rctune::ir {

namespace {

struct Value {
  double v = 0;
  bool is_int = false;
};

struct BufferRef {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<double>* data = nullptr;
};

class Machine {
 public:
  // pad: reads outside a buffer give 0 instead of an error (workload semantics).
  explicit Machine(bool pad) : pad_(pad) {}

  std::vector<std::pair<std::string, int64_t>> vars;
  std::vector<BufferRef> buffers;

  Value eval(const Expr& e) {
    switch (e.kind()) {
      case ExprKind::IntImm:
        return {static_cast<double>(e.as<IntImm>()->value), true};
      case ExprKind::FloatImm:
        return {e.as<FloatImm>()->value, false};
      case ExprKind::Var:
        return {static_cast<double>(lookup_var(e.as<Var>()->name)), true};
      case ExprKind::Load: {
        auto n = e.as<Load>();
        BufferRef& b = lookup_buffer(n->buffer);
        int64_t off = 0;
        if (!offset(b, n->indices, &off)) {
          if (pad_) return {0.0, false};
          throw InterpreterError("read of " + n->buffer + access_text(n->indices) + " outside its shape");
        }
        return {(*b.data)[static_cast<size_t>(off)], false};
      }
      case ExprKind::Unary: {
        auto n = e.as<Unary>();
        Value a = eval(n->a);
        if (a.is_int && n->op == UnOp::Neg) return {-a.v, true};
        if (a.is_int && n->op == UnOp::Abs) return {std::fabs(a.v), true};
        return {apply_unary(n->op, a.v), false};
      }
      case ExprKind::Select: {
        auto n = e.as<Select>();
        return eval(n->cond).v != 0 ? eval(n->then_value) : eval(n->else_value);
      }
      case ExprKind::Binary:
        break;
    }
    auto n = e.as<Binary>();
    if (n->op == BinOp::And) return {eval(n->a).v != 0 && eval(n->b).v != 0 ? 1.0 : 0.0, true};
    if (n->op == BinOp::Or) return {eval(n->a).v != 0 || eval(n->b).v != 0 ? 1.0 : 0.0, true};
    Value a = eval(n->a), b = eval(n->b);
    bool ints = a.is_int && b.is_int;
    switch (n->op) {
      case BinOp::Add:
        return {a.v + b.v, ints};
      case BinOp::Sub:
        return {a.v - b.v, ints};
      case BinOp::Mul:
        return {a.v * b.v, ints};
      case BinOp::Div:
        if (ints) {
          if (b.v == 0) throw InterpreterError("integer division by zero in " + to_string(e));
          return {static_cast<double>(floor_div(static_cast<int64_t>(a.v), static_cast<int64_t>(b.v))), true};
        }
        return {a.v / b.v, false};
      case BinOp::Mod:
        if (ints) {
          if (b.v == 0) throw InterpreterError("integer modulo by zero in " + to_string(e));
          int64_t x = static_cast<int64_t>(a.v), y = static_cast<int64_t>(b.v);
          return {static_cast<double>(x - floor_div(x, y) * y), true};
        }
        return {a.v - std::floor(a.v / b.v) * b.v, false};
      case BinOp::Max:
        return {std::max(a.v, b.v), ints};
      case BinOp::Min:
        return {std::min(a.v, b.v), ints};
      case BinOp::LT:
        return {a.v < b.v ? 1.0 : 0.0, true};
      case BinOp::LE:
        return {a.v <= b.v ? 1.0 : 0.0, true};
      case BinOp::GT:
        return {a.v > b.v ? 1.0 : 0.0, true};
      case BinOp::GE:
        return {a.v >= b.v ? 1.0 : 0.0, true};
      case BinOp::EQ:
        return {a.v == b.v ? 1.0 : 0.0, true};
      case BinOp::NE:
        return {a.v != b.v ? 1.0 : 0.0, true};
      case BinOp::And:
      case BinOp::Or:
        break;
    }
    throw InterpreterError("cannot evaluate " + to_string(e));
  }

  int64_t eval_index(const Expr& e) {
    Value v = eval(e);
    if (!v.is_int) throw InterpreterError("index " + to_string(e) + " is not an integer expression");
    return static_cast<int64_t>(v.v);
  }

  void exec(const Stmt& s) {
    if (!s) return;
    switch (s.kind()) {
      case StmtKind::For: {
        auto f = s.as<For>();
        vars.emplace_back(f->var, 0);
        size_t slot = vars.size() - 1;
        for (int64_t i = 0; i < f->extent; ++i) {
          vars[slot].second = i;
          exec(f->body);
        }
        vars.pop_back();
        return;
      }
      case StmtKind::Seq:
        for (const auto& x : s.as<Seq>()->stmts) exec(x);
        return;
      case StmtKind::Store: {
        auto st = s.as<Store>();
        BufferRef& b = lookup_buffer(st->buffer);
        int64_t off = 0;
        if (!offset(b, st->indices, &off))
          throw InterpreterError("write of " + st->buffer + access_text(st->indices) + " outside its shape");
        double v = eval(st->value).v;
        (*lookup_buffer(st->buffer).data)[static_cast<size_t>(off)] = v;
        return;
      }
      case StmtKind::IfThenElse: {
        auto i = s.as<IfThenElse>();
        if (eval(i->cond).v != 0) {
          exec(i->then_case);
        } else {
          exec(i->else_case);
        }
        return;
      }
      case StmtKind::Allocate: {
        auto a = s.as<Allocate>();
        for (auto d : a->buffer.shape)
          if (d <= 0)
            throw InterpreterError("allocation of " + a->buffer.name + " with a non-positive extent");
        std::vector<double> data(static_cast<size_t>(a->buffer.num_elements()),
                                 std::numeric_limits<double>::quiet_NaN());
        buffers.push_back(BufferRef{a->buffer.name, a->buffer.shape, &data});
        exec(a->body);
        buffers.pop_back();
        return;
      }
    }
  }

 private:
  bool pad_;

  int64_t lookup_var(const std::string& name) const {
    for (auto it = vars.rbegin(); it != vars.rend(); ++it)
      if (it->first == name) return it->second;
    throw InterpreterError("unbound variable " + name);
  }
  BufferRef& lookup_buffer(const std::string& name) {
    for (auto it = buffers.rbegin(); it != buffers.rend(); ++it)
      if (it->name == name) return *it;
    throw InterpreterError("unknown buffer " + name);
  }
  std::string access_text(const std::vector<Expr>& idx) {
    std::ostringstream os;
    os << "[";
    for (size_t i = 0; i < idx.size(); ++i) os << (i ? ", " : "") << eval_index(idx[i]);
    os << "]";
    return os.str();
  }
  bool offset(const BufferRef& b, const std::vector<Expr>& idx, int64_t* off) {
    if (idx.size() != b.shape.size())
      throw InterpreterError("access to " + b.name + " with " + std::to_string(idx.size()) +
                             " indices, rank " + std::to_string(b.shape.size()));
    int64_t o = 0;
    bool inside = true;
    for (size_t d = 0; d < idx.size(); ++d) {
      int64_t i = eval_index(idx[d]);
      if (i < 0 || i >= b.shape[d]) inside = false;
      o = o * b.shape[d] + i;
    }
    *off = o;
    return inside;
  }
};

}  // namespace

double apply_unary(UnOp op, double x) {
  switch (op) {
    case UnOp::Neg:
      return -x;
    case UnOp::Exp:
      return std::exp(x);
    case UnOp::Log:
      return std::log(x);
    case UnOp::Sqrt:
      return std::sqrt(x);
    case UnOp::Rsqrt:
      return 1.0 / std::sqrt(x);
    case UnOp::Tanh:
      return std::tanh(x);
    case UnOp::Erf:
      return std::erf(x);
    case UnOp::Relu:
      return x > 0 ? x : 0.0;
    case UnOp::Gelu:
      return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case UnOp::Sigmoid:
      return 1.0 / (1.0 + std::exp(-x));
    case UnOp::Abs:
      return std::fabs(x);
  }
  return x;
}

void interpret(const LoweredFunc& f, std::vector<std::vector<double>>& buffers) {
  if (buffers.size() != f.params.size())
    throw InterpreterError("kernel " + f.name + " takes " + std::to_string(f.params.size()) +
                           " buffers, got " + std::to_string(buffers.size()));
  Machine m(false);
  for (size_t i = 0; i < f.params.size(); ++i) {
    if (static_cast<int64_t>(buffers[i].size()) != f.params[i].num_elements())
      throw InterpreterError("buffer " + f.params[i].name + " has " + std::to_string(buffers[i].size()) +
                             " elements, expected " + std::to_string(f.params[i].num_elements()));
    m.buffers.push_back(BufferRef{f.params[i].name, f.params[i].shape, &buffers[i]});
  }
  m.exec(f.body);
}

void evaluate_workload(const Workload& w, std::vector<std::vector<double>>& buffers) {
  if (buffers.size() != w.tensors.size())
    throw InterpreterError("workload " + w.name + " has " + std::to_string(w.tensors.size()) +
                           " tensors, got " + std::to_string(buffers.size()) + " buffers");
  Machine m(true);
  for (size_t i = 0; i < w.tensors.size(); ++i) {
    if (static_cast<int64_t>(buffers[i].size()) != w.tensors[i].num_elements())
      throw InterpreterError("buffer " + w.tensors[i].name + " has the wrong size");
    m.buffers.push_back(BufferRef{w.tensors[i].name, w.tensors[i].shape, &buffers[i]});
  }
  for (const auto& st : w.stages) {
    size_t ti = 0;
    while (ti < w.tensors.size() && w.tensors[ti].name != st.output) ++ti;
    if (ti == w.tensors.size()) throw InterpreterError("stage " + st.output + " writes an undeclared tensor");
    std::vector<double>& out = buffers[ti];
    const auto& shape = w.tensors[ti].shape;
    m.vars.clear();
    for (const auto& a : st.axes) m.vars.emplace_back(a.name, 0);
    for (const auto& a : st.reduce_axes) m.vars.emplace_back(a.name, 0);
    const size_t na = st.axes.size(), nr = st.reduce_axes.size();
    // Odometer over the spatial axes, then over the reduction axes.
    auto advance = [&](size_t from, size_t count, auto extent_of) {
      for (size_t k = count; k-- > 0;) {
        if (++m.vars[from + k].second < extent_of(k)) return true;
        m.vars[from + k].second = 0;
      }
      return false;
    };
    bool more = true;
    while (more) {
      double acc = st.init_value();
      if (st.op == ReduceOp::None) {
        acc = m.eval(st.body).v;
      } else {
        bool rmore = true;
        while (rmore) {
          double v = m.eval(st.body).v;
          switch (st.op) {
            case ReduceOp::Sum:
              acc += v;
              break;
            case ReduceOp::Max:
              acc = std::max(acc, v);
              break;
            case ReduceOp::Min:
              acc = std::min(acc, v);
              break;
            case ReduceOp::None:
              break;
          }
          rmore = advance(na, nr, [&](size_t k) { return st.reduce_axes[k].extent; });
        }
      }
      int64_t off = 0;
      for (size_t d = 0; d < na; ++d) off = off * shape[d] + m.vars[d].second;
      out[static_cast<size_t>(off)] = acc;
      more = advance(0, na, [&](size_t k) { return st.axes[k].extent; });
    }
  }
}

}  // namespace rctune::ir
