#include "model/record_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "model/file.h"

namespace vigil {

namespace {

constexpr std::string_view kMarker("\xF5VRC", 4);  // 0xF5 never appears in UTF-8 text
constexpr size_t kHeader = 12;                      // marker, u32 length, u32 checksum
constexpr size_t kLegacyHeader = 8;                 // u32 length, u32 checksum
constexpr size_t kMagicSize = 8;

// Tells a torn or damaged record from an intact one: a multiply-xor hash
// over eight bytes at a time, seeded with the length (records are hashed as
// they are written, at ingest speed).
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

uint32_t u32_at(std::string_view data, size_t at) {
  uint32_t v;
  std::memcpy(&v, data.data() + at, 4);
  return v;
}

// The intact record at `at`, if there is one: its payload and where the
// next record starts.
bool record_at(std::string_view data, size_t at, bool legacy, std::string_view* payload, size_t* next) {
  const size_t header = legacy ? kLegacyHeader : kHeader;
  if (data.size() - at < header) return false;
  if (!legacy && data.substr(at, 4) != kMarker) return false;
  const size_t fields = legacy ? at : at + 4;
  const uint32_t len = u32_at(data, fields);
  if (data.size() - at - header < len) return false;
  *payload = data.substr(at + header, len);
  if (checksum(*payload) != u32_at(data, fields + 4)) return false;
  *next = at + header + len;
  return true;
}

Result<void> sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(os_error("open", dir));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return fail(os_error("sync", dir));
  return {};
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

}  // namespace

std::string& RecordBatch::begin() {
  open_ = buf_.size();
  buf_.append(kHeader, '\0');
  return buf_;
}

void RecordBatch::end() {
  const size_t len = buf_.size() - open_ - kHeader;
  const auto n = static_cast<uint32_t>(len);
  const uint32_t sum = checksum(std::string_view(buf_).substr(open_ + kHeader, len));
  char* p = buf_.data() + open_;
  std::memcpy(p, kMarker.data(), 4);
  std::memcpy(p + 4, &n, 4);
  std::memcpy(p + 8, &sum, 4);
  open_ = std::string::npos;
  ++count_;
}

void RecordBatch::clear() {
  buf_.clear();
  open_ = std::string::npos;
  count_ = 0;
}

struct RecordLog::File {
  int fd = -1;
  std::string path;
  ~File() {
    if (fd >= 0) ::close(fd);
  }
};

RecordLog::RecordLog(Options opts) : opts_(std::move(opts)) {}

RecordLog::~RecordLog() = default;

std::string RecordLog::path(std::string_view suffix) const {
  return fmt::format("{}/{}{}", opts_.dir, opts_.name, suffix);
}

RecordLog::Loaded RecordLog::load(const ApplyFn& apply, Millis now) {
  Loaded out;
  // Temporary snapshots of folds that never committed.
  if (DIR* d = ::opendir(opts_.dir.c_str())) {
    const std::string prefix = opts_.name + ".snapshot.tmp.";
    while (const dirent* e = ::readdir(d)) {
      if (std::string_view(e->d_name).starts_with(prefix)) ::unlink((opts_.dir + "/" + e->d_name).c_str());
    }
    ::closedir(d);
  }
  for (std::string_view suffix : {".snapshot", ".log.1", ".log"}) {
    const std::string file = path(suffix);
    if (!exists(file)) continue;
    const bool snapshot = suffix == ".snapshot";
    const bool live_log = suffix == ".log";
    if (suffix == ".log.1") out.needs_fold = true;  // a fold was cut short
    const size_t first_damage = out.damage.size();
    auto damaged = [&](uint64_t begin, uint64_t end, std::string what) {
      out.damage.push_back(StateDamage{file, begin, end, std::move(what), ""});
    };
    auto text = read_file(file, size_t{1} << 40);
    if (!text) {
      damaged(0, 0, fmt::format("{}: cannot be read, ignored: {}", file, text.error().message));
      out.needs_fold = true;
      continue;
    }
    std::string_view data = *text;
    bool legacy = false;
    if (data.empty() && !snapshot) continue;  // created, nothing written yet
    if (data.size() >= kMagicSize && data.substr(0, kMagicSize) == opts_.magic) {
      // ours
    } else if (!opts_.legacy_magic.empty() && data.size() >= kMagicSize &&
               data.substr(0, kMagicSize) == opts_.legacy_magic) {
      legacy = true;
      out.needs_fold = true;  // rewritten in the current format
    } else if (data.empty()) {
      damaged(0, 0, fmt::format("{}: empty", file));
    } else {
      damaged(0, data.size(),
              fmt::format("{}: does not start with {} (not written by this version of vigil), none of its {} "
                          "bytes read",
                          file, opts_.magic, data.size()));
    }
    size_t at = out.damage.size() == first_damage ? kMagicSize : data.size();
    while (at < data.size()) {
      std::string_view payload;
      size_t next = 0;
      if (record_at(data, at, legacy, &payload, &next)) {
        if (apply(payload)) {
          ++out.records;
        } else {
          damaged(at, next,
                  fmt::format("{}: the record of {} bytes at offset {} is intact but not a readable {} record, "
                              "skipped",
                              file, next - at, at, opts_.name));
        }
        at = next;
        continue;
      }
      // Find the next intact record; what lies before it is lost.
      size_t resume = std::string_view::npos;
      for (size_t q = at + 1; !legacy && (q = data.find(kMarker, q)) != std::string_view::npos; ++q) {
        if (record_at(data, q, false, &payload, &next)) {
          resume = q;
          break;
        }
      }
      if (resume == std::string_view::npos) {
        damaged(at, data.size(),
                fmt::format("{}: the last {} bytes (from offset {}) are not a whole record (a write cut short, or "
                            "damage), dropped",
                            file, data.size() - at, at));
        break;
      }
      damaged(at, resume,
              fmt::format("{}: {} damaged bytes at offset {} skipped, reading resumed at the next intact record",
                          file, resume - at, at));
      at = resume;
    }
    if (out.damage.size() == first_damage) {
      std::lock_guard lock(mu_);
      if (snapshot) snapshot_bytes_ = data.size();
      if (live_log) log_bytes_ = data.size();
      continue;
    }
    out.needs_fold = true;  // the fold replaces the damaged file
    // A record cut short at the end of the live log is a write that never
    // finished (never acknowledged): reported, not kept. Any other damage is
    // kept beside the file for a post-mortem; the file itself stays where
    // it is until the fold has the state it held safely elsewhere.
    const StateDamage& last = out.damage.back();
    const bool torn_tail = live_log && out.damage.size() == first_damage + 1 && last.end == data.size() &&
                           last.begin >= kMagicSize;
    if (torn_tail) continue;
    auto aside = set_aside(file, now, true);
    for (size_t i = first_damage; i < out.damage.size(); ++i) {
      if (aside) {
        out.damage[i].moved_to = *aside;
      } else {
        out.damage[i].what += fmt::format(" (no copy kept: {})", aside.error().message);
      }
    }
  }
  return out;
}

Result<void> RecordLog::open_locked() {
  const std::string file = path(".log");
  auto f = std::make_shared<File>();
  f->path = file;
  f->fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (f->fd < 0) return fail(os_error("open", file));
  const off_t size = ::lseek(f->fd, 0, SEEK_END);
  if (size < 0) return fail(os_error("seek", file));
  if (size == 0) {
    if (auto r = write_all(f->fd, opts_.magic, file); !r) return r;
    // The new file itself must survive a crash, not only what it holds.
    if (::fdatasync(f->fd) != 0) return fail(os_error("sync", file));
    if (auto r = sync_dir(opts_.dir); !r) return r;
    log_bytes_ = opts_.magic.size();
  } else {
    char magic[kMagicSize] = {};
    if (::pread(f->fd, magic, kMagicSize, 0) != static_cast<ssize_t>(kMagicSize) ||
        std::string_view(magic, kMagicSize) != opts_.magic)
      return fail(fmt::format("{}: not written in this format; it must be folded before records are added", file));
    log_bytes_ = static_cast<size_t>(size);
  }
  file_ = std::move(f);
  return {};
}

void RecordLog::mark_broken_locked(const std::string& why) {
  broken_ = fmt::format("{} (no record is written until the state is rewritten)", why);
  ++breaks_;
}

Result<uint64_t> RecordLog::write(std::string_view records) {
  std::lock_guard lock(mu_);
  if (broken_) return fail(*broken_);
  if (!file_) {
    if (auto r = open_locked(); !r) return std::unexpected(r.error());
  }
  if (auto r = write_all(file_->fd, records, file_->path); !r) {
    // Part of the records may be in the file: what follows would come after
    // a damaged stretch.
    mark_broken_locked(r.error().message);
    return std::unexpected(r.error());
  }
  written_ += records.size();
  log_bytes_ += records.size();
  return written_;
}

Result<void> RecordLog::sync(uint64_t position) {
  std::unique_lock lock(sync_mu_);
  while (true) {
    if (position > failed_from_ && position <= failed_upto_) return fail(sync_error_);
    if (durable_ >= position) return {};
    if (syncing_) {
      sync_cv_.wait(lock);
      continue;
    }
    // Lead: one fdatasync for everything written so far, by anyone.
    syncing_ = true;
    const uint64_t from = durable_;
    lock.unlock();
    std::shared_ptr<File> f;
    uint64_t upto = 0;
    {
      std::lock_guard l(mu_);
      f = file_;
      upto = written_;
    }
    std::string err;
    if (f && ::fdatasync(f->fd) != 0) err = os_error("sync", f->path);
    if (!err.empty()) {
      std::lock_guard l(mu_);
      mark_broken_locked(err);
    }
    lock.lock();
    syncing_ = false;
    ++syncs_;
    if (err.empty()) {
      durable_ = std::max(durable_, upto);
    } else {
      failed_from_ = from;
      failed_upto_ = upto;
      sync_error_ = err;
    }
    sync_cv_.notify_all();
  }
}

Result<void> RecordLog::append(std::string_view records) {
  auto at = write(records);
  if (!at) return std::unexpected(at.error());
  return sync(*at);
}

bool RecordLog::wants_fold() const {
  std::lock_guard lock(mu_);
  return broken_.has_value() || log_bytes_ > std::max(opts_.min_fold_bytes, snapshot_bytes_);
}

Result<void> RecordLog::rotate_locked() {
  if (file_) {
    // Whoever waits for records in the old file is released by this sync:
    // later leaders sync the new file only.
    uint64_t from = 0;
    {
      std::lock_guard l(sync_mu_);
      from = durable_;
    }
    if (from < written_) {
      std::string err;
      if (::fdatasync(file_->fd) != 0) {
        err = os_error("sync", file_->path);
        mark_broken_locked(err);
      }
      std::lock_guard l(sync_mu_);
      ++syncs_;
      if (err.empty()) {
        durable_ = std::max(durable_, written_);
      } else {
        failed_from_ = from;
        failed_upto_ = written_;
        sync_error_ = err;
      }
      sync_cv_.notify_all();
    }
    file_.reset();
  }
  const std::string log = path(".log"), old = path(".log.1");
  if (::rename(log.c_str(), old.c_str()) != 0 && errno != ENOENT) return fail(os_error("rename", log));
  log_bytes_ = 0;
  return open_locked();
}

Result<void> RecordLog::fold_once(const Capture& capture, bool rotate) {
  uint64_t breaks = 0;
  if (rotate) {
    std::lock_guard lock(mu_);
    breaks = breaks_;
    if (auto r = rotate_locked(); !r) return r;
  }
  Producer next = capture();
  AtomicFileWriter w(path(".snapshot"));
  size_t total = opts_.magic.size();
  if (auto r = w.append(opts_.magic); !r) return r;
  RecordBatch batch;
  for (bool more = true; more;) {
    batch.clear();
    more = next(batch);
    if (batch.empty()) continue;
    if (auto r = w.append(batch.bytes()); !r) return r;
    total += batch.bytes().size();
  }
  if (auto r = w.commit(); !r) return r;
  const std::string old = path(".log.1");
  if (::unlink(old.c_str()) != 0 && errno != ENOENT) return fail(os_error("remove", old));
  std::lock_guard lock(mu_);
  snapshot_bytes_ = total;
  // The state is safe in the snapshot and the log is fresh: writes may
  // resume, unless they failed again since the rotation.
  if (rotate && breaks_ == breaks) broken_.reset();
  return {};
}

Result<void> RecordLog::fold(const Capture& capture) {
  std::lock_guard lock(fold_mu_);
  if (exists(path(".log.1"))) {
    if (auto r = fold_once(capture, false); !r) return r;
  }
  return fold_once(capture, true);
}

size_t RecordLog::log_bytes() const {
  std::lock_guard lock(mu_);
  return log_bytes_;
}

size_t RecordLog::snapshot_bytes() const {
  std::lock_guard lock(mu_);
  return snapshot_bytes_;
}

uint64_t RecordLog::syncs() const {
  std::lock_guard lock(sync_mu_);
  return syncs_;
}

void put_labels(PayloadWriter& w, const Labels& ls) {
  w.put(static_cast<uint32_t>(ls.size()));
  for (const LabelView l : ls) {
    w.put_string(l.name);
    w.put_string(l.value);
  }
}

bool get_labels(PayloadReader& r, Labels& out) {
  uint32_t n = 0;
  if (!r.get(n)) return false;
  std::vector<Label> ls;
  ls.reserve(std::min<uint32_t>(n, 1024));
  for (uint32_t i = 0; i < n; ++i) {
    Label l;
    if (!r.get_string(l.name) || !r.get_string(l.value)) return false;
    ls.push_back(std::move(l));
  }
  out = Labels(ls);
  return true;
}

}  // namespace vigil
