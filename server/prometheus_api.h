#pragma once

// The parts of Prometheus' HTTP API (/api/v1) that tools read from a rule
// evaluator, in upstream's JSON shapes: rules and alerts always; in embedded
// mode also query, query_range, series, labels and label values over the
// in-memory store, so Grafana can use vigil as a Prometheus data source.

#include <functional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "model/clock.h"
#include "model/matcher.h"
#include "promql/engine.h"
#include "rules/evaluation.h"
#include "rules/manager.h"
#include "server/http.h"
#include "storage/memory_store.h"
#include "storage/scrape.h"

namespace vigil::server {

struct PrometheusApiContext {
  const Clock* clock = nullptr;
  rules::RuleManager* rules = nullptr;
  // The embedded store; null when rules run against a remote Prometheus
  // (the query endpoints then answer that they are not served here).
  const storage::MemoryStore* store = nullptr;
  std::shared_mutex* store_mu = nullptr;
  promql::EngineOptions engine;
  // The scraper behind /api/v1/targets; null: no targets.
  const storage::ScrapeManager* scraper = nullptr;
  // Without a store (sidecar mode): where /api/v1/query and
  // /api/v1/query_range are answered instead (datasource_proxy); null: they
  // answer that they are not served here.
  std::function<Response(std::string_view path, const Request&)> datasource;
};

// Passes a query request on to a remote Prometheus (the datasource of
// sidecar mode) as a form POST to <url><path> with the same parameters, and
// answers with its status and JSON body; a server that cannot be reached is
// a 503 with errorType "unavailable".
Result<std::function<Response(std::string_view path, const Request&)>> datasource_proxy(
    const rules::RemoteQueryOptions& opts);

void add_prometheus_api(Routes& routes, PrometheusApiContext ctx);

// The match[] parameters, each a series selector (as /api/v1/series and
// /federate take them); the error is worded as Prometheus words it.
Result<std::vector<std::vector<Matcher>>> selectors(const Request& r);

// Prometheus' sample value and timestamp encodings: values as strings
// ("1.5", "NaN", "+Inf"; exponent form below 1e-6 and from 1e21, "1e-07"),
// timestamps as seconds with millisecond fractions. A scalar result is
// written without an exponent, as Prometheus writes it.
std::string prom_value(double v);
double prom_time(int64_t ms);
// Parses a time parameter: RFC 3339 or Unix seconds with a fraction.
Result<int64_t> parse_time_param(std::string_view s);
// Parses a duration parameter: Prometheus duration or float seconds.
Result<int64_t> parse_duration_param(std::string_view s);

}  // namespace vigil::server
