// A workload: named tensors and the stages that compute some of them, each written as an index
// expression such as  C[i, j] += A[i, k] * B[k, j].
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rctune/ir/expr.h"

namespace rctune::ir {

struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  DType dtype = DType::F32;
  int64_t num_elements() const;
};

// How a stage combines values over its reduction axes. None: plain assignment (`=`).
enum class ReduceOp { None, Sum, Max, Min };
const char* reduce_op_token(ReduceOp op);  // "=", "+=", "max=", "min="

// An index variable of a stage, ranging over [0, extent).
struct IndexVar {
  std::string name;
  int64_t extent = 0;
};

// One stage: output[axes...] <op> body.
// - `axes` are the left-hand side's index variables, one per output dimension, distinct, in order.
// - `reduce_axes` are the variables that occur only on the right-hand side (empty when op is None).
// - Reads outside a tensor's shape yield 0 (zero padding), as in convolution with padding.
// - Var nodes in `body` name axes or reduce_axes; Load nodes name tensors of the workload.
struct Stage {
  std::string output;  // tensor name; also the stage's name
  std::vector<IndexVar> axes;
  std::vector<IndexVar> reduce_axes;
  ReduceOp op = ReduceOp::None;
  Expr body;
  // Reduction identity: 0 for Sum, -inf for Max, +inf for Min (unused for None).
  double init_value() const;
  // Tensors read by the body, in first-occurrence order, without duplicates.
  std::vector<std::string> inputs() const;
  // Floating-point operations of one full evaluation (one per arithmetic op per point, reduction
  // combine included; transcendental calls count as one).
  double flops() const;
};

enum class TensorRole { Input, Intermediate, Output };

struct Workload {
  std::string name;                  // e.g. "matmul:M=512,N=512,K=512"
  std::vector<Tensor> tensors;       // every tensor: inputs, intermediates, outputs
  std::vector<Stage> stages;         // in a valid evaluation order (producers first)
  std::vector<std::string> outputs;  // tensors the caller reads back; others computed are intermediates

  const Tensor* find_tensor(const std::string& name) const;  // nullptr if absent
  const Stage* find_stage(const std::string& output) const;  // nullptr if no stage computes it
  int stage_index(const std::string& output) const;          // -1 if absent
  TensorRole role(const std::string& tensor) const;
  std::vector<std::string> input_names() const;  // tensors that no stage computes, declaration order
  double flops() const;                          // sum over stages
  // Checks the invariants above; returns an empty string when valid, else what is wrong.
  std::string validate() const;
};

// Readable listing of a workload: tensors with shapes, then each stage as an index expression.
std::string to_string(const Workload& w);

}  // namespace rctune::ir
