#pragma once

// The notification history: one entry per notification a Delivery finished
// (after its retries, not per attempt), saying what was sent, to whom, when,
// how it went and why it failed. On-call people read it through
// /api/v1/notifications (server/notifications_api.h) and `vigil
// notifications`.
//
// Bounded by age and by count: an entry older than `retention`, or beyond
// the newest `max_entries`, is dropped (and counted). Kept on disk in the
// storage path as a record log (model/record_log.h: history.snapshot,
// history.log): every entry is written to the log (one write(2)) when it is
// recorded, so a killed process loses none; sync() puts them on disk (a
// power cut loses what came after the last sync). The log is folded into a
// snapshot of the entries kept once it has outgrown it, so the files stay
// within about twice what the bounds keep. A torn or damaged record costs
// that record only.
//
// Each process records what it delivered itself: replicas of a cluster each
// keep the notifications they sent.
//
// Thread-safe.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/clock.h"
#include "model/error.h"
#include "model/labels.h"
#include "model/matcher.h"
#include "model/metrics_writer.h"
#include "model/record_log.h"
#include "model/state_file.h"

namespace vigil::routing {
struct Notification;
}

namespace vigil::notifiers {

struct DeliveryOutcome;

struct HistoryAlert {
  Labels labels;
  bool resolved = false;
  Millis starts_at = 0;
};

struct HistoryEntry {
  Millis time = 0;  // when the notification finished
  std::string receiver;
  std::string integration;  // "webhook"
  uint32_t integration_index = 0;
  std::string group_key;
  Labels group_labels;
  bool firing = false;  // any of its alerts fires
  std::vector<HistoryAlert> alerts;
  uint32_t omitted_alerts = 0;  // alerts beyond kMaxAlerts, not kept
  bool success = false;
  uint32_t attempts = 0;
  std::string error;  // the last error, redacted; empty on success
  Millis duration = 0;  // from hand-over to delivery until the outcome

  static constexpr size_t kMaxAlerts = 1000;
};

// An entry as a record payload, appended to `out`; and back (nullopt when
// the payload is not a whole entry).
void encode_history_entry(std::string& out, const HistoryEntry& e);
std::optional<HistoryEntry> decode_history_entry(std::string_view payload);

// The entry of a finished notification.
HistoryEntry history_entry(const routing::Notification& n, const DeliveryOutcome& o, Millis finished,
                           Millis duration);

struct HistoryQuery {
  std::string receiver;     // empty: any
  std::string integration;  // "webhook" or "webhook[1]"; empty: any
  // An entry matches when one of its alerts matches every matcher.
  std::vector<Matcher> filter;
  std::optional<bool> firing;
  std::optional<bool> success;
  std::optional<Millis> since, until;  // inclusive bounds on the entry's time
  size_t limit = 100;

  bool matches(const HistoryEntry& e) const;
};

struct HistoryPage {
  std::vector<std::shared_ptr<const HistoryEntry>> entries;  // newest first, at most the limit
  size_t total = 0;                                          // how many matched
};

class NotificationHistory {
 public:
  struct Options {
    std::string dir;  // empty: kept in memory only
    Millis retention = 7 * kDay;
    size_t max_entries = 100'000;
    size_t min_fold_bytes = size_t{4} << 20;
  };
  NotificationHistory(Options opts, const Clock& clock);

  struct Loaded {
    size_t entries = 0;  // kept after the bounds
    std::vector<StateDamage> damage;
    std::optional<std::string> fold_error;
  };
  // Reads what the storage path holds (before the first record()); damaged
  // records are reported and skipped.
  Loaded load();

  // Records a finished notification, stamped with the clock's time.
  void record(HistoryEntry e);

  HistoryPage query(const HistoryQuery& q) const;

  // Drops entries past the retention, folds the log when it has outgrown
  // the snapshot, and puts what was written on disk. The first error, if any.
  Result<void> maintain();
  // Puts what was written on disk.
  Result<void> sync();

  size_t size() const;
  void write_metrics(MetricsWriter& w) const;

 private:
  void trim_locked(Millis now);  // guarded by mu_
  // Rewrites the snapshot from the entries kept, and starts a fresh log.
  Result<void> fold();

  const Options opts_;
  const Clock& clock_;
  std::unique_ptr<RecordLog> log_;  // null: in memory only; has its own synchronization

  mutable std::mutex mu_;  // guards the fields below
  std::deque<std::shared_ptr<const HistoryEntry>> entries_;  // oldest first
  uint64_t recorded_ = 0;
  uint64_t dropped_age_ = 0, dropped_count_ = 0;
  uint64_t write_failures_ = 0;
  uint64_t written_ = 0;  // the log position sync() must reach
  std::optional<std::string> write_error_;  // the last failed write, reported by maintain()
};

}  // namespace vigil::notifiers
