// prune and merge: compaction keeps every best record, never removes a running writer's file and
// survives concurrent writers and concurrent compactions.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <set>

#include "database/database_test_util.h"
#include "support/message_of.h"

namespace rctune::database {
namespace {

using namespace testing;

std::set<std::string> ids_of(const std::string& dir) {
  std::set<std::string> ids;
  const Database db(dir);
  for (const auto& r : db.all()) ids.insert(r.id);
  return ids;
}

TEST(Prune, KeepsTheKFastestPerKeyInOneFile) {
  TempDir t;
  for (int writer = 0; writer < 3; ++writer) {
    Database db(t.path());
    for (int i = 0; i < 5; ++i) db.append(record_of(kMatmul, (1 + writer * 5 + i) * 1e-3));
    db.append(record_of("conv2d:N=1", (1 + writer) * 1e-3));
  }
  const CompactionResult p = prune(t.path(), 4);
  EXPECT_EQ(p.files_absorbed, 3);
  EXPECT_EQ(p.records_before, 18);
  EXPECT_EQ(p.records_after, 7);  // 4 matmul + 3 conv2d
  ASSERT_EQ(record_files(t.path()).size(), 1u);
  Database db(t.path());
  const auto best = db.best({kMatmul, host_fingerprint("Serial").id, "-O3"}, 100);
  ASSERT_EQ(best.size(), 4u);
  for (size_t i = 0; i < best.size(); ++i) EXPECT_EQ(best[i].seconds, (1 + i) * 1e-3);
  EXPECT_TRUE(std::filesystem::is_empty(t.file("records")) == false);
  for (const auto& e : std::filesystem::directory_iterator(t.file("records")))
    EXPECT_NE(e.path().extension(), ".closed") << e.path();
}

TEST(Prune, LeavesARunningWritersFileAsItIs) {
  TempDir t;
  Database running(t.path());
  running.append(record_of(kMatmul, 1e-3));
  running.append(record_of(kMatmul, 2e-3));
  const CompactionResult p = prune(t.path(), 1);
  EXPECT_EQ(p.files_left_open, 1);
  EXPECT_EQ(p.files_absorbed, 0);
  EXPECT_TRUE(std::filesystem::exists(running.writer_file()));
  running.append(record_of(kMatmul, 3e-3));
  EXPECT_EQ(Database(t.path()).all().size(), 3u);
}

TEST(Prune, AbsorbsTheFileOfAWriterThatDiedWithoutClosingIt) {
  TempDir t;
  const pid_t child = spawn([&] {
    Database db(t.path());
    db.append(record_of(kMatmul, 1e-3));
    db.append(record_of(kMatmul, 2e-3));
    db.flush();
    _exit(0);  // no close(): no marker
    return 0;
  });
  ASSERT_EQ(wait_for(child), 0);
  const CompactionResult p = prune(t.path(), 1);
  EXPECT_EQ(p.files_absorbed, 1);
  EXPECT_EQ(p.records_after, 1);
  EXPECT_EQ(Database(t.path()).all().at(0).seconds, 1e-3);
}

TEST(Prune, NeverRemovesLinesThisVersionCannotRead) {
  TempDir t;
  const std::string file = two_records_closed(t.path(), kMatmul);
  std::ofstream(file, std::ios::app) << line_of_version(stored(record_of(kMatmul, 1e-4)), 3) << "\n";
  const CompactionResult p = prune(t.path(), 1);
  EXPECT_EQ(p.files_with_bad_lines, 1);
  EXPECT_EQ(p.files_absorbed, 0);
  EXPECT_TRUE(std::filesystem::exists(file));
}

TEST(Prune, NeverRemovesAFileItCouldNotRead) {
  TempDir t;
  two_records_closed(t.path(), kMatmul);
  const std::string fifo = t.file("records/compact-not-a-file.jsonl");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const CompactionResult p = prune(t.path(), 1);
  EXPECT_EQ(p.files_with_bad_lines, 1);
  EXPECT_EQ(p.files_absorbed, 1);
  EXPECT_TRUE(std::filesystem::exists(fifo));
  EXPECT_NE(p.report.problems.at(0).find(fifo + ": not read: not a regular file"), std::string::npos)
      << p.report.problems.at(0);
}

TEST(Prune, DropsOnlyTheUnterminatedLineOfAKilledWriter) {
  TempDir t;
  std::ofstream(two_records_closed(t.path(), kMatmul), std::ios::app) << "{\"v\":1,\"id\":";
  const CompactionResult p = prune(t.path(), 8);
  EXPECT_EQ(p.files_absorbed, 1);
  EXPECT_EQ(p.records_after, 2);
  Database db(t.path());
  EXPECT_EQ(db.all().size(), 2u);
  EXPECT_EQ(db.report().skipped_lines, 0);
}

// Writers append while two compactors prune again and again: with a keep larger than any key's
// records, nothing may be pruned, so every record appended must be read back at the end.
TEST(Prune, ConcurrentWritersAndCompactionsLoseNoRecord) {
  TempDir t;
  { Database create(t.path()); }
  constexpr int kWriters = 3, kEach = 150;
  std::vector<pid_t> writers, compactors;
  int stop[2];
  ASSERT_EQ(pipe(stop), 0);
  for (int c = 0; c < 2; ++c)
    compactors.push_back(spawn([&] {
      close(stop[1]);
      fcntl(stop[0], F_SETFL, O_NONBLOCK);
      char byte;
      while (read(stop[0], &byte, 1) != 0) prune(t.path(), 1000);
      return 0;
    }));
  close(stop[0]);
  for (int w = 0; w < kWriters; ++w)
    writers.push_back(spawn([&, w] {
      for (int batch = 0; batch < 5; ++batch) {  // a new file every batch: finished files to compact
        Database db(t.path());
        for (int i = 0; i < kEach / 5; ++i) {
          TuningRecord r = record_of("matmul:M=" + std::to_string(w) + ",dtype=f32", 1e-3,
                                     "s" + std::to_string(batch * 1000 + i) + "\n");
          db.append(r);
        }
        db.close();
      }
      return 0;
    }));
  for (pid_t p : writers) EXPECT_EQ(wait_for(p), 0);
  close(stop[1]);  // the compactors see end of file and stop
  for (pid_t p : compactors) EXPECT_EQ(wait_for(p), 0);
  prune(t.path(), 1000);
  Database db(t.path());
  EXPECT_EQ(db.all().size(), static_cast<size_t>(kWriters * kEach));
  EXPECT_EQ(db.report().skipped_lines, 0);
  EXPECT_EQ(record_files(t.path()).size(), 1u);
}

TEST(Merge, ImportsEveryRecordOnceAndLeavesTheOtherDatabaseAsItWas) {
  TempDir a, b;
  {
    Database da(a.path());
    da.append(record_of(kMatmul, 1e-3));
    Database db(b.path());
    db.append(record_of(kMatmul, 2e-3));
    db.append(record_of("conv2d:N=1", 2e-3));
  }
  const auto b_files = record_files(b.path());
  const CompactionResult m = merge(a.path(), b.path());
  EXPECT_EQ(m.records_before, 2);
  EXPECT_EQ(m.records_after, 2);
  EXPECT_EQ(record_files(b.path()), b_files);
  EXPECT_EQ(Database(a.path()).all().size(), 3u);
  const CompactionResult again = merge(a.path(), b.path());
  EXPECT_EQ(again.records_after, 0);
  EXPECT_EQ(again.compacted_file, "");
  EXPECT_EQ(ids_of(a.path()).size(), 3u);
}

TEST(Merge, ADirectoryThatIsNotADatabaseIsRefusedNamingIt) {
  TempDir a, b;
  const std::string message = test_support::message_of<DatabaseError>([&] {
                                merge(a.path(), b.file("nothing"));
                              }).value_or("(accepted)");
  EXPECT_NE(message.find(b.file("nothing") + "' is not an rctune database"), std::string::npos) << message;
}

}  // namespace
}  // namespace rctune::database
