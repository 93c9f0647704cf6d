// Tests of the proposers (rctune/search/proposer.h): the heuristic reasoner on every library
// operator, its use of history and failures, the random proposer, the hardware description, and
// how proposers count what they drop (rctune/search/proposer_failures.h).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <set>
#include <stdexcept>

#include "rctune/ir/operators.h"
#include "rctune/schedule/lower.h"
#include "rctune/schedule/primitives.h"
#include "rctune/schedule/trace.h"
#include "rctune/search/action.h"
#include "rctune/search/cost_model.h"
#include "rctune/search/features.h"
#include "rctune/search/proposer.h"
#include "rctune/search/proposer_failures.h"
#include "search/strategy_test_util.h"

namespace rctune::search {
namespace {

HardwareDescription test_hardware() { return rctune::testing::fixed_hardware("Test CPU"); }

schedule::State unscheduled(const std::string& spec) {
  return schedule::State(std::make_shared<const ir::Workload>(ir::make_operator(spec)));
}

ProposerInput input_for(const schedule::State& s, int count = 4) {
  ProposerInput in;
  in.state = s;
  in.hardware = test_hardware();
  in.count = count;
  ProgramView v;
  v.trace = number_steps(s.trace());
  in.history.push_back(v);
  return in;
}

// The input for `node` (3 proposals), measured at `node_gflops`, whose parent `parent` measured
// `parent_gflops`.
ProposerInput input_after_parent(const schedule::State& node, double node_gflops,
                                 const schedule::State& parent, double parent_gflops) {
  ProposerInput in = input_for(node, 3);
  in.history[0].gflops = node_gflops;
  ProgramView pv;
  pv.trace = number_steps(parent.trace());
  pv.gflops = parent_gflops;
  in.history.push_back(pv);
  return in;
}

double score_of(const schedule::State& s) {
  const HardwareInfo hw = test_hardware().info;
  return analytic_score(extract_features(s, hw), hw);
}

bool legal(const schedule::State& s, const std::string& action) {
  try {
    schedule::lower(apply_action(s, action));
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// Small shapes of every library operator.
std::vector<std::string> small_specs() {
  std::vector<std::string> out;
  for (const auto& op : ir::operator_library()) {
    const std::string& n = op.name;
    if (n == "matmul")
      out.push_back("matmul:M=64,N=64,K=64");
    else if (n == "batch_matmul")
      out.push_back("batch_matmul:B=2,M=32,N=64,K=32");
    else if (n == "dense" || n == "dense_gelu")
      out.push_back(n + ":M=32,N=64,K=32");
    else if (n == "conv2d_nchw" || n == "conv2d_nhwc")
      out.push_back(n + ":N=1,C=8,H=10,W=10,K=16,R=3,S=3");
    else if (n == "depthwise_conv2d")
      out.push_back(n + ":N=1,C=8,H=10,W=10,R=3,S=3");
    else if (n == "softmax")
      out.push_back("softmax:M=16,N=64");
    else if (n == "layernorm" || n == "rmsnorm")
      out.push_back(n + ":M=16,N=96");
    else if (n == "attention")
      out.push_back("attention:B=2,S=16,D=16");
    else
      out.push_back(n);  // a new operator at its default shape
  }
  return out;
}

TEST(HeuristicProposer, WalkOnEveryOperatorNeverThrowsAndProposesLegalActions) {
  auto p = make_heuristic_proposer();
  for (const std::string& spec : small_specs()) {
    SCOPED_TRACE(spec);
    schedule::State s = unscheduled(spec);
    Rng rng(7);
    int proposed = 0, legal_count = 0;
    for (int step = 0; step < 8; ++step) {
      std::vector<Proposal> props;
      ASSERT_NO_THROW(props = p->propose(input_for(s), rng));
      if (props.empty()) break;
      for (const Proposal& pr : props) {
        ++proposed;
        if (legal(s, pr.action)) ++legal_count;
      }
      if (!legal(s, props.front().action)) break;
      s = apply_action(s, props.front().action);
    }
    EXPECT_GT(proposed, 0);
    EXPECT_GE(legal_count, 0.9 * proposed);
  }
}

TEST(HeuristicProposer, RandomWalksOverItsOwnProposalsStayLegal) {
  // Any state reached by its own proposals (not only the first ones), also in f64 and after random
  // primitives: it never throws and what it proposes applies and lowers.
  auto p = make_heuristic_proposer();
  auto r = make_random_proposer();
  std::vector<std::string> specs = small_specs();
  specs.push_back("matmul:M=48,N=40,K=24,dtype=f64");
  specs.push_back("softmax:M=8,N=40,dtype=f64");
  specs.push_back("conv2d_nchw:N=1,C=8,H=10,W=10,K=16,epilogue=bias+add+relu");
  specs.push_back("batch_matmul:B=2,M=32,N=64,K=32,epilogue=silu+mul");
  int proposed = 0, legal_count = 0;
  for (const std::string& spec : specs) {
    SCOPED_TRACE(spec);
    for (uint64_t seed = 0; seed < 2; ++seed) {
      schedule::State s = unscheduled(spec);
      Rng rng(seed);
      for (int step = 0; step < 10; ++step) {
        std::vector<Proposal> props;
        Proposer& who = step % 4 == 3 ? *r : *p;
        ASSERT_NO_THROW(props = who.propose(input_for(s, 3), rng));
        if (props.empty()) break;
        for (const Proposal& pr : props) {
          ++proposed;
          legal_count += legal(s, pr.action) ? 1 : 0;
        }
        const Proposal& next = pick(rng, props);
        if (!legal(s, next.action)) break;
        s = apply_action(s, next.action);
      }
    }
  }
  EXPECT_GE(legal_count, 0.9 * proposed);
  EXPECT_GT(proposed, 100);
}

TEST(HeuristicProposer, ProposalsOfOneCallAreDistinctWithRationale) {
  auto p = make_heuristic_proposer();
  for (const std::string& spec : small_specs()) {
    SCOPED_TRACE(spec);
    Rng rng(1);
    std::vector<Proposal> props = p->propose(input_for(unscheduled(spec), 4), rng);
    ASSERT_FALSE(props.empty());
    EXPECT_LE(props.size(), 4u);
    std::set<std::string> actions;
    std::set<uint64_t> programs;
    for (const Proposal& pr : props) {
      EXPECT_FALSE(pr.rationale.empty());
      EXPECT_EQ(pr.rationale.find('\n'), std::string::npos);
      EXPECT_TRUE(actions.insert(pr.action).second) << pr.action;
      EXPECT_TRUE(
          programs.insert(schedule::structural_hash(apply_action(unscheduled(spec), pr.action))).second);
    }
  }
}

TEST(HeuristicProposer, ProposalsDifferInKind) {
  auto p = make_heuristic_proposer();
  Rng rng(3);
  std::vector<Proposal> props = p->propose(input_for(unscheduled("matmul:M=256,N=256,K=256"), 3), rng);
  ASSERT_EQ(props.size(), 3u);
  // Three different first primitives: not three variants of one transformation.
  std::set<std::string> heads;
  for (const Proposal& pr : props) heads.insert(pr.action.substr(0, pr.action.find('(')));
  EXPECT_EQ(heads.size(), 3u);
}

TEST(HeuristicProposer, IsDeterministicForASeed) {
  auto p = make_heuristic_proposer();
  Rng a(11), b(11);
  auto pa = p->propose(input_for(unscheduled("softmax:M=16,N=64")), a);
  auto pb = p->propose(input_for(unscheduled("softmax:M=16,N=64")), b);
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_EQ(pa[i].action, pb[i].action);
}

TEST(HeuristicProposer, GreedyWalkOnMatmulReachesARegisterTileAndAFasterProgram) {
  auto p = make_heuristic_proposer();
  schedule::State s = unscheduled("matmul:M=256,N=256,K=256");
  const double start = score_of(s);
  Rng rng(5);
  bool tiled = false;
  for (int step = 0; step < 6 && !tiled; ++step) {
    std::vector<Proposal> props = p->propose(input_for(s), rng);
    ASSERT_FALSE(props.empty());
    schedule::State best_state;
    double best = -1;
    for (const Proposal& pr : props) {
      schedule::State t = apply_action(s, pr.action);
      double sc = score_of(t);
      if (sc > best) best = sc, best_state = t;
    }
    s = best_state;
    bool local = false, vec = false;
    for (const auto& st : s.stages()) {
      if (st->stage == "C.local" && st->scope == ir::MemScope::Local) local = true;
      for (const auto& l : st->loops)
        if (l.kind == ir::ForKind::Vectorized) vec = true;
    }
    tiled = local && vec;
  }
  EXPECT_TRUE(tiled) << schedule::to_text(s.trace());
  EXPECT_GT(score_of(s), 8.0 * start) << schedule::to_text(s.trace());
}

TEST(HeuristicProposer, RegisterTileFitsTheVectorRegisters) {
  auto p = make_heuristic_proposer();
  Rng rng(2);
  auto props = p->propose(input_for(unscheduled("matmul:M=256,N=256,K=256"), 6), rng);
  bool found = false;
  for (const Proposal& pr : props) {
    if (pr.action.find("cache_write(C, local)") == std::string::npos) continue;
    found = true;
    schedule::State t = apply_action(unscheduled("matmul:M=256,N=256,K=256"), pr.action);
    ir::LoweredFunc f = schedule::lower(t);
    const std::string code = ir::to_string(f);
    // alloc C.local: f32[R, C] local with R * C / 16 <= 32 registers and C a multiple of 16 lanes.
    size_t at = code.find("alloc C.local: f32[");
    ASSERT_NE(at, std::string::npos) << code;
    int rows = 0, cols = 0;
    ASSERT_EQ(std::sscanf(code.c_str() + at, "alloc C.local: f32[%d, %d]", &rows, &cols), 2);
    EXPECT_EQ(cols % 16, 0);
    EXPECT_LE(rows * cols / 16, 32);
    EXPECT_GE(rows * cols / 16, 4);
  }
  EXPECT_TRUE(found);
}

TEST(HeuristicProposer, DoesNotProposeAFailedActionAgain) {
  auto p = make_heuristic_proposer();
  const schedule::State s = unscheduled("matmul:M=256,N=256,K=256");
  Rng rng(4);
  auto first = p->propose(input_for(s, 3), rng);
  ASSERT_FALSE(first.empty());
  ProposerInput in = input_for(s, 3);
  in.failed.push_back({first.front().action, "wrong_result: max error 1.5"});
  Rng rng2(4);
  auto again = p->propose(in, rng2);
  for (const Proposal& pr : again) EXPECT_NE(pr.action, first.front().action);
}

TEST(HeuristicProposer, SlowerThanParentTouchesTheChangedStepFirst) {
  auto p = make_heuristic_proposer();
  const std::string parent_trace =
      "split(C, i, [None, 8])\nsplit(C, j, [None, 32])\nreorder(C, i.0, j.0, k, i.1, j.1)\nvectorize(C, "
      "j.1)\n";
  const schedule::State base = unscheduled("matmul:M=256,N=256,K=256");
  const schedule::State parent = schedule::apply_trace(base, parent_trace);
  const schedule::State node = apply_action(parent, "1: split(C, i, [None, 16])");
  const ProposerInput in = input_after_parent(node, 10, parent, 20);
  Rng rng(9);
  auto props = p->propose(in, rng);
  ASSERT_FALSE(props.empty());
  std::vector<Edit> edits = parse_action(props.front().action);
  ASSERT_FALSE(edits.empty());
  EXPECT_NE(edits.front().kind, Edit::Kind::Append) << props.front().action;
  EXPECT_EQ(edits.front().step, 1) << props.front().action;
  // The other direction: 8 -> 16 was slower, so 4.
  EXPECT_NE(props.front().action.find("[None, 4]"), std::string::npos) << props.front().action;
}

TEST(HeuristicProposer, FasterThanParentPushesTheTileFurther) {
  auto p = make_heuristic_proposer();
  const schedule::State base = unscheduled("matmul:M=256,N=256,K=256");
  const schedule::State parent = schedule::apply_trace(
      base, "split(C, i, [None, 4])\nsplit(C, j, [None, 32])\nreorder(C, i.0, j.0, k, i.1, j.1)\n");
  const schedule::State node = apply_action(parent, "1: split(C, i, [None, 8])");
  const ProposerInput in = input_after_parent(node, 30, parent, 20);
  Rng rng(9);
  bool pushed = false;
  for (const Proposal& pr : p->propose(in, rng)) pushed |= pr.action == "1: split(C, i, [None, 16])\n";
  EXPECT_TRUE(pushed);
}

TEST(HeuristicProposer, AvoidsAStepThatAnErrorNamed) {
  auto p = make_heuristic_proposer();
  const schedule::State s = unscheduled("matmul:M=256,N=256,K=256");
  ProposerInput in = input_for(s, 8);
  in.failed.push_back({"parallel(C, i)", "step 1 `parallel(C, i)`: made up for the test"});
  Rng rng(4);
  for (const Proposal& pr : p->propose(in, rng))
    EXPECT_EQ(pr.action.find("parallel(C, i)\n"), std::string::npos) << pr.action;
}

TEST(HeuristicProposer, AdoptsWhatTheBestProgramHasAndTheNodeLacks) {
  auto p = make_heuristic_proposer();
  const schedule::State base = unscheduled("matmul:M=256,N=256,K=256");
  const std::string tile =
      "split(C, i, [None, 8])\nsplit(C, j, [None, 32])\nreorder(C, i.0, j.0, k, i.1, j.1)\n";
  const schedule::State node = schedule::apply_trace(base, tile);
  ProposerInput in = input_for(node, 16);
  in.history[0].gflops = 10;
  ProgramView best;
  best.trace = tile + "unroll(C, i.1)\n";
  best.gflops = 40;
  in.best = best;
  Rng rng(1);
  bool adopted = false;
  for (const Proposal& pr : p->propose(in, rng))
    if (pr.action == "unroll(C, i.1)\n") adopted = pr.rationale.find("best program") != std::string::npos;
  EXPECT_TRUE(adopted);
}

TEST(HeuristicProposer, BindsToTeamsOnAGpuExecutionSpace) {
  auto p = make_heuristic_proposer();
  ProposerInput in = input_for(unscheduled("softmax:M=64,N=256"), 8);
  in.hardware.execution_space = "Cuda";
  Rng rng(1);
  bool bound = false, parallel = false;
  for (const Proposal& pr : p->propose(in, rng)) {
    bound |= pr.action.find(", league)") != std::string::npos;
    parallel |= pr.action.find("parallel(") != std::string::npos;
  }
  EXPECT_TRUE(bound);
  EXPECT_FALSE(parallel);
}

TEST(HeuristicProposer, WidensAParallelLoopWithTooFewIterations) {
  auto p = make_heuristic_proposer();
  const schedule::State s = schedule::apply_trace(unscheduled("matmul:M=256,N=256,K=256"),
                                                  "split(C, i, [None, 64])\nparallel(C, i.0)\n");
  Rng rng(1);
  bool widened = false;
  std::string seen;
  for (const Proposal& pr : p->propose(input_for(s, 8), rng)) {
    // Either fuse the split loops under the parallel loop, or split i with a smaller inner factor
    // so that the parallel loop i.0 gets more iterations.
    widened |= pr.action == "2: delete\nfuse(C, i.0, i.1)\nparallel(C, i.0.i.1)\n" ||
               pr.action == "1: split(C, i, [None, 32])\n" || pr.action == "1: split(C, i, [None, 16])\n";
    seen += pr.action + "  # " + pr.rationale + "\n";
  }
  EXPECT_TRUE(widened) << seen;  // 4 iterations for 8 cores
}

TEST(HeuristicProposer, ReturnsNothingForZeroCount) {
  auto p = make_heuristic_proposer();
  Rng rng(1);
  ProposerInput in = input_for(unscheduled("matmul:M=64,N=64,K=64"), 0);
  EXPECT_TRUE(p->propose(in, rng).empty());
}

TEST(RandomProposer, ProposesLegalActionsDeterministicallyForASeed) {
  auto p = make_random_proposer();
  EXPECT_EQ(p->name(), "random");
  for (const std::string& spec : small_specs()) {
    SCOPED_TRACE(spec);
    schedule::State s = unscheduled(spec);
    Rng a(21), b(21);
    auto pa = p->propose(input_for(s, 3), a);
    auto pb = p->propose(input_for(s, 3), b);
    ASSERT_FALSE(pa.empty());
    ASSERT_EQ(pa.size(), pb.size());
    for (size_t i = 0; i < pa.size(); ++i) {
      EXPECT_EQ(pa[i].action, pb[i].action);
      EXPECT_EQ(pa[i].rationale, "random");
      EXPECT_TRUE(legal(s, pa[i].action)) << pa[i].action;
    }
  }
}

TEST(RandomProposer, DifferentSeedsGiveDifferentProposals) {
  auto p = make_random_proposer();
  const schedule::State s = unscheduled("matmul:M=64,N=64,K=64");
  std::set<std::string> seen;
  for (uint64_t seed = 0; seed < 6; ++seed) {
    Rng rng(seed);
    for (const Proposal& pr : p->propose(input_for(s, 2), rng)) seen.insert(pr.action);
  }
  EXPECT_GE(seen.size(), 4u);
}

TEST(RandomProposer, CountsTheIllegalActionsItDropsAndNoInternalError) {
  auto p = make_random_proposer();
  const schedule::State s = unscheduled("matmul:M=64,N=64,K=64");
  for (uint64_t seed = 0; seed < 8; ++seed) {
    Rng rng(seed);
    p->propose(input_for(s, 4), rng);
  }
  EXPECT_GT(p->failures().illegal, 0);
  EXPECT_EQ(p->failures().internal, 0) << p->failures().first_internal;
}

TEST(HeuristicProposer, CountsTheIllegalIdeasItDropsAndNoInternalError) {
  // Along walks over its own proposals, some of its ideas for the scheduled states are illegal.
  auto p = make_heuristic_proposer();
  for (const std::string& spec : small_specs()) {
    Rng rng(3);
    schedule::State s = unscheduled(spec);
    for (int step = 0; step < 4; ++step) {
      const std::vector<Proposal> proposals = p->propose(input_for(s, 4), rng);
      if (proposals.empty()) break;
      s = apply_action(s, proposals.front().action);
    }
  }
  EXPECT_GT(p->failures().illegal, 0);
  EXPECT_EQ(p->failures().internal, 0) << p->failures().first_internal;
}

TEST(ProposerFailures, AnActionAPrimitiveRefusesIsCountedAsIllegal) {
  ProposerFailures f;
  const schedule::State s = unscheduled("matmul:M=64,N=64,K=64");
  EXPECT_FALSE(attempt(f, "test", [&] { apply_action(s, "vectorize(C, k)"); }));
  EXPECT_FALSE(attempt(f, "test", [] { throw schedule::PrimitiveError("fuse(C, i, k)", "not adjacent"); }));
  EXPECT_EQ(f.illegal, 2);
  EXPECT_EQ(f.unparsable, 0);
  EXPECT_EQ(f.internal, 0);
}

TEST(ProposerFailures, AnActionThatDoesNotParseIsCountedAsUnparsable) {
  ProposerFailures f;
  EXPECT_FALSE(attempt(f, "test", [] { parse_action("split(C, i, [None, 8]"); }));
  EXPECT_EQ(f.unparsable, 1);
  EXPECT_EQ(f.illegal, 0);
}

TEST(ProposerFailures, AnUnexpectedExceptionIsCountedAsAnInternalErrorWithWhereItHappened) {
  ProposerFailures f;
  EXPECT_FALSE(attempt(f, "the tile diagnosis", [] { throw std::out_of_range("map::at"); }));
  EXPECT_FALSE(attempt(f, "the tile diagnosis", [] { throw std::logic_error("second"); }));
  EXPECT_EQ(f.internal, 2);
  EXPECT_EQ(f.illegal + f.unparsable, 0);
  EXPECT_EQ(f.first_internal, "the tile diagnosis: map::at");
  EXPECT_NE(failures_text(f).find("2 internal errors (a bug in rctune; first: the tile diagnosis: map::at)"),
            std::string::npos)
      << failures_text(f);
}

TEST(ProposerFailures, AnExceptionThatIsNotAStdExceptionIsNotCaught) {
  ProposerFailures f;
  EXPECT_THROW(attempt(f, "test", [] { throw 42; }), int);
  EXPECT_EQ(f.total(), 0);
}

TEST(ProposerFailures, WorkThatFinishesCountsNothing) {
  ProposerFailures f;
  int runs = 0;
  EXPECT_TRUE(attempt(f, "test", [&] { ++runs; }));
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(f.total(), 0);
  EXPECT_EQ(failures_text(f), "0 illegal actions, 0 unparsable, 0 internal errors");
}

TEST(ProposerFailures, AddingKeepsTheFirstInternalError) {
  ProposerFailures a, b;
  a.illegal = 1;
  b.illegal = 2;
  b.unparsable = 3;
  b.internal = 1;
  b.first_internal = "x: y";
  a += b;
  EXPECT_EQ(a.illegal, 3);
  EXPECT_EQ(a.unparsable, 3);
  EXPECT_EQ(a.internal, 1);
  EXPECT_EQ(a.first_internal, "x: y");
}

TEST(HardwareDescription, TextMentionsCachesLanesAndExecutionSpace) {
  const std::string t = test_hardware().text();
  EXPECT_NE(t.find("48 KiB"), std::string::npos) << t;
  EXPECT_NE(t.find("1 MiB"), std::string::npos) << t;
  EXPECT_NE(t.find("32 MiB"), std::string::npos) << t;
  EXPECT_NE(t.find("16 f32 lanes"), std::string::npos) << t;
  EXPECT_NE(t.find("32 vector registers"), std::string::npos) << t;
  EXPECT_NE(t.find("8 cores"), std::string::npos) << t;
  EXPECT_NE(t.find("OpenMP"), std::string::npos) << t;
  EXPECT_NE(t.find("Test CPU"), std::string::npos) << t;
}

TEST(HardwareDescription, HostDescriptionUsesTheGivenExecutionSpace) {
  HardwareDescription d = host_hardware_description("OpenMP");
  EXPECT_EQ(d.execution_space, "OpenMP");
  EXPECT_EQ(host_hardware_description().execution_space, "Serial");
  EXPECT_GT(d.info.l1_bytes, 0);
}

}  // namespace
}  // namespace rctune::search
