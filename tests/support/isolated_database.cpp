// Every test process gets a tuning database of its own: `rctune tune` reads and writes the default
// database ($RCTUNE_DATABASE, else under the user's data directory), and a test must neither see
// what another test (or the user) tuned nor leave records behind. Set before main(), so every
// rctune the test starts inherits it; removed when the process ends. A test that wants a database
// names it with --database (or sets RCTUNE_DATABASE itself).
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace {

struct IsolatedDatabase {
  std::string dir;
  IsolatedDatabase() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/rctune-test-db-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    dir = pattern;
    setenv("RCTUNE_DATABASE", (dir + "/db").c_str(), 1);
  }
  ~IsolatedDatabase() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

const IsolatedDatabase isolated_database;

}  // namespace
