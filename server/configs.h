#pragma once

// The daemon's configuration files read and checked together, before any of
// them is applied: prometheus.yml (scrape jobs, rule files, external
// Alertmanagers) and alertmanager.yml (routes and receivers). A reload that
// fails here changes nothing.

#include <memory>
#include <string>

#include "config/prometheus_config.h"
#include "model/error.h"
#include "routing/config.h"
#include "server/log.h"

namespace vigil::server {

struct Configs {
  config::PrometheusConfig prometheus;  // defaults when no file is given
  std::shared_ptr<const routing::Config> alertmanager;
};

// Reads both files (either path may be empty). Errors name the file, its
// line and what was expected; warnings are logged. Without an
// alertmanager.yml every alert goes to one receiver with no integrations
// (`initial` logs that once, at start).
Result<Configs> read_configs(const std::string& prometheus_file, const std::string& alertmanager_file,
                             Logger& log, bool initial);

// This machine's name ("localhost" when it has none).
std::string host_name();

// The URL vigil is reached at when --web.external-url is not given:
// http(s)://HOSTNAME:PORT, https when the web configuration turns TLS on.
// Trailing slashes are removed either way.
std::string external_url_for(const std::string& configured, const std::string& web_config_file,
                             int port);

// The path prefix every route is served under: --web.route-prefix when
// given, else the path of the external URL ("http://h/vigil/" -> "/vigil"),
// as upstream; "" for the root.
std::string route_prefix_for(const std::string& configured, const std::string& external_url);

}  // namespace vigil::server
