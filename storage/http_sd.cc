#include "storage/http_sd.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace vigil::storage {

namespace {

// application/json, with at most a UTF-8 charset parameter (as upstream).
bool json_content_type(std::string_view ct) {
  while (!ct.empty() && std::isspace(static_cast<unsigned char>(ct.front()))) ct.remove_prefix(1);
  while (!ct.empty() && std::isspace(static_cast<unsigned char>(ct.back()))) ct.remove_suffix(1);
  std::string lower(ct);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "application/json") return true;
  constexpr std::string_view kPrefix = "application/json;";
  if (!lower.starts_with(kPrefix)) return false;
  std::string_view rest = std::string_view(lower).substr(kPrefix.size());
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) rest.remove_prefix(1);
  return rest == "charset=utf-8" || rest == "charset=\"utf-8\"";
}

}  // namespace

Result<std::unique_ptr<HttpDiscovery>> HttpDiscovery::create(config::HttpSdConfig cfg, Fetch fetch) {
  if (!fetch) {
    auto client = net::HttpClient::create(&cfg.http);
    if (!client) return fail(fmt::format("http_sd_configs {}: {}", cfg.url, client.error().message));
    fetch = [c = std::move(*client)](const net::HttpRequest& req) { return c->send(req); };
  }
  return std::unique_ptr<HttpDiscovery>(new HttpDiscovery(std::move(cfg), std::move(fetch)));
}

HttpDiscovery::HttpDiscovery(config::HttpSdConfig cfg, Fetch fetch)
    : RefreshDiscovery(cfg.url, cfg.refresh_interval), cfg_(std::move(cfg)), fetch_(std::move(fetch)) {}

RefreshDiscovery::Answer HttpDiscovery::fetch() {
  ++lookups_;
  net::HttpRequest req;
  req.method = "GET";
  req.url = cfg_.url;
  req.content_type.clear();
  req.headers = {{"Accept", "application/json"},
                 {"X-Prometheus-Refresh-Interval-Seconds",
                  fmt::format("{:g}", static_cast<double>(cfg_.refresh_interval) / 1000)}};
  // Refreshes run on the scrape loop: a silent server holds it at most this.
  req.timeout = std::min<Millis>(cfg_.refresh_interval, 10 * kSecond);
  req.max_body = size_t{64} << 20;
  req.abort_over_max_body = true;
  req.redact_body = false;
  auto failed = [&](std::string why) {
    ++failures_;
    return Answer{std::nullopt, fmt::format("http_sd_configs {}: {}", cfg_.url, why)};
  };
  auto resp = fetch_(req);
  if (!resp) return failed(resp.error().message);
  if (resp->status != 200) return failed(fmt::format("server returned HTTP status {}", resp->status));
  if (!json_content_type(resp->content_type))
    return failed(fmt::format("unsupported content type \"{}\" (expected application/json)", resp->content_type));
  auto groups = parse_target_groups_json(resp->body, {"__meta_url", cfg_.url});
  if (!groups) return failed(groups.error().message);
  return Answer{std::move(*groups), ""};
}

}  // namespace vigil::storage
