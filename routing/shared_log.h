#pragma once

// The notification log as replicas share it, so that a group is notified by
// exactly one of them (server/cluster.h keeps it in etcd). Before sending,
// the notify pipeline claims the notification, naming the revision of the
// shared entry its decision was made on; the claim is granted only when
// nobody else holds one and the entry is still at that revision. The winner
// sends, then reports delivered() (the entry is recorded and the claim let
// go) or released(). A claim is tied to its replica's liveness: when the
// replica dies, the claim lapses and another replica sends at its next
// flush. When the shared log cannot be reached the pipeline sends anyway:
// a duplicate page is better than a missed one.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "routing/nflog.h"

namespace vigil::routing {

class SharedLog {
 public:
  virtual ~SharedLog() = default;

  enum class Verdict {
    kClaimed,      // send, then report delivered() or released()
    kChanged,      // the shared entry moved on: `current` (or none) at `revision`
    kBusy,         // another live replica holds the claim: it is sending
    kUnavailable,  // the shared log cannot be reached: send anyway
  };
  struct Claim {
    Verdict verdict = Verdict::kUnavailable;
    std::optional<NflogEntry> current;  // with kChanged: the shared entry, if any
    int64_t revision = 0;               // with kChanged: its revision (0: none)
  };

  // Asks for the right to notify `ref` about `group_key`, the decision
  // having been made on the shared entry at `revision` (0: none). `done`
  // runs exactly once, on any thread, possibly before claim() returns.
  virtual void claim(const std::string& group_key, const IntegrationRef& ref, int64_t revision,
                     std::function<void(Claim)> done) = 0;
  // The notification was delivered and logged locally as `entry`: record
  // it in the shared log and let the claim go (`claimed` false: sent
  // without a claim, the shared log being unreachable).
  virtual void delivered(const NflogEntry& entry, bool claimed) = 0;
  // Delivery failed: the claim is let go, so that the next flush, here or
  // on another replica, tries again.
  virtual void released(const std::string& group_key, const IntegrationRef& ref) = 0;
};

}  // namespace vigil::routing
