#pragma once

// `vigil run`: one process that scrapes (or queries a remote Prometheus),
// evaluates rule groups, routes, silences, inhibits and delivers, and serves
// the Alertmanager, Prometheus and health APIs.
//
// Loops, each on its own thread, each sleeping until its next deadline or
// until woken:
//   rules   - evaluates the rule groups that are due and hands their alerts
//             to the router in-process (and to external Alertmanagers);
//   router  - flushes aggregation groups that are due; saves the
//             notification log as soon as it changes;
//   scrape  - scrapes the targets that are due (embedded mode);
//   upkeep  - every few seconds: saves the rule state, folds the alert and
//             silence logs into their snapshots when they have grown,
//             garbage collects, trims the store to what the rules' ranges
//             need.
// State in --storage.path: alerts and silences as record logs folded into
// snapshots (alerts.log, alerts.snapshot, silences.log, silences.snapshot;
// model/record_log.h), each change on disk before the API acknowledges it;
// nflog.json and rules.json, written atomically; the notification history
// (history.log, history.snapshot), each entry written when its notification
// finishes and synced by the upkeep loop. All are restored at start;
// damaged ones are reported, counted and set aside, never a reason not to
// start. After a start, groups flush once --dispatch.start-delay has passed
// and the rules have re-sent what fires (routing::Router::hold_dispatch_until).

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "model/clock.h"
#include "model/error.h"
#include "routing/alert.h"
#include "routing/silence.h"
#include "rules/evaluation.h"
#include "server/cluster.h"
#include "server/http.h"
#include "server/log.h"
#include "storage/limits.h"

namespace vigil::server {

struct DaemonOptions {
  std::string config_file;               // prometheus.yml; empty: no rules, no scraping
  std::string alertmanager_config;       // alertmanager.yml; empty: alerts are kept, not delivered
  std::string storage_path = "data";
  std::string listen_address = "0.0.0.0:9093";
  std::string external_url;              // empty: http://<hostname>:<port>
  // --web.route-prefix: every route (APIs and web UI) is served under it;
  // empty: the path of external_url, as upstream.
  std::string route_prefix;
  // With a URL: evaluate rules through that Prometheus' /api/v1/query
  // instead of the embedded store (no scraping then).
  rules::RemoteQueryOptions datasource;
  Millis resend_delay = kMinute;
  // Prometheus' --rules.alert.for-grace-period and
  // --rules.alert.for-outage-tolerance: how `for` timers are restored from
  // the datasource's ALERTS_FOR_STATE at a start without local state.
  Millis for_grace_period = 10 * kMinute;
  Millis for_outage_tolerance = kHour;
  // Alertmanager's --dispatch.start-delay: no notification before this long
  // after the start (with rule groups, flushes also wait for their first
  // evaluations, at most resend_delay).
  Millis dispatch_start_delay = 0;
  // The embedded engine's limits, for API queries and rule evaluations alike
  // (--query.timeout, --query.max-samples, --query.max-concurrency).
  Millis query_timeout = 2 * kMinute;
  int64_t query_max_samples = 50'000'000;
  int query_max_concurrency = 20;
  routing::SilenceLimits silence_limits;  // --silences.max-silences, --silences.max-silence-size-bytes
  routing::AlertLimits alert_limits;      // --alerts.max-labels, ...: bounds on received alerts
  Millis upkeep_interval = 5 * kSecond;  // also how often Alertmanager discovery files are checked
  Millis file_sd_poll = 5 * kSecond;
  // The listener (server/http.h): handler threads, --web.config.file,
  // connection limit and read deadlines. Its priority paths and error
  // reporting are the daemon's.
  HttpServer::Options web;
  // With etcd endpoints (--cluster.etcd-endpoints): a replica of a cluster
  // sharing the notification log and silences (server/cluster.h). The peer
  // name defaults to <hostname>:<port>, the address to the external URL.
  std::optional<ClusterOptions> cluster;
  // Alertmanager's --enable-feature=event-recorder: the `event_recorder`
  // block of alertmanager.yml is acted on (routing/event_recorder.h).
  // Without it, no events are recorded.
  bool event_recorder = false;
  // The embedded store's bounds: the retention is what the rules' ranges
  // need, clamped (--storage.retention); at most max_series series, new ones
  // refused beyond (--storage.max-series, 0: no limit).
  storage::RetentionBounds retention_bounds;
  size_t max_series = 0;
  // The notification history's bounds (notifiers/history.h):
  // --notification-history.retention and --notification-history.max-entries.
  Millis history_retention = 7 * kDay;
  size_t history_max_entries = 100'000;
  size_t delivery_workers = 16;
  size_t scrape_workers = 4;
};

class Daemon {
 public:
  Daemon(DaemonOptions opts, const Clock& clock, Logger& log);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Locks the storage path (one process per folder: a second one fails at
  // once, naming the holder), loads every file, restores state from the
  // storage path, starts serving and the loops. An error (bad config, port
  // in use, storage path locked) is returned with nothing left running;
  // damaged state is not an error.
  Result<void> start();
  // Re-reads every file. When anything is invalid, nothing changes and the
  // error is returned (and logged, and counted).
  Result<void> reload();
  // Cancels queries in flight, stops the loops and the server, waits for
  // deliveries in flight up to `grace`, writes all state. Idempotent.
  void stop(Millis grace = 5 * kSecond);

  int port() const;
  const Routes& routes() const;
  std::string metrics_text() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace vigil::server
