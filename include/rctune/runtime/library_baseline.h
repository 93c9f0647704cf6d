// The library baseline of a workload: the vendor routine (single-threaded OpenBLAS) that computes
// the same thing, recognised from the workload's stages, and its time measured in this process.
// A tuning run records it so that a result reads as "speedup over OpenBLAS" where one applies.
//
// Recognised (f32 only, every read inside its tensor unless said otherwise):
//   - one sum stage  C[b.., i, j] += A[b.., i, k] * B[b.., k, j]  (either operand may be
//     transposed: A[b.., k, i], B[b.., j, k]; any number of leading batch axes shared by all three)
//     -> "openblas_sgemm" (one sgemm per batch entry);
//   - that stage into an intermediate, then  Y[b.., i, j] = XW[b.., i, j] + bias[j]  (dense)
//     -> "openblas_sgemm" with the bias as the initial value of C (beta = 1);
//   - one sum stage of a 2-D convolution, NCHW  Y[n, k, p, q] += X[n, c, h(p, r), w(q, s)] * W[k, c, r, s]
//     or NHWC  Y[n, p, q, k] += X[n, h(p, r), w(q, s), c] * W[r, s, c, k], where h and w are affine
//     (stride, dilation, padding; reads outside X are zero)
//     -> "openblas_im2col_sgemm" (im2col into a scratch matrix, then one sgemm per batch entry);
//   - either of those into an intermediate, then one elementwise stage over its whole output that
//     reads it and other tensors through plain axes (a fused epilogue: bias, residual add, gate,
//     activations; arithmetic, max, min and the unary functions) -> "openblas_sgemm+epilogue",
//     "openblas_im2col_sgemm+epilogue": the library call, then the epilogue evaluated array by
//     array, one loop per operation, as a user of OpenBLAS would apply it after the call.
// Anything else has no library baseline.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rctune/ir/workload.h"

namespace rctune::runtime {

// A library routine that computes a workload.
struct LibraryRoutine {
  std::string name;  // "openblas_sgemm", "openblas_im2col_sgemm"
  // Computes the workload's outputs from its inputs. `buffers` holds one row-major f32 buffer per
  // tensor of the workload, in declaration order; intermediates may be left untouched.
  std::function<void(const std::vector<float*>& buffers)> run;
};

// The routine for `w`, recognised from its stage structure (not its name); nullopt when no
// library routine computes it.
std::optional<LibraryRoutine> find_library_routine(const ir::Workload& w);

// Bytes the library routine of `w` allocates (its tensors and any work buffer); nullopt on overflow.
std::optional<int64_t> library_baseline_bytes(const ir::Workload& w);

struct LibraryBaseline {
  std::string name;     // LibraryRoutine::name
  double median_s = 0;  // seconds per run of the routine
  double gflops = 0;    // w.flops() / median_s * 1e-9
};

// Times the library routine of `w` in this process, on one OpenBLAS thread: one warm-up run, then
// repeats until at least `min_time_s` have passed (3 at least); the median. With pin_core >= 0 the
// calling thread runs on that core while it measures (its affinity is restored afterwards). The
// number of OpenBLAS threads is restored too. nullopt when no library routine applies. Throws
// std::runtime_error, before allocating anything, when the buffers exceed the physical memory.
std::optional<LibraryBaseline> measure_library_baseline(const ir::Workload& w, double min_time_s,
                                                        int pin_core);

}  // namespace rctune::runtime
