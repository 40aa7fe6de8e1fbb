#pragma once

// The alerts a router knows, kept on disk so that a restart loses none, even
// after kill -9: every alert is appended to a log as it is stored (one write
// per batch, no rewriting of what is already there), and the log is folded
// into a snapshot once it has grown past the snapshot's size.
//
// Files in the data directory:
//   alerts.snapshot  every alert known at the last compaction
//   alerts.log.1     the log being folded in (only while compacting, or after
//                    a crash during it)
//   alerts.log       alerts stored since
// Loading reads them in that order and keeps, per fingerprint, the record
// updated last. Records are binary (host byte order) with a length and a
// checksum each, so a torn record at the end of a log is recognised and
// dropped rather than read.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"
#include "routing/alert.h"

namespace vigil::routing {

// One alert as a journal record (length, checksum, payload) appended to `out`.
void encode_alert_record(std::string& out, const Alert& a);
// Reads the record at the front of `in` and moves past it; nullopt (and `in`
// untouched) when what is there is not a whole, intact record.
std::optional<Alert> decode_alert_record(std::string_view& in);

class AlertJournal {
 public:
  explicit AlertJournal(std::string dir);
  ~AlertJournal();
  AlertJournal(const AlertJournal&) = delete;
  AlertJournal& operator=(const AlertJournal&) = delete;

  struct Loaded {
    std::vector<Alert> alerts;
    std::vector<std::string> warnings;  // unreadable tails that were dropped
  };
  // Reads the snapshot and logs (missing files are an empty start). An
  // unreadable snapshot is an error; an unreadable log tail is a warning.
  Result<Loaded> load();

  // Appends stored alerts to the log, opening it first if needed.
  Result<void> append(std::span<const std::shared_ptr<const Alert>> alerts);

  // Whether the log has grown enough to be worth folding in.
  bool wants_compaction() const;
  // Writes a snapshot of `list()` (called once, while no append runs, so the
  // snapshot and the fresh log together hold every alert) and starts a
  // fresh log.
  Result<void> compact(const std::function<std::vector<std::shared_ptr<const Alert>>()>& list);

  size_t log_bytes() const;

 private:
  Result<void> open_log_locked();

  std::string dir_;
  mutable std::mutex mu_;
  int fd_ = -1;
  size_t log_bytes_ = 0;
  size_t snapshot_bytes_ = 0;
  std::string buf_;
};

}  // namespace vigil::routing
