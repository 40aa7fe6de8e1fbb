// prometheus.yml loading: defaults, inheritance from global, the HTTP client
// options as HttpClient takes them, rule file globs, warnings for what vigil
// does not act on, and errors with positions as strict as upstream's.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "config/prometheus_config.h"
#include "model/file.h"
#include "model/yaml.h"
#include "net/http_client.h"
#include "tests/temp_dir.h"

using namespace vigil;
using namespace vigil::config;

namespace {

PrometheusConfigResult parse_ok(const std::string& yaml, std::string_view dir = {}) {
  PrometheusConfigResult r = parse_prometheus_config(yaml, dir);
  for (const auto& e : r.errors) MESSAGE("error: ", e.message, " at ", e.line, ":", e.column);
  REQUIRE(r.ok());
  return r;
}

Error first_error(const std::string& yaml) {
  PrometheusConfigResult r = parse_prometheus_config(yaml);
  REQUIRE_FALSE(r.ok());
  return r.errors.front();
}

bool has_warning(const PrometheusConfigResult& r, std::string_view part) {
  for (const auto& w : r.warnings)
    if (w.message.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("prometheus config scrape: an empty file is all defaults") {
  auto r = parse_ok("");
  CHECK(r.config.global.scrape_interval == kMinute);
  CHECK(r.config.global.scrape_timeout == 10 * kSecond);
  CHECK(r.config.global.evaluation_interval == kMinute);
  CHECK(r.config.scrape_configs.empty());
  CHECK(r.warnings.empty());
}

TEST_CASE("prometheus config scrape: jobs inherit global intervals and default their fields") {
  auto r = parse_ok(R"(
global:
  scrape_interval: 15s
  evaluation_interval: 30s
  sample_limit: 500
  external_labels:
    cluster: eu1
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['a:9100', 'b:9100']
        labels: {env: prod}
  - job_name: fast
    scrape_interval: 5s
    metrics_path: /m
    scheme: https
    honor_labels: true
    honor_timestamps: false
    sample_limit: 10
    params:
      module: [http_2xx, icmp]
    static_configs:
      - targets: ['c:1']
)");
  const auto& c = r.config;
  CHECK(c.global.scrape_interval == 15 * kSecond);
  CHECK(c.global.scrape_timeout == 10 * kSecond);
  CHECK(c.global.evaluation_interval == 30 * kSecond);
  CHECK(c.global.external_labels.to_string() == R"({cluster="eu1"})");
  REQUIRE(c.scrape_configs.size() == 2);
  const ScrapeConfig& node = *c.scrape_config("node");
  CHECK(node.scrape_interval == 15 * kSecond);
  CHECK(node.scrape_timeout == 10 * kSecond);
  CHECK(node.metrics_path == "/metrics");
  CHECK(node.scheme == "http");
  CHECK(node.honor_timestamps);
  CHECK_FALSE(node.honor_labels);
  CHECK(node.sample_limit == 500);
  REQUIRE(node.static_configs.size() == 1);
  CHECK(node.static_configs[0].targets == std::vector<std::string>{"a:9100", "b:9100"});
  CHECK(node.static_configs[0].labels.to_string() == R"({env="prod"})");
  const ScrapeConfig& fast = *c.scrape_config("fast");
  CHECK(fast.scrape_interval == 5 * kSecond);
  CHECK(fast.scrape_timeout == 5 * kSecond);  // min(global timeout, own interval)
  CHECK(fast.metrics_path == "/m");
  CHECK(fast.scheme == "https");
  CHECK(fast.honor_labels);
  CHECK_FALSE(fast.honor_timestamps);
  CHECK(fast.sample_limit == 10);
  REQUIRE(fast.params.size() == 1);
  CHECK(fast.params[0].first == "module");
  CHECK(fast.params[0].second == std::vector<std::string>{"http_2xx", "icmp"});
  CHECK(c.scrape_config("nope") == nullptr);
}

TEST_CASE("prometheus config scrape: relabel configs are decoded with their positions") {
  auto r = parse_ok(R"(scrape_configs:
  - job_name: j
    static_configs: [{targets: [a:1]}]
    relabel_configs:
      - source_labels: [__address__]
        target_label: host
    metric_relabel_configs:
      - regex: go_.*
        source_labels: [__name__]
        action: drop
alerting:
  alert_relabel_configs:
    - action: labeldrop
      regex: replica
)");
  const ScrapeConfig& j = r.config.scrape_configs.at(0);
  REQUIRE(j.relabel_configs.size() == 1);
  CHECK(j.relabel_configs[0].target_label == "host");
  CHECK(j.relabel_configs[0].line == 5);
  REQUIRE(j.metric_relabel_configs.size() == 1);
  CHECK(j.metric_relabel_configs[0].action == config::RelabelAction::kDrop);
  REQUIRE(r.config.alert_relabel_configs.size() == 1);
  CHECK(r.config.alert_relabel_configs[0].action == config::RelabelAction::kLabelDrop);
}

TEST_CASE("prometheus config scrape: HTTP options become the http_config HttpClient takes") {
  testing::TempDir dir;
  auto r = parse_ok(R"(scrape_configs:
  - job_name: secured
    basic_auth:
      username: u
      password_file: secrets/pw
    tls_config:
      ca_file: ca.pem
      insecure_skip_verify: true
    follow_redirects: false
    static_configs: [{targets: [a:1]}]
  - job_name: bearer
    bearer_token: s3cret
    proxy_url: http://proxy:3128
    static_configs: [{targets: [a:1]}]
)",
                    dir.path().string());
  const auto& secured = r.config.scrape_configs.at(0).http;
  REQUIRE(secured.is_map());
  CHECK(secured.find("basic_auth")->str("username") == "u");
  CHECK(secured.find("basic_auth")->str("password_file") == dir.path().string() + "/secrets/pw");
  CHECK(secured.find("tls_config")->str("ca_file") == dir.path().string() + "/ca.pem");
  CHECK(secured.find("tls_config")->flag("insecure_skip_verify"));
  CHECK_FALSE(secured.flag("follow_redirects"));
  const auto& bearer = r.config.scrape_configs.at(1).http;
  // bearer_token is normalised into an authorization, as for Alertmanager.
  REQUIRE(bearer.find("authorization") != nullptr);
  CHECK(bearer.find("authorization")->str("credentials") == "s3cret");
  CHECK(bearer.str("proxy_url") == "http://proxy:3128");
  auto client = net::HttpClient::create(&bearer);
  CHECK(client.has_value());
  // A job without options still gets a usable (default) map.
  auto plain = parse_ok("scrape_configs: [{job_name: p, static_configs: [{targets: [a:1]}]}]\n");
  CHECK(net::HttpClient::create(&plain.config.scrape_configs.at(0).http).has_value());
}

TEST_CASE("prometheus config scrape: unsupported discoveries and ignored sections warn once each") {
  auto r = parse_ok(R"(global:
  query_log_file: /tmp/q.log
remote_write:
  - url: http://remote/write
storage:
  tsdb:
    out_of_order_time_window: 10m
scrape_configs:
  - job_name: k8s
    kubernetes_sd_configs:
      - role: pod
      - role: node
    consul_sd_configs:
      - server: consul:8500
  - job_name: files
    file_sd_configs:
      - files: [targets/*.json]
)");
  CHECK(r.warnings.size() == 4);
  CHECK(has_warning(r, "job \"k8s\": kubernetes_sd_configs is not supported"));
  CHECK(has_warning(r, "job \"k8s\": consul_sd_configs is not supported"));
  CHECK(!has_warning(r, "remote_write is not supported"));
  REQUIRE(r.config.remote_write.size() == 1);
  CHECK(has_warning(r, "storage is not supported"));
  CHECK(has_warning(r, "query_log_file"));
  const ScrapeConfig& k8s = r.config.scrape_configs.at(0);
  CHECK(k8s.unsupported_sd == std::vector<std::string>{"consul_sd_configs", "kubernetes_sd_configs"});
  for (const auto& w : r.warnings) CHECK(w.line > 0);
  const ScrapeConfig& files = r.config.scrape_configs.at(1);
  REQUIRE(files.file_sd_configs.size() == 1);
  CHECK(files.file_sd_configs[0].refresh_interval == 5 * kMinute);
  CHECK(files.file_sd_configs[0].files == std::vector<std::string>{"targets/*.json"});
}

TEST_CASE("prometheus config scrape: alertmanagers") {
  auto r = parse_ok(R"(alerting:
  alertmanagers:
    - static_configs:
        - targets: ['am1:9093', 'am2:9093']
    - scheme: https
      path_prefix: /am
      timeout: 3s
      api_version: v2
      basic_auth: {username: a, password: b}
      static_configs: [{targets: [am3:443]}]
      relabel_configs:
        - source_labels: [__address__]
          regex: am3.*
          action: keep
)");
  REQUIRE(r.config.alertmanagers.size() == 2);
  const auto& a = r.config.alertmanagers[0];
  CHECK(a.scheme == "http");
  CHECK(a.path_prefix == "/");
  CHECK(a.timeout == 10 * kSecond);
  CHECK(a.api_version == "v2");
  CHECK(a.static_configs.at(0).targets.size() == 2);
  const auto& b = r.config.alertmanagers[1];
  CHECK(b.scheme == "https");
  CHECK(b.path_prefix == "/am");
  CHECK(b.timeout == 3 * kSecond);
  CHECK(b.http.find("basic_auth")->str("username") == "a");
  CHECK(b.relabel_configs.size() == 1);

  Error v1 = first_error("alerting:\n  alertmanagers:\n    - api_version: v1\n");
  CHECK(v1.message == "expected Alertmanager api version to be one of [v2] but got v1");
  CHECK(v1.line == 3);
}

TEST_CASE("prometheus config scrape: rule file globs expand against the file's directory") {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "rules");
  dir.write("rules/b.yml", "groups: []\n");
  dir.write("rules/a.yml", "groups: []\n");
  dir.write("rules/skip.txt", "");
  dir.write("other.yml", "groups: []\n");
  std::string abs_pattern = (dir.path() / "other.yml").string();
  std::string cfg = dir.write("prometheus.yml", "rule_files:\n  - rules/*.yml\n  - " + abs_pattern +
                                                    "\n  - nothing/*.yml\n");
  auto r = load_prometheus_config(cfg);
  REQUIRE(r.ok());
  CHECK(r.config.path == cfg);
  CHECK(r.config.rule_file_patterns == std::vector<std::string>{"rules/*.yml", abs_pattern, "nothing/*.yml"});
  const std::string d = dir.path().string();
  CHECK(r.config.rule_files == std::vector<std::string>{d + "/other.yml", d + "/rules/a.yml", d + "/rules/b.yml"});
  // A pattern that matches nothing loads nothing, as upstream, but says so
  // where it is written.
  CHECK(r.warnings.empty());
  REQUIRE(r.config.unmatched_rule_files.size() == 1);
  CHECK(r.config.unmatched_rule_files[0].message ==
        "rule_files entry \"nothing/*.yml\" matches no file (relative to the configuration file's folder): no "
        "rules are loaded from it");
  CHECK(r.config.unmatched_rule_files[0].line == 4);

  Error bad = first_error("rule_files: ['rules/[a.yml']\n");
  CHECK(bad.message == "invalid rule file path \"rules/[a.yml\"");
}

TEST_CASE("prometheus config scrape: scrape_config_files are loaded as the file's own scrape configs") {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "jobs");
  dir.write("jobs/a.yml", "scrape_configs:\n  - job_name: a\n    file_sd_configs: [{files: [targets.json]}]\n");
  dir.write("jobs/b.yml", "scrape_configs:\n  - job_name: b\n    scrape_timeout: 2m\n");
  std::string cfg = dir.write("prometheus.yml", "global: {scrape_interval: 5m}\nscrape_config_files: [jobs/a.yml]\n"
                                                "scrape_configs:\n  - job_name: main\n");
  auto r = load_prometheus_config(cfg);
  REQUIRE(r.ok());
  REQUIRE(r.config.scrape_configs.size() == 2);
  CHECK(r.config.scrape_configs[1].job_name == "a");
  CHECK(r.config.scrape_configs[1].scrape_interval == 5 * kMinute);  // global's
  // Relative paths in an included file resolve against its own directory.
  CHECK(r.config.scrape_configs[1].file_sd_configs.at(0).files.at(0) == (dir.path() / "jobs/targets.json").string());

  // Problems in an included file name it; job names are unique across files.
  cfg = dir.write("p2.yml", "scrape_config_files: ['jobs/*.yml']\nscrape_configs:\n  - job_name: a\n");
  r = load_prometheus_config(cfg);
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].message == (dir.path() / "jobs/a.yml").string() +
                                   ":2:5: found multiple scrape configs with job name \"a\"");
  CHECK(r.errors[1].message.ends_with(
      "jobs/b.yml:2:5: scrape timeout greater than scrape interval for scrape config with job name \"b\""));
  CHECK(first_error("scrape_config_files: ['jobs/*/*.yml']\n").message ==
        "invalid scrape config file path \"jobs/*/*.yml\"");
}

TEST_CASE("prometheus config scrape: errors name the line and say what was expected") {
  Error unknown = first_error("scrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n");
  CHECK(unknown.message == "field scrape_intervall not found in type config.plain");
  CHECK(unknown.line == 3);
  CHECK(unknown.column == 5);
  CHECK(first_error("scrape_configs:\n  - job_name: a\n    consult_sd_configs: []\n")
            .message.starts_with("field consult_sd_configs not found in type"));
  CHECK(first_error("scrape_configs:\n  - static_configs: []\n").message == "job_name is empty");
  Error dup = first_error("scrape_configs:\n  - job_name: a\n  - job_name: a\n");
  CHECK(dup.message == "found multiple scrape configs with job name \"a\"");
  CHECK(dup.line == 3);
  CHECK(first_error("scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 6s\n").message ==
        "scrape timeout greater than scrape interval for scrape config with job name \"a\"");
  CHECK(first_error("global:\n  scrape_timeout: 2m\n").message ==
        "global scrape timeout greater than scrape interval");
  CHECK(first_error("global:\n  scrape_interval: 5 minutes\n").message.starts_with("scrape_interval: "));
  CHECK(first_error("scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ['http://bad']}]\n").message ==
        "\"http://bad\" is not a valid hostname");
  Error rl = first_error("scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: hashmod\n"
                         "        target_label: x\n");
  CHECK(rl.message == "relabel configuration for hashmod requires non-zero modulus");
  CHECK(rl.line == 4);
  CHECK(first_error("scrape_configs:\n  - job_name: a\n    relabel_configs:\n      -\n").message ==
        "empty or null target relabeling rule in scrape config");
  CHECK(first_error("scrape_configs:\n  - job_name: a\n    metric_relabel_configs: [null]\n").message ==
        "empty or null metric relabeling rule in scrape config");
  CHECK(first_error("scrape_configs:\n  - job_name: a\n    file_sd_configs: [{files: [targets.txt]}]\n").message ==
        "path name \"targets.txt\" is not valid for file discovery");
  CHECK(first_error("scrape_configs:\n  - job_name: a\n    scheme: ftp\n").message ==
        "scheme must be \"http\" or \"https\", got \"ftp\"");
  CHECK(first_error("scrape_configs:\n  - job_name: a\n    bearer_token: x\n    bearer_token_file: y\n").message ==
        "at most one of bearer_token & bearer_token_file must be configured");
  CHECK(first_error("scrape_configs:\n  -\n").message == "empty or null scrape config section");
  CHECK(first_error("scrape_configs: [\n").line > 0);
}

TEST_CASE("prometheus config scrape: the bundled examples load") {
  const std::string ex = std::string(VIGIL_SOURCE_DIR) + "/examples";
  auto bot = load_prometheus_config(ex + "/bot-core/prometheus.yml");
  for (const auto& e : bot.errors) MESSAGE(e.message, " at ", e.line);
  REQUIRE(bot.ok());
  CHECK(bot.config.scrape_configs.size() == 9);
  CHECK(bot.config.global.external_labels.get("cluster") == "bot-core-production");
  CHECK(bot.config.alertmanagers.at(0).static_configs.at(0).targets.at(0) == "alertmanager:9093");
  CHECK(bot.config.rule_file_patterns == std::vector<std::string>{"rules/alerts.yml"});
  CHECK(bot.config.rule_files == std::vector<std::string>{ex + "/bot-core/rules/alerts.yml"});
  CHECK(bot.config.scrape_config("nextjs-ui-dashboard")->metrics_path == "/api/metrics");
  CHECK(bot.config.scrape_config("nextjs-ui-dashboard")->scrape_interval == 30 * kSecond);
  REQUIRE(bot.warnings.size() == 1);
  CHECK(bot.warnings[0].message.find("job \"kubernetes-pods\": kubernetes_sd_configs") != std::string::npos);
  // regex: true (a YAML boolean) is read as the text "true", as upstream does.
  CHECK(bot.config.scrape_config("kubernetes-pods")->relabel_configs.at(0).regex == "true");

  auto ta = load_prometheus_config(ex + "/ta-bot/prometheus.yml");
  REQUIRE(ta.ok());
  CHECK(ta.config.scrape_configs.size() == 2);
  CHECK(ta.warnings.size() == 1);
  CHECK(ta.config.rule_files == std::vector<std::string>{ex + "/ta-bot/rules/ta-bot-alerts.yaml"});

  // The ConfigMap carries the same configuration as a string.
  auto text = read_file(ex + "/ta-bot/prometheus-config.yaml");
  REQUIRE(text);
  auto doc = parse_yaml(*text);
  REQUIRE(doc);
  std::string embedded;
  auto top = doc->children(*doc->root());
  for (size_t i = 0; i + 1 < top.size(); i += 2) {
    if (doc->value(*top[i]) != "data") continue;
    auto data = doc->children(*top[i + 1]);
    for (size_t j = 0; j + 1 < data.size(); j += 2)
      if (doc->value(*data[j]) == "prometheus.yml") embedded = std::string(doc->value(*data[j + 1]));
  }
  REQUIRE_FALSE(embedded.empty());
  auto cm = parse_ok(embedded);
  CHECK(cm.config.scrape_configs.size() == 2);
  CHECK(cm.config.scrape_config("ta-bot")->scrape_interval == 10 * kSecond);
}
TEST_CASE("prometheus config scrape: name validation, scrape protocols and body size limits") {
  auto r = parse_ok(R"(global:
  metric_name_validation_scheme: legacy
  body_size_limit: 10MB
scrape_configs:
  - job_name: a
    scrape_protocols: [OpenMetricsText1.0.0, PrometheusText0.0.4]
  - job_name: b
    body_size_limit: 1KiB
)");
  CHECK(r.config.scrape_config("a")->body_size_limit == 10u << 20);
  CHECK(r.config.scrape_config("b")->body_size_limit == 1024);
  // Legacy names: a target label with a dot is refused.
  Error legacy = first_error("global:\n  metric_name_validation_scheme: legacy\nscrape_configs:\n  - job_name: a\n"
                             "    relabel_configs: [{target_label: a.b}]\n");
  CHECK(legacy.message == "\"a.b\" is invalid 'target_label' for replace action");
  // A job can go back to UTF-8 names.
  parse_ok("global:\n  metric_name_validation_scheme: legacy\nscrape_configs:\n  - job_name: a\n"
           "    metric_name_validation_scheme: utf8\n    relabel_configs: [{target_label: a.b}]\n");
  CHECK(first_error("global:\n  metric_name_validation_scheme: invalid_scheme\n").message ==
        "unrecognized ValidationScheme: \"invalid_scheme\"");
  CHECK(first_error("global:\n  metric_name_validation_scheme: legacy\n  metric_name_escaping_scheme: allow-utf-8\n")
            .message == "utf8 metric names requested but validation scheme is not set to UTF8");
  CHECK(first_error("scrape_configs:\n  - job_name: a\n    scrape_protocols: [prometheusproto]\n")
            .message.starts_with("scrape_protocols: unknown scrape protocol prometheusproto, supported: "
                                 "[OpenMetricsText0.0.1"));
  CHECK(first_error("scrape_configs:\n  - job_name: a\n    scrape_protocols: [PrometheusProto, prometheusproto]\n")
            .message == "duplicated protocol in scrape_protocols, got [PrometheusProto prometheusproto] for scrape "
                        "config with job name \"a\"");
  CHECK(first_error("scrape_configs:\n  - job_name: a\n    fallback_scrape_protocol: proto\n")
            .message.starts_with("invalid fallback_scrape_protocol for scrape config with job name \"a\": unknown "
                                 "scrape protocol proto, supported: ["));
  // Sections vigil does not act on are still checked as upstream checks them.
  CHECK(first_error("remote_write:\n  - name: q\n").message == "url for remote_write is empty");
  CHECK(first_error("remote_write:\n  - url: http://a/\n    queue_config: {min_shards: 5, max_shards: 2}\n")
            .message == "remote write queue min_shards must not be greater than max_shards");
  CHECK(first_error("remote_read:\n  - url: http://a/\n    headers: {User-Agent: x}\n").message ==
        "User-Agent is a reserved header. It must not be changed");
  CHECK(first_error("tracing:\n  compression: gzip\n").message == "tracing endpoint must be set");
  CHECK(first_error("storage:\n  tsdb:\n    retention: {percentage: 101}\n")
            .message.starts_with("'storage.tsdb.retention.percentage' must be in the range [0, 100]"));
  CHECK(first_error("otlp:\n  translation_strategy: Nope\n").message ==
        "unsupported OTLP translation strategy \"Nope\"");
  CHECK(first_error("scrape_configs:\n  - job_name: a\n    body_size_limit: 100\n").message ==
        "units: unknown unit  in 100");
  CHECK(first_error("scrape_configs:\n  - job_name: a\n    static_configs:\n      -\n").message ==
        "empty or null section in static_configs");
  CHECK(first_error("rule_files: ['my/*/rule']\n").message == "invalid rule file path \"my/*/rule\"");
}

TEST_CASE("prometheus config: remote_write as Prometheus reads it") {
  auto r = parse_ok(R"(global:
  external_labels: {replica: a}
remote_write:
  - url: https://mimir.example/api/v1/push
    name: central
    remote_timeout: 10s
    headers: {X-Scope-OrgID: team-a}
    basic_auth: {username: u, password: p}
    write_relabel_configs:
      - source_labels: [__name__]
        regex: "debug_.*"
        action: drop
    queue_config:
      capacity: 500
      max_samples_per_send: 100
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 10s
      retry_on_http_429: false
    send_native_histograms: true
  - url: http://other/write
)");
  REQUIRE(r.config.remote_write.size() == 2);
  const RemoteWriteConfig& c = r.config.remote_write[0];
  CHECK(c.url == "https://mimir.example/api/v1/push");
  CHECK(c.name == "central");
  CHECK(c.remote_timeout == 10 * kSecond);
  REQUIRE(c.headers.size() == 1);
  CHECK(c.headers[0] == std::pair<std::string, std::string>{"X-Scope-OrgID", "team-a"});
  CHECK(c.http.find("basic_auth")->str("username") == "u");
  REQUIRE(c.write_relabel_configs.size() == 1);
  CHECK(c.queue.capacity == 500);
  CHECK(c.queue.max_samples_per_send == 100);
  CHECK(c.queue.batch_send_deadline == kSecond);
  CHECK(c.queue.min_backoff == 100);
  CHECK(c.queue.max_backoff == 10 * kSecond);
  CHECK(!c.queue.retry_on_http_429);
  CHECK(c.send_native_histograms);
  // Prometheus' defaults.
  const RemoteWriteConfig& d = r.config.remote_write[1];
  CHECK(!d.send_native_histograms);
  CHECK(d.remote_timeout == 30 * kSecond);
  CHECK(d.queue.capacity == 10000);
  CHECK(d.queue.max_samples_per_send == 2000);
  CHECK(d.queue.batch_send_deadline == 5 * kSecond);
  CHECK(d.queue.min_backoff == 30);
  CHECK(d.queue.max_backoff == 5 * kSecond);
  CHECK(d.queue.retry_on_http_429);
  CHECK(r.warnings.empty());
}

TEST_CASE("prometheus config: remote_write mistakes are errors at their line") {
  auto unknown = parse_prometheus_config("remote_write:\n  - url: http://a/\n    queue_config: {capacty: 5}\n");
  REQUIRE(!unknown.errors.empty());
  CHECK(unknown.errors[0].line == 3);
  CHECK(unknown.errors[0].message.find("capacty") != std::string::npos);
  // Said once, though both the section checks and the decoder see it.
  auto null_rule = parse_prometheus_config("remote_write:\n  - url: http://a/\n    write_relabel_configs:\n      -\n");
  CHECK(null_rule.errors.size() == 1);
  // Any URL Go parses, as upstream.
  CHECK(parse_prometheus_config("remote_write:\n  - url: localhost:9090\n").ok());
}

TEST_CASE("prometheus config scrape: histogram options and protocols are inherited as upstream decides them") {
  auto r = parse_ok(R"(
global:
  scrape_native_histograms: true
  always_scrape_classic_histograms: true
scrape_configs:
  - job_name: inherits
    static_configs: [{targets: ['a:1']}]
  - job_name: own
    scrape_native_histograms: false
    convert_classic_histograms_to_nhcb: true
    always_scrape_classic_histograms: false
    native_histogram_bucket_limit: 160
    native_histogram_min_bucket_factor: 1.1
    fallback_scrape_protocol: PrometheusText0.0.4
    metric_name_validation_scheme: legacy
    static_configs: [{targets: ['a:1']}]
)");
  REQUIRE(r.config.scrape_configs.size() == 2);
  const ScrapeConfig& in = r.config.scrape_configs[0];
  CHECK(in.scrape_native_histograms);
  CHECK(in.always_scrape_classic_histograms);
  CHECK_FALSE(in.convert_classic_histograms_to_nhcb);
  // Native histograms on and no protocols written: protobuf first.
  CHECK(in.scrape_protocols == std::vector<std::string>{"PrometheusProto", "OpenMetricsText1.0.0", "OpenMetricsText0.0.1",
                                                        "PrometheusText1.0.0", "PrometheusText0.0.4"});
  CHECK(in.fallback_scrape_protocol.empty());
  CHECK(in.name_escaping == "allow-utf-8");
  CHECK(in.native_histogram_bucket_limit == 0);
  const ScrapeConfig& own = r.config.scrape_configs[1];
  CHECK_FALSE(own.scrape_native_histograms);
  CHECK_FALSE(own.always_scrape_classic_histograms);
  CHECK(own.convert_classic_histograms_to_nhcb);
  CHECK(own.scrape_protocols ==
        std::vector<std::string>{"OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"});
  CHECK(own.native_histogram_bucket_limit == 160);
  CHECK(own.native_histogram_min_bucket_factor == doctest::Approx(1.1));
  CHECK(own.fallback_scrape_protocol == "PrometheusText0.0.4");

  // Protocols written in global win over the native-histogram default.
  auto g = parse_ok(R"(
global:
  scrape_native_histograms: true
  scrape_protocols: [PrometheusText0.0.4]
  metric_name_validation_scheme: legacy
scrape_configs:
  - job_name: j
    static_configs: [{targets: ['a:1']}]
)");
  CHECK(g.config.scrape_configs.at(0).scrape_protocols == std::vector<std::string>{"PrometheusText0.0.4"});
  CHECK(g.config.scrape_configs.at(0).name_escaping == "underscores");
}
