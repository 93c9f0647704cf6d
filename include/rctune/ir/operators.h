// The operator library: workloads from specs such as "matmul:M=1024,N=1024,K=1024".
//
// Each operator is written as text in the index-expression syntax (ir/parser.h) and parsed, so the
// stages are exactly what a user would write by hand. docs/workloads.md lists every operator, its
// parameters and their defaults.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "rctune/ir/workload.h"

namespace rctune::ir {

// A malformed spec: unknown operator, unknown parameter, bad value. The message names the spec and
// lists what is valid.
class OperatorSpecError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct OperatorParam {
  std::string name;           // "M", "stride", "eps", "dtype", ...
  std::string default_value;  // as text ("1024", "1e-05", "f32"; "S" for attention's SK)
  std::string description;
};

struct OperatorInfo {
  std::string name;                   // "matmul"
  std::string description;            // one line
  std::vector<OperatorParam> params;  // in canonical order
};

// Every operator, in a stable order.
const std::vector<OperatorInfo>& operator_library();
std::vector<std::string> operator_names();
// One-line description; throws OperatorSpecError for an unknown name.
std::string operator_description(const std::string& name);
// True when the part of `spec` before ':' names a library operator.
bool is_operator_spec(const std::string& spec);

// "NAME" or "NAME:P=v,P=v,...": parameters left out take their defaults. The workload's name is the
// canonical spec with every parameter, in declaration order (e.g. "matmul:M=512,N=512,K=512,dtype=f32"),
// so equal workloads have equal names; only `epilogue` is left out when it is "none", so that the
// names of unfused workloads do not change ("...,dtype=f32,epilogue=bias+relu" otherwise). An
// epilogue adds one elementwise stage after the reduction (docs/workloads.md, "Fused epilogues").
// Outputs: the final stage's tensor.
Workload make_operator(const std::string& spec);

// The canonical spec of `spec` (make_operator(spec).name) without building the workload.
std::string canonical_operator_spec(const std::string& spec);

// The canonical spec of the library operator that `w` is: its name is an operator spec and its
// stages are that operator's. nullopt for a hand-written workload (whatever its name).
std::optional<std::string> operator_spec_of(const Workload& w);

// A smaller instance of an operator, to estimate the time of its unscheduled kernel from: the
// operator's rows (`param`: M of a matmul, B of a batched matmul or attention, output channels of
// a convolution, channels of a depthwise one, rows of softmax and the norms) cut from `full` to
// `reduced`, so that its work is at most about `max_flops`. Every stage's work is linear in the
// rows and the loop nest keeps its shape, so the unscheduled kernel's time scales with the work.
// nullopt when the operator's work is at most `max_flops` already, or its rows are 1.
struct ReducedOperator {
  std::string spec;  // canonical
  std::string param;
  int64_t full = 0, reduced = 0;
};
std::optional<ReducedOperator> reduced_operator(const std::string& spec, double max_flops);

// The source text that make_operator parses (declarations, stages and an outputs line).
std::string operator_source(const std::string& spec);

}  // namespace rctune::ir
