#pragma once

// The alerts the router knows, one per fingerprint (upstream provider/mem):
// a new report of an alert is merged into what is known, and alerts are
// garbage-collected once resolved.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "model/duration.h"
#include "model/error.h"
#include "model/fingerprint_map.h"
#include "routing/alert.h"

namespace vigil::routing {

class AlertStore {
 public:
  explicit AlertStore(Millis resolve_timeout = 5 * kMinute) : resolve_timeout_(resolve_timeout) {}

  void set_resolve_timeout(Millis t);

  // Receives an alert at `now` as upstream's API does: it is updated now;
  // without startsAt it starts now (or at its endsAt); without endsAt it
  // ends at now + resolve_timeout, an end a later report may move earlier.
  // It is then merged with the alert of the same fingerprint when their
  // spans overlap, else replaces it. Returns what is stored. The alert must
  // have passed validate_alert (apart from the times set here).
  std::shared_ptr<const Alert> put(Alert a, Millis now);
  // The same for a batch, under one lock; the results in order. With
  // `created`, whether each alert was new to the store.
  std::vector<std::shared_ptr<const Alert>> put_all(std::vector<Alert> alerts, Millis now,
                                                    std::vector<bool>* created = nullptr);

  std::shared_ptr<const Alert> get(uint64_t fingerprint) const;
  std::vector<std::shared_ptr<const Alert>> list() const;
  size_t size() const;

  // Removes the alerts resolved at `now` and returns them.
  std::vector<std::shared_ptr<const Alert>> gc(Millis now);

  // Replaces what is known with alerts exactly as they were saved (times,
  // timeout flag), and returns them.
  std::vector<std::shared_ptr<const Alert>> restore(std::vector<Alert> alerts);

 private:
  mutable std::mutex mu_;
  Millis resolve_timeout_;
  std::shared_ptr<const Alert> put_locked(Alert a, Millis now);

  FingerprintMap<std::shared_ptr<const Alert>> alerts_;
};

}  // namespace vigil::routing
