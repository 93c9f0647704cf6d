#include "rctune/ir/limits.h"

#include "rctune/ir/analysis.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace rctune::ir {

int expr_depth(const Expr& e) {
  if (!e) return 0;
  int deepest = 0;
  std::vector<std::pair<const ExprNode*, int>> stack{{e.get(), 1}};
  auto push = [&](const Expr& c, int d) {
    if (c) stack.emplace_back(c.get(), d + 1);
  };
  while (!stack.empty()) {
    auto [n, d] = stack.back();
    stack.pop_back();
    deepest = std::max(deepest, d);
    switch (n->kind) {
      case ExprKind::Load:
        for (const auto& i : static_cast<const Load*>(n)->indices) push(i, d);
        break;
      case ExprKind::Binary:
        push(static_cast<const Binary*>(n)->a, d);
        push(static_cast<const Binary*>(n)->b, d);
        break;
      case ExprKind::Unary:
        push(static_cast<const Unary*>(n)->a, d);
        break;
      case ExprKind::Select: {
        const auto* s = static_cast<const Select*>(n);
        push(s->cond, d);
        push(s->then_value, d);
        push(s->else_value, d);
        break;
      }
      default:
        break;
    }
  }
  return deepest;
}

std::string check_tensor_shape(const Tensor& t) {
  if (t.shape.size() > kMaxRank)
    return "tensor " + t.name + " has " + std::to_string(t.shape.size()) + " dimensions (the limit is " +
           std::to_string(kMaxRank) + ")";
  for (int64_t d : t.shape)
    if (d <= 0) return "tensor " + t.name + " has a non-positive extent " + std::to_string(d);
  auto n = checked_product(t.shape);
  if (!n || *n > kMaxElements) {
    std::string shape;
    for (size_t i = 0; i < t.shape.size(); ++i) shape += (i ? " x " : "") + std::to_string(t.shape[i]);
    return "tensor " + t.name + " has " + shape + " elements, " +
           (n ? std::to_string(*n) : "more than 2^63") +
           " in all (the limit is 2^56 = " + std::to_string(kMaxElements) + ")";
  }
  return "";
}

namespace {

// Range of an integer index expression over the stage's domain; nullopt when it overflows int64.
// `analysable` turns false for forms the parser never produces (their range is not judged here).
// + - * / min max follow interval_of's rules (binary_interval).
std::optional<Interval> range_of(const Expr& e, const Stage& s, bool* analysable) {
  if (auto i = e.as<IntImm>()) return Interval{i->value, i->value};
  if (auto v = e.as<Var>()) {
    for (const auto* axes : {&s.axes, &s.reduce_axes})
      for (const auto& a : *axes)
        if (a.name == v->name) return Interval{0, a.extent - 1};
    *analysable = false;
    return Interval{0, 0};
  }
  auto b = e.as<Binary>();
  if (!b) {
    *analysable = false;
    return Interval{0, 0};
  }
  auto x = range_of(b->a, s, analysable);
  if (!x) return std::nullopt;
  auto y = range_of(b->b, s, analysable);
  if (!y) return std::nullopt;
  switch (b->op) {
    case BinOp::Add:
    case BinOp::Sub:
    case BinOp::Mul:
    case BinOp::Max:
    case BinOp::Min:
      return binary_interval(b->op, *x, *y);  // nullopt only when a bound overflows
    case BinOp::Div:
    case BinOp::Mod:
      if (y->lo != y->hi || y->lo <= 0) break;
      // x % c is judged by its divisor alone: [0, c - 1].
      if (b->op == BinOp::Mod) return Interval{0, y->lo - 1};
      return binary_interval(b->op, *x, *y);
    default:
      break;
  }
  *analysable = false;
  return Interval{0, 0};
}

std::optional<int64_t> magnitude(int64_t v) {
  if (v == INT64_MIN) return std::nullopt;
  return v < 0 ? -v : v;
}

}  // namespace

std::string check_stage_sizes(const std::vector<Tensor>& tensors, const Stage& s) {
  const std::string stage = "stage " + s.output;
  const size_t n_axes = s.axes.size() + s.reduce_axes.size();
  if (n_axes > kMaxStageAxes)
    return stage + " has " + std::to_string(n_axes) + " index variables (the limit is " +
           std::to_string(kMaxStageAxes) + ")";
  std::vector<int64_t> extents;
  for (const auto* axes : {&s.axes, &s.reduce_axes})
    for (const auto& a : *axes) {
      if (a.extent <= 0)
        return stage + ": index variable " + a.name + " has a non-positive extent " +
               std::to_string(a.extent);
      extents.push_back(a.extent);
    }
  auto points = checked_product(extents);
  if (!points || *points > kMaxIterations) {
    std::string list;
    for (const auto* axes : {&s.axes, &s.reduce_axes})
      for (const auto& a : *axes)
        list += (list.empty() ? "" : ", ") + a.name + " < " + std::to_string(a.extent);
    return stage + " iterates over " + (points ? std::to_string(*points) : "more than 2^63") + " points (" +
           list + "; the limit is 2^62)";
  }
  const int depth = expr_depth(s.body);
  if (depth > kMaxExprDepth)
    return stage + ": the expression is " + std::to_string(depth) + " levels deep (the limit is " +
           std::to_string(kMaxExprDepth) + ")";
  std::vector<const Load*> loads;
  if (s.body) for_each_load(s.body, [&](const Load& l) { loads.push_back(&l); });
  for (const Load* l : loads) {
    const Tensor* t = nullptr;
    for (const auto& x : tensors)
      if (x.name == l->buffer) t = &x;
    if (!t || t->shape.size() != l->indices.size()) continue;  // reported by Workload::validate
    int64_t stride = 1;
    for (size_t d = l->indices.size(); d-- > 0;) {
      const Expr& idx = l->indices[d];
      bool analysable = true;
      auto r = range_of(idx, s, &analysable);
      const std::string term = stage + ": index '" + to_string(idx) + "' of " + l->buffer + " (dimension " +
                               std::to_string(d) + ")";
      if (!r) return term + " overflows 64-bit integers over the loop domain";
      if (analysable) {
        auto lo = magnitude(r->lo), hi = magnitude(r->hi);
        std::optional<int64_t> span;
        if (lo && hi) span = checked_mul(std::max(*lo, *hi), stride);
        if (!span || *span > kMaxIndexSpan)
          return term + " ranges over [" + std::to_string(r->lo) + ", " + std::to_string(r->hi) +
                 "], too far from the tensor's extent " + std::to_string(t->shape[d]) +
                 " (index times stride must stay within 2^56)";
      }
      stride *= t->shape[d];  // fits: the element count was checked
    }
  }
  return "";
}

std::string check_sizes(const Workload& w) {
  if (w.tensors.size() > kMaxTensors)
    return "the workload has " + std::to_string(w.tensors.size()) + " tensors (the limit is " +
           std::to_string(kMaxTensors) + ")";
  if (w.stages.size() > kMaxStages)
    return "the workload has " + std::to_string(w.stages.size()) + " stages (the limit is " +
           std::to_string(kMaxStages) + ")";
  for (const auto& t : w.tensors) {
    std::string e = check_tensor_shape(t);
    if (!e.empty()) return e;
  }
  for (const auto& s : w.stages) {
    std::string e = check_stage_sizes(w.tensors, s);
    if (!e.empty()) return e;
  }
  return "";
}

std::optional<int64_t> workload_bytes(const Workload& w) {
  int64_t total = 0;
  for (const auto& t : w.tensors) {
    auto n = checked_product(t.shape);
    if (!n) return std::nullopt;
    auto bytes = checked_mul(*n, dtype_bytes(t.dtype));
    if (!bytes) return std::nullopt;
    auto padded = checked_add(*bytes, 63);
    auto sum = padded ? checked_add(total, *padded) : std::nullopt;
    if (!sum) return std::nullopt;
    total = *sum / 64 * 64;
  }
  return total;
}

std::optional<int64_t> measurement_bytes(const Workload& w) {
  int64_t total = 0;
  for (const auto& t : w.tensors) {
    auto n = checked_product(t.shape);
    auto bytes = n ? checked_mul(*n, dtype_bytes(t.dtype) + 8) : std::nullopt;
    auto sum = bytes ? checked_add(total, *bytes) : std::nullopt;
    if (!sum) return std::nullopt;
    total = *sum;
  }
  return total;
}

std::string check_measurement_fits(const Workload& w) {
  return check_fits_in_memory(measurement_bytes(w).value_or(INT64_MAX),
                              "measuring " + w.name + " (its tensors and the reference's double copies)");
}

}  // namespace rctune::ir
