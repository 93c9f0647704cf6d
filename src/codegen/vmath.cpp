#include "vmath.h"

#include "rctune/ir/check.h"

namespace rctune::codegen::detail {

using ir::UnOp;

bool has_vector_math(UnOp op) {
  switch (op) {
    case UnOp::Exp:
    case UnOp::Log:
    case UnOp::Sqrt:
    case UnOp::Rsqrt:
    case UnOp::Tanh:
    case UnOp::Erf:
    case UnOp::Gelu:
    case UnOp::Sigmoid:
      return true;
    default:
      return false;
  }
}

std::string vector_math_name(UnOp op) {
  RCTUNE_CHECK(has_vector_math(op));
  return ir::unop_name(op);
}

namespace {

// The function texts use @V for the float vector type, @I for the int32 vector type of the same
// size and @N for the lane count. Constants are Cephes' single-precision ones (expf, logf, tanhf,
// erff, erfcf by S. L. Moshier); see docs/codegen.md for the measured errors.

// exp: x = n ln2 + r with |r| <= ln2/2 (Cody-Waite, ln2 in two parts), e^r by a degree-6
// polynomial, then the product with 2^n, done as 2^(n/2) * 2^(n - n/2) so that results down to the
// smallest subnormal round correctly. The input is clamped to [-104, 89] first: below -104 (and -inf)
// the result is 0, above 88.72 it overflows to inf; NaN stays NaN.
const char* kExp = R"(static inline @V rctune_vexp(@V x) {
  x = x < -104.0f ? @V{} - 104.0f : x;
  x = x > 89.0f ? @V{} + 89.0f : x;
  const @V n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round(x / ln2)
  @V r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  @V p = 1.9875691500e-4f * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const @V y = p * (r * r) + r + 1.0f;
  const @I ni = __builtin_convertvector(n, @I);
  const @I n1 = ni >> 1;
  const @I n2 = ni - n1;
  return y * (@V)((n1 + 127) << 23) * (@V)((n2 + 127) << 23);
}
)";

// log: x = 2^e m with m in [sqrt(1/2), sqrt(2)), log(m) by a degree-9 polynomial in m - 1 (Cephes
// logf). Subnormal inputs are scaled by 2^23 first; 0 gives -inf, negative inputs NaN, inf inf.
const char* kLog = R"(static inline @V rctune_vlog(@V x) {
  const @I tiny = x < 1.17549435e-38f;
  const @V xs = tiny ? x * 8388608.0f : x;
  const @I bits = (@I)xs;
  @I e = ((bits >> 23) & 0xff) - 126;
  e = tiny ? e - 23 : e;
  @V m = (@V)((bits & 0x007fffff) | 0x3f000000);  // [0.5, 1)
  @V fe = __builtin_convertvector(e, @V);
  const @I low = m < 0.707106781186547524f;
  fe = low ? fe - 1.0f : fe;
  m = low ? m + m - 1.0f : m - 1.0f;
  const @V z = m * m;
  @V p = 7.0376836292e-2f * m - 1.1514610310e-1f;
  p = p * m + 1.1676998740e-1f;
  p = p * m - 1.2420140846e-1f;
  p = p * m + 1.4249322787e-1f;
  p = p * m - 1.6668057665e-1f;
  p = p * m + 2.0000714765e-1f;
  p = p * m - 2.4999993993e-1f;
  p = p * m + 3.3333331174e-1f;
  @V y = p * m * z;
  y = y + fe * -2.12194440e-4f;
  y = y - 0.5f * z;
  @V r = m + y + fe * 0.693359375f;
  r = x == __builtin_huge_valf() ? x : r;
  r = x == 0.0f ? @V{} - __builtin_huge_valf() : r;
  r = x < 0.0f ? @V{} + __builtin_nanf("") : r;
  return x != x ? x : r;
}
)";

// tanh: an odd degree-11 polynomial for |x| < 0.625 (Cephes tanhf), else
// sign(x) (1 - 2 / (e^(2|x|) + 1)), which saturates to +-1 when e^(2|x|) overflows.
const char* kTanh = R"(static inline @V rctune_vtanh(@V x) {
  const @V a = x < 0.0f ? -x : x;
  const @V z = x * x;
  @V p = -5.70498872745e-3f * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const @V small = p * z * x + x;
  @V large = 1.0f - 2.0f / (rctune_vexp(a + a) + 1.0f);
  large = x < 0.0f ? -large : large;
  return a < 0.625f ? small : large;
}
)";

// erf and erfc of a = |x|: a T(a^2) for a < 1 (Cephes erff), else
// erfc(a) = e^(-a^2) / a * P(1 / a^2) with Cephes erfcf's two polynomials for [1, 2) and [2, inf).
const char* kErfHelpers = R"(static inline @V rctune_verf_small(@V x) {  // erf(x) for |x| < 1
  const @V z = x * x;
  @V p = 7.853861353153693e-5f * z - 8.010193625184903e-4f;
  p = p * z + 5.188327685732524e-3f;
  p = p * z - 2.685381193529856e-2f;
  p = p * z + 1.128358514861418e-1f;
  p = p * z - 3.761262582423300e-1f;
  p = p * z + 1.128379165726710e+0f;
  return x * p;
}
static inline @V rctune_verfc_large(@V a) {  // erfc(a) for a >= 1
  const @V q = 1.0f / a;
  const @V z = q * q;
  @V p = 2.326819970068386e-2f * z - 1.387039388740657e-1f;
  p = p * z + 3.687424674597105e-1f;
  p = p * z - 5.824733027278666e-1f;
  p = p * z + 6.210004621745983e-1f;
  p = p * z - 4.944515323274145e-1f;
  p = p * z + 3.404879937665872e-1f;
  p = p * z - 2.741127028184656e-1f;
  p = p * z + 5.638259427386472e-1f;
  @V r = -1.047766399936249e+1f * z + 1.297719955372516e+1f;
  r = r * z - 7.495518717768503e+0f;
  r = r * z + 2.921019019210786e+0f;
  r = r * z - 1.015265279202700e+0f;
  r = r * z + 4.218463358204948e-1f;
  r = r * z - 2.820767439740514e-1f;
  r = r * z + 5.641895067754075e-1f;
  return rctune_vexp(-(a * a)) * q * (a < 2.0f ? p : r);  // a = inf: 0 * 0
}
)";

const char* kErf = R"(static inline @V rctune_verf(@V x) {
  const @V a = x < 0.0f ? -x : x;
  const @V one_minus = 1.0f - rctune_verfc_large(a);
  const @V large = x < 0.0f ? -one_minus : one_minus;
  return a < 1.0f ? rctune_verf_small(x) : large;
}
)";

// gelu(x) = 0.5 x (1 + erf(x / sqrt 2)) = 0.5 x erfc(-x / sqrt 2): for x < 0 erfc is used directly, so
// that the negative tail keeps its relative accuracy instead of cancelling in 1 + erf.
const char* kGelu = R"(static inline @V rctune_vgelu(@V x) {
  const @V u = x * 0.707106781186547524f;
  const @V a = u < 0.0f ? -u : u;
  const @V c_small = 1.0f - rctune_verf_small(a);
  const @V c = a < 1.0f ? c_small : rctune_verfc_large(a);  // erfc(|u|)
  return 0.5f * x * (x < 0.0f ? c : 2.0f - c);
}
)";

const char* kSigmoid = R"(static inline @V rctune_vsigmoid(@V x) { return 1.0f / (1.0f + rctune_vexp(-x)); }
)";

const char* kRsqrt = R"(static inline @V rctune_vrsqrt(@V x) { return 1.0f / rctune_vsqrt(x); }
)";

void replace_all(std::string* s, const std::string& from, const std::string& to) {
  for (size_t p = s->find(from); p != std::string::npos; p = s->find(from, p + to.size()))
    s->replace(p, from.size(), to);
}

// sqrt: the x86 vector square root where the width has one (correctly rounded, like sqrtf), else
// __builtin_sqrtf lane by lane.
std::string sqrt_source(int64_t lanes) {
  std::string guard, call;
  if (lanes == 16) {
    guard = "defined(__AVX512F__)";
    call = "_mm512_maskz_sqrt_ps(0xffff, (__m512)x)";  // maskz: no -Wmaybe-uninitialized in g++ 12
  } else if (lanes == 8) {
    guard = "defined(__AVX__)";
    call = "_mm256_sqrt_ps((__m256)x)";
  } else if (lanes == 4) {
    guard = "defined(__SSE__)";
    call = "_mm_sqrt_ps((__m128)x)";
  }
  std::string s = "static inline @V rctune_vsqrt(@V x) {\n";
  std::string loop =
      "  @V r = {};\n  for (int i = 0; i < @N; ++i) r[i] = __builtin_sqrtf(x[i]);\n  return r;\n";
  if (guard.empty()) return s + loop + "}\n";
  return s + "#if " + guard + "\n  return (@V)" + call + ";\n#else\n" + loop + "#endif\n}\n";
}

}  // namespace

std::string vector_math_source(const std::string& vtype, int64_t lanes, const std::set<std::string>& names,
                               bool with_include) {
  auto has = [&](const char* n) { return names.count(n) > 0; };
  bool sqrt = has("sqrt") || has("rsqrt");
  bool exp = has("exp") || has("tanh") || has("erf") || has("gelu") || has("sigmoid");
  bool erf_helpers = has("erf") || has("gelu");
  std::string s;
  std::string itype = "rctune_i32x" + std::to_string(lanes);
  s += "// float32 vector math on " + vtype + " (lanes stay in vector registers; see docs/codegen.md).\n";
  s += "typedef int32_t " + itype + " __attribute__((vector_size(" + std::to_string(lanes * 4) + ")));\n";
  if (sqrt && with_include)
    s += "#if defined(__x86_64__) || defined(__i386__)\n#include <immintrin.h>\n#endif\n";
  if (exp) s += kExp;
  if (has("log")) s += kLog;
  if (sqrt) s += sqrt_source(lanes);
  if (has("rsqrt")) s += kRsqrt;
  if (has("tanh")) s += kTanh;
  if (erf_helpers) s += kErfHelpers;
  if (has("erf")) s += kErf;
  if (has("gelu")) s += kGelu;
  if (has("sigmoid")) s += kSigmoid;
  // The bodies above are always inlined into the entry points below. The entry points that carry a
  // polynomial are not inlined into the kernel: the compiler would hoist their constants out of the
  // enclosing loops, and in a fused matmul epilogue those constants take the registers of the
  // accumulators (a measured 2x slowdown of dense_gelu). One call per vector costs little.
  replace_all(&s, "rctune_v", "rctune_vinl_");
  replace_all(&s, "static inline @V", "static inline __attribute__((always_inline)) @V");
  for (const auto& n : names) {
    bool small = n == "sqrt" || n == "rsqrt";
    s += std::string(small ? "static inline " : "static __attribute__((noinline)) ") + "@V rctune_v" + n +
         "(@V x) { return rctune_vinl_" + n + "(x); }\n";
  }
  replace_all(&s, "@V", vtype);
  replace_all(&s, "@I", itype);
  replace_all(&s, "@N", std::to_string(lanes));
  return s;
}

}  // namespace rctune::codegen::detail
