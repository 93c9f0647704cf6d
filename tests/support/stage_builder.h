// A workload stage built in one expression, for the tests that write workloads by hand.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "rctune/ir/workload.h"

namespace rctune::test_support {

// The stage computing `output` over `axes` from `body`, reducing over `reduce_axes` with `op`
// (ReduceOp::None and no reduce axes: elementwise).
inline ir::Stage stage(const std::string& output, std::vector<ir::IndexVar> axes,
                       std::vector<ir::IndexVar> reduce_axes, ir::ReduceOp op, ir::Expr body) {
  ir::Stage s;
  s.output = output;
  s.axes = std::move(axes);
  s.reduce_axes = std::move(reduce_axes);
  s.op = op;
  s.body = std::move(body);
  return s;
}

}  // namespace rctune::test_support
