#pragma once

// The routing half of vigil in one object: the alert store, inhibition,
// silences, the notification log, the dispatcher and the notify pipeline,
// wired as Alertmanager wires them, for one configuration.
//
// A daemon creates one Router, calls restore() at start, put_alerts() for
// every API POST, run_due() whenever next_due() has come (and after
// put_alerts), maintenance() every few minutes, save_changed() after
// flushes, compact() every few seconds and snapshot() at shutdown. reload()
// swaps the configuration; a failed load simply keeps the old Router
// configuration.
//
// With a data directory, stored alerts and silence changes are on disk
// before put_alerts() and Silences::set()/expire() return (record logs:
// routing/alert_journal.h, routing/silence.h); the notification log is
// rewritten by save_changed().

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "model/clock.h"
#include "model/error.h"
#include "model/state_file.h"
#include "routing/alert_journal.h"
#include "routing/alert_store.h"
#include "routing/config.h"
#include "routing/dispatch.h"
#include "routing/events.h"
#include "routing/inhibit.h"
#include "routing/mute_marker.h"
#include "routing/nflog.h"
#include "routing/notify.h"
#include "routing/route.h"
#include "routing/silence.h"

namespace vigil::routing {

class Router {
 public:
  struct Options {
    std::string data_dir;  // where alerts, silences and the notification log live; empty: nowhere
    Millis retention = 120 * kHour;  // of expired silences and log entries
    size_t max_groups = 0;           // 0: no limit on aggregation groups
    SharedLog* shared_log = nullptr;  // replicas' shared log (must outlive the Router); null: alone
    // Where events go (routing/events.h): alerts created, grouped and
    // resolved, notifications, silences created and updated, alerts found
    // muted at a flush. Null: nowhere. Must outlive the Router.
    EventSink* events = nullptr;
  };

  Router(std::shared_ptr<const Config> config, const Clock& clock, Notifier& notifier, Options opts);
  ~Router();

  struct Restored {
    std::vector<StateDamage> damage;  // what could not be read, per file
    std::vector<Error> errors;        // rewriting damaged or old-format files failed
  };
  // Loads silences, the notification log and the alerts (the journal's
  // snapshot and logs) from the data directory (missing files are an empty
  // start), and feeds the alerts to inhibition and the dispatcher. Never
  // fails: damaged files are reported, set aside, and what could be read
  // is loaded.
  Restored restore();
  // Writes the notification log atomically (temporary file, fsync, rename)
  // and folds the alert and silence logs into fresh snapshots.
  Result<void> snapshot();
  // What was last written, by change counters.
  struct SavedVersions {
    uint64_t nflog = ~0ULL;
  };
  // Writes the notification log when it changed since `saved` (cheap to
  // call after every flush: a delivered notification is on disk before the
  // next one).
  Result<void> save_changed(SavedVersions& saved) const;
  // Folds the alert and silence logs into their snapshots when they have
  // grown past them, or must be rewritten after a failed write (a daemon
  // calls this every few seconds).
  Result<void> compact();

  // fdatasync calls of the alert and silence logs so far.
  struct LogSyncs {
    uint64_t alerts = 0, silences = 0;
  };
  LogSyncs log_syncs() const;

  struct PutResult {
    std::vector<Error> invalid;    // one per alert left out (upstream answers 400 with them)
    std::optional<Error> storage;  // the valid alerts are held, but not on disk: writing failed
  };
  // Receives alerts as Alertmanager's API does (see AlertStore::put): the
  // valid ones are merged, handed to inhibition and routed into groups, and
  // on disk when this returns; the others are left out.
  PutResult put_alerts(std::vector<Alert> alerts);
  size_t run_due();
  // When run_due() has something to do; never before the dispatch hold.
  std::optional<Millis> next_due() const;
  // No group is flushed before `t` (Alertmanager's --dispatch.start-delay):
  // alerts are grouped meanwhile, and the groups due flush at `t`. After a
  // restart this gives the alerts' sources a chance to re-send alerts whose
  // end passed while the process was down, before they are notified as
  // resolved. Lasts across reloads.
  void hold_dispatch_until(Millis t);
  // Drops resolved alerts and inhibition sources, expired silences and log
  // entries past their retention.
  void maintenance();
  // A new configuration: routes, inhibition and groups are rebuilt from the
  // alerts already known; silences and the log carry over.
  void reload(std::shared_ptr<const Config> config);

  struct AlertStatus {
    std::vector<std::string> silenced_by;
    std::optional<uint64_t> inhibited_by;  // a source alert's fingerprint
  };
  AlertStatus status(const Labels& labels) const;
  // The time intervals that held a group's notifications back at its last
  // flush (the pipeline's verdict; empty when not muted).
  std::vector<std::string> muted_by(std::string_view group_key) const { return marker_.muted_by(group_key); }

  AlertStore& alerts() { return store_; }
  const AlertStore& alerts() const { return store_; }
  Silences& silences() { return silences_; }
  NotificationLog& nflog() { return nflog_; }
  std::shared_ptr<const Config> config() const;
  // The route tree of the current configuration (which receivers an alert
  // goes to); shared, so it outlives a concurrent reload.
  std::shared_ptr<const Route> route_tree() const;
  std::vector<Dispatcher::GroupInfo> groups() const;
  size_t group_count() const;

 private:
  struct Wiring;  // config, routes, inhibitor, pipeline, dispatcher
  std::shared_ptr<Wiring> wire(std::shared_ptr<const Config> config);
  std::shared_ptr<Wiring> current() const;

  const Clock& clock_;
  Notifier& notifier_;
  Options opts_;
  AlertStore store_;
  std::unique_ptr<AlertJournal> journal_;  // with a data directory
  std::atomic<Millis> dispatch_hold_{0};
  Silences silences_;
  NotificationLog nflog_;
  MuteMarker marker_;
  mutable std::shared_mutex mu_;
  std::shared_ptr<Wiring> wiring_;
};

}  // namespace vigil::routing
