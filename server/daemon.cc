#include "server/daemon.h"
#include "net/url.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "config/prometheus_config.h"
#include "model/build_info.h"
#include "model/file.h"
#include "model/json_object.h"
#include "model/state_file.h"
#include "model/timestamp.h"
#include "net/http_client.h"
#include "notifiers/delivery.h"
#include "promql/ast.h"
#include "promql/engine.h"
#include "promql/printer.h"
#include "routing/config.h"
#include "routing/router.h"
#include "rules/manager.h"
#include "server/alertmanager_api.h"
#include "server/prometheus_api.h"
#include "server/web_config.h"
#include "storage/file_sd.h"
#include "storage/memory_store.h"
#include "storage/scrape.h"
#include "templates/escape.h"

namespace vigil::server {

using config::AlertmanagerTargetConfig;
using config::PrometheusConfig;
using config::load_prometheus_config;

using storage::FileDiscovery;
using storage::ScrapeManager;
using storage::ScrapeOptions;
using storage::TargetHealth;
using storage::alertmanager_urls;

namespace {

using json = nlohmann::ordered_json;

// A thread that runs `run` whenever `next` comes due (at least every
// max_wait) or when woken.
class Loop {
 public:
  using NextFn = std::function<std::optional<Millis>()>;
  using RunFn = std::function<void()>;

  Loop(const Clock& clock, NextFn next, RunFn run, Millis max_wait)
      : clock_(clock), next_(std::move(next)), run_(std::move(run)), max_wait_(max_wait) {}
  ~Loop() { stop(); }

  void start() {
    std::lock_guard lock(mu_);
    if (thread_.joinable()) return;
    stop_ = false;
    thread_ = std::thread([this] { loop(); });
  }
  void wake() {
    std::lock_guard lock(mu_);
    woken_ = true;
    cv_.notify_one();
  }
  void stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      woken_ = false;
      lock.unlock();
      run_();
      Millis wait = max_wait_;
      if (auto due = next_ ? next_() : std::nullopt) {
        // A deadline already passed (a flush still in flight) is retried
        // shortly, not in a busy loop.
        wait = std::clamp<Millis>(*due - clock_.now(), 5, max_wait_);
      }
      lock.lock();
      if (!stop_ && !woken_) {
        cv_.wait_for(lock, std::chrono::milliseconds(wait), [this] { return stop_ || woken_; });
      }
    }
  }

  const Clock& clock_;
  NextFn next_;
  RunFn run_;
  Millis max_wait_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
  std::thread thread_;
};

// Delivery, telling the router loop when a notification finished so the
// notification log reaches the disk at once.
class WakingNotifier final : public routing::Notifier {
 public:
  WakingNotifier(routing::Notifier& inner, std::function<void()> on_done)
      : inner_(inner), on_done_(std::move(on_done)) {}
  void notify(const routing::Notification& n, std::function<void(bool)> done) override {
    inner_.notify(n, [this, done = std::move(done)](bool ok) {
      done(ok);
      on_done_();
    });
  }

 private:
  routing::Notifier& inner_;
  std::function<void()> on_done_;
};

const char* kNoAlertmanagerConfig = R"(route:
  receiver: default
receivers:
- name: default
)";

// How far back rule expressions read: the longest range or subquery plus
// offsets, and the lookback of instant selectors.
Millis lookback_of(const promql::Expr& e) {
  using promql::ExprKind;
  Millis own = 0;
  switch (e.kind) {
    case ExprKind::kVectorSelector: {
      const auto& v = static_cast<const promql::VectorSelector&>(e);
      own = 5 * kMinute + std::max<Millis>(0, v.mods.offset_expr ? kHour : v.mods.offset);
      break;
    }
    case ExprKind::kMatrixSelector: {
      const auto& m = static_cast<const promql::MatrixSelector&>(e);
      Millis range = m.range_expr ? kDay : m.range;
      own = range + std::max<Millis>(0, m.selector->mods.offset_expr ? kHour : m.selector->mods.offset);
      return own;
    }
    case ExprKind::kSubquery: {
      const auto& s = static_cast<const promql::SubqueryExpr&>(e);
      Millis range = s.range_expr ? kDay : s.range;
      return range + std::max<Millis>(0, s.mods.offset) + lookback_of(*s.expr);
    }
    default:
      break;
  }
  promql::for_each_child(e, [&own](const promql::Expr& c) { own = std::max(own, lookback_of(c)); });
  return own;
}

std::string hostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "localhost";
  return buf;
}

// A rule query through a remote Prometheus' /api/v1/query.
rules::QueryFn remote_query(std::shared_ptr<net::HttpClient> client, std::string base, Millis timeout) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  return [client, base, timeout](const promql::Expr& expr, int64_t t) -> Result<promql::Vector> {
    net::HttpRequest req;
    req.method = "POST";
    req.url = base + "/api/v1/query";
    req.content_type = "application/x-www-form-urlencoded";
    req.body = "query=" + net::url_query_escape(promql::to_string(expr)) +
               fmt::format("&time={}.{:03}", t / 1000, t % 1000);
    req.timeout = timeout;
    req.max_body = size_t{256} << 20;
    auto resp = client->send(req);
    if (!resp) return fail("remote query failed: " + resp.error().message);
    // Parsed into std::map objects: ordered_json compares each key with all
    // before it, and a series may carry many labels.
    nlohmann::json body = nlohmann::json::parse(resp->body, nullptr, false);
    if (body.is_discarded()) {
      return fail(fmt::format("remote query failed: HTTP {} with a body that is not JSON", resp->status));
    }
    if (body.value("status", "") != "success") {
      return fail(fmt::format("remote query failed: HTTP {}: {}: {}", resp->status, body.value("errorType", "error"),
                              body.value("error", "no message")));
    }
    try {
      const nlohmann::json& data = body.at("data");
      std::string type = data.at("resultType").get<std::string>();
      auto value_of = [](const nlohmann::json& pair) {
        std::string v = pair.at(1).get<std::string>();
        if (v == "NaN") return std::numeric_limits<double>::quiet_NaN();
        if (v == "+Inf") return std::numeric_limits<double>::infinity();
        if (v == "-Inf") return -std::numeric_limits<double>::infinity();
        return std::strtod(v.c_str(), nullptr);
      };
      promql::Vector out;
      if (type == "scalar") {
        out.push_back(promql::Sample{{}, value_of(data.at("result")), t});
        return out;
      }
      if (type != "vector") return fail("remote query returned a " + type + ", not a vector or scalar");
      for (const auto& s : data.at("result")) {
        std::vector<Label> ls;
        for (const auto& [k, v] : s.at("metric").items()) ls.push_back(Label{k, v.get<std::string>()});
        out.push_back(promql::Sample{Labels(ls), value_of(s.at("value")), t});
      }
      return out;
    } catch (const nlohmann::json::exception& e) {
      return fail(std::string("remote query returned an unexpected body: ") + e.what());
    }
  };
}

// Alerts forwarded to external Alertmanagers (alerting.alertmanagers), from
// a queue on a thread of its own so a slow Alertmanager never delays rules.
class Forwarder {
 public:
  struct Target {
    std::string url;  // .../api/v2/alerts
    std::shared_ptr<net::HttpClient> client;
    Millis timeout = 10 * kSecond;
    uint64_t sent = 0, errors = 0;
  };

  explicit Forwarder(Logger& log) : log_(log) { thread_ = std::thread([this] { loop(); }); }
  ~Forwarder() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      cv_.notify_one();
    }
    thread_.join();
  }
  void set_targets(std::vector<Target> t) {
    std::lock_guard lock(mu_);
    targets_ = std::move(t);
  }
  void push(std::vector<routing::Alert> alerts) {
    std::lock_guard lock(mu_);
    if (targets_.empty()) return;
    for (auto& a : alerts) {
      if (queue_.size() >= kMaxQueue) {
        queue_.pop_front();
        ++dropped_;
      }
      queue_.push_back(std::move(a));
    }
    cv_.notify_one();
  }
  std::string metrics_text() const {
    std::lock_guard lock(mu_);
    std::string out =
        "# HELP prometheus_notifications_sent_total Alerts sent to external Alertmanagers.\n"
        "# TYPE prometheus_notifications_sent_total counter\n";
    for (const auto& t : targets_) out += fmt::format("prometheus_notifications_sent_total{{alertmanager=\"{}\"}} {}\n", t.url, t.sent);
    out += "# HELP prometheus_notifications_errors_total Alerts that could not be sent to external Alertmanagers.\n"
           "# TYPE prometheus_notifications_errors_total counter\n";
    for (const auto& t : targets_) out += fmt::format("prometheus_notifications_errors_total{{alertmanager=\"{}\"}} {}\n", t.url, t.errors);
    out += fmt::format(
        "# HELP prometheus_notifications_dropped_total Alerts dropped because the queue was full.\n"
        "# TYPE prometheus_notifications_dropped_total counter\nprometheus_notifications_dropped_total {}\n",
        dropped_);
    return out;
  }

 private:
  static constexpr size_t kMaxQueue = 10000;
  static constexpr size_t kMaxBatch = 256;

  void loop() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      std::vector<routing::Alert> batch;
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      std::vector<Target> targets = targets_;
      lock.unlock();
      std::string body = encode(batch);
      std::vector<std::pair<std::string, bool>> results;
      for (auto& t : targets) {
        net::HttpRequest req;
        req.url = t.url;
        req.body = body;
        req.timeout = t.timeout;
        auto resp = t.client->send(req);
        bool ok = resp && resp->status / 100 == 2;
        if (!ok) {
          log_.error("Error sending alerts", {{"component", "notifier"}, {"alertmanager", t.url},
                                              {"count", std::to_string(batch.size())},
                                              {"err", resp ? fmt::format("HTTP {}", resp->status) : resp.error().message}});
        }
        results.emplace_back(t.url, ok);
      }
      lock.lock();
      for (auto& t : targets_) {
        for (const auto& [url, ok] : results) {
          if (url != t.url) continue;
          if (ok) {
            t.sent += batch.size();
          } else {
            t.errors += batch.size();
          }
        }
      }
    }
  }

  static std::string encode(const std::vector<routing::Alert>& alerts) {
    json arr = json::array();
    for (const auto& a : alerts) {
      json o;
      o["labels"] = object_of_distinct(a.labels);
      o["annotations"] = object_of_distinct(a.annotations);
      o["startsAt"] = format_rfc3339(a.starts_at);
      o["endsAt"] = format_rfc3339(a.ends_at);
      o["generatorURL"] = a.generator_url;
      arr.push_back(std::move(o));
    }
    return arr.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  Logger& log_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<routing::Alert> queue_;
  std::vector<Target> targets_;
  uint64_t dropped_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

// Request counts and latencies per handler, for /metrics.
class ApiMetrics {
 public:
  static constexpr double kBuckets[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};
  void observe(std::string_view handler, int code, double seconds) {
    std::lock_guard lock(mu_);
    auto& h = by_handler_[std::string(handler.empty() ? "other" : handler)];
    ++h.codes[code];
    ++h.count;
    h.sum += seconds;
    for (size_t i = 0; i < std::size(kBuckets); ++i)
      if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  std::string text() const {
    std::lock_guard lock(mu_);
    std::string out =
        "# HELP vigil_http_requests_total HTTP requests by handler and status code.\n"
        "# TYPE vigil_http_requests_total counter\n";
    for (const auto& [h, s] : by_handler_)
      for (const auto& [code, n] : s.codes)
        out += fmt::format("vigil_http_requests_total{{handler=\"{}\",code=\"{}\"}} {}\n", h, code, n);
    out += "# HELP vigil_http_request_duration_seconds HTTP request latencies by handler.\n"
           "# TYPE vigil_http_request_duration_seconds histogram\n";
    for (const auto& [h, s] : by_handler_) {
      for (size_t i = 0; i < std::size(kBuckets); ++i)
        out += fmt::format("vigil_http_request_duration_seconds_bucket{{handler=\"{}\",le=\"{}\"}} {}\n", h, kBuckets[i],
                           s.buckets[i]);
      out += fmt::format("vigil_http_request_duration_seconds_bucket{{handler=\"{}\",le=\"+Inf\"}} {}\n", h, s.count);
      out += fmt::format("vigil_http_request_duration_seconds_sum{{handler=\"{}\"}} {}\n", h, s.sum);
      out += fmt::format("vigil_http_request_duration_seconds_count{{handler=\"{}\"}} {}\n", h, s.count);
    }
    return out;
  }

 private:
  struct Handler {
    std::map<int, uint64_t> codes;
    uint64_t buckets[std::size(kBuckets)] = {};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, Handler> by_handler_;
};

std::string escape_label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// The process_* metrics every Prometheus client exposes, from /proc.
std::string process_metrics() {
  std::string out;
  auto stat = read_file("/proc/self/stat");
  if (!stat) return out;
  // Fields after the command name (which may hold spaces) in parentheses.
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return out;
  std::vector<std::string> f;
  size_t i = close + 2;
  while (i < stat->size()) {
    size_t j = stat->find(' ', i);
    if (j == std::string::npos) j = stat->size();
    f.push_back(stat->substr(i, j - i));
    i = j + 1;
  }
  if (f.size() < 22) return out;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  double cpu = (std::strtod(f[11].c_str(), nullptr) + std::strtod(f[12].c_str(), nullptr)) / ticks;
  double vsize = std::strtod(f[20].c_str(), nullptr);
  double rss = std::strtod(f[21].c_str(), nullptr) * page;
  size_t fds = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++fds;
  out += fmt::format(
      "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
      "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}\n"
      "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
      "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}\n"
      "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
      "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes {}\n"
      "# HELP process_open_fds Number of open file descriptors.\n"
      "# TYPE process_open_fds gauge\nprocess_open_fds {}\n",
      cpu, rss, vsize, fds);
  return out;
}

}  // namespace

struct Daemon::State {
  DaemonOptions opts;
  const Clock& clock;
  Logger& log;
  Millis started_at = 0;
  std::atomic<bool> ready{false};
  std::atomic<bool> running{false};

  storage::MemoryStore store;
  std::shared_mutex store_mu;
  // Set at stop: queries in flight end at their next check.
  std::atomic<bool> stopping{false};
  promql::EngineOptions engine;  // constant after start()
  std::shared_ptr<net::HttpClient> datasource;

  std::unique_ptr<notifiers::Delivery> delivery;
  std::unique_ptr<WakingNotifier> notifier;
  std::unique_ptr<routing::Router> router;
  std::unique_ptr<rules::RuleManager> rules;
  std::unique_ptr<ScrapeManager> scraper;
  std::unique_ptr<Forwarder> forwarder;

  std::mutex config_mu;  // one load or reload at a time; guards the fields below
  PrometheusConfig prom;
  struct AlertmanagerSource {
    AlertmanagerTargetConfig cfg;
    std::shared_ptr<net::HttpClient> client;
    std::unique_ptr<FileDiscovery> discovery;
  };
  std::vector<AlertmanagerSource> am_sources;
  std::vector<config::RelabelConfig> alert_relabel;
  Labels external_labels;
  std::string external_url;
  Millis retention = kHour;

  DirectoryLock storage_lock;
  Routes routes;
  std::unique_ptr<HttpServer> http;
  ApiMetrics api_metrics;

  std::unique_ptr<Loop> rules_loop, router_loop, scrape_loop, upkeep_loop;
  std::mutex save_mu;
  routing::Router::SavedVersions saved;
  uint64_t rules_saved = ~0ULL;
  Millis last_gc = 0;
  // Set at start, read-only after: what the state files lost.
  std::vector<StateDamage> damage;
  // No flush before the rules re-sent what fires (see start_dispatch_when_ready).
  std::atomic<bool> dispatch_started{false};

  std::atomic<bool> last_reload_ok{true};
  std::atomic<Millis> last_reload_success{0};
  std::atomic<uint64_t> reloads{0}, reload_failures{0};
  std::string last_reload_error;

  State(DaemonOptions o, const Clock& c, Logger& l) : opts(std::move(o)), clock(c), log(l) {}

  bool embedded() const { return opts.datasource_url.empty(); }
  std::string path(const char* name) const { return opts.storage_path + "/" + name; }

  Result<void> load_all(bool initial);
  Result<void> reload();
  void sink(rules::GroupAlerts&& g);
  // Loads silences, alerts, the notification log and the rule state; what
  // is damaged is logged, counted and set aside, never a reason not to start.
  void restore_state();
  // Lets groups flush once every rule group has evaluated since the start
  // (their firing alerts re-sent), or when the hold set at start ends.
  void start_dispatch_when_ready();
  void save_router_state();
  void save_rules_state();
  void upkeep();
  // The Alertmanagers alerts go to now (config_mu held).
  std::vector<Forwarder::Target> forward_targets() const;
  // Re-reads changed Alertmanager discovery files, updating the forwarder.
  void refresh_alertmanagers();
  void register_routes();
  std::string health_json() const;
  std::string metrics() const;
};

Result<void> Daemon::State::load_all(bool initial) {
  std::lock_guard lock(config_mu);
  // Everything is read and checked before anything changes.
  PrometheusConfig new_prom;
  if (!opts.config_file.empty()) {
    auto r = load_prometheus_config(opts.config_file);
    if (!r.ok()) {
      std::string msg;
      for (const auto& e : r.errors) {
        if (!msg.empty()) msg += "; ";
        msg += e.line ? fmt::format("{}:{}:{}: {}", opts.config_file, e.line, e.column, e.message)
                      : fmt::format("{}: {}", opts.config_file, e.message);
      }
      return fail(msg);
    }
    for (const auto& w : r.warnings) {
      log.warn(w.message, {{"component", "config"}, {"file", opts.config_file},
                           {"line", std::to_string(w.line)}});
    }
    new_prom = std::move(r.config);
  }
  std::shared_ptr<const routing::Config> am;
  if (!opts.alertmanager_config.empty()) {
    auto r = routing::load_config(opts.alertmanager_config);
    if (!r.ok()) {
      std::string msg;
      for (const auto& e : r.errors) {
        if (!msg.empty()) msg += "; ";
        msg += routing::format_error(opts.alertmanager_config, e);
      }
      return fail(msg);
    }
    for (const auto& w : r.warnings) {
      log.warn(w.message, {{"component", "config"}, {"file", opts.alertmanager_config},
                           {"line", std::to_string(w.line)}});
    }
    am = std::make_shared<const routing::Config>(std::move(r.config));
  } else {
    auto r = routing::parse_config(kNoAlertmanagerConfig);
    am = std::make_shared<const routing::Config>(std::move(r.config));
    if (initial) {
      log.warn("no --alertmanager.config: alerts are kept and shown but not delivered", {{"component", "config"}});
    }
  }
  rules::ManagerOptions ropts;
  ropts.evaluation_interval = new_prom.global.evaluation_interval;
  ropts.query_offset = new_prom.global.rule_query_offset;
  ropts.resend_delay = opts.resend_delay;
  ropts.external_labels = new_prom.global.external_labels;
  ropts.external_url = external_url;
  auto errors = rules->load(new_prom.rule_files, ropts);
  if (!errors.empty()) {
    std::string msg;
    for (const auto& e : errors) {
      if (!msg.empty()) msg += "; ";
      msg += e;
    }
    return fail(msg);
  }
  // Valid: apply.
  if (initial) {
    router = std::make_unique<routing::Router>(am, clock, *notifier, routing::Router::Options{opts.storage_path});
    router->silences().set_limits(opts.silence_limits);
  } else {
    router->reload(am);
  }
  if (scraper) {
    for (const auto& e : scraper->apply(new_prom)) {
      log.error("scrape job not started", {{"component", "scrape"}, {"err", e.message}});
    }
  }
  // Forwarding to external Alertmanagers, from their static and file
  // discovery.
  am_sources.clear();
  for (const auto& amc : new_prom.alertmanagers) {
    auto client = net::HttpClient::create(&amc.http);
    if (!client) {
      log.error("alertmanager client not built", {{"component", "notifier"}, {"err", client.error().message}});
      continue;
    }
    AlertmanagerSource src{amc, *client, std::make_unique<FileDiscovery>(amc.file_sd_configs, opts.file_sd_poll)};
    src.discovery->refresh(clock.now(), true);
    am_sources.push_back(std::move(src));
  }
  forwarder->set_targets(forward_targets());
  alert_relabel = new_prom.alert_relabel_configs;
  external_labels = new_prom.global.external_labels;
  // Keep what the rules read: their longest lookback, at least an hour.
  Millis need = kHour;
  for (const auto& g : rules->status()) {
    for (const auto& r : g.rules) {
      if (r.rule->parsed) need = std::max(need, lookback_of(*r.rule->parsed) + g.query_offset + 2 * g.interval);
    }
  }
  retention = need;
  prom = std::move(new_prom);
  return {};
}

void Daemon::State::sink(rules::GroupAlerts&& g) {
  std::vector<routing::Alert> alerts;
  alerts.reserve(g.alerts.size());
  Labels ext;
  std::vector<config::RelabelConfig> relabel;
  {
    std::lock_guard lock(config_mu);
    ext = external_labels;
    relabel = alert_relabel;
  }
  for (size_t i = 0; i < g.alerts.size(); ++i) {
    auto& o = g.alerts[i];
    LabelsBuilder b(o.labels);
    for (const auto& l : ext) {
      if (o.labels.get(l.name).empty()) b.set(l.name, l.value);
    }
    Labels labels = b.build();
    if (!relabel.empty()) {
      auto r = config::relabel(labels, relabel);
      if (!r) continue;  // dropped
      labels = std::move(*r);
    }
    routing::Alert a;
    a.labels = std::move(labels);
    a.annotations = o.annotations;  // the same shared set
    a.starts_at = o.starts_at;
    a.ends_at = o.ends_at;
    a.generator_url = external_url + "/graph?g0.expr=" + net::url_query_escape(g.exprs[i]) + "&g0.tab=1";
    alerts.push_back(std::move(a));
  }
  if (alerts.empty()) return;
  forwarder->push(alerts);
  auto put = router->put_alerts(std::move(alerts));
  for (const auto& e : put.invalid) {
    log.warn("alert refused", {{"component", "rules"}, {"group", g.group}, {"err", e.message}});
  }
  if (put.storage) {
    log.error("alerts not written to disk", {{"component", "storage"}, {"group", g.group}, {"err", put.storage->message}});
  }
  router_loop->wake();
}

void Daemon::State::restore_state() {
  auto restored = router->restore();
  damage = std::move(restored.damage);
  for (const Error& e : restored.errors) {
    log.error("rewriting state files failed", {{"component", "storage"}, {"err", e.message}});
  }
  if (auto d = restore_state_file(path("rules.json"), clock.now(),
                                  [this](std::string_view text) { return rules->restore(text); },
                                  "`for` timers and keep_firing_for start afresh"))
    damage.push_back(std::move(*d));
  for (const StateDamage& d : damage) {
    log.error("state file damaged: what it held is lost, the rest is loaded",
              {{"component", "storage"}, {"file", d.file}, {"offset", std::to_string(d.begin)},
               {"bytes", std::to_string(d.bytes())}, {"moved_to", d.moved_to}, {"err", d.what}});
  }
  // Alerts whose end passed while vigil was down would be notified as
  // resolved at the first flush, then as firing again once their source
  // re-sends them. Flushes wait for --dispatch.start-delay, and for the
  // rules' first evaluations, at most one resend delay.
  Millis hold = opts.dispatch_start_delay;
  if (rules->group_count() > 0) hold = std::max(hold, opts.resend_delay);
  router->hold_dispatch_until(started_at + hold);
}

void Daemon::State::start_dispatch_when_ready() {
  if (dispatch_started) return;
  for (const auto& g : rules->status()) {
    if (g.evaluations == 0) return;
  }
  dispatch_started = true;
  router->hold_dispatch_until(started_at + opts.dispatch_start_delay);
  router_loop->wake();
}

void Daemon::State::save_router_state() {
  std::lock_guard lock(save_mu);
  if (auto r = router->save_changed(saved); !r) {
    log.error("saving state failed", {{"component", "storage"}, {"err", r.error().message}});
  }
}

void Daemon::State::save_rules_state() {
  std::lock_guard lock(save_mu);
  uint64_t v = rules->version();
  if (v == rules_saved) return;
  if (auto r = write_file_atomic(path("rules.json"), rules->snapshot()); !r) {
    log.error("saving rule state failed", {{"component", "storage"}, {"err", r.error().message}});
    return;
  }
  rules_saved = v;
}

std::vector<Forwarder::Target> Daemon::State::forward_targets() const {
  std::vector<Forwarder::Target> out;
  for (const AlertmanagerSource& src : am_sources) {
    for (const std::string& url : alertmanager_urls(src.cfg, src.discovery->groups())) {
      out.push_back(Forwarder::Target{url, src.client, src.cfg.timeout});
    }
  }
  return out;
}

void Daemon::State::refresh_alertmanagers() {
  std::lock_guard lock(config_mu);
  bool changed = false;
  const Millis now = clock.now();
  for (AlertmanagerSource& src : am_sources) changed = src.discovery->refresh(now, false) || changed;
  if (changed) forwarder->set_targets(forward_targets());
}

void Daemon::State::upkeep() {
  ::malloc_trim(0);
  refresh_alertmanagers();
  {
    std::lock_guard lock(save_mu);
    if (auto r = router->compact(); !r) {
      log.error("folding a state log into its snapshot failed", {{"component", "storage"}, {"err", r.error().message}});
    }
  }
  const Millis now = clock.now();
  if (now - last_gc >= kMinute) {
    last_gc = now;
    router->maintenance();
    Millis keep;
    {
      std::lock_guard lock(config_mu);
      keep = retention;
    }
    if (scraper) {
      scraper->truncate(keep);
    } else {
      std::unique_lock lock(store_mu);
      store.truncate_before(now - keep);
    }
  }
}

std::string Daemon::State::health_json() const {
  json o;
  bool ok = ready.load();
  o["status"] = ok ? "healthy" : "starting";
  o["version"] = build::kVersion;
  o["build"] = {{"version", build::kVersion}, {"commit", build::kCommit}, {"date", build::kDate}};
  o["uptime_seconds"] = static_cast<double>(clock.now() - started_at) / 1000.0;
  json comps = json::object();
  size_t failing = 0;
  for (const auto& g : rules->status()) {
    for (const auto& r : g.rules)
      if (!r.health.ok) ++failing;
  }
  comps["rules"] = {{"status", failing ? "degraded" : "ok"},
                    {"groups", rules->group_count()},
                    {"rules", rules->rule_count()},
                    {"failing_rules", failing}};
  if (router) {
    comps["router"] = {{"status", "ok"}, {"alerts", router->alerts().size()}, {"groups", router->group_count()}};
  }
  if (scraper) {
    size_t up = 0, down = 0;
    for (const auto& t : scraper->active_targets()) {
      if (t.health == TargetHealth::kUp) ++up;
      if (t.health == TargetHealth::kDown) ++down;
    }
    comps["scrape"] = {{"status", down ? "degraded" : "ok"}, {"targets_up", up}, {"targets_down", down}};
  } else {
    comps["datasource"] = {{"status", "ok"}, {"url", opts.datasource_url}};
  }
  comps["config"] = {{"status", last_reload_ok ? "ok" : "degraded"}, {"last_reload_successful", last_reload_ok.load()}};
  o["components"] = std::move(comps);
  return o.dump();
}

std::string Daemon::State::metrics() const {
  std::string out;
  out += fmt::format(
      "# HELP vigil_build_info A metric with a constant '1' value labeled by version, revision and build date.\n"
      "# TYPE vigil_build_info gauge\nvigil_build_info{{version=\"{}\",revision=\"{}\",date=\"{}\"}} 1\n",
      build::kVersion, build::kCommit, build::kDate);
  out += fmt::format(
      "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
      "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds {}\n",
      static_cast<double>(started_at) / 1000.0);
  out += process_metrics();
  out += fmt::format(
      "# HELP vigil_config_last_reload_successful Whether the last configuration reload attempt was successful.\n"
      "# TYPE vigil_config_last_reload_successful gauge\nvigil_config_last_reload_successful {}\n"
      "# HELP vigil_config_last_reload_success_timestamp_seconds Timestamp of the last successful configuration reload.\n"
      "# TYPE vigil_config_last_reload_success_timestamp_seconds gauge\n"
      "vigil_config_last_reload_success_timestamp_seconds {}\n"
      "# HELP vigil_config_reloads_failed_total Configuration reloads that failed.\n"
      "# TYPE vigil_config_reloads_failed_total counter\nvigil_config_reloads_failed_total {}\n",
      last_reload_ok ? 1 : 0, static_cast<double>(last_reload_success.load()) / 1000.0, reload_failures.load());

  // Rule groups, under Prometheus' names so its dashboards work.
  auto groups = rules->status();
  std::string evals, fails, missed, dur, last, nrules;
  size_t pending = 0, firing = 0;
  for (const auto& g : groups) {
    std::string key = escape_label_value(g.file->path + ";" + g.group->name);
    evals += fmt::format("prometheus_rule_evaluations_total{{rule_group=\"{}\"}} {}\n", key, g.evaluations * g.rules.size());
    fails += fmt::format("prometheus_rule_evaluation_failures_total{{rule_group=\"{}\"}} {}\n", key, g.failures);
    missed += fmt::format("prometheus_rule_group_iterations_missed_total{{rule_group=\"{}\"}} {}\n", key, g.missed);
    dur += fmt::format("prometheus_rule_group_last_duration_seconds{{rule_group=\"{}\"}} {}\n", key, g.last_duration_seconds);
    last += fmt::format("prometheus_rule_group_last_evaluation_timestamp_seconds{{rule_group=\"{}\"}} {}\n", key,
                        static_cast<double>(g.last_eval) / 1000.0);
    nrules += fmt::format("prometheus_rule_group_rules{{rule_group=\"{}\"}} {}\n", key, g.rules.size());
    for (const auto& r : g.rules)
      for (const auto& a : r.alerts) {
        if (a.state == rules::AlertState::kPending) ++pending;
        if (a.state == rules::AlertState::kFiring) ++firing;
      }
  }
  out += "# HELP prometheus_rule_evaluations_total The total number of rule evaluations.\n"
         "# TYPE prometheus_rule_evaluations_total counter\n" + evals;
  out += "# HELP prometheus_rule_evaluation_failures_total Rule group evaluations with at least one failing rule.\n"
         "# TYPE prometheus_rule_evaluation_failures_total counter\n" + fails;
  out += "# HELP prometheus_rule_group_iterations_missed_total Rule group evaluations missed due to slow evaluation or downtime.\n"
         "# TYPE prometheus_rule_group_iterations_missed_total counter\n" + missed;
  out += "# HELP prometheus_rule_group_last_duration_seconds The duration of the last rule group evaluation.\n"
         "# TYPE prometheus_rule_group_last_duration_seconds gauge\n" + dur;
  out += "# HELP prometheus_rule_group_last_evaluation_timestamp_seconds The timestamp of the last rule group evaluation.\n"
         "# TYPE prometheus_rule_group_last_evaluation_timestamp_seconds gauge\n" + last;
  out += "# HELP prometheus_rule_group_rules The number of rules.\n"
         "# TYPE prometheus_rule_group_rules gauge\n" + nrules;
  out += fmt::format(
      "# HELP vigil_rule_alerts Alerts of alerting rules by state.\n# TYPE vigil_rule_alerts gauge\n"
      "vigil_rule_alerts{{state=\"pending\"}} {}\nvigil_rule_alerts{{state=\"firing\"}} {}\n",
      pending, firing);

  // The router, under Alertmanager's names.
  if (router) {
    size_t active = 0, suppressed = 0;
    for (const auto& a : router->alerts().list()) {
      if (a->resolved_at(clock.now())) continue;
      auto st = router->status(a->labels);
      if (!st.silenced_by.empty() || st.inhibited_by) {
        ++suppressed;
      } else {
        ++active;
      }
    }
    out += fmt::format(
        "# HELP alertmanager_alerts How many alerts by state.\n# TYPE alertmanager_alerts gauge\n"
        "alertmanager_alerts{{state=\"active\"}} {}\nalertmanager_alerts{{state=\"suppressed\"}} {}\n",
        active, suppressed);
    auto& sil = router->silences();
    out += fmt::format(
        "# HELP alertmanager_silences How many silences by state.\n# TYPE alertmanager_silences gauge\n"
        "alertmanager_silences{{state=\"active\"}} {}\nalertmanager_silences{{state=\"pending\"}} {}\n"
        "alertmanager_silences{{state=\"expired\"}} {}\n",
        sil.count(routing::SilenceState::kActive), sil.count(routing::SilenceState::kPending),
        sil.count(routing::SilenceState::kExpired));
    out += fmt::format(
        "# HELP alertmanager_aggregation_groups Number of active aggregation groups.\n"
        "# TYPE alertmanager_aggregation_groups gauge\nalertmanager_aggregation_groups {}\n",
        router->group_count());
  }
  {
    // Keyed by file name: the data directory is the same for all.
    std::map<std::string, std::pair<uint64_t, uint64_t>> lost;
    for (const StateDamage& d : damage) {
      auto& [n, bytes] = lost[std::filesystem::path(d.file).filename().string()];
      ++n;
      bytes += d.bytes();
    }
    out += "# HELP vigil_state_damaged_total Damaged stretches of state files found at start (each skipped, or the file set aside).\n"
           "# TYPE vigil_state_damaged_total counter\n";
    for (const auto& [file, v] : lost)
      out += fmt::format("vigil_state_damaged_total{{file=\"{}\"}} {}\n", escape_label_value(file), v.first);
    out += "# HELP vigil_state_damaged_bytes_total Bytes of state files that could not be read at start.\n"
           "# TYPE vigil_state_damaged_bytes_total counter\n";
    for (const auto& [file, v] : lost)
      out += fmt::format("vigil_state_damaged_bytes_total{{file=\"{}\"}} {}\n", escape_label_value(file), v.second);
    if (router) {
      auto syncs = router->log_syncs();
      out += fmt::format(
          "# HELP vigil_state_log_syncs_total fdatasync calls of the state logs (changes waiting together share one).\n"
          "# TYPE vigil_state_log_syncs_total counter\n"
          "vigil_state_log_syncs_total{{log=\"alerts\"}} {}\nvigil_state_log_syncs_total{{log=\"silences\"}} {}\n",
          syncs.alerts, syncs.silences);
    }
  }
  out += delivery->metrics().exposition();
  out += forwarder->metrics_text();
  if (scraper) out += scraper->metrics_text();
  {
    std::shared_lock lock(const_cast<std::shared_mutex&>(store_mu));
    out += fmt::format(
        "# HELP vigil_store_series Series in the in-memory store.\n# TYPE vigil_store_series gauge\nvigil_store_series {}\n"
        "# HELP vigil_store_samples Samples in the in-memory store.\n# TYPE vigil_store_samples gauge\nvigil_store_samples {}\n",
        store.num_series(), store.num_samples());
  }
  out += api_metrics.text();
  if (http) out += http->metrics();
  return out;
}

Daemon::Daemon(DaemonOptions opts, const Clock& clock, Logger& log)
    : s_(std::make_unique<State>(std::move(opts), clock, log)) {}

Daemon::~Daemon() { stop(); }

int Daemon::port() const { return s_->http ? s_->http->port() : 0; }
const Routes& Daemon::routes() const { return s_->routes; }
std::string Daemon::metrics_text() const { return s_->metrics(); }

void Daemon::State::register_routes() {
  routes.set_observer([this](std::string_view pattern, const Request&, const Response& resp, double secs) {
    api_metrics.observe(pattern, resp.status, secs);
  });
  routes.add("GET", "/-/healthy", [](const Request&) { return Response::text(200, "vigil is Healthy.\n"); });
  routes.add("GET", "/-/ready", [this](const Request&) {
    return ready ? Response::text(200, "vigil is Ready.\n") : Response::text(503, "vigil is not ready yet.\n");
  });
  // The probe endpoints of the seed services.
  routes.add("GET", "/live", [](const Request&) { return Response::json(200, R"({"status":"alive"})"); });
  routes.add("GET", "/ready", [this](const Request&) {
    return ready ? Response::json(200, R"({"status":"ready"})") : Response::json(503, R"({"status":"starting"})");
  });
  routes.add("GET", "/health", [this](const Request&) { return Response::json(ready ? 200 : 503, health_json()); });
  for (const char* m : {"POST", "PUT"}) {
    routes.add(m, "/-/reload", [this](const Request& req) {
      if (cross_site(req)) return Response::text(403, "cross-site request refused\n");
      auto r = reload();
      if (!r) return Response::text(500, "failed to reload config: " + r.error().message + "\n");
      return Response::text(200, "");
    });
  }
  routes.add("GET", "/metrics", [this](const Request&) {
    Response r = Response::text(200, metrics());
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  });

  PrometheusApiContext pctx;
  pctx.clock = &clock;
  pctx.rules = rules.get();
  if (embedded()) {
    pctx.store = &store;
    pctx.store_mu = &store_mu;
  }
  pctx.engine = engine;
  pctx.scraper = scraper.get();
  add_prometheus_api(routes, std::move(pctx));

  AlertmanagerApiContext actx(*router, clock);
  actx.start_time = started_at;
  actx.on_alerts = [this] { router_loop->wake(); };
  actx.alert_limits = opts.alert_limits;
  add_alertmanager_api(routes, std::move(actx));
}

Result<void> Daemon::start() {
  State& s = *s_;
  s.started_at = s.clock.now();
  std::error_code ec;
  std::filesystem::create_directories(s.opts.storage_path, ec);
  if (ec) return fail(fmt::format("cannot create storage path {}: {}", s.opts.storage_path, ec.message()));
  auto lock = DirectoryLock::acquire(s.opts.storage_path);
  if (!lock) return std::unexpected(lock.error());
  s.storage_lock = std::move(*lock);
  auto hp = split_host_port(s.opts.listen_address);
  if (!hp) return std::unexpected(hp.error());

  notifiers::DeliveryOptions dopts;
  dopts.workers = s.opts.delivery_workers;
  dopts.log = s.log.fn();
  s.delivery = std::make_unique<notifiers::Delivery>(s.clock, dopts);
  s.notifier = std::make_unique<WakingNotifier>(*s.delivery, [this] {
    if (s_->router_loop) s_->router_loop->wake();
  });
  s.forwarder = std::make_unique<Forwarder>(s.log);

  s.engine.timeout = std::chrono::milliseconds(s.opts.query_timeout);
  s.engine.max_samples = s.opts.query_max_samples;
  s.engine.gate = std::make_shared<promql::QueryGate>(s.opts.query_max_concurrency);
  s.engine.cancel = &s.stopping;
  rules::EvalBackend backend{&s.store, &s.store_mu, {}};
  if (s.embedded()) {
    backend.query = rules::engine_query(s.store, s.engine);
    s.scraper = std::make_unique<ScrapeManager>(s.store, s.store_mu, s.clock, ScrapeOptions{s.opts.scrape_workers});
  } else {
    config::ConfigValue http = config::ConfigValue::map();
    if (!s.opts.datasource_basic_auth_user.empty()) {
      config::ConfigValue ba = config::ConfigValue::map();
      ba.set("username", config::ConfigValue::string(s.opts.datasource_basic_auth_user));
      if (!s.opts.datasource_basic_auth_password_file.empty())
        ba.set("password_file", config::ConfigValue::string(s.opts.datasource_basic_auth_password_file));
      http.set("basic_auth", std::move(ba));
    }
    if (!s.opts.datasource_bearer_token_file.empty()) {
      config::ConfigValue auth = config::ConfigValue::map();
      auth.set("credentials_file", config::ConfigValue::string(s.opts.datasource_bearer_token_file));
      http.set("authorization", std::move(auth));
    }
    if (!s.opts.datasource_ca_file.empty() || s.opts.datasource_insecure_skip_verify) {
      config::ConfigValue tls = config::ConfigValue::map();
      if (!s.opts.datasource_ca_file.empty()) tls.set("ca_file", config::ConfigValue::string(s.opts.datasource_ca_file));
      if (s.opts.datasource_insecure_skip_verify) tls.set("insecure_skip_verify", config::ConfigValue::boolean(true));
      http.set("tls_config", std::move(tls));
    }
    auto client = net::HttpClient::create(&http);
    if (!client) return fail("datasource: " + client.error().message);
    s.datasource = *client;
    backend.query = remote_query(s.datasource, s.opts.datasource_url, s.opts.datasource_timeout);
  }
  s.rules = std::make_unique<rules::RuleManager>(s.clock, rules::ManagerOptions{}, backend,
                                                 [this](rules::GroupAlerts&& g) { s_->sink(std::move(g)); });

  s.external_url = s.opts.external_url;
  if (s.external_url.empty()) {
    // Served over TLS when the web configuration says so (it is checked in
    // full when the server starts).
    bool tls = false;
    if (!s.opts.web_config_file.empty()) {
      auto web = load_web_config(s.opts.web_config_file);
      tls = web && web->tls.enabled();
    }
    s.external_url = fmt::format("{}://{}:{}", tls ? "https" : "http", hostname(), hp->second);
  }
  while (!s.external_url.empty() && s.external_url.back() == '/') s.external_url.pop_back();

  if (auto r = s.load_all(true); !r) return r;
  s.restore_state();
  s.last_reload_success = s.clock.now();

  s.register_routes();
  HttpServer::Options hopts;
  hopts.threads = s.opts.http_threads;
  hopts.max_connections = s.opts.web_max_connections;
  hopts.read_header_timeout = s.opts.web_read_header_timeout;
  hopts.read_timeout = s.opts.web_read_timeout;
  hopts.web_config_file = s.opts.web_config_file;
  // Probes are answered even while every handler thread is busy.
  hopts.priority_paths = {"/-/healthy", "/-/ready", "/live", "/ready", "/health"};
  hopts.on_error = [&s](const std::string& msg, const std::string& err) {
    s.log.error(msg, {{"component", "web"}, {"err", err}});
  };
  s.http = std::make_unique<HttpServer>(s.routes, hopts);
  if (auto r = s.http->start(s.opts.listen_address); !r) {
    s.http.reset();
    return r;
  }

  s.router_loop = std::make_unique<Loop>(
      s.clock, [&s] { return s.router->next_due(); },
      [&s] {
        s.router->run_due();
        s.save_router_state();
      },
      kSecond);
  s.rules_loop = std::make_unique<Loop>(
      s.clock, [&s] { return s.rules->next_due(); },
      [&s] {
        if (s.rules->run_due() > 0) s.save_rules_state();
        s.start_dispatch_when_ready();
      },
      kSecond);
  if (s.scraper) {
    s.scrape_loop = std::make_unique<Loop>(
        s.clock, [&s] { return s.scraper->next_due(); }, [&s] { s.scraper->run_due(); }, kSecond);
  }
  s.upkeep_loop = std::make_unique<Loop>(s.clock, nullptr, [&s] { s.upkeep(); }, s.opts.upkeep_interval);
  s.router_loop->start();
  s.rules_loop->start();
  if (s.scrape_loop) s.scrape_loop->start();
  s.upkeep_loop->start();
  s.running = true;
  s.ready = true;
  s.log.info("vigil started", {{"component", "main"}, {"version", build::kVersion},
                               {"listen", s.opts.listen_address}, {"port", std::to_string(port())},
                               {"rule_groups", std::to_string(s.rules->group_count())},
                               {"mode", s.embedded() ? "embedded" : "datasource"}});
  return {};
}

Result<void> Daemon::State::reload() {
  State& s = *this;
  ++s.reloads;
  auto r = s.load_all(false);
  if (!r) {
    s.last_reload_ok = false;
    ++s.reload_failures;
    s.log.error("reload failed: the previous configuration stays in use",
                {{"component", "config"}, {"err", r.error().message}});
    return r;
  }
  s.last_reload_ok = true;
  s.last_reload_success = s.clock.now();
  s.log.info("configuration reloaded", {{"component", "config"},
                                        {"rule_groups", std::to_string(s.rules->group_count())}});
  if (s.rules_loop) s.rules_loop->wake();
  if (s.router_loop) s.router_loop->wake();
  if (s.scrape_loop) s.scrape_loop->wake();
  return {};
}

Result<void> Daemon::reload() { return s_->reload(); }

void Daemon::stop(Millis grace) {
  if (!s_ || !s_->running.exchange(false)) return;
  State& s = *s_;
  s.ready = false;
  s.stopping = true;
  if (s.http) s.http->stop();
  if (s.rules_loop) s.rules_loop->stop();
  if (s.scrape_loop) s.scrape_loop->stop();
  if (s.scraper) s.scraper->wait_idle();
  // Deliveries in flight get a moment to finish and be logged; stop() then
  // aborts those still waiting on their receiver.
  s.delivery->drain(std::chrono::milliseconds(grace));
  if (s.router_loop) s.router_loop->stop();
  if (s.upkeep_loop) s.upkeep_loop->stop();
  s.delivery->stop();
  s.save_rules_state();
  if (auto r = s.router->snapshot(); !r) {
    s.log.error("saving state failed", {{"component", "storage"}, {"err", r.error().message}});
  }
  s.log.info("vigil stopped, state saved", {{"component", "main"}, {"storage", s.opts.storage_path}});
}

}  // namespace vigil::server
