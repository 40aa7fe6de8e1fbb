#include "model/file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace vigil {

std::string os_error(std::string_view op, const std::string& path) {
  std::string why = std::strerror(errno);
  if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
  return fmt::format("{} {}: {}", op, path, why);
}

Result<void> write_all(int fd, std::string_view data, const std::string& path) {
  for (size_t done = 0; done < data.size();) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(os_error("write", path));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace

Result<std::string> read_file(const std::string& path, size_t max_size) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return fail(os_error("open", path));
  std::string data;
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
      static_cast<size_t>(st.st_size) < max_size)
    data.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(os_error("read", path));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > max_size)
      return fail(fmt::format("read {}: file larger than {} bytes", path, max_size));
  }
  return data;
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp.XXXXXX") {
  fd_ = ::mkstemp(tmp_.data());
  if (fd_ < 0) error_ = os_error("create", tmp_);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

Result<void> AtomicFileWriter::append(std::string_view data) {
  if (!error_.empty()) return fail(error_);
  if (auto r = write_all(fd_, data, tmp_); !r) {
    error_ = r.error().message;
    return r;
  }
  return {};
}

Result<void> AtomicFileWriter::commit() {
  if (!error_.empty()) return fail(error_);
  auto abandon = [&](std::string msg) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    ::unlink(tmp_.c_str());
    error_ = msg;
    return fail(std::move(msg));
  };
  if (::fchmod(fd_, 0644) != 0) return abandon(os_error("chmod", tmp_));
  if (::fsync(fd_) != 0) return abandon(os_error("sync", tmp_));
  int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) return abandon(os_error("close", tmp_));
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) return abandon(os_error("rename", tmp_));
  // The rename itself is durable only once the directory is.
  const size_t slash = path_.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() < 0 || ::fsync(dfd.get()) != 0) return fail(os_error("sync", dir));
  return {};
}

Result<void> write_file_atomic(const std::string& path, std::string_view content) {
  AtomicFileWriter w(path);
  if (auto r = w.append(content); !r) return r;
  return w.commit();
}

Result<DirectoryLock> DirectoryLock::acquire(const std::string& dir) {
  const std::string path = dir + "/lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fail(os_error("open", path));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder;
    char buf[32] = {0};
    if (::pread(fd, buf, sizeof buf - 1, 0) > 0) {
      holder = buf;
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    }
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return fail("storage path " + dir + " is in use by another process" +
                  (holder.empty() ? std::string() : " (pid " + holder + ")") + ": " + path + " is locked");
    }
    errno = err;
    return fail(os_error("lock", path));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock holds either way; the PID is only for the message above.
  }
  DirectoryLock l;
  l.fd_ = fd;
  return l;
}

DirectoryLock::DirectoryLock(DirectoryLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}

DirectoryLock& DirectoryLock::operator=(DirectoryLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace vigil
