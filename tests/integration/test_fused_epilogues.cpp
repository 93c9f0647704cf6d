// Fused elementwise epilogues (the `epilogue` parameter of matmul, batch_matmul and the
// convolutions), compiled for real: the reference kernel computes what the interpreter computes, and
// the generated Kokkos kernel of a scheduled fused workload computes what the reference computes.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "rctune/codegen/kokkos.h"
#include "rctune/config/workload_file.h"
#include "rctune/ir/interpreter.h"
#include "rctune/runtime/evaluate.h"
#include "rctune/runtime/jit_compiler.h"

namespace {

// ---- the reference kernel against the interpreter ----

// Runs the compiled reference kernel of `spec` and the interpreter on the same random inputs; ""
// when every tensor agrees, else the first difference.
std::string reference_against_interpreter(const std::string& spec) {
  rctune::ir::Workload w = rctune::config::load_workload(spec);
  rctune::codegen::KernelSource src = rctune::codegen::generate_reference(w);
  rctune::runtime::CompileResult lib =
      rctune::runtime::JitCompiler().compile(src.code, rctune::runtime::SourceKind::Plain);
  if (!lib.ok) return "the reference does not compile: " + lib.message;
  void* handle = dlopen(lib.so_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) return std::string("dlopen: ") + dlerror();
  auto reference = reinterpret_cast<void (*)(double* const*)>(dlsym(handle, src.entry.c_str()));
  std::string result = reference ? "" : "no symbol " + src.entry;

  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(-3.0, 3.0);
  std::vector<std::vector<double>> interpreted;
  for (const auto& t : w.tensors) {
    std::vector<double> b(static_cast<size_t>(t.num_elements()), 0.0);
    if (!w.find_stage(t.name))
      for (auto& x : b) x = u(rng);
    interpreted.push_back(std::move(b));
  }
  std::vector<std::vector<double>> compiled = interpreted;
  std::vector<double*> pointers;
  for (auto& b : compiled) pointers.push_back(b.data());
  rctune::ir::evaluate_workload(w, interpreted);
  if (reference) reference(pointers.data());
  dlclose(handle);

  for (size_t t = 0; t < w.tensors.size() && result.empty(); ++t)
    for (size_t i = 0; i < compiled[t].size(); ++i)
      if (std::abs(compiled[t][i] - interpreted[t][i]) > 1e-9 * (1 + std::abs(interpreted[t][i]))) {
        result = w.tensors[t].name + "[" + std::to_string(i) + "]: reference " +
                 std::to_string(compiled[t][i]) + ", interpreter " + std::to_string(interpreted[t][i]);
        break;
      }
  return result;
}

TEST(FusedEpilogueReference, EveryOpOnEveryFusableOperatorMatchesTheInterpreter) {
  for (const char* spec : {
           "matmul:M=5,N=6,K=16,epilogue=bias+add+mul+relu6+silu",
           "matmul:M=5,N=6,K=16,epilogue=gelu_tanh+sigmoid",
           "matmul:M=5,N=6,K=16,dtype=f64,epilogue=relu+gelu",
           "batch_matmul:B=2,M=3,N=4,K=8,epilogue=bias+gelu_tanh+mul",
           "conv2d_nchw:N=1,C=3,H=7,W=6,K=4,stride=2,epilogue=bias+add+relu",
           "conv2d_nhwc:N=1,C=3,H=7,W=6,K=4,epilogue=bias+relu6",
           "depthwise_conv2d:N=1,C=3,H=7,W=6,epilogue=bias+silu+add",
       })
    EXPECT_EQ(reference_against_interpreter(spec), "") << spec;
}

// ---- scheduled fused workloads, compiled and checked through the worker process ----

struct Case {
  const char* name;
  const char* workload;
  const char* schedule;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class CompiledFusedEpilogue : public ::testing::TestWithParam<Case> {};

TEST_P(CompiledFusedEpilogue, MatchesReference) {
  static rctune::runtime::Measurer measurer;
  const Case& c = GetParam();
  rctune::runtime::ScheduledProgram program =
      rctune::runtime::build_program(rctune::config::load_workload(c.workload), c.schedule);
  rctune::runtime::MeasureOptions check;
  check.check_only = true;
  check.seed = 3;
  rctune::runtime::Measurement m = rctune::runtime::evaluate(measurer, program, check);
  EXPECT_EQ(m.status, rctune::runtime::Status::Ok)
      << rctune::runtime::status_name(m.status) << ": " << m.message << "\nsource: " << m.source_path;
}

const Case kCases[] = {
    {"conv2d_nchw_bias_add_relu_unscheduled", "conv2d_nchw:N=2,C=3,H=9,W=7,K=4,epilogue=bias+add+relu", ""},
    // The example register tile of conv2d_nchw on the reduction stage, the epilogue after each row
    // of tiles, on an odd width (imperfect splits).
    {"conv2d_nchw_bias_add_relu_register_tile", "conv2d_nchw:N=1,C=8,H=6,W=20,K=32,epilogue=bias+add+relu",
     "cache_write(conv, local)\nsplit(conv, k, [None, 16])\nsplit(conv, q, [None, 8])\n"
     "reorder(conv, n, p, k.0, q.0, k.1, q.1)\ncompute_at(conv.local, conv, q.0)\n"
     "reorder(conv.local, c, r, s, k, q)\nunroll(conv.local, k)\nvectorize(conv.local, q)\nunroll(conv, "
     "k.1)\n"
     "vectorize(conv, q.1)\ncache_read(X, heap, conv.local)\ncompute_at(X.heap, conv, p)\n"
     "reverse_compute_at(Y, conv, p)\nsplit(Y, q, [None, 8])\nvectorize(Y, q.1)\nfuse(conv, n, p)\n"
     "parallel(conv, n.p)"},
    // Llama's gate: silu(x W_gate) * up, the example register tile of dense_gelu.
    {"matmul_silu_mul_register_tile", "matmul:M=24,N=80,K=16,epilogue=silu+mul",
     "cache_write(AB, local)\nsplit(AB, i, [None, 8])\nsplit(AB, j, [None, 32])\n"
     "reorder(AB, j.0, i.0, i.1, j.1)\ncompute_at(AB.local, AB, i.0)\nreorder(AB.local, k, i, j)\n"
     "unroll(AB.local, i)\nvectorize(AB.local, j)\nunroll(AB, i.1)\nvectorize(AB, j.1)\n"
     "reverse_compute_at(C, AB, i.0)\nunroll(C, i)\nvectorize(C, j)\nparallel(AB, j.0)"},
    // Every op in vectorized loops: the float32 vector math (tanh, sigmoid, gelu) and min/max.
    {"matmul_every_op_vectorized", "matmul:M=8,N=64,K=16,epilogue=bias+gelu_tanh+mul+relu6+add+silu",
     "split(C, j, [None, 16])\nvectorize(C, j.1)"},
    {"matmul_gelu_relu_sigmoid_vectorized_imperfect", "matmul:M=6,N=40,K=8,epilogue=bias+gelu+relu+sigmoid",
     "split(C, j, [None, 16])\nvectorize(C, j.1)\nparallel(C, i)"},
    {"matmul_f64_silu_mul_vectorized", "matmul:M=20,N=24,K=12,dtype=f64,epilogue=silu+mul",
     "split(C, j, [None, 8])\nvectorize(C, j.1)"},
    {"batch_matmul_bias_gelu_tanh_after_each_block", "batch_matmul:B=2,M=8,N=40,K=12,epilogue=bias+gelu_tanh",
     "split(AB, i, [None, 4])\nreverse_compute_at(C, AB, i.0)\nsplit(C, j, [None, 8])\nvectorize(C, j.1)\n"
     "parallel(AB, b)"},
    {"conv2d_nhwc_bias_relu6_vectorized_channels",
     "conv2d_nhwc:N=1,H=10,W=10,C=3,K=16,stride=2,pad=1,epilogue=bias+relu6",
     "split(conv, k, [None, 8])\nreorder(conv, r, s, c, k.1)\nvectorize(conv, k.1)\nsplit(Y, k, [None, 8])\n"
     "vectorize(Y, k.1)"},
    {"depthwise_bias_relu6_computed_per_row",
     "depthwise_conv2d:N=1,C=4,H=9,W=9,stride=1,pad=1,epilogue=bias+relu6",
     "compute_at(conv, Y, p)\nparallel(Y, c)"},
};

INSTANTIATE_TEST_SUITE_P(Epilogues, CompiledFusedEpilogue, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

}  // namespace
