#pragma once

// http_sd_configs as Prometheus runs them: every refresh_interval the URL
// is fetched (GET, Accept: application/json,
// X-Prometheus-Refresh-Interval-Seconds, the job's HTTP client options
// from the config block, the refresh interval as timeout but at most 10 s,
// since refreshes run on the scrape loop); a 200 answer
// with Content-Type application/json and a JSON list of
// {"targets": [...], "labels": {...}} replaces the targets, each group
// labelled __meta_url with the URL. Any other answer is a failed refresh:
// the previous targets stay.

#include <functional>
#include <memory>
#include <string>

#include "config/prometheus_config.h"
#include "net/http_client.h"
#include "storage/refresh_discovery.h"

namespace vigil::storage {

class HttpDiscovery : public RefreshDiscovery {
 public:
  using Fetch = std::function<Result<net::HttpResponse>(const net::HttpRequest&)>;
  // `fetch` sends the request (tests inject one); the client built from the
  // config's HTTP options otherwise. Fails when those options cannot be
  // built.
  static Result<std::unique_ptr<HttpDiscovery>> create(config::HttpSdConfig cfg, Fetch fetch = nullptr);
  const char* mechanism() const override { return "http"; }

 private:
  HttpDiscovery(config::HttpSdConfig cfg, Fetch fetch);
  Answer fetch() override;

  config::HttpSdConfig cfg_;
  Fetch fetch_;
};

}  // namespace vigil::storage
