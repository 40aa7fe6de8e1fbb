#pragma once

// The probe endpoints: /-/healthy and /-/ready as Prometheus and
// Alertmanager answer them, /live and /ready as the seed services' probes
// expect, and /health, one JSON document (status, version, uptime, and each
// component's state) for people and dashboards.

#include <atomic>
#include <string>
#include <vector>

#include "model/clock.h"
#include "routing/router.h"
#include "rules/manager.h"
#include "server/cluster.h"
#include "server/http.h"
#include "storage/scrape.h"

namespace vigil::server {

struct HealthSources {
  const Clock* clock = nullptr;
  Millis started_at = 0;
  const std::atomic<bool>* ready = nullptr;
  const std::atomic<bool>* last_reload_ok = nullptr;
  const rules::RuleManager* rules = nullptr;
  const routing::Router* router = nullptr;
  const storage::ScrapeManager* scraper = nullptr;  // null in sidecar mode
  std::string datasource_url;                        // sidecar mode
  const Cluster* cluster = nullptr;                  // null: no cluster
};

// The paths add_health_routes serves (answered first when the server is busy).
const std::vector<std::string>& health_paths();
// Registers them; everything `s` points to must outlive `routes`.
void add_health_routes(Routes& routes, HealthSources s);

}  // namespace vigil::server
