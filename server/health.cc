#include "server/health.h"

#include <nlohmann/json.hpp>

#include "model/build_info.h"

namespace vigil::server {

namespace {

std::string health_document(const HealthSources& s) {
  nlohmann::ordered_json o;
  o["status"] = s.ready->load() ? "healthy" : "starting";
  o["version"] = build::kVersion;
  o["build"] = {{"version", build::kVersion}, {"commit", build::kCommit}, {"date", build::kDate}};
  o["uptime_seconds"] = static_cast<double>(s.clock->now() - s.started_at) / 1000.0;
  nlohmann::ordered_json comps = nlohmann::ordered_json::object();
  size_t failing = 0;
  for (const auto& g : s.rules->status()) {
    for (const auto& r : g.rules)
      if (!r.health.ok) ++failing;
  }
  comps["rules"] = {{"status", failing ? "degraded" : "ok"},
                    {"groups", s.rules->group_count()},
                    {"rules", s.rules->rule_count()},
                    {"failing_rules", failing}};
  comps["router"] = {{"status", "ok"}, {"alerts", s.router->alerts().size()}, {"groups", s.router->group_count()}};
  if (s.scraper) {
    size_t up = 0, down = 0;
    for (const auto& t : s.scraper->active_targets()) {
      if (t.health == storage::TargetHealth::kUp) ++up;
      if (t.health == storage::TargetHealth::kDown) ++down;
    }
    comps["scrape"] = {{"status", down ? "degraded" : "ok"}, {"targets_up", up}, {"targets_down", down}};
  } else {
    comps["datasource"] = {{"status", "ok"}, {"url", s.datasource_url}};
  }
  if (s.cluster) {
    auto c = s.cluster->status();
    comps["cluster"] = {{"status", c.status == "ready" ? "ok" : "degraded"}, {"peer", c.name},
                        {"peers", c.peers.size()}, {"error", c.last_error}};
  }
  const bool reload_ok = s.last_reload_ok->load();
  comps["config"] = {{"status", reload_ok ? "ok" : "degraded"}, {"last_reload_successful", reload_ok}};
  o["components"] = std::move(comps);
  return o.dump();
}

}  // namespace

const std::vector<std::string>& health_paths() {
  static const std::vector<std::string> paths{"/-/healthy", "/-/ready", "/live", "/ready", "/health"};
  return paths;
}

void add_health_routes(Routes& routes, HealthSources s) {
  routes.add("GET", "/-/healthy", [](const Request&) { return Response::text(200, "vigil is Healthy.\n"); });
  routes.add("GET", "/-/ready", [s](const Request&) {
    if (!*s.ready) return Response::text(503, "vigil is not ready yet.\n");
    // Ready all the same when etcd is out of reach: the replica notifies on
    // its own then, and taking it out of service would lose alerts.
    if (s.cluster && !s.cluster->ready())
      return Response::text(200, "vigil is Ready (cluster settling: etcd out of reach, notifying without claims).\n");
    return Response::text(200, "vigil is Ready.\n");
  });
  routes.add("GET", "/live", [](const Request&) { return Response::json(200, R"({"status":"alive"})"); });
  routes.add("GET", "/ready", [s](const Request&) {
    return *s.ready ? Response::json(200, R"({"status":"ready"})") : Response::json(503, R"({"status":"starting"})");
  });
  routes.add("GET", "/health", [s](const Request&) { return Response::json(*s.ready ? 200 : 503, health_document(s)); });
}

}  // namespace vigil::server
