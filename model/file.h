#pragma once

#include <string>
#include <string_view>

#include "model/error.h"

namespace vigil {

// By default, files larger than this are refused rather than read into memory
// (which also guards against endless inputs such as a FIFO or /dev/zero).
inline constexpr size_t kMaxReadFileSize = size_t{256} << 20;

// Reads a whole file of at most max_size bytes. Errors are worded like Go's
// os.ReadFile: "open PATH: no such file or directory", "read PATH: is a directory".
Result<std::string> read_file(const std::string& path, size_t max_size = kMaxReadFileSize);

// "OP PATH: why" for the errno just set, worded like Go's os errors
// ("open data/x: no such file or directory").
std::string os_error(std::string_view op, const std::string& path);

// Writes all of `data` to `fd` (retrying short writes and EINTR); `path`
// names the file in the error.
Result<void> write_all(int fd, std::string_view data, const std::string& path);

// Replaces `path` with `content` so that a crash leaves either the old or the
// new file, never a torn one: the content goes to a temporary file in the
// same directory, is fsynced, renamed over `path`, and the directory fsynced.
Result<void> write_file_atomic(const std::string& path, std::string_view content);

// The same, written piece by piece (a large snapshot need not be held in
// memory whole): append() as often as needed, then commit(). A writer
// destroyed without a successful commit() leaves `path` as it was.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  Result<void> append(std::string_view data);
  Result<void> commit();

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  std::string error_;  // the first failure; later calls repeat it
};

// An exclusive lock on a folder for the life of this object: a lock file
// ("lock", holding the holder's process ID) locked with flock, so the lock
// dies with the process, even after kill -9, and no stale lock outlives it.
class DirectoryLock {
 public:
  // Fails at once (never waits) when another process holds the folder,
  // naming the folder and the holder's PID.
  static Result<DirectoryLock> acquire(const std::string& dir);
  DirectoryLock() = default;
  DirectoryLock(DirectoryLock&& o) noexcept;
  DirectoryLock& operator=(DirectoryLock&& o) noexcept;
  ~DirectoryLock();

 private:
  int fd_ = -1;
};

}  // namespace vigil
