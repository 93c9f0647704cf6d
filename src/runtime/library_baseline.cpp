// Owns the library baseline: recognising gemm-like and convolution workloads from their stages,
// running them with OpenBLAS (sgemm, im2col + sgemm) and timing that in this process.
#include "rctune/runtime/library_baseline.h"
#include "rctune/ir/check.h"

#include <cblas.h>
#include <dlfcn.h>
#include <sched.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>

#include "rctune/ir/limits.h"
#include "rctune/runtime/protocol.h"

namespace rctune::runtime {
namespace {

// ---- recognition helpers ----

// A load whose every index is a plain variable: T[a, b, c].
struct PlainLoad {
  std::string tensor;
  std::vector<std::string> vars;
};

std::optional<PlainLoad> plain_load(const ir::Expr& e) {
  const auto* l = e.as<ir::Load>();
  if (!l) return std::nullopt;
  PlainLoad p{l->buffer, {}};
  for (const auto& i : l->indices) {
    const auto* v = i.as<ir::Var>();
    if (!v) return std::nullopt;
    p.vars.push_back(v->name);
  }
  return p;
}

// The two factors of a product a * b, or nullopt.
std::optional<std::pair<ir::Expr, ir::Expr>> product(const ir::Expr& e) {
  const auto* m = e.as<ir::Binary>();
  if (!m || m->op != ir::BinOp::Mul) return std::nullopt;
  return std::make_pair(m->a, m->b);
}

struct Extents {
  std::map<std::string, int64_t> of;
  explicit Extents(const ir::Stage& s) {
    for (const auto& a : s.axes) of[a.name] = a.extent;
    for (const auto& a : s.reduce_axes) of[a.name] = a.extent;
  }
  int64_t operator[](const std::string& v) const {
    auto it = of.find(v);
    return it == of.end() ? -1 : it->second;
  }
};

// True when tensor `t` is f32 and its shape is exactly the extents of `vars`.
bool fits(const ir::Workload& w, const std::string& t, const std::vector<std::string>& vars,
          const Extents& ext) {
  const ir::Tensor* tensor = w.find_tensor(t);
  if (!tensor || tensor->dtype != ir::DType::F32 || tensor->shape.size() != vars.size()) return false;
  for (std::size_t d = 0; d < vars.size(); ++d)
    if (tensor->shape[d] != ext[vars[d]]) return false;
  return true;
}

int tensor_index(const ir::Workload& w, const std::string& name) {
  for (std::size_t i = 0; i < w.tensors.size(); ++i)
    if (w.tensors[i].name == name) return static_cast<int>(i);
  return -1;
}

int as_int(int64_t v) {
  RCTUNE_CHECK(v >= 0 && v <= INT32_MAX);
  return static_cast<int>(v);
}

// ---- gemm: C[b.., i, j] += A[b.., i|k, k|i] * B[b.., k|j, j|k] ----

struct Gemm {
  int a = -1, b = -1, c = -1;  // tensor indices
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false;

  // One row (a matrix-vector product, as in a decoder's token step): OpenBLAS's sgemv, which is what
  // a serving program calls for it (its sgemm is not tuned for M = 1).
  bool vector() const { return m == 1; }
  const char* routine() const { return vector() ? "openblas_sgemv" : "openblas_sgemm"; }

  void run(const float* A, const float* B, float* C, float beta) const {
    if (vector()) {
      // C[j] = sum_k A[k] B[k, j]: B^T A with B row-major [k, n] (or B A with B stored [n, k]).
      for (int64_t e = 0; e < batch; ++e)
        cblas_sgemv(CblasRowMajor, trans_b ? CblasNoTrans : CblasTrans, as_int(trans_b ? n : k),
                    as_int(trans_b ? k : n), 1.0f, B + e * k * n, as_int(trans_b ? k : n), A + e * k, 1, beta,
                    C + e * n, 1);
      return;
    }
    for (int64_t e = 0; e < batch; ++e)
      cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                  as_int(m), as_int(n), as_int(k), 1.0f, A + e * m * k, as_int(trans_a ? m : k),
                  B + e * k * n, as_int(trans_b ? k : n), beta, C + e * m * n, as_int(n));
  }
};

std::optional<Gemm> match_gemm(const ir::Workload& w, const ir::Stage& s) {
  if (s.op != ir::ReduceOp::Sum || s.reduce_axes.size() != 1 || s.axes.size() < 2) return std::nullopt;
  auto factors = product(s.body);
  if (!factors) return std::nullopt;
  auto x = plain_load(factors->first), y = plain_load(factors->second);
  if (!x || !y) return std::nullopt;
  const std::size_t nb = s.axes.size() - 2;
  const std::string& i = s.axes[nb].name;
  const std::string& j = s.axes[nb + 1].name;
  const std::string& k = s.reduce_axes[0].name;
  // The operand that holds i is A; the one that holds j is B.
  auto has = [](const PlainLoad& p, const std::string& v) {
    return std::find(p.vars.begin(), p.vars.end(), v) != p.vars.end();
  };
  if (has(*x, j) && has(*y, i)) std::swap(x, y);
  if (x->vars.size() != nb + 2 || y->vars.size() != nb + 2) return std::nullopt;
  for (std::size_t d = 0; d < nb; ++d)
    if (x->vars[d] != s.axes[d].name || y->vars[d] != s.axes[d].name) return std::nullopt;
  Gemm g;
  auto tail = [&](const PlainLoad& p, const std::string& u, const std::string& v, bool* trans) {
    if (p.vars[nb] == u && p.vars[nb + 1] == v) return *trans = false, true;
    if (p.vars[nb] == v && p.vars[nb + 1] == u) return *trans = true, true;
    return false;
  };
  if (!tail(*x, i, k, &g.trans_a) || !tail(*y, k, j, &g.trans_b)) return std::nullopt;
  Extents ext(s);
  std::vector<std::string> out_vars;
  for (const auto& a : s.axes) out_vars.push_back(a.name);
  if (!fits(w, s.output, out_vars, ext) || !fits(w, x->tensor, x->vars, ext) ||
      !fits(w, y->tensor, y->vars, ext))
    return std::nullopt;
  g.a = tensor_index(w, x->tensor);
  g.b = tensor_index(w, y->tensor);
  g.c = tensor_index(w, s.output);
  for (std::size_t d = 0; d < nb; ++d) g.batch *= s.axes[d].extent;
  g.m = ext[i];
  g.n = ext[j];
  g.k = ext[k];
  // cblas takes int dimensions: larger ones have no library baseline.
  if (g.m > INT32_MAX || g.n > INT32_MAX || g.k > INT32_MAX) return std::nullopt;
  return g;
}

// Y[b.., i, j] = XW[b.., i, j] + bias[j] (either order of the sum), XW computed by `gemm`.
// Returns the index of bias.
std::optional<int> match_bias_epilogue(const ir::Workload& w, const ir::Stage& s,
                                       const ir::Stage& gemm_stage) {
  if (s.op != ir::ReduceOp::None || !s.reduce_axes.empty() || s.axes.size() != gemm_stage.axes.size())
    return std::nullopt;
  const auto* add = s.body.as<ir::Binary>();
  if (!add || add->op != ir::BinOp::Add) return std::nullopt;
  auto x = plain_load(add->a), y = plain_load(add->b);
  if (!x || !y) return std::nullopt;
  if (y->tensor == gemm_stage.output) std::swap(x, y);
  std::vector<std::string> out_vars;
  for (const auto& a : s.axes) out_vars.push_back(a.name);
  if (x->tensor != gemm_stage.output || x->vars != out_vars || y->vars != std::vector{out_vars.back()})
    return std::nullopt;
  for (std::size_t d = 0; d < s.axes.size(); ++d)
    if (s.axes[d].extent != gemm_stage.axes[d].extent) return std::nullopt;
  Extents ext(s);
  if (!fits(w, s.output, out_vars, ext) || !fits(w, y->tensor, y->vars, ext)) return std::nullopt;
  return tensor_index(w, y->tensor);
}

// ---- conv2d: im2col + sgemm ----

// Integer value of an index expression at the given variable values; nullopt for anything but
// integer arithmetic on those variables.
std::optional<int64_t> eval_index(const ir::Expr& e, const std::map<std::string, int64_t>& vars) {
  if (const auto* c = e.as<ir::IntImm>()) return c->value;
  if (const auto* v = e.as<ir::Var>()) {
    auto it = vars.find(v->name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  }
  const auto* b = e.as<ir::Binary>();
  if (!b) return std::nullopt;
  auto x = eval_index(b->a, vars), y = eval_index(b->b, vars);
  if (!x || !y) return std::nullopt;
  switch (b->op) {
    case ir::BinOp::Add:
      return ir::checked_add(*x, *y);
    case ir::BinOp::Sub:
      return ir::checked_sub(*x, *y);
    case ir::BinOp::Mul:
      return ir::checked_mul(*x, *y);
    default:
      return std::nullopt;
  }
}

// index = out * stride + red * dilation - pad, for every out in [0, out_extent), red in [0, red_extent).
struct Window {
  int64_t stride = 1, dilation = 1, offset = 0;  // offset = -pad
};

std::optional<Window> match_window(const ir::Expr& e, const std::string& out, int64_t out_extent,
                                   const std::string& red, int64_t red_extent) {
  // The check below evaluates every point: refuse windows too large to check (no real filter is).
  auto points = ir::checked_mul(out_extent, red_extent);
  if (!points || *points > (int64_t{1} << 22)) return std::nullopt;
  auto at = [&](int64_t o, int64_t r) { return eval_index(e, {{out, o}, {red, r}}); };
  auto origin = at(0, 0), o1 = at(out_extent > 1 ? 1 : 0, 0), r1 = at(0, red_extent > 1 ? 1 : 0);
  if (!origin || !o1 || !r1) return std::nullopt;
  auto stride = ir::checked_sub(*o1, *origin), dilation = ir::checked_sub(*r1, *origin);
  if (!stride || !dilation) return std::nullopt;
  Window win{*stride, *dilation, *origin};
  if (win.stride < 0 || win.dilation < 0 || win.stride > INT32_MAX || win.dilation > INT32_MAX ||
      win.offset < INT32_MIN || win.offset > INT32_MAX)
    return std::nullopt;
  // The expression must be exactly this affine function everywhere (it is small: extents product).
  for (int64_t o = 0; o < out_extent; ++o)
    for (int64_t r = 0; r < red_extent; ++r)
      if (at(o, r) != win.offset + o * win.stride + r * win.dilation) return std::nullopt;
  return win;
}

struct Conv {
  bool nhwc = false;
  int x = -1, wt = -1, y = -1;  // tensor indices
  int64_t n = 0, c = 0, h = 0, wd = 0, k = 0, r = 0, s = 0, p = 0, q = 0;
  Window wh, ww;

  // im2col rows for one image, then sgemm.
  //   NCHW: col[(c*R + r)*S + s][p*Q + q];  Y_n[K, PQ] = W[K, CRS] * col[CRS, PQ]
  //   NHWC: col[p*Q + q][(r*S + s)*C + c];  Y_n[PQ, K] = col[PQ, RSC] * W[RSC, K]
  void run(const float* X, const float* W, float* Y, std::vector<float>& col) const {
    const int64_t crs = c * r * s, pq = p * q;
    col.resize(static_cast<std::size_t>(crs * pq));
    for (int64_t b = 0; b < n; ++b) {
      const float* img = X + b * c * h * wd;
      for (int64_t ci = 0; ci < c; ++ci)
        for (int64_t ri = 0; ri < r; ++ri)
          for (int64_t si = 0; si < s; ++si)
            for (int64_t pi = 0; pi < p; ++pi) {
              const int64_t hi = wh.offset + pi * wh.stride + ri * wh.dilation;
              for (int64_t qi = 0; qi < q; ++qi) {
                const int64_t wi = ww.offset + qi * ww.stride + si * ww.dilation;
                const bool inside = hi >= 0 && hi < h && wi >= 0 && wi < wd;
                float v = 0.f;
                if (inside) v = nhwc ? img[(hi * wd + wi) * c + ci] : img[(ci * h + hi) * wd + wi];
                if (nhwc)
                  col[static_cast<std::size_t>((pi * q + qi) * crs + (ri * s + si) * c + ci)] = v;
                else
                  col[static_cast<std::size_t>(((ci * r + ri) * s + si) * pq + pi * q + qi)] = v;
              }
            }
      float* out = Y + b * k * pq;
      if (nhwc)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, as_int(pq), as_int(k), as_int(crs), 1.0f,
                    col.data(), as_int(crs), W, as_int(k), 0.0f, out, as_int(k));
      else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, as_int(k), as_int(pq), as_int(crs), 1.0f, W,
                    as_int(crs), col.data(), as_int(pq), 0.0f, out, as_int(pq));
    }
  }
};

std::optional<Conv> match_conv(const ir::Workload& w, const ir::Stage& st) {
  if (st.op != ir::ReduceOp::Sum || st.axes.size() != 4 || st.reduce_axes.size() != 3) return std::nullopt;
  auto factors = product(st.body);
  if (!factors) return std::nullopt;
  // The filter is the plain load; the input has window indices.
  auto wl = plain_load(factors->second);
  ir::Expr xe = factors->first;
  if (!wl) {
    wl = plain_load(factors->first);
    xe = factors->second;
  }
  const auto* xl = xe.as<ir::Load>();
  if (!wl || !xl || xl->indices.size() != 4 || wl->vars.size() != 4) return std::nullopt;
  auto var_of = [](const ir::Expr& e) -> std::string {
    const auto* v = e.as<ir::Var>();
    return v ? v->name : "";
  };
  Conv cv;
  std::string n = st.axes[0].name, k, p, q, c, r, s;
  std::size_t hx, wx;                    // positions of the window indices in X
  if (wl->vars[0] == st.axes[1].name) {  // NCHW: Y[n, k, p, q], X[n, c, h, w], W[k, c, r, s]
    cv.nhwc = false;
    k = st.axes[1].name, p = st.axes[2].name, q = st.axes[3].name;
    c = wl->vars[1], r = wl->vars[2], s = wl->vars[3];
    if (var_of(xl->indices[1]) != c) return std::nullopt;
    hx = 2, wx = 3;
  } else if (wl->vars[3] == st.axes[3].name) {  // NHWC: Y[n, p, q, k], X[n, h, w, c], W[r, s, c, k]
    cv.nhwc = true;
    p = st.axes[1].name, q = st.axes[2].name, k = st.axes[3].name;
    r = wl->vars[0], s = wl->vars[1], c = wl->vars[2];
    if (var_of(xl->indices[3]) != c) return std::nullopt;
    hx = 1, wx = 2;
  } else {
    return std::nullopt;
  }
  // c, r, s must be the three reduction axes, each once.
  std::vector<std::string> red{c, r, s}, want;
  for (const auto& a : st.reduce_axes) want.push_back(a.name);
  std::sort(red.begin(), red.end());
  std::sort(want.begin(), want.end());
  if (red != want || var_of(xl->indices[0]) != n) return std::nullopt;
  Extents ext(st);
  auto win_h = match_window(xl->indices[hx], p, ext[p], r, ext[r]);
  auto win_w = match_window(xl->indices[wx], q, ext[q], s, ext[s]);
  if (!win_h || !win_w) return std::nullopt;
  std::vector<std::string> out_vars;
  for (const auto& a : st.axes) out_vars.push_back(a.name);
  if (!fits(w, st.output, out_vars, ext) || !fits(w, wl->tensor, wl->vars, ext)) return std::nullopt;
  const ir::Tensor* X = w.find_tensor(xl->buffer);
  if (!X || X->dtype != ir::DType::F32 || X->shape.size() != 4 || X->shape[0] != ext[n] ||
      X->shape[cv.nhwc ? 3 : 1] != ext[c])
    return std::nullopt;
  cv.x = tensor_index(w, xl->buffer);
  cv.wt = tensor_index(w, wl->tensor);
  cv.y = tensor_index(w, st.output);
  cv.n = ext[n], cv.c = ext[c], cv.k = ext[k], cv.r = ext[r], cv.s = ext[s], cv.p = ext[p], cv.q = ext[q];
  cv.h = X->shape[hx];
  cv.wd = X->shape[wx];
  cv.wh = *win_h;
  cv.ww = *win_w;
  // cblas takes int dimensions, and the im2col buffer holds crs * pq floats.
  auto crs = ir::checked_product({cv.c, cv.r, cv.s}), pq = ir::checked_mul(cv.p, cv.q);
  auto col = crs && pq ? ir::checked_mul(*crs, *pq) : std::nullopt;
  if (!col || *crs > INT32_MAX || *pq > INT32_MAX || cv.k > INT32_MAX || *col > ir::kMaxElements)
    return std::nullopt;
  return cv;
}

// ---- an elementwise stage after the gemm or convolution: a fused epilogue ----
// OpenBLAS computes no epilogue (bias, residual add, activation), so a library user applies it
// after the call. It is evaluated array by array: each node of the stage's expression computes
// every element of the output at once (a load reads its tensor with a step per output axis, 0 for
// an axis it does not use, so bias[k] broadcasts), one tight loop per node.

struct ArrayNode {
  enum class Kind { Load, Const, Unary, Binary } kind = Kind::Const;
  int tensor = -1;
  std::vector<int64_t> steps;  // Load: per output axis, the step in the tensor (0: not indexed by it)
  float value = 0;
  ir::UnOp uop = ir::UnOp::Neg;
  ir::BinOp bop = ir::BinOp::Add;
  int a = -1, b = -1;  // operand nodes (earlier in the list)
};

struct Elementwise {
  int output = -1;
  std::vector<int64_t> shape;    // the output's extents, row-major
  std::vector<ArrayNode> nodes;  // operands before their users; the last is the stage's value
  int64_t size = 1;

  void run(const std::vector<float*>& buf, std::vector<std::vector<float>>& scratch) const {
    scratch.resize(nodes.size());
    auto arg = [&](int node) -> const float* { return scratch[static_cast<std::size_t>(node)].data(); };
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const ArrayNode& n = nodes[i];
      float* y = buf[static_cast<std::size_t>(output)];  // the last node writes the output
      if (i + 1 < nodes.size()) {
        scratch[i].resize(static_cast<std::size_t>(size));
        y = scratch[i].data();
      }
      switch (n.kind) {
        case ArrayNode::Kind::Load:
          gather(buf[static_cast<std::size_t>(n.tensor)], n.steps, y);
          break;
        case ArrayNode::Kind::Const:
          std::fill(y, y + size, n.value);
          break;
        case ArrayNode::Kind::Unary:
          unary(n.uop, arg(n.a), y);
          break;
        case ArrayNode::Kind::Binary:
          binary(n.bop, arg(n.a), arg(n.b), y);
          break;
      }
    }
  }

 private:
  // y[o] = t[sum over axes of index(o, axis) * steps[axis]], the last axis innermost.
  void gather(const float* t, const std::vector<int64_t>& steps, float* y) const {
    const std::size_t rank = shape.size();
    std::vector<int64_t> idx(rank, 0);
    const int64_t inner = shape.back(), step = steps.back();
    for (int64_t o = 0; o < size; o += inner) {
      int64_t base = 0;
      for (std::size_t d = 0; d + 1 < rank; ++d) base += idx[d] * steps[d];
      for (int64_t j = 0; j < inner; ++j) y[o + j] = t[base + j * step];
      for (std::size_t d = rank - 1; d-- > 0;) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
  }

  void unary(ir::UnOp op, const float* x, float* y) const {
    switch (op) {
      case ir::UnOp::Neg:
        for (int64_t i = 0; i < size; ++i) y[i] = -x[i];
        return;
      case ir::UnOp::Exp:
        for (int64_t i = 0; i < size; ++i) y[i] = std::exp(x[i]);
        return;
      case ir::UnOp::Log:
        for (int64_t i = 0; i < size; ++i) y[i] = std::log(x[i]);
        return;
      case ir::UnOp::Sqrt:
        for (int64_t i = 0; i < size; ++i) y[i] = std::sqrt(x[i]);
        return;
      case ir::UnOp::Rsqrt:
        for (int64_t i = 0; i < size; ++i) y[i] = 1.0f / std::sqrt(x[i]);
        return;
      case ir::UnOp::Tanh:
        for (int64_t i = 0; i < size; ++i) y[i] = std::tanh(x[i]);
        return;
      case ir::UnOp::Erf:
        for (int64_t i = 0; i < size; ++i) y[i] = std::erf(x[i]);
        return;
      case ir::UnOp::Relu:
        for (int64_t i = 0; i < size; ++i) y[i] = std::max(x[i], 0.0f);
        return;
      case ir::UnOp::Gelu:
        for (int64_t i = 0; i < size; ++i) y[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678f));
        return;
      case ir::UnOp::Sigmoid:
        for (int64_t i = 0; i < size; ++i) y[i] = 1.0f / (1.0f + std::exp(-x[i]));
        return;
      case ir::UnOp::Abs:
        for (int64_t i = 0; i < size; ++i) y[i] = std::fabs(x[i]);
        return;
    }
  }

  void binary(ir::BinOp op, const float* a, const float* b, float* y) const {
    switch (op) {
      case ir::BinOp::Add:
        for (int64_t i = 0; i < size; ++i) y[i] = a[i] + b[i];
        return;
      case ir::BinOp::Sub:
        for (int64_t i = 0; i < size; ++i) y[i] = a[i] - b[i];
        return;
      case ir::BinOp::Mul:
        for (int64_t i = 0; i < size; ++i) y[i] = a[i] * b[i];
        return;
      case ir::BinOp::Div:
        for (int64_t i = 0; i < size; ++i) y[i] = a[i] / b[i];
        return;
      case ir::BinOp::Max:
        for (int64_t i = 0; i < size; ++i) y[i] = std::max(a[i], b[i]);
        return;
      case ir::BinOp::Min:
        for (int64_t i = 0; i < size; ++i) y[i] = std::min(a[i], b[i]);
        return;
      default:
        RCTUNE_CHECK(!"match_elementwise admits only arithmetic, max and min");
    }
  }
};

// Appends the nodes of `e` (operands first); the index of its node, or -1 when the expression is
// not one this evaluator computes (an index expression other than a plain axis, a select, a
// comparison).
int add_array_nodes(const ir::Workload& w, const ir::Stage& s, const ir::Expr& e, Elementwise& ew) {
  ArrayNode n;
  switch (e.kind()) {
    case ir::ExprKind::FloatImm:
      n.value = static_cast<float>(e.as<ir::FloatImm>()->value);
      break;
    case ir::ExprKind::IntImm:
      n.value = static_cast<float>(e.as<ir::IntImm>()->value);
      break;
    case ir::ExprKind::Load: {
      const auto load = plain_load(e);
      const ir::Tensor* t = load ? w.find_tensor(load->tensor) : nullptr;
      if (!t || t->dtype != ir::DType::F32 || t->shape.size() != load->vars.size()) return -1;
      n.kind = ArrayNode::Kind::Load;
      n.tensor = tensor_index(w, load->tensor);
      n.steps.assign(s.axes.size(), 0);
      int64_t step = 1;
      for (std::size_t d = load->vars.size(); d-- > 0;) {
        std::size_t axis = 0;
        while (axis < s.axes.size() && s.axes[axis].name != load->vars[d]) ++axis;
        if (axis == s.axes.size() || t->shape[d] != s.axes[axis].extent || n.steps[axis] != 0) return -1;
        n.steps[axis] = step;
        step *= t->shape[d];
      }
      break;
    }
    case ir::ExprKind::Unary: {
      const auto* u = e.as<ir::Unary>();
      n.kind = ArrayNode::Kind::Unary;
      n.uop = u->op;
      if ((n.a = add_array_nodes(w, s, u->a, ew)) < 0) return -1;
      break;
    }
    case ir::ExprKind::Binary: {
      const auto* b = e.as<ir::Binary>();
      using B = ir::BinOp;
      if (b->op != B::Add && b->op != B::Sub && b->op != B::Mul && b->op != B::Div && b->op != B::Max &&
          b->op != B::Min)
        return -1;
      n.kind = ArrayNode::Kind::Binary;
      n.bop = b->op;
      if ((n.a = add_array_nodes(w, s, b->a, ew)) < 0 || (n.b = add_array_nodes(w, s, b->b, ew)) < 0)
        return -1;
      break;
    }
    default:
      return -1;
  }
  ew.nodes.push_back(std::move(n));
  return static_cast<int>(ew.nodes.size()) - 1;
}

// An elementwise stage over the whole of `producer`'s output, writing a workload output.
std::optional<Elementwise> match_elementwise(const ir::Workload& w, const ir::Stage& s,
                                             const ir::Stage& producer) {
  if (s.op != ir::ReduceOp::None || !s.reduce_axes.empty() || s.axes.size() != producer.axes.size() ||
      s.axes.empty() || w.role(s.output) != ir::TensorRole::Output)
    return std::nullopt;
  Elementwise ew;
  for (std::size_t d = 0; d < s.axes.size(); ++d) {
    if (s.axes[d].extent != producer.axes[d].extent) return std::nullopt;
    ew.shape.push_back(s.axes[d].extent);
    ew.size *= s.axes[d].extent;
  }
  std::vector<std::string> out_vars;
  for (const auto& a : s.axes) out_vars.push_back(a.name);
  if (!fits(w, s.output, out_vars, Extents(s)) || add_array_nodes(w, s, s.body, ew) < 0) return std::nullopt;
  ew.output = tensor_index(w, s.output);
  return ew;
}

// ---- timing ----

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One OpenBLAS thread while alive (OpenBLAS's own functions, found at run time: other BLAS
// libraries have none); the previous count afterwards.
class OneBlasThread {
 public:
  OneBlasThread() {
    set_ = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    auto get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    if (get) previous_ = get();
    if (set_) set_(1);
  }
  ~OneBlasThread() {
    if (set_ && previous_ > 0) set_(previous_);
  }
  OneBlasThread(const OneBlasThread&) = delete;
  OneBlasThread& operator=(const OneBlasThread&) = delete;

 private:
  void (*set_)(int) = nullptr;
  int previous_ = 0;
};

// The calling thread on `core` while alive (nothing for core < 0); its affinity restored afterwards.
class PinnedToCore {
 public:
  explicit PinnedToCore(int core) {
    if (core < 0) return;
    if (sched_getaffinity(0, sizeof saved_, &saved_) != 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(core, &set);
    if (sched_setaffinity(0, sizeof set, &set) == 0)
      pinned_ = true;
    else
      spdlog::warn("library baseline: cannot pin to core {}: {}; measuring unpinned", core,
                   std::strerror(errno));
  }
  ~PinnedToCore() {
    if (pinned_) sched_setaffinity(0, sizeof saved_, &saved_);
  }
  PinnedToCore(const PinnedToCore&) = delete;
  PinnedToCore& operator=(const PinnedToCore&) = delete;

 private:
  cpu_set_t saved_{};
  bool pinned_ = false;
};

}  // namespace

std::optional<int64_t> library_baseline_bytes(const ir::Workload& w) {
  auto bytes = ir::workload_bytes(w);
  if (!bytes) return std::nullopt;
  if (w.stages.size() == 1 || w.stages.size() == 2) {
    if (auto cv = match_conv(w, w.stages[0])) {
      auto col = ir::checked_mul(cv->c * cv->r * cv->s, cv->p * cv->q * 4);  // bounded by match_conv
      if (!col) return std::nullopt;
      // An epilogue's arrays: at most one per node of its expression, each the output's size.
      auto scratch = w.stages.size() == 2 ? ir::checked_mul(16, cv->n * cv->k * cv->p * cv->q * 4)
                                          : std::optional<int64_t>(0);
      return scratch ? ir::checked_add(*bytes, *col + *scratch) : std::nullopt;
    }
  }
  return bytes;
}

std::optional<LibraryRoutine> find_library_routine(const ir::Workload& w) {
  if (w.stages.size() == 1) {
    if (auto g = match_gemm(w, w.stages[0]))
      return LibraryRoutine{g->routine(), [g = *g](const std::vector<float*>& buf) {
                              g.run(buf[static_cast<std::size_t>(g.a)], buf[static_cast<std::size_t>(g.b)],
                                    buf[static_cast<std::size_t>(g.c)], 0.0f);
                            }};
    if (auto cv = match_conv(w, w.stages[0])) {
      auto col = std::make_shared<std::vector<float>>();
      return LibraryRoutine{"openblas_im2col_sgemm", [cv = *cv, col](const std::vector<float*>& buf) {
                              cv.run(buf[static_cast<std::size_t>(cv.x)],
                                     buf[static_cast<std::size_t>(cv.wt)],
                                     buf[static_cast<std::size_t>(cv.y)], *col);
                            }};
    }
  }
  if (w.stages.size() == 2 && w.role(w.stages[0].output) == ir::TensorRole::Intermediate) {
    auto g = match_gemm(w, w.stages[0]);
    auto bias = g ? match_bias_epilogue(w, w.stages[1], w.stages[0]) : std::nullopt;
    if (g && bias) {
      // The output starts as the bias, broadcast over rows; sgemm adds the product (beta = 1).
      Gemm out = *g;
      out.c = tensor_index(w, w.stages[1].output);
      int b = *bias;
      return LibraryRoutine{
          out.routine(), [out, b](const std::vector<float*>& buf) {
            float* y = buf[static_cast<std::size_t>(out.c)];
            const float* bias = buf[static_cast<std::size_t>(b)];
            for (int64_t row = 0; row < out.batch * out.m; ++row)
              std::memcpy(y + row * out.n, bias, static_cast<std::size_t>(out.n) * sizeof(float));
            out.run(buf[static_cast<std::size_t>(out.a)], buf[static_cast<std::size_t>(out.b)], y, 1.0f);
          }};
    }
    // Any other elementwise epilogue (bias, residual, gate, activations): the library call into
    // the intermediate, then the epilogue array by array.
    auto ew = match_elementwise(w, w.stages[1], w.stages[0]);
    if (g && ew) {
      auto scratch = std::make_shared<std::vector<std::vector<float>>>();
      return LibraryRoutine{std::string(g->routine()) + "+epilogue",
                            [g = *g, ew = *ew, scratch](const std::vector<float*>& buf) {
                              g.run(buf[static_cast<std::size_t>(g.a)], buf[static_cast<std::size_t>(g.b)],
                                    buf[static_cast<std::size_t>(g.c)], 0.0f);
                              ew.run(buf, *scratch);
                            }};
    }
    auto cv = ew ? match_conv(w, w.stages[0]) : std::nullopt;
    if (cv && ew) {
      auto col = std::make_shared<std::vector<float>>();
      auto scratch = std::make_shared<std::vector<std::vector<float>>>();
      return LibraryRoutine{"openblas_im2col_sgemm+epilogue",
                            [cv = *cv, ew = *ew, col, scratch](const std::vector<float*>& buf) {
                              cv.run(buf[static_cast<std::size_t>(cv.x)],
                                     buf[static_cast<std::size_t>(cv.wt)],
                                     buf[static_cast<std::size_t>(cv.y)], *col);
                              ew.run(buf, *scratch);
                            }};
    }
  }
  return std::nullopt;
}

std::optional<LibraryBaseline> measure_library_baseline(const ir::Workload& w, double min_time_s,
                                                        int pin_core) {
  auto routine = find_library_routine(w);
  if (!routine) return std::nullopt;
  // Refuse before allocating: the tensors (and, for a convolution, its im2col buffer) must fit.
  const std::string why = ir::check_fits_in_memory(library_baseline_bytes(w).value_or(INT64_MAX),
                                                   "the library baseline of " + w.name);
  if (!why.empty()) throw std::runtime_error(why);
  // Deterministic inputs in [-1, 1] (the values do not matter to sgemm's speed, only that they are
  // ordinary numbers).
  std::vector<std::vector<float>> data;
  std::vector<float*> buffers;
  for (const auto& t : w.tensors) {
    std::vector<float> v(static_cast<std::size_t>(t.num_elements()));
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<float>((i * 2654435761u) % 2001) / 1000.f - 1.f;
    data.push_back(std::move(v));
  }
  for (auto& v : data) buffers.push_back(v.data());

  OneBlasThread one_thread;
  PinnedToCore pinned(pin_core);
  routine->run(buffers);  // warm-up
  // Short routines run in batches of back-to-back calls, so that each timed sample is >= 100 us.
  double t0 = seconds_now();
  routine->run(buffers);
  double once = seconds_now() - t0;
  const int batch =
      once >= 1e-4 ? 1 : static_cast<int>(std::min(1e4, std::ceil(1e-4 / std::max(once, 1e-9))));
  std::vector<double> times;
  double total = 0;
  while ((total < min_time_s || times.size() < 3) && times.size() < 10000) {
    double s = seconds_now();
    for (int i = 0; i < batch; ++i) routine->run(buffers);
    double d = seconds_now() - s;
    total += d;
    times.push_back(d / batch);
  }
  TimingStats stats = summarize_times(times);
  LibraryBaseline b;
  b.name = routine->name;
  b.median_s = stats.median_s;
  b.gflops = stats.median_s > 0 ? w.flops() / stats.median_s * 1e-9 : 0;
  return b;
}

}  // namespace rctune::runtime
