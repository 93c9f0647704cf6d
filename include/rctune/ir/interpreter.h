// A slow, exact interpreter for lowered loop nests and a reference evaluator for workloads, both on
// double buffers. Used to check lowering numerically on small shapes without compiling anything.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "rctune/ir/stmt.h"
#include "rctune/ir/workload.h"

namespace rctune::ir {

// Thrown for a program that cannot run: an access outside a buffer, an unknown buffer or variable,
// an integer division by zero, a buffer of the wrong size.
class InterpreterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs f. `buffers` holds one buffer per parameter, in params order, each of the parameter's
// number of elements (row-major). Allocate'd buffers (local, shared, heap) start as NaN, so a read
// of an element never written shows up in the results. Loops run in order whatever their kind.
// Every access is bounds-checked.
void interpret(const LoweredFunc& f, std::vector<std::vector<double>>& buffers);

// Computes the workload from its stage definitions, stage by stage: `buffers` holds one buffer per
// workload tensor in declaration order; inputs are read, every computed tensor is overwritten.
// Reads outside a tensor's shape yield 0 (zero padding).
void evaluate_workload(const Workload& w, std::vector<std::vector<double>>& buffers);

// The value of a unary operator as the interpreter computes it (gelu in its erf form).
double apply_unary(UnOp op, double x);

}  // namespace rctune::ir
