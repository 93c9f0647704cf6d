// rctune db list|show|export|merge|prune, running the real binary.
#include <gtest/gtest.h>

#include <fstream>

#include "apps/cli_runner.h"
#include "database/database_test_util.h"

namespace rctune::database {
namespace {

using rctune::testing::CliResult;
using rctune::testing::run_rctune_args;
using namespace testing;

// A database with two keys: matmul (3 records) and conv2d (1 record), and one damaged line.
void fill(const std::string& dir) {
  {
    Database db(dir);
    db.append(record_of(kMatmul, 2e-3, "split(C, i, [None, 2])\n"));
    db.append(record_of(kMatmul, 1e-3, "split(C, i, [None, 4])\nvectorize(C, i.1)\n"));
    db.append(record_of(kMatmul, 3e-3, "split(C, i, [None, 8])\n"));
    db.append(record_of("conv2d:N=1", 5e-3));
  }
  std::ofstream(record_files(dir).at(0), std::ios::app) << "{\"v\":1";
}

CliResult db(const std::vector<std::string>& args) {
  std::vector<std::string> all{"db"};
  all.insert(all.end(), args.begin(), args.end());
  return run_rctune_args(all);
}

TEST(DbCli, ListPrintsOneLinePerKeyAndTheSkippedLines) {
  TempDir t;
  fill(t.path());
  const CliResult r = db({"--database", t.path(), "list"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(kMatmul), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("conv2d:N=1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(host_fingerprint("Serial").id), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1000.00"), std::string::npos) << r.output;  // the best matmul: 1 / 1e-3
  EXPECT_NE(r.output.find("2 keys, 4 records"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1 skipped (1 unterminated last lines)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(":5: unterminated last line"), std::string::npos) << r.output;
}

TEST(DbCli, ListShowAndExportTellTheBaselinesApart) {
  TempDir t;
  {
    Database d(t.path());
    d.append(record_of(kMatmul, 1e-3, "split(C, i, [None, 4])\n"));
    TuningRecord unscheduled = record_of(kMatmul, 8e-3, "");
    unscheduled.kind = RecordKind::Unscheduled;
    unscheduled.schedule.clear();
    d.append(unscheduled);
    TuningRecord library = unscheduled;
    library.kind = RecordKind::Library;
    library.routine = "openblas_sgemm";
    library.seconds = 2e-3;
    d.append(library);
  }
  const CliResult list = db({"--database", t.path(), "list"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find("8.00x"), std::string::npos) << "best over the unscheduled kernel\n"
                                                          << list.output;
  EXPECT_NE(list.output.find("2.00x"), std::string::npos) << "best over the library\n" << list.output;
  EXPECT_NE(list.output.find("1 keys, 1 records, 2 baselines"), std::string::npos) << list.output;
  const CliResult show = db({"--database", t.path(), "show", "matmul:M=64,N=64,K=64"});
  ASSERT_EQ(show.exit_code, 0) << show.output;
  EXPECT_NE(show.output.find("unscheduled kernel: 125.00 GFLOP/s"), std::string::npos) << show.output;
  EXPECT_NE(show.output.find("library openblas_sgemm: "), std::string::npos) << show.output;
  const CliResult out = db({"--database", t.path(), "export", "--out", t.file("all.csv")});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  const std::string csv = file_text(t.file("all.csv"));
  EXPECT_NE(csv.find(",kind,routine,estimate\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",library,openblas_sgemm,"), std::string::npos) << csv;
}

TEST(DbCli, TheDatabaseOptionMayFollowTheSubcommandAndTheEnvironmentGivesTheDefault) {
  TempDir t;
  fill(t.path());
  EXPECT_NE(db({"list", "--database", t.path()}).output.find("2 keys"), std::string::npos);
  const CliResult r = run_rctune_args({"db", "list"}, "", {{"RCTUNE_DATABASE", t.path().string()}});
  EXPECT_NE(r.output.find("2 keys"), std::string::npos) << r.output;
}

TEST(DbCli, ShowPrintsTheRecordsFastestFirstWithSchedules) {
  TempDir t;
  fill(t.path());
  const CliResult r = db({"--database", t.path(), "show", "matmul:M=64,N=64,K=64"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const size_t first = r.output.find("#1  1000.00 GFLOP/s");
  const size_t second = r.output.find("#2  500.00 GFLOP/s");
  ASSERT_NE(first, std::string::npos) << r.output;
  ASSERT_NE(second, std::string::npos) << r.output;
  EXPECT_LT(first, second);
  EXPECT_NE(r.output.find("      vectorize(C, i.1)"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("conv2d"), std::string::npos) << r.output;
}

TEST(DbCli, ShowTakesAHandWrittenWorkloadsKeyAndAHardwarePrefix) {
  TempDir t;
  const std::string key = "workload:0123456789abcdef";
  {
    Database db(t.path());
    db.append(record_of(key, 1e-3));
    db.append(record_of(key, 2e-3, "", "-O3", other_hardware()));
  }
  const CliResult all = db({"--database", t.path(), "show", key});
  ASSERT_EQ(all.exit_code, 0) << all.output;
  EXPECT_NE(all.output.find(other_hardware().id), std::string::npos) << all.output;
  const CliResult mine =
      db({"--database", t.path(), "show", key, "--hardware", host_fingerprint("Serial").id.substr(0, 6)});
  ASSERT_EQ(mine.exit_code, 0) << mine.output;
  EXPECT_NE(mine.output.find("#1  1000.00 GFLOP/s"), std::string::npos) << mine.output;
  EXPECT_EQ(mine.output.find(other_hardware().id), std::string::npos) << mine.output;
}

TEST(DbCli, ShowOfAWorkloadWithoutRecordsIsAUserError) {
  TempDir t;
  fill(t.path());
  const CliResult r = db({"--database", t.path(), "show", "matmul:M=8"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("rctune: error: db show: no records of 'matmul:M=8,N=1024,K=1024,dtype=f32'"),
            std::string::npos)
      << r.output;
}

TEST(DbCli, ExportWritesJsonLinesOrCsvAndSaysWhich) {
  TempDir t;
  fill(t.path());
  const CliResult j = db({"--database", t.path(), "export", "--out", t.file("all.jsonl")});
  ASSERT_EQ(j.exit_code, 0) << j.output;
  EXPECT_NE(j.output.find("wrote 4 records to " + t.file("all.jsonl") + " (JSON lines"), std::string::npos)
      << j.output;
  std::ifstream in(t.file("all.jsonl"));
  int lines = 0;
  for (std::string line; std::getline(in, line); ++lines) EXPECT_NO_THROW(from_json_line(line)) << line;
  EXPECT_EQ(lines, 4);
  const CliResult c = db({"--database", t.path(), "export", "--out", t.file("all.csv")});
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_NE(c.output.find("(CSV"), std::string::npos) << c.output;
  const std::string csv = file_text(t.file("all.csv"));
  EXPECT_EQ(csv.rfind("id,workload,operator,hardware,", 0), 0u) << csv;
  EXPECT_NE(csv.find("\"split(C, i, [None, 4])\nvectorize(C, i.1)\n\""), std::string::npos) << csv;
}

TEST(DbCli, ExportRefusesToReplaceAFile) {
  TempDir t;
  fill(t.path());
  std::ofstream(t.file("mine.csv")) << "keep me\n";
  const CliResult r = db({"--database", t.path(), "export", "--out", t.file("mine.csv")});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("rctune: error: db export: '" + t.file("mine.csv") + "' exists"), std::string::npos)
      << r.output;
  EXPECT_EQ(file_text(t.file("mine.csv")), "keep me\n");
}

TEST(DbCli, MergeImportsAnotherDatabaseOnce) {
  TempDir a, b;
  fill(b.path());
  const CliResult r = db({"--database", a.path(), "merge", b.path()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("imported 4 of the 4 records"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1 skipped"), std::string::npos) << r.output;
  const CliResult again = db({"--database", a.path(), "merge", b.path()});
  EXPECT_NE(again.output.find("imported 0 of the 4 records"), std::string::npos) << again.output;
  const CliResult missing = db({"--database", a.path(), "merge", a.file("nowhere")});
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("rctune: error: '" + a.file("nowhere") + "' is not an rctune database"),
            std::string::npos)
      << missing.output;
}

TEST(DbCli, PruneKeepsTheFastestPerKey) {
  TempDir t;
  fill(t.path());
  const CliResult r = db({"--database", t.path(), "prune", "--keep", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("kept 2 of 4 records (the 1 fastest per key) from 1 finished files"),
            std::string::npos)
      << r.output;
  Database after(t.path());
  EXPECT_EQ(after.all().size(), 2u);
  EXPECT_EQ(after.best({kMatmul, host_fingerprint("Serial").id, "-O3"}, 8).at(0).seconds, 1e-3);
  const CliResult bad = db({"--database", t.path(), "prune", "--keep", "0"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("rctune: error: --keep"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace rctune::database
