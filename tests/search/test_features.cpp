// Features of lowered loop nests: loop kinds show up, register tiles beat naive nests where they
// should, extraction is deterministic and total.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "rctune/config/workload_file.h"
#include "rctune/ir/stmt.h"
#include "rctune/schedule/lower.h"
#include "rctune/schedule/state.h"
#include "rctune/schedule/trace.h"
#include "rctune/search/features.h"
#include "rctune/search/simulated_evaluator.h"
#include "schedule/random_steps.h"

namespace {

using rctune::search::extract_features;
using rctune::search::feature_index;
using rctune::search::HardwareInfo;

// The simulated machine with a 16 MiB last-level cache: the expected feature values below were
// worked out for it.
HardwareInfo test_hw() {
  HardwareInfo hw = rctune::search::simulated_hardware();
  hw.l3_bytes = 16 * 1024 * 1024;
  return hw;
}

rctune::schedule::State scheduled(const std::string& spec, const std::string& trace) {
  auto w = std::make_shared<const rctune::ir::Workload>(rctune::config::load_workload(spec));
  return rctune::schedule::apply_trace(rctune::schedule::State(w), trace);
}

std::vector<double> features(const std::string& spec, const std::string& trace) {
  return extract_features(scheduled(spec, trace), test_hw());
}

double at(const std::vector<double>& f, const char* name) { return f[feature_index(name)]; }

const char* kRegisterTile =
    "cache_write(C, local)\nsplit(C, i, [None, 8])\nsplit(C, j, [None, 32])\nreorder(C, i.0, j.0, i.1, j.1)\n"
    "compute_at(C.local, C, j.0)\nreorder(C.local, k, i, j)\nunroll(C.local, i)\nvectorize(C.local, j)\n"
    "vectorize(C, j.1)\nparallel(C, i.0)";

TEST(Features, NamesAreUniqueAndMatchTheVectorLength) {
  auto names = rctune::search::feature_names();
  EXPECT_EQ(names.size(), rctune::search::num_features());
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  for (const auto& fi : rctune::search::feature_info()) EXPECT_FALSE(fi.description.empty()) << fi.name;
  EXPECT_EQ(features("matmul:M=64,N=64,K=64", "").size(), names.size());
}

TEST(Features, EachFeatureSaysHowStoresAreAggregated) {
  using rctune::search::FeatureAggregation;
  const auto& info = rctune::search::feature_info();
  EXPECT_EQ(info[feature_index("flops")].aggregation, FeatureAggregation::Kernel);
  EXPECT_EQ(info[feature_index("loop_depth")].aggregation, FeatureAggregation::StoreMean);
  EXPECT_EQ(info[feature_index("vector_gather_fraction")].aggregation,
            FeatureAggregation::VectorizedStoreMean);
}

TEST(Features, StoreMeanFeaturesOfAKernelWithoutStoresAreZero) {
  rctune::ir::LoweredFunc empty;
  auto f = extract_features(empty, test_hw());
  ASSERT_EQ(f.size(), rctune::search::num_features());
  for (size_t k = 0; k < f.size(); ++k) EXPECT_EQ(f[k], 0.0) << rctune::search::feature_info()[k].name;
}

TEST(Features, UnknownFeatureNameThrowsNamingIt) {
  try {
    feature_index("no_such_feature");
    FAIL() << "expected an exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_feature"), std::string::npos);
  }
}

TEST(Features, VectorizedLoopShowsItsLanes) {
  auto naive = features("matmul:M=64,N=64,K=64", "");
  auto vec =
      features("matmul:M=64,N=64,K=64", "split(C, j, [None, 16])\nreorder(C, k, j.1)\nvectorize(C, j.1)");
  EXPECT_EQ(at(naive, "vector_lanes"), 0.0);
  EXPECT_EQ(at(naive, "vectorized_fraction"), 0.0);
  EXPECT_NEAR(at(vec, "vector_lanes"), std::log2(17.0), 1e-9);
  EXPECT_NEAR(at(vec, "vectorized_fraction"), 1.0, 1e-3);  // the init store is a small part
  EXPECT_GT(at(vec, "vectorized_innermost"), 0.99);
  // 16 f32 lanes over a 32-byte register: two registers per vector.
  EXPECT_NEAR(at(vec, "vector_width_ratio"), 2.0, 1e-2);
}

TEST(Features, ParallelLoopShowsItsExtent) {
  auto f = features("matmul:M=64,N=64,K=64", "split(C, i, [None, 8])\nparallel(C, i.0)");
  EXPECT_NEAR(at(f, "parallel_extent"), std::log2(9.0), 1e-9);
  EXPECT_NEAR(at(f, "parallel_loops"), 1.0, 1e-9);
  EXPECT_NEAR(at(f, "parallel_outermost"), 1.0, 1e-9);
  EXPECT_NEAR(at(f, "parallel_efficiency"), 1.0, 1e-9);  // 8 iterations on 8 cores
  auto serial = features("matmul:M=64,N=64,K=64", "");
  EXPECT_EQ(at(serial, "parallel_extent"), 0.0);  // 0 when there is no parallel loop
  EXPECT_NEAR(at(serial, "parallel_efficiency"), 1.0 / 8.0, 1e-9);
  EXPECT_LT(at(f, "work_per_thread"), at(serial, "work_per_thread"));
}

TEST(Features, KokkosBoundLoopsCountAsParallel) {
  auto f =
      features("matmul:M=16,N=32,K=8", "split(C, i, [None, 4])\nbind(C, i.0, league)\nbind(C, i.1, team)");
  EXPECT_NEAR(at(f, "parallel_loops"), 2.0, 1e-9);
  EXPECT_NEAR(at(f, "parallel_extent"), std::log2(17.0), 1e-9);
}

TEST(Features, UnrolledLoopShowsItsIterations) {
  auto f = features("matmul:M=64,N=64,K=64", "split(C, k, [None, 4])\nunroll(C, k.1)");
  EXPECT_NEAR(at(f, "unrolled_iterations"), std::log2(5.0), 0.05);  // weighted with the init store
  EXPECT_GT(at(f, "unrolled_fraction"), 0.95);                      // the init store is outside
}

TEST(Features, FlopsMatchTheWorkload) {
  auto w = rctune::config::load_workload("matmul:M=64,N=48,K=32");
  auto f = features("matmul:M=64,N=48,K=32", kRegisterTile);
  EXPECT_NEAR(rctune::search::unlog2p(at(f, "flops")), w.flops(), 1e-6 * w.flops());
}

TEST(Features, RegisterTileBeatsNaiveInTheExpectedDirection) {
  const std::string spec = "matmul:M=256,N=256,K=256";
  auto naive = features(spec, "");
  auto tile = features(spec, kRegisterTile);
  EXPECT_GT(at(tile, "local_elements"), 0.0);
  EXPECT_EQ(at(naive, "local_elements"), 0.0);
  EXPECT_GT(at(tile, "local_access_fraction"), 0.3);
  EXPECT_GT(at(tile, "vector_lanes"), at(naive, "vector_lanes"));
  EXPECT_GT(at(tile, "parallel_extent"), at(naive, "parallel_extent"));
  // Less data moved from beyond L1 per flop.
  EXPECT_LT(at(tile, "traffic_l1"), at(naive, "traffic_l1"));
  EXPECT_GT(at(tile, "intensity_l1"), at(naive, "intensity_l1"));
  EXPECT_LT(at(tile, "work_per_thread"), at(naive, "work_per_thread"));
  // Same arithmetic.
  EXPECT_NEAR(at(tile, "flops"), at(naive, "flops"), 1e-9);
}

TEST(Features, InnermostStridesAreClassified) {
  // Naive matmul i, j, k: innermost k reads A[i, k] with stride 1, B[k, j] with stride N and
  // accumulates into C[i, j] (stride 0).
  auto ijk = features("matmul:M=64,N=64,K=64", "");
  EXPECT_GT(at(ijk, "strided_fraction"), 0.2);
  EXPECT_GT(at(ijk, "write_stride0_fraction"), 0.95);
  // i, k, j: innermost j reads B[k, j] and C[i, j] with stride 1, A[i, k] invariant.
  auto ikj = features("matmul:M=64,N=64,K=64", "reorder(C, i, k, j)");
  EXPECT_LT(at(ikj, "strided_fraction"), 0.01);
  EXPECT_GT(at(ikj, "write_stride1_fraction"), 0.95);
  EXPECT_LT(at(ikj, "innermost_stride_bytes"), at(ijk, "innermost_stride_bytes"));
  // When B no longer fits in L1, walking it by columns moves far more lines into L1.
  auto big_ijk = features("matmul:M=1024,N=1024,K=1024", "");
  auto big_ikj = features("matmul:M=1024,N=1024,K=1024", "reorder(C, i, k, j)");
  EXPECT_LT(at(big_ikj, "traffic_l1"), at(big_ijk, "traffic_l1") - 2.0);
}

TEST(Features, ContiguousInnermostLoopCountsAsAutoVectorized) {
  HardwareInfo hw = test_hw();  // 32-byte registers: 8 f32 lanes
  auto w =
      std::make_shared<const rctune::ir::Workload>(rctune::config::load_workload("matmul:M=64,N=64,K=64"));
  rctune::schedule::State ijk(w);
  auto ikj = rctune::schedule::apply_trace(ijk, "reorder(C, i, k, j)");
  auto fi = extract_features(ijk, hw), fk = extract_features(ikj, hw);
  // i, j, k: the innermost k reduces into one element and walks B by columns: scalar.
  EXPECT_LT(at(fi, "auto_vectorized_fraction"), 0.05);
  EXPECT_NEAR(at(fi, "simd_lanes"), 1.0, 0.05);  // log2(1 + 1)
  // i, k, j: unit-stride j, no reduction in the inner loop: the compiler vectorizes it.
  EXPECT_GT(at(fk, "auto_vectorized_fraction"), 0.95);
  EXPECT_NEAR(at(fk, "simd_lanes"), std::log2(9.0), 0.05);
}

TEST(Features, GatherInAVectorizedLoopIsCounted) {
  // Vectorizing i with k outside: A[i, k] and C[i, j] step by a whole row per lane.
  auto f = features("matmul:M=64,N=64,K=64", "reorder(C, j, k, i)\nvectorize(C, i)");
  EXPECT_GT(at(f, "vector_gather_fraction"), 0.2);
  auto g = features("matmul:M=64,N=64,K=64", "split(C, j, [None, 8])\nreorder(C, k, j.1)\nvectorize(C, j.1)");
  EXPECT_EQ(at(g, "vector_gather_fraction"), 0.0);
}

TEST(Features, NonDividingSplitCountsGuards) {
  auto exact = features("matmul:M=64,N=64,K=64", "split(C, i, [None, 8])");
  auto guarded = features("matmul:M=60,N=64,K=64", "split(C, i, [None, 8])");
  EXPECT_EQ(at(exact, "guards_per_store"), 0.0);
  EXPECT_GT(at(guarded, "guards_per_store"), 0.0);
  EXPECT_GT(at(guarded, "guard_executions"), 0.0);
  EXPECT_GT(at(guarded, "guarded_fraction"), 0.95);
  // The guard keeps 60 of 64 rows: the work counted is the work done.
  auto w = rctune::config::load_workload("matmul:M=60,N=64,K=64");
  EXPECT_NEAR(rctune::search::unlog2p(at(guarded, "flops")), w.flops(), 1e-6 * w.flops());
}

TEST(Features, PaddedConvolutionCountsSelects) {
  auto f = features("conv2d_nchw:N=1,C=3,H=11,W=9,K=4,R=3,S=3,stride=2,pad=1", "");
  EXPECT_GT(at(f, "selects_per_store"), 0.5);
}

TEST(Features, AllocationsAreSplitByScope) {
  auto heap = features("matmul:M=32,N=64,K=24",
                       "split(C, j, [None, 16])\nreorder(C, j.0, i, k, j.1)\ncache_read(B, heap, C)\n"
                       "compute_at(B.heap, C, j.0)");
  EXPECT_GT(at(heap, "allocations"), 0.0);
  EXPECT_GT(at(heap, "heap_bytes") + at(heap, "local_elements"), 0.0);
  auto none = features("matmul:M=32,N=64,K=24", "");
  EXPECT_EQ(at(none, "allocations"), 0.0);
}

TEST(Features, AreFiniteForEveryOperatorKind) {
  const char* specs[] = {"matmul:M=64,N=64,K=64",
                         "batch_matmul:B=2,M=16,N=16,K=16",
                         "conv2d_nchw:N=1,C=3,H=11,W=9,K=4,R=3,S=3,stride=2,pad=1",
                         "depthwise_conv2d:N=1,C=3,H=9,W=9,R=3,S=3,stride=1,pad=1",
                         "softmax:M=8,N=40",
                         "layernorm:M=6,N=20",
                         "rmsnorm:M=6,N=20",
                         "attention:B=2,S=16,D=8",
                         "dense_gelu:M=32,N=32,K=16"};
  for (const char* spec : specs) {
    auto f = features(spec, "");
    for (size_t i = 0; i < f.size(); ++i) {
      EXPECT_TRUE(std::isfinite(f[i])) << spec << " " << rctune::search::feature_names()[i];
      EXPECT_GE(f[i], 0.0) << spec << " " << rctune::search::feature_names()[i];
    }
    EXPECT_GT(at(f, "flops"), 0.0) << spec;
  }
}

TEST(Features, AttachedStagesAreInside) {
  auto f =
      features("softmax:M=8,N=40", "compute_at(row_sum, Y, i)\ncompute_at(row_max, Y, i)\nparallel(Y, i)");
  EXPECT_GT(at(f, "parallel_extent"), 0.0);
  EXPECT_GT(at(f, "transcendentals_per_store"), 0.0);
}

TEST(Features, AreDeterministic) {
  auto s = scheduled("matmul:M=128,N=128,K=128", kRegisterTile);
  auto a = extract_features(s, test_hw());
  auto b = extract_features(rctune::schedule::lower(s), test_hw());
  EXPECT_EQ(a, b);
}

TEST(Features, HandBuiltNestGivesItsLoopKinds) {
  using namespace rctune::ir;
  // for i in 0..8 parallel: for j in 0..16 vectorized: Y[i, j] = X[i, j] * 2
  LoweredFunc f;
  f.name = "scale";
  f.params = {BufferDecl{"X", DType::F32, {8, 16}, MemScope::Global},
              BufferDecl{"Y", DType::F32, {8, 16}, MemScope::Global}};
  f.outputs = {"Y"};
  Stmt store = make_store("Y", {var("i"), var("j")}, load("X", {var("i"), var("j")}) * float_imm(2.0));
  f.body = make_for("i", 8, ForKind::Parallel, BindLevel::None,
                    make_for("j", 16, ForKind::Vectorized, BindLevel::None, store));
  auto v = extract_features(f, test_hw());
  EXPECT_NEAR(at(v, "parallel_extent"), std::log2(9.0), 1e-9);
  EXPECT_NEAR(at(v, "vector_lanes"), std::log2(17.0), 1e-9);
  EXPECT_NEAR(rctune::search::unlog2p(at(v, "flops")), 128.0, 1e-9);
  EXPECT_NEAR(at(v, "stride1_fraction"), 1.0, 1e-9);
  EXPECT_NEAR(at(v, "no_reuse_fraction"), 1.0, 1e-9);
  // X and Y, 512 bytes each.
  EXPECT_NEAR(rctune::search::unlog2p(at(v, "unique_bytes")), 1024.0, 1e-6);
  EXPECT_NEAR(rctune::search::unlog2p(at(v, "traffic_l1")), 1024.0, 1e-6);
  EXPECT_EQ(at(v, "loop_nests"), 1.0);
  EXPECT_EQ(at(v, "max_loop_depth"), 2.0);
}

TEST(HardwareInfo, ReadsCacheSizesFromSysfsLayout) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("rctune_cache_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto write = [&](int idx, const char* level, const char* type, const char* size) {
    fs::create_directories(dir / ("index" + std::to_string(idx)));
    std::ofstream(dir / ("index" + std::to_string(idx)) / "level") << level << "\n";
    std::ofstream(dir / ("index" + std::to_string(idx)) / "type") << type << "\n";
    std::ofstream(dir / ("index" + std::to_string(idx)) / "size") << size << "\n";
  };
  write(0, "1", "Data", "48K");
  write(1, "1", "Instruction", "32K");
  write(2, "2", "Unified", "2048K");
  write(3, "3", "Unified", "36M");
  HardwareInfo hw = rctune::search::read_hardware_info(dir.string());
  EXPECT_EQ(hw.l1_bytes, 48 * 1024);
  EXPECT_EQ(hw.l2_bytes, 2048 * 1024);
  EXPECT_EQ(hw.l3_bytes, int64_t{36} * 1024 * 1024);
  EXPECT_GE(hw.cores, 1);
  EXPECT_GE(hw.vector_bytes, 16);
  fs::remove_all(dir);
}

TEST(HardwareInfo, MissingSysfsKeepsDefaults) {
  HardwareInfo hw = rctune::search::read_hardware_info("/nonexistent/rctune/cache");
  HardwareInfo d;
  EXPECT_EQ(hw.l1_bytes, d.l1_bytes);
  EXPECT_EQ(hw.l2_bytes, d.l2_bytes);
  EXPECT_EQ(hw.l3_bytes, d.l3_bytes);
}

}  // namespace

namespace {

TEST(Features, AreFiniteAndCountTheWorkOnRandomSchedules) {
  const char* specs[] = {
      "matmul:M=24,N=40,K=16",     "conv2d_nchw:N=1,C=3,H=11,W=9,K=4,R=3,S=3,stride=2,pad=1",
      "softmax:M=8,N=40",          "attention:B=2,S=16,D=8",
      "dense_gelu:M=32,N=32,K=16", "layernorm:M=6,N=20"};
  std::mt19937 rng(123);
  int checked = 0;
  double min_ratio = 1e300, max_ratio = 0;
  for (const char* spec : specs) {
    auto w = std::make_shared<const rctune::ir::Workload>(rctune::config::load_workload(spec));
    for (int walk = 0; walk < 25; ++walk) {
      rctune::schedule::State s(w);
      for (int step = 0; step < 8; ++step) {
        std::string text = rctune::schedule::testing::random_step(s, rng);
        try {
          s = rctune::schedule::apply_trace(s, text);
        } catch (const rctune::schedule::ScheduleError&) {
          continue;
        }
      }
      rctune::ir::LoweredFunc f;
      try {
        f = rctune::schedule::lower(s);
      } catch (const rctune::schedule::ScheduleError&) {
        continue;
      }
      auto v = extract_features(f, test_hw());
      for (size_t i = 0; i < v.size(); ++i) {
        ASSERT_TRUE(std::isfinite(v[i])) << spec << " " << rctune::search::feature_names()[i] << "\n"
                                         << rctune::schedule::to_text(s.trace());
        ASSERT_GE(v[i], 0.0) << spec << " " << rctune::search::feature_names()[i] << "\n"
                             << rctune::schedule::to_text(s.trace());
      }
      double ratio = rctune::search::unlog2p(at(v, "flops")) / w->flops();
      min_ratio = std::min(min_ratio, ratio);
      max_ratio = std::max(max_ratio, ratio);
      // Guards are estimated, recomputation (compute_at) adds work: the count stays close.
      EXPECT_GT(ratio, 0.9) << spec << "\n" << rctune::schedule::to_text(s.trace());
      EXPECT_LT(ratio, 64.0) << spec << "\n" << rctune::schedule::to_text(s.trace());
      ++checked;
    }
  }
  RecordProperty("flops_ratio_range", std::to_string(min_ratio) + " .. " + std::to_string(max_ratio));
  std::cout << "random schedules checked: " << checked << ", flops ratio " << min_ratio << " .. " << max_ratio
            << "\n";
  EXPECT_GT(checked, 50);
}

}  // namespace
