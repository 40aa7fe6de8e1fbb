#pragma once

// The alerts a router knows, kept on disk so that a restart loses none, even
// after kill -9 or a power cut: every batch of stored alerts is one write to
// a record log (model/record_log.h), on disk before append() returns, and
// the log is folded into a snapshot once it has grown past it.
//
// Files in the data directory: alerts.snapshot, alerts.log.1 (during a
// fold), alerts.log. One record per alert; loading keeps, per fingerprint,
// the record updated last. Files of the earlier format (VGALRT01, records
// without markers) are read and rewritten in the current one.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"
#include "model/record_log.h"
#include "model/state_file.h"
#include "routing/alert.h"

namespace vigil::routing {

// One alert as a record payload, appended to `out`; and back (nullopt when
// the payload is not a whole alert).
void encode_alert(std::string& out, const Alert& a);
std::optional<Alert> decode_alert(std::string_view payload);

class AlertJournal {
 public:
  explicit AlertJournal(std::string dir);

  struct Loaded {
    std::vector<Alert> alerts;
    std::vector<StateDamage> damage;  // what could not be read
    bool needs_fold = false;          // compact() before the first append()
  };
  // Reads the snapshot and logs (missing files are an empty start; damaged
  // ones are reported, see RecordLog::load).
  Loaded load(Millis now);

  // Appends stored alerts to the log; returns once they are on disk.
  Result<void> append(std::span<const std::shared_ptr<const Alert>> alerts);

  // Whether the log has grown enough to be worth folding in.
  bool wants_compaction() const;
  // Starts a fresh log, then writes a snapshot of `list()`: every alert
  // stored before list() is called must be in it (true when alerts are
  // stored before they are appended).
  Result<void> compact(const std::function<std::vector<std::shared_ptr<const Alert>>()>& list);

  size_t log_bytes() const;
  uint64_t syncs() const;

 private:
  RecordLog log_;
};

}  // namespace vigil::routing
