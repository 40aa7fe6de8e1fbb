#pragma once

// The notification log (upstream nflog/): for each aggregation group and
// receiver integration, what was last sent successfully (the firing and
// resolved alerts, by hash) and when. The dedup decision of upstream's
// notify.DedupStage reads it: a flush notifies only when something changed
// or the repeat interval has passed. Entries expire after the retention
// (or twice the repeat interval, when shorter). Thread-safe.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "model/clock.h"
#include "model/error.h"

namespace vigil::routing {

// One integration of a receiver: upstream's nflogpb.Receiver.
struct IntegrationRef {
  std::string receiver;
  std::string integration;  // "slack", "email", ...
  uint32_t index = 0;
};

// What an integration keeps about the last notification of a group, logged
// with it (upstream's receiver data): Slack's message `ts` and channel, for
// update_message. Upstream's values may also be numbers; vigil's one user
// keeps strings.
using ReceiverData = std::map<std::string, std::string, std::less<>>;

// The receiver data of one notification while it is delivered: read and
// set by the integration (from any delivery thread), logged after a
// success. Thread-safe.
class ReceiverStore {
 public:
  ReceiverStore() = default;
  explicit ReceiverStore(ReceiverData data) : data_(std::move(data)) {}
  std::string get(std::string_view key) const;  // "" when unset
  void set(std::string_view key, std::string value);
  ReceiverData data() const;

 private:
  mutable std::mutex mu_;
  ReceiverData data_;
};

struct NflogEntry {
  std::string group_key;
  IntegrationRef receiver;
  Millis timestamp = 0;            // when the notification succeeded
  std::vector<uint64_t> firing;    // sorted
  std::vector<uint64_t> resolved;  // sorted
  Millis expires_at = 0;
  ReceiverData data;  // empty for most integrations
  // The entry's revision in a log shared by replicas (etcd's mod revision
  // of its key): what a claim to send compares against. 0: not known
  // there. Not written to files.
  int64_t revision = 0;
};

// An entry as one JSON object (the fields of the log's files), and back;
// nullopt when the text is not a whole entry. Replicas exchange entries so.
std::string encode_nflog_entry(const NflogEntry& e);
std::optional<NflogEntry> decode_nflog_entry(std::string_view json);

enum class NotifyReason {
  kNone,  // nothing to send
  kFirstNotification,
  kNewAlertsInGroup,
  kNewResolvedAlerts,
  kAllAlertsResolved,
  kRepeatIntervalElapsed,
};
std::string_view notify_reason_string(NotifyReason r);  // upstream's wording

// Upstream's DedupStage.needsUpdate: whether an integration must be told
// about a group whose alerts are now `firing` and `resolved` (alert hashes),
// given what it was last told (`last`, null for never).
NotifyReason needs_update(const NflogEntry* last, const std::unordered_set<uint64_t>& firing,
                          const std::unordered_set<uint64_t>& resolved, bool send_resolved,
                          Millis repeat_interval, Millis now);

class NotificationLog {
 public:
  explicit NotificationLog(const Clock& clock, Millis retention = 120 * kHour);

  std::optional<NflogEntry> query(std::string_view group_key, const IntegrationRef& r) const;
  // Records a successful notification at the clock's now; `expiry` (when
  // positive and shorter than the retention) bounds how long it is kept.
  // `data` replaces what the entry held. Returns the entry as logged (it
  // keeps the shared revision of the one it replaces).
  NflogEntry log(const IntegrationRef& r, std::string_view group_key, std::vector<uint64_t> firing,
                 std::vector<uint64_t> resolved, Millis expiry, ReceiverData data = {});
  // What the shared log holds for a group and integration (another
  // replica's notification), at `revision`: replaces the local entry unless
  // that one is newer, whose revision is then updated only. A null `e`
  // (nothing shared, or expired there) keeps the local entry, with
  // `revision`.
  void adopt(std::string_view group_key, const IntegrationRef& r, const NflogEntry* e, int64_t revision);
  size_t gc();
  size_t size() const;
  // Counts changes (log, gc, restore): a daemon saves when it moved.
  uint64_t version() const;

  std::string snapshot() const;
  Result<void> restore(std::string_view json);
  Result<void> save(const std::string& path) const;
  Result<void> load(const std::string& path);

 private:
  static std::string key(std::string_view group_key, const IntegrationRef& r);
  const Clock& clock_;
  Millis retention_;
  mutable std::mutex mu_;
  std::map<std::string, NflogEntry, std::less<>> entries_;
  uint64_t version_ = 0;
};

}  // namespace vigil::routing
