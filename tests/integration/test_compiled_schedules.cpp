// Every primitive, compiled for real: the generated Kokkos kernel of a scheduled workload must
// compute what the reference computes, on random inputs, through the worker process.
#include <gtest/gtest.h>

#include <memory>

#include "rctune/config/workload_file.h"
#include "rctune/runtime/evaluate.h"

namespace {

struct Case {
  const char* name;
  const char* workload;
  const char* schedule;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

rctune::runtime::Measurer& shared_measurer() {
  static rctune::runtime::Measurer m;
  return m;
}

class CompiledSchedule : public ::testing::TestWithParam<Case> {};

TEST_P(CompiledSchedule, MatchesReference) {
  const Case& c = GetParam();
  rctune::ir::Workload w = rctune::config::load_workload(c.workload);
  rctune::runtime::ScheduledProgram cand = rctune::runtime::build_program(w, c.schedule);
  rctune::runtime::MeasureOptions opts;
  opts.check_only = true;
  opts.seed = 7;
  rctune::runtime::Measurement m = rctune::runtime::evaluate(shared_measurer(), cand, opts);
  EXPECT_EQ(m.status, rctune::runtime::Status::Ok)
      << rctune::runtime::status_name(m.status) << ": " << m.message << "\n"
      << rctune::ir::to_string(cand.lowered) << "\nsource: " << m.source_path;
}

const Case kCases[] = {
    {"unscheduled_matmul_odd_shape", "matmul:M=37,N=29,K=23", ""},
    {"split_dividing", "matmul:M=32,N=32,K=16", "split(C, i, [None, 8])\nsplit(C, k, [4, 4])"},
    {"split_imperfect_three_factors", "matmul:M=50,N=19,K=13",
     "split(C, i, [None, 3, 4])\nsplit(C, j, [None, 5])"},
    {"reorder_reduction_outside", "matmul:M=24,N=40,K=16", "reorder(C, k, i, j)"},
    {"fuse_and_parallel", "matmul:M=24,N=40,K=16", "fuse(C, i, j)\nparallel(C, i.j)"},
    {"vectorize_unit_stride", "matmul:M=16,N=64,K=16",
     "split(C, j, [None, 16])\nreorder(C, k, j.1)\nvectorize(C, j.1)"},
    {"vectorize_imperfect", "matmul:M=16,N=50,K=16",
     "split(C, j, [None, 16])\nreorder(C, k, j.1)\nvectorize(C, j.1)"},
    {"unroll_imperfect", "matmul:M=13,N=16,K=16", "split(C, i, [None, 4])\nunroll(C, i.1)"},
    {"register_tile_cache_write", "matmul:M=64,N=64,K=48",
     "cache_write(C, local)\nsplit(C, i, [None, 8])\nsplit(C, j, [None, 32])\nreorder(C, i.0, j.0, i.1, "
     "j.1)\n"
     "compute_at(C.local, C, j.0)\nreorder(C.local, k, i, j)\nunroll(C.local, i)\nvectorize(C.local, j)\n"
     "vectorize(C, j.1)\nparallel(C, i.0)"},
    {"register_tile_imperfect", "matmul:M=30,N=40,K=20",
     "cache_write(C, local)\nsplit(C, i, [None, 4])\nsplit(C, j, [None, 16])\nreorder(C, i.0, j.0, i.1, "
     "j.1)\n"
     "compute_at(C.local, C, j.0)\nreorder(C.local, k, i, j)\nunroll(C.local, i)\nvectorize(C.local, j)"},
    {"cache_read_packing", "matmul:M=32,N=64,K=24",
     "split(C, j, [None, 16])\nreorder(C, j.0, i, k, j.1)\ncache_read(B, heap, C)\ncompute_at(B.heap, C, "
     "j.0)"},
    {"cache_read_local", "matmul:M=16,N=32,K=16",
     "split(C, i, [None, 4])\ncache_read(A, local, C)\ncompute_at(A.local, C, i.0)"},
    {"decompose_reduction", "matmul:M=16,N=16,K=16", "split(C, i, [None, 4])\ndecompose_reduction(C, i.1)"},
    {"compute_inline_elementwise", "dense:M=16,N=24,K=8", ""},
    {"reverse_compute_at_epilogue", "dense_gelu:M=32,N=32,K=16",
     "split(XW, i, [None, 8])\nreverse_compute_at(Y, XW, i.0)"},
    {"conv2d_nchw_stride2_pad1", "conv2d_nchw:N=2,C=3,H=11,W=9,K=4,R=3,S=3,stride=2,pad=1",
     "split(Y, q, [None, 2])\nreorder(Y, n, k, p, c, r, s, q.0, q.1)"},
    {"conv2d_nhwc_dilation", "conv2d_nhwc:N=1,H=10,W=10,C=3,K=8,R=3,S=3,stride=1,pad=2,dilation=2",
     "split(Y, k, [None, 8])\nreorder(Y, r, s, c, k.1)\nvectorize(Y, k.1)"},
    {"depthwise_padded_vectorized", "depthwise_conv2d:N=1,C=3,H=9,W=9,R=3,S=3,stride=1,pad=1",
     "split(Y, q, [None, 4])\nreorder(Y, n, c, p, q.0, r, s, q.1)\nvectorize(Y, q.1)"},
    {"softmax_compute_at_rows", "softmax:M=8,N=40",
     "compute_at(row_sum, Y, i)\ncompute_at(row_max, Y, i)\nparallel(Y, i)"},
    {"softmax_rfactor_vectorized", "softmax:M=8,N=64",
     "split(row_max, j, [None, 16])\nrfactor(row_max, j.1)\nreorder(row_max.rf, i, j_0, j_1)\n"
     "vectorize(row_max.rf, j_1)\ncompute_at(row_max.rf, row_max, i)\nunroll(row_max, j_1)\n"
     "split(row_sum, j, [None, 32])\nrfactor(row_sum, j.1)\nsplit(row_sum.rf, j_1, [None, 16])\n"
     "reorder(row_sum.rf, i, j_0, j_1.0, j_1.1)\nunroll(row_sum.rf, j_1.0)\nvectorize(row_sum.rf, j_1.1)\n"
     "compute_at(row_sum.rf, row_sum, i)\nunroll(row_sum, j_1)\ncompute_at(row_sum, Y, i)\n"
     "compute_at(row_max, Y, i)\nsplit(Y, j, [None, 16])\nvectorize(Y, j.1)\nparallel(Y, i)"},
    {"rfactor_imperfect_vectorized", "softmax:M=5,N=40",
     "split(row_sum, j, [None, 16])\nrfactor(row_sum, j.1)\nreorder(row_sum.rf, i, j_0, j_1)\n"
     "vectorize(row_sum.rf, j_1)\ncompute_at(row_sum.rf, row_sum, i)\nsplit(row_max, j, [None, 8])\n"
     "rfactor(row_max, j.1)\nreorder(row_max.rf, i, j_0, j_1)\nvectorize(row_max.rf, j_1)"},
    {"layernorm_inline_nothing", "layernorm:M=6,N=20", "parallel(Y, i)"},
    {"rmsnorm_compute_at", "rmsnorm:M=6,N=20", "compute_at(mean_sq, Y, i)"},
    {"attention_blocks", "attention:B=2,S=16,D=8",
     "split(O, i, [None, 4])\ncompute_at(P, O, i.0)\ncompute_at(row_sum, O, i.0)\ncompute_at(row_max, O, "
     "i.0)\n"
     "compute_at(scores, O, i.0)"},
    {"bind_league_team", "matmul:M=16,N=32,K=8",
     "split(C, i, [None, 4])\nbind(C, i.0, league)\nbind(C, i.1, team)"},
    {"root_local_buffer_written_in_parallel", "matmul:M=16,N=24,K=8",
     "cache_write(C, local)\nparallel(C.local, i)"},
    {"matmul_f64", "matmul:M=20,N=24,K=12,dtype=f64",
     "split(C, j, [None, 8])\nreorder(C, k, j.1)\nvectorize(C, j.1)"},
};

INSTANTIATE_TEST_SUITE_P(Primitives, CompiledSchedule, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

}  // namespace
