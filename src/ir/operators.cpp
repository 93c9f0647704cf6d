#include "rctune/ir/operators.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>

#include "ir/epilogue.h"
#include "rctune/ir/limits.h"
#include "rctune/ir/parser.h"
#include "rctune/ir/text.h"

namespace rctune::ir {

namespace {

enum class Kind { Size, NonNegative, Positive, DTypeName, OptionalSize, Epilogue };

// Integer parameters are at most 2^40: the derived extents (conv_out) then fit int64; the element
// counts of the tensors are checked by the parser (rctune/ir/limits.h).
constexpr int64_t kMaxParam = int64_t{1} << 40;

struct ParamDef {
  const char* name;
  Kind kind;
  const char* default_value;
  const char* description;
};

// Parameter values after parsing and defaults; ints, floats and the dtype.
struct Values {
  std::map<std::string, int64_t> ints;
  std::map<std::string, double> floats;
  DType dtype = DType::F32;
  std::vector<detail::EpilogueOp> epilogue;
  int64_t operator[](const std::string& n) const { return ints.at(n); }
};

struct OpDef {
  const char* name;
  const char* description;
  std::vector<ParamDef> params;
  // Returns the workload text; may throw OperatorSpecError for inconsistent values.
  std::function<std::string(const Values&)> source;
};

std::string fmt_double(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".eE") == std::string::npos && s.find_first_of("ni") == std::string::npos) s += ".0";
  return s;
}

std::string shape(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// Declaration lines "  NAME: f32[...]".
struct Text {
  std::ostringstream os;
  DType dtype;
  explicit Text(DType t) : dtype(t) {}
  Text& decl(const std::string& name, const std::vector<int64_t>& dims) {
    os << name << ": " << dtype_name(dtype) << shape(dims) << "\n";
    return *this;
  }
  Text& line(const std::string& s) {
    os << s << "\n";
    return *this;
  }
  std::string str() const { return os.str(); }
};

// h*stride + r*dilation - pad, written without unit factors or zero terms.
std::string window_index(const std::string& out, int64_t stride, const std::string& red, int64_t dilation,
                         int64_t pad) {
  std::string s = stride == 1 ? out : out + " * " + std::to_string(stride);
  s += " + " + (dilation == 1 ? red : red + " * " + std::to_string(dilation));
  if (pad > 0) s += " - " + std::to_string(pad);
  return s;
}

int64_t conv_out(const std::string& op, const char* what, int64_t in, int64_t k, int64_t stride, int64_t pad,
                 int64_t dilation) {
  // Parameters are at most 2^40, but dilation * (k - 1) may not fit: the span is computed checked.
  auto reach = checked_mul(dilation, k - 1);
  if (!reach)
    throw OperatorSpecError(op + ": the filter's reach (extent " + std::to_string(k) + " times dilation " +
                            std::to_string(dilation) + ") overflows 64-bit integers");
  int64_t span = in + 2 * pad - *reach - 1;
  if (span < 0)
    throw OperatorSpecError(op + ": the filter (extent " + std::to_string(k) + ", dilation " +
                            std::to_string(dilation) + ") is larger than the padded input " + what + " (" +
                            std::to_string(in) + " + 2*" + std::to_string(pad) + ")");
  return span / stride + 1;
}

// The convolutions' parameters; depthwise_conv2d has no K (each of its C channels is filtered alone).
std::vector<ParamDef> conv_params(bool depthwise) {
  std::vector<ParamDef> p = {
      {"N", Kind::Size, "1", "batch"},
      {"C", Kind::Size, "64", depthwise ? "channels" : "input channels"},
      {"H", Kind::Size, "56", "input height"},
      {"W", Kind::Size, "56", "input width"},
      {"K", Kind::Size, "64", "output channels"},
      {"R", Kind::Size, "3", "filter height"},
      {"S", Kind::Size, "3", "filter width"},
      {"stride", Kind::Size, "1", "stride (both dimensions)"},
      {"pad", Kind::NonNegative, "1", "zero padding on each side (both dimensions)"},
      {"dilation", Kind::Size, "1", "filter dilation (both dimensions)"},
  };
  if (depthwise) std::erase_if(p, [](const ParamDef& d) { return std::string(d.name) == "K"; });
  return p;
}

const ParamDef kDType = {"dtype", Kind::DTypeName, "f32", "element type: f32 or f64"};

std::vector<ParamDef> with_dtype(std::vector<ParamDef> p) {
  p.push_back(kDType);
  return p;
}

// The operators whose result can take a fused elementwise epilogue (ir/epilogue.h).
std::vector<ParamDef> with_dtype_epilogue(std::vector<ParamDef> p) {
  p.push_back(kDType);
  static const std::string description =
      "elementwise ops applied to the result, joined by +: " + detail::epilogue_op_names();
  p.push_back({"epilogue", Kind::Epilogue, "none", description.c_str()});
  return p;
}

// The result of a reduction operator: the stage `out[index] += rhs`. With an epilogue, the reduction
// writes `acc` instead and one elementwise stage computes out[index] = chain(acc[index]), reading a
// bias by the channel variable (extent `channels`) and residuals and gates by the whole index.
std::string reduction_result(Text& t, const Values& v, const std::string& out, const std::string& acc,
                             const std::vector<int64_t>& dims, const std::string& index,
                             const std::string& channel, int64_t channels, const std::string& rhs) {
  if (v.epilogue.empty())
    return t.decl(out, dims).line(out + "[" + index + "] += " + rhs).line("outputs: " + out).str();
  t.decl(acc, dims);
  for (const auto& in : detail::epilogue_inputs(v.epilogue))
    t.decl(in.name, in.per_channel ? std::vector<int64_t>{channels} : dims);
  return t.decl(out, dims)
      .line(acc + "[" + index + "] += " + rhs)
      .line(out + "[" + index +
            "] = " + detail::epilogue_expression(v.epilogue, acc + "[" + index + "]", index, channel))
      .line("outputs: " + out)
      .str();
}

// dense and dense_gelu: a matmul stage XW, then one elementwise stage Y = epilogue (reads XW and bias).
std::string dense_text(const Values& v, const std::string& epilogue) {
  return Text(v.dtype)
      .decl("X", {v["M"], v["K"]})
      .decl("W", {v["K"], v["N"]})
      .decl("bias", {v["N"]})
      .decl("XW", {v["M"], v["N"]})
      .decl("Y", {v["M"], v["N"]})
      .line("XW[i, j] += X[i, k] * W[k, j]")
      .line("Y[i, j] = " + epilogue)
      .line("outputs: Y")
      .str();
}

std::string conv2d_source(const Values& v, bool nhwc) {
  const std::string op = nhwc ? "conv2d_nhwc" : "conv2d_nchw";
  int64_t P = conv_out(op, "height", v["H"], v["R"], v["stride"], v["pad"], v["dilation"]);
  int64_t Q = conv_out(op, "width", v["W"], v["S"], v["stride"], v["pad"], v["dilation"]);
  std::string hi = window_index("p", v["stride"], "r", v["dilation"], v["pad"]);
  std::string wi = window_index("q", v["stride"], "s", v["dilation"], v["pad"]);
  Text t(v.dtype);
  if (nhwc) {
    t.decl("X", {v["N"], v["H"], v["W"], v["C"]}).decl("W", {v["R"], v["S"], v["C"], v["K"]});
    return reduction_result(t, v, "Y", "conv", {v["N"], P, Q, v["K"]}, "n, p, q, k", "k", v["K"],
                            "X[n, " + hi + ", " + wi + ", c] * W[r, s, c, k]");
  }
  t.decl("X", {v["N"], v["C"], v["H"], v["W"]}).decl("W", {v["K"], v["C"], v["R"], v["S"]});
  return reduction_result(t, v, "Y", "conv", {v["N"], v["K"], P, Q}, "n, k, p, q", "k", v["K"],
                          "X[n, c, " + hi + ", " + wi + "] * W[k, c, r, s]");
}

const std::vector<OpDef>& defs() {
  static const std::vector<OpDef> d = {
      {"matmul", "C[M,N] = A[M,K] * B[K,N]",
       with_dtype_epilogue({{"M", Kind::Size, "1024", "rows of A and C"},
                            {"N", Kind::Size, "1024", "columns of B and C"},
                            {"K", Kind::Size, "1024", "reduction length"}}),
       [](const Values& v) {
         Text t(v.dtype);
         t.decl("A", {v["M"], v["K"]}).decl("B", {v["K"], v["N"]});
         return reduction_result(t, v, "C", "AB", {v["M"], v["N"]}, "i, j", "j", v["N"], "A[i, k] * B[k, j]");
       }},
      {"batch_matmul", "C[B,M,N] = A[B,M,K] * B[B,K,N], one matmul per batch entry",
       with_dtype_epilogue({{"B", Kind::Size, "16", "batch"},
                            {"M", Kind::Size, "512", "rows"},
                            {"N", Kind::Size, "512", "columns"},
                            {"K", Kind::Size, "512", "reduction length"}}),
       [](const Values& v) {
         Text t(v.dtype);
         t.decl("A", {v["B"], v["M"], v["K"]}).decl("B", {v["B"], v["K"], v["N"]});
         return reduction_result(t, v, "C", "AB", {v["B"], v["M"], v["N"]}, "b, i, j", "j", v["N"],
                                 "A[b, i, k] * B[b, k, j]");
       }},
      {"dense", "Y[M,N] = X[M,K] * W[K,N] + bias[N], as two stages (matmul, then bias)",
       with_dtype({{"M", Kind::Size, "1024", "rows (tokens)"},
                   {"N", Kind::Size, "1024", "output features"},
                   {"K", Kind::Size, "1024", "input features"}}),
       [](const Values& v) { return dense_text(v, "XW[i, j] + bias[j]"); }},
      {"dense_gelu", "Y[M,N] = gelu(X[M,K] * W[K,N] + bias[N]): matmul stage, then one fused bias+gelu stage",
       with_dtype({{"M", Kind::Size, "1024", "rows (tokens)"},
                   {"N", Kind::Size, "1024", "output features"},
                   {"K", Kind::Size, "1024", "input features"}}),
       [](const Values& v) { return dense_text(v, "gelu(XW[i, j] + bias[j])"); }},
      {"conv2d_nchw",
       "2-D convolution, X[N,C,H,W] * W[K,C,R,S] -> Y[N,K,P,Q], with stride, zero padding and dilation",
       with_dtype_epilogue(conv_params(false)), [](const Values& v) { return conv2d_source(v, false); }},
      {"conv2d_nhwc",
       "2-D convolution, X[N,H,W,C] * W[R,S,C,K] -> Y[N,P,Q,K], with stride, zero padding and dilation",
       with_dtype_epilogue(conv_params(false)), [](const Values& v) { return conv2d_source(v, true); }},
      {"depthwise_conv2d", "depthwise 2-D convolution (NCHW), X[N,C,H,W] * W[C,R,S] -> Y[N,C,P,Q]",
       with_dtype_epilogue(conv_params(true)),
       [](const Values& v) {
         const std::string op = "depthwise_conv2d";
         int64_t P = conv_out(op, "height", v["H"], v["R"], v["stride"], v["pad"], v["dilation"]);
         int64_t Q = conv_out(op, "width", v["W"], v["S"], v["stride"], v["pad"], v["dilation"]);
         std::string hi = window_index("p", v["stride"], "r", v["dilation"], v["pad"]);
         std::string wi = window_index("q", v["stride"], "s", v["dilation"], v["pad"]);
         Text t(v.dtype);
         t.decl("X", {v["N"], v["C"], v["H"], v["W"]}).decl("W", {v["C"], v["R"], v["S"]});
         return reduction_result(t, v, "Y", "conv", {v["N"], v["C"], P, Q}, "n, c, p, q", "c", v["C"],
                                 "X[n, c, " + hi + ", " + wi + "] * W[c, r, s]");
       }},
      {"softmax", "row softmax of X[M,N]: row max, sum of exponentials, normalise (three stages)",
       with_dtype({{"M", Kind::Size, "1024", "rows"}, {"N", Kind::Size, "1024", "row length"}}),
       [](const Values& v) {
         return Text(v.dtype)
             .decl("X", {v["M"], v["N"]})
             .decl("row_max", {v["M"]})
             .decl("row_sum", {v["M"]})
             .decl("Y", {v["M"], v["N"]})
             .line("row_max[i] max= X[i, j]")
             .line("row_sum[i] += exp(X[i, j] - row_max[i])")
             .line("Y[i, j] = exp(X[i, j] - row_max[i]) / row_sum[i]")
             .line("outputs: Y")
             .str();
       }},
      {"layernorm",
       "layer normalisation over the rows of X[M,N], with gamma[N] and beta[N] (mean, variance, normalise)",
       with_dtype({{"M", Kind::Size, "1024", "rows (tokens)"},
                   {"N", Kind::Size, "768", "normalised length (hidden size)"},
                   {"eps", Kind::Positive, "1e-05", "added to the variance"}}),
       [](const Values& v) {
         std::string n = std::to_string(v["N"]);
         return Text(v.dtype)
             .decl("X", {v["M"], v["N"]})
             .decl("gamma", {v["N"]})
             .decl("beta", {v["N"]})
             .decl("mean", {v["M"]})
             .decl("variance", {v["M"]})
             .decl("Y", {v["M"], v["N"]})
             .line("mean[i] += X[i, j] / " + n)
             .line("variance[i] += (X[i, j] - mean[i]) * (X[i, j] - mean[i]) / " + n)
             .line("Y[i, j] = (X[i, j] - mean[i]) * rsqrt(variance[i] + " + fmt_double(v.floats.at("eps")) +
                   ") * gamma[j] + beta[j]")
             .line("outputs: Y")
             .str();
       }},
      {"rmsnorm", "RMS normalisation over the rows of X[M,N], with gamma[N] (mean square, normalise)",
       with_dtype({{"M", Kind::Size, "1024", "rows (tokens)"},
                   {"N", Kind::Size, "768", "normalised length (hidden size)"},
                   {"eps", Kind::Positive, "1e-06", "added to the mean square"}}),
       [](const Values& v) {
         std::string n = std::to_string(v["N"]);
         return Text(v.dtype)
             .decl("X", {v["M"], v["N"]})
             .decl("gamma", {v["N"]})
             .decl("mean_sq", {v["M"]})
             .decl("Y", {v["M"], v["N"]})
             .line("mean_sq[i] += X[i, j] * X[i, j] / " + n)
             .line("Y[i, j] = X[i, j] * rsqrt(mean_sq[i] + " + fmt_double(v.floats.at("eps")) +
                   ") * gamma[j]")
             .line("outputs: Y")
             .str();
       }},
      {"attention",
       "scaled dot-product attention: O = softmax(Q K^T / sqrt(D)) V, per batch*head, as five stages",
       with_dtype({{"B", Kind::Size, "12", "batch * heads"},
                   {"S", Kind::Size, "512", "query sequence length"},
                   {"D", Kind::Size, "64", "head dimension"},
                   {"SK", Kind::OptionalSize, "S", "key/value sequence length (defaults to S)"}}),
       [](const Values& v) {
         int64_t B = v["B"], S = v["S"], D = v["D"], SK = v["SK"];
         std::string scale = fmt_double(1.0 / std::sqrt(static_cast<double>(D)));
         std::string e = "exp((scores[b, i, j] - row_max[b, i]) * " + scale + ")";
         return Text(v.dtype)
             .decl("Q", {B, S, D})
             .decl("K", {B, SK, D})
             .decl("V", {B, SK, D})
             .decl("scores", {B, S, SK})
             .decl("row_max", {B, S})
             .decl("row_sum", {B, S})
             .decl("P", {B, S, SK})
             .decl("O", {B, S, D})
             .line("scores[b, i, j] += Q[b, i, d] * K[b, j, d]")
             .line("row_max[b, i] max= scores[b, i, j]")
             .line("row_sum[b, i] += " + e)
             .line("P[b, i, j] = " + e + " / row_sum[b, i]")
             .line("O[b, i, d] += P[b, i, j] * V[b, j, d]")
             .line("outputs: O")
             .str();
       }},
  };
  return d;
}

std::string trim(const std::string& s) { return ir::trim(s, " \t\r\n"); }

std::string names_of(const std::vector<ParamDef>& p) {
  std::string s;
  for (size_t i = 0; i < p.size(); ++i) s += (i ? ", " : "") + std::string(p[i].name);
  return s;
}

std::string all_names() {
  std::string s;
  for (const auto& d : defs()) s += (s.empty() ? "" : ", ") + std::string(d.name);
  return s;
}

const OpDef& find_def(const std::string& name, const std::string& spec) {
  for (const auto& d : defs())
    if (name == d.name) return d;
  throw OperatorSpecError("workload spec '" + spec + "': unknown operator '" + name +
                          "' (known: " + all_names() + ")");
}

struct Resolved {
  const OpDef* def;
  Values values;
  std::string canonical;
};

Resolved resolve(const std::string& spec_in) {
  const std::string spec = trim(spec_in);
  size_t colon = spec.find(':');
  std::string name = trim(spec.substr(0, colon));
  if (name.empty())
    throw OperatorSpecError("workload spec '" + spec + "': no operator name (known: " + all_names() + ")");
  const OpDef& def = find_def(name, spec);
  auto bad = [&](const std::string& why) {
    return OperatorSpecError("workload spec '" + spec + "': " + why + " (" + def.name +
                             " takes: " + names_of(def.params) + ")");
  };
  std::map<std::string, std::string> given;
  std::string rest = colon == std::string::npos ? "" : trim(spec.substr(colon + 1));
  if (!rest.empty()) {
    std::vector<std::string> items;
    size_t start = 0;
    while (true) {
      size_t comma = rest.find(',', start);
      items.push_back(
          trim(rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    for (const auto& item : items) {
      if (item.empty()) throw bad("empty parameter between commas");
      size_t eq = item.find('=');
      if (eq == std::string::npos) throw bad("parameter '" + item + "' has no value; write NAME=VALUE");
      std::string key = trim(item.substr(0, eq));
      std::string value = trim(item.substr(eq + 1));
      bool known =
          std::any_of(def.params.begin(), def.params.end(), [&](const ParamDef& p) { return key == p.name; });
      if (!known) throw bad("unknown parameter '" + key + "'");
      if (value.empty()) throw bad("parameter " + key + " has no value");
      if (!given.emplace(key, value).second) throw bad("parameter " + key + " is given twice");
    }
  }
  Resolved r;
  r.def = &def;
  std::string canonical = def.name;
  char sep = ':';
  // Two passes so that OptionalSize defaults ("S") can refer to another parameter.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& p : def.params) {
      bool optional_default = p.kind == Kind::OptionalSize && !given.count(p.name);
      if ((pass == 0) == optional_default) continue;
      std::string value = given.count(p.name) ? given.at(p.name) : p.default_value;
      if (optional_default) value = std::to_string(r.values[p.default_value]);
      switch (p.kind) {
        case Kind::Size:
        case Kind::NonNegative:
        case Kind::OptionalSize: {
          int64_t x = 0;
          auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), x);
          if (ec != std::errc() || ptr != value.data() + value.size())
            throw bad("parameter " + std::string(p.name) + " must be an integer, got '" + value + "'");
          if (p.kind == Kind::NonNegative ? x < 0 : x < 1)
            throw bad("parameter " + std::string(p.name) + " must be " +
                      (p.kind == Kind::NonNegative ? "at least 0" : "at least 1") + ", got " + value);
          if (x > kMaxParam)
            throw bad("parameter " + std::string(p.name) +
                      " must be at most 2^40 = " + std::to_string(kMaxParam) + ", got " + value);
          r.values.ints[p.name] = x;
          break;
        }
        case Kind::Positive: {
          double x = 0;
          auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), x);
          if (ec != std::errc() || ptr != value.data() + value.size() || !std::isfinite(x))
            throw bad("parameter " + std::string(p.name) + " must be a number, got '" + value + "'");
          if (x <= 0) throw bad("parameter " + std::string(p.name) + " must be positive, got " + value);
          r.values.floats[p.name] = x;
          break;
        }
        case Kind::Epilogue:
          r.values.epilogue = detail::parse_epilogue(value, spec);
          break;
        case Kind::DTypeName:
          if (value == "f32" || value == "float32")
            r.values.dtype = DType::F32;
          else if (value == "f64" || value == "float64")
            r.values.dtype = DType::F64;
          else
            throw bad("parameter dtype must be f32 or f64, got '" + value + "'");
          break;
      }
    }
  }
  for (const auto& p : def.params) {
    std::string v;
    if (p.kind == Kind::Epilogue) {
      // Left out when none, so the names of workloads without an epilogue stay as they were.
      if (r.values.epilogue.empty()) continue;
      v = detail::epilogue_text(r.values.epilogue);
    } else if (p.kind == Kind::DTypeName)
      v = dtype_name(r.values.dtype);
    else if (p.kind == Kind::Positive)
      v = fmt_double(r.values.floats.at(p.name));
    else
      v = std::to_string(r.values.ints.at(p.name));
    canonical += sep + std::string(p.name) + "=" + v;
    sep = ',';
  }
  r.canonical = canonical;
  return r;
}

}  // namespace

const std::vector<OperatorInfo>& operator_library() {
  static const std::vector<OperatorInfo> lib = [] {
    std::vector<OperatorInfo> v;
    for (const auto& d : defs()) {
      OperatorInfo info{d.name, d.description, {}};
      for (const auto& p : d.params) info.params.push_back({p.name, p.default_value, p.description});
      v.push_back(std::move(info));
    }
    return v;
  }();
  return lib;
}

std::vector<std::string> operator_names() {
  std::vector<std::string> v;
  for (const auto& d : defs()) v.push_back(d.name);
  return v;
}

std::string operator_description(const std::string& name) { return find_def(name, name).description; }

bool is_operator_spec(const std::string& spec) {
  std::string name = trim(spec.substr(0, spec.find(':')));
  return std::any_of(defs().begin(), defs().end(), [&](const OpDef& d) { return name == d.name; });
}

std::string canonical_operator_spec(const std::string& spec) { return resolve(spec).canonical; }

std::string operator_source(const std::string& spec) {
  Resolved r = resolve(spec);
  return r.def->source(r.values);
}

namespace {

// The parameter each operator's work is linear in (reduced_operator). A new operator names its
// own here; a test checks that every operator has one.
const char* rows_param(const std::string& op) {
  static const std::map<std::string, const char*> rows = {
      {"matmul", "M"},           {"batch_matmul", "B"}, {"dense", "M"},
      {"dense_gelu", "M"},       {"conv2d_nchw", "K"},  {"conv2d_nhwc", "K"},
      {"depthwise_conv2d", "C"}, {"softmax", "M"},      {"layernorm", "M"},
      {"rmsnorm", "M"},          {"attention", "B"}};
  const auto it = rows.find(op);
  return it == rows.end() ? nullptr : it->second;
}

}  // namespace

std::optional<std::string> operator_spec_of(const Workload& w) {
  if (!is_operator_spec(w.name)) return std::nullopt;
  // The listings without their first line, "workload NAME".
  auto body = [](const std::string& text) { return text.substr(std::min(text.size(), text.find('\n') + 1)); };
  try {
    const Workload op = make_operator(w.name);
    if (body(to_string(op)) == body(to_string(w))) return op.name;
  } catch (const OperatorSpecError&) {
    // A name that looks like a spec but is not one.
  }
  return std::nullopt;
}

std::optional<ReducedOperator> reduced_operator(const std::string& spec, double max_flops) {
  const Resolved r = resolve(spec);
  const char* param = rows_param(r.def->name);
  if (param == nullptr)
    throw std::logic_error(std::string("operator ") + r.def->name + " names no rows parameter");
  const double flops = make_operator(r.canonical).flops();
  const int64_t full = r.values[param];
  if (!(flops > max_flops) || full <= 1) return std::nullopt;
  const int64_t reduced =
      std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(full) * max_flops / flops));
  if (reduced >= full) return std::nullopt;
  // The canonical spec with the rows item replaced.
  std::string out = r.canonical.substr(0, r.canonical.find(':') + 1);
  std::istringstream items(r.canonical.substr(out.size()));
  std::string sep;
  for (std::string item; std::getline(items, item, ',');) {
    if (item.rfind(std::string(param) + "=", 0) == 0)
      item = std::string(param) + "=" + std::to_string(reduced);
    out += sep + item;
    sep = ",";
  }
  return ReducedOperator{canonical_operator_spec(out), param, full, reduced};
}

Workload make_operator(const std::string& spec) {
  Resolved r = resolve(spec);
  std::string text = r.def->source(r.values);
  // The text is generated here, so a parse error is a bug in this file; the message shows the text.
  try {
    return parse_workload(text, r.canonical);
  } catch (const SizeLimitError& e) {
    throw OperatorSpecError("workload spec '" + r.canonical + "': " + e.reason());
  } catch (const ParseError& e) {
    throw std::logic_error("operator " + r.canonical + ": generated text does not parse: " + e.what() + "\n" +
                           text);
  }
}

}  // namespace rctune::ir
