// The streaming rule of the design space (memory-bound reductions: matrix-vector products): which
// nests it fires on, the structure of the first candidates of such a nest, their correctness with
// fused epilogues, compute-bound matmuls left as they were, and the heuristic proposer's moves
// toward the streaming kernel.
#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "rctune/ir/operators.h"
#include "rctune/schedule/trace.h"
#include "rctune/search/action.h"
#include "rctune/search/candidate.h"
#include "rctune/search/design_space.h"
#include "rctune/search/features.h"
#include "rctune/search/proposer.h"
#include "search/design_space_test_util.h"

namespace {

using rctune::search::Candidate;
using rctune::search::DesignSpace;
using rctune::search::HardwareInfo;
using rctune::search::Rng;

using rctune::testing::computes_reference;
using rctune::testing::op;

// An AVX2 machine with a 32 KiB L1 and a 1 MiB L2, so that the tests do not depend on the host.
HardwareInfo test_hw() {
  HardwareInfo hw;
  hw.vector_bytes = 32;
  hw.l1_bytes = 32 * 1024;
  hw.l2_bytes = 1024 * 1024;
  hw.cores = 1;
  return hw;
}

const std::string kGateProj = "matmul:M=1,N=14336,K=4096,dtype=f32,epilogue=silu+mul";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

// The step of a trace that starts with `prefix` ("" when none).
std::string step_of(const std::string& trace, const std::string& prefix) {
  for (const std::string& l : lines_of(trace))
    if (l.rfind(prefix, 0) == 0) return l;
  return "";
}

std::string step(const Candidate& c, const std::string& prefix) { return step_of(c.trace, prefix); }

// The factors [None, a, b] of a split step, as {a, b}.
std::vector<int64_t> inner_factors(const std::string& split_step) {
  std::vector<int64_t> out;
  const std::regex num(R"(, (\d+))");
  const std::string list = split_step.substr(split_step.find('['));
  for (auto it = std::sregex_iterator(list.begin(), list.end(), num); it != std::sregex_iterator(); ++it)
    out.push_back(std::stoll((*it)[1]));
  return out;
}

bool is_stream_sketch(const std::string& name) {
  return name.find("stream(") != std::string::npos || name.find("stream_staged(") != std::string::npos;
}

TEST(MatvecSpace, GemvSketchesStartWithTheTwoStreamingSketches) {
  DesignSpace space(op(kGateProj), test_hw());
  const auto& sk = space.sketches();
  ASSERT_GE(sk.size(), 3u);
  EXPECT_EQ(sk[0].name, "stream_staged(AB)");
  EXPECT_EQ(sk[1].name, "stream(AB)");
  for (size_t i = 2; i < sk.size(); ++i) EXPECT_FALSE(is_stream_sketch(sk[i].name)) << sk[i].name;
}

TEST(MatvecSpace, FirstGemvCandidatesStreamBlocksOfRowsOverTheFullWidth) {
  DesignSpace space(op(kGateProj), test_hw());
  int full_width = 0;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    Rng rng(seed);
    const Candidate c = space.sample_sketch(0, rng);
    SCOPED_TRACE(c.trace);
    const std::vector<int64_t> j = inner_factors(step(c, "split(AB, j, "));
    const std::vector<int64_t> k = inner_factors(step(c, "split(AB, k, "));
    ASSERT_EQ(j.size(), 2u);
    ASSERT_EQ(k.size(), 1u);
    EXPECT_EQ(14336 % (j[0] * j[1]), 0);
    EXPECT_LE(14336 / (j[0] * j[1]), 8) << "a width block is at least an eighth of the width";
    full_width += j[0] * j[1] == 14336;  // j.0 has extent 1
    EXPECT_TRUE(j[1] == 32 || j[1] == 64 || j[1] == 128);
    EXPECT_TRUE(k[0] == 4 || k[0] == 8 || k[0] == 16);
    EXPECT_EQ(step(c, "reorder(AB, "), "reorder(AB, i, j.0, k.0, j.1, k.1, j.2)");
    EXPECT_EQ(step(c, "vectorize(AB, "), "vectorize(AB, j.2)");
    EXPECT_EQ(step(c, "cache_write"), "") << "the stream accumulates in place";
    EXPECT_EQ(step(c, "cache_read(A, heap, AB)"), "cache_read(A, heap, AB)");
    EXPECT_EQ(step(c, "compute_at(A.heap, "), "compute_at(A.heap, AB, k.0)");
    EXPECT_NE(step(c, "reverse_compute_at(C, AB, j.0)"), "") << "the epilogue after each width block";
    EXPECT_EQ(step(c, "vectorize(C, "), "vectorize(C, j)");
  }
  EXPECT_GE(full_width, 8);
}

TEST(MatvecSpace, SecondGemvSketchReadsTheVectorDirectly) {
  DesignSpace space(op(kGateProj), test_hw());
  Rng rng(1);
  for (int i = 0; i < 4; ++i) {
    const Candidate c = space.sample_sketch(1, rng);
    EXPECT_EQ(step(c, "reorder(AB, "), "reorder(AB, i, j.0, k.0, j.1, k.1, j.2)") << c.trace;
    EXPECT_EQ(step(c, "cache_read"), "") << c.trace;
  }
}

TEST(MatvecSpace, AWidthWhoseOutputExceedsHalfTheL2IsSplitIntoBlocksThatFit) {
  const HardwareInfo hw = test_hw();
  DesignSpace space(op("matmul:M=1,N=262144,K=64"), hw);  // 1 MiB of output
  Rng rng(2);
  for (int i = 0; i < 4; ++i) {
    const Candidate c = space.sample_sketch(0, rng);
    const std::vector<int64_t> j = inner_factors(step(c, "split(C, j, "));
    ASSERT_EQ(j.size(), 2u) << c.trace;
    EXPECT_LT(j[0] * j[1], 262144) << c.trace;
    EXPECT_LE(j[0] * j[1] * 4, hw.l2_bytes / 2) << c.trace;
  }
}

TEST(MatvecSpace, AFewRowsGoInsideNextToTheVectorTile) {
  DesignSpace space(op("matmul:M=4,N=4096,K=1024"), test_hw());
  ASSERT_EQ(space.sketches()[0].name, "stream_staged(C)");
  Rng rng(3);
  const Candidate c = space.sample_sketch(0, rng);
  EXPECT_EQ(step(c, "reorder(C, "), "reorder(C, j.0, k.0, j.1, k.1, i, j.2)") << c.trace;
}

TEST(MatvecSpace, TheRuleFiresOnlyOnMemoryBoundReductions) {
  for (const char* spec : {"matmul:M=512,N=512,K=512", "matmul:M=8,N=4096,K=4096",
                           "conv2d_nchw:N=1,C=64,H=28,W=28,K=64", "softmax:M=8,N=4096"}) {
    DesignSpace space(op(spec), test_hw());
    for (const auto& s : space.sketches()) EXPECT_FALSE(is_stream_sketch(s.name)) << spec << ": " << s.name;
  }
  for (const char* spec : {"matmul:M=1,N=4096,K=4096,epilogue=add", "dense:M=2,N=1024,K=4096",
                           "batch_matmul:B=4,M=1,N=256,K=512"}) {
    DesignSpace space(op(spec), test_hw());
    EXPECT_TRUE(is_stream_sketch(space.sketches()[0].name)) << spec;
  }
}

// The first draw of each sketch of matmul 512^3 (seed 1) by the design space before the streaming
// rule.
const char* const kFirstMatmulCandidates = R"(cache_write(C, local)
split(C, i, [None, 64, 2])
split(C, j, [None, 64, 8])
reorder(C, j.0, i.0, i.1, j.1, i.2, j.2)
compute_at(C.local, C, i.1)
reorder(C.local, k, i, j)
vectorize(C.local, j)
vectorize(C, j.2)
unroll(C, i.2)
cache_read(B, heap, C.local)
compute_at(B.heap, C, j.0)
vectorize(B.heap, ax1)
parallel(C, j.0)
--
cache_write(C, local)
split(C, i, [None, 8])
split(C, j, [None, 8])
reorder(C, i.0, j.0, i.1, j.1)
compute_at(C.local, C, j.0)
reorder(C.local, k, i, j)
unroll(C.local, i)
vectorize(C.local, j)
vectorize(C, j.1)
parallel(C, i.0)
--
split(C, i, [None, 64, 2])
split(C, j, [None, 1, 16])
split(C, k, [None, 128])
reorder(C, j.0, i.0, k.0, i.1, j.1, k.1, i.2, j.2)
unroll(C, i.2)
vectorize(C, j.2)
cache_read(B, heap, C)
compute_at(B.heap, C, k.0)
vectorize(B.heap, ax1)
parallel(C, j.0)
--
split(C, i, [None, 8, 8])
split(C, j, [None, 16, 4])
split(C, k, [None, 64])
reorder(C, i.0, j.0, k.0, i.1, j.1, k.1, i.2, j.2)
unroll(C, i.2)
vectorize(C, j.2)
fuse(C, i.0, j.0)
parallel(C, i.0.j.0)
--
)";

// The first candidates of a compute-bound matmul are those of the design space before the rule
// (the sketches and the first draw of each, with a fixed seed).
TEST(MatvecSpace, ComputeBoundMatmulKeepsItsFirstCandidates) {
  DesignSpace space(op("matmul:M=512,N=512,K=512"), test_hw());
  std::vector<std::string> names;
  for (const auto& s : space.sketches()) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"tile(C) pack(B)", "tile(C)", "tile_in_place(C) pack(B)",
                                             "tile_in_place(C)"}));
  Rng rng(1);
  std::string first;
  for (size_t i = 0; i < names.size(); ++i) first += space.sample_sketch(i, rng).trace + "--\n";
  EXPECT_EQ(first, kFirstMatmulCandidates);
}

TEST(MatvecSpace, StreamingCandidatesWithEpiloguesComputeTheReference) {
  for (const char* spec : {"matmul:M=1,N=256,K=64,epilogue=silu+mul", "matmul:M=1,N=192,K=48,epilogue=add",
                           "matmul:M=3,N=128,K=32,epilogue=bias+relu", "dense:M=1,N=128,K=64"}) {
    SCOPED_TRACE(spec);
    DesignSpace space(op(spec), test_hw());
    ASSERT_TRUE(is_stream_sketch(space.sketches()[0].name));
    Rng rng(7);
    for (size_t sketch : {0u, 1u})
      for (int i = 0; i < 4; ++i) {
        const Candidate c = space.sample_sketch(sketch, rng);
        EXPECT_EQ(c.rationale.find("fallback"), std::string::npos) << c.rationale;
        EXPECT_TRUE(computes_reference(c));
      }
  }
}

// The proposals of the heuristic proposer for a node, as the traces they lead to; with
// `own_only`, only those of its diagnoses (not the design-space mutations it adds when it has
// nothing else to say).
std::vector<std::string> proposed_traces(const DesignSpace& space, const Candidate& node, int count,
                                         bool own_only = false) {
  rctune::search::ProposerInput in;
  in.state = node.state;
  in.hardware.info = space.hardware();
  in.hardware.execution_space = "Serial";
  in.count = count;
  auto proposer = rctune::search::make_heuristic_proposer(&space);
  Rng rng(5);
  std::vector<std::string> out;
  for (const auto& p : proposer->propose(in, rng))
    if (!own_only || p.rationale.find("design-space") == std::string::npos)
      out.push_back(rctune::schedule::to_text(rctune::search::apply_action(node.state, p.action).trace()));
  return out;
}

bool contains_line(const std::string& trace, const std::string& line) {
  for (const std::string& l : lines_of(trace))
    if (l == line) return true;
  return false;
}

TEST(MatvecProposer, ProposesTheStreamingKernelForARegisterTiledGemv) {
  DesignSpace space(op(kGateProj), test_hw());
  ASSERT_EQ(space.sketches()[2].name, "tile(AB) pack(A)");
  Rng rng(2);
  const Candidate tiled = space.sample_sketch(2, rng);
  ASSERT_NE(step(tiled, "cache_write(AB, local)"), "");
  const std::vector<std::string> traces = proposed_traces(space, tiled, 2);
  ASSERT_FALSE(traces.empty());
  EXPECT_TRUE(contains_line(traces[0], "reorder(AB, i, j.0, k.0, j.1, k.1, j.2)")) << traces[0];
  EXPECT_FALSE(contains_line(traces[0], "cache_write(AB, local)")) << traces[0];
}

TEST(MatvecProposer, ProposesOtherRowBlocksAndTheFullWidthOnAStreamingGemv) {
  auto w = op(kGateProj);
  DesignSpace space(w, test_hw());
  // Eight width blocks of 1792, 16 rows of B at a time.
  const Candidate blocked = rctune::search::make_candidate(
      w,
      "split(AB, j, [None, 28, 64])\nsplit(AB, k, [None, 16])\nreorder(AB, i, j.0, k.0, j.1, k.1, j.2)\n"
      "vectorize(AB, j.2)\nreverse_compute_at(C, AB, j.0)\nvectorize(C, j)\n");
  const std::vector<std::string> traces = proposed_traces(space, blocked, 8);
  bool full_width = false, other_block = false;
  for (const std::string& t : traces) {
    full_width = full_width || contains_line(t, "split(AB, j, [None, 224, 64])");
    other_block = other_block || contains_line(t, "split(AB, k, [None, 8])") ||
                  contains_line(t, "split(AB, k, [None, 4])");
  }
  EXPECT_TRUE(full_width);
  EXPECT_TRUE(other_block);
}

TEST(MatvecProposer, KeepsTheRowBlockOfAStreamingGemvAmongFourEightAndSixteen) {
  auto w = op(kGateProj);
  DesignSpace space(w, test_hw());
  const Candidate node = rctune::search::make_candidate(
      w,
      "split(AB, j, [None, 224, 64])\nsplit(AB, k, [None, 4])\nreorder(AB, i, j.0, k.0, j.1, k.1, j.2)\n"
      "vectorize(AB, j.2)\nreverse_compute_at(C, AB, j.0)\nvectorize(C, j)\nfuse(AB, i, j.0)\nparallel(AB, "
      "i.j.0)\n");
  const std::vector<std::string> traces = proposed_traces(space, node, 8, true);
  ASSERT_FALSE(traces.empty());
  for (const std::string& t : traces) {
    const std::vector<int64_t> k = inner_factors(step_of(t, "split(AB, k, "));
    ASSERT_EQ(k.size(), 1u) << t;
    EXPECT_TRUE(k[0] == 4 || k[0] == 8 || k[0] == 16) << t;
  }
}

}  // namespace
