// The reader of every text file a user names, the ranges the command line shares with the config,
// and duplicate YAML keys (rctune/config/input_file.h, limits.h, yaml_keys.h).
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "rctune/config/input_file.h"
#include "rctune/config/limits.h"
#include "rctune/config/tune_config.h"
#include "rctune/config/workload_file.h"
#include "rctune/config/yaml_keys.h"
#include "support/temp_dir.h"

namespace rctune::config {
namespace {

using rctune::test_support::TempDir;

std::string refusal(const std::string& path, std::uintmax_t max_bytes = kMaxInputFileBytes) {
  try {
    read_input_file(path, "the test file", max_bytes);
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), path);
    return e.what();
  }
  ADD_FAILURE() << path << " was read";
  return "";
}

TEST(InputFile, ARegularFileIsReadWhole) {
  TempDir dir;
  std::string text(100000, 'x');
  text += "\nend\n";
  std::ofstream(dir.file("a.txt"), std::ios::binary) << text;
  EXPECT_EQ(read_input_file(dir.file("a.txt"), "the test file"), text);
}

TEST(InputFile, ADirectoryIsRefusedAsADirectory) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("d"));
  EXPECT_NE(refusal(dir.file("d")).find("cannot read the test file: it is a directory"), std::string::npos);
}

TEST(InputFile, ADeviceIsRefusedBeforeAByteIsRead) {
  EXPECT_NE(refusal("/dev/zero").find("/dev/zero: cannot read the test file: it is a device"),
            std::string::npos);
}

TEST(InputFile, AFifoWithoutAWriterIsRefusedInsteadOfWaitedFor) {
  TempDir dir;
  ASSERT_EQ(mkfifo(dir.file("f").c_str(), 0600), 0);
  EXPECT_NE(refusal(dir.file("f")).find("FIFO"), std::string::npos);
}

TEST(InputFile, AMissingFileGivesTheOperatingSystemsReason) {
  TempDir dir;
  EXPECT_NE(
      refusal(dir.file("none.yaml")).find("none.yaml: cannot read the test file: No such file or directory"),
      std::string::npos);
}

TEST(InputFile, AFileOverTheLimitIsRefusedWithItsSizeAndTheLimit) {
  TempDir dir;
  std::ofstream(dir.file("big")) << "x";
  ASSERT_EQ(truncate(dir.file("big").c_str(), 50 << 20), 0);  // sparse: no disk used
  const std::string msg = refusal(dir.file("big"));
  EXPECT_NE(msg.find("it is 52428800 bytes (50 MiB)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("at most 16777216 bytes (16 MiB)"), std::string::npos) << msg;
}

TEST(InputFile, AFileOfExactlyTheLimitIsRead) {
  TempDir dir;
  std::ofstream(dir.file("f")) << std::string(4096, 'a');
  EXPECT_EQ(read_input_file(dir.file("f"), "the test file", 4096).size(), 4096u);
  EXPECT_NE(refusal(dir.file("f"), 4095).find("4096 bytes"), std::string::npos);
}

TEST(InputFile, CheckingATraceFileRefusesWhatIsNotARegularFile) {
  EXPECT_THROW(check_input_file("/dev/zero", "the trace"), ConfigError);
  EXPECT_THROW(check_input_file("/", "the trace"), ConfigError);
  TempDir dir;
  std::ofstream(dir.file("t.h5")) << "x";
  EXPECT_NO_THROW(check_input_file(dir.file("t.h5"), "the trace"));
}

TEST(InputFile, TheConfigLoaderUsesIt) {
  try {
    load_tune_config("/dev/zero");
    FAIL() << "read /dev/zero";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot read the config file: it is a device"), std::string::npos);
  }
  EXPECT_THROW(load_workload_file("/dev/zero"), WorkloadFileError);
}

// ---- limits ----

TEST(Limits, NumbersAreDecimalAndFinite) {
  for (const char* bad : {"nan", "inf", "-inf", "0x10", "", " 1", "1 ", "1e400", "1,5", "one"})
    EXPECT_NE(number_error(bad, limits::kMinTime), "") << "'" << bad << "'";
  for (const char* good : {"0", "0.5", "1e-3", "3600", "+2"})
    EXPECT_EQ(number_error(good, limits::kMinTime), "") << good;
  EXPECT_EQ(number_error("3601", limits::kMinTime), "must be between 0 and 3600, got 3601");
}

TEST(Limits, IntegersAreWholeAndInRangeEvenWhenTheyOverflow) {
  EXPECT_EQ(integer_error("0", limits::kBudget), "must be between 1 and 10000000, got 0");
  EXPECT_EQ(integer_error("99999999999999999999999", limits::kBudget),
            "must be between 1 and 10000000, got 99999999999999999999999");
  EXPECT_EQ(integer_error("1.5", limits::kBudget), "expected a whole number, got '1.5'");
  EXPECT_EQ(integer_error("-1", limits::kSeed), "must be between 0 and 9223372036854775807, got -1");
  EXPECT_EQ(integer_error("64", limits::kBudget), "");
}

TEST(Limits, APinCoreMustBeOneThisProcessMayRunOn) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  int allowed = -1;
  for (int c = 0; c < CPU_SETSIZE && allowed < 0; ++c)
    if (CPU_ISSET(c, &set)) allowed = c;
  EXPECT_EQ(pin_core_error(std::to_string(allowed)), "");
  EXPECT_EQ(pin_core_error("auto"), "");
  EXPECT_EQ(pin_core_error("none"), "");
  EXPECT_NE(pin_core_error("4096").find("is not one this process may run on"), std::string::npos);
  EXPECT_NE(pin_core_error("-1").find("expected auto, none or a core number"), std::string::npos);
}

TEST(Limits, TheConfigAndTheCommandLineShareTheBudgetRange) {
  try {
    parse_tune_config("budget: 10000001\ntasks: [\"matmul:M=8,N=8,K=8\"]\n");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.reason(), integer_error("10000001", limits::kBudget));
  }
}

// ---- duplicate keys ----

ConfigError duplicate(const std::string& yaml) {
  try {
    check_unique_keys(yaml, "f.yaml");
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no duplicate found in\n" << yaml;
  return ConfigError("", 0, 0, "", "");
}

TEST(DuplicateKeys, TheSecondKeyIsNamedWithItsLineAndTheFirstsLine) {
  ConfigError e = duplicate("budget: 8\nseed: 1\nbudget: 800\n");
  EXPECT_EQ(e.line(), 3);
  EXPECT_EQ(e.column(), 1);
  EXPECT_EQ(e.key(), "budget");
  EXPECT_NE(e.reason().find("already set on line 1"), std::string::npos) << e.what();
}

TEST(DuplicateKeys, NestedKeysAreNamedByTheirPath) {
  EXPECT_EQ(duplicate("measure:\n  timeout: 1\n  timeout: 2\n").key(), "measure.timeout");
  EXPECT_EQ(duplicate("tasks:\n  - workload: a\n  - workload: b\n    weight: 1\n    weight: 2\n").key(),
            "tasks[1].weight");
  EXPECT_EQ(duplicate("m: {a: 1, b: {c: 1, c: 2}}\n").key(), "m.b.c");
}

TEST(DuplicateKeys, TheSameKeyInDifferentMappingsIsNoDuplicate) {
  EXPECT_NO_THROW(check_unique_keys("a: {x: 1}\nb: {x: 1}\nc: [{x: 1}, {x: 2}]\n", "f.yaml"));
}

TEST(DuplicateKeys, AliasesAreNotExpanded) {
  // Nine levels of nine aliases: expanded, 387 million nodes; as events, a few hundred.
  std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 9; ++k) yaml += std::string(k ? ", " : "") + "*a" + std::to_string(i - 1);
    yaml += "]\n";
  }
  EXPECT_NO_THROW(check_unique_keys(yaml, "f.yaml"));
  EXPECT_EQ(duplicate(yaml + "a3: 1\n").key(), "a3");
}

TEST(DuplicateKeys, AWorkloadFileWithADuplicateTensorIsAWorkloadFileError) {
  try {
    parse_workload_yaml("tensors:\n  A: f32[4]\n  A: f32[8]\n  B: f32[4]\nstages:\n  - B[i] = A[i]\n",
                        "w.yaml");
    FAIL();
  } catch (const WorkloadFileError& e) {
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.key(), "tensors.A");
  }
}

TEST(DuplicateKeys, InvalidYamlIsLeftToTheParserThatReportsIt) {
  EXPECT_NO_THROW(check_unique_keys("a: [1, 2\n", "f.yaml"));
}

}  // namespace
}  // namespace rctune::config
