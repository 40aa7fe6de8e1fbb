#pragma once

// The notify pipeline (upstream notify/notify.go) and the interface delivery
// implements. For each group flush: alerts muted by inhibition are dropped,
// then all of them when the route is outside its active_time_intervals or
// inside a mute_time_interval, then the silenced ones; then, for each
// integration of the route's receiver, the notification log decides whether
// to notify (upstream's DedupStage); with replicas sharing the log, the
// notification is claimed first (routing/shared_log.h), so that only one of
// them sends; the Notifier delivers, and a success is logged. The flush succeeds when every integration succeeded (or had
// nothing to do).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/clock.h"
#include "routing/alert.h"
#include "routing/config.h"
#include "routing/dispatch.h"
#include "routing/events.h"
#include "routing/inhibit.h"
#include "routing/mute_marker.h"
#include "routing/nflog.h"
#include "routing/shared_log.h"
#include "routing/silence.h"
#include "routing/time_interval.h"

namespace vigil::routing {

// One integration to tell about one group.
struct Notification {
  std::shared_ptr<const Config> config;  // keeps receiver and integration alive
  const ReceiverConfig* receiver = nullptr;
  const IntegrationConfig* integration = nullptr;
  std::string group_key;
  Labels group_labels;
  std::vector<Label> route_labels;  // the route's labels, unrendered templates
  // What to send, in order: the firing alerts and, when the integration
  // sends resolved notifications, the resolved ones.
  std::vector<FlushedAlert> alerts;
  NotifyReason reason = NotifyReason::kNone;
  Millis now = 0;
  // When delivery must give up: the route's next group_interval, as upstream
  // bounds a flush's retries. 0: the notifier's own default.
  Millis deadline = 0;
  uint64_t flush_id = 0;
  // All the alerts of the flush, muted ones included: what the route labels
  // are rendered against, as upstream renders them once per flush. Null when
  // the route has no labels.
  std::shared_ptr<const std::vector<FlushedAlert>> group_alerts;
  // What the integration keeps about this group between notifications (a
  // Slack message's ts and channel): the last log entry's, empty for a first
  // notification. The integration may change it while delivering; what it
  // holds after a success is logged. Copies of a notification share it.
  std::shared_ptr<ReceiverStore> store = std::make_shared<ReceiverStore>();

  size_t firing_count() const;
};

// Delivery: implemented by the notifiers (Slack, email, webhook, ...).
class Notifier {
 public:
  virtual ~Notifier() = default;
  // Delivers `n`, retrying as it sees fit, then calls done(true) once
  // delivered or done(false) once given up. `done` may be called on any
  // thread, before or after notify returns, but exactly once.
  virtual void notify(const Notification& n, std::function<void(bool delivered)> done) = 0;
};

class NotifyPipeline {
 public:
  struct Parts {
    std::shared_ptr<const Config> config;
    const Inhibitor* inhibitor = nullptr;  // null: no inhibition
    const Silences* silences = nullptr;    // null: no silences
    NotificationLog* nflog = nullptr;      // required
    Notifier* notifier = nullptr;          // required
    MuteMarker* marker = nullptr;          // null: verdicts are not recorded
    SharedLog* shared = nullptr;           // null: this process alone notifies
    // Null: no events. Else told of each alert a flush found inhibited
    // (inhibition_muted_alert) or silenced (silence_muted_alert, one per
    // silence), and of each delivered notification.
    EventSink* events = nullptr;
  };
  explicit NotifyPipeline(Parts parts);

  // Dispatcher::FlushFn.
  void flush(const GroupFlush& f, std::function<void(bool ok)> done);

  // The stages before delivery on their own: the alerts of a flush that are
  // neither inhibited, nor time-muted, nor silenced. The time-mute verdict
  // is recorded in the marker.
  std::vector<FlushedAlert> unmuted(const GroupFlush& f) const;

 private:
  // unmuted(); with `muted`, the muted alerts are added to it and their
  // events recorded.
  std::vector<FlushedAlert> filter(const GroupFlush& f, std::vector<FlushedAlert>* muted) const;

  Parts parts_;
  TimeIntervals intervals_;
};

}  // namespace vigil::routing
