#include "server/configs.h"

#include <unistd.h>

#include <fmt/format.h>

#include "notifiers/integration.h"
#include "server/http.h"
#include "server/web_config.h"

namespace vigil::server {

namespace {

const char* kNoAlertmanagerConfig = "route:\n  receiver: default\nreceivers:\n- name: default\n";

template <typename Loaded>
void log_warnings(Logger& log, const std::string& file, const Loaded& r) {
  for (const auto& w : r.warnings) {
    log.warn(w.message, {{"component", "config"}, {"file", file}, {"line", std::to_string(w.line)}});
  }
}

}  // namespace

std::string host_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "localhost";
  return buf;
}

Result<Configs> read_configs(const std::string& prometheus_file, const std::string& alertmanager_file,
                             Logger& log, bool initial) {
  Configs c;
  if (!prometheus_file.empty()) {
    auto r = config::load_prometheus_config(prometheus_file);
    if (!r.ok()) return fail(join_errors(prometheus_file, r.errors));
    log_warnings(log, prometheus_file, r);
    for (const auto& w : r.config.unmatched_rule_files)
      log.warn(w.message, {{"component", "config"}, {"file", prometheus_file}, {"line", std::to_string(w.line)}});
    c.prometheus = std::move(r.config);
  } else if (initial) {
    log.warn("no --config.file: no rule is evaluated and nothing is scraped; vigil only receives alerts",
             {{"component", "config"}});
  }
  if (!alertmanager_file.empty()) {
    routing::LoadOptions opts;
    opts.deliverable = notifiers::can_deliver;  // receivers vigil cannot deliver to are logged now
    auto r = routing::load_config(alertmanager_file, opts);
    if (!r.ok()) return fail(join_errors(alertmanager_file, r.errors));
    log_warnings(log, alertmanager_file, r);
    c.alertmanager = std::make_shared<const routing::Config>(std::move(r.config));
  } else {
    c.alertmanager = std::make_shared<const routing::Config>(routing::parse_config(kNoAlertmanagerConfig).config);
    if (initial) {
      log.warn("no --alertmanager.config: alerts are kept and shown but not delivered", {{"component", "config"}});
    }
  }
  return c;
}

std::string external_url_for(const std::string& configured, const std::string& web_config_file,
                             int port) {
  std::string url = configured;
  if (url.empty()) {
    // The web configuration is checked in full when the server starts; here
    // only whether it turns TLS on matters.
    bool tls = false;
    if (!web_config_file.empty()) {
      auto web = load_web_config(web_config_file);
      tls = web && web->tls.enabled();
    }
    url = fmt::format("{}://{}:{}", tls ? "https" : "http", host_name(), port);
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string route_prefix_for(const std::string& configured, const std::string& external_url) {
  if (!configured.empty()) return Routes::normalize_route_prefix(configured);
  std::string_view url = external_url;
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  url.remove_prefix(scheme + 3);
  size_t slash = url.find('/');
  if (slash == std::string_view::npos) return "";
  url.remove_prefix(slash);
  size_t end = url.find_first_of("?#");
  if (end != std::string_view::npos) url = url.substr(0, end);
  return Routes::normalize_route_prefix(url);
}

}  // namespace vigil::server
