#include "routing/nflog.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "model/file.h"

namespace vigil::routing {

std::string_view notify_reason_string(NotifyReason r) {
  switch (r) {
    case NotifyReason::kNone: return "none";
    case NotifyReason::kFirstNotification: return "first notification";
    case NotifyReason::kNewAlertsInGroup: return "new alerts added";
    case NotifyReason::kNewResolvedAlerts: return "some alerts resolved";
    case NotifyReason::kAllAlertsResolved: return "all alerts resolved";
    case NotifyReason::kRepeatIntervalElapsed: return "repeat interval elapsed";
  }
  return "unknown";
}

namespace {

bool subset(const std::unordered_set<uint64_t>& sub, const std::vector<uint64_t>& sorted) {
  for (uint64_t h : sub)
    if (!std::binary_search(sorted.begin(), sorted.end(), h)) return false;
  return true;
}

}  // namespace

NotifyReason needs_update(const NflogEntry* last, const std::unordered_set<uint64_t>& firing,
                          const std::unordered_set<uint64_t>& resolved, bool send_resolved,
                          Millis repeat_interval, Millis now) {
  if (last == nullptr) return firing.empty() ? NotifyReason::kNone : NotifyReason::kFirstNotification;
  if (!subset(firing, last->firing))
    return last->firing.empty() ? NotifyReason::kFirstNotification : NotifyReason::kNewAlertsInGroup;
  // All resolved: sent whatever send_resolved says, so that the log forgets
  // the firing alerts; unless the receiver never heard of them.
  if (firing.empty())
    return last->firing.empty() ? NotifyReason::kNone : NotifyReason::kAllAlertsResolved;
  if (send_resolved && !subset(resolved, last->resolved)) return NotifyReason::kNewResolvedAlerts;
  if (last->timestamp < now - repeat_interval) return NotifyReason::kRepeatIntervalElapsed;
  return NotifyReason::kNone;
}

std::string ReceiverStore::get(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = data_.find(key);
  return it == data_.end() ? std::string() : it->second;
}

void ReceiverStore::set(std::string_view key, std::string value) {
  std::lock_guard lock(mu_);
  data_.insert_or_assign(std::string(key), std::move(value));
}

ReceiverData ReceiverStore::data() const {
  std::lock_guard lock(mu_);
  return data_;
}

NotificationLog::NotificationLog(const Clock& clock, Millis retention)
    : clock_(clock), retention_(retention) {}

std::string NotificationLog::key(std::string_view group_key, const IntegrationRef& r) {
  return fmt::format("{}:{}/{}/{}", group_key, r.receiver, r.integration, r.index);
}

std::optional<NflogEntry> NotificationLog::query(std::string_view group_key, const IntegrationRef& r) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key(group_key, r));
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

NflogEntry NotificationLog::log(const IntegrationRef& r, std::string_view group_key, std::vector<uint64_t> firing,
                                std::vector<uint64_t> resolved, Millis expiry, ReceiverData data) {
  std::lock_guard lock(mu_);
  const Millis now = clock_.now();
  std::string k = key(group_key, r);
  auto it = entries_.find(k);
  // Never overwrite a newer entry (a clock that went backwards).
  if (it != entries_.end() && it->second.timestamp > now) return it->second;
  std::sort(firing.begin(), firing.end());
  std::sort(resolved.begin(), resolved.end());
  Millis expires = now + (expiry > 0 && retention_ > expiry ? expiry : retention_);
  const int64_t revision = it != entries_.end() ? it->second.revision : 0;
  NflogEntry& e = entries_[k] = NflogEntry{std::string(group_key), r, now, std::move(firing), std::move(resolved),
                                           expires, std::move(data), revision};
  ++version_;
  return e;
}

void NotificationLog::adopt(std::string_view group_key, const IntegrationRef& r, const NflogEntry* e,
                            int64_t revision) {
  std::lock_guard lock(mu_);
  std::string k = key(group_key, r);
  auto it = entries_.find(k);
  if (e != nullptr && (it == entries_.end() || it->second.timestamp <= e->timestamp)) {
    NflogEntry copy = *e;
    copy.group_key = std::string(group_key);
    copy.receiver = r;
    copy.revision = revision;
    entries_[k] = std::move(copy);
    ++version_;
  } else if (it != entries_.end()) {
    it->second.revision = revision;
  }
}

uint64_t NotificationLog::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

size_t NotificationLog::gc() {
  std::lock_guard lock(mu_);
  const Millis now = clock_.now();
  size_t n = std::erase_if(entries_, [&](const auto& kv) { return kv.second.expires_at <= now; });
  if (n > 0) ++version_;
  return n;
}

size_t NotificationLog::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

namespace {

nlohmann::json entry_json(const NflogEntry& e) {
  nlohmann::json j = {{"group_key", e.group_key}, {"receiver", e.receiver.receiver},
                      {"integration", e.receiver.integration}, {"index", e.receiver.index},
                      {"timestamp", e.timestamp}, {"firing", e.firing}, {"resolved", e.resolved},
                      {"expires_at", e.expires_at}};
  // Written only when there is some, so files stay as they were for
  // integrations that keep none.
  if (!e.data.empty()) j["receiver_data"] = e.data;
  return j;
}

// Throws nlohmann::json::exception when `j` is not a whole entry.
NflogEntry entry_from_json(const nlohmann::json& j) {
  NflogEntry e;
  e.group_key = j.at("group_key").get<std::string>();
  e.receiver = {j.at("receiver").get<std::string>(), j.at("integration").get<std::string>(),
                j.at("index").get<uint32_t>()};
  e.timestamp = j.at("timestamp").get<Millis>();
  e.firing = j.at("firing").get<std::vector<uint64_t>>();
  e.resolved = j.at("resolved").get<std::vector<uint64_t>>();
  std::sort(e.firing.begin(), e.firing.end());
  std::sort(e.resolved.begin(), e.resolved.end());
  e.expires_at = j.at("expires_at").get<Millis>();
  // Absent from files written before receiver data was kept.
  if (auto d = j.find("receiver_data"); d != j.end()) e.data = d->get<ReceiverData>();
  return e;
}

}  // namespace

std::string encode_nflog_entry(const NflogEntry& e) { return entry_json(e).dump(); }

std::optional<NflogEntry> decode_nflog_entry(std::string_view json) {
  try {
    return entry_from_json(nlohmann::json::parse(json));
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::string NotificationLog::snapshot() const {
  std::lock_guard lock(mu_);
  nlohmann::json out = {{"version", 1}, {"entries", nlohmann::json::array()}};
  for (const auto& [k, e] : entries_) out["entries"].push_back(entry_json(e));
  return out.dump();
}

Result<void> NotificationLog::restore(std::string_view text) {
  std::map<std::string, NflogEntry, std::less<>> loaded;
  try {
    nlohmann::json in = nlohmann::json::parse(text);
    for (const auto& j : in.at("entries")) {
      NflogEntry e = entry_from_json(j);
      std::string k = key(e.group_key, e.receiver);
      loaded[k] = std::move(e);
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(fmt::format("invalid notification log snapshot: {}", e.what()));
  }
  std::lock_guard lock(mu_);
  entries_ = std::move(loaded);
  ++version_;
  return {};
}

Result<void> NotificationLog::save(const std::string& path) const {
  return write_file_atomic(path, snapshot());
}

Result<void> NotificationLog::load(const std::string& path) {
  auto text = read_file(path);
  if (!text) {
    if (text.error().message.ends_with("no such file or directory")) return {};
    return std::unexpected(text.error());
  }
  return restore(*text);
}

}  // namespace vigil::routing
