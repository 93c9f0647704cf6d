#include <gtest/gtest.h>
#include <cmath>
#include <limits>

#include "rctune/runtime/protocol.h"
#include "rctune/runtime/worker.h"

namespace rctune::runtime {
namespace {

TEST(Protocol, RequestRoundTripsThroughJson) {
  WorkerRequest r;
  r.id = 7;
  r.buffers = {{"A", "f64", {2, 3}, BufferRole::Input}, {"C", "f32", {4}, BufferRole::Output}};
  r.kernel_so = "/k.so";
  r.reference_so = "/r.so";
  r.seed = 99;
  r.reduction_length = 512;
  r.tolerance.rtol = 1e-3;
  r.timing.min_time_s = 0.5;
  r.timing.min_repeats = 5;
  r.pin_core = 1;
  r.flush_cache = true;
  const WorkerRequest b = request_from_json(nlohmann::json::parse(to_json(r).dump()));
  EXPECT_EQ(b.id, 7u);
  ASSERT_EQ(b.buffers.size(), 2u);
  EXPECT_EQ(b.buffers[0].dtype, "f64");
  EXPECT_EQ(b.buffers[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(b.buffers[1].role, BufferRole::Output);
  EXPECT_EQ(b.kernel_so, "/k.so");
  EXPECT_EQ(b.seed, 99u);
  EXPECT_EQ(b.reduction_length, 512);
  EXPECT_FALSE(b.tolerance.atol.has_value());
  EXPECT_DOUBLE_EQ(*b.tolerance.rtol, 1e-3);
  EXPECT_DOUBLE_EQ(b.timing.min_time_s, 0.5);
  EXPECT_EQ(b.timing.min_repeats, 5);
  EXPECT_EQ(b.pin_core, 1);
  EXPECT_TRUE(b.flush_cache);
  EXPECT_TRUE(b.test_fault.empty());
}

TEST(Protocol, ResponseRoundTripsThroughJson) {
  WorkerResponse r;
  r.id = 3;
  r.status = Status::WrongResult;
  r.message = "bad";
  r.errors.first_bad_buffer = "C";
  r.errors.first_bad_index = 7;
  r.errors.max_abs = 0.5;
  r.times.repeats = 4;
  const WorkerResponse b = response_from_json(nlohmann::json::parse(to_json(r).dump()));
  EXPECT_EQ(b.status, Status::WrongResult);
  EXPECT_EQ(b.message, "bad");
  EXPECT_EQ(b.errors.first_bad_buffer, "C");
  EXPECT_EQ(b.errors.first_bad_index, 7);
  EXPECT_DOUBLE_EQ(b.errors.max_abs, 0.5);
  EXPECT_EQ(b.times.repeats, 4);
}

TEST(Protocol, NonFiniteErrorsSurviveJson) {
  WorkerResponse r;
  r.status = Status::WrongResult;
  r.errors.max_abs = std::numeric_limits<double>::infinity();
  r.errors.got = std::nan("");
  const WorkerResponse b = response_from_json(nlohmann::json::parse(to_json(r).dump()));
  EXPECT_TRUE(std::isinf(b.errors.max_abs));
  EXPECT_GT(b.errors.max_abs, 0);
  EXPECT_TRUE(std::isnan(b.errors.got));
}

TEST(Protocol, RequestWithUnknownDtypeIsRejected) {
  nlohmann::json j = {{"kernel_so", "/k.so"},
                      {"buffers", {{{"name", "A"}, {"dtype", "i8"}, {"shape", {4}}}}}};
  EXPECT_THROW(request_from_json(j), std::invalid_argument);
}

TEST(Protocol, StatusNamesRoundTrip) {
  for (Status s :
       {Status::Ok, Status::CompileError, Status::RuntimeError, Status::Timeout, Status::WrongResult}) {
    EXPECT_EQ(parse_status(status_name(s)), s);
  }
  EXPECT_THROW(parse_status("fine"), std::invalid_argument);
}

TEST(Protocol, AWorkerResponseCannotSayIllegal) {
  nlohmann::json j = to_json(WorkerResponse{});
  j["status"] = "illegal";  // a status of the search's records, never of a measurement
  EXPECT_THROW(response_from_json(j), std::invalid_argument);
}

TEST(Tolerance, GrowsWithSqrtOfReductionLength) {
  const auto a = default_tolerance("f32", 100, 1.0);
  const auto b = default_tolerance("f32", 10000, 1.0);
  EXPECT_NEAR(b.rtol / a.rtol, 10.0, 1e-9);
  EXPECT_NEAR(a.rtol, 1e-3, 1e-12);
}

TEST(Tolerance, F64IsMuchTighterThanF32) {
  EXPECT_LT(default_tolerance("f64", 64, 1.0).rtol * 1e4, default_tolerance("f32", 64, 1.0).rtol);
}

TEST(Tolerance, AbsoluteToleranceScalesWithOutputRms) {
  EXPECT_NEAR(default_tolerance("f32", 1, 50.0).atol, 50 * default_tolerance("f32", 1, 1.0).atol, 1e-12);
}

TEST(Tolerance, OverridesReplaceDefaults) {
  Tolerance o;
  o.atol = 0.25;
  const auto t = default_tolerance("f32", 1000, 1.0, o);
  EXPECT_DOUBLE_EQ(t.atol, 0.25);
  EXPECT_DOUBLE_EQ(t.rtol, default_tolerance("f32", 1000, 1.0).rtol);
}

TEST(TimingStats, SummarizesMedianSpreadAndRepeats) {
  const TimingStats s = summarize_times({5, 1, 3, 2, 4});
  EXPECT_DOUBLE_EQ(s.median_s, 3);
  EXPECT_DOUBLE_EQ(s.min_s, 1);
  EXPECT_DOUBLE_EQ(s.max_s, 5);
  EXPECT_DOUBLE_EQ(s.mean_s, 3);
  EXPECT_DOUBLE_EQ(s.iqr_s, 2);  // quartiles 2 and 4
  EXPECT_EQ(s.repeats, 5);
}

TEST(TimingStats, MedianOfEvenCountAveragesMiddlePair) {
  EXPECT_DOUBLE_EQ(summarize_times({1, 2, 3, 10}).median_s, 2.5);
}

TEST(InputValues, AreDeterministicPerSeedAndInRange) {
  for (int64_t i = 0; i < 1000; ++i) {
    const double v = input_value(5, 0, i);
    EXPECT_GE(v, -1.0);
    EXPECT_LE(v, 1.0);
    EXPECT_EQ(v, input_value(5, 0, i));
  }
  EXPECT_NE(input_value(5, 0, 0), input_value(6, 0, 0));
  EXPECT_NE(input_value(5, 0, 0), input_value(5, 1, 0));
}

}  // namespace
}  // namespace rctune::runtime
