#include "rctune/config/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace rctune::config {

namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& what, const std::string& reason) {
  throw ConfigError(path, 0, 0, "", "cannot read " + what + ": " + reason);
}

std::string kind_of(const struct stat& st) {
  if (S_ISDIR(st.st_mode)) return "it is a directory";
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "it is a device, not a regular file";
  if (S_ISFIFO(st.st_mode)) return "it is a FIFO (named pipe), not a regular file";
  if (S_ISSOCK(st.st_mode)) return "it is a socket, not a regular file";
  return "it is not a regular file";
}

std::string too_large(std::uintmax_t size, std::uintmax_t max_bytes, bool at_least) {
  return std::string("it is ") + (at_least ? "more than " : "") + std::to_string(size) + " bytes (" +
         describe_size(size) + "); rctune reads input files of at most " + std::to_string(max_bytes) +
         " bytes (" + describe_size(max_bytes) + ")";
}

// Opens `path` for reading without blocking (a FIFO without a writer would block) and checks that
// it is a regular file no larger than max_bytes.
int open_regular(const std::string& path, const std::string& what, std::uintmax_t max_bytes) {
  if (path.empty()) refuse("\"\"", what, "the path is empty");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    const int e = errno;
    refuse(path, what, std::strerror(e));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    refuse(path, what, std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    refuse(path, what, kind_of(st));
  }
  if (static_cast<std::uintmax_t>(st.st_size) > max_bytes) {
    ::close(fd);
    refuse(path, what, too_large(static_cast<std::uintmax_t>(st.st_size), max_bytes, false));
  }
  return fd;
}

}  // namespace

std::string describe_size(std::uintmax_t bytes) {
  char buf[64];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof buf, "%ju bytes", bytes);
  } else if (bytes % (std::uintmax_t{1} << 20) == 0) {
    std::snprintf(buf, sizeof buf, "%ju MiB", bytes >> 20);
  } else if (bytes < (std::uintmax_t{1} << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  }
  return buf;
}

std::string read_input_file(const std::string& path, const std::string& what, std::uintmax_t max_bytes) {
  const int fd = open_regular(path, what, max_bytes);
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      refuse(path, what, std::strerror(e));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > max_bytes) {  // the file grew while it was read
      ::close(fd);
      refuse(path, what, too_large(max_bytes, max_bytes, true));
    }
  }
  ::close(fd);
  return text;
}

void check_input_file(const std::string& path, const std::string& what) {
  const int fd = open_regular(path, what, UINTMAX_MAX);
  ::close(fd);
}

}  // namespace rctune::config
