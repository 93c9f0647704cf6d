// Every test gets a tuning database of its own: `rctune tune` reads and writes the default database
// ($RCTUNE_DATABASE, else under the user's data directory), and a test must neither see what
// another test (or the user) tuned nor leave records behind. A directory is made before main();
// before each test starts, RCTUNE_DATABASE names a fresh database in it, so every rctune the test
// starts inherits it (tests run one after another in one process see nothing of each other). The
// directory is removed when the process ends. A test that wants a database names it with
// --database (or sets RCTUNE_DATABASE itself).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace {

class IsolatedDatabase : public ::testing::EmptyTestEventListener {
 public:
  IsolatedDatabase() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/rctune-test-db-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    dir_ = pattern;
    next();
  }
  ~IsolatedDatabase() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void OnTestStart(const ::testing::TestInfo&) override { next(); }

 private:
  void next() { setenv("RCTUNE_DATABASE", (dir_ + "/db" + std::to_string(++count_)).c_str(), 1); }
  std::string dir_;
  int count_ = 0;
};

// Owned by gtest's listener list once appended; the directory outlives every test.
IsolatedDatabase* const isolated_database = [] {
  auto* d = new IsolatedDatabase;
  ::testing::UnitTest::GetInstance()->listeners().Append(d);
  return d;
}();

}  // namespace
