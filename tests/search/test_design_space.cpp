// The design space: sketches for every library operator, legal and numerically correct samples,
// determinism per seed, the matmul register-tile structure, mutations (one decision, legal, every
// kind reachable, on foreign traces), and factorizations().
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "rctune/build_config.h"
#include "rctune/ir/interpreter.h"
#include "rctune/ir/operators.h"
#include "rctune/ir/parser.h"
#include "rctune/ir/stmt.h"
#include "rctune/schedule/trace.h"
#include "rctune/search/action.h"
#include "rctune/search/cost_model.h"
#include "rctune/search/design_space.h"
#include "rctune/search/features.h"
#include "search/design_space_test_util.h"

namespace {

using rctune::search::Candidate;
using rctune::search::DesignSpace;
using rctune::search::factorizations;
using rctune::search::HardwareInfo;
using rctune::search::MutationKind;
using rctune::search::Rng;

using rctune::testing::computes_reference;
using rctune::testing::op;

// An AVX-512-like machine, so that the tests do not depend on the host.
HardwareInfo test_hw() {
  HardwareInfo hw;
  hw.vector_bytes = 64;
  hw.cores = 4;
  return hw;
}

// Small shapes of every library operator (the interpreter runs them quickly).
std::string small_spec(const std::string& name) {
  static const std::map<std::string, std::string> specs = {
      {"matmul", "matmul:M=32,N=48,K=24"},
      {"batch_matmul", "batch_matmul:B=2,M=16,N=32,K=8"},
      {"dense", "dense:M=24,N=32,K=16"},
      {"dense_gelu", "dense_gelu:M=24,N=32,K=16"},
      {"conv2d_nchw", "conv2d_nchw:N=1,C=4,H=10,W=10,K=8"},
      {"conv2d_nhwc", "conv2d_nhwc:N=1,H=10,W=10,C=4,K=8"},
      {"depthwise_conv2d", "depthwise_conv2d:N=1,C=4,H=10,W=10"},
      {"softmax", "softmax:M=8,N=64"},
      {"layernorm", "layernorm:M=8,N=64"},
      {"rmsnorm", "rmsnorm:M=8,N=64"},
      {"attention", "attention:B=2,S=16,D=16"},
  };
  auto it = specs.find(name);
  return it == specs.end() ? name : it->second;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

bool has_step(const Candidate& c, const std::string& prefix) {
  for (const auto& l : lines_of(c.trace))
    if (l.rfind(prefix, 0) == 0) return true;
  return false;
}

double score(const Candidate& c, const HardwareInfo& hw) {
  return rctune::search::analytic_score(rctune::search::extract_features(*c.lowered, hw), hw);
}

std::string read_example(const std::string& file) {
  std::ifstream in(std::string(RCTUNE_SOURCE_DIR) + "/configs/examples/" + file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Factorizations, AreExactOrderedFactorisations) {
  const std::vector<std::vector<int64_t>> twelve = {{1, 12}, {2, 6}, {3, 4}, {4, 3}, {6, 2}, {12, 1}};
  EXPECT_EQ(factorizations(12, 2), twelve);
  EXPECT_EQ(factorizations(7, 1), (std::vector<std::vector<int64_t>>{{7}}));
  const auto f = factorizations(1024, 3);
  EXPECT_EQ(f.size(), 66u);  // (10 + 2 choose 2) ways to share 2^10 among 3 factors
  std::set<std::vector<int64_t>> unique(f.begin(), f.end());
  EXPECT_EQ(unique.size(), f.size());
  for (const auto& v : f) EXPECT_EQ(v[0] * v[1] * v[2], 1024);
  const auto limited = factorizations(12, 2, 4);
  EXPECT_EQ(limited, (std::vector<std::vector<int64_t>>{{3, 4}, {4, 3}, {6, 2}, {12, 1}}));
}

TEST(DesignSpace, EveryLibraryOperatorHasSketchesAndLegalDiverseSamples) {
  for (const std::string& name : rctune::ir::operator_names()) {
    SCOPED_TRACE(name);
    DesignSpace space(op(small_spec(name)), test_hw());
    ASSERT_GE(space.sketches().size(), 1u);
    Rng rng(11);
    std::set<uint64_t> hashes;
    for (int i = 0; i < 50; ++i) {
      Candidate c = space.sample(rng);
      ASSERT_TRUE(c.lowered);
      ASSERT_NE(c.hash, 0u);
      EXPECT_EQ(c.proposer, "design_space");
      EXPECT_FALSE(c.rationale.empty());
      EXPECT_EQ(c.rationale.find("fallback"), std::string::npos) << c.rationale;
      EXPECT_EQ(c.trace, rctune::schedule::to_text(c.state.trace()));
      hashes.insert(c.hash);
    }
    EXPECT_GE(hashes.size(), 5u) << "samples of " << name << " are not diverse";
  }
}

TEST(DesignSpace, SamplesComputeTheSameValuesAsTheUnscheduledProgram) {
  for (const std::string& name : rctune::ir::operator_names()) {
    SCOPED_TRACE(name);
    DesignSpace space(op(small_spec(name)), test_hw());
    Rng rng(5);
    for (int i = 0; i < 6; ++i) EXPECT_TRUE(computes_reference(space.sample(rng)));
  }
}

TEST(DesignSpace, SameSeedGivesSameSamplesAndOtherSeedsDiffer) {
  DesignSpace space(op("matmul:M=256,N=256,K=256"), test_hw());
  Rng a(42), b(42), c(43);
  std::vector<std::string> ta, tb, tc;
  for (const Candidate& x : space.sample(a, 20)) ta.push_back(x.trace);
  for (const Candidate& x : space.sample(b, 20)) tb.push_back(x.trace);
  for (const Candidate& x : space.sample(c, 20)) tc.push_back(x.trace);
  EXPECT_EQ(ta, tb);
  EXPECT_NE(ta, tc);
}

TEST(DesignSpace, MatmulSamplesHaveRegisterTileVectorizeAndParallel) {
  DesignSpace space(op("matmul:M=256,N=256,K=256"), test_hw());
  Rng rng(3);
  bool found = false;
  for (int i = 0; i < 50 && !found; ++i) {
    Candidate c = space.sample(rng);
    found =
        has_step(c, "cache_write(C, local)") && has_step(c, "vectorize(C.local") && has_step(c, "parallel(C");
  }
  EXPECT_TRUE(found);
  bool packs = false;
  for (const auto& s : space.sketches()) packs = packs || s.name.find("pack(B)") != std::string::npos;
  EXPECT_TRUE(packs) << "matmul has no sketch that packs B";
}

TEST(DesignSpace, MatmulInPlaceSketchBlocksTheReduction) {
  DesignSpace space(op("matmul:M=256,N=256,K=256"), test_hw());
  size_t in_place = space.sketches().size();
  for (size_t i = 0; i < space.sketches().size(); ++i)
    if (space.sketches()[i].name == "tile_in_place(C) pack(B)") in_place = i;
  ASSERT_LT(in_place, space.sketches().size());
  Rng rng(4);
  for (int i = 0; i < 10; ++i) {
    Candidate c = space.sample_sketch(in_place, rng);
    EXPECT_FALSE(has_step(c, "cache_write")) << c.trace;
    EXPECT_TRUE(has_step(c, "split(C, k, ")) << c.trace;
    EXPECT_TRUE(has_step(c, "compute_at(B.heap, C, ")) << c.trace;
  }
}

TEST(DesignSpace, MatmulBestSampleIsCloseToTheHandWrittenSchedule) {
  const HardwareInfo hw = test_hw();
  auto w = op("matmul:M=256,N=256,K=256");
  const double hand = score(rctune::search::make_candidate(w, read_example("matmul.sched")), hw);
  DesignSpace space(w, hw);
  Rng rng(9);
  double best = 0, worst = 1e300;
  for (int i = 0; i < 200; ++i) {
    const double s = score(space.sample(rng), hw);
    best = std::max(best, s);
    worst = std::min(worst, s);
  }
  std::cout << "matmul 256^3 analytic score: hand-written " << hand << ", best sample " << best
            << ", worst sample " << worst << "\n";
  EXPECT_GE(best, 0.5 * hand);
  EXPECT_LT(worst, best);  // the space holds bad points too
}

TEST(DesignSpace, MatmulSpaceContainsTheHandWrittenSchedule) {
  auto w = op("matmul:M=1024,N=1024,K=1024");
  const uint64_t hand = rctune::search::make_candidate(w, read_example("matmul.sched")).hash;
  DesignSpace space(w, test_hw());
  Rng rng(1);
  int draws = 0;
  bool found = false;
  while (!found && draws < 6000) {
    found = space.sample(rng).hash == hand;
    ++draws;
  }
  std::cout << "configs/examples/matmul.sched drawn after " << draws << " samples\n";
  EXPECT_TRUE(found);
}

// The edit applied to the parent's trace changes exactly one step (replaced, added or removed).
void expect_one_decision(const Candidate& parent, const rctune::search::Mutation& m) {
  const auto edits = rctune::search::parse_action(m.action);
  ASSERT_EQ(edits.size(), 1u) << m.action;
  const auto before = lines_of(parent.trace), after = lines_of(m.candidate.trace);
  size_t diff = 0;
  if (before.size() == after.size()) {
    for (size_t i = 0; i < before.size(); ++i) diff += before[i] != after[i];
    EXPECT_EQ(diff, 1u) << m.action;
  } else {
    const auto& longer = before.size() > after.size() ? before : after;
    const auto& shorter = before.size() > after.size() ? after : before;
    ASSERT_EQ(longer.size(), shorter.size() + 1) << m.action;
    size_t i = 0;
    while (i < shorter.size() && shorter[i] == longer[i]) ++i;
    for (size_t j = i; j < shorter.size(); ++j) EXPECT_EQ(shorter[j], longer[j + 1]) << m.action;
  }
}

TEST(DesignSpace, MutateChangesOneDecisionAndStaysLegal) {
  DesignSpace space(op("matmul:M=64,N=64,K=32"), test_hw());
  Rng rng(17);
  int done = 0;
  for (int i = 0; i < 30; ++i) {
    Candidate parent = space.sample(rng);
    auto m = space.mutate(parent.state, rng);
    if (!m) continue;
    ++done;
    EXPECT_NE(m->candidate.hash, 0u);
    EXPECT_EQ(m->candidate.proposer, "mutation");
    EXPECT_EQ(m->candidate.action, m->action);
    EXPECT_NE(m->candidate.trace, parent.trace);
    expect_one_decision(parent, *m);
    if (i < 5) {
      EXPECT_TRUE(computes_reference(m->candidate));
    }
    // A replaced step keeps its primitive, stage and target; a split keeps its number of factors.
    const auto edit = rctune::search::parse_action(m->action).front();
    if (edit.kind == rctune::search::Edit::Kind::Replace) {
      const std::string old_step = lines_of(parent.trace).at(static_cast<size_t>(edit.step - 1));
      const auto upto = [](const std::string& t, char c) { return t.substr(0, t.find(c)); };
      if (m->kind == MutationKind::TileSize) {
        EXPECT_EQ(upto(old_step, '['), upto(edit.text, '['));
        EXPECT_EQ(std::count(old_step.begin(), old_step.end(), ','),
                  std::count(edit.text.begin(), edit.text.end(), ','));
      } else {
        EXPECT_EQ(upto(old_step, '('), upto(edit.text, '('));
      }
    }
  }
  EXPECT_GE(done, 25);
}

TEST(DesignSpace, MutateReachesEveryKind) {
  DesignSpace space(op("matmul:M=32,N=32,K=16"), test_hw());
  Rng rng(23);
  std::set<MutationKind> seen;
  // A sample: tile sizes dominate.
  Candidate sample = space.sample(rng);
  for (int i = 0; i < 10; ++i)
    if (auto m = space.mutate(sample.state, rng)) seen.insert(m->kind);
  EXPECT_TRUE(seen.count(MutationKind::TileSize));
  // A trace without splits: the other kinds share the draws.
  Candidate plain = rctune::search::make_candidate(space.workload_ptr(),
                                                   "cache_write(C, local)\n"
                                                   "compute_at(C.local, C, i)\n"
                                                   "unroll(C.local, k)\n"
                                                   "parallel(C, i)\n");
  for (int i = 0; i < 200 && seen.size() < 4; ++i) {
    if (auto m = space.mutate(plain.state, rng)) {
      seen.insert(m->kind);
      expect_one_decision(plain, *m);
    }
  }
  EXPECT_EQ(seen.size(), 4u);
}

TEST(DesignSpace, MutateWorksOnATraceItDidNotProduce) {
  const std::string text = read_example("conv2d_nchw.sched");
  const std::string first = lines_of(text).front();
  const std::string spec = first.substr(first.find(':') + 2);
  auto w = op(spec);
  Candidate hand = rctune::search::make_candidate(w, text);
  DesignSpace space(w, test_hw());
  Rng rng(31);
  int done = 0;
  for (int i = 0; i < 10; ++i) {
    auto m = space.mutate(hand.state, rng);
    if (!m) continue;
    ++done;
    EXPECT_NE(m->candidate.hash, 0u);
    expect_one_decision(hand, *m);
  }
  EXPECT_GE(done, 8);
}

TEST(DesignSpace, MutateOfTheUnscheduledProgramAddsAnAnnotation) {
  DesignSpace space(op("softmax:M=8,N=64"), test_hw());
  Rng rng(2);
  rctune::schedule::State plain(space.workload_ptr());
  auto m = space.mutate(plain, rng);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->kind == MutationKind::Unroll || m->kind == MutationKind::Parallel);
  EXPECT_EQ(lines_of(m->candidate.trace).size(), 1u);
}

TEST(DesignSpace, WorkloadWithoutReductionGetsTheAnnotationSketch) {
  const std::string src =
      "X: f32[16, 64]\nE: f32[16, 64]\nY: f32[16, 64]\nE[i, j] = X[i, j] * 2\nY[i, j] = E[i, j] + "
      "1\noutputs: Y\n";
  auto ew = std::make_shared<const rctune::ir::Workload>(rctune::ir::parse_workload(src, "ew"));
  DesignSpace space(ew, test_hw());
  ASSERT_EQ(space.sketches().size(), 1u);
  EXPECT_NE(space.sketches()[0].name.find("inline(E)"), std::string::npos);
  Rng rng(1);
  for (int i = 0; i < 10; ++i) {
    Candidate c = space.sample(rng);
    EXPECT_TRUE(has_step(c, "compute_inline(E)")) << c.trace;
    EXPECT_TRUE(computes_reference(c));
  }
}

// Workloads written by hand (as in workload files), with structures the library does not have:
// the rules read the stage structure, so they must stay legal and correct on all of them.
TEST(DesignSpace, HandWrittenWorkloadsGiveLegalCorrectSamples) {
  const std::vector<std::string> sources = {
      // transposed operands
      "A: f32[12, 20]\nB: f32[24, 12]\nC: f32[20, 24]\nC[i, j] += A[k, i] * B[j, k]\n",
      // matmul, bias, relu, scale: a chain of epilogues
      "A: f32[16, 8]\nB: f32[8, 32]\nb: f32[32]\nC: f32[16, 32]\nD: f32[16, 32]\nE: f32[16, 32]\n"
      "C[i, j] += A[i, k] * B[k, j]\nD[i, j] = max(C[i, j] + b[j], 0)\nE[i, j] = D[i, j] * 0.5\noutputs: E\n",
      // column sums: the reduced axis is not contiguous
      "X: f32[16, 40]\nS: f32[40]\nS[j] += X[i, j]\n",
      // max pooling 2x2, stride 2
      "X: f32[2, 3, 8, 8]\nY: f32[2, 3, 4, 4]\nY[n, c, p, q] max= X[n, c, p * 2 + r, q * 2 + s] where r < 2, "
      "s < 2\n",
      // a reduction over two axes into a scalar-like output
      "X: f64[4, 6, 32]\nS: f64[4]\nS[i] += X[i, j, k] * X[i, j, k]\n",
      // strided convolution, f64
      "X: f64[1, 3, 9, 9]\nW: f64[8, 3, 3, 3]\nY: f64[1, 8, 4, 4]\n"
      "Y[n, k, p, q] += X[n, c, p * 2 + r - 1, q * 2 + s - 1] * W[k, c, r, s]\n",
      // an elementwise producer that is expensive, read by a reduction
      "X: f32[8, 16]\nW: f32[16, 24]\nE: f32[8, 16]\nC: f32[8, 24]\nE[i, k] = exp(X[i, k])\n"
      "C[i, j] += E[i, k] * W[k, j]\noutputs: C\n",
      // fused epilogues of library operators (reduction, then one elementwise stage with extra inputs)
      rctune::ir::operator_source("conv2d_nchw:N=1,C=4,H=8,W=8,K=8,epilogue=bias+add+relu"),
      rctune::ir::operator_source("batch_matmul:B=2,M=8,N=24,K=8,epilogue=silu+mul"),
      rctune::ir::operator_source("depthwise_conv2d:N=1,C=4,H=8,W=8,epilogue=bias+relu6"),
  };
  for (size_t i = 0; i < sources.size(); ++i) {
    SCOPED_TRACE(sources[i]);
    auto w = std::make_shared<const rctune::ir::Workload>(
        rctune::ir::parse_workload(sources[i], "custom" + std::to_string(i)));
    DesignSpace space(w, test_hw());
    Rng rng(i);
    std::set<uint64_t> hashes;
    for (int s = 0; s < 12; ++s) {
      Candidate c = space.sample(rng);
      hashes.insert(c.hash);
      EXPECT_EQ(c.rationale.find("fallback"), std::string::npos) << c.rationale;
      EXPECT_TRUE(computes_reference(c));
      if (auto m = space.mutate(c.state, rng)) {
        EXPECT_TRUE(computes_reference(m->candidate));
      }
    }
    EXPECT_GE(hashes.size(), 3u);
  }
}

TEST(DesignSpace, SpeedOfSampleAndMutate) {
  DesignSpace space(op("matmul:M=1024,N=1024,K=1024"), test_hw());
  Rng rng(1);
  std::vector<Candidate> samples;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) samples.push_back(space.sample(rng));
  auto t1 = std::chrono::steady_clock::now();
  int ok = 0;
  for (int i = 0; i < 100; ++i) ok += space.mutate(samples[static_cast<size_t>(i)].state, rng).has_value();
  auto t2 = std::chrono::steady_clock::now();
  const double ms_sample = std::chrono::duration<double, std::milli>(t1 - t0).count() / 100;
  const double ms_mutate = std::chrono::duration<double, std::milli>(t2 - t1).count() / 100;
  std::cout << "matmul 1024^3: sample " << ms_sample << " ms, mutate " << ms_mutate << " ms per call\n";
  EXPECT_GT(ok, 90);
}

}  // namespace
