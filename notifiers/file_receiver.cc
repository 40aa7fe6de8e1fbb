#include "notifiers/file_receiver.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "notifiers/webhook.h"

namespace vigil::notifiers {

namespace {

std::mutex& write_mutex() {
  static std::mutex m;
  return m;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<Integration>> FileReceiver::create(const config::ConfigValue& settings) {
  auto f = std::make_unique<FileReceiver>();
  f->path_ = std::string(settings.str("path"));
  if (f->path_.empty()) return fail("file: path must be set (\"-\" writes to standard output)");
  return std::unique_ptr<Integration>(std::move(f));
}

AttemptResult FileReceiver::send(const Message& m) {
  std::string line = go_json(webhook_message(m.data));
  if (m.dry_run != nullptr) {
    m.dry_run->record(DryRunRequest{m.notification.integration, "APPEND", path_ == "-" ? "standard output" : path_, {}, line});
    return AttemptResult::success();
  }
  std::lock_guard lock(write_mutex());
  if (path_ == "-") {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
    return AttemptResult::success();
  }
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return AttemptResult::transient(fmt::format("open {}: {}", path_, std::strerror(errno)));
  bool ok = write_all(fd, line);
  int err = errno;
  ::close(fd);
  if (!ok) return AttemptResult::transient(fmt::format("write {}: {}", path_, std::strerror(err)));
  return AttemptResult::success();
}

}  // namespace vigil::notifiers
