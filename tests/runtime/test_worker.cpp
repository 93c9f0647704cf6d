// The worker and its supervision, with real hand-written kernels that crash, hang, compute wrong
// values or do not compile, and with the test-only fault injection.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <csignal>
#include <cstdlib>

#include "rctune/runtime/measurer.h"
#include "rctune/runtime/worker.h"
#include "runtime/runtime_test_util.h"

namespace rctune::runtime {
namespace {

using namespace rctune::runtime::testing;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Measures the plain vadd kernel with `o` in a fresh worker (one that takes injected faults when
// `faults`).
Measurement measure_vadd(const MeasureOptions& o, bool faults = false) {
  Measurer m(test_jit_options(), test_worker_options(faults));
  return m.measure(vadd_input(vadd_plain()), o);
}

TEST(Worker, CorrectPlainKernelIsOkAndTimed) {
  Measurer m(test_jit_options(), test_worker_options());
  const Measurement r = m.measure(vadd_input(vadd_plain()), quick_options());
  ASSERT_EQ(r.status, Status::Ok) << r.message;
  EXPECT_GE(r.times.repeats, 3);
  EXPECT_LE(r.times.min_s, r.times.median_s);
  EXPECT_LE(r.times.median_s, r.times.max_s);
  EXPECT_GE(r.times.iqr_s, 0);
  EXPECT_EQ(r.errors.bad_count, 0);
  EXPECT_FALSE(r.source_path.empty());
}

TEST(Worker, CorrectKokkosKernelIsOk) {
  Measurer m(test_jit_options(), test_worker_options());
  const Measurement r = m.measure(vadd_input(vadd_kokkos(), SourceKind::Kokkos), quick_options());
  ASSERT_EQ(r.status, Status::Ok) << r.message;
  EXPECT_GE(r.times.repeats, 3);
}

TEST(Worker, RepeatCapLimitsTimedRuns) {
  MeasureOptions o = quick_options();
  o.timing.min_time_s = 100;
  o.timing.max_repeats = 5;
  const Measurement r = measure_vadd(o);
  ASSERT_EQ(r.status, Status::Ok) << r.message;
  EXPECT_EQ(r.times.repeats, 5);
}

TEST(Worker, CacheFlushOptionStillMeasures) {
  MeasureOptions o = quick_options();
  o.flush_cache = true;
  o.timing.max_repeats = 3;
  const Measurement r = measure_vadd(o);
  ASSERT_EQ(r.status, Status::Ok) << r.message;
  EXPECT_EQ(r.times.repeats, 3);
  EXPECT_EQ(r.times.batch, 1);  // one run per sample, each after a flush
}

TEST(Worker, PinsItselfToRequestedCore) {
  MeasureOptions o = quick_options();
  o.pin_core = 0;
  const Measurement r = measure_vadd(o);
  EXPECT_EQ(r.status, Status::Ok) << r.message;
}

TEST(Worker, CheckOnlySkipsTiming) {
  MeasureOptions o = quick_options();
  o.check_only = true;
  const Measurement r = measure_vadd(o);
  ASSERT_EQ(r.status, Status::Ok) << r.message;
  EXPECT_EQ(r.times.repeats, 0);
}

TEST(Worker, SlowKernelIsReportedWithFewerRepeatsInsteadOfTimingOut) {
  Measurer m(test_jit_options(), test_worker_options());
  MeasureOptions o = quick_options();
  o.timing.min_repeats = 100;  // 50 s of runs: far beyond the budget
  o.timeout_s = 4;             // the worker stops sampling after 3 s
  const Measurement r =
      m.measure(vadd_input(plain_kernel("usleep(500000); for (int i = 0; i < 1000; ++i) c[i] = a[i] + b[i];",
                                        "#include <unistd.h>\n")),
                o);
  ASSERT_EQ(r.status, Status::Ok) << r.message;
  EXPECT_GE(r.times.repeats, 1);
  EXPECT_LT(r.times.repeats, 100);
}

TEST(Worker, WrongKernelIsWrongResultWithFirstBadIndex) {
  Measurer m(test_jit_options(), test_worker_options());
  const Measurement r = m.measure(vadd_input(wrong_kernel()), quick_options());
  ASSERT_EQ(r.status, Status::WrongResult) << r.message;
  EXPECT_EQ(r.errors.first_bad_buffer, "C");
  EXPECT_EQ(r.errors.first_bad_index, 7);
  EXPECT_EQ(r.errors.bad_count, 1);
  EXPECT_NEAR(r.errors.max_abs, 0.5, 1e-6);
  EXPECT_NEAR(r.errors.got - r.errors.expected, 0.5, 1e-6);
  EXPECT_EQ(r.times.repeats, 0);  // a wrong kernel is never timed
  EXPECT_TRUE(contains(r.message, "C[7]")) << r.message;
}

TEST(Worker, KernelThatLeavesOutputUnwrittenIsWrongResult) {
  Measurer m(test_jit_options(), test_worker_options());
  const Measurement r = m.measure(
      vadd_input(plain_kernel("for (int i = 1; i < 1000; ++i) c[i] = a[i] + b[i];")), quick_options());
  ASSERT_EQ(r.status, Status::WrongResult) << r.message;
  EXPECT_EQ(r.errors.first_bad_index, 0);
}

TEST(Worker, SegfaultingKernelIsRuntimeErrorNamingSignal) {
  Measurer m(test_jit_options(), test_worker_options());
  const Measurement r = m.measure(vadd_input(segfault_kernel()), quick_options());
  ASSERT_EQ(r.status, Status::RuntimeError) << r.message;
  EXPECT_TRUE(contains(r.message, "SIGSEGV")) << r.message;
}

TEST(Worker, HangingKernelTimesOut) {
  Measurer m(test_jit_options(), test_worker_options());
  MeasureOptions o = quick_options();
  o.timeout_s = 2;
  const Measurement r = m.measure(vadd_input(hang_kernel()), o);
  ASSERT_EQ(r.status, Status::Timeout) << r.message;
  EXPECT_FALSE(m.worker().running());
}

TEST(Worker, UncompilableKernelIsCompileError) {
  Measurer m(test_jit_options(), test_worker_options());
  const Measurement r = m.measure(vadd_input(unique_comment() + uncompilable_kernel()), quick_options());
  ASSERT_EQ(r.status, Status::CompileError);
  EXPECT_TRUE(contains(r.message, "undefined_function")) << r.message;
}

TEST(Worker, KernelThatThrowsIsRuntimeError) {
  Measurer m(test_jit_options(), test_worker_options());
  const Measurement r =
      m.measure(vadd_input(plain_kernel("throw std::runtime_error(\"boom\");", "#include <stdexcept>\n")),
                quick_options());
  ASSERT_EQ(r.status, Status::RuntimeError) << r.message;
  EXPECT_TRUE(contains(r.message, "boom")) << r.message;
}

TEST(Worker, KernelWithoutEntryPointIsRuntimeError) {
  Measurer m(test_jit_options(), test_worker_options());
  const Measurement r = m.measure(vadd_input("extern \"C\" void something_else() {}\n"), quick_options());
  ASSERT_EQ(r.status, Status::RuntimeError) << r.message;
  EXPECT_TRUE(contains(r.message, "rctune_kernel")) << r.message;
}

TEST(Worker, KernelPrintingToStdoutDoesNotBreakProtocol) {
  Measurer m(test_jit_options(), test_worker_options());
  const Measurement r =
      m.measure(vadd_input(plain_kernel("std::printf(\"noise\\n{\\\"not\\\": 1}\\n\"); std::fflush(stdout);"
                                        "for (int i = 0; i < 1000; ++i) c[i] = a[i] + b[i];",
                                        "#include <cstdio>\n")),
                quick_options());
  EXPECT_EQ(r.status, Status::Ok) << r.message;
}

TEST(Worker, SurvivesEveryFailureThenMeasuresGoodKernel) {
  Measurer m(test_jit_options(), test_worker_options());
  MeasureOptions o = quick_options();
  o.timeout_s = 2;
  EXPECT_EQ(m.measure(vadd_input(segfault_kernel()), o).status, Status::RuntimeError);
  EXPECT_EQ(m.measure(vadd_input(hang_kernel()), o).status, Status::Timeout);
  EXPECT_EQ(m.measure(vadd_input(wrong_kernel()), o).status, Status::WrongResult);
  EXPECT_EQ(m.measure(vadd_input(uncompilable_kernel()), o).status, Status::CompileError);
  o.timeout_s = 60;
  const Measurement good = m.measure(vadd_input(vadd_kokkos(), SourceKind::Kokkos), o);
  EXPECT_EQ(good.status, Status::Ok) << good.message;
  EXPECT_GE(m.worker().restarts(), 2);
}

// Measures the plain vadd kernel in a worker told to inject `fault`.
Measurement measure_with_fault(const std::string& fault) {
  MeasureOptions o = quick_options();
  o.test_fault = fault;
  return measure_vadd(o, true);
}

TEST(Worker, InjectedSegfaultIsRuntimeError) {
  const Measurement r = measure_with_fault("segfault");
  ASSERT_EQ(r.status, Status::RuntimeError) << r.message;
  EXPECT_TRUE(contains(r.message, "SIGSEGV")) << r.message;
}

TEST(Worker, InjectedAbortIsRuntimeError) {
  const Measurement r = measure_with_fault("abort");
  ASSERT_EQ(r.status, Status::RuntimeError) << r.message;
  EXPECT_TRUE(contains(r.message, "SIGABRT")) << r.message;
}

TEST(Worker, InjectedHangTimesOutAndWorkerRestarts) {
  Measurer m(test_jit_options(), test_worker_options(true));
  MeasureOptions o = quick_options();
  o.test_fault = "hang";
  o.timeout_s = 1;
  EXPECT_EQ(m.measure(vadd_input(vadd_plain()), o).status, Status::Timeout);
  o.test_fault.clear();
  o.timeout_s = 60;
  const Measurement r = m.measure(vadd_input(vadd_plain()), o);
  EXPECT_EQ(r.status, Status::Ok) << r.message;
  EXPECT_EQ(m.worker().restarts(), 1);
}

TEST(Worker, FaultInjectionIsRefusedWithoutTestEnvironment) {
  // Even with the variable in the tuner's environment, a worker not started for tests refuses.
  setenv(kTestFaultsEnv, "1", 1);
  Measurer m(test_jit_options(), test_worker_options(false));
  MeasureOptions o = quick_options();
  o.test_fault = "segfault";
  const Measurement r = m.measure(vadd_input(vadd_plain()), o);
  unsetenv(kTestFaultsEnv);
  ASSERT_EQ(r.status, Status::RuntimeError);
  EXPECT_TRUE(contains(r.message, kTestFaultsEnv)) << r.message;
  EXPECT_TRUE(m.worker().running());
}

TEST(WorkerProcess, MissingExecutableThrowsOnStart) {
  WorkerOptions o;
  o.worker_path = "/nonexistent/rctune-worker";
  WorkerProcess w(o);
  EXPECT_THROW(w.start(), std::runtime_error);
  EXPECT_FALSE(w.running());
}

TEST(WorkerProcess, ReportsReadyLineWithKokkosSpace) {
  WorkerProcess w(test_worker_options());
  w.start();
  EXPECT_TRUE(w.running());
  EXPECT_EQ(w.hello().value("op", ""), "ready");
  EXPECT_FALSE(w.hello().value("kokkos_execution_space", "").empty());
  w.stop();
  EXPECT_FALSE(w.running());
}

TEST(WorkerProcess, WorkerKilledWhileIdleIsReplacedWithoutBlamingNextKernel) {
  Measurer m(test_jit_options(), test_worker_options());
  ASSERT_EQ(m.measure(vadd_input(vadd_plain()), quick_options()).status, Status::Ok);
  const pid_t old = m.worker().pid();
  kill(old, SIGKILL);
  siginfo_t info;
  waitid(P_PID, static_cast<id_t>(old), &info, WEXITED | WNOWAIT);  // dead, not yet reaped
  // The worker died between requests: the next request gets a fresh worker, and its (good)
  // kernel is not blamed for the death.
  const Measurement r = m.measure(vadd_input(vadd_plain()), quick_options());
  EXPECT_EQ(r.status, Status::Ok) << r.message;
  EXPECT_NE(m.worker().pid(), old);
}

TEST(WorkerPool, LeasesDistinctWorkers) {
  WorkerPool pool(2, test_worker_options());
  auto a = pool.acquire();
  auto b = pool.acquire();
  EXPECT_NE(a.index(), b.index());
}

}  // namespace
}  // namespace rctune::runtime
