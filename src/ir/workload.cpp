#include "rctune/ir/workload.h"

#include "rctune/ir/limits.h"

#include <algorithm>
#include <limits>
#include <set>
#include <sstream>

#include "rctune/ir/analysis.h"
#include "rctune/ir/names.h"

namespace rctune::ir {

int64_t Tensor::num_elements() const {
  // Saturates instead of overflowing; check_sizes refuses such shapes (rctune/ir/limits.h).
  return checked_product(shape).value_or(INT64_MAX);
}

const char* reduce_op_token(ReduceOp op) {
  switch (op) {
    case ReduceOp::None:
      return "=";
    case ReduceOp::Sum:
      return "+=";
    case ReduceOp::Max:
      return "max=";
    case ReduceOp::Min:
      return "min=";
  }
  return "?";
}

double Stage::init_value() const {
  switch (op) {
    case ReduceOp::Sum:
      return 0.0;
    case ReduceOp::Max:
      return -std::numeric_limits<double>::infinity();
    case ReduceOp::Min:
      return std::numeric_limits<double>::infinity();
    case ReduceOp::None:
      return 0.0;
  }
  return 0.0;
}

std::vector<std::string> Stage::inputs() const {
  std::vector<std::string> names;
  if (body) {
    for_each_load(body, [&](const Load& l) {
      if (std::find(names.begin(), names.end(), l.buffer) == names.end()) names.push_back(l.buffer);
    });
  }
  return names;
}

namespace {
// Arithmetic operations in a value expression; index arithmetic inside loads does not count.
struct FlopCounter : ExprVisitor {
  double n = 0;
  using ExprVisitor::visit;
  void visit(const Load&) override {}
  void visit(const Binary& b) override {
    n += 1;
    ExprVisitor::visit(b);
  }
  void visit(const Unary& u) override {
    if (u.op != UnOp::Neg) n += 1;
    ExprVisitor::visit(u);
  }
  void visit(const Select& s) override {
    visit(s.then_value);
    visit(s.else_value);
  }
};
}  // namespace

double Stage::flops() const {
  FlopCounter c;
  if (body) c.visit(body);
  double per_point = c.n + (op == ReduceOp::None ? 0.0 : 1.0);
  if (per_point == 0) per_point = 0;  // pure copies move data but compute nothing
  double points = 1;
  for (const auto& a : axes) points *= static_cast<double>(a.extent);
  for (const auto& a : reduce_axes) points *= static_cast<double>(a.extent);
  return per_point * points;
}

const Tensor* Workload::find_tensor(const std::string& n) const {
  for (const auto& t : tensors)
    if (t.name == n) return &t;
  return nullptr;
}

const Stage* Workload::find_stage(const std::string& output) const {
  int i = stage_index(output);
  return i < 0 ? nullptr : &stages[static_cast<size_t>(i)];
}

int Workload::stage_index(const std::string& output) const {
  for (size_t i = 0; i < stages.size(); ++i)
    if (stages[i].output == output) return static_cast<int>(i);
  return -1;
}

TensorRole Workload::role(const std::string& tensor) const {
  if (std::find(outputs.begin(), outputs.end(), tensor) != outputs.end()) return TensorRole::Output;
  if (find_stage(tensor)) return TensorRole::Intermediate;
  return TensorRole::Input;
}

std::vector<std::string> Workload::input_names() const {
  std::vector<std::string> r;
  for (const auto& t : tensors)
    if (!find_stage(t.name)) r.push_back(t.name);
  return r;
}

double Workload::flops() const {
  double f = 0;
  for (const auto& s : stages) f += s.flops();
  return f;
}

std::string Workload::validate() const {
  if (std::string e = workload_names_problem(*this); !e.empty()) return e;  // before any name is printed
  std::set<std::string> names;
  for (const auto& t : tensors) {
    if (t.name.empty()) return "a tensor has no name";
    if (!names.insert(t.name).second) return "tensor " + t.name + " is declared twice";
    if (t.shape.empty()) return "tensor " + t.name + " has no dimensions";
    for (auto d : t.shape)
      if (d <= 0) return "tensor " + t.name + " has a non-positive extent";
  }
  std::set<std::string> computed;
  for (const auto& s : stages) {
    const Tensor* out = find_tensor(s.output);
    if (!out) return "stage " + s.output + " writes an undeclared tensor";
    if (!computed.insert(s.output).second) return "tensor " + s.output + " is computed by two stages";
    if (s.axes.size() != out->shape.size())
      return "stage " + s.output + " has " + std::to_string(s.axes.size()) +
             " indices for a tensor of rank " + std::to_string(out->shape.size());
    for (size_t d = 0; d < s.axes.size(); ++d)
      if (s.axes[d].extent != out->shape[d])
        return "stage " + s.output + ": axis " + s.axes[d].name + " extent differs from the tensor's shape";
    if (s.op == ReduceOp::None && !s.reduce_axes.empty())
      return "stage " + s.output + " has reduction axes but no reduction operator";
    if (!s.body) return "stage " + s.output + " has no body";
    for (const auto& in : s.inputs()) {
      if (!find_tensor(in)) return "stage " + s.output + " reads undeclared tensor " + in;
      if (find_stage(in) && !computed.count(in))
        return "stage " + s.output + " reads " + in + " before the stage that computes it";
      if (in == s.output) return "stage " + s.output + " reads its own output";
    }
  }
  if (outputs.empty()) return "the workload has no output";
  for (const auto& o : outputs)
    if (!find_stage(o)) return "output " + o + " is not computed by any stage";
  return check_sizes(*this);
}

std::string to_string(const Workload& w) {
  std::ostringstream os;
  os << "workload " << w.name << "\n";
  for (const auto& t : w.tensors) {
    os << "  " << t.name << ": " << dtype_name(t.dtype) << "[";
    for (size_t i = 0; i < t.shape.size(); ++i) os << (i ? ", " : "") << t.shape[i];
    const char* role = "input";
    if (w.role(t.name) == TensorRole::Output) role = "output";
    if (w.role(t.name) == TensorRole::Intermediate) role = "intermediate";
    os << "]  " << role << "\n";
  }
  for (const auto& s : w.stages) {
    os << "  " << s.output << "[";
    for (size_t i = 0; i < s.axes.size(); ++i) os << (i ? ", " : "") << s.axes[i].name;
    os << "] " << reduce_op_token(s.op) << " " << to_string(s.body);
    if (!s.reduce_axes.empty()) {
      os << "    # reduce over ";
      for (size_t i = 0; i < s.reduce_axes.size(); ++i)
        os << (i ? ", " : "") << s.reduce_axes[i].name << " < " << s.reduce_axes[i].extent;
    }
    os << "\n";
  }
  return os.str();
}

}  // namespace rctune::ir
