// Tuning records: their JSON lines, keys, hardware fingerprints and bounds.
#include <gtest/gtest.h>
#include <sched.h>

#include <cmath>
#include <functional>

#include "database/database_test_util.h"
#include "rctune/database/record.h"
#include "rctune/ir/operators.h"
#include "rctune/runtime/host_cpu.h"
#include "support/message_of.h"

namespace rctune::database {
namespace {

using namespace testing;

// Why from_json_line refuses `line`, or "(accepted)".
std::string refusal_of(const std::string& line) {
  return test_support::message_of<std::invalid_argument>([&] { from_json_line(line); })
      .value_or("(accepted)");
}

TuningRecord full_record() {
  TuningRecord r =
      record_of("matmul:M=64,N=64,K=64,dtype=f32", 1.25e-4, "split(C, i, [None, 8])\nvectorize(C, i.1)\n",
                "-O3 -march=native", other_hardware());
  r.id = "0123456789abcdef";
  r.workload_text = "  A: f32[4]  input\n";
  r.hardware = make_fingerprint("AuthenticAMD", "AMD EPYC 9R14", {"avx2", "avx512f"}, 4, "", "OpenMP");
  r.spread = 3.5e-6;
  r.gflops = 4194.304;
  r.samples = 128;
  r.run = "/scratch/runs/bert.h5";
  r.version = "0.1.0";
  r.host = "node-12";
  r.utc = "2026-12-07T14:31:02Z";
  return r;
}

TEST(Record, EveryFieldSurvivesTheJsonLine) {
  const TuningRecord r = full_record();
  EXPECT_EQ(from_json_line(to_json_line(r)), r);
}

TEST(Record, TheJsonLineIsOneLineWithItsVersion) {
  const std::string line = to_json_line(full_record());
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find("\"v\":1"), std::string::npos) << line;
  EXPECT_NE(line.find("\"operator\":\"matmul\""), std::string::npos) << line;
}

TEST(Record, AnotherVersionIsRefusedNamingIt) {
  const std::string message = refusal_of(testing::line_of_version(full_record(), 7));
  EXPECT_NE(message.find("record version 7 is not supported"), std::string::npos) << message;
}

TEST(Record, AFieldOutOfBoundsIsRefusedNamingTheField) {
  const std::pair<std::string, std::function<void(TuningRecord&)>> cases[] = {
      {"\"seconds\"", [](TuningRecord& r) { r.seconds = -1; }},
      {"\"gflops\"", [](TuningRecord& r) { r.gflops = std::nan(""); }},
      {"\"id\"", [](TuningRecord& r) { r.id = "xyz"; }},
      {"\"schedule\"", [](TuningRecord& r) { r.schedule = std::string(300 * 1024, 'a'); }},
      {"\"host\"", [](TuningRecord& r) { r.host = "a\x1b[2Jb"; }},
      {"\"hardware.id\"", [](TuningRecord& r) { r.hardware.cores += 1; }},
      {"\"utc\"", [](TuningRecord& r) { r.utc = "yesterday"; }},
      {"\"flags\"", [](TuningRecord& r) { r.flags = " -O3  -g"; }},
  };
  for (const auto& [field, damage] : cases) {
    TuningRecord r = full_record();
    damage(r);
    EXPECT_NE(record_problem(r).find(field), std::string::npos) << field << ": " << record_problem(r);
    const std::string message = refusal_of(to_json_line(r));
    EXPECT_NE(message.find(field), std::string::npos) << message;
  }
}

TEST(Record, AFieldOfTheWrongTypeOrMissingIsRefusedNamingIt) {
  std::string line = to_json_line(full_record());
  line.replace(line.find("\"samples\":128"), 13, "\"samples\":\"many\"");
  EXPECT_THROW(from_json_line(line), std::invalid_argument);
  std::string missing = to_json_line(full_record());
  missing.replace(missing.find("\"schedule\""), 10, "\"schedulX\"");
  EXPECT_NE(refusal_of(missing).find("no field \"schedule\""), std::string::npos) << refusal_of(missing);
  EXPECT_THROW(from_json_line("[1, 2]"), std::invalid_argument);
  EXPECT_THROW(from_json_line("{\"v\":1,"), std::invalid_argument);
}

TEST(Fingerprint, KeepsOnlyCodegenFeaturesAndIsStable) {
  const HardwareFingerprint a =
      make_fingerprint("GenuineIntel", "Xeon", {"fpu", "avx2", "sse2", "avx512f", "avx2"}, 8);
  EXPECT_EQ(a.features, (std::vector<std::string>{"avx2", "avx512f"}));
  const HardwareFingerprint b = make_fingerprint("GenuineIntel", "Xeon", {"avx512f", "avx2", "pni"}, 8);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.id.size(), 16u);
  EXPECT_NE(a.id, make_fingerprint("GenuineIntel", "Xeon", {"avx2"}, 8).id);
  EXPECT_NE(a.id, make_fingerprint("GenuineIntel", "Xeon", {"avx2", "avx512f"}, 16).id);
  EXPECT_NE(a.id, make_fingerprint("GenuineIntel", "Xeon", {"avx2", "avx512f"}, 8, "NVIDIA H100").id);
  EXPECT_NE(a.id, make_fingerprint("GenuineIntel", "Xeon", {"avx2", "avx512f"}, 8, "", "OpenMP").id);
}

TEST(Fingerprint, TheHostsComesFromProcCpuinfo) {
  const runtime::CpuIdentity& cpu = runtime::host_cpu_identity();
  EXPECT_EQ(host_fingerprint().model, cpu.model);
  EXPECT_EQ(host_fingerprint().vendor, cpu.vendor);
  EXPECT_EQ(host_fingerprint().cores, runtime::allowed_cores());
  EXPECT_EQ(host_fingerprint("OpenMP").cores, runtime::allowed_cores());
  EXPECT_EQ(host_fingerprint("OpenMP").execution_space, "OpenMP");
  EXPECT_EQ(record_problem(testing::stored(record_of("matmul", 1))), "");
}

TEST(Fingerprint, ASerialRunsFingerprintDoesNotDependOnTheCoresTheProcessMayUse) {
  cpu_set_t all;
  ASSERT_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
  const HardwareFingerprint whole = host_fingerprint("Serial");
  EXPECT_EQ(whole.cores, 1);
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &all)) {
      CPU_SET(c, &one);
      break;
    }
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const HardwareFingerprint pinned = host_fingerprint("Serial");
  const HardwareFingerprint threaded = host_fingerprint("OpenMP");
  ASSERT_EQ(sched_setaffinity(0, sizeof(all), &all), 0);
  EXPECT_EQ(pinned.id, whole.id) << "one core (a rank under mpirun) or all: the same Serial hardware";
  EXPECT_EQ(threaded.cores, 1) << "a threaded space counts the cores the process may use";
}

TEST(Fingerprint, CpuinfoOfTheFirstProcessorIsParsed) {
  const runtime::CpuIdentity c = runtime::parse_cpuinfo(
      "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+  \n"
      "flags\t\t: fpu avx2 amx_tile avx512_bf16\n\nprocessor\t: 1\nmodel name\t: other\nflags\t: sse\n");
  EXPECT_EQ(c.vendor, "GenuineIntel");
  EXPECT_EQ(c.model, "Intel(R) Xeon(R) Platinum 8480+");
  EXPECT_EQ(c.flags, (std::vector<std::string>{"amx_tile", "avx2", "avx512_bf16", "fpu"}));
  const runtime::CpuIdentity arm =
      runtime::parse_cpuinfo("processor : 0\nFeatures : fp asimd sve\nCPU implementer : 0x41\n");
  EXPECT_EQ(arm.vendor, "0x41");
  EXPECT_EQ(arm.flags, (std::vector<std::string>{"asimd", "fp", "sve"}));
}

TEST(Keys, FlagsAreKeyedWithOneSpaceBetweenWords) {
  EXPECT_EQ(normalize_flags("  -O3\t-march=native \n -fopenmp-simd "), "-O3 -march=native -fopenmp-simd");
  EXPECT_EQ(normalize_flags(""), "");
}

TEST(Keys, AnOperatorWorkloadIsKeyedByItsCanonicalSpec) {
  EXPECT_EQ(workload_key(ir::make_operator("matmul:M=64,N=64,K=64")), "matmul:M=64,N=64,K=64,dtype=f32");
  EXPECT_EQ(operator_of("matmul:M=64,N=64,K=64,dtype=f32"), "matmul");
}

TEST(Keys, AHandWrittenWorkloadIsKeyedByItsTextWhateverItsName) {
  ir::Workload w = ir::make_operator("matmul:M=64,N=64,K=64");
  w.stages[0].reduce_axes[0].extent = 32;  // its text is no longer the operator's
  w.name = "mine";
  const std::string key = workload_key(w);
  EXPECT_EQ(key.rfind("workload:", 0), 0u) << key;
  EXPECT_EQ(key.size(), std::string("workload:").size() + 16);
  w.name = "renamed";
  EXPECT_EQ(workload_key(w), key);
  EXPECT_EQ(operator_of(key), "");
  // The stages of the operator its name specifies (as in a file matmul.yaml) are that operator.
  ir::Workload same = ir::make_operator("matmul");
  same.name = "matmul";
  EXPECT_EQ(workload_key(same), ir::canonical_operator_spec("matmul"));
}

TEST(Order, FasterFirstThenNewerThenById) {
  TuningRecord a = record_of("m", 1), b = record_of("m", 2);
  a.utc = b.utc = "2026-01-01T00:00:00Z";
  a.id = "0000000000000001";
  b.id = "0000000000000002";
  EXPECT_TRUE(faster(a, b));
  b.seconds = 1;
  EXPECT_TRUE(faster(a, b));
  b.utc = "2026-02-01T00:00:00Z";
  EXPECT_TRUE(faster(b, a));
}

}  // namespace
}  // namespace rctune::database
