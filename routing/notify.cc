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

// A flush being notified: what its integrations need, kept alive while
// claims and deliveries run on other threads (a reload may replace the
// pipeline meanwhile).
struct FlushJob {
  std::shared_ptr<const Config> config;  // keeps receiver and integrations alive
  NotificationLog* nflog = nullptr;
  Notifier* notifier = nullptr;
  SharedLog* shared = nullptr;
  const ReceiverConfig* receiver = nullptr;
  std::string group_key;
  Labels group_labels;
  std::vector<Label> route_labels;
  std::vector<FlushedAlert> alerts;  // unmuted
  std::unordered_set<uint64_t> firing_set, resolved_set;
  std::vector<uint64_t> firing, resolved;
  Millis repeat = 0;
  Millis now = 0;
  Millis deadline = 0;
  uint64_t flush_id = 0;
  std::shared_ptr<const std::vector<FlushedAlert>> group_alerts;
  Completion completion;
  // With events recorded: what a notification event tells besides the
  // notification itself (null otherwise).
  struct Record {
    EventSink* events = nullptr;
    std::vector<FlushedAlert> firing, resolved, muted;
    std::string receiver;  // the route's
    std::vector<Matcher> matchers;
    std::string group_uuid;
  };
  std::unique_ptr<Record> record;
};

// A delivered notification is an event (a failed one is not, as upstream).
void record_notification(const FlushJob& job, const IntegrationConfig& ic, const std::vector<FlushedAlert>& sent,
                         NotifyReason reason) {
  const FlushJob::Record& rec = *job.record;
  NotificationEventInfo info;
  info.sent = &sent;
  info.firing = &rec.firing;
  info.resolved = &rec.resolved;
  info.muted = &rec.muted;
  info.group = EventGroup{job.group_key, &job.group_labels, rec.receiver, &rec.matchers, rec.group_uuid};
  info.repeat_interval = job.repeat;
  info.reason = reason;
  info.flush_id = job.flush_id;
  info.integration = ic.type;
  info.integration_index = ic.index;
  info.now = job.now;
  rec.events->record(notification_event(info));
}

// Tries this often to claim a notification whose shared entry keeps moving
// on; then the next flush tries again.
constexpr int kClaimAttempts = 3;

void deliver(const std::shared_ptr<FlushJob>& job, const IntegrationConfig& ic, const std::optional<NflogEntry>& last,
             NotifyReason reason, bool claimed) {
  IntegrationRef ref{job->receiver->name, ic.type, static_cast<uint32_t>(ic.index)};
  Notification n{job->config, job->receiver, &ic, job->group_key, job->group_labels, job->route_labels,
                 {}, reason, job->now, job->deadline, job->flush_id, job->group_alerts};
  // As upstream, a first notification starts with nothing kept (a group
  // that fires again after its resolution gets a new Slack message).
  if (last && reason != NotifyReason::kFirstNotification) n.store = std::make_shared<ReceiverStore>(last->data);
  for (const FlushedAlert& a : job->alerts)
    if (!a.resolved || ic.send_resolved) n.alerts.push_back(a);
  job->notifier->notify(n, [job, &ic, ref, claimed, reason, store = n.store, sent = job->record ? n.alerts : std::vector<FlushedAlert>{}](bool ok) {
    if (ok && job->record) record_notification(*job, ic, sent, reason);
    if (ok) {
      NflogEntry e = job->nflog->log(ref, job->group_key, job->firing, job->resolved, 2 * job->repeat, store->data());
      if (job->shared != nullptr) job->shared->delivered(e, claimed);
    } else if (claimed) {
      job->shared->released(job->group_key, ref);
    }
    job->completion.finish(ok);
  });
}

// The notification log's decision for one integration, then, with a shared
// log, the claim, then delivery.
void notify_integration(const std::shared_ptr<FlushJob>& job, const IntegrationConfig& ic,
                        const std::optional<NflogEntry>& last, int attempt) {
  IntegrationRef ref{job->receiver->name, ic.type, static_cast<uint32_t>(ic.index)};
  NotifyReason reason = needs_update(last ? &*last : nullptr, job->firing_set, job->resolved_set, ic.send_resolved,
                                     job->repeat, job->now);
  if (reason == NotifyReason::kNone) return job->completion.finish(true);
  // Without send_resolved, an all-resolved group is only recorded (every
  // replica does so on its own: nothing is sent).
  if (job->firing.empty() && !ic.send_resolved) {
    job->nflog->log(ref, job->group_key, job->firing, job->resolved, 2 * job->repeat, last ? last->data : ReceiverData{});
    return job->completion.finish(true);
  }
  if (job->shared == nullptr) return deliver(job, ic, last, reason, false);
  job->shared->claim(job->group_key, ref, last ? last->revision : 0,
                     [job, &ic, ref, last, reason, attempt](SharedLog::Claim c) {
                       switch (c.verdict) {
                         case SharedLog::Verdict::kClaimed:
                           return deliver(job, ic, last, reason, true);
                         case SharedLog::Verdict::kUnavailable:
                           return deliver(job, ic, last, reason, false);
                         case SharedLog::Verdict::kBusy:
                           return job->completion.finish(true);
                         case SharedLog::Verdict::kChanged: {
                           std::optional<NflogEntry> current = std::move(c.current);
                           if (current && current->expires_at <= job->now) current.reset();
                           job->nflog->adopt(job->group_key, ref, current ? &*current : nullptr, c.revision);
                           if (attempt + 1 >= kClaimAttempts) return job->completion.finish(true);
                           return notify_integration(job, ic, job->nflog->query(job->group_key, ref), attempt + 1);
                         }
                       }
                     });
}

}  // namespace

void NotifyPipeline::flush(const GroupFlush& f, std::function<void(bool ok)> done) {
  const ReceiverConfig* receiver = parts_.config->receiver(f.route->options().receiver);
  auto job = std::make_shared<FlushJob>();
  if (parts_.events != nullptr && parts_.events->enabled()) {
    job->record = std::make_unique<FlushJob::Record>();
    job->record->events = parts_.events;
  }
  std::vector<FlushedAlert> alerts = filter(f, job->record ? &job->record->muted : nullptr);
  if (receiver == nullptr || receiver->integrations.empty() || alerts.empty()) return done(true);
  if (job->record) {
    for (const FlushedAlert& a : alerts) (a.resolved ? job->record->resolved : job->record->firing).push_back(a);
    job->record->receiver = f.route->options().receiver;
    job->record->matchers = f.route->matchers().items();
    job->record->group_uuid = f.group_uuid;
  }

  job->config = parts_.config;
  job->nflog = parts_.nflog;
  job->notifier = parts_.notifier;
  job->shared = parts_.shared;
  job->receiver = receiver;
  job->group_key = f.group_key;
  job->group_labels = f.group_labels;
  job->route_labels = f.route->options().labels;
  for (const FlushedAlert& a : alerts) {
    const uint64_t h = a->fingerprint();
    (a.resolved ? job->resolved_set : job->firing_set).insert(h);
    (a.resolved ? job->resolved : job->firing).push_back(h);
  }
  job->alerts = std::move(alerts);
  job->repeat = f.route->options().repeat_interval;
  job->now = f.now;
  job->deadline = f.now + f.route->options().group_interval;
  job->flush_id = f.flush_id;
  if (!f.route->options().labels.empty()) job->group_alerts = std::make_shared<const std::vector<FlushedAlert>>(f.alerts);
  job->completion.remaining = receiver->integrations.size();
  job->completion.done = std::move(done);

  for (const IntegrationConfig& ic : receiver->integrations) {
    IntegrationRef ref{receiver->name, ic.type, static_cast<uint32_t>(ic.index)};
    notify_integration(job, ic, parts_.nflog->query(f.group_key, ref), 0);
  }
}

}  // namespace vigil::routing
