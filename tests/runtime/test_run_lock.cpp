// MeasureOptions::run_lock (dist.exclusive_measurement): while another process holds the node's
// measurement lock, a measurement compiles but does not run its kernel; it runs once the lock is
// free, and releases the lock when it is done.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "../runlog/runlog_test_util.h"
#include "rctune/runtime/environment_error.h"
#include "runtime_test_util.h"

namespace rctune::runtime::testing {
namespace {

MeasureOptions quick_locked(const std::string& lock) {
  MeasureOptions o;
  o.timing.min_time_s = 0.001;
  o.timing.min_repeats = 1;
  o.run_lock = lock;
  return o;
}

TEST(RunLock, MeasurementWaitsForTheLockAndReleasesIt) {
  runlog::testing::TempDir dir;
  const std::string lock = dir.file("measure.lock");
  Measurer m(test_jit_options(), test_worker_options());
  // Compile (and start the worker) first, so that what waits below is only the run.
  ASSERT_EQ(m.measure(vadd_input(vadd_plain()), quick_locked(lock)).status, Status::Ok);

  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // another rank of the node is measuring
  std::atomic<bool> done{false};
  Measurement result;
  std::thread t([&] {
    result = m.measure(vadd_input(vadd_plain()), quick_locked(lock));
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(done.load()) << "the kernel ran while another process held the lock";
  ::close(fd);  // the other rank is done
  t.join();
  EXPECT_EQ(result.status, Status::Ok) << result.message;
  // The measurement released the lock: it can be taken at once.
  const int again = ::open(lock.c_str(), O_RDWR);
  ASSERT_GE(again, 0);
  EXPECT_EQ(::flock(again, LOCK_EX | LOCK_NB), 0);
  ::close(again);
}

// The lock is the machine's, not the kernel's: no sample is recorded as failed, the run stops.
TEST(RunLock, UnopenableLockStopsTheMeasurementNamingIt) {
  Measurer m(test_jit_options(), test_worker_options());
  try {
    const Measurement r = m.measure(vadd_input(vadd_plain()), quick_locked("/nonexistent-dir/measure.lock"));
    FAIL() << "measured with status " << status_name(r.status) << ": " << r.message;
  } catch (const EnvironmentError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/measure.lock"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rctune::runtime::testing
