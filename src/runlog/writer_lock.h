// Internal to the trace module: who may write a trace file, and what a path holds before rctune
// writes there.
//
// A RunWriter holds a WriterLock on its trace from the moment it creates or opens the file until it
// is destroyed: an open file description locked with an OFD lock (fcntl F_OFD_SETLK), which lives
// through the writer's close-and-reopen of the file at every commit (HDF5's own flock() lock does
// not: it is dropped at each reopen, and a second writer could open the file in that moment). The
// two locks do not meet: on Linux, flock() and fcntl() locks are independent. A second writer (a run started
// with the same --out, a resume, a --force) meets the lock and is refused before it changes a byte. The lock
// also records the writer's pid, so that the refusal can say which process writes the file.
#pragma once

#include <sys/types.h>

#include <string>

#include "h5util.h"

namespace rctune::runlog::detail {

class WriterLock {
 public:
  WriterLock() = default;
  // Takes the lock on `fd` (which this object then owns; opened read-write, close-on-exec). Throws
  // RunLogError naming `path`, `what` was being done and the writing process when another writer
  // holds it.
  WriterLock(int fd, const std::string& path, const std::string& what);
  WriterLock(WriterLock&& o) noexcept;
  WriterLock& operator=(WriterLock&& o) noexcept;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  ~WriterLock();
  bool held() const { return fd_ >= 0; }
  // Whether the HDF5 file `file` is the locked file (the same inode), i.e. the path still names
  // the file this writer locked and nobody replaced it in between.
  bool is(hid_t file) const;
  bool is_inode(dev_t dev, ino_t ino) const { return fd_ >= 0 && dev == dev_ && ino == ino_; }

 private:
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

// Opens `path` read-write for a WriterLock (close-on-exec; O_NOFOLLOW when `no_follow`). Throws
// RunLogError naming the file and the system's reason.
int open_for_lock(const std::string& path, bool no_follow, const std::string& what);

// "" when no process writes `fd`'s file; otherwise why it is busy, for a message: "another run is
// writing it (pid 1234)" (an rctune writer's lock), or "another process has it open for writing"
// (HDF5's lock of a program that is not rctune, or of an older rctune).
std::string busy_reason(int fd);

// What an existing path holds, for the decision to write there.
enum class PathKind { Missing, Trace, OtherFile, Directory, Symlink, Special };
// `detail` receives a description for a message ("a file that is not an rctune trace", "a trace
// of another run, started 2026-...").
PathKind classify_path(const std::string& path, std::string* detail);

// Property list for a writer's H5Fopen/H5Fcreate: the trace's formats with HDF5's own locking as
// for every other open of the file (HDF5 refuses to open a file twice in one process with
// different locking flags).
Handle writer_access_plist();

}  // namespace rctune::runlog::detail
