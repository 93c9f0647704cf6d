// MatMul, Gemm and Conv: the anchors of tasks, each with the epilogue that fuses into it.
#include <algorithm>

#include "model/patterns.h"

namespace rctune::model::detail {

namespace {

std::string str(int64_t v) { return std::to_string(v); }

std::string dims_text(const Shape& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? "," : "") + str(s[i]);
  return t + "]";
}

bool is_op(const onnx::NodeProto& n, const char* op) { return n.domain().empty() && n.op_type() == op; }

}  // namespace

// MatMul: [b..., M, K] x [K, N] folds the batch dimensions into M (matmul); [b..., M, K] x
// [b..., K, N] is batch_matmul over the broadcast batch (a side broadcast along the batch is read
// as if repeated).
std::optional<Outcome> match_matmul(const GraphIndex& g, int node) {
  const auto& n = g.node(node);
  if (!is_op(n, "MatMul") || n.input_size() != 2 || n.output_size() != 1) return std::nullopt;
  auto a = g.shape(n.input(0)), b = g.shape(n.input(1)), y = g.shape(n.output(0));
  if (!a || !b || !y) return not_tuned("shape not known after shape inference");
  if (a->size() < 2 || b->size() < 2) return not_tuned("a 1-D operand (matrix-vector product)");
  std::string reason;
  std::string dtype = operator_dtype(g, n.output(0), &reason);
  if (dtype.empty()) return not_tuned(reason);
  int64_t M = (*a)[a->size() - 2], K = a->back(), N = b->back();
  std::vector<EpilogueStep> steps;
  fuse_epilogue(g, n.output(0), {*y, {{N}, {1, N}}}, steps);
  if (b->size() == 2) {
    Outcome o =
        task_outcome("matmul", {{"M", str(product(*a, 0, a->size() - 1))}, {"N", str(N)}, {"K", str(K)}},
                     dtype, node, steps);
    if (g.is_constant_like(n.input(1))) o.notes.push_back("MatMul: the weight B is used as [K,N], as stored");
    if (a->size() > 2) o.notes.push_back("the batch dimensions of A fold into M");
    return o;
  }
  Shape batch(y->begin(), y->end() - 2);
  Outcome o =
      task_outcome("batch_matmul",
                   {{"B", str(product(batch, 0, batch.size()))}, {"M", str(M)}, {"N", str(N)}, {"K", str(K)}},
                   dtype, node, steps);
  Shape ab(a->begin(), a->end() - 2), bb(b->begin(), b->end() - 2);
  if (ab != batch || bb != batch)
    o.notes.push_back("operands broadcast along the batch " + dims_text(ab) + " x " + dims_text(bb) +
                      " are read as repeated to " + dims_text(batch));
  return o;
}

// Gemm: Y = alpha * A' B' + beta * C with A' = A (transA = 0) and B' = B or B^T. With transB = 1
// (PyTorch Linear) the weight [N,K] is used as [K,N]: a constant transposed once. C of shape [N]
// or [1,N] is the bias; C of shape [M,N] an added tensor.
std::optional<Outcome> match_gemm(const GraphIndex& g, int node) {
  const auto& n = g.node(node);
  if (!is_op(n, "Gemm") || n.input_size() < 2 || n.output_size() != 1) return std::nullopt;
  auto a = g.shape(n.input(0)), b = g.shape(n.input(1)), y = g.shape(n.output(0));
  if (!a || !b || !y || a->size() != 2 || b->size() != 2)
    return not_tuned("shape not known after shape inference");
  if (attr_int(n, "transA", 0) != 0) return not_tuned("transA = 1 (a transposed activation)");
  if (attr_float(n, "alpha", 1.0f) != 1.0f) return not_tuned("alpha != 1");
  bool trans_b = attr_int(n, "transB", 0) != 0;
  std::string reason;
  std::string dtype = operator_dtype(g, n.output(0), &reason);
  if (dtype.empty()) return not_tuned(reason);
  int64_t M = (*a)[0], K = (*a)[1], N = trans_b ? (*b)[0] : (*b)[1];
  std::vector<EpilogueStep> steps;
  if (n.input_size() > 2 && !n.input(2).empty()) {
    auto c = g.shape(n.input(2));
    if (attr_float(n, "beta", 1.0f) != 1.0f) return not_tuned("beta != 1 with a C input");
    if (c && g.is_constant_like(n.input(2)) && (*c == Shape{N} || *c == Shape{1, N}))
      steps.push_back({"bias", {}});
    else if (c && *c == *y)
      steps.push_back({"add", {}});
    else
      return not_tuned("C input broadcast along the rows or of unknown shape");
  }
  fuse_epilogue(g, n.output(0), {*y, {{N}, {1, N}}}, steps);
  Outcome o = task_outcome("matmul", {{"M", str(M)}, {"N", str(N)}, {"K", str(K)}}, dtype, node, steps);
  if (trans_b)
    o.notes.push_back(
        g.is_constant_like(n.input(1))
            ? "Gemm transB = 1: the weight [N,K] is used as [K,N] (transposed once, it is a constant)"
            : "Gemm transB = 1 on a computed B: tuned as B[K,N], the transpose is not part of the task");
  return o;
}

// Conv (2-D, NCHW): group 1 is conv2d_nchw; group = C_in = C_out is depthwise_conv2d. The
// operators take one stride, one padding and one dilation for both axes.
std::optional<Outcome> match_conv(const GraphIndex& g, int node) {
  const auto& n = g.node(node);
  if (!is_op(n, "Conv") || n.input_size() < 2 || n.output_size() != 1) return std::nullopt;
  auto x = g.shape(n.input(0)), w = g.shape(n.input(1)), y = g.shape(n.output(0));
  if (!x || !w || !y) return not_tuned("shape not known after shape inference");
  if (x->size() != 4 || w->size() != 4) return not_tuned("not a 2-D convolution");
  std::string reason;
  std::string dtype = operator_dtype(g, n.output(0), &reason);
  if (dtype.empty()) return not_tuned(reason);
  int64_t N = (*x)[0], C = (*x)[1], H = (*x)[2], W = (*x)[3], K = (*w)[0], R = (*w)[2], S = (*w)[3];
  int64_t group = attr_int(n, "group", 1);
  auto strides = attr_ints(n, "strides"), dil = attr_ints(n, "dilations"), pads = attr_ints(n, "pads");
  if (strides.empty()) strides = {1, 1};
  if (dil.empty()) dil = {1, 1};
  std::string auto_pad = attr_string(n, "auto_pad", "NOTSET");
  if (auto_pad == "VALID") pads = {0, 0, 0, 0};
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    pads.clear();
    for (int axis = 0; axis < 2; ++axis) {
      int64_t in = axis ? W : H, k = axis ? S : R, st = strides[axis], d = dil[axis];
      int64_t total = std::max<int64_t>(((in + st - 1) / st - 1) * st + (k - 1) * d + 1 - in, 0);
      if (total % 2) return not_tuned("auto_pad " + auto_pad + " pads one side more than the other");
      pads.push_back(total / 2);
    }
    pads = {pads[0], pads[1], pads[0], pads[1]};
  }
  if (pads.empty()) pads = {0, 0, 0, 0};
  if (strides.size() != 2 || dil.size() != 2 || pads.size() != 4)
    return not_tuned("malformed strides, dilations or pads");
  if (strides[0] != strides[1]) return not_tuned("strides differ per axis");
  if (dil[0] != dil[1]) return not_tuned("dilations differ per axis");
  if (std::any_of(pads.begin(), pads.end(), [&](int64_t p) { return p != pads[0]; }))
    return not_tuned("asymmetric padding");
  bool depthwise = group > 1 && group == C && K == C && (*w)[1] == 1;
  if (group != 1 && !depthwise)
    return not_tuned(group == C ? "depthwise with a channel multiplier"
                                : "grouped convolution (1 < group < channels)");
  std::vector<EpilogueStep> steps;
  if (n.input_size() > 2 && !n.input(2).empty()) steps.push_back({"bias", {}});
  fuse_epilogue(g, n.output(0), {*y, {{K}, {1, K, 1, 1}, {K, 1, 1}}}, steps);
  Params common = {{"stride", str(strides[0])}, {"pad", str(pads[0])}, {"dilation", str(dil[0])}};
  Params p = {{"N", str(N)}, {"C", str(C)}, {"H", str(H)}, {"W", str(W)}};
  if (!depthwise) p.push_back({"K", str(K)});
  p.push_back({"R", str(R)});
  p.push_back({"S", str(S)});
  p.insert(p.end(), common.begin(), common.end());
  return task_outcome(depthwise ? "depthwise_conv2d" : "conv2d_nchw", p, dtype, node, steps);
}

}  // namespace rctune::model::detail
