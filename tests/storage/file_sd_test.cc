// Alertmanager discovery: the endpoints Prometheus derives from static and
// file-discovered targets, relabeled; files followed as they change.
#include <doctest/doctest.h>

#include <filesystem>

#include "config/prometheus_config.h"
#include "storage/file_sd.h"
#include "tests/temp_dir.h"

using namespace vigil;
using namespace vigil::config;
using namespace vigil::storage;

namespace {
AlertmanagerTargetConfig load_am(const testing::TempDir& dir, const std::string& body) {
  auto path = dir.write("prometheus.yml", "alerting:\n  alertmanagers:\n" + body);
  auto r = load_prometheus_config(path);
  REQUIRE(r.ok());
  REQUIRE(r.config.alertmanagers.size() == 1);
  return r.config.alertmanagers[0];
}
}  // namespace

TEST_CASE("alertmanager discovery: static and file targets, path prefix, relabeling") {
  testing::TempDir dir;
  dir.write("ams.json", R"([{"targets": ["am-1:9093", "am-2:9093"], "labels": {"env": "prod"}},
                            {"targets": ["am-3:9093"], "labels": {"env": "dev"}}])");
  auto cfg = load_am(dir, R"(  - path_prefix: /am/
    static_configs:
    - targets: [static:9093]
    file_sd_configs:
    - files: [ams.json]
    relabel_configs:
    - source_labels: [env]
      regex: dev
      action: drop
    - source_labels: [__address__]
      regex: am-2:9093
      target_label: __scheme__
      replacement: https
)");
  FileDiscovery d(cfg.file_sd_configs, kSecond);
  CHECK(d.refresh(0, true));
  CHECK(alertmanager_urls(cfg, d.groups()) ==
        std::vector<std::string>{"http://static:9093/am/api/v2/alerts", "http://am-1:9093/am/api/v2/alerts",
                                 "https://am-2:9093/am/api/v2/alerts"});

  // The file changes: the next poll sees it.
  dir.write("ams.json", R"([{"targets": ["am-4:9093"]}])");
  std::filesystem::last_write_time(dir.path() / "ams.json",
                                   std::filesystem::file_time_type::clock::now() + std::chrono::seconds(5));
  CHECK(d.refresh(2 * kSecond, false));
  CHECK(alertmanager_urls(cfg, d.groups()) ==
        std::vector<std::string>{"http://static:9093/am/api/v2/alerts", "http://am-4:9093/am/api/v2/alerts"});

  // A broken file keeps its previous targets and says why.
  dir.write("ams.json", "[{\"targets\": [1]}]");
  std::filesystem::last_write_time(dir.path() / "ams.json",
                                   std::filesystem::file_time_type::clock::now() + std::chrono::seconds(10));
  CHECK_FALSE(d.refresh(4 * kSecond, false));
  CHECK(d.read_errors() == 1);
  REQUIRE(d.errors().size() == 1);
  CHECK(d.errors()[0].message.find("\"targets\" must be a list of strings") != std::string::npos);
  CHECK(alertmanager_urls(cfg, d.groups()).size() == 2);
}

TEST_CASE("alertmanager discovery: the default path and a prefix given without slashes") {
  testing::TempDir dir;
  auto plain = load_am(dir, "  - static_configs:\n    - targets: [a:9093]\n");
  CHECK(alertmanager_urls(plain, {}) == std::vector<std::string>{"http://a:9093/api/v2/alerts"});
  auto prefixed = load_am(dir, "  - path_prefix: x//y\n    scheme: https\n    static_configs:\n    - targets: [a:9093]\n");
  CHECK(alertmanager_urls(prefixed, {}) == std::vector<std::string>{"https://a:9093/x/y/api/v2/alerts"});
}
