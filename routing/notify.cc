#include "routing/notify.h"

#include <algorithm>
#include <atomic>
#include <unordered_set>

#include "routing/route_print.h"

namespace vigil::routing {

size_t Notification::firing_count() const {
  return static_cast<size_t>(
      std::count_if(alerts.begin(), alerts.end(), [](const FlushedAlert& a) { return !a.resolved; }));
}

NotifyPipeline::NotifyPipeline(Parts parts)
    : parts_(std::move(parts)), intervals_(parts_.config->time_interval_set()) {}

std::vector<FlushedAlert> NotifyPipeline::unmuted(const GroupFlush& f) const { return filter(f, nullptr); }

std::vector<FlushedAlert> NotifyPipeline::filter(const GroupFlush& f, std::vector<FlushedAlert>* muted) const {
  std::vector<FlushedAlert> out;
  auto status = route_mute_status(*f.route, intervals_, f.now);
  if (parts_.marker != nullptr) {
    // An interval that cannot be read mutes (nothing is sent), named as the
    // route's intervals.
    std::vector<std::string> by;
    if (status) {
      by = status->by;
    } else {
      by = f.route->options().mute_time_intervals;
      for (const auto& n : f.route->options().active_time_intervals) by.push_back(n);
    }
    parts_.marker->set(f.group_key, std::move(by));
  }
  if (!status || status->muted) return out;
  for (const FlushedAlert& a : f.alerts) {
    uint64_t by = 0;
    const InhibitRule* rule = nullptr;
    if (parts_.inhibitor != nullptr && parts_.inhibitor->mutes(a->labels, f.now, &by, &rule)) {
      if (muted != nullptr) {
        muted->push_back(a);
        parts_.events->record(inhibition_muted_alert_event(*rule, a->labels, by));
      }
      continue;
    }
    if (parts_.silences != nullptr) {
      std::vector<std::string> ids = parts_.silences->mutes(a->labels);
      if (!ids.empty()) {
        if (muted != nullptr) {
          muted->push_back(a);
          for (const std::string& id : ids)
            if (auto s = parts_.silences->get(id)) parts_.events->record(silence_muted_alert_event(*s, a->labels));
        }
        continue;
      }
    }
    out.push_back(a);
  }
  return out;
}

namespace {

// Counts a flush's integrations down; the last one reports the outcome.
struct Completion {
  std::atomic<size_t> remaining;
  std::atomic<bool> ok{true};
  std::function<void(bool)> done;

  void finish(bool success) {
    if (!success) ok = false;
    if (remaining.fetch_sub(1) == 1) done(ok.load());
  }
};

}  // namespace

void NotifyPipeline::flush(const GroupFlush& f, std::function<void(bool ok)> done) {
  const ReceiverConfig* receiver = parts_.config->receiver(f.route->options().receiver);
  const bool recording = parts_.events != nullptr && parts_.events->enabled();
  // What a notification event tells besides the notification itself.
  struct FlushRecord {
    std::vector<FlushedAlert> firing, resolved, muted;
  };
  std::shared_ptr<FlushRecord> rec = recording ? std::make_shared<FlushRecord>() : nullptr;
  std::vector<FlushedAlert> alerts = filter(f, rec ? &rec->muted : nullptr);
  if (receiver == nullptr || receiver->integrations.empty() || alerts.empty()) return done(true);
  if (rec)
    for (const FlushedAlert& a : alerts) (a.resolved ? rec->resolved : rec->firing).push_back(a);

  std::unordered_set<uint64_t> firing_set, resolved_set;
  std::vector<uint64_t> firing, resolved;
  for (const FlushedAlert& a : alerts) {
    const uint64_t h = a->fingerprint();
    (a.resolved ? resolved_set : firing_set).insert(h);
    (a.resolved ? resolved : firing).push_back(h);
  }
  const Millis repeat = f.route->options().repeat_interval;
  std::shared_ptr<const std::vector<FlushedAlert>> group_alerts;
  if (!f.route->options().labels.empty()) group_alerts = std::make_shared<const std::vector<FlushedAlert>>(f.alerts);
  auto completion = std::make_shared<Completion>();
  completion->remaining = receiver->integrations.size();
  completion->done = std::move(done);

  for (const IntegrationConfig& ic : receiver->integrations) {
    IntegrationRef ref{receiver->name, ic.type, static_cast<uint32_t>(ic.index)};
    auto last = parts_.nflog->query(f.group_key, ref);
    NotifyReason reason = needs_update(last ? &*last : nullptr, firing_set, resolved_set, ic.send_resolved,
                                       repeat, f.now);
    if (reason == NotifyReason::kNone) {
      completion->finish(true);
      continue;
    }
    Notification n{parts_.config, receiver, &ic, f.group_key, f.group_labels, f.route->options().labels,
                   {}, reason, f.now, f.now + f.route->options().group_interval, f.flush_id, group_alerts};
    // As upstream, a first notification starts with nothing kept (a group
    // that fires again after its resolution gets a new Slack message).
    if (last && reason != NotifyReason::kFirstNotification) n.store = std::make_shared<ReceiverStore>(last->data);
    std::function<void(bool)> log = [nflog = parts_.nflog, ref, key = f.group_key, firing, resolved, repeat, completion,
                store = n.store](bool ok) {
      if (ok) nflog->log(ref, key, firing, resolved, 2 * repeat, store->data());
      completion->finish(ok);
    };
    for (const FlushedAlert& a : alerts)
      if (!a.resolved || ic.send_resolved) n.alerts.push_back(a);
    // Without send_resolved, an all-resolved group is only recorded.
    if (n.firing_count() == 0 && !ic.send_resolved) {
      log(true);
      continue;
    }
    if (rec) {
      // A delivered notification is an event (a failed one is not, as upstream).
      log = [inner = std::move(log), rec, events = parts_.events, sent = n.alerts, key = f.group_key,
             labels = f.group_labels, receiver = f.route->options().receiver, matchers = f.route->matchers().items(),
             repeat, uuid = f.group_uuid, reason, flush_id = f.flush_id, type = ic.type, index = ic.index,
             now = f.now](bool ok) {
        if (ok) {
          NotificationEventInfo info;
          info.sent = &sent;
          info.firing = &rec->firing;
          info.resolved = &rec->resolved;
          info.muted = &rec->muted;
          info.group = EventGroup{key, &labels, receiver, &matchers, uuid};
          info.repeat_interval = repeat;
          info.reason = reason;
          info.flush_id = flush_id;
          info.integration = type;
          info.integration_index = index;
          info.now = now;
          events->record(notification_event(info));
        }
        inner(ok);
      };
    }
    parts_.notifier->notify(n, std::move(log));
  }
}

}  // namespace vigil::routing
