#include "routing/alert_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include <fmt/format.h>

#include "model/file.h"

namespace vigil::routing {

namespace {

constexpr std::string_view kMagic = "VGALRT01";  // every file starts with it
constexpr size_t kRecordHeader = 8;              // u32 length, u32 checksum
// Logs smaller than this are never folded in: compaction is not worth it.
constexpr size_t kMinCompaction = size_t{4} << 20;

// Tells a torn or damaged record from an intact one: a multiply-xor hash
// over eight bytes at a time (a record is hashed as it is written, at ingest
// speed).
uint32_t checksum(std::string_view s) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  uint64_t h = 0x6A09E667F3BCC908ULL ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  h = (h ^ tail) * kMul;
  h ^= h >> 32;
  return static_cast<uint32_t>(h);
}

// Reads a payload front to back; any read past the end fails the record.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  bool get(T& v) {
    if (in_.size() < sizeof(T)) return false;
    std::memcpy(&v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return true;
  }
  bool get_string(std::string& s) {
    uint32_t n = 0;
    if (!get(n) || in_.size() < n) return false;
    s.assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

void encode_alert_record(std::string& out, const Alert& a) {
  size_t len = 3 * sizeof(int64_t) + 1 + 4 + 4 + 4 + a.generator_url.size();
  for (const auto& l : a.labels) len += 8 + l.name.size() + l.value.size();
  for (const auto& l : a.annotations) len += 8 + l.name.size() + l.value.size();
  const size_t at = out.size();
  out.resize(at + kRecordHeader + len);
  char* p = out.data() + at + kRecordHeader;
  auto put = [&](const auto& v) {
    std::memcpy(p, &v, sizeof v);
    p += sizeof v;
  };
  auto put_string = [&](std::string_view s) {
    put(static_cast<uint32_t>(s.size()));
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  put(static_cast<int64_t>(a.starts_at));
  put(static_cast<int64_t>(a.ends_at));
  put(static_cast<int64_t>(a.updated_at));
  put(static_cast<uint8_t>(a.timeout ? 1 : 0));
  put(static_cast<uint32_t>(a.labels.size()));
  for (const auto& l : a.labels) {
    put_string(l.name);
    put_string(l.value);
  }
  put(static_cast<uint32_t>(a.annotations.size()));
  for (const auto& l : a.annotations) {
    put_string(l.name);
    put_string(l.value);
  }
  put_string(a.generator_url);
  const auto n = static_cast<uint32_t>(len);
  const uint32_t sum = checksum(std::string_view(out.data() + at + kRecordHeader, len));
  std::memcpy(out.data() + at, &n, 4);
  std::memcpy(out.data() + at + 4, &sum, 4);
}

std::optional<Alert> decode_alert_record(std::string_view& in) {
  if (in.size() < kRecordHeader) return std::nullopt;
  uint32_t len = 0, sum = 0;
  std::memcpy(&len, in.data(), 4);
  std::memcpy(&sum, in.data() + 4, 4);
  if (in.size() - kRecordHeader < len) return std::nullopt;
  std::string_view payload = in.substr(kRecordHeader, len);
  if (checksum(payload) != sum) return std::nullopt;
  Reader r(payload);
  Alert a;
  uint8_t timeout = 0;
  uint32_t n = 0;
  if (!r.get(a.starts_at) || !r.get(a.ends_at) || !r.get(a.updated_at) || !r.get(timeout) || !r.get(n))
    return std::nullopt;
  std::vector<Label> labels;
  for (uint32_t i = 0; i < n; ++i) {
    Label l;
    if (!r.get_string(l.name) || !r.get_string(l.value)) return std::nullopt;
    labels.push_back(std::move(l));
  }
  if (!r.get(n)) return std::nullopt;
  std::vector<Label> annotations;
  for (uint32_t i = 0; i < n; ++i) {
    Label l;
    if (!r.get_string(l.name) || !r.get_string(l.value)) return std::nullopt;
    annotations.push_back(std::move(l));
  }
  if (!r.get_string(a.generator_url) || !r.done()) return std::nullopt;
  a.labels = Labels(std::move(labels));
  a.annotations = Labels(std::move(annotations));
  a.timeout = timeout != 0;
  in.remove_prefix(kRecordHeader + len);
  return a;
}

AlertJournal::AlertJournal(std::string dir) : dir_(std::move(dir)) {}

AlertJournal::~AlertJournal() {
  if (fd_ >= 0) ::close(fd_);
}

Result<AlertJournal::Loaded> AlertJournal::load() {
  Loaded out;
  std::unordered_map<uint64_t, size_t> index;  // fingerprint -> position in out.alerts
  for (const char* name : {"alerts.snapshot", "alerts.log.1", "alerts.log"}) {
    const std::string path = dir_ + "/" + name;
    if (!std::filesystem::exists(path)) continue;
    auto text = read_file(path, size_t{1} << 40);
    if (!text) return std::unexpected(text.error());
    std::string_view in = *text;
    const bool snapshot = name == std::string_view("alerts.snapshot");
    if (snapshot) {
      std::lock_guard lock(mu_);
      snapshot_bytes_ = text->size();
    }
    if (in.empty() && !snapshot) continue;  // a log opened, nothing written yet
    if (!in.starts_with(kMagic)) {
      if (snapshot) return fail(fmt::format("{}: not an alert snapshot", path));
      out.warnings.push_back(fmt::format("{}: not an alert log, ignored", path));
      continue;
    }
    in.remove_prefix(kMagic.size());
    while (!in.empty()) {
      auto a = decode_alert_record(in);
      if (!a || !validate_alert(*a)) {
        if (snapshot) return fail(fmt::format("{}: unreadable record at byte {}", path, text->size() - in.size()));
        out.warnings.push_back(fmt::format("{}: the last {} bytes are not a whole record, ignored", path, in.size()));
        break;
      }
      const uint64_t fp = a->fingerprint();
      auto [it, fresh] = index.try_emplace(fp, out.alerts.size());
      if (fresh) {
        out.alerts.push_back(std::move(*a));
      } else if (a->updated_at >= out.alerts[it->second].updated_at) {
        out.alerts[it->second] = std::move(*a);
      }
    }
  }
  return out;
}

Result<void> AlertJournal::open_log_locked() {
  const std::string path = dir_ + "/alerts.log";
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) return fail(os_error("open", path));
  off_t size = ::lseek(fd_, 0, SEEK_END);
  if (size < 0) return fail(os_error("seek", path));
  log_bytes_ = static_cast<size_t>(size);
  if (log_bytes_ == 0) {
    if (auto r = write_all(fd_, kMagic, path); !r) return r;
    log_bytes_ = kMagic.size();
  }
  return {};
}

Result<void> AlertJournal::append(std::span<const std::shared_ptr<const Alert>> alerts) {
  if (alerts.empty()) return {};
  std::lock_guard lock(mu_);
  if (fd_ < 0) {
    if (auto r = open_log_locked(); !r) return r;
  }
  buf_.clear();
  for (const auto& a : alerts) encode_alert_record(buf_, *a);
  if (auto r = write_all(fd_, buf_, dir_ + "/alerts.log"); !r) return r;
  log_bytes_ += buf_.size();
  if (buf_.capacity() > (size_t{1} << 20)) std::string().swap(buf_);  // keep no large buffer around
  return {};
}

bool AlertJournal::wants_compaction() const {
  std::lock_guard lock(mu_);
  return log_bytes_ > std::max(kMinCompaction, snapshot_bytes_);
}

size_t AlertJournal::log_bytes() const {
  std::lock_guard lock(mu_);
  return log_bytes_;
}

Result<void> AlertJournal::compact(const std::function<std::vector<std::shared_ptr<const Alert>>()>& list) {
  const std::string log = dir_ + "/alerts.log", old = dir_ + "/alerts.log.1";
  std::vector<std::shared_ptr<const Alert>> alerts;
  {
    std::lock_guard lock(mu_);
    alerts = list();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    // Whatever an earlier, unfinished compaction left in alerts.log.1 is in
    // the store too, so in the snapshot about to be written.
    if (::rename(log.c_str(), old.c_str()) != 0 && errno != ENOENT) return fail(os_error("rename", log));
    if (auto r = open_log_locked(); !r) return r;
  }
  AtomicFileWriter w(dir_ + "/alerts.snapshot");
  std::string chunk(kMagic);
  size_t total = 0;
  for (const auto& a : alerts) {
    encode_alert_record(chunk, *a);
    if (chunk.size() >= (size_t{1} << 20)) {
      if (auto r = w.append(chunk); !r) return r;
      total += chunk.size();
      chunk.clear();
    }
  }
  total += chunk.size();
  if (auto r = w.append(chunk); !r) return r;
  if (auto r = w.commit(); !r) return r;
  if (::unlink(old.c_str()) != 0 && errno != ENOENT) return fail(os_error("remove", old));
  std::lock_guard lock(mu_);
  snapshot_bytes_ = total;
  return {};
}

}  // namespace vigil::routing
