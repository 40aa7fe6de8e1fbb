#pragma once

// prometheus.yml, as Prometheus 3.x reads it, for vigil's embedded mode: what
// to scrape, which rule files to load and where Alertmanagers are.
//
// Loading is as strict as upstream's: unknown fields, repeated keys and
// values of the wrong type are errors at their line and column. Parts vigil
// does not act on still load, each with one warning: service discoveries
// other than static_configs, file_sd_configs, dns_sd_configs and
// http_sd_configs (per scrape job; Alertmanagers: static and file),
// remote_read, storage, tracing, otlp, runtime and global.query_log_file
// (their values are still checked as upstream checks them). The scrape
// configs of scrape_config_files are loaded as the file's own. The library
// prints nothing; callers show warnings.
//
// HTTP client options (basic_auth, authorization, bearer_token(_file),
// oauth2, tls_config, proxy_url, follow_redirects, http_headers, ...) are
// kept per scrape job and per Alertmanager as the ConfigValue map that
// net::HttpClient::create takes, relative file paths made absolute
// against the configuration file's directory.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/relabel.h"
#include "config/value.h"
#include "model/duration.h"
#include "model/error.h"
#include "model/labels.h"

namespace vigil::config {

// One entry of static_configs: addresses and the labels they share.
struct StaticTargetGroup {
  std::vector<std::string> targets;
  Labels labels;
  int line = 0;
};

// One entry of file_sd_configs.
struct FileSdConfig {
  std::vector<std::string> files;  // glob patterns, absolute when loaded from a file
  Millis refresh_interval = 5 * kMinute;
  int line = 0;
};

// One entry of dns_sd_configs: the names are looked up every
// refresh_interval for records of `type` (SRV, A, AAAA, MX or NS, upper
// case); `port` is the targets' port for every type but SRV.
struct DnsSdConfig {
  std::vector<std::string> names;
  std::string type = "SRV";
  int port = 0;
  Millis refresh_interval = 30 * kSecond;
  int line = 0;
};

// One entry of http_sd_configs: `url` answers a JSON list of target groups,
// fetched every refresh_interval with the HTTP client options `http`.
struct HttpSdConfig {
  std::string url;
  Millis refresh_interval = kMinute;
  ConfigValue http;
  int line = 0;
};

struct ScrapeConfig {
  std::string job_name;
  Millis scrape_interval = 0;  // global's when not written
  Millis scrape_timeout = 0;   // min(global's, scrape_interval) when not written
  std::string metrics_path = "/metrics";
  std::string scheme = "http";
  // url.Values: each name with its values, in file order.
  std::vector<std::pair<std::string, std::vector<std::string>>> params;
  bool honor_labels = false;
  bool honor_timestamps = true;
  // Formats to ask targets for, most wanted first (the job's, else global's,
  // else OpenMetrics 1.0.0 and 0.0.1, then the text format 1.0.0 and 0.0.4).
  std::vector<std::string> scrape_protocols;
  // Protocol a body is read as when its Content-Type is missing or unknown
  // (empty: such a scrape fails).
  std::string fallback_scrape_protocol;
  // The escaping parameter the 1.0.0 text formats are asked for with
  // (metric_name_escaping_scheme: the job's, else global's, else
  // "underscores" under legacy name validation, otherwise "allow-utf-8").
  std::string name_escaping = "allow-utf-8";
  // Histograms: the job's setting, else global's, else off. Native
  // histograms turned on also put PrometheusProto first in the default
  // scrape_protocols (when neither the job nor global sets them).
  bool scrape_native_histograms = false;
  bool always_scrape_classic_histograms = false;
  bool convert_classic_histograms_to_nhcb = false;
  uint64_t native_histogram_bucket_limit = 0;       // 0: no limit
  double native_histogram_min_bucket_factor = 0;    // 0: no limit
  // 0: no limit. Written, or inherited from global.
  uint64_t sample_limit = 0;
  uint64_t label_limit = 0;
  uint64_t label_name_length_limit = 0;
  uint64_t label_value_length_limit = 0;
  uint64_t target_limit = 0;
  uint64_t body_size_limit = 0;  // bytes; 0: the scraper's default
  std::vector<StaticTargetGroup> static_configs;
  std::vector<FileSdConfig> file_sd_configs;
  std::vector<DnsSdConfig> dns_sd_configs;
  std::vector<HttpSdConfig> http_sd_configs;
  std::vector<std::string> unsupported_sd;  // "kubernetes_sd_configs", ... (each warned about once)
  std::vector<RelabelConfig> relabel_configs;
  std::vector<RelabelConfig> metric_relabel_configs;
  ConfigValue http;  // HTTP client options, for net::HttpClient::create
  int line = 0;
};

struct AlertmanagerTargetConfig {
  std::string scheme = "http";
  std::string path_prefix = "/";
  Millis timeout = 10 * kSecond;
  std::string api_version = "v2";
  std::vector<StaticTargetGroup> static_configs;
  std::vector<FileSdConfig> file_sd_configs;
  std::vector<std::string> unsupported_sd;
  std::vector<RelabelConfig> relabel_configs;
  std::vector<RelabelConfig> alert_relabel_configs;
  ConfigValue http;
  int line = 0;
};

// queue_config of a remote_write entry: the parts vigil acts on, with
// Prometheus' defaults. Shards, max_retries and sample_age_limit are checked
// and ignored: one sender per destination sends batches in order.
struct RemoteWriteQueueConfig {
  size_t capacity = 10000;  // samples held waiting; more are dropped (counted)
  size_t max_samples_per_send = 2000;
  Millis batch_send_deadline = 5 * kSecond;  // a smaller batch goes once its oldest waited this long
  Millis min_backoff = 30;                   // first retry delay, doubled each retry
  Millis max_backoff = 5 * kSecond;
  bool retry_on_http_429 = true;
};

// One remote_write entry.
struct RemoteWriteConfig {
  std::string url;
  std::string name;  // empty: none written
  Millis remote_timeout = 30 * kSecond;
  std::vector<std::pair<std::string, std::string>> headers;  // besides the protocol's own
  std::vector<RelabelConfig> write_relabel_configs;
  RemoteWriteQueueConfig queue;
  bool send_native_histograms = false;  // native histogram samples are sent only with it, as upstream
  ConfigValue http;  // HTTP client options, for net::HttpClient::create
  int line = 0;
};

struct PrometheusGlobalConfig {
  Millis scrape_interval = kMinute;
  Millis scrape_timeout = 10 * kSecond;
  Millis evaluation_interval = kMinute;
  Millis rule_query_offset = 0;
  Labels external_labels;
  // Every global field as decoded (limits, validation schemes, ...).
  ConfigValue settings;
};

struct PrometheusConfig {
  std::string path;  // as given to load_prometheus_config; empty for parse
  PrometheusGlobalConfig global;
  std::vector<std::string> rule_file_patterns;  // as written
  size_t remote_read_count = 0;                 // remote_read entries (not acted on)
  // The rule_files entries that matched no file, as upstream loads them
  // (nothing, silently): said by `vigil run`, not by the checks, which
  // print what promtool prints.
  std::vector<Error> unmatched_rule_files;
  std::vector<std::string> rule_files;          // the patterns expanded, sorted, unique
  std::vector<ScrapeConfig> scrape_configs;
  std::vector<AlertmanagerTargetConfig> alertmanagers;
  std::vector<RelabelConfig> alert_relabel_configs;
  std::vector<RemoteWriteConfig> remote_write;

  const ScrapeConfig* scrape_config(std::string_view job) const;
};

struct PrometheusConfigResult {
  PrometheusConfig config;       // complete only when errors is empty
  std::vector<Error> errors;     // positions 0 when about the whole file
  std::vector<Error> warnings;   // accepted but not acted on
  bool ok() const { return errors.empty(); }
};

// Decodes and checks configuration text. `dir` is the directory relative
// paths (rule files, file_sd files, credential files) are resolved against;
// empty leaves them as written and expands no rule file globs.
PrometheusConfigResult parse_prometheus_config(std::string_view text, std::string_view dir = {});

// Reads `path` and parses it against the file's directory.
PrometheusConfigResult load_prometheus_config(const std::string& path);


// The keys of every service discovery upstream knows but vigil does not
// implement ("kubernetes_sd_configs", ...); for scrape jobs,
// dns_sd_configs and http_sd_configs are implemented (Alertmanagers: not).
const std::vector<std::string_view>& unsupported_sd_keys();

}  // namespace vigil::config
