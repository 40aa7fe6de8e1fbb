#include "routing/silence.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "model/file.h"
#include "model/names.h"
#include "routing/events.h"

namespace vigil::routing {

namespace {

constexpr uint64_t kFnvOffset = 14695981039346656037ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

uint64_t fnv(uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * kFnvPrime;
  return (h ^ 0xff) * kFnvPrime;
}

// The names and values of a silence's equality matchers, sorted by name.
std::vector<std::pair<std::string_view, std::string_view>> equalities(const Silence& s) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for (const Matcher& m : s.matchers)
    if (m.type() == MatchType::kEqual && !m.value().empty()) out.emplace_back(m.name(), m.value());
  std::sort(out.begin(), out.end());
  return out;
}

bool same_matchers(const Silence& a, const Silence& b) {
  return a.matchers == b.matchers;
}

MatchType match_type_from(std::string_view s) {
  if (s == "!=") return MatchType::kNotEqual;
  if (s == "=~") return MatchType::kRegex;
  if (s == "!~") return MatchType::kNotRegex;
  return MatchType::kEqual;
}

}  // namespace

std::string_view silence_state_string(SilenceState s) {
  switch (s) {
    case SilenceState::kExpired: return "expired";
    case SilenceState::kActive: return "active";
    case SilenceState::kPending: return "pending";
  }
  return "expired";
}

SilenceState Silence::state_at(Millis t) const {
  if (t < starts_at) return SilenceState::kPending;
  if (t > ends_at) return SilenceState::kExpired;
  return SilenceState::kActive;
}

bool Silence::matches(const Labels& ls) const {
  for (const Matcher& m : matchers)
    if (!m.matches(ls.get(m.name()))) return false;
  return true;
}

Silences::Silences(const Clock& clock, Millis retention, MatcherSyntax syntax)
    : clock_(clock), retention_(retention), syntax_(syntax) {}

Result<void> Silences::validate(const Silence& s) const {
  auto invalid = [](std::string msg) { return fail("invalid silence: " + msg); };
  if (s.matchers.empty()) return invalid("at least one matcher required");
  bool all_match_empty = true;
  for (size_t i = 0; i < s.matchers.size(); ++i) {
    const Matcher& m = s.matchers[i];
    if (!is_valid_label_name(m.name(), syntax_))
      return invalid(fmt::format("invalid label matcher {}: invalid label name {}", i, go_quote(m.name())));
    if ((m.type() == MatchType::kEqual || m.type() == MatchType::kNotEqual) && !is_valid_utf8(m.value()))
      return invalid(fmt::format("invalid label matcher {}: invalid label value {}", i, go_quote(m.value())));
    const bool matches_empty =
        (m.type() == MatchType::kEqual || m.type() == MatchType::kRegex) && m.matches("");
    all_match_empty = all_match_empty && matches_empty;
  }
  if (all_match_empty) return invalid("at least one matcher must not match the empty string");
  if (s.starts_at == 0) return invalid("invalid zero start timestamp");
  if (s.ends_at == 0) return invalid("invalid zero end timestamp");
  if (s.ends_at < s.starts_at) return invalid("end time must not be before start time");
  return {};
}

void Silences::index(const Silence& s) {
  auto eq = equalities(s);
  if (eq.empty()) {
    unindexed_.push_back(s.id);
    return;
  }
  std::vector<std::string> names;
  uint64_t key = kFnvOffset;
  for (const auto& [n, v] : eq) {
    names.emplace_back(n);
    key = fnv(key, v);
  }
  auto shape = std::find_if(shapes_.begin(), shapes_.end(), [&](const Shape& sh) { return sh.names == names; });
  if (shape == shapes_.end()) shape = shapes_.insert(shapes_.end(), Shape{std::move(names), {}, 0});
  shape->ids[key].push_back(s.id);
  ++shape->count;
}

void Silences::unindex(const Silence& s) {
  auto eq = equalities(s);
  if (eq.empty()) {
    std::erase(unindexed_, s.id);
    return;
  }
  uint64_t key = kFnvOffset;
  for (const auto& [n, v] : eq) key = fnv(key, v);
  for (auto sh = shapes_.begin(); sh != shapes_.end(); ++sh) {
    if (sh->names.size() != eq.size() ||
        !std::equal(sh->names.begin(), sh->names.end(), eq.begin(), [](const std::string& a, const auto& b) { return a == b.first; }))
      continue;
    auto it = sh->ids.find(key);
    if (it == sh->ids.end() || std::erase(it->second, s.id) == 0) continue;
    if (it->second.empty()) sh->ids.erase(it);
    if (--sh->count == 0) shapes_.erase(sh);
    return;
  }
}

void Silences::store(Silence s, RecordBatch* changes, bool merged) {
  if (observer_ && !merged) observer_(s);
  auto it = silences_.find(s.id);
  if (it != silences_.end()) {
    unindex(it->second.silence);
  } else {
    ++version_;
  }
  index(s);
  if (changes != nullptr && log_) {
    encode_silence(changes->begin(), s);
    changes->end();
  }
  Millis expires = s.ends_at + retention_;
  std::string id = s.id;
  silences_[id] = Entry{std::move(s), expires};
}

namespace {

// Protocol buffers' encoding sizes (proto3: zero values are left out).
size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
size_t bytes_field(size_t len) { return len == 0 ? 0 : 1 + varint_size(len) + len; }
size_t message_field(size_t len) { return 1 + varint_size(len) + len; }  // present even when empty
size_t int_field(int64_t v) { return v == 0 ? 0 : 1 + varint_size(static_cast<uint64_t>(v)); }

size_t timestamp_size(Millis t) {
  int64_t seconds = t >= 0 ? t / 1000 : -((-t + 999) / 1000);
  int64_t nanos = (t - seconds * 1000) * 1000000;
  return int_field(seconds) + int_field(nanos);
}

}  // namespace

size_t silence_wire_size(const Silence& s, Millis retention) {
  size_t sil = bytes_field(s.id.size());
  for (const Matcher& m : s.matchers) {
    int type = 0;  // EQUAL
    switch (m.type()) {
      case MatchType::kEqual: type = 0; break;
      case MatchType::kRegex: type = 1; break;
      case MatchType::kNotEqual: type = 2; break;
      case MatchType::kNotRegex: type = 3; break;
    }
    sil += message_field(int_field(type) + bytes_field(m.name().size()) + bytes_field(m.value().size()));
  }
  sil += message_field(timestamp_size(s.starts_at)) + message_field(timestamp_size(s.ends_at)) +
         message_field(timestamp_size(s.updated_at));
  sil += bytes_field(s.created_by.size()) + bytes_field(s.comment.size());
  // A map field: one entry message each, its key and value always written.
  for (const auto& [name, value] : s.annotations)
    sil += message_field(1 + varint_size(name.size()) + name.size() + 1 + varint_size(value.size()) + value.size());
  return message_field(sil) + message_field(timestamp_size(s.ends_at + retention));
}

void Silences::set_limits(SilenceLimits limits) {
  std::lock_guard lock(mu_);
  limits_ = limits;
}

Result<void> Silences::check_size(const Silence& s) const {
  if (limits_.max_silence_size_bytes == 0) return {};
  const size_t n = silence_wire_size(s, retention_);
  if (n > limits_.max_silence_size_bytes)
    return fail(fmt::format("silence exceeded maximum size: {} bytes (limit: {} bytes)", n,
                            limits_.max_silence_size_bytes));
  return {};
}

SilenceResult<std::string> Silences::set(Silence s) {
  auto refuse = [](const Error& e) {
    const auto kind = e.message == "silence not found" ? SilenceError::Kind::kNotFound : SilenceError::Kind::kInvalid;
    return std::unexpected(SilenceError{kind, e.message});
  };
  std::unique_lock lock(mu_);
  const Millis now = clock_.now();
  if (s.starts_at == 0) s.starts_at = now;
  if (auto ok = validate(s); !ok) return refuse(ok.error());
  auto prev = silences_.find(s.id);
  if (!s.id.empty() && prev == silences_.end()) return refuse(Error{"silence not found"});
  RecordBatch changes;
  if (prev != silences_.end()) {
    const Silence& p = prev->second.silence;
    // In place only when what and when it mutes stay as they are.
    bool can_update = same_matchers(p, s);
    switch (p.state_at(now)) {
      case SilenceState::kActive:
        can_update = can_update && p.starts_at / 1000 == s.starts_at / 1000 && s.ends_at >= now;
        break;
      case SilenceState::kPending:
        can_update = can_update && s.starts_at >= now;
        break;
      case SilenceState::kExpired:
        can_update = false;
    }
    if (can_update) {
      s.updated_at = now;
      if (auto ok = check_size(s); !ok) return refuse(ok.error());
      std::string id = s.id;
      std::optional<Silence> recorded;
      if (events_ != nullptr && events_->enabled()) recorded = s;
      store(std::move(s), &changes);
      if (auto r = commit(lock, changes); !r) return std::unexpected(r.error());
      if (recorded) events_->record(silence_updated_event(*recorded));
      return id;
    }
  }
  // A new silence, or one replacing another: it needs room.
  if (limits_.max_silences > 0 && silences_.size() + 1 > limits_.max_silences)
    return refuse(Error{fmt::format("exceeded maximum number of silences: {} (limit: {})", silences_.size(),
                                    limits_.max_silences)});
  std::string old_id = s.id;
  s.id = random_uuid();
  s.starts_at = std::max(s.starts_at, now);
  s.updated_at = now;
  if (auto ok = check_size(s); !ok) return refuse(ok.error());
  if (prev != silences_.end() && prev->second.silence.state_at(now) != SilenceState::kExpired)
    (void)expire_locked(old_id, now, &changes);
  std::string id = s.id;
  std::optional<Silence> recorded;
  if (events_ != nullptr && events_->enabled()) recorded = s;
  store(std::move(s), &changes);
  if (auto r = commit(lock, changes); !r) return std::unexpected(r.error());
  if (recorded) events_->record(silence_created_event(*recorded));
  return id;
}

Result<void> Silences::expire_locked(const std::string& id, Millis now, RecordBatch* changes) {
  auto it = silences_.find(id);
  if (it == silences_.end()) return fail("silence not found");
  Silence s = it->second.silence;
  switch (s.state_at(now)) {
    case SilenceState::kExpired: return {};
    case SilenceState::kActive: s.ends_at = now; break;
    case SilenceState::kPending: s.starts_at = s.ends_at = now; break;
  }
  s.updated_at = now;
  store(std::move(s), changes);
  return {};
}

SilenceResult<void> Silences::expire(std::string_view id) {
  std::unique_lock lock(mu_);
  RecordBatch changes;
  if (auto r = expire_locked(std::string(id), clock_.now(), &changes); !r)
    return std::unexpected(SilenceError{SilenceError::Kind::kNotFound, r.error().message});
  return commit(lock, changes);
}

void Silences::set_observer(std::function<void(const Silence&)> observer) {
  std::lock_guard lock(mu_);
  observer_ = std::move(observer);
}

SilenceResult<bool> Silences::merge(Silence s) {
  std::unique_lock lock(mu_);
  if (s.id.empty()) return std::unexpected(SilenceError{SilenceError::Kind::kInvalid, "invalid silence: no id"});
  if (auto ok = validate(s); !ok) return std::unexpected(SilenceError{SilenceError::Kind::kInvalid, ok.error().message});
  if (auto it = silences_.find(s.id); it != silences_.end() && it->second.silence.updated_at >= s.updated_at)
    return false;
  // Past its retention already: nothing to keep.
  if (s.ends_at + retention_ <= clock_.now()) return false;
  RecordBatch changes;
  store(std::move(s), &changes, true);
  if (auto r = commit(lock, changes); !r) return std::unexpected(r.error());
  return true;
}

SilenceResult<void> Silences::commit(std::unique_lock<std::mutex>& lock, const RecordBatch& changes) {
  if (!log_) return {};
  // Written in the order the changes were made (under the lock); synced
  // outside it, so that concurrent changes share a sync. An unchanged
  // silence still waits for the change before it (an expiry that another
  // request made and is syncing).
  uint64_t until = written_;
  if (!changes.empty()) {
    auto at = log_->write(changes.bytes());
    if (!at) return std::unexpected(SilenceError{SilenceError::Kind::kStorage, at.error().message});
    until = written_ = *at;
  }
  lock.unlock();
  if (auto r = log_->sync(until); !r)
    return std::unexpected(SilenceError{SilenceError::Kind::kStorage, r.error().message});
  return {};
}

std::optional<Silence> Silences::get(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = silences_.find(id);
  if (it == silences_.end()) return std::nullopt;
  return it->second.silence;
}

std::vector<Silence> Silences::list() const {
  std::lock_guard lock(mu_);
  std::vector<Silence> out;
  out.reserve(silences_.size());
  for (const auto& [id, e] : silences_) out.push_back(e.silence);
  return out;
}

size_t Silences::count(SilenceState state) const {
  std::lock_guard lock(mu_);
  const Millis now = clock_.now();
  return static_cast<size_t>(std::count_if(silences_.begin(), silences_.end(), [&](const auto& kv) {
    return kv.second.silence.state_at(now) == state;
  }));
}

uint64_t Silences::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

std::vector<std::string> Silences::mutes(const Labels& ls) const {
  std::lock_guard lock(mu_);
  const Millis now = clock_.now();
  std::vector<std::string> out;
  auto consider = [&](const std::string& id) {
    const Silence& s = silences_.find(id)->second.silence;
    if (s.state_at(now) == SilenceState::kActive && s.matches(ls)) out.push_back(id);
  };
  for (const Shape& sh : shapes_) {
    uint64_t key = kFnvOffset;
    for (const std::string& n : sh.names) key = fnv(key, ls.get(n));
    auto it = sh.ids.find(key);
    if (it != sh.ids.end())
      for (const std::string& id : it->second) consider(id);
  }
  for (const std::string& id : unindexed_) consider(id);
  std::sort(out.begin(), out.end());
  return out;
}

size_t Silences::gc() {
  std::lock_guard lock(mu_);
  const Millis now = clock_.now();
  size_t n = 0;
  for (auto it = silences_.begin(); it != silences_.end();) {
    if (it->second.expires_at <= now) {
      unindex(it->second.silence);
      it = silences_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

namespace {

// A silence as a record payload: a format byte, then its fields. Format 2
// adds the annotations after the comment; format 1 (no annotations) is
// still written when there are none.
constexpr uint8_t kSilenceRecord = 1;
constexpr uint8_t kSilenceRecordAnnotated = 2;

uint8_t match_type_code(MatchType t) {
  switch (t) {
    case MatchType::kEqual: return 0;
    case MatchType::kNotEqual: return 1;
    case MatchType::kRegex: return 2;
    case MatchType::kNotRegex: return 3;
  }
  return 0;
}

std::optional<MatchType> match_type_of(uint8_t code) {
  switch (code) {
    case 0: return MatchType::kEqual;
    case 1: return MatchType::kNotEqual;
    case 2: return MatchType::kRegex;
    case 3: return MatchType::kNotRegex;
  }
  return std::nullopt;
}

}  // namespace

void encode_silence(std::string& out, const Silence& s) {
  PayloadWriter w(out);
  w.put(s.annotations.empty() ? kSilenceRecord : kSilenceRecordAnnotated);
  w.put_string(s.id);
  w.put(static_cast<uint32_t>(s.matchers.size()));
  for (const Matcher& m : s.matchers) {
    w.put(match_type_code(m.type()));
    w.put_string(m.name());
    w.put_string(m.value());
  }
  w.put(static_cast<int64_t>(s.starts_at));
  w.put(static_cast<int64_t>(s.ends_at));
  w.put(static_cast<int64_t>(s.updated_at));
  w.put_string(s.created_by);
  w.put_string(s.comment);
  if (s.annotations.empty()) return;
  w.put(static_cast<uint32_t>(s.annotations.size()));
  for (const auto& [name, value] : s.annotations) {
    w.put_string(name);
    w.put_string(value);
  }
}

std::optional<Silence> decode_silence(std::string_view payload) {
  PayloadReader r(payload);
  uint8_t format = 0;
  uint32_t n = 0;
  Silence s;
  if (!r.get(format) || (format != kSilenceRecord && format != kSilenceRecordAnnotated) || !r.get_string(s.id) ||
      s.id.empty() || !r.get(n))
    return std::nullopt;
  for (uint32_t i = 0; i < n; ++i) {
    uint8_t code = 0;
    std::string name, value;
    if (!r.get(code) || !r.get_string(name) || !r.get_string(value)) return std::nullopt;
    auto type = match_type_of(code);
    if (!type) return std::nullopt;
    auto m = make_matcher(*type, std::move(name), std::move(value));
    if (!m) return std::nullopt;
    s.matchers.push_back(std::move(*m));
  }
  if (!r.get(s.starts_at) || !r.get(s.ends_at) || !r.get(s.updated_at) || !r.get_string(s.created_by) ||
      !r.get_string(s.comment))
    return std::nullopt;
  if (format == kSilenceRecordAnnotated) {
    if (!r.get(n) || n == 0) return std::nullopt;
    for (uint32_t i = 0; i < n; ++i) {
      std::string name, value;
      if (!r.get_string(name) || !r.get_string(value)) return std::nullopt;
      s.annotations.insert_or_assign(std::move(name), std::move(value));
    }
  }
  if (!r.done()) return std::nullopt;
  return s;
}

namespace {

// The silences.json of earlier versions.
Result<std::vector<Silence>> read_legacy_json(std::string_view text) {
  std::vector<Silence> out;
  try {
    nlohmann::json in = nlohmann::json::parse(text);
    for (const auto& j : in.at("silences")) {
      Silence s;
      s.id = j.at("id").get<std::string>();
      for (const auto& jm : j.at("matchers")) {
        auto m = make_matcher(match_type_from(jm.at("type").get<std::string>()), jm.at("name").get<std::string>(),
                              jm.at("value").get<std::string>());
        if (!m) return fail(fmt::format("silence {}: {}", s.id, m.error().message));
        s.matchers.push_back(std::move(*m));
      }
      s.starts_at = j.at("starts_at").get<Millis>();
      s.ends_at = j.at("ends_at").get<Millis>();
      s.updated_at = j.at("updated_at").get<Millis>();
      s.created_by = j.value("created_by", "");
      s.comment = j.value("comment", "");
      out.push_back(std::move(s));
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(e.what());
  }
  return out;
}

}  // namespace

Silences::~Silences() = default;

void Silences::replace_all(Map loaded) {
  std::lock_guard lock(mu_);
  silences_.clear();
  shapes_.clear();
  unindexed_.clear();
  for (auto& [id, e] : loaded) {
    index(e.silence);
    silences_[id] = std::move(e);
    ++version_;
  }
}

Silences::Opened Silences::open(const std::string& dir) {
  Opened out;
  const Millis now = clock_.now();
  Map loaded;
  auto keep = [&](Silence s) {
    const Millis expires = s.ends_at + retention_;
    std::string id = s.id;
    loaded[id] = Entry{std::move(s), expires};
  };
  // The silences.json of earlier versions: read, then replaced by the
  // record files once they hold its silences.
  const std::string legacy = dir + "/silences.json";
  bool migrate = false;
  auto damaged = restore_state_file(legacy, now,
                                    [&](std::string_view text) -> Result<void> {
                                      auto silences = read_legacy_json(text);
                                      if (!silences) return std::unexpected(silences.error());
                                      for (Silence& s : *silences) keep(std::move(s));
                                      migrate = true;
                                      return {};
                                    },
                                    "none of its silences is loaded");
  if (damaged) out.damage.push_back(std::move(*damaged));
  auto log = std::make_unique<RecordLog>(RecordLog::Options{dir, "silences", "VGSILN01", "", size_t{1} << 20});
  auto read = log->load(
      [&](std::string_view payload) {
        auto s = decode_silence(payload);
        if (!s) return false;
        keep(std::move(*s));
        return true;
      },
      now);
  out.damage.insert(out.damage.end(), read.damage.begin(), read.damage.end());
  // Forgotten: silences past their retention.
  std::erase_if(loaded, [now](const auto& kv) { return kv.second.expires_at <= now; });
  replace_all(std::move(loaded));
  log_ = std::move(log);
  if (read.needs_fold || migrate) {
    if (auto r = fold(); !r) {
      out.errors.push_back(r.error());
    } else if (migrate && ::unlink(legacy.c_str()) != 0 && errno != ENOENT) {
      out.errors.push_back(Error{os_error("remove", legacy)});
    }
  }
  return out;
}

bool Silences::wants_fold() const { return log_ && log_->wants_fold(); }

uint64_t Silences::syncs() const { return log_ ? log_->syncs() : 0; }

Result<void> Silences::fold() {
  if (!log_) return {};
  return log_->fold([this]() -> RecordLog::Producer {
    auto kept = std::make_shared<std::vector<Silence>>();
    {
      std::lock_guard lock(mu_);
      const Millis now = clock_.now();
      kept->reserve(silences_.size());
      for (const auto& [id, e] : silences_)
        if (e.expires_at > now) kept->push_back(e.silence);
    }
    return [kept, i = size_t{0}](RecordBatch& batch) mutable {
      for (size_t end = std::min(kept->size(), i + 4096); i < end; ++i) {
        encode_silence(batch.begin(), (*kept)[i]);
        batch.end();
      }
      return i < kept->size();
    };
  });
}

}  // namespace vigil::routing
