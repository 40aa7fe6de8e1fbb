#include "notifiers/history.h"

#include <algorithm>

#include <fmt/format.h>

#include "notifiers/delivery.h"
#include "routing/notify.h"

namespace vigil::notifiers {

namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kSnapshotChunk = 1024;

}  // namespace

void encode_history_entry(std::string& out, const HistoryEntry& e) {
  PayloadWriter w(out);
  w.put(kVersion);
  w.put(static_cast<int64_t>(e.time));
  w.put_string(e.receiver);
  w.put_string(e.integration);
  w.put(e.integration_index);
  w.put_string(e.group_key);
  put_labels(w, e.group_labels);
  w.put(static_cast<uint8_t>((e.firing ? 1 : 0) | (e.success ? 2 : 0)));
  w.put(e.attempts);
  w.put_string(e.error);
  w.put(static_cast<int64_t>(e.duration));
  w.put(e.omitted_alerts);
  w.put(static_cast<uint32_t>(e.alerts.size()));
  for (const HistoryAlert& a : e.alerts) {
    put_labels(w, a.labels);
    w.put(static_cast<uint8_t>(a.resolved ? 1 : 0));
    w.put(static_cast<int64_t>(a.starts_at));
  }
}

std::optional<HistoryEntry> decode_history_entry(std::string_view payload) {
  PayloadReader r(payload);
  HistoryEntry e;
  uint8_t version = 0, flags = 0;
  int64_t time = 0, duration = 0;
  uint32_t n = 0;
  if (!r.get(version) || version != kVersion || !r.get(time) || !r.get_string(e.receiver) ||
      !r.get_string(e.integration) || !r.get(e.integration_index) || !r.get_string(e.group_key) ||
      !get_labels(r, e.group_labels) || !r.get(flags) || !r.get(e.attempts) || !r.get_string(e.error) ||
      !r.get(duration) || !r.get(e.omitted_alerts) || !r.get(n))
    return std::nullopt;
  e.time = time;
  e.duration = duration;
  e.firing = (flags & 1) != 0;
  e.success = (flags & 2) != 0;
  if (n > HistoryEntry::kMaxAlerts) return std::nullopt;
  e.alerts.resize(n);
  for (HistoryAlert& a : e.alerts) {
    uint8_t resolved = 0;
    int64_t starts = 0;
    if (!get_labels(r, a.labels) || !r.get(resolved) || !r.get(starts)) return std::nullopt;
    a.resolved = resolved != 0;
    a.starts_at = starts;
  }
  if (!r.done()) return std::nullopt;
  return e;
}

HistoryEntry history_entry(const routing::Notification& n, const DeliveryOutcome& o, Millis finished,
                           Millis duration) {
  HistoryEntry e;
  e.time = finished;
  e.receiver = n.receiver ? n.receiver->name : "";
  if (n.integration) {
    e.integration = n.integration->type;
    e.integration_index = static_cast<uint32_t>(n.integration->index);
  }
  e.group_key = n.group_key;
  e.group_labels = n.group_labels;
  e.firing = n.firing_count() > 0;
  const size_t keep = std::min(n.alerts.size(), HistoryEntry::kMaxAlerts);
  e.alerts.reserve(keep);
  for (size_t i = 0; i < keep; ++i) {
    const routing::FlushedAlert& a = n.alerts[i];
    e.alerts.push_back(HistoryAlert{a->labels, a.resolved, a->starts_at});
  }
  e.omitted_alerts = static_cast<uint32_t>(n.alerts.size() - keep);
  e.success = o.delivered;
  e.attempts = static_cast<uint32_t>(std::max(o.attempts, 0));
  e.error = o.error;
  e.duration = std::max<Millis>(duration, 0);
  return e;
}

bool HistoryQuery::matches(const HistoryEntry& e) const {
  if (since && e.time < *since) return false;
  if (until && e.time > *until) return false;
  if (firing && e.firing != *firing) return false;
  if (success && e.success != *success) return false;
  if (!receiver.empty() && e.receiver != receiver) return false;
  if (!integration.empty() && integration != e.integration &&
      integration != fmt::format("{}[{}]", e.integration, e.integration_index))
    return false;
  if (filter.empty()) return true;
  return std::ranges::any_of(e.alerts, [&](const HistoryAlert& a) {
    return std::ranges::all_of(filter, [&](const Matcher& m) { return m.matches(a.labels.get(m.name())); });
  });
}

NotificationHistory::NotificationHistory(Options opts, const Clock& clock) : opts_(std::move(opts)), clock_(clock) {
  if (!opts_.dir.empty())
    log_ = std::make_unique<RecordLog>(RecordLog::Options{opts_.dir, "history", "VGHIST01", "", opts_.min_fold_bytes});
}

NotificationHistory::Loaded NotificationHistory::load() {
  Loaded out;
  if (!log_) return out;
  std::vector<std::shared_ptr<const HistoryEntry>> read;
  RecordLog::Loaded l = log_->load(
      [&read](std::string_view payload) {
        auto e = decode_history_entry(payload);
        if (!e) return false;
        read.push_back(std::make_shared<const HistoryEntry>(std::move(*e)));
        return true;
      },
      clock_.now());
  out.damage = std::move(l.damage);
  // The snapshot holds what the last fold kept, the logs what came after:
  // in time order but for entries finished at the same moment on two threads.
  std::ranges::stable_sort(read, {}, [](const auto& e) { return e->time; });
  bool rewrite = l.needs_fold;
  {
    std::lock_guard lock(mu_);
    entries_.assign(read.begin(), read.end());
    const size_t before = entries_.size();
    trim_locked(clock_.now());
    out.entries = entries_.size();
    rewrite = rewrite || out.entries != before;
  }
  if (rewrite) {
    // What the bounds dropped while vigil was down is not read again.
    if (auto r = fold(); !r) out.fold_error = r.error().message;
  }
  return out;
}

Result<void> NotificationHistory::fold() {
  return log_->fold([this]() -> RecordLog::Producer {
    std::vector<std::shared_ptr<const HistoryEntry>> all;
    {
      std::lock_guard lock(mu_);
      all.assign(entries_.begin(), entries_.end());
    }
    return [all = std::move(all), i = size_t{0}](RecordBatch& batch) mutable {
      for (size_t end = std::min(all.size(), i + kSnapshotChunk); i < end; ++i) {
        encode_history_entry(batch.begin(), *all[i]);
        batch.end();
      }
      return i < all.size();
    };
  });
}

void NotificationHistory::trim_locked(Millis now) {
  if (opts_.retention > 0) {
    while (!entries_.empty() && entries_.front()->time < now - opts_.retention) {
      entries_.pop_front();
      ++dropped_age_;
    }
  }
  while (entries_.size() > opts_.max_entries) {
    entries_.pop_front();
    ++dropped_count_;
  }
}

void NotificationHistory::record(HistoryEntry e) {
  std::string payload;
  {
    std::lock_guard lock(mu_);
    // The time is read under the lock so that entries stay in time order.
    e.time = clock_.now();
    if (log_) {
      RecordBatch batch;
      encode_history_entry(batch.begin(), e);
      batch.end();
      payload.assign(batch.bytes());
    }
    entries_.push_back(std::make_shared<const HistoryEntry>(std::move(e)));
    ++recorded_;
    trim_locked(entries_.back()->time);
  }
  if (!log_) return;
  // Written after the entry is in memory: a fold that starts meanwhile
  // captures it (RecordLog::Capture's rule).
  auto at = log_->write(payload);
  std::lock_guard lock(mu_);
  if (at) {
    written_ = std::max(written_, *at);
  } else {
    ++write_failures_;
    write_error_ = at.error().message;
  }
}

HistoryPage NotificationHistory::query(const HistoryQuery& q) const {
  HistoryPage page;
  std::vector<std::shared_ptr<const HistoryEntry>> all;
  {
    std::lock_guard lock(mu_);
    all.assign(entries_.begin(), entries_.end());
  }
  // Matching runs outside the lock: deliveries record meanwhile.
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (!q.matches(**it)) continue;
    if (page.entries.size() < q.limit) page.entries.push_back(*it);
    ++page.total;
  }
  return page;
}

Result<void> NotificationHistory::sync() {
  if (!log_) return {};
  uint64_t at = 0;
  {
    std::lock_guard lock(mu_);
    at = written_;
  }
  return log_->sync(at);
}

Result<void> NotificationHistory::maintain() {
  std::optional<std::string> first_error;
  {
    std::lock_guard lock(mu_);
    trim_locked(clock_.now());
    first_error = std::exchange(write_error_, std::nullopt);
  }
  if (!log_) return {};
  if (log_->wants_fold()) {
    auto r = fold();
    if (!r && !first_error) first_error = "history fold: " + r.error().message;
  }
  if (auto r = sync(); !r && !first_error) first_error = r.error().message;
  if (first_error) return fail(*first_error);
  return {};
}

size_t NotificationHistory::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void NotificationHistory::write_metrics(MetricsWriter& w) const {
  uint64_t entries = 0, recorded = 0, age = 0, count = 0, failures = 0;
  {
    std::lock_guard lock(mu_);
    entries = entries_.size();
    recorded = recorded_;
    age = dropped_age_;
    count = dropped_count_;
    failures = write_failures_;
  }
  w.single("vigil_notification_history_entries", "gauge", "Notifications the history holds.",
           static_cast<double>(entries));
  w.single("vigil_notification_history_bytes", "gauge", "Bytes of the history's files in the storage path.",
           log_ ? static_cast<double>(log_->log_bytes() + log_->snapshot_bytes()) : 0);
  w.single("vigil_notification_history_recorded_total", "counter", "Notifications recorded in the history.",
           static_cast<double>(recorded));
  w.family("vigil_notification_history_dropped_total", "counter",
           "History entries dropped by the bounds (reason: age or count).");
  w.sample("vigil_notification_history_dropped_total", {{"reason", "age"}}, static_cast<double>(age));
  w.sample("vigil_notification_history_dropped_total", {{"reason", "count"}}, static_cast<double>(count));
  w.single("vigil_notification_history_write_failures_total", "counter",
           "History entries that could not be written to the storage path.", static_cast<double>(failures));
}

}  // namespace vigil::notifiers
