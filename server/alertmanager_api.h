#pragma once

// Alertmanager's HTTP API v2 over a Router, so Prometheus, amtool and other
// Alertmanager clients talk to vigil as to Alertmanager (0.25-0.27 answers,
// the fields of the current OpenAPI spec), plus a webhook intake for the
// payloads other Alertmanagers and Grafana send to webhook receivers:
//
//   GET    /api/v2/status               cluster (disabled), versionInfo, config.original, uptime
//   GET    /api/v2/receivers            [receiver_matchers]
//   GET    /api/v2/alerts               [active silenced inhibited unprocessed filter receiver receiver_matchers]
//   POST   /api/v2/alerts               postable alerts; the valid ones are kept even when others fail (400)
//   GET    /api/v2/alerts/groups        [active silenced inhibited muted filter receiver receiver_matchers]
//   GET    /api/v2/silences             [filter active pending expired]
//   POST   /api/v2/silences             create, or update when `id` is given: {"silenceID": ...}
//   GET    /api/v2/silence/{silenceID}
//   DELETE /api/v2/silence/{silenceID}  expires it
//   POST   /api/v1/intake/webhook       an Alertmanager webhook payload (version "4")
//
// Bodies are untrusted: oversized, malformed or mistyped ones are answered
// 400 (a missing required field 422, as upstream's schema validation does),
// never with a crash. Handler errors are JSON strings, as upstream's.

#include <cstddef>
#include <functional>
#include <string>

#include "model/clock.h"
#include "routing/alert.h"
#include "routing/matchers.h"
#include "routing/router.h"
#include "server/cluster.h"
#include "server/http.h"

namespace vigil::server {

struct AlertmanagerApiContext {
  AlertmanagerApiContext(routing::Router& r, const Clock& c) : router(r), clock(c) {}

  routing::Router& router;
  const Clock& clock;
  Millis start_time = 0;  // shown as `uptime` (the time the daemon started)
  // The configuration as /api/v2/status shows it, credentials already shown
  // as <secret>. When empty: the file the router's configuration was loaded
  // from (Config::path), read and redacted on each request.
  std::function<std::string()> config_original;
  // Called after a request stored alerts (the daemon runs the dispatcher).
  std::function<void()> on_alerts;
  // How `filter` and `receiver_matchers` strings are parsed.
  routing::MatcherSyntax matcher_syntax = routing::MatcherSyntax::kFallback;
  size_t max_body = 16 * 1024 * 1024;  // larger request bodies are refused
  // Alerts past these bounds are refused (400, naming the bound); the others
  // of the same request are kept.
  routing::AlertLimits alert_limits;
  // Templates' .ExternalURL, for the route labels the alert groups show.
  std::string external_url;
  // With replicas: the cluster /api/v2/status shows. Null: "disabled".
  const Cluster* cluster = nullptr;
};

// Registers the endpoints above on `routes`. The router and clock must
// outlive `routes`.
void add_alertmanager_api(Routes& routes, AlertmanagerApiContext ctx);

// A time as upstream's API writes one: RFC 3339 in UTC with milliseconds
// ("2024-05-01T10:00:00.000Z").
std::string api_time(Millis t);
// The same into `buf` (at least kApiTimeMax bytes); returns the length.
inline constexpr size_t kApiTimeMax = 40;
size_t format_api_time(Millis t, char* buf);
// A fingerprint as the API shows it: 16 hex digits, written into `buf`.
std::string_view hex16(uint64_t v, char (&buf)[16]);

}  // namespace vigil::server
