// Generic kernels of rctune's operator library, for shapes known only at run time.
//
// An exported kernel package (`rctune export`) holds one tuned kernel per workload, each compiled for
// one fixed shape. When its user asks for another shape of a library operator, the package computes
// it with the plain serial code here: correct, not tuned. The exporter copies this header verbatim
// into every package, where one .cpp includes it; so it depends on the C++17 standard library alone,
// and everything lives in an anonymous namespace (two packages linked into one program never clash).
//
// The operator definitions are rctune's (its docs/workloads.md lists them): parse_spec accepts exactly
// the specs that rctune's make_operator accepts, with the same canonical text, and run() computes
// what rctune's stages define, in the operator's element type, with the same summation order.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iomanip>
#include <limits>
#include <locale>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace {
namespace rctune_generic {

enum class DType { f32, f64 };

// One buffer of a call: inputs, then outputs, in declaration order (intermediates excluded).
struct Tensor {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;  // row-major, dense
  bool output;
};

struct Spec {
  std::string op;  // "matmul"
  // Every parameter with its value, in canonical order and text (epilogue included, "none" when absent).
  std::vector<std::pair<std::string, std::string>> params;
  std::string canonical;  // rctune's canonical spec: every parameter but an epilogue of none
};

namespace detail {

// ---- the operator library's parameters (rctune: src/ir/operators.cpp)

enum class Kind { Size, NonNegative, Positive, DTypeName, OptionalSize, Epilogue };

struct ParamDef {
  const char* name;
  Kind kind;
  const char* default_value;  // "S" for attention's SK: the value of S
};

struct OpDef {
  const char* name;
  std::vector<ParamDef> params;  // canonical order
};

// Integer parameters are at most 2^40 (so derived extents fit int64); elements of a tensor at most
// 2^56, points of a stage's iteration space at most 2^62, and |index| * stride of a read at most 2^56:
// rctune's limits (include/rctune/ir/limits.h), which keep every product here within int64.
constexpr std::int64_t kMaxParam = std::int64_t{1} << 40;
constexpr std::int64_t kMaxElements = std::int64_t{1} << 56;
constexpr std::int64_t kMaxIterations = std::int64_t{1} << 62;
constexpr std::int64_t kMaxIndexSpan = std::int64_t{1} << 56;

inline std::vector<ParamDef> conv_params(bool depthwise) {
  std::vector<ParamDef> p = {
      {"N", Kind::Size, "1"}, {"C", Kind::Size, "64"}, {"H", Kind::Size, "56"}, {"W", Kind::Size, "56"}};
  if (!depthwise) p.push_back({"K", Kind::Size, "64"});
  p.insert(p.end(), {{"R", Kind::Size, "3"},
                     {"S", Kind::Size, "3"},
                     {"stride", Kind::Size, "1"},
                     {"pad", Kind::NonNegative, "1"},
                     {"dilation", Kind::Size, "1"}});
  return p;
}

inline std::vector<ParamDef> with_dtype(std::vector<ParamDef> p, bool epilogue) {
  p.push_back({"dtype", Kind::DTypeName, "f32"});
  if (epilogue) p.push_back({"epilogue", Kind::Epilogue, "none"});
  return p;
}

// Every operator, in rctune's order.
inline const std::vector<OpDef>& operator_table() {
  static const std::vector<OpDef> table = {
      {"matmul",
       with_dtype({{"M", Kind::Size, "1024"}, {"N", Kind::Size, "1024"}, {"K", Kind::Size, "1024"}}, true)},
      {"batch_matmul", with_dtype({{"B", Kind::Size, "16"},
                                   {"M", Kind::Size, "512"},
                                   {"N", Kind::Size, "512"},
                                   {"K", Kind::Size, "512"}},
                                  true)},
      {"dense",
       with_dtype({{"M", Kind::Size, "1024"}, {"N", Kind::Size, "1024"}, {"K", Kind::Size, "1024"}}, false)},
      {"dense_gelu",
       with_dtype({{"M", Kind::Size, "1024"}, {"N", Kind::Size, "1024"}, {"K", Kind::Size, "1024"}}, false)},
      {"conv2d_nchw", with_dtype(conv_params(false), true)},
      {"conv2d_nhwc", with_dtype(conv_params(false), true)},
      {"depthwise_conv2d", with_dtype(conv_params(true), true)},
      {"softmax", with_dtype({{"M", Kind::Size, "1024"}, {"N", Kind::Size, "1024"}}, false)},
      {"layernorm",
       with_dtype({{"M", Kind::Size, "1024"}, {"N", Kind::Size, "768"}, {"eps", Kind::Positive, "1e-05"}},
                  false)},
      {"rmsnorm",
       with_dtype({{"M", Kind::Size, "1024"}, {"N", Kind::Size, "768"}, {"eps", Kind::Positive, "1e-06"}},
                  false)},
      {"attention", with_dtype({{"B", Kind::Size, "12"},
                                {"S", Kind::Size, "512"},
                                {"D", Kind::Size, "64"},
                                {"SK", Kind::OptionalSize, "S"}},
                               false)},
  };
  return table;
}

// ---- fused epilogues (rctune: src/ir/epilogue.cpp)

enum class Ep { Bias, Add, Mul, Relu, Relu6, Gelu, GeluTanh, Sigmoid, Silu };

struct EpName {
  Ep op;
  const char* name;
};

inline const std::vector<EpName>& epilogue_ops() {
  static const std::vector<EpName> ops = {
      {Ep::Bias, "bias"},          {Ep::Add, "add"},         {Ep::Mul, "mul"},
      {Ep::Relu, "relu"},          {Ep::Relu6, "relu6"},     {Ep::Gelu, "gelu"},
      {Ep::GeluTanh, "gelu_tanh"}, {Ep::Sigmoid, "sigmoid"}, {Ep::Silu, "silu"},
  };
  return ops;
}

// silu reads its operand twice and gelu_tanh four times: rctune bounds the chain's length and the
// product of these counts, so that its fused expression stays small.
constexpr std::size_t kMaxEpilogueOps = 16;
constexpr int kMaxEpilogueCopies = 64;

inline const char* epilogue_name(Ep op) {
  for (const auto& o : epilogue_ops())
    if (o.op == op) return o.name;
  return "";
}

// One epilogue input: bias (indexed by the channel) or a residual / gate (the output's shape).
struct EpInput {
  std::string name;  // bias, bias1, ...; res0, res1, ...; gate0, gate1, ...
  bool per_channel;
};

inline std::vector<EpInput> epilogue_inputs(const std::vector<Ep>& ops) {
  std::vector<EpInput> in;
  int biases = 0, residuals = 0, gates = 0;
  for (Ep op : ops) {
    if (op == Ep::Bias) {
      in.push_back({biases == 0 ? std::string("bias") : "bias" + std::to_string(biases), true});
      ++biases;
    } else if (op == Ep::Add) {
      in.push_back({"res" + std::to_string(residuals++), false});
    } else if (op == Ep::Mul) {
      in.push_back({"gate" + std::to_string(gates++), false});
    }
  }
  return in;
}

// ---- text

inline std::string trim(const std::string& s, const char* chars) {
  const std::size_t b = s.find_first_not_of(chars);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(chars) - b + 1);
}

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    const std::size_t at = s.find(sep, start);
    items.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return items;
    start = at + 1;
  }
}

// A decimal number as std::from_chars(general) reads it: optional '-', digits with an optional
// point (at least one digit), optional exponent with digits. Locale-independent.
inline bool parse_double(const std::string& s, double* out) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  auto digit = [&](std::size_t k) { return k < n && s[k] >= '0' && s[k] <= '9'; };
  if (i < n && s[i] == '-') ++i;
  std::size_t mantissa_digits = 0;
  bool nonzero = false;
  for (; digit(i); ++i, ++mantissa_digits) nonzero = nonzero || s[i] != '0';
  if (i < n && s[i] == '.')
    for (++i; digit(i); ++i, ++mantissa_digits) nonzero = nonzero || s[i] != '0';
  if (mantissa_digits == 0) return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    std::size_t k = i + 1;
    if (k < n && (s[k] == '+' || s[k] == '-')) ++k;
    if (!digit(k)) return false;
    while (digit(k)) ++k;
    i = k;
  }
  if (i != n) return false;
  std::istringstream is(s);
  is.imbue(std::locale::classic());
  double v = 0;
  is >> v;
  if (is.fail() || !std::isfinite(v)) return false;  // overflow
  if (v == 0 && nonzero) return false;               // underflow to zero: out of range
  *out = v;
  return true;
}

// The shortest text that reads back as v, fixed or scientific whichever is shorter (fixed on a tie),
// with ".0" appended to an integer: rctune's number format (std::to_chars, then ".0").
inline std::string format_double(double v) {
  std::string digits;  // significant digits, no point
  int exponent = 0;    // v = d.ddd * 10^exponent
  for (int precision = 0; precision < 17; ++precision) {
    std::ostringstream os;
    os.imbue(std::locale::classic());
    os << std::scientific << std::setprecision(precision) << v;
    std::istringstream is(os.str());
    is.imbue(std::locale::classic());
    double back = 0;
    is >> back;
    if (back != v && precision < 16) continue;
    const std::string text = os.str();  // [-]d[.ddd]e[+-]xx
    const std::size_t e = text.find('e');
    for (std::size_t k = 0; k < e; ++k)
      if (text[k] >= '0' && text[k] <= '9') digits += text[k];
    exponent = std::stoi(text.substr(e + 1));
    break;
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const std::string sign = v < 0 ? "-" : "";
  const int len = static_cast<int>(digits.size());
  std::string sci = sign + digits.substr(0, 1);
  if (len > 1) sci += "." + digits.substr(1);
  const int mag = exponent < 0 ? -exponent : exponent;
  sci += std::string("e") + (exponent < 0 ? "-" : "+") + (mag < 10 ? "0" : "") + std::to_string(mag);
  std::string fixed = sign;
  if (exponent >= 0) {
    if (exponent + 1 >= len) {
      // An integer: its exact digits (std::to_chars writes them, not the shortest digits and zeros).
      std::ostringstream os;
      os.imbue(std::locale::classic());
      os << std::fixed << std::setprecision(0) << (v < 0 ? -v : v);
      fixed += os.str();
    } else
      fixed += digits.substr(0, static_cast<std::size_t>(exponent + 1)) + "." +
               digits.substr(static_cast<std::size_t>(exponent + 1));
  } else {
    fixed += "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
  }
  std::string s = fixed.size() <= sci.size() ? fixed : sci;
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

// a * b for a, b >= 0 (every product checked here is of sizes); false when it overflows int64.
inline bool checked_mul(std::int64_t a, std::int64_t b, std::int64_t* r) {
  if (a != 0 && b > std::numeric_limits<std::int64_t>::max() / a) return false;
  *r = a * b;
  return true;
}

// ---- a parsed spec

struct Parsed {
  const OpDef* def = nullptr;
  std::vector<std::pair<std::string, std::string>> params;  // canonical text of each value
  std::vector<std::pair<std::string, std::int64_t>> ints;
  double eps = 0;
  DType dtype = DType::f32;
  std::vector<Ep> epilogue;
  std::string canonical;

  std::int64_t operator[](const char* name) const {
    for (const auto& [n, v] : ints)
      if (n == name) return v;
    throw std::logic_error(std::string("rctune_generic: no integer parameter ") + name);
  }
};

// A spec's error: the message, already naming the spec.
struct SpecError {
  std::string message;
};

inline std::string known_operators() {
  std::string s;
  for (const auto& d : operator_table()) s += (s.empty() ? "" : ", ") + std::string(d.name);
  return s;
}

inline std::vector<Ep> parse_epilogue(const std::string& text, const std::string& spec) {
  auto bad = [&](const std::string& why) {
    std::string names;
    for (const auto& o : epilogue_ops()) names += (names.empty() ? "" : ", ") + std::string(o.name);
    return SpecError{"workload spec '" + spec + "': epilogue '" + text + "': " + why +
                     " (valid ops, joined by '+': " + names + "; or none)"};
  };
  if (text == "none") return {};
  std::vector<Ep> ops;
  int copies = 1;
  for (const std::string& raw : split(text, '+')) {
    const std::string item = trim(raw, " \t");
    if (item.empty()) throw bad("empty op");
    if (item == "none") throw bad("'none' cannot be combined with other ops");
    const EpName* found = nullptr;
    for (const auto& o : epilogue_ops())
      if (item == o.name) found = &o;
    if (!found) throw bad("unknown op '" + item + "'");
    ops.push_back(found->op);
    if (ops.size() > kMaxEpilogueOps) throw bad("more than " + std::to_string(kMaxEpilogueOps) + " ops");
    copies *= found->op == Ep::Silu ? 2 : found->op == Ep::GeluTanh ? 4 : 1;
    if (copies > kMaxEpilogueCopies)
      throw bad("the fused expression repeats the result " + std::to_string(copies) +
                " times (silu uses its operand twice, gelu_tanh four times); at most " +
                std::to_string(kMaxEpilogueCopies));
  }
  return ops;
}

// Parameters and defaults; throws SpecError. (Shapes are checked by layout().)
inline Parsed resolve(const std::string& spec_in) {
  const char* space = " \t\r\n";
  const std::string spec = trim(spec_in, space);
  const std::size_t colon = spec.find(':');
  const std::string name = trim(spec.substr(0, colon), space);
  if (name.empty())
    throw SpecError{"workload spec '" + spec + "': no operator name (known: " + known_operators() + ")"};
  Parsed r;
  for (const auto& d : operator_table())
    if (name == d.name) r.def = &d;
  if (!r.def)
    throw SpecError{"workload spec '" + spec + "': unknown operator '" + name +
                    "' (known: " + known_operators() + ")"};
  const OpDef& def = *r.def;
  auto bad = [&](const std::string& why) {
    std::string names;
    for (const auto& p : def.params) names += (names.empty() ? "" : ", ") + std::string(p.name);
    return SpecError{"workload spec '" + spec + "': " + why + " (" + def.name + " takes: " + names + ")"};
  };
  std::vector<std::pair<std::string, std::string>> given;
  auto given_value = [&](const std::string& key) -> const std::string* {
    for (const auto& [k, v] : given)
      if (k == key) return &v;
    return nullptr;
  };
  const std::string rest = colon == std::string::npos ? "" : trim(spec.substr(colon + 1), space);
  if (!rest.empty()) {
    for (const std::string& raw : split(rest, ',')) {
      const std::string item = trim(raw, space);
      if (item.empty()) throw bad("empty parameter between commas");
      const std::size_t eq = item.find('=');
      if (eq == std::string::npos) throw bad("parameter '" + item + "' has no value; write NAME=VALUE");
      const std::string key = trim(item.substr(0, eq), space);
      const std::string value = trim(item.substr(eq + 1), space);
      bool known = false;
      for (const auto& p : def.params) known = known || key == p.name;
      if (!known) throw bad("unknown parameter '" + key + "'");
      if (value.empty()) throw bad("parameter " + key + " has no value");
      if (given_value(key)) throw bad("parameter " + key + " is given twice");
      given.emplace_back(key, value);
    }
  }
  // Two passes, so that an OptionalSize default ("S") takes the other parameter's value.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& p : def.params) {
      const std::string* g = given_value(p.name);
      const bool optional_default = p.kind == Kind::OptionalSize && !g;
      if ((pass == 0) == optional_default) continue;
      std::string value = g ? *g : p.default_value;
      if (optional_default) value = std::to_string(r[p.default_value]);
      const std::string pname = p.name;
      switch (p.kind) {
        case Kind::Size:
        case Kind::NonNegative:
        case Kind::OptionalSize: {
          std::int64_t x = 0;
          const auto res = std::from_chars(value.data(), value.data() + value.size(), x);
          if (res.ec != std::errc() || res.ptr != value.data() + value.size())
            throw bad("parameter " + pname + " must be an integer, got '" + value + "'");
          const bool non_negative = p.kind == Kind::NonNegative;
          if (non_negative ? x < 0 : x < 1)
            throw bad("parameter " + pname + " must be " + (non_negative ? "at least 0" : "at least 1") +
                      ", got " + value);
          if (x > kMaxParam)
            throw bad("parameter " + pname + " must be at most 2^40 = " + std::to_string(kMaxParam) +
                      ", got " + value);
          r.ints.emplace_back(pname, x);
          break;
        }
        case Kind::Positive: {
          double x = 0;
          if (!parse_double(value, &x))
            throw bad("parameter " + pname + " must be a number, got '" + value + "'");
          if (x <= 0) throw bad("parameter " + pname + " must be positive, got " + value);
          r.eps = x;
          break;
        }
        case Kind::Epilogue:
          r.epilogue = parse_epilogue(value, spec);
          break;
        case Kind::DTypeName:
          if (value == "f32" || value == "float32")
            r.dtype = DType::f32;
          else if (value == "f64" || value == "float64")
            r.dtype = DType::f64;
          else
            throw bad("parameter dtype must be f32 or f64, got '" + value + "'");
          break;
      }
    }
  }
  r.canonical = def.name;
  char sep = ':';
  for (const auto& p : def.params) {
    std::string v;
    if (p.kind == Kind::Epilogue) {
      for (Ep op : r.epilogue) v += (v.empty() ? "" : "+") + std::string(epilogue_name(op));
      if (v.empty()) v = "none";
    } else if (p.kind == Kind::DTypeName) {
      v = r.dtype == DType::f32 ? "f32" : "f64";
    } else if (p.kind == Kind::Positive) {
      v = format_double(r.eps);
    } else {
      v = std::to_string(r[p.name]);
    }
    r.params.emplace_back(p.name, v);
    // An epilogue of none is left out of the canonical spec (rctune's names of unfused workloads).
    if (p.kind == Kind::Epilogue && r.epilogue.empty()) continue;
    r.canonical += sep + std::string(p.name) + "=" + v;
    sep = ',';
  }
  return r;
}

// ---- the tensors and stages of an operator, and rctune's size limits on them

enum class Role { Input, Intermediate, Output };

struct Decl {
  std::string name;
  std::vector<std::int64_t> shape;
  Role role;
};

// A read X[..., out * stride + red * dilation - pad, ...] of a convolution's input: its index
// ranges over [-pad, (out_extent - 1) * stride + (red_extent - 1) * dilation - pad].
struct WindowRead {
  std::size_t tensor;  // into Layout::tensors
  std::size_t dim;
  std::int64_t out_extent, stride, red_extent, dilation, pad;
};

struct Layout {
  std::vector<Decl> tensors;                      // declaration order
  std::vector<std::vector<std::int64_t>> stages;  // each stage's axis extents (spatial, then reduction)
  std::vector<WindowRead> windows;
  std::int64_t P = 0, Q = 0;  // a convolution's output height and width
};

// rctune's output extent of a convolution; throws SpecError for a filter larger than the padded input.
inline std::int64_t conv_out(const std::string& spec, const std::string& op, const char* what,
                             std::int64_t in, std::int64_t k, std::int64_t stride, std::int64_t pad,
                             std::int64_t dilation) {
  std::int64_t reach = 0;
  if (!checked_mul(dilation, k - 1, &reach))
    throw SpecError{"workload spec '" + spec + "': " + op + ": the filter's reach (extent " +
                    std::to_string(k) + " times dilation " + std::to_string(dilation) +
                    ") overflows 64-bit integers"};
  const std::int64_t span = in + 2 * pad - reach - 1;
  if (span < 0)
    throw SpecError{"workload spec '" + spec + "': " + op + ": the filter (extent " + std::to_string(k) +
                    ", dilation " + std::to_string(dilation) + ") is larger than the padded input " + what +
                    " (" + std::to_string(in) + " + 2*" + std::to_string(pad) + ")"};
  return span / stride + 1;
}

// The epilogue's tensors of a reduction result: acc (intermediate), its inputs, the output.
inline void add_result(Layout& l, const Parsed& p, const std::string& acc, const std::string& out,
                       const std::vector<std::int64_t>& dims, std::int64_t channels) {
  if (p.epilogue.empty()) {
    l.tensors.push_back({out, dims, Role::Output});
    return;
  }
  l.tensors.push_back({acc, dims, Role::Intermediate});
  for (const auto& in : epilogue_inputs(p.epilogue))
    l.tensors.push_back({in.name, in.per_channel ? std::vector<std::int64_t>{channels} : dims, Role::Input});
  l.tensors.push_back({out, dims, Role::Output});
  l.stages.push_back(dims);
}

inline Layout layout_of(const Parsed& p) {
  Layout l;
  const std::string op = p.def->name;
  auto in = [&](const char* n, std::vector<std::int64_t> s) {
    l.tensors.push_back({n, std::move(s), Role::Input});
  };
  auto mid = [&](const char* n, std::vector<std::int64_t> s) {
    l.tensors.push_back({n, std::move(s), Role::Intermediate});
  };
  auto out = [&](const char* n, std::vector<std::int64_t> s) {
    l.tensors.push_back({n, std::move(s), Role::Output});
  };
  if (op == "matmul") {
    const std::int64_t M = p["M"], N = p["N"], K = p["K"];
    in("A", {M, K});
    in("B", {K, N});
    l.stages.push_back({M, N, K});
    add_result(l, p, "AB", "C", {M, N}, N);
  } else if (op == "batch_matmul") {
    const std::int64_t B = p["B"], M = p["M"], N = p["N"], K = p["K"];
    in("A", {B, M, K});
    in("B", {B, K, N});
    l.stages.push_back({B, M, N, K});
    add_result(l, p, "AB", "C", {B, M, N}, N);
  } else if (op == "dense" || op == "dense_gelu") {
    const std::int64_t M = p["M"], N = p["N"], K = p["K"];
    in("X", {M, K});
    in("W", {K, N});
    in("bias", {N});
    mid("XW", {M, N});
    out("Y", {M, N});
    l.stages = {{M, N, K}, {M, N}};
  } else if (op == "conv2d_nchw" || op == "conv2d_nhwc" || op == "depthwise_conv2d") {
    const bool depthwise = op == "depthwise_conv2d", nhwc = op == "conv2d_nhwc";
    const std::int64_t N = p["N"], C = p["C"], H = p["H"], W = p["W"], R = p["R"], S = p["S"];
    const std::int64_t K = depthwise ? C : p["K"];
    const std::int64_t stride = p["stride"], pad = p["pad"], dilation = p["dilation"];
    l.P = conv_out(p.canonical, op, "height", H, R, stride, pad, dilation);
    l.Q = conv_out(p.canonical, op, "width", W, S, stride, pad, dilation);
    const std::int64_t P = l.P, Q = l.Q;
    if (nhwc) {
      in("X", {N, H, W, C});
      in("W", {R, S, C, K});
      l.windows = {{0, 1, P, stride, R, dilation, pad}, {0, 2, Q, stride, S, dilation, pad}};
      l.stages.push_back({N, P, Q, K, R, S, C});
      add_result(l, p, "conv", "Y", {N, P, Q, K}, K);
    } else {
      in("X", {N, C, H, W});
      if (depthwise)
        in("W", {C, R, S});
      else
        in("W", {K, C, R, S});
      l.windows = {{0, 2, P, stride, R, dilation, pad}, {0, 3, Q, stride, S, dilation, pad}};
      if (depthwise)
        l.stages.push_back({N, C, P, Q, R, S});
      else
        l.stages.push_back({N, K, P, Q, C, R, S});
      add_result(l, p, "conv", "Y", {N, K, P, Q}, K);
    }
  } else if (op == "softmax") {
    const std::int64_t M = p["M"], N = p["N"];
    in("X", {M, N});
    mid("row_max", {M});
    mid("row_sum", {M});
    out("Y", {M, N});
    l.stages = {{M, N}, {M, N}, {M, N}};
  } else if (op == "layernorm") {
    const std::int64_t M = p["M"], N = p["N"];
    in("X", {M, N});
    in("gamma", {N});
    in("beta", {N});
    mid("mean", {M});
    mid("variance", {M});
    out("Y", {M, N});
    l.stages = {{M, N}, {M, N}, {M, N}};
  } else if (op == "rmsnorm") {
    const std::int64_t M = p["M"], N = p["N"];
    in("X", {M, N});
    in("gamma", {N});
    mid("mean_sq", {M});
    out("Y", {M, N});
    l.stages = {{M, N}, {M, N}};
  } else if (op == "attention") {
    const std::int64_t B = p["B"], S = p["S"], D = p["D"], SK = p["SK"];
    in("Q", {B, S, D});
    in("K", {B, SK, D});
    in("V", {B, SK, D});
    mid("scores", {B, S, SK});
    mid("row_max", {B, S});
    mid("row_sum", {B, S});
    mid("P", {B, S, SK});
    out("O", {B, S, D});
    l.stages = {{B, S, SK, D}, {B, S, SK}, {B, S, SK}, {B, S, SK}, {B, S, D, SK}};
  } else {
    throw std::logic_error("rctune_generic: operator " + op + " has no layout");
  }
  return l;
}

// rctune's limits (rctune/ir/limits.h) on the tensors and stages; throws SpecError.
inline void check_limits(const Parsed& p, const Layout& l) {
  auto fail = [&](const std::string& why) {
    return SpecError{"workload spec '" + p.canonical + "': " + why};
  };
  for (const auto& t : l.tensors) {
    std::int64_t n = 1;
    bool fits = true;
    for (std::int64_t d : t.shape) fits = fits && checked_mul(n, d, &n);
    if (!fits || n > kMaxElements) {
      std::string shape;
      for (std::int64_t d : t.shape) shape += (shape.empty() ? "" : " x ") + std::to_string(d);
      throw fail("tensor " + t.name + " has " + shape + " elements, " +
                 (fits ? std::to_string(n) : std::string("more than 2^63")) + " in all (the limit is 2^56)");
    }
  }
  for (std::size_t s = 0; s < l.stages.size(); ++s) {
    std::int64_t n = 1;
    bool fits = true;
    for (std::int64_t e : l.stages[s]) fits = fits && checked_mul(n, e, &n);
    if (!fits || n > kMaxIterations)
      throw fail("stage " + std::to_string(s + 1) + " iterates over " +
                 (fits ? std::to_string(n) : std::string("more than 2^63")) + " points (the limit is 2^62)");
  }
  for (const auto& w : l.windows) {
    const Decl& t = l.tensors[w.tensor];
    std::int64_t dim_stride = 1;  // fits: the element count was checked
    for (std::size_t d = w.dim + 1; d < t.shape.size(); ++d) dim_stride *= t.shape[d];
    // The index ranges over [-pad, hi], hi = (out_extent - 1) * stride + (red_extent - 1) * dilation - pad.
    std::int64_t by_out = 0, by_red = 0, span = 0;
    bool fits = checked_mul(w.out_extent - 1, w.stride, &by_out) &&
                checked_mul(w.red_extent - 1, w.dilation, &by_red) &&
                by_out <= std::numeric_limits<std::int64_t>::max() - by_red;
    const std::int64_t hi = fits ? by_out + by_red - w.pad : 0;
    fits = fits && checked_mul(std::max(hi < 0 ? -hi : hi, w.pad), dim_stride, &span);
    if (!fits || span > kMaxIndexSpan)
      throw fail("the window read of " + t.name + " (dimension " + std::to_string(w.dim) +
                 ") ranges over [-" + std::to_string(w.pad) + ", " +
                 (fits ? std::to_string(hi) : std::string("overflow")) +
                 "], too far for a tensor dimension of stride " + std::to_string(dim_stride) +
                 " (index times stride must stay within 2^56)");
  }
}

// The spec resolved and checked: what make_operator accepts.
inline std::pair<Parsed, Layout> checked(const std::string& spec) {
  Parsed p = resolve(spec);
  Layout l = layout_of(p);
  check_limits(p, l);
  return {std::move(p), std::move(l)};
}

// ---- the kernels, in T (float or double), every reduction in rctune's order

template <class T>
T gelu(T x) {
  return T(0.5) * x * (T(1) + std::erf(x * T(0.707106781186547524)));
}
template <class T>
T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}
template <class T>
T max0(T x) {
  return x > T(0) ? x : T(0);
}

// Applies the chain in place to y, [outer, channels, inner]; `in` holds the chain's input buffers.
template <class T>
void apply_epilogue(const std::vector<Ep>& ops, const T* const* in, T* y, std::int64_t outer,
                    std::int64_t channels, std::int64_t inner) {
  const std::int64_t n = outer * channels * inner;
  std::size_t next = 0;
  for (Ep op : ops) {
    switch (op) {
      case Ep::Bias: {
        const T* bias = in[next++];
        for (std::int64_t o = 0; o < outer; ++o)
          for (std::int64_t c = 0; c < channels; ++c) {
            T* row = y + (o * channels + c) * inner;
            for (std::int64_t i = 0; i < inner; ++i) row[i] = row[i] + bias[c];
          }
        break;
      }
      case Ep::Add: {
        const T* res = in[next++];
        for (std::int64_t i = 0; i < n; ++i) y[i] = y[i] + res[i];
        break;
      }
      case Ep::Mul: {
        const T* gate = in[next++];
        for (std::int64_t i = 0; i < n; ++i) y[i] = y[i] * gate[i];
        break;
      }
      case Ep::Relu:
        for (std::int64_t i = 0; i < n; ++i) y[i] = max0(y[i]);
        break;
      case Ep::Relu6:
        for (std::int64_t i = 0; i < n; ++i) {
          const T m = max0(y[i]);
          y[i] = m < T(6) ? m : T(6);
        }
        break;
      case Ep::Gelu:
        for (std::int64_t i = 0; i < n; ++i) y[i] = gelu(y[i]);
        break;
      case Ep::GeluTanh:
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), with sqrt(2/pi) multiplied in (as rctune writes
        // it).
        for (std::int64_t i = 0; i < n; ++i) {
          const T x = y[i];
          y[i] =
              T(0.5) * x * (T(1) + std::tanh(x * (T(0.7978845608028654) + T(0.035677408136300125) * x * x)));
        }
        break;
      case Ep::Sigmoid:
        for (std::int64_t i = 0; i < n; ++i) y[i] = sigmoid(y[i]);
        break;
      case Ep::Silu:
        for (std::int64_t i = 0; i < n; ++i) y[i] = y[i] * sigmoid(y[i]);
        break;
    }
  }
}

// C[M,N] (+)= A[M,K] * B[K,N], k ascending for every element, j innermost (unit stride).
template <class T>
void matmul(const T* A, const T* B, T* C, std::int64_t M, std::int64_t N, std::int64_t K) {
  for (std::int64_t i = 0; i < M; ++i) {
    T* c = C + i * N;
    for (std::int64_t j = 0; j < N; ++j) c[j] = T(0);
    for (std::int64_t k = 0; k < K; ++k) {
      const T a = A[i * K + k];
      const T* b = B + k * N;
      for (std::int64_t j = 0; j < N; ++j) c[j] += a * b[j];
    }
  }
}

// Zero-padded window: the input index of output position o and filter tap t, or -1 outside [0, extent).
inline std::int64_t window(std::int64_t o, std::int64_t t, std::int64_t stride, std::int64_t dilation,
                           std::int64_t pad, std::int64_t extent) {
  const std::int64_t x = o * stride + t * dilation - pad;
  return x < 0 || x >= extent ? -1 : x;
}

// The typed buffers of one call: the operator's own inputs, then its epilogue's, then the output.
template <class T>
struct Buffers {
  void* const* raw;
  std::vector<const T*> epilogue;
  std::size_t own_inputs;
  const T* in(std::size_t i) const { return static_cast<const T*>(raw[i]); }
  T* out() const { return static_cast<T*>(raw[own_inputs + epilogue.size()]); }
};

// matmul and batch_matmul: C = A B per batch entry, then the epilogue on C.
template <class T>
void run_matmul(const Parsed& p, const Buffers<T>& b) {
  const bool batched = std::string(p.def->name) == "batch_matmul";
  const std::int64_t B = batched ? p["B"] : 1, M = p["M"], N = p["N"], K = p["K"];
  T* C = b.out();
  for (std::int64_t e = 0; e < B; ++e)
    matmul(b.in(0) + e * M * K, b.in(1) + e * K * N, C + e * M * N, M, N, K);
  apply_epilogue(p.epilogue, b.epilogue.data(), C, B * M, N, 1);
}

// dense and dense_gelu: XW in Y, then Y = XW + bias (its gelu) in place.
template <class T>
void run_dense(const Parsed& p, const Buffers<T>& b, bool with_gelu) {
  const std::int64_t M = p["M"], N = p["N"], K = p["K"];
  const T* bias = b.in(2);
  T* Y = b.out();
  matmul(b.in(0), b.in(1), Y, M, N, K);
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t j = 0; j < N; ++j) {
      const T v = Y[i * N + j] + bias[j];
      Y[i * N + j] = with_gelu ? gelu(v) : v;
    }
}

// conv2d_nchw: Y[n, k, p, q] = sum over (c, r, s), in that order, of
// X[n, c, p*stride + r*dilation - pad, q*stride + s*dilation - pad] * F[k, c, r, s] (zero outside X).
// depthwise_conv2d: c = k, the sum over (r, s) of X[n, c, ...] * F[c, r, s]. q innermost.
template <class T>
void run_conv_nchw(const Parsed& p, const Layout& l, const Buffers<T>& b, bool depthwise) {
  const std::int64_t N = p["N"], C = p["C"], H = p["H"], W = p["W"], R = p["R"], S = p["S"];
  const std::int64_t K = depthwise ? C : p["K"];
  const std::int64_t stride = p["stride"], pad = p["pad"], dil = p["dilation"], P = l.P, Q = l.Q;
  const T* X = b.in(0);
  const T* F = b.in(1);
  T* Y = b.out();
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t k = 0; k < K; ++k) {
      T* y = Y + (n * K + k) * P * Q;
      for (std::int64_t i = 0; i < P * Q; ++i) y[i] = T(0);
      for (std::int64_t c = depthwise ? k : 0; c < (depthwise ? k + 1 : C); ++c) {
        const T* x = X + (n * C + c) * H * W;
        for (std::int64_t r = 0; r < R; ++r)
          for (std::int64_t s = 0; s < S; ++s) {
            const T f = depthwise ? F[(k * R + r) * S + s] : F[((k * C + c) * R + r) * S + s];
            for (std::int64_t pp = 0; pp < P; ++pp) {
              const std::int64_t h = window(pp, r, stride, dil, pad, H);
              if (h < 0) continue;
              for (std::int64_t q = 0; q < Q; ++q) {
                const std::int64_t w = window(q, s, stride, dil, pad, W);
                if (w >= 0) y[pp * Q + q] += x[h * W + w] * f;
              }
            }
          }
      }
    }
  apply_epilogue(p.epilogue, b.epilogue.data(), Y, N, K, P * Q);
}

// conv2d_nhwc: Y[n, p, q, k] = sum over (r, s, c), in that order, of X[n, h, w, c] * F[r, s, c, k]
// (zero outside X). k innermost.
template <class T>
void run_conv_nhwc(const Parsed& p, const Layout& l, const Buffers<T>& b) {
  const std::int64_t N = p["N"], C = p["C"], H = p["H"], W = p["W"], K = p["K"], R = p["R"], S = p["S"];
  const std::int64_t stride = p["stride"], pad = p["pad"], dil = p["dilation"], P = l.P, Q = l.Q;
  const T* X = b.in(0);
  const T* F = b.in(1);
  T* Y = b.out();
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t pp = 0; pp < P; ++pp)
      for (std::int64_t q = 0; q < Q; ++q) {
        T* y = Y + ((n * P + pp) * Q + q) * K;
        for (std::int64_t k = 0; k < K; ++k) y[k] = T(0);
        for (std::int64_t r = 0; r < R; ++r) {
          const std::int64_t h = window(pp, r, stride, dil, pad, H);
          if (h < 0) continue;
          for (std::int64_t s = 0; s < S; ++s) {
            const std::int64_t w = window(q, s, stride, dil, pad, W);
            if (w < 0) continue;
            const T* x = X + ((n * H + h) * W + w) * C;
            for (std::int64_t c = 0; c < C; ++c) {
              const T xv = x[c];
              const T* f = F + ((r * S + s) * C + c) * K;
              for (std::int64_t k = 0; k < K; ++k) y[k] += xv * f[k];
            }
          }
        }
      }
  apply_epilogue(p.epilogue, b.epilogue.data(), Y, N * P * Q, K, 1);
}

// softmax: row_max = max x; row_sum = sum exp(x - row_max); Y = exp(x - row_max) / row_sum.
template <class T>
void run_softmax(const Parsed& p, const Buffers<T>& b) {
  const std::int64_t M = p["M"], N = p["N"];
  for (std::int64_t i = 0; i < M; ++i) {
    const T* x = b.in(0) + i * N;
    T* y = b.out() + i * N;
    T row_max = -std::numeric_limits<T>::infinity();
    for (std::int64_t j = 0; j < N; ++j) row_max = x[j] > row_max ? x[j] : row_max;
    T row_sum = T(0);
    for (std::int64_t j = 0; j < N; ++j) row_sum += std::exp(x[j] - row_max);
    for (std::int64_t j = 0; j < N; ++j) y[j] = std::exp(x[j] - row_max) / row_sum;
  }
}

// layernorm: mean = sum x/N; variance = sum (x - mean)^2/N;
// Y = (x - mean) * rsqrt(variance + eps) * gamma + beta.
template <class T>
void run_layernorm(const Parsed& p, const Buffers<T>& b) {
  const std::int64_t M = p["M"], N = p["N"];
  const T n = static_cast<T>(N), eps = static_cast<T>(p.eps);
  const T* gamma = b.in(1);
  const T* beta = b.in(2);
  for (std::int64_t i = 0; i < M; ++i) {
    const T* x = b.in(0) + i * N;
    T* y = b.out() + i * N;
    T mean = T(0), variance = T(0);
    for (std::int64_t j = 0; j < N; ++j) mean += x[j] / n;
    for (std::int64_t j = 0; j < N; ++j) variance += (x[j] - mean) * (x[j] - mean) / n;
    const T scale = T(1) / std::sqrt(variance + eps);
    for (std::int64_t j = 0; j < N; ++j) y[j] = (x[j] - mean) * scale * gamma[j] + beta[j];
  }
}

// rmsnorm: mean_sq = sum x*x/N; Y = x * rsqrt(mean_sq + eps) * gamma.
template <class T>
void run_rmsnorm(const Parsed& p, const Buffers<T>& b) {
  const std::int64_t M = p["M"], N = p["N"];
  const T n = static_cast<T>(N), eps = static_cast<T>(p.eps);
  const T* gamma = b.in(1);
  for (std::int64_t i = 0; i < M; ++i) {
    const T* x = b.in(0) + i * N;
    T* y = b.out() + i * N;
    T mean_sq = T(0);
    for (std::int64_t j = 0; j < N; ++j) mean_sq += x[j] * x[j] / n;
    const T scale = T(1) / std::sqrt(mean_sq + eps);
    for (std::int64_t j = 0; j < N; ++j) y[j] = x[j] * scale * gamma[j];
  }
}

// attention, one query row at a time: scores = Q K^T (unscaled), row_max = max scores,
// e = exp((scores - row_max) / sqrt(D)), P = e / sum e, O = P V.
template <class T>
void run_attention(const Parsed& p, const Buffers<T>& b) {
  const std::int64_t B = p["B"], S = p["S"], D = p["D"], SK = p["SK"];
  const T scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(D)));
  std::vector<T> row(static_cast<std::size_t>(SK));
  for (std::int64_t e = 0; e < B; ++e)
    for (std::int64_t i = 0; i < S; ++i) {
      const T* q = b.in(0) + (e * S + i) * D;
      T row_max = -std::numeric_limits<T>::infinity();
      for (std::int64_t j = 0; j < SK; ++j) {
        const T* k = b.in(1) + (e * SK + j) * D;
        T score = T(0);
        for (std::int64_t d = 0; d < D; ++d) score += q[d] * k[d];
        row[static_cast<std::size_t>(j)] = score;
        row_max = score > row_max ? score : row_max;
      }
      T row_sum = T(0);
      for (std::int64_t j = 0; j < SK; ++j)
        row_sum += std::exp((row[static_cast<std::size_t>(j)] - row_max) * scale);
      T* o = b.out() + (e * S + i) * D;
      for (std::int64_t d = 0; d < D; ++d) o[d] = T(0);
      for (std::int64_t j = 0; j < SK; ++j) {
        const T pj = std::exp((row[static_cast<std::size_t>(j)] - row_max) * scale) / row_sum;
        const T* v = b.in(2) + (e * SK + j) * D;
        for (std::int64_t d = 0; d < D; ++d) o[d] += pj * v[d];
      }
    }
}

template <class T>
void run_typed(const Parsed& p, const Layout& l, void* const* raw) {
  Buffers<T> b{raw, {}, 0};
  std::size_t inputs = 0;
  for (const auto& t : l.tensors) inputs += t.role == Role::Input ? 1 : 0;
  const std::size_t ep_count = epilogue_inputs(p.epilogue).size();
  b.own_inputs = inputs - ep_count;
  for (std::size_t i = 0; i < ep_count; ++i) b.epilogue.push_back(b.in(b.own_inputs + i));
  const std::string op = p.def->name;
  if (op == "matmul" || op == "batch_matmul")
    run_matmul(p, b);
  else if (op == "dense" || op == "dense_gelu")
    run_dense(p, b, op == "dense_gelu");
  else if (op == "conv2d_nchw" || op == "depthwise_conv2d")
    run_conv_nchw(p, l, b, op == "depthwise_conv2d");
  else if (op == "conv2d_nhwc")
    run_conv_nhwc(p, l, b);
  else if (op == "softmax")
    run_softmax(p, b);
  else if (op == "layernorm")
    run_layernorm(p, b);
  else if (op == "rmsnorm")
    run_rmsnorm(p, b);
  else if (op == "attention")
    run_attention(p, b);
  else
    throw std::logic_error("rctune_generic: operator " + op + " has no kernel");
}

}  // namespace detail

// Parses and canonicalises an operator spec ("matmul:M=64,N=64,K=64" -> every parameter, defaults
// filled in, rctune's order and number format, an epilogue of none left out). Accepts exactly what
// rctune's make_operator accepts. On a malformed spec returns false with a message naming the spec
// and the problem in *why (unknown operator or parameter, bad or out-of-range value, a filter larger
// than the padded input, a tensor or stage beyond rctune's size limits).
[[maybe_unused]] inline bool parse_spec(const std::string& text, Spec* out, std::string* why) {
  try {
    auto [p, l] = detail::checked(text);
    out->op = p.def->name;
    out->params = std::move(p.params);
    out->canonical = std::move(p.canonical);
    return true;
  } catch (const detail::SpecError& e) {
    if (why) *why = e.message;
    return false;
  }
}

// The buffers of a call: inputs then outputs in declaration order, intermediates excluded (the
// tensors `rctune show SPEC` lists as input and output). Throws std::invalid_argument for a spec that
// parse_spec refuses.
[[maybe_unused]] inline std::vector<Tensor> tensors(const Spec& s) {
  try {
    const auto [p, l] = detail::checked(s.canonical);
    std::vector<Tensor> v;
    for (const auto& t : l.tensors)
      if (t.role != detail::Role::Intermediate)
        v.push_back({t.name, p.dtype, t.shape, t.role == detail::Role::Output});
    return v;
  } catch (const detail::SpecError& e) {
    throw std::invalid_argument(e.message);
  }
}

// Computes the operator on `buffers` (one per tensors(s), each row-major dense of its dtype; outputs
// are overwritten). Plain serial code in the operator's element type. Throws std::invalid_argument
// for a spec that parse_spec refuses or a null buffer.
[[maybe_unused]] inline void run(const Spec& s, void* const* buffers) {
  std::pair<detail::Parsed, detail::Layout> pl;
  try {
    pl = detail::checked(s.canonical);
  } catch (const detail::SpecError& e) {
    throw std::invalid_argument(e.message);
  }
  std::size_t count = 0;
  for (const auto& t : pl.second.tensors) count += t.role == detail::Role::Intermediate ? 0 : 1;
  for (std::size_t i = 0; i < count; ++i)
    if (!buffers || !buffers[i])
      throw std::invalid_argument("rctune_generic: " + s.canonical + ": buffer " + std::to_string(i) +
                                  " is null");
  if (pl.first.dtype == DType::f32)
    detail::run_typed<float>(pl.first, pl.second, buffers);
  else
    detail::run_typed<double>(pl.first, pl.second, buffers);
}

}  // namespace rctune_generic
}  // namespace
