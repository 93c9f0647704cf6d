#include "writer_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace rctune::runlog::detail {

namespace {

// The writer's lock: one byte far beyond any trace's end, so that no reader's or HDF5's byte-range
// lock meets it, and one more byte at kLockBase + 1 + pid that names the writer (fcntl's
// F_OFD_GETLK reports -1 as the pid of an OFD lock, but it reports where the lock lies).
constexpr off_t kLockBase = off_t{1} << 60;

bool set_lock(int fd, off_t start, short type) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = 1;
  while (::fcntl(fd, F_OFD_SETLK, &fl) != 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

}  // namespace

std::string busy_reason(int fd) {
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = kLockBase;
  fl.l_len = 1;
  if (::fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
    struct flock who {};
    who.l_type = F_WRLCK;
    who.l_whence = SEEK_SET;
    who.l_start = kLockBase + 1;
    who.l_len = 0;
    if (::fcntl(fd, F_OFD_GETLK, &who) == 0 && who.l_type != F_UNLCK && who.l_start > kLockBase)
      return "another run is writing it (pid " + std::to_string(who.l_start - kLockBase - 1) + ")";
    return "another run is writing it";
  }
  // HDF5's own lock (flock): a shared lock is refused while a process has the file open for writing
  // with HDF5 (an older rctune, h5py, ...). Readers hold shared locks and do not matter. A program
  // a writer has just started holds the lock too, until it executes (the writer's descriptor is
  // close-on-exec): wait for that (up to 5 s) before calling the file busy.
  for (int attempt = 0;; ++attempt) {
    if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
      ::flock(fd, LOCK_UN);
      return "";
    }
    if (errno != EWOULDBLOCK && errno != EINTR) return "";
    if (attempt >= 500) return "another process has it open for writing (HDF5's lock on it is held)";
    ::usleep(10000);
  }
}

WriterLock::WriterLock(int fd, const std::string& path, const std::string& what) : fd_(fd) {
  struct stat st {};
  const std::string busy = busy_reason(fd_);
  if (!busy.empty() || !set_lock(fd_, kLockBase, F_WRLCK) || ::fstat(fd_, &st) != 0) {
    const int e = errno;
    ::close(fd_);
    fd_ = -1;
    if (!busy.empty()) throw RunLogError(path, what + ": " + busy);
    if (e == EAGAIN || e == EACCES) throw RunLogError(path, what + ": another run is writing it");
    throw RunLogError(path, what + ": cannot lock it for writing: " + std::strerror(e));
  }
  // Best effort: the pid is only for the message of a refused writer.
  set_lock(fd_, kLockBase + 1 + ::getpid(), F_WRLCK);
  dev_ = st.st_dev;
  ino_ = st.st_ino;
}

WriterLock::WriterLock(WriterLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)), dev_(o.dev_), ino_(o.ino_) {}

WriterLock& WriterLock::operator=(WriterLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    dev_ = o.dev_;
    ino_ = o.ino_;
  }
  return *this;
}

WriterLock::~WriterLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

bool WriterLock::is(hid_t file) const {
  if (fd_ < 0) return false;
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) < 0 || handle == nullptr) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  struct stat st {};
  if (::fstat(*static_cast<int*>(handle), &st) != 0) return false;
  return st.st_dev == dev_ && st.st_ino == ino_;
}

int open_for_lock(const std::string& path, bool no_follow, const std::string& what) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK | (no_follow ? O_NOFOLLOW : 0));
  if (fd < 0) throw RunLogError(path, what + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw RunLogError(path, what + ": it is not a regular file");
  }
  return fd;
}

PathKind classify_path(const std::string& path, std::string* detail) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return PathKind::Missing;
    throw RunLogError(path, std::string("cannot inspect it: ") + std::strerror(errno));
  }
  if (S_ISLNK(st.st_mode)) return PathKind::Symlink;
  if (S_ISDIR(st.st_mode)) return PathKind::Directory;
  if (!S_ISREG(st.st_mode)) return PathKind::Special;
  // HDF5's signature at the start (rctune writes no user block), then rctune's root attribute.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) throw RunLogError(path, std::string("cannot inspect it: ") + std::strerror(errno));
  char sig[8] = {};
  const ssize_t n = ::pread(fd, sig, sizeof sig, 0);
  ::close(fd);
  if (n != 8 || std::memcmp(sig, "\211HDF\r\n\032\n", 8) != 0) {
    if (detail) *detail = "a file that is not an rctune trace";
    return PathKind::OtherFile;
  }
  Quiet quiet;
  Handle fapl = writer_access_plist();
  Handle f = open_file_no_inherit([&] { return H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()); });
  std::string format;
  bool trace = false;
  if (f.valid()) {
    try {
      trace = read_attr(f.get(), "format", format) && format == kFormatName;
    } catch (const std::exception&) {
      trace = false;
    }
  }
  if (!trace) {
    if (detail) *detail = "an HDF5 file that is not an rctune trace";
    return PathKind::OtherFile;
  }
  if (detail) {
    double start = 0, end = 0;
    try {
      read_attr(f.get(), "start_time", start);
      read_attr(f.get(), "end_time", end);
    } catch (const std::exception&) {
    }
    *detail = "the trace of a run started " +
              (start > 0 ? iso8601(start) : std::string("at an unknown time")) +
              (end > 0 ? ", finished " + iso8601(end) : ", not finished");
  }
  return PathKind::Trace;
}

Handle writer_access_plist() { return file_access_plist(); }

}  // namespace rctune::runlog::detail
