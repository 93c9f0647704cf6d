// What the tuning database offers a task of a new run: its records on this machine, its records
// elsewhere, and its neighbours' records, each in the order a run tries them.
#include <gtest/gtest.h>

#include <cmath>

#include "database/database_test_util.h"
#include "rctune/database/warm_start.h"

namespace rctune::database {
namespace {

using namespace testing;

const Key kKey{kMatmul, host_fingerprint("Serial").id, "-O3"};

TEST(SpecDistance, IsTheSumOfLogRatiosOfTheNumbers) {
  const auto d = spec_distance("matmul:M=64,N=64,K=64,dtype=f32", "matmul:M=128,N=64,K=32,dtype=f32");
  ASSERT_TRUE(d.has_value());
  EXPECT_NEAR(*d, 2 * std::log(2.0), 1e-12);
  EXPECT_EQ(spec_distance(kMatmul, kMatmul), 0.0);
}

TEST(SpecDistance, OtherOperatorsOrOtherTextParametersAreNotNeighbours) {
  EXPECT_FALSE(spec_distance(kMatmul, "dense:M=64,N=64,K=64,dtype=f32").has_value());
  EXPECT_FALSE(spec_distance(kMatmul, "matmul:M=64,N=64,K=64,dtype=f64").has_value());
  EXPECT_FALSE(spec_distance(kMatmul, "matmul:M=64,N=64,K=64,dtype=f32,epilogue=relu").has_value());
  EXPECT_FALSE(spec_distance("workload:0123456789abcdef", "workload:0123456789abcdef").has_value());
}

TEST(WarmStart, TakesThisMachinesRecordsFastestFirst) {
  TempDir dir;
  Database db(dir.path().string());
  for (double s : {3e-3, 1e-3, 2e-3, 4e-3}) db.append(record_of(kMatmul, s));
  const WarmStart w = warm_start(db, kKey, 3);
  ASSERT_EQ(w.exact.size(), 3u);
  EXPECT_DOUBLE_EQ(w.exact[0].seconds, 1e-3);
  EXPECT_DOUBLE_EQ(w.exact[2].seconds, 3e-3);
  EXPECT_TRUE(w.other_hardware.empty());
  EXPECT_TRUE(w.neighbours.empty());
}

TEST(WarmStart, KeepsOtherMachinesRecordsApartFromThisMachines) {
  TempDir dir;
  Database db(dir.path().string());
  db.append(record_of(kMatmul, 1e-4, "", "-O3", other_hardware()));
  const WarmStart w = warm_start(db, kKey);
  EXPECT_TRUE(w.exact.empty()) << "a time of another machine is never this machine's record";
  ASSERT_EQ(w.other_hardware.size(), 1u);
  EXPECT_DOUBLE_EQ(w.other_hardware[0].seconds, 1e-4);
}

TEST(WarmStart, OffersTheClosestNeighboursOfThisMachineFirst) {
  TempDir dir;
  Database db(dir.path().string());
  db.append(record_of("matmul:M=512,N=64,K=64,dtype=f32", 1e-3, "split(C, i, [None, 8])\n"));
  db.append(record_of("matmul:M=128,N=64,K=64,dtype=f32", 1e-3, "split(C, i, [None, 4])\n"));
  db.append(record_of("matmul:M=128,N=64,K=64,dtype=f64", 1e-3, "split(C, i, [None, 2])\n"));
  db.append(record_of("matmul:M=96,N=64,K=64,dtype=f32", 1e-3, "", "-O3", other_hardware()));
  const WarmStart w = warm_start(db, kKey);
  EXPECT_TRUE(w.exact.empty());
  ASSERT_EQ(w.neighbours.size(), 2u) << "the f64 one and the other machine's are no neighbours";
  EXPECT_EQ(w.neighbours[0].workload, "matmul:M=128,N=64,K=64,dtype=f32");
  EXPECT_EQ(w.neighbours[1].workload, "matmul:M=512,N=64,K=64,dtype=f32");
}

}  // namespace
}  // namespace rctune::database
