// The text of lowered programs for simple schedules, the structural hash, and lowering errors.
#include <gtest/gtest.h>

#include <string>

#include "lower_test_util.h"
#include "rctune/ir/operators.h"
#include "rctune/ir/stmt.h"
#include "rctune/schedule/error.h"
#include "rctune/schedule/lower.h"

namespace rctune::schedule {
namespace {

namespace lt = lowertest;

std::string text(const State& s) { return ir::to_string(lower(s)); }

TEST(LowerText, UnscheduledMatmulIsThePlainLoopNest) {
  EXPECT_EQ(text(State(lt::matmul(8, 6, 4))),
            "kernel matmul(A: f32[8, 4], B: f32[4, 6], C: f32[8, 6]) -> C\n"
            "  for i in 0..8:\n"
            "    for j in 0..6:\n"
            "      C[i, j] = 0.0\n"
            "      for k in 0..4:\n"
            "        C[i, j] = C[i, j] + A[i, k] * B[k, j]\n");
}

TEST(LowerText, NonDividingSplitIsGuardedJustInsideTheLoopsThatDetermineIt) {
  State s(lt::matmul(10, 6, 4));
  auto c = lt::stage_of(s, "C");
  lt::split(c, "i", {4});
  lt::reorder(c, {"i.0", "i.1", "j", "k"});
  EXPECT_EQ(text(s.with_stage(c)),
            "kernel matmul(A: f32[10, 4], B: f32[4, 6], C: f32[10, 6]) -> C\n"
            "  for i.0 in 0..3:\n"
            "    for i.1 in 0..4:\n"
            "      if i.0 * 4 + i.1 < 10:\n"
            "        for j in 0..6:\n"
            "          C[i.0 * 4 + i.1, j] = 0.0\n"
            "          for k in 0..4:\n"
            "            C[i.0 * 4 + i.1, j] = C[i.0 * 4 + i.1, j] + A[i.0 * 4 + i.1, k] * B[k, j]\n");
}

TEST(LowerText, DividingSplitHasNoGuard) {
  State s(lt::matmul(8, 6, 4));
  auto c = lt::stage_of(s, "C");
  lt::split(c, "i", {4});
  EXPECT_EQ(text(s.with_stage(c)).find("if "), std::string::npos);
}

TEST(LowerText, FusedLoopRebuildsItsParentsByDivisionAndModulo) {
  State s(lt::matmul(4, 6, 3));
  auto c = lt::stage_of(s, "C");
  lt::fuse(c, {"i", "j"});
  EXPECT_EQ(text(s.with_stage(c)),
            "kernel matmul(A: f32[4, 3], B: f32[3, 6], C: f32[4, 6]) -> C\n"
            "  for i.j in 0..24:\n"
            "    C[i.j / 6, i.j % 6] = 0.0\n"
            "    for k in 0..3:\n"
            "      C[i.j / 6, i.j % 6] = C[i.j / 6, i.j % 6] + A[i.j / 6, k] * B[k, i.j % 6]\n");
}

TEST(LowerText, LoopKindsAndBindingsAreCopied) {
  State s(lt::matmul(8, 16, 4));
  auto c = lt::stage_of(s, "C");
  lt::set_kind(c, "i", ir::ForKind::Parallel);
  lt::set_kind(c, "j", ir::ForKind::Vectorized);
  lt::reorder(c, {"i", "k", "j"});
  c.loops[static_cast<size_t>(c.find_loop("i"))].bind = ir::BindLevel::League;
  std::string t = text(s.with_stage(c));
  EXPECT_NE(t.find("for i in 0..8 bind(league) parallel:"), std::string::npos) << t;
  EXPECT_NE(t.find("for j in 0..16 vectorized:"), std::string::npos) << t;
}

TEST(LowerText, ReductionInitGetsItsOwnLoopsOverInnerSpatialLoops) {
  State s(lt::matmul(4, 6, 3));
  auto c = lt::stage_of(s, "C");
  lt::reorder(c, {"i", "k", "j"});
  EXPECT_EQ(text(s.with_stage(c)),
            "kernel matmul(A: f32[4, 3], B: f32[3, 6], C: f32[4, 6]) -> C\n"
            "  for i in 0..4:\n"
            "    for j in 0..6:\n"
            "      C[i, j] = 0.0\n"
            "    for k in 0..3:\n"
            "      for j in 0..6:\n"
            "        C[i, j] = C[i, j] + A[i, k] * B[k, j]\n");
}

TEST(LowerText, PaddedReadsBecomeSelects) {
  std::string t = text(State(lt::conv2d()));
  EXPECT_NE(
      t.find("select(h * 2 + r - 1 >= 0 && h * 2 + r - 1 < 17 && w * 2 + s - 1 >= 0 && w * 2 + s - 1 < 17, "
             "X[0, c, h * 2 + r - 1, w * 2 + s - 1], 0.0) * W[k, c, r, s]"),
      std::string::npos)
      << t;
  // No select where the index cannot leave the shape.
  EXPECT_EQ(text(State(lt::matmul(4, 4, 4))).find("select"), std::string::npos);
}

TEST(LowerText, ComputeAtAllocatesTheRegionAndRebasesAccesses) {
  auto s = lt::scheduled(lt::matmul(16, 24, 8),
                         "cache_write(C, local)\n"
                         "split(C, i, [None, 4])\n"
                         "split(C, j, [None, 8])\n"
                         "reorder(C, i.0, j.0, i.1, j.1)\n"
                         "compute_at(C.local, C, j.0)\n"
                         "reorder(C.local, k, i, j)\n");
  EXPECT_EQ(text(s),
            "kernel matmul(A: f32[16, 8], B: f32[8, 24], C: f32[16, 24]) -> C\n"
            "  for i.0 in 0..4:\n"
            "    for j.0 in 0..3:\n"
            "      alloc C.local: f32[4, 8] local\n"
            "      for i in 0..4:\n"
            "        for j in 0..8:\n"
            "          C.local[i, j] = 0.0\n"
            "      for k in 0..8:\n"
            "        for i in 0..4:\n"
            "          for j in 0..8:\n"
            "            C.local[i, j] = C.local[i, j] + A[i.0 * 4 + i, k] * B[k, j.0 * 8 + j]\n"
            "      for i.1 in 0..4:\n"
            "        for j.1 in 0..8:\n"
            "          C[i.0 * 4 + i.1, j.0 * 8 + j.1] = C.local[i.1, j.1]\n");
}

TEST(LowerText, ConvolutionCacheReadCopiesTheHaloSoTheConsumerReadsWithoutSelect) {
  auto w = std::make_shared<const ir::Workload>(
      ir::make_operator("conv2d_nchw:N=1,C=4,H=8,W=8,K=16,R=3,S=3,stride=1,pad=1"));
  auto s = lt::scheduled(w,
                         "cache_write(Y, local)\n"
                         "split(Y, k, [None, 16])\n"
                         "split(Y, q, [None, 8])\n"
                         "reorder(Y, n, p, k.0, q.0, k.1, q.1)\n"
                         "compute_at(Y.local, Y, q.0)\n"
                         "reorder(Y.local, c, r, s, k, q)\n"
                         "unroll(Y.local, k)\n"
                         "vectorize(Y.local, q)\n"
                         "unroll(Y, k.1)\n"
                         "vectorize(Y, q.1)\n"
                         "cache_read(X, heap, Y.local)\n"
                         "compute_at(X.heap, Y, p)\n"
                         "fuse(Y, n, p)\n"
                         "parallel(Y, n.p)\n");
  std::string t = text(s);
  // The buffer covers the 10 columns the window reads (8 + the halo), not 8.
  EXPECT_NE(t.find("alloc X.heap: f32[1, 4, 3, 10] heap"), std::string::npos) << t;
  // Every element is written: zero outside X's shape, no `if` leaving rows unwritten.
  EXPECT_NE(t.find("X.heap[0, ax1, ax2, ax3] = select(n.p + ax2 - 1 >= 0 && n.p + ax2 - 1 < 8 && "
                   "ax3 - 1 >= 0 && ax3 - 1 < 8, X[0, ax1, n.p + ax2 - 1, ax3 - 1], 0.0)"),
            std::string::npos)
      << t;
  EXPECT_EQ(t.find("if "), std::string::npos) << t;
  // The consumer's hot loop reads the copy directly.
  EXPECT_NE(t.find("Y.local[0, k, 0, q] = Y.local[0, k, 0, q] + X.heap[0, c, r, q + s] * W[k, c, r, s]"),
            std::string::npos)
      << t;
  EXPECT_EQ(t.find("select"), t.rfind("select")) << "only the copy selects\n" << t;
}

TEST(LowerText, MatmulPackingIsUnchangedByPadding) {
  auto s = lt::scheduled(lt::matmul(64, 64, 16),
                         "cache_write(C, local)\n"
                         "split(C, i, [None, 8])\n"
                         "split(C, j, [None, 32])\n"
                         "reorder(C, j.0, i.0, i.1, j.1)\n"
                         "compute_at(C.local, C, i.0)\n"
                         "cache_read(B, heap, C.local)\n"
                         "compute_at(B.heap, C, j.0)\n");
  std::string t = text(s);
  EXPECT_NE(t.find("alloc B.heap: f32[16, 32] heap"), std::string::npos) << t;
  EXPECT_NE(t.find("B.heap[ax0, ax1] = B[ax0, j.0 * 32 + ax1]"), std::string::npos) << t;
  EXPECT_EQ(t.find("select"), std::string::npos) << t;
  EXPECT_EQ(t.find("if "), std::string::npos) << t;
}

TEST(LowerText, CacheReadAtTheRootKeepsThePaddingSelectOfItsReader) {
  // At the root the copy has X's shape, so the reader's index can leave it and stays checked.
  std::string t = text(lt::scheduled(lt::conv2d(), "cache_read(X, heap, [Y])\n"));
  EXPECT_NE(t.find("alloc X.heap: f32[1, 3, 17, 17] heap"), std::string::npos) << t;
  EXPECT_NE(
      t.find("select(h * 2 + r - 1 >= 0 && h * 2 + r - 1 < 17 && w * 2 + s - 1 >= 0 && w * 2 + s - 1 < 17, "
             "X.heap[0, c, h * 2 + r - 1, w * 2 + s - 1], 0.0)"),
      std::string::npos)
      << t;
}

TEST(LowerText, ReductionPlacedOverARegionPastItsShapeIsGuardedNotPadded) {
  // C.local's 4-column tile of a 10-column C: the columns past 10 are skipped, not zero filled.
  auto s = lt::scheduled(lt::matmul(4, 10, 3),
                         "cache_write(C, local)\n"
                         "split(C, j, [None, 4])\n"
                         "compute_at(C.local, C, j.0)\n");
  std::string t = text(s);
  EXPECT_NE(t.find("if j.0 * 4 + C.local.j < 10:"), std::string::npos) << t;
  EXPECT_EQ(t.find("select"), std::string::npos) << t;
}

TEST(LowerText, LoopNamesThatClashWithEnclosingLoopsArePrefixedWithTheStage) {
  auto s = lt::scheduled(lt::matmul(8, 16, 4),
                         "cache_write(C, local)\n"
                         "split(C, j, [None, 8])\n"
                         "compute_at(C.local, C, j.0)\n"
                         "split(C.local, j, [None, 4])\n");
  std::string t = text(s);
  EXPECT_NE(t.find("for C.local.j.0 in 0..2:"), std::string::npos) << t;
  EXPECT_NE(t.find("for C.local.j.1 in 0..4:"), std::string::npos) << t;
  EXPECT_NE(t.find("for j.0 in 0..2:"), std::string::npos) << t;
}

TEST(LowerText, LoopsOfExtentOneAreLeftOutUnlessParallelOrBound) {
  // C.local's i and j cover one element: their loops are left out and their indices are 0. (Its
  // loops are still named as if i and j were there, hence the prefix of C.local.k.)
  auto s = lt::scheduled(lt::matmul(4, 8, 2),
                         "cache_write(C, local)\n"
                         "compute_at(C.local, C, j)\n");
  EXPECT_EQ(text(s),
            "kernel matmul(A: f32[4, 2], B: f32[2, 8], C: f32[4, 8]) -> C\n"
            "  for i in 0..4:\n"
            "    for j in 0..8:\n"
            "      alloc C.local: f32[1, 1] local\n"
            "      C.local[0, 0] = 0.0\n"
            "      for C.local.k in 0..2:\n"
            "        C.local[0, 0] = C.local[0, 0] + A[i, C.local.k] * B[C.local.k, j]\n"
            "      C[i, j] = C.local[0, 0]\n");
  // A parallel loop of extent 1 stays.
  auto p = lt::scheduled(lt::matmul(1, 4, 2), "parallel(C, i)\n");
  EXPECT_NE(text(p).find("for i in 0..1 parallel:"), std::string::npos) << text(p);
}

TEST(LowerText, KernelParametersAreTheWorkloadsTensors) {
  auto s = lt::scheduled(lt::matmul(8, 8, 8), "cache_write(C, local)\n");
  ir::LoweredFunc f = lower(s);
  ASSERT_EQ(f.params.size(), 3u);
  EXPECT_EQ(f.params[0].name, "A");
  EXPECT_EQ(f.params[2].name, "C");
  EXPECT_EQ(f.outputs, std::vector<std::string>{"C"});
  EXPECT_NE(ir::to_string(f).find("alloc C.local: f32[8, 8] local"), std::string::npos) << ir::to_string(f);
}

// ---------------------------------------------------------------- structural hash

TEST(LowerHash, EqualProgramsFromDifferentTracesHashEqual) {
  auto a = lt::scheduled(lt::matmul(16, 16, 8), "split(C, i, [None, 4])\nsplit(C, j, [None, 4])\n");
  auto b = lt::scheduled(lt::matmul(16, 16, 8), "split(C, j, [None, 4])\nsplit(C, i, [None, 4])\n");
  EXPECT_EQ(structural_hash(a), structural_hash(b));
}

TEST(LowerHash, LoopNamesDoNotMatter) {
  State s(lt::matmul(8, 8, 8));
  auto c = lt::stage_of(s, "C");
  c.loops[0].name = "row";
  c.loops[1].name = "col";
  EXPECT_EQ(structural_hash(s), structural_hash(s.with_stage(c)));
}

TEST(LowerHash, DifferentProgramsHashDifferently) {
  auto a = lt::scheduled(lt::matmul(16, 16, 8), "split(C, i, [None, 4])\n");
  auto b = lt::scheduled(lt::matmul(16, 16, 8), "split(C, i, [None, 2])\n");
  auto c = lt::scheduled(lt::matmul(16, 16, 8), "split(C, i, [None, 4])\nparallel(C, i.0)\n");
  EXPECT_NE(structural_hash(a), structural_hash(b));
  EXPECT_NE(structural_hash(a), structural_hash(c));
  EXPECT_NE(structural_hash(a), structural_hash(State(lt::matmul(16, 16, 8))));
}

// ---------------------------------------------------------------- errors

TEST(LowerErrors, AttachLoopThatIsNotALeafIsRejected) {
  State s(lt::softmax());
  auto e = lt::stage_of(s, "E");
  e.attach = Attach{Attach::Kind::At, "Y", "nope"};
  try {
    lower(s.with_stage(e));
    FAIL() << "expected a ScheduleError";
  } catch (const ScheduleError& err) {
    EXPECT_NE(std::string(err.what()).find("compute_at(E, Y, nope): stage Y has no loop nope"),
              std::string::npos)
        << err.what();
  }
}

TEST(LowerErrors, ProducerReadOutsideItsAttachLoopIsRejected) {
  State s(lt::softmax());
  auto e = lt::stage_of(s, "E");
  e.attach = Attach{Attach::Kind::At, "Y", "i"};  // S, at the root, reads E too
  try {
    lower(s.with_stage(e));
    FAIL() << "expected a ScheduleError";
  } catch (const ScheduleError& err) {
    EXPECT_NE(std::string(err.what()).find("stage S reads E outside that loop"), std::string::npos)
        << err.what();
  }
}

TEST(LowerErrors, ReverseComputeAtOfANonElementwiseStageIsRejected) {
  State s(lt::softmax());
  auto st = lt::stage_of(s, "S");
  st.attach = Attach{Attach::Kind::ReverseAt, "E", "i"};
  EXPECT_THROW(lower(s.with_stage(st)), ScheduleError);
}

TEST(LowerErrors, CircularPlacementIsRejected) {
  State s(lt::softmax());
  auto e = lt::stage_of(s, "E");
  e.attach = Attach{Attach::Kind::At, "Y", "i"};
  auto y = lt::stage_of(s, "Y");
  y.attach = Attach{Attach::Kind::ReverseAt, "E", "i"};
  EXPECT_THROW(lower(s.with_stage(e).with_stage(y)), ScheduleError);
}

}  // namespace
}  // namespace rctune::schedule
