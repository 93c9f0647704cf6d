// Text front end for workloads: tensor declarations and stages in the index-expression syntax.
//
//   A: f32[512, 512]                                  tensor declaration
//   C[i, j] += A[i, k] * B[k, j]                      stage (reduction over k)
//   Y[n, k, h, w] += X[n, c, h*2 + r - 1, w*2 + s - 1] * W[k, c, r, s]
//   M[i] max= X[i, j]
//   Y[i, j] = exp(X[i, j] - M[i])
//   S[i] += X[i, j * 2] where j < 64                  explicit extent of a reduction variable
//
// The full syntax is documented in docs/workloads.md.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "rctune/ir/workload.h"

namespace rctune::ir {

// A syntax or meaning error in workload text. what() reads
//   line 3, column 14: unknown tensor 'Q' (declared: A, B, C)
//       C[i, j] += Q[i, k]
//                  ^
// Lines and columns count from 1 and include the SourcePos offsets (so they are file positions).
class ParseError : public std::runtime_error {
 public:
  // caret_column: where the caret goes under source_line (1-based); -1 means `column`.
  ParseError(const std::string& reason, int line, int column, const std::string& source_line,
             int caret_column = -1);
  const std::string& reason() const { return reason_; }  // the message without position or caret
  int line() const { return line_; }                     // 1-based
  int column() const { return column_; }                 // 1-based
  const std::string& source_line() const { return source_line_; }

 private:
  std::string reason_;
  int line_;
  int column_;
  std::string source_line_;
};

// A ParseError for a size or depth beyond rctune's limits (rctune/ir/limits.h): nesting, expression
// depth, rank, element counts, iteration spaces, index ranges.
class SizeLimitError : public ParseError {
 public:
  using ParseError::ParseError;
};

// Where a piece of text sits in a larger file, for error positions: the text's first character is
// at line `line_offset + 1`, column `column_offset + 1`. yaml-cpp's Mark (0-based line and column)
// can be passed directly.
struct SourcePos {
  int line_offset = 0;
  int column_offset = 0;
};

// "A: f32[512, 512]" -> Tensor. dtype is f32 or f64 (float32/float64 are accepted too); every
// extent is a positive integer; at least one dimension.
Tensor parse_tensor_decl(const std::string& text, SourcePos pos = {});

// "f32[512, 512]" -> Tensor named `name` (the value side of a declaration, as in workload files).
Tensor parse_tensor_type(const std::string& name, const std::string& text, SourcePos pos = {});

// One stage statement. The output tensor and every tensor read must be among `tensors` (outputs are
// not created implicitly). Extents: left-hand side variables take the output tensor's shape; a
// reduction variable takes the extent of a tensor dimension it indexes directly (X[.., r, ..]), or
// the one given by a `where r < N` clause.
Stage parse_stage(const std::string& text, const std::vector<Tensor>& tensors, int line_offset = 0);
Stage parse_stage(const std::string& text, const std::vector<Tensor>& tensors, SourcePos pos);

// A whole workload as text: one declaration or stage per line (a statement continues on the next
// line while a bracket or parenthesis is open or when the line ends in an operator or a comma;
// `;` also separates statements), `#` starts a
// comment, and an optional line `outputs: C, D` names the outputs. Without it, the outputs are the
// computed tensors that no stage reads. The result is validated (Workload::validate).
Workload parse_workload(const std::string& text, const std::string& name = "workload", SourcePos pos = {});

// The workload of a listing that to_string(const Workload&) wrote (a trace keeps its tasks' so):
// "workload NAME", declarations with their roles, stages with "# reduce over r < N" comments.
// Throws ParseError for text that does not parse, std::invalid_argument when the workload parsed
// does not list as exactly this text (a listing edited by hand, or written by another rctune).
Workload parse_listing(const std::string& listing);

// The outputs of a workload that names none (in text or in a workload file): the computed tensors
// that no stage reads, in stage order.
std::vector<std::string> default_outputs(const Workload& w);

// The functions the expression syntax knows, with their arity: max/2, min/2, exp/1, ...
std::vector<std::string> known_functions();

}  // namespace rctune::ir
