// An exclusive flock() on a file, held for the lifetime of the object: the kernel cache's build
// lock (jit_compiler.cpp) and the node-local measurement lock (measurer.cpp).
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "rctune/runtime/environment_error.h"

namespace rctune::runtime {

class FileLock {
 public:
  enum class Mode {
    BestEffort,  // a file that cannot be opened or locked: no lock, no error
    Required,    // ... throws EnvironmentError naming the file and the cause
  };

  // An empty path holds nothing.
  FileLock(const std::string& path, Mode mode) {
    if (path.empty()) return;
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      if (mode == Mode::Required)
        throw EnvironmentError("cannot open the lock file '" + path + "': " + std::strerror(errno));
      return;
    }
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd_);
      fd_ = -1;
      if (mode == Mode::Required) throw EnvironmentError("cannot lock the lock file '" + path + "': " + why);
      return;
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace rctune::runtime
