// A run's cost model warm from the tuning database: every record whose schedule still applies is
// learnt, grouped per machine and workload; the others are counted, never fatal.
#include <gtest/gtest.h>

#include "rctune/dist/cost_model_seed.h"
#include "support/temp_dir.h"

namespace rctune::dist {
namespace {

database::TuningRecord record(const std::string& workload, const std::string& schedule, double gflops,
                              const database::HardwareFingerprint& hw) {
  database::TuningRecord r;
  r.workload = workload;
  r.hardware = hw;
  r.flags = "-O3";
  r.schedule = schedule;
  r.gflops = gflops;
  r.seconds = 1 / gflops;
  r.samples = 8;
  return r;
}

search::CostModelOptions shared_options() {
  search::CostModelOptions o;
  o.normalise_per_task = true;
  return o;
}

TEST(CostModelSeed, LearnsEveryRecordWhoseScheduleStillAppliesOfEveryMachine) {
  test_support::TempDir dir;
  database::Database db(dir.path().string());
  const auto here = database::host_fingerprint("Serial");
  const auto there = database::make_fingerprint("OtherVendor", "Other CPU", {"avx2"}, 8);
  db.append(record("matmul:M=64,N=64,K=64,dtype=f32", "split(C, i, [None, 8])\n", 20, here));
  db.append(record("matmul:M=64,N=64,K=64,dtype=f32", "split(C, j, [None, 16])\n", 40, here));
  db.append(record("softmax:M=16,N=64,dtype=f32", "split(Y, j, [None, 16])\n", 5, there));
  db.append(record("matmul:M=64,N=64,K=64,dtype=f32", "split(C, nosuchaxis, [None, 8])\n", 10, here));
  search::CostModel model(shared_options());
  const ModelSeed seed = seed_cost_model(model, db, here.id, search::host_hardware_info());
  EXPECT_EQ(seed.records, 3);
  EXPECT_EQ(seed.skipped, 1) << "a schedule that no longer applies is skipped";
  EXPECT_EQ(model.num_samples(), 3u);
}

TEST(CostModelSeed, StopsAtTheMostRecordsAskedFor) {
  test_support::TempDir dir;
  database::Database db(dir.path().string());
  const auto here = database::host_fingerprint("Serial");
  for (int f : {2, 4, 8, 16})
    db.append(record("matmul:M=64,N=64,K=64,dtype=f32", "split(C, i, [None, " + std::to_string(f) + "])\n", f,
                     here));
  search::CostModel model(shared_options());
  EXPECT_EQ(seed_cost_model(model, db, here.id, search::host_hardware_info(), 2).records, 2);
  EXPECT_EQ(model.num_samples(), 2u);
}

}  // namespace
}  // namespace rctune::dist
