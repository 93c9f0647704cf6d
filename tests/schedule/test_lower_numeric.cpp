// Numerical equality of lowered programs (run by the IR interpreter) with the reference evaluation
// of the workload, on random inputs and small shapes: schedules edited by hand (independent of the
// primitives), then a table of schedule scripts.
#include <gtest/gtest.h>

#include <ostream>

#include "lower_test_util.h"
#include "rctune/ir/operators.h"
#include "rctune/schedule/lower.h"

namespace rctune::schedule {
namespace {

namespace lt = lowertest;

State with(const State& s, const StageSchedule& st) { return s.with_stage(st); }

// ---------------------------------------------------------------- split / fuse / reorder (hand-built)

TEST(LowerNumeric, DividingSplits) {
  State s(lt::matmul(8, 12, 6));
  auto c = lt::stage_of(s, "C");
  lt::split(c, "i", {4});
  lt::split(c, "j", {2, 3});
  lt::split(c, "k", {3});
  EXPECT_TRUE(lt::matches_reference(with(s, c)));
}

TEST(LowerNumeric, NonDividingSplits) {
  State s(lt::matmul(7, 10, 5));
  auto c = lt::stage_of(s, "C");
  lt::split(c, "i", {3});
  lt::split(c, "j", {4});
  lt::split(c, "k", {2});
  lt::reorder(c, {"i.0", "j.0", "k.0", "i.1", "k.1", "j.1"});
  EXPECT_TRUE(lt::matches_reference(with(s, c)));
}

TEST(LowerNumeric, NonDividingSplitOfAnInnerLoop) {
  // i (16) -> i.0 (4) x i.1 (4); i.1 -> i.1.0 (2) x i.1.1 (3): i.1 may reach 5 and must be guarded
  // itself, not only i.
  State s(lt::matmul(16, 4, 3));
  auto c = lt::stage_of(s, "C");
  lt::split(c, "i", {4});
  lt::split(c, "i.1", {3});
  EXPECT_TRUE(lt::matches_reference(with(s, c)));
}

TEST(LowerNumeric, NonDividingSplitOfAnOuterLoop) {
  State s(lt::matmul(10, 4, 3));
  auto c = lt::stage_of(s, "C");
  lt::split(c, "i", {3});
  lt::split(c, "i.0", {3});
  EXPECT_TRUE(lt::matches_reference(with(s, c)));
}

TEST(LowerNumeric, FuseSpatialLoops) {
  State s(lt::matmul(6, 5, 4));
  auto c = lt::stage_of(s, "C");
  lt::fuse(c, {"i", "j"});
  EXPECT_TRUE(lt::matches_reference(with(s, c)));
}

TEST(LowerNumeric, FuseThenNonDividingSplit) {
  State s(lt::matmul(6, 5, 4));
  auto c = lt::stage_of(s, "C");
  lt::fuse(c, {"i", "j"});
  lt::split(c, "i.j", {7});
  EXPECT_TRUE(lt::matches_reference(with(s, c)));
}

TEST(LowerNumeric, SplitThenFuseOuterLoops) {
  State s(lt::matmul(9, 10, 4));
  auto c = lt::stage_of(s, "C");
  lt::split(c, "i", {4});
  lt::split(c, "j", {3});
  lt::reorder(c, {"i.0", "j.0", "i.1", "j.1", "k"});
  lt::fuse(c, {"i.0", "j.0"});
  EXPECT_TRUE(lt::matches_reference(with(s, c)));
}

TEST(LowerNumeric, ReorderReductionOutermost) {
  State s(lt::matmul(5, 6, 7));
  auto c = lt::stage_of(s, "C");
  lt::reorder(c, {"k", "i", "j"});
  EXPECT_TRUE(lt::matches_reference(with(s, c)));
}

TEST(LowerNumeric, ReorderReductionBetweenSplitLoops) {
  State s(lt::matmul(8, 9, 7));
  auto c = lt::stage_of(s, "C");
  lt::split(c, "i", {4});
  lt::split(c, "k", {2});
  lt::reorder(c, {"i.0", "k.0", "j", "i.1", "k.1"});
  EXPECT_TRUE(lt::matches_reference(with(s, c)));
}

TEST(LowerNumeric, ReductionMaxAndConvolutionWithSplits) {
  State s(lt::conv2d());
  auto y = lt::stage_of(s, "Y");
  lt::split(y, "h", {3});
  lt::split(y, "c", {3});
  lt::reorder(y, {"n", "k", "h.0", "c.0", "w", "r", "h.1", "c.1", "s"});
  EXPECT_TRUE(lt::matches_reference(with(s, y)));
}

// ---------------------------------------------------------------- schedule scripts

std::shared_ptr<const ir::Workload> op(const std::string& spec) {
  return std::make_shared<const ir::Workload>(ir::make_operator(spec));
}

// A strided, padded convolution over an intermediate P = relu(X) + 1.
std::shared_ptr<const ir::Workload> conv_relu() {
  return lt::parse(
      "X: f32[2, 11, 11]\nP: f32[2, 11, 11]\nW: f32[3, 2, 3, 3]\nY: f32[3, 6, 6]\n"
      "P[c, y, x] = relu(X[c, y, x]) + 1.0\n"
      "Y[k, h, w] += P[c, h*2 + r - 1, w*2 + s - 1] * W[k, c, r, s]\n"
      "outputs: Y\n",
      "conv_relu");
}

// configs/examples/conv2d_nchw.sched at small tiles: X.heap holds the input rows of one output row,
// halo included, and Y.local reads it without padding checks.
const char* const kConvRowTileTrace =
    "cache_write(Y, local)\n"
    "split(Y, k, [None, 4])\n"
    "split(Y, q, [None, 4])\n"
    "reorder(Y, n, p, k.0, q.0, k.1, q.1)\n"
    "compute_at(Y.local, Y, q.0)\n"
    "reorder(Y.local, c, r, s, k, q)\n"
    "unroll(Y.local, k)\n"
    "vectorize(Y.local, q)\n"
    "cache_read(X, heap, Y.local)\n"
    "compute_at(X.heap, Y, p)\n"
    "fuse(Y, n, p)\n"
    "parallel(Y, n.p)\n";

// A workload and a schedule script (the trace language) whose lowered program must compute what
// the workload defines.
struct Script {
  const char* name;  // the test's name
  std::shared_ptr<const ir::Workload> (*workload)();
  const char* trace;  // "": the unscheduled program
};

void PrintTo(const Script& s, std::ostream* os) { *os << s.name << ":\n" << s.trace; }

const Script kScripts[] = {
    // unscheduled programs
    {"UnscheduledMatmul", [] { return lt::matmul(8, 6, 5); }, ""},
    {"UnscheduledConv2dStride2Pad1", [] { return lt::conv2d(); }, ""},
    {"UnscheduledSoftmax", [] { return lt::softmax(); }, ""},
    {"UnscheduledBatchMatmul", [] { return lt::batch_matmul(); }, ""},

    // primitives
    {"CacheWriteComputeAtRegisterTile", [] { return lt::matmul(16, 24, 8); },
     "cache_write(C, local)\n"
     "split(C, i, [None, 4])\n"
     "split(C, j, [None, 8])\n"
     "reorder(C, i.0, j.0, i.1, j.1)\n"
     "compute_at(C.local, C, j.0)\n"
     "reorder(C.local, k, i, j)\n"
     "vectorize(C.local, j)\n"},
    {"CacheWriteComputeAtWithNonDividingTile", [] { return lt::matmul(10, 13, 6); },
     "cache_write(C, local)\n"
     "split(C, i, [None, 4])\n"
     "split(C, j, [None, 8])\n"
     "reorder(C, i.0, j.0, i.1, j.1)\n"
     "compute_at(C.local, C, j.0)\n"
     "split(C.local, k, [None, 4])\n"
     "reorder(C.local, k.0, i, k.1, j)\n"},
    {"CacheReadComputeAtPacking", [] { return lt::matmul(16, 24, 12); },
     "cache_write(C, local)\n"
     "cache_read(B, heap, [C.local])\n"
     "split(C, i, [None, 4])\n"
     "split(C, j, [None, 8])\n"
     "reorder(C, j.0, i.0, i.1, j.1)\n"
     "compute_at(C.local, C, i.0)\n"
     "split(C.local, k, [None, 4])\n"
     "reorder(C.local, k.0, i, k.1, j)\n"
     "compute_at(B.heap, C, j.0)\n"},
    {"CacheReadComputeAtInsideReductionLoop", [] { return lt::matmul(12, 10, 9); },
     "cache_write(C, local)\n"
     "cache_read(A, local, [C.local])\n"
     "split(C, i, [None, 4])\n"
     "split(C, j, [None, 4])\n"
     "reorder(C, i.0, j.0, i.1, j.1)\n"
     "compute_at(C.local, C, j.0)\n"
     "split(C.local, k, [None, 4])\n"
     "reorder(C.local, k.0, i, k.1, j)\n"
     "compute_at(A.local, C.local, k.0)\n"},
    {"CacheReadOfPaddedConvolutionInput", [] { return lt::conv2d(); },
     "cache_read(X, local, [Y])\n"
     "split(Y, h, [None, 4])\n"
     "reorder(Y, n, k, h.0, c, h.1, w, r, s)\n"
     "compute_at(X.local, Y, c)\n"},
    {"ComputeAtAFusedLoop", [] { return lt::matmul(6, 10, 4); },
     "cache_write(C, local)\n"
     "split(C, j, [None, 4])\n"
     "reorder(C, i, j.0, j.1)\n"
     "fuse(C, i, j.0)\n"
     "compute_at(C.local, C, i.j.0)\n"},
    // C.local's region is 4 x 8 per iteration; its own split of j by 3 does not divide 8.
    {"ProducerSplitsRelativeToItsRegion", [] { return lt::matmul(8, 16, 5); },
     "cache_write(C, local)\n"
     "split(C, i, [None, 4])\n"
     "split(C, j, [None, 8])\n"
     "reorder(C, i.0, j.0, i.1, j.1)\n"
     "compute_at(C.local, C, j.0)\n"
     "split(C.local, j, [None, 3])\n"
     "reorder(C.local, k, i, j.0, j.1)\n"},
    // The intermediate P is computed per tile of output rows over the rows the strided, padded
    // window reads; reads outside P's shape stay zero padding.
    {"ProducerComputedAtAConvolutionRowTile", conv_relu,
     "split(Y, h, [None, 2])\n"
     "reorder(Y, h.0, k, h.1, w, c, r, s)\n"
     "compute_at(P, Y, h.0)\n"},
    {"ComputeInlineOfAnElementwiseIntermediate", [] { return lt::dense_gelu(); }, "compute_inline(D)\n"},
    {"ComputeInlineOfSoftmaxExp", [] { return lt::softmax(); }, "compute_inline(E)\n"},
    {"DecomposeReductionAtASplitLoop", [] { return lt::matmul(8, 12, 6); },
     "split(C, j, [None, 4])\n"
     "reorder(C, i, j.0, k, j.1)\n"
     "decompose_reduction(C, j.0)\n"},
    {"DecomposeReductionAtTheOutermostLoop", [] { return lt::matmul(8, 12, 6); },
     "decompose_reduction(C, i)\n"},
    {"ReverseComputeAtElementwiseConsumer", [] { return lt::dense_gelu(); },
     "split(C, i, [None, 8])\n"
     "split(C, j, [None, 5])\n"
     "reorder(C, i.0, j.0, i.1, k, j.1)\n"
     "reverse_compute_at(D, C, j.0)\n"
     "reverse_compute_at(Y, D, j)\n"},
    {"ReverseComputeAtOfTheCacheWriteCopy", [] { return lt::matmul(10, 12, 5); },
     "cache_write(C, local)\n"
     "split(C.local, i, [None, 4])\n"
     "split(C.local, j, [None, 8])\n"
     "reorder(C.local, i.0, j.0, k, i.1, j.1)\n"
     "reverse_compute_at(C, C.local, j.0)\n"},
    {"SoftmaxStagesComputedPerRow", [] { return lt::softmax(); },
     "compute_at(S, Y, i)\n"
     "compute_at(E, Y, i)\n"
     "compute_at(M, Y, i)\n"},

    // padded cache_read copies
    {"PaddedCacheReadCopyOfAConvolutionRow",
     [] { return op("conv2d_nchw:N=1,C=3,H=8,W=8,K=8,R=3,S=3,stride=1,pad=1"); }, kConvRowTileTrace},
    // 5 x 5 outputs in column tiles of 4: the last tile's reads reach past the halo.
    {"PaddedCacheReadCopyOfAStridedConvolutionWithNonDividingTiles",
     [] { return op("conv2d_nchw:N=1,C=2,H=9,W=9,K=8,R=3,S=3,stride=2,pad=1"); }, kConvRowTileTrace},
    {"PaddedCacheReadCopyOfADilatedConvolution",
     [] { return op("conv2d_nchw:N=1,C=2,H=9,W=9,K=4,R=3,S=3,stride=1,pad=2,dilation=2"); },
     kConvRowTileTrace},
    {"PaddedCacheReadCopyOfABatchedConvolution",
     [] { return op("conv2d_nchw:N=2,C=2,H=6,W=7,K=4,R=3,S=3,stride=1,pad=1"); }, kConvRowTileTrace},
    {"PaddedCacheReadCopyOfADepthwiseConvolution",
     [] { return op("depthwise_conv2d:N=1,C=3,H=8,W=8,R=3,S=3,stride=2,pad=1"); },
     "cache_write(Y, local)\n"
     "split(Y, q, [None, 2])\n"
     "compute_at(Y.local, Y, q.0)\n"
     "reorder(Y.local, r, s, q)\n"
     "cache_read(X, local, Y.local)\n"
     "compute_at(X.local, Y, q.0)\n"},
    // One input row per (c, r): the copy at r covers the row's halo columns.
    {"PaddedCacheReadCopyInsideAReductionLoop", [] { return lt::conv2d(); },
     "cache_read(X, shared, [Y])\n"
     "reorder(Y, n, k, h, c, r, w, s)\n"
     "compute_at(X.shared, Y, r)\n"},
    {"CacheReadAtTheRootOfAPaddedConvolution", [] { return lt::conv2d(); }, "cache_read(X, heap, [Y])\n"},
    // B's 4-column panels of a 10-column matrix: the last panel is zero filled past column 10.
    {"PaddedCopyOfAPackingTileThatLeavesTheShape", [] { return lt::matmul(6, 10, 5); },
     "cache_write(C, local)\n"
     "split(C, j, [None, 4])\n"
     "reorder(C, j.0, i, j.1)\n"
     "compute_at(C.local, C, i)\n"
     "cache_read(B, heap, C.local)\n"
     "compute_at(B.heap, C, j.0)\n"},
    // P (computed per row tile, padded) is copied again per input channel (P.local, padded too).
    {"CacheReadOfAPaddedProducerComputedAtARowTile", conv_relu,
     "cache_read(P, local, [Y])\n"
     "split(Y, h, [None, 2])\n"
     "reorder(Y, h.0, k, c, h.1, w, r, s)\n"
     "compute_at(P.local, Y, c)\n"
     "compute_at(P, Y, h.0)\n"},
};

class LowerNumericScript : public ::testing::TestWithParam<Script> {};

TEST_P(LowerNumericScript, ComputesWhatTheWorkloadDefines) {
  const State s = lt::scheduled(GetParam().workload(), GetParam().trace);
  EXPECT_TRUE(lt::matches_reference(s));
  expect_trace_roundtrip(s);
}

INSTANTIATE_TEST_SUITE_P(LowerNumeric, LowerNumericScript, ::testing::ValuesIn(kScripts),
                         [](const ::testing::TestParamInfo<Script>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace rctune::schedule
