// The tuning database: appending, reading back, queries, damaged files and many writers.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <set>

#include "database/database_test_util.h"

namespace rctune::database {
namespace {

using namespace testing;

TEST(Database, OpeningCreatesTheDirectoryAndNoRecordFile) {
  TempDir t;
  Database db(t.file("a/b"));
  EXPECT_TRUE(std::filesystem::is_directory(t.file("a/b/records")));
  EXPECT_TRUE(db.all().empty());
  EXPECT_EQ(db.writer_file(), "");
}

TEST(Database, AppendedRecordsAreReadBackWithEveryField) {
  TempDir t;
  TuningRecord written;
  {
    Database db(t.path());
    db.append(record_of(kMatmul, 2e-3));
    written = db.all().at(0);
    EXPECT_EQ(written.id.size(), 16u);
    EXPECT_FALSE(written.utc.empty());
    EXPECT_FALSE(written.version.empty());
  }
  Database again(t.path());
  ASSERT_EQ(again.all().size(), 1u);
  EXPECT_EQ(again.all()[0], written);
  EXPECT_EQ(again.report().skipped_lines, 0);
}

TEST(Database, ClosingMarksTheFileFinished) {
  TempDir t;
  Database db(t.path());
  db.append(record_of(kMatmul, 1e-3));
  const std::string file = db.writer_file();
  db.close();
  EXPECT_TRUE(std::filesystem::exists(file.substr(0, file.size() - 6) + ".closed"));
  db.append(record_of(kMatmul, 2e-3));
  EXPECT_NE(db.writer_file(), file);  // a new file after close
}

TEST(Database, BestReturnsTheKFastestOfExactlyTheKey) {
  TempDir t;
  Database db(t.path());
  for (double s : {5e-3, 1e-3, 3e-3, 2e-3, 4e-3}) db.append(record_of(kMatmul, s));
  db.append(record_of(kMatmul, 1e-4, "", "-O2"));                    // other flags
  db.append(record_of(kMatmul, 1e-4, "", "-O3", other_hardware()));  // other hardware
  db.append(record_of("matmul:M=32,N=32,K=32,dtype=f32", 1e-4));     // other workload
  const Key key{kMatmul, host_fingerprint("Serial").id, "-O3"};
  const auto best = db.best(key, 3);
  ASSERT_EQ(best.size(), 3u);
  EXPECT_EQ(best[0].seconds, 1e-3);
  EXPECT_EQ(best[1].seconds, 2e-3);
  EXPECT_EQ(best[2].seconds, 3e-3);
  for (const auto& r : db.best(key, 100)) EXPECT_EQ(r.key(), key);
  EXPECT_EQ(db.best(key, 100).size(), 5u);
  EXPECT_EQ(db.best(Key{kMatmul, host_fingerprint("Serial").id, "-O3 -g"}, 5).size(), 0u);
}

TEST(Database, BestGivesEachScheduleOnceAtItsFastest) {
  TempDir t;
  Database db(t.path());
  db.append(record_of(kMatmul, 2e-3, "split(C, i, [None, 4])\n"));
  db.append(record_of(kMatmul, 1e-3, "split(C, i, [None, 4])\n"));  // the same schedule confirmed faster
  db.append(record_of(kMatmul, 3e-3, "split(C, i, [None, 8])\n"));
  const auto best = db.best({kMatmul, host_fingerprint("Serial").id, "-O3"}, 8);
  ASSERT_EQ(best.size(), 2u);
  EXPECT_EQ(best[0].seconds, 1e-3);
  EXPECT_EQ(best[1].seconds, 3e-3);
}

TEST(Database, FlagsAreKeyedNormalized) {
  TempDir t;
  Database db(t.path());
  db.append(record_of(kMatmul, 1e-3, "", "-O3 -march=native"));
  db.append([] {
    TuningRecord r = record_of(kMatmul, 2e-3, "", "-O3");
    r.flags = "  -O3\t -march=native ";
    return r;
  }());
  EXPECT_EQ(
      db.best({kMatmul, host_fingerprint("Serial").id, normalize_flags(" -O3  -march=native")}, 8).size(),
      2u);
}

TEST(Database, NeighboursAreTheFastestOfEachShapeOfTheOperatorOnThisHardware) {
  TempDir t;
  Database db(t.path());
  db.append(record_of("matmul:M=32,N=32,K=32,dtype=f32", 2e-3));
  db.append(record_of("matmul:M=32,N=32,K=32,dtype=f32", 1e-3, "", "-O2"));
  db.append(record_of("matmul:M=128,N=128,K=128,dtype=f32", 5e-3));
  db.append(record_of("matmul:M=256,N=256,K=256,dtype=f32", 5e-3, "", "-O3", other_hardware()));
  db.append(record_of("conv2d:N=1", 1e-3));
  const auto n = db.neighbours("matmul", host_fingerprint("Serial").id);
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[0].workload, "matmul:M=128,N=128,K=128,dtype=f32");
  EXPECT_EQ(n[1].workload, "matmul:M=32,N=32,K=32,dtype=f32");
  EXPECT_EQ(n[1].seconds, 1e-3);
}

TEST(Database, OtherHardwareServesModelTrainingOnlyFlaggedAndLast) {
  TempDir t;
  Database db(t.path());
  db.append(record_of(kMatmul, 1e-3, "", "-O3", other_hardware()));
  db.append(record_of(kMatmul, 2e-3));
  const auto training = db.records_for_model_training(host_fingerprint("Serial").id);
  ASSERT_EQ(training.size(), 2u);
  EXPECT_TRUE(training[0].same_hardware);
  EXPECT_EQ(training[0].record.hardware.id, host_fingerprint("Serial").id);
  EXPECT_FALSE(training[1].same_hardware);
  EXPECT_EQ(training[1].record.hardware.id, other_hardware().id);
  // And never as a measurement of this hardware.
  EXPECT_EQ(db.best({kMatmul, host_fingerprint("Serial").id, "-O3"}, 8).size(), 1u);
}

TEST(Database, ARecordThatCannotBeStoredIsRefusedBeforeWriting) {
  TempDir t;
  Database db(t.path());
  TuningRecord r = record_of(kMatmul, 1e-3);
  r.seconds = 0;
  EXPECT_THROW(db.append(r), std::invalid_argument);
  EXPECT_TRUE(db.all().empty());
  EXPECT_EQ(db.writer_file(), "");
}

// The database reported exactly these problems, each holding its part (file:line and cause).
void expect_problems(const Database& db, const std::vector<std::string>& parts) {
  const std::vector<std::string>& problems = db.report().problems;
  ASSERT_EQ(problems.size(), parts.size());
  for (size_t i = 0; i < parts.size(); ++i)
    EXPECT_NE(problems[i].find(parts[i]), std::string::npos) << problems[i];
}

TEST(Database, AnUnterminatedLastLineIsSkippedAndCounted) {
  TempDir t;
  const std::string file = two_records_closed(t.path(), kMatmul);
  const std::string line = to_json_line(record_of(kMatmul, 3e-3)).substr(0, 40);
  std::ofstream(file, std::ios::app) << line;
  Database db(t.path());
  EXPECT_EQ(db.all().size(), 2u);
  EXPECT_EQ(db.report().skipped_lines, 1);
  EXPECT_EQ(db.report().truncated, 1);
  expect_problems(db, {file + ":3: unterminated last line"});
}

TEST(Database, ABadLineInTheMiddleIsReportedWithItsFileAndLine) {
  TempDir t;
  std::filesystem::create_directories(t.file("records"));
  const std::string file = t.file("records/imported.jsonl");
  std::ofstream(file) << to_json_line(stored(record_of(kMatmul, 1e-3))) << "\n{not json\n"
                      << line_of_version(stored(record_of(kMatmul, 1e-3), "00000000000000bb"), 3) << "\n";
  Database db(t.path());
  EXPECT_EQ(db.all().size(), 1u);
  EXPECT_EQ(db.report().skipped_lines, 2);
  EXPECT_EQ(db.report().truncated, 0);
  expect_problems(db, {file + ":2: not valid JSON", file + ":3: record version 3 is not supported"});
}

TEST(Database, AnOverlongLineIsSkippedWithoutReadingItWhole) {
  TempDir t;
  std::filesystem::create_directories(t.file("records"));
  const std::string file = t.file("records/big.jsonl");
  std::ofstream(file) << std::string(3 << 20, 'x') << "\n"
                      << to_json_line(stored(record_of(kMatmul, 1e-3))) << "\n";
  Database db(t.path());
  EXPECT_EQ(db.all().size(), 1u);
  expect_problems(db, {":1: longer than 1048576 bytes"});
}

TEST(Database, ASymbolicLinkAmongTheRecordsIsNotFollowed) {
  TempDir t;
  std::filesystem::create_directories(t.file("records"));
  { std::ofstream(t.file("outside.jsonl")) << to_json_line(record_of(kMatmul, 1e-3)) << "\n"; }
  std::filesystem::create_symlink(t.file("outside.jsonl"), t.file("records/link.jsonl"));
  Database db(t.path());
  EXPECT_TRUE(db.all().empty());
  expect_problems(db, {"a symbolic link"});
}

TEST(Database, CopiesOfARecordAreOneRecord) {
  TempDir t;
  {
    Database db(t.path());
    db.append(record_of(kMatmul, 1e-3));
  }
  const std::string file = record_files(t.path()).at(0);
  std::filesystem::copy_file(file, t.file("records/copy.jsonl"));
  Database db(t.path());
  EXPECT_EQ(db.all().size(), 1u);
  EXPECT_EQ(db.report().duplicates, 1);
}

// Several processes append to one database at once (as MPI ranks, Slurm array tasks and several
// mpirun jobs do: each is a process of its own); every record is read back.
TEST(Database, ConcurrentWriterProcessesLoseNoRecord) {
  TempDir t;
  constexpr int kWriters = 4, kEach = 250;
  std::vector<pid_t> pids;
  for (int w = 0; w < kWriters; ++w)
    pids.push_back(spawn([&, w] {
      Database db(t.path());
      for (int i = 0; i < kEach; ++i) {
        TuningRecord r = record_of("matmul:M=" + std::to_string(w) + ",dtype=f32", 1e-3 + i * 1e-6);
        r.samples = i;
        db.append(r);
      }
      db.close();
      return 0;
    }));
  for (pid_t p : pids) EXPECT_EQ(wait_for(p), 0);
  Database db(t.path());
  EXPECT_EQ(db.all().size(), static_cast<size_t>(kWriters * kEach));
  EXPECT_EQ(db.report().skipped_lines, 0);
  EXPECT_EQ(record_files(t.path()).size(), static_cast<size_t>(kWriters));
  std::set<std::pair<std::string, int64_t>> seen;
  for (const auto& r : db.all()) seen.insert({r.workload, r.samples});
  EXPECT_EQ(seen.size(), static_cast<size_t>(kWriters * kEach));
}

TEST(Database, AForkedChildWritesAFileOfItsOwn) {
  TempDir t;
  Database db(t.path());
  db.append(record_of(kMatmul, 1e-3));
  const pid_t child = spawn([&] {
    db.append(record_of(kMatmul, 2e-3));
    db.close();
    return 0;
  });
  EXPECT_EQ(wait_for(child), 0);
  db.append(record_of(kMatmul, 3e-3));
  db.close();
  EXPECT_EQ(record_files(t.path()).size(), 2u);
  Database again(t.path());
  EXPECT_EQ(again.all().size(), 3u);
  EXPECT_EQ(again.report().skipped_lines, 0);
}

// kill -9 of a writer in the middle of its stream: every record whose append returned is read
// back, and at most one line (the one being written) is skipped.
TEST(Database, AWriterKilledMidStreamLosesAtMostTheRecordBeingWritten) {
  TempDir t;
  int progress[2];
  ASSERT_EQ(pipe(progress), 0);
  const pid_t writer = spawn([&] {
    close(progress[0]);
    Database db(t.path());
    for (int64_t i = 0;; ++i) {
      TuningRecord r = record_of(kMatmul, 1e-3);
      r.samples = i;
      r.schedule = std::string(20000, 'x') + "\n";  // long lines: more chances to die inside one
      db.append(r);
      if (write(progress[1], &i, sizeof i) != sizeof i) return 1;
    }
  });
  close(progress[1]);
  int64_t last = -1, i = 0;
  while (last < 200 && read(progress[0], &i, sizeof i) == sizeof i) last = i;
  kill(writer, SIGKILL);
  // Appends that returned after the last progress report read here.
  while (read(progress[0], &i, sizeof i) == sizeof i) last = i;
  close(progress[0]);
  EXPECT_EQ(wait_for(writer), -1);
  Database db(t.path());
  std::set<int64_t> seen;
  for (const auto& r : db.all()) seen.insert(r.samples);
  for (int64_t k = 0; k <= last; ++k)
    ASSERT_TRUE(seen.count(k)) << "record " << k << " of " << last << " lost";
  EXPECT_LE(static_cast<int64_t>(seen.size()), last + 2);
  EXPECT_LE(db.report().skipped_lines, 1);
  EXPECT_EQ(db.report().skipped_lines, db.report().truncated);
}

TEST(Database, TheDefaultDirectoryFollowsTheEnvironment) {
  const char* saved[3] = {std::getenv("RCTUNE_DATABASE"), std::getenv("XDG_DATA_HOME"), std::getenv("HOME")};
  const std::string copies[3] = {saved[0] ? saved[0] : "", saved[1] ? saved[1] : "",
                                 saved[2] ? saved[2] : ""};
  setenv("RCTUNE_DATABASE", "/db", 1);
  setenv("XDG_DATA_HOME", "/data", 1);
  setenv("HOME", "/home/u", 1);
  EXPECT_EQ(default_database_dir(), "/db");
  unsetenv("RCTUNE_DATABASE");
  EXPECT_EQ(default_database_dir(), "/data/rctune/database");
  unsetenv("XDG_DATA_HOME");
  EXPECT_EQ(default_database_dir(), "/home/u/.local/share/rctune/database");
  const char* names[3] = {"RCTUNE_DATABASE", "XDG_DATA_HOME", "HOME"};
  for (int k = 0; k < 3; ++k)
    if (saved[k])
      setenv(names[k], copies[k].c_str(), 1);
    else
      unsetenv(names[k]);
}

}  // namespace
}  // namespace rctune::database
