// vigil run: the daemon. Reads prometheus.yml and alertmanager.yml, evaluates
// the rules (scraping the targets itself, or through --datasource.url),
// routes and delivers, and serves the APIs. SIGHUP reloads every file;
// SIGTERM or SIGINT saves state and stops.
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <malloc.h>
#include <pthread.h>

#include <fmt/format.h>

#include "cli/commands.h"
#include "model/clock.h"
#include "model/duration.h"
#include "model/file.h"
#include "server/daemon.h"
#include "server/log.h"

namespace vigil::cli {

namespace {

struct RunArgs {
  server::DaemonOptions opts;
  std::string resend_delay = "1m";
  std::string for_grace_period = "10m";
  std::string for_outage_tolerance = "1h";
  std::string dispatch_start_delay = "0s";
  std::string datasource_timeout = "2m";
  std::string query_timeout = "2m";
  std::string log_level = "info";
  std::string log_format = "logfmt";
  std::string read_header_timeout = "5s";
  std::string read_timeout = "10s";
  // --cluster.*: a replica sharing state through etcd (server/cluster.h).
  std::string etcd_endpoints;
  server::ClusterOptions cluster;
  std::string lease_ttl = "5s";
  std::string poll_interval = "250ms";
  std::string etcd_timeout = "2s";
  std::string etcd_password_file;
  std::vector<std::string> features;
  std::string retention;  // --storage.retention (storage/limits.h)
  std::string history_retention = "7d";
};

// The --cluster.* flags, checked, into the daemon's options (none without
// endpoints).
std::optional<std::string> apply_cluster_flags(RunArgs& a) {
  if (a.etcd_endpoints.empty()) return std::nullopt;
  server::ClusterOptions c = a.cluster;
  for (size_t start = 0; start <= a.etcd_endpoints.size();) {
    size_t comma = a.etcd_endpoints.find(',', start);
    if (comma == std::string::npos) comma = a.etcd_endpoints.size();
    std::string e = a.etcd_endpoints.substr(start, comma - start);
    while (!e.empty() && e.back() == '/') e.pop_back();
    if (!e.empty()) c.etcd.endpoints.push_back(e);
    start = comma + 1;
  }
  auto ttl = parse_duration(a.lease_ttl);
  if (!ttl || *ttl < 2 * kSecond) return "--cluster.lease-ttl: expected a duration of at least 2s";
  c.lease_ttl = *ttl;
  auto poll = parse_duration(a.poll_interval);
  if (!poll || *poll <= 0) return "--cluster.poll-interval: expected a positive duration";
  c.poll_interval = *poll;
  auto timeout = parse_duration(a.etcd_timeout);
  if (!timeout || *timeout <= 0) return "--cluster.etcd-timeout: expected a positive duration";
  c.etcd.timeout = *timeout;
  if (!a.etcd_password_file.empty()) {
    auto pw = read_file(a.etcd_password_file);
    if (!pw) return "--cluster.etcd-password-file: " + pw.error().message;
    while (!pw->empty() && (pw->back() == '\n' || pw->back() == '\r')) pw->pop_back();
    c.etcd.password = *pw;
  }
  if (!c.etcd.password.empty() && c.etcd.username.empty())
    return "--cluster.etcd-password-file needs --cluster.etcd-username";
  a.opts.cluster = std::move(c);
  return std::nullopt;
}

int fail_with(const std::string& message) {
  std::cerr << "vigil: error: " << message << "\n";
  return 1;
}

// A long-running daemon whose threads take turns building and freeing
// notification payloads: fewer malloc arenas and fixed release thresholds
// hand freed memory back instead of keeping it per thread (before any
// thread starts).
void tune_malloc() {
  ::mallopt(M_ARENA_MAX, 2);
  ::mallopt(M_MMAP_THRESHOLD, 256 << 10);
  ::mallopt(M_TRIM_THRESHOLD, 1 << 20);
}

int run(RunArgs a) {
  tune_malloc();
  auto format = server::Logger::parse_format(a.log_format);
  if (!format) return fail_with(format.error().message);
  auto level = server::Logger::parse_level(a.log_level);
  if (!level) return fail_with(level.error().message);
  auto resend = parse_duration(a.resend_delay);
  if (!resend) return fail_with("--rules.alert.resend-delay: " + resend.error().message);
  a.opts.resend_delay = *resend;
  auto grace = parse_duration(a.for_grace_period);
  if (!grace) return fail_with("--rules.alert.for-grace-period: " + grace.error().message);
  a.opts.for_grace_period = *grace;
  auto tolerance = parse_duration(a.for_outage_tolerance);
  if (!tolerance) return fail_with("--rules.alert.for-outage-tolerance: " + tolerance.error().message);
  a.opts.for_outage_tolerance = *tolerance;
  auto start_delay = parse_duration(a.dispatch_start_delay);
  if (!start_delay) return fail_with("--dispatch.start-delay: " + start_delay.error().message);
  a.opts.dispatch_start_delay = *start_delay;
  auto dtimeout = parse_duration(a.datasource_timeout);
  if (!dtimeout) return fail_with("--datasource.timeout: " + dtimeout.error().message);
  a.opts.datasource.timeout = *dtimeout;
  auto header_timeout = parse_duration(a.read_header_timeout);
  if (!header_timeout || *header_timeout <= 0) return fail_with("--web.read-header-timeout: expected a positive duration");
  a.opts.web.read_header_timeout = *header_timeout;
  auto read_timeout = parse_duration(a.read_timeout);
  if (!read_timeout || *read_timeout <= 0) return fail_with("--web.read-timeout: expected a positive duration");
  a.opts.web.read_timeout = *read_timeout;
  auto qtimeout = parse_duration(a.query_timeout);
  if (!qtimeout || *qtimeout <= 0) return fail_with("--query.timeout: expected a positive duration");
  a.opts.query_timeout = *qtimeout;
  if (a.opts.query_max_samples <= 0) return fail_with("--query.max-samples: must be positive");
  if (a.opts.query_max_concurrency <= 0) return fail_with("--query.max-concurrency: must be positive");
  if (auto err = apply_cluster_flags(a)) return fail_with(*err);
  auto history_keep = parse_duration(a.history_retention);
  if (!history_keep || *history_keep <= 0)
    return fail_with("--notification-history.retention: expected a positive duration, got \"" + a.history_retention + "\"");
  a.opts.history_retention = *history_keep;
  if (a.opts.history_max_entries == 0) return fail_with("--notification-history.max-entries: must be positive");
  auto bounds = storage::RetentionBounds::parse(a.retention);
  if (!bounds) return fail_with(bounds.error().message);
  a.opts.retention_bounds = *bounds;
  for (const std::string& f : a.features) {
    if (f.empty()) continue;
    if (f == "event-recorder") {
      a.opts.event_recorder = true;
    } else if (f == "alert-names-in-metrics" || f == "receiver-name-in-metrics" || f == "group-key-in-metrics" ||
               f == "classic-mode" || f == "utf8-strict-mode" || f == "auto-gomemlimit") {
      std::cerr << "vigil: warning: feature " << f << " has no effect in vigil run\n";
    } else {
      return fail_with("unknown option '" + f + "' for --enable-feature");
    }
  }

  // Signals are taken by this thread alone: every thread started from here
  // on inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  SystemClock clock;
  server::Logger log(*format, *level, std::cerr, clock);
  server::Daemon daemon(a.opts, clock, log);
  if (auto r = daemon.start(); !r) {
    log.error("cannot start", {{"component", "main"}, {"err", r.error().message}});
    return 1;
  }
  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      (void)daemon.reload();  // logged; a failure keeps the running config
      continue;
    }
    log.info("stopping", {{"component", "main"}, {"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    daemon.stop();
    return 0;
  }
}

}  // namespace

void register_run(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run the daemon: evaluate rules, route and deliver alerts, serve the Alertmanager and Prometheus APIs.");
  auto& o = args->opts;
  cmd->add_option("--config.file", o.config_file, "prometheus.yml: rule files, scrape targets, external labels");
  cmd->add_option("--alertmanager.config", o.alertmanager_config, "alertmanager.yml: routes, receivers, inhibition");
  cmd->add_option("--storage.path", o.storage_path, "Directory for silences, the notification log, alerts, rule state and the store's samples")
      ->capture_default_str();
  cmd->add_option("--storage.retention,--storage.tsdb.retention.time", args->retention,
                  "How long the embedded store keeps samples. Unset: what the loaded rules' ranges need (at "
                  "least 1h). D: exactly D (as Prometheus' --storage.tsdb.retention.time, accepted as an alias). "
                  "MIN..MAX: what the rules need, at least MIN, at most MAX (either may be left out: 30d.., ..2h); "
                  "a maximum below the rules' need is warned about at load");
  cmd->add_option("--notification-history.retention", args->history_retention,
                  "How long the notification history (/api/v1/notifications) keeps an entry")
      ->capture_default_str();
  cmd->add_option("--notification-history.max-entries", o.history_max_entries,
                  "Most notifications the history keeps; the oldest are dropped beyond")
      ->capture_default_str();
  cmd->add_option("--storage.max-series", o.max_series,
                  "Most series the embedded store holds (0: no limit); beyond it new series are refused, logged "
                  "and counted in vigil_store_series_refused_total, while known series keep their scrapes")
      ->capture_default_str();
  cmd->add_option("--web.listen-address", o.listen_address, "Address to serve the APIs on")->capture_default_str();
  cmd->add_option("--web.config.file", o.web.web_config_file,
                  "Web configuration (TLS, basic auth, headers, rate limit) in Prometheus' format; followed as it changes");
  cmd->add_option("--web.max-connections", o.web.max_connections,
                  "Most HTTP connections open at once (idle ones make room for new ones)")
      ->capture_default_str();
  cmd->add_option("--web.read-header-timeout", args->read_header_timeout,
                  "Time a client has to send a request's headers (and finish a TLS handshake)")
      ->capture_default_str();
  cmd->add_option("--web.read-timeout", args->read_timeout, "Time a client has to send a request's body")
      ->capture_default_str();
  cmd->add_option("--web.external-url", o.external_url, "The URL vigil is reachable at (generator and template links)");
  cmd->add_option("--web.route-prefix", o.route_prefix,
                  "Path prefix of every route, APIs and web UI (default: the path of --web.external-url)");
  cmd->add_option("--datasource.url", o.datasource.url,
                  "Evaluate rules through this Prometheus' query API instead of scraping into the embedded store");
  cmd->add_option("--datasource.basic-auth.username", o.datasource.http.basic_auth_username, "Basic auth user for the datasource");
  cmd->add_option("--datasource.basic-auth.password-file", o.datasource.http.basic_auth_password_file,
                  "File holding the datasource's basic auth password");
  cmd->add_option("--datasource.bearer-token-file", o.datasource.http.bearer_token_file,
                  "File holding a bearer token for the datasource");
  cmd->add_option("--datasource.tls.ca-file", o.datasource.http.ca_file, "CA certificate for the datasource");
  cmd->add_flag("--datasource.tls.insecure-skip-verify", o.datasource.http.insecure_skip_verify,
                "Do not verify the datasource's certificate");
  cmd->add_option("--datasource.timeout", args->datasource_timeout, "Timeout of one rule query")->capture_default_str();
  cmd->add_option("--query.timeout", args->query_timeout, "Maximum time a query may take before it is aborted")
      ->capture_default_str();
  cmd->add_option("--query.max-samples", o.query_max_samples,
                  "Most samples a single query may hold in memory at once")
      ->capture_default_str();
  cmd->add_option("--query.max-concurrency", o.query_max_concurrency,
                  "Most queries evaluated at once; others wait for a slot")
      ->capture_default_str();
  cmd->add_option("--rules.alert.resend-delay", args->resend_delay,
                  "Minimum time before an unchanged firing alert is sent again")
      ->capture_default_str();
  cmd->add_option("--rules.alert.for-grace-period", args->for_grace_period,
                  "Minimum time between a restored `for` timer and the alert firing (alerts whose `for` is at "
                  "least this long)")
      ->capture_default_str();
  cmd->add_option("--rules.alert.for-outage-tolerance", args->for_outage_tolerance,
                  "Longest outage after which `for` timers are still restored from the datasource's "
                  "ALERTS_FOR_STATE")
      ->capture_default_str();
  cmd->add_option("--dispatch.start-delay", args->dispatch_start_delay,
                  "Minimum time after the start before notifications go out: set it to the alert senders' "
                  "resend delay (Prometheus' --rules.alert.resend-delay), as for Alertmanager")
      ->capture_default_str();
  cmd->add_option("--silences.max-silences", o.silence_limits.max_silences,
                  "Most silences held, expired ones included (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--silences.max-silence-size-bytes", o.silence_limits.max_silence_size_bytes,
                  "Largest silence, in bytes of upstream's encoding (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--alerts.max-labels", o.alert_limits.max_labels,
                  "Most labels one received alert may have (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--alerts.max-label-name-length", o.alert_limits.max_label_name_length,
                  "Longest label name of a received alert, in bytes (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--alerts.max-label-value-length", o.alert_limits.max_label_value_length,
                  "Longest label value of a received alert, in bytes (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--alerts.max-size-bytes", o.alert_limits.max_size_bytes,
                  "Most bytes of labels, annotations and generatorURL in one received alert (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--cluster.etcd-endpoints", args->etcd_endpoints,
                  "etcd v3 endpoints, comma-separated (http://host:2379,...): run as a replica of a cluster that "
                  "shares silences and the notification log through them; none: alone");
  cmd->add_option("--cluster.name", args->cluster.name, "The cluster's name: replicas with the same one share state")
      ->capture_default_str();
  cmd->add_option("--cluster.peer-name", args->cluster.peer_name,
                  "This replica's name, unique in the cluster (default: <hostname>:<port>)");
  cmd->add_option("--cluster.advertise-address", args->cluster.address,
                  "The address the cluster status shows for this replica (default: the external URL)");
  cmd->add_option("--cluster.lease-ttl", args->lease_ttl,
                  "How long a replica that stopped answering keeps its claims; another sends after that")
      ->capture_default_str();
  cmd->add_option("--cluster.poll-interval", args->poll_interval, "How often silences are read from etcd")
      ->capture_default_str();
  cmd->add_option("--cluster.etcd-timeout", args->etcd_timeout,
                  "Longest wait for one etcd request before notifying without a claim")
      ->capture_default_str();
  cmd->add_option("--cluster.etcd-username", args->cluster.etcd.username, "etcd user (with authentication on)");
  cmd->add_option("--cluster.etcd-password-file", args->etcd_password_file, "File holding the etcd user's password");
  cmd->add_option("--cluster.etcd-ca-file", args->cluster.etcd.ca_file, "CA certificate of etcd's TLS");
  cmd->add_option("--cluster.etcd-cert-file", args->cluster.etcd.cert_file, "Client certificate for etcd's TLS");
  cmd->add_option("--cluster.etcd-key-file", args->cluster.etcd.key_file, "Client key for etcd's TLS");
  cmd->add_flag("--cluster.etcd-insecure-skip-verify", args->cluster.etcd.insecure_skip_verify,
                "Do not verify etcd's certificate");
  cmd->add_option("--log.level", args->log_level, "debug, info, warn or error")->capture_default_str();
  cmd->add_option("--log.format", args->log_format, "logfmt or json")->capture_default_str();
  cmd->add_option("--enable-feature", args->features,
                  "Alertmanager features to turn on, comma-separated: event-recorder (record events to the "
                  "outputs of alertmanager.yml's event_recorder block)")
      ->delimiter(',');
  cmd->callback([args, exit_code] { *exit_code = run(*args); });
}

}  // namespace vigil::cli
