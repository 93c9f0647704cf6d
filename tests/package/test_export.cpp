// The package module: which kernels an export takes (trace, database), their names, and the files
// of the package (without compiling them: test_package_build.cpp builds packages).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "package/function_names.h"
#include "package/package_files.h"
#include "rctune/ir/operators.h"
#include "rctune/ir/parser.h"
#include "rctune/package/package.h"
#include "support/contains.h"
#include "support/file_text.h"
#include "support/message_of.h"
#include "support/temp_dir.h"

namespace rctune::package {
namespace {

using test_support::expect_contains_all;
using test_support::file_text;
using test_support::message_of;
using test_support::TempDir;

constexpr const char* kMatmul = "matmul:M=8,N=32,K=16,epilogue=bias+relu";
// A schedule of kMatmul: a register tile of the reduction stage, the epilogue computed after it.
constexpr const char* kMatmulSchedule = "split(AB, j, [None, 16])\nreorder(AB, k, j.1)\nvectorize(AB, j.1)\n";

PackageKernel kernel_of(const std::string& task, const std::string& spec, const std::string& schedule = "") {
  PackageKernel k;
  k.task = task;
  k.function = detail::function_names({task}).front();
  k.workload = ir::make_operator(spec);
  k.workload_key = ir::canonical_operator_spec(spec);
  k.schedule = schedule;
  k.seconds = 1e-6;
  k.gflops = 12.5;
  k.origin.cpu_model = "Test CPU";
  k.origin.execution_space = "Serial";
  k.origin.flags = "-O3 -march=native";
  k.origin.samples = 4;
  return k;
}

runlog::TaskLog task_log(const std::string& name, const ir::Workload& w, const std::string& schedule,
                         bool tuned) {
  runlog::TaskLog t;
  t.info.name = name;
  t.info.workload = ir::to_string(w);
  if (tuned) {
    runlog::BestSchedule b;
    b.sample = 3;
    b.trace = schedule;
    b.gflops = 20;
    b.median_s = 2e-6;
    t.best = b;
  }
  return t;
}

TEST(FunctionNames, TaskNamesBecomeDistinctIdentifiers) {
  EXPECT_EQ(detail::function_names({"layer1.0.conv1", "layer1.0/conv1", "1x1", "", "ffn gate"}),
            (std::vector<std::string>{"layer1_0_conv1", "layer1_0_conv1_2", "k_1x1", "task", "ffn_gate"}));
}

TEST(FunctionNames, KeywordsAndThePackageApiAreAvoided) {
  EXPECT_EQ(detail::function_names({"delete", "find", "run", "lookup", "buffers"}),
            (std::vector<std::string>{"delete_kernel", "find_kernel", "run_kernel", "lookup_kernel",
                                      "buffers_kernel"}));
  EXPECT_EQ(detail::parameter_names({"A", "new", "B"}), (std::vector<std::string>{"A", "new_", "B"}));
}

TEST(FunctionNames, AWorkloadKeyGivesAReadableName) {
  EXPECT_EQ(detail::function_names(
                {detail::name_of_workload_key("matmul:M=32,N=64,K=16,dtype=f32,epilogue=bias+relu")}),
            (std::vector<std::string>{"matmul_M32_N64_K16_f32_bias_relu"}));
  EXPECT_EQ(detail::name_of_workload_key("workload:0123456789abcdef"), "workload_01234567");
}

TEST(PackageName, OnlyLowerCaseIdentifiersThatNothingElseUsesAreAccepted) {
  EXPECT_EQ(package_name_problem("llama_mlp_kernels"), "");
  for (const std::string& bad :
       std::vector<std::string>{"", "Llama", "9kernels", "my-kernels", "a b", "delete", "find",
                                "rctune_generic", std::string(65, 'a')})
    EXPECT_NE(package_name_problem(bad), "") << bad;
}

TEST(Escapes, AStringLiteralKeepsEveryByteAndEndsWhereItShould) {
  EXPECT_EQ(detail::c_string_literal("a\"b\\c\n?"
                                     "?="),
            "\"a\\\"b\\\\c\\012\\077\\077=\"");
  EXPECT_EQ(detail::c_comment("x\ny\\"), "x y\\.");
}

TEST(KernelsFromTrace, EachTunedTaskGivesItsBestScheduleAndTheRestAreNamedAsLeftOut) {
  runlog::RunLog run;
  run.info.cpu_model = "Test CPU";
  run.info.execution_space = "Serial";
  run.info.version = "9.9";
  run.tasks.push_back(task_log("layer.1", ir::make_operator(kMatmul), kMatmulSchedule, true));
  run.tasks.push_back(task_log("norm", ir::make_operator("rmsnorm:M=4,N=16"), "", false));
  std::vector<std::string> skipped;
  const std::vector<PackageKernel> ks = kernels_from_trace(run, "run.h5", {}, &skipped);
  ASSERT_EQ(ks.size(), 1u);
  EXPECT_EQ(ks[0].task, "layer.1");
  EXPECT_EQ(ks[0].function, "layer_1");
  EXPECT_EQ(ks[0].workload_key, ir::canonical_operator_spec(kMatmul));
  EXPECT_EQ(ks[0].schedule, kMatmulSchedule);
  EXPECT_EQ(ks[0].gflops, 20);
  EXPECT_EQ(ks[0].origin.sample, "sample 3");
  EXPECT_EQ(ks[0].origin.cpu_model, "Test CPU");
  EXPECT_EQ(skipped, (std::vector<std::string>{"norm"}));
}

TEST(KernelsFromTrace, ASimulatedRunHasNothingToExport) {
  runlog::RunLog run;
  run.info.execution_space = "simulated";
  run.tasks.push_back(task_log("a", ir::make_operator(kMatmul), "", true));
  const auto m = message_of<ExportError>([&] { kernels_from_trace(run, "sim.h5", {}, nullptr); });
  ASSERT_TRUE(m);
  expect_contains_all(*m, {"sim.h5 is a simulated run"});
}

TEST(KernelsFromTrace, AHandWrittenWorkloadComesBackFromItsListing) {
  const ir::Workload w = ir::parse_workload(
      "X: f32[4, 8]\nS: f32[4]\nY: f32[4, 8]\nS[i] += X[i, j * 2] where j < 4\nY[i, j] = X[i, j] / "
      "S[i]\noutputs: Y",
      "rowscale");
  runlog::RunLog run;
  run.tasks.push_back(task_log("rowscale", w, "", true));
  const std::vector<PackageKernel> ks = kernels_from_trace(run, "run.h5", {}, nullptr);
  ASSERT_EQ(ks.size(), 1u);
  EXPECT_EQ(ir::to_string(ks[0].workload), ir::to_string(w));
  EXPECT_EQ(ks[0].workload_key.rfind("workload:", 0), 0u);
}

TEST(KernelsFromTrace, ANamedTaskThatIsMissingOrUntunedIsAnError) {
  runlog::RunLog run;
  run.tasks.push_back(task_log("a", ir::make_operator(kMatmul), "", true));
  run.tasks.push_back(task_log("b", ir::make_operator(kMatmul), "", false));
  const auto missing =
      message_of<ExportError>([&] { kernels_from_trace(run, "run.h5", {{"zzz"}}, nullptr); });
  ASSERT_TRUE(missing);
  expect_contains_all(*missing, {"task 'zzz' is not in run.h5", "a, b"});
  const auto untuned = message_of<ExportError>([&] { kernels_from_trace(run, "run.h5", {{"b"}}, nullptr); });
  ASSERT_TRUE(untuned);
  expect_contains_all(*untuned, {"'b'", "no correct sample"});
}

TEST(KernelsFromDatabase, TheFastestRecordOfEachWorkloadOnTheMachineIsTaken) {
  TempDir dir;
  database::Database db(dir.file("db"));
  const auto machine = database::make_fingerprint("GenuineIntel", "Test CPU", {"avx2"}, 1, "", "Serial");
  const auto other = database::make_fingerprint("AuthenticAMD", "Other CPU", {"avx2"}, 1, "", "Serial");
  auto record = [&](const database::HardwareFingerprint& h, double seconds, const std::string& schedule) {
    database::TuningRecord r;
    r.workload = ir::canonical_operator_spec(kMatmul);
    r.hardware = h;
    r.flags = "-O3";
    r.schedule = schedule;
    r.seconds = seconds;
    r.gflops = 1e-3 / seconds;
    r.samples = 8;
    r.run = "run.h5";
    db.append(r);
  };
  record(machine, 2e-6, "");
  record(machine, 1e-6, kMatmulSchedule);
  record(other, 0.5e-6, "");
  const std::vector<PackageKernel> ks = kernels_from_database(db, machine.id.substr(0, 6), {});
  ASSERT_EQ(ks.size(), 1u);
  EXPECT_EQ(ks[0].schedule, kMatmulSchedule);
  EXPECT_EQ(ks[0].function, "matmul_M8_N32_K16_f32_bias_relu");
  EXPECT_EQ(ks[0].origin.hardware_id, machine.id);
  EXPECT_EQ(ks[0].origin.flags, "-O3");
  const auto none = message_of<ExportError>([&] { kernels_from_database(db, "ffff", {}); });
  ASSERT_TRUE(none);
  expect_contains_all(*none, {"no schedule record of hardware 'ffff'", machine.id, other.id});
  const auto missing =
      message_of<ExportError>([&] { kernels_from_database(db, machine.id, {{"matmul:M=9"}}); });
  ASSERT_TRUE(missing);
  expect_contains_all(*missing, {"no record of workload 'matmul:M=9,N=1024,K=1024,dtype=f32'"});
}

TEST(KernelsFromDatabase, AHandWrittenWorkloadComesBackFromTheListingItsRecordKeeps) {
  TempDir dir;
  database::Database db(dir.file("db"));
  const ir::Workload w = ir::parse_workload("X: f32[4, 8]\nS: f32[4]\nS[i] += X[i, j]\noutputs: S", "rowsum");
  database::TuningRecord r;
  r.workload = database::workload_key(w);
  r.workload_text = ir::to_string(w);
  r.hardware = database::make_fingerprint("GenuineIntel", "Test CPU", {"avx2"}, 1, "", "Serial");
  r.flags = "-O3";
  r.seconds = 1e-6;
  r.gflops = 0.03;
  db.append(r);
  const std::vector<PackageKernel> ks = kernels_from_database(db, r.hardware.id, {});
  ASSERT_EQ(ks.size(), 1u);
  EXPECT_EQ(ir::to_string(ks[0].workload), ir::to_string(w));
  EXPECT_EQ(ks[0].function, "workload_" + r.workload.substr(9, 8));
}

TEST(MergeKernels, SeveralRunsGiveOneKernelPerWorkloadTheFastestWithDistinctNames) {
  PackageKernel slow = kernel_of("gate", kMatmul), fast = kernel_of("gate", kMatmul);
  slow.seconds = 2e-6;
  slow.origin.run = "a.h5";
  fast.seconds = 1e-6;
  fast.origin.run = "b.h5";
  fast.schedule = kMatmulSchedule;
  const PackageKernel norm = kernel_of("gate", "rmsnorm:M=4,N=16");  // another workload, the same task name
  std::vector<std::string> dropped;
  const std::vector<PackageKernel> ks = merge_kernels({{slow, norm}, {fast}}, &dropped);
  ASSERT_EQ(ks.size(), 2u);
  EXPECT_EQ(ks[0].schedule, kMatmulSchedule);
  EXPECT_EQ(ks[0].origin.run, "b.h5");
  EXPECT_EQ(ks[0].function, "gate");
  EXPECT_EQ(ks[1].function, "gate_2");
  ASSERT_EQ(dropped.size(), 1u);
  expect_contains_all(dropped[0], {"task gate of a.h5", "a faster kernel of its workload is kept"});
}

TEST(WritePackage, APackageHoldsHeaderSourcesCMakeAndManifest) {
  TempDir dir;
  const std::vector<PackageKernel> ks = {kernel_of("ffn.gate", kMatmul, kMatmulSchedule),
                                         kernel_of("norm", "rmsnorm:M=4,N=16")};
  PackageOptions o;
  o.name = "test_kernels";
  o.source = "trace run.h5";
  write_package(ks, o, dir.file("pkg"));
  const std::filesystem::path p = dir.file("pkg");
  for (const char* f : {"CMakeLists.txt", "README.md", "manifest.json", "cmake/test_kernelsConfig.cmake.in",
                        "include/test_kernels/test_kernels.hpp", "src/test_kernels.cpp",
                        "src/generic_kernels.hpp", "src/kernels/ffn_gate.cpp", "src/kernels/norm.cpp"})
    EXPECT_TRUE(std::filesystem::is_regular_file(p / f)) << f;
  expect_contains_all(
      file_text(p / "include/test_kernels/test_kernels.hpp"),
      {"namespace test_kernels {", "/// ffn.gate: matmul:M=8,N=32,K=16,dtype=f32,epilogue=bias+relu",
       "bias: f32[32]  input", "C: f32[8, 32]  output",
       "void ffn_gate(const float* A, const float* B, const float* bias, float* C);",
       "void norm(const float* X, const float* gamma, float* Y);", "class NotTuned"});
  expect_contains_all(file_text(p / "src/kernels/ffn_gate.cpp"),
                      {"extern \"C\" void test_kernels_ffn_gate_kernel(void* const* buffers)"});
  expect_contains_all(file_text(p / "CMakeLists.txt"),
                      {"project(test_kernels", "find_package(Kokkos REQUIRED)", "-O3;-march=native",
                       "install(EXPORT test_kernelsTargets NAMESPACE test_kernels::"});
  const auto m = nlohmann::json::parse(file_text(p / "manifest.json"));
  EXPECT_EQ(m.at("generator"), "rctune export");
  EXPECT_EQ(m.at("exported_from"), "trace run.h5");
  ASSERT_EQ(m.at("kernels").size(), 2u);
  EXPECT_EQ(m.at("kernels")[0].at("schedule"), kMatmulSchedule);
  EXPECT_EQ(m.at("kernels")[0].at("tuned").at("cpu_model"), "Test CPU");
  EXPECT_EQ(m.at("kernels")[0].at("buffers").size(), 4u);  // AB is an intermediate
}

TEST(WritePackage, TheWorkspaceHoldsTheIntermediatesTheKernelTakes) {
  TempDir dir;
  PackageOptions o;
  o.name = "test_kernels";
  write_package({kernel_of("gate", kMatmul)}, o, dir.file("pkg"));
  const std::string src = file_text(dir.file("pkg") + "/src/test_kernels.cpp");
  // A, B, AB (8 x 32 floats = 1024 bytes), bias, C.
  expect_contains_all(src,
                      {"static thread_local Workspace ws(1024);",
                       "void* const all[] = {buffers[0], buffers[1], ws.data + 0, buffers[2], buffers[3]};"});
}

TEST(WritePackage, AnotherDirectoryIsNeverOverwritten) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("mine"));
  { std::ofstream(dir.file("mine/notes.txt")) << "keep"; }
  PackageOptions o;
  const auto m =
      message_of<ExportError>([&] { write_package({kernel_of("g", kMatmul)}, o, dir.file("mine")); });
  ASSERT_TRUE(m);
  expect_contains_all(*m, {"is not empty and holds no package rctune exported"});
  EXPECT_EQ(file_text(dir.file("mine/notes.txt")), "keep");
}

TEST(WritePackage, AnEarlierExportIsReplaced) {
  TempDir dir;
  PackageOptions o;
  write_package({kernel_of("old", kMatmul)}, o, dir.file("pkg"));
  write_package({kernel_of("new", kMatmul)}, o, dir.file("pkg"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("pkg/src/kernels/old.cpp")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("pkg/src/kernels/new_kernel.cpp")));
}

TEST(WritePackage, TextFromTheTraceCannotBreakOutOfCommentsOrStrings) {
  TempDir dir;
  PackageKernel k = kernel_of("x\n#include \"/etc/passwd\"\n\"; system(\"rm\");//", kMatmul);
  k.origin.cpu_model = "CPU\n#error injected";
  PackageOptions o;
  write_package({k}, o, dir.file("pkg"));
  for (const char* f : {"include/rctune_kernels/rctune_kernels.hpp", "src/rctune_kernels.cpp"}) {
    const std::string text = file_text(dir.file("pkg") + "/" + f);
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      EXPECT_NE(line.rfind("#include \"/etc", 0), 0u) << f;
      EXPECT_NE(line.rfind("#error", 0), 0u) << f;
    }
  }
  EXPECT_EQ(k.function, "x_include_etc_passwd_system_rm");
}

TEST(WritePackage, ACudaPackageHoldsTheCudaFlavourOfEveryKernel) {
  TempDir dir;
  PackageOptions o;
  o.target = codegen::Space::Cuda;
  write_package({kernel_of("gate", kMatmul, kMatmulSchedule)}, o, dir.file("pkg"));
  const std::string kernel = file_text(dir.file("pkg/src/kernels/gate.cpp"));
  EXPECT_EQ(kernel.find("__attribute__((vector_size"), std::string::npos) << kernel;  // host vector types
  expect_contains_all(kernel, {"extern \"C\" void rctune_kernels_gate_kernel("});
  expect_contains_all(file_text(dir.file("pkg/include/rctune_kernels/rctune_kernels.hpp")),
                      {"Target CUDA: buffers are device memory", "in device memory"});
  const std::string cmake = file_text(dir.file("pkg/CMakeLists.txt"));
  expect_contains_all(cmake, {"set(rctune_kernels_KERNEL_FLAGS \"-O3\""});
  EXPECT_EQ(cmake.find("-march=native"), std::string::npos);
  expect_contains_all(file_text(dir.file("pkg/manifest.json")), {"\"target\": \"cuda\""});
}

TEST(WritePackage, AScheduleThatDoesNotApplyIsNamed) {
  TempDir dir;
  PackageOptions o;
  const auto m = message_of<ExportError>(
      [&] { write_package({kernel_of("g", kMatmul, "split(AB, q, [None, 4])")}, o, dir.file("pkg")); });
  ASSERT_TRUE(m);
  expect_contains_all(*m, {"task 'g'", "its schedule does not apply"});
}

}  // namespace
}  // namespace rctune::package
