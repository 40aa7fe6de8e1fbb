// The daemon's composition root: builds the parts, wires them, and runs
// their loops. Each part owns its work and its metrics; what is here is
// which part talks to which, and in what order things start and stop.
#include "server/daemon.h"

#include <malloc.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "model/build_info.h"
#include "model/file.h"
#include "model/metrics_writer.h"
#include "model/timestamp.h"
#include "notifiers/delivery.h"
#include "notifiers/history.h"
#include "promql/engine.h"
#include "routing/config.h"
#include "routing/event_recorder.h"
#include "routing/metrics.h"
#include "routing/router.h"
#include "rules/lookback.h"
#include "rules/manager.h"
#include "rules/metrics.h"
#include "rules/remote_write.h"
#include "server/alertmanager_api.h"
#include "server/configs.h"
#include "server/federation.h"
#include "server/forwarder.h"
#include "server/health.h"
#include "server/loop.h"
#include "server/notifications_api.h"
#include "server/prometheus_api.h"
#include "server/self_metrics.h"
#include "server/state_keeper.h"
#include "server/ui.h"
#include "storage/memory_store.h"
#include "storage/wal.h"
#include "storage/scrape.h"

namespace vigil::server {
namespace {

// ":9093", "0.0.0.0:9093", "[::]:9093": Alertmanager's default, reachable
// from anywhere the host is.
bool listens_on_all_interfaces(std::string_view address) {
  size_t colon = address.rfind(':');
  std::string_view host = colon == std::string_view::npos ? address : address.substr(0, colon);
  return host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::";
}

}  // namespace

struct Daemon::State {
  // Constant after construction.
  const DaemonOptions opts;
  const Clock& clock;
  Logger& log;

  // Set once by start(), read-only after (the loops and the server start
  // later and stop earlier).
  Millis started_at = 0;
  std::string external_url;
  promql::EngineOptions engine;
  DirectoryLock storage_lock;

  // Parts with their own synchronization.
  // The store's write-ahead log (embedded mode); outlives the store, which
  // points to it.
  std::unique_ptr<storage::Wal> wal;
  storage::MemoryStore store;  // guarded by store_mu
  mutable std::shared_mutex store_mu;
  std::unique_ptr<notifiers::NotificationHistory> history;  // outlives the delivery, which records into it
  std::unique_ptr<notifiers::Delivery> delivery;
  std::unique_ptr<routing::EventRecorder> events;  // with --enable-feature=event-recorder
  std::unique_ptr<routing::Router> router;
  std::unique_ptr<rules::RuleManager> rules;
  std::unique_ptr<rules::RemoteWriter> remote_writer;  // rule output to remote_write destinations
  std::unique_ptr<storage::ScrapeManager> scraper;  // embedded mode
  std::unique_ptr<Forwarder> forwarder;
  std::unique_ptr<Cluster> cluster;  // with --cluster.etcd-endpoints
  std::unique_ptr<StateKeeper> keeper;  // made once the router exists
  RequestMetrics request_metrics;
  Routes routes;  // filled before the server starts, read-only after
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<Loop> rules_loop, router_loop, scrape_loop, upkeep_loop, remote_write_loop;

  std::atomic<bool> ready{false};
  std::atomic<bool> running{false};
  std::atomic<bool> stopping{false};           // queries in flight end at their next check
  std::atomic<bool> dispatch_started{false};   // see start_dispatch_when_ready
  ReloadStatus reload_status;

  // One load or reload at a time; guards the fields below.
  mutable std::mutex config_mu;
  rules::SendOptions send;   // how rule alerts are sent (external labels, relabelling)
  Millis retention = kHour;  // what the store keeps for the rules

  std::vector<StateDamage> history_damage;  // set by restore_state(), read-only after
  Millis last_gc = 0;        // upkeep loop only
  Millis last_truncate = 0;  // upkeep loop only
  storage::RefusedSeriesReport refused_report;  // upkeep loop only

  State(DaemonOptions o, const Clock& c, Logger& l) : opts(std::move(o)), clock(c), log(l) {}

  bool embedded() const { return opts.datasource.url.empty(); }

  Result<void> build();
  Result<void> load_all(bool initial);
  Result<void> reload();
  void sink(rules::GroupAlerts&& g);
  // Loads the saved state and holds flushes until the sources re-sent
  // their alerts.
  void restore_state();
  // Lets groups flush once every rule group has evaluated since the start
  // (their firing alerts re-sent), or when the hold set at start ends.
  void start_dispatch_when_ready();
  void upkeep();
  // Writes what rules (or anything but a scrape, which logs its own) added
  // to the store since, and waits for it to reach the disk.
  void flush_store_log();
  void register_routes();
  Result<void> serve();
  void start_loops();
  std::string metrics() const;
  Millis retention_now() const {
    std::lock_guard lock(config_mu);
    return retention;
  }
};

Result<void> Daemon::State::build() {
  notifiers::DeliveryOptions dopts;
  dopts.workers = opts.delivery_workers;
  dopts.log = log.fn();
  dopts.external_url = external_url;
  dopts.on_finished = [this] {
    if (router_loop) router_loop->wake();
  };
  history = std::make_unique<notifiers::NotificationHistory>(
      notifiers::NotificationHistory::Options{opts.storage_path, opts.history_retention, opts.history_max_entries},
      clock);
  dopts.history = history.get();
  delivery = std::make_unique<notifiers::Delivery>(clock, dopts);
  if (opts.cluster) {
    auto c = Cluster::create(*opts.cluster, clock, log);
    if (!c) return std::unexpected(c.error());
    cluster = std::move(*c);
  }
  if (opts.event_recorder) {
    routing::EventRecorderOptions eopts;
    eopts.instance = host_name();
    eopts.clock = &clock;
    if (cluster) eopts.cluster_position = [c = cluster.get()] { return c->position(); };
    eopts.log = [this](std::string_view level, std::string_view msg) {
      const LogLevel l = level == "error" ? LogLevel::kError : level == "warn" ? LogLevel::kWarn : LogLevel::kInfo;
      log.log(l, msg, {{"component", "eventrecorder"}});
    };
    events = std::make_unique<routing::EventRecorder>(std::move(eopts));
  }
  forwarder = std::make_unique<Forwarder>(clock, log, opts.file_sd_poll);

  engine.timeout = std::chrono::milliseconds(opts.query_timeout);
  engine.max_samples = opts.query_max_samples;
  engine.gate = std::make_shared<promql::QueryGate>(opts.query_max_concurrency);
  engine.cancel = &stopping;
  remote_writer = std::make_unique<rules::RemoteWriter>(
      clock, rules::http_transport, [this](bool error, const std::string& remote, const std::string& msg) {
        log.log(error ? LogLevel::kError : LogLevel::kWarn, msg, {{"component", "remote"}, {"remote_name", remote}});
      });
  rules::EvalBackend backend{&store, &store_mu, {}};
  store.set_max_series(opts.max_series);
  if (embedded()) {
    backend.query = rules::engine_query(store, engine);
    scraper = std::make_unique<storage::ScrapeManager>(store, store_mu, clock,
                                                       storage::ScrapeOptions{opts.scrape_workers});
  } else {
    auto query = rules::remote_query(opts.datasource);
    if (!query) return std::unexpected(query.error());
    backend.query = std::move(*query);
    auto series = rules::remote_series(opts.datasource);
    if (!series) return std::unexpected(series.error());
    backend.series = std::move(*series);
  }
  rules = std::make_unique<rules::RuleManager>(clock, rules::ManagerOptions{}, backend,
                                               [this](rules::GroupAlerts&& g) { sink(std::move(g)); });
  // The sender's loop is woken to look at its deadlines again (a full batch
  // goes at once); it exists before the rules loop starts.
  rules->set_on_appended([this](const promql::Vector& v) {
    remote_writer->append(v);
    if (remote_write_loop) remote_write_loop->wake();
  });
  return {};
}

Result<void> Daemon::State::load_all(bool initial) {
  std::lock_guard lock(config_mu);
  // Everything is read and checked before anything changes.
  auto read = read_configs(opts.config_file, opts.alertmanager_config, log, initial);
  if (!read) return std::unexpected(read.error());
  const config::PrometheusConfig& prom = read->prometheus;
  // Made before anything changes: a destination whose client cannot be
  // built (a missing CA file, say) fails the load.
  if (auto r = remote_writer->apply(prom.remote_write, prom.global.external_labels); !r) return r;
  rules::ManagerOptions ropts;
  ropts.evaluation_interval = prom.global.evaluation_interval;
  ropts.query_offset = prom.global.rule_query_offset;
  ropts.resend_delay = opts.resend_delay;
  ropts.for_grace_period = opts.for_grace_period;
  ropts.outage_tolerance = opts.for_outage_tolerance;
  ropts.on_restore = [this](const std::string& group, bool ok, const std::string& what) {
    if (ok) {
      log.info("`for` state read from the datasource", {{"component", "rules"}, {"group", group}, {"result", what}});
    } else {
      log.error("`for` state not read from the datasource: timers start afresh",
                {{"component", "rules"}, {"group", group}, {"err", what}});
    }
  };
  ropts.external_labels = prom.global.external_labels;
  ropts.external_url = external_url;
  if (auto errors = rules->load(prom.rule_files, ropts); !errors.empty()) {
    std::string msg;
    for (const auto& e : errors) msg += (msg.empty() ? "" : "; ") + e;
    return fail(msg);
  }
  // Valid: apply. The event recorder first, so that what the new
  // configuration sets off goes to its outputs; outputs that cannot be
  // built leave the previous ones in place.
  if (events) {
    if (auto r = events->apply(read->alertmanager->event_recorder); !r)
      log.error("event recorder outputs not changed", {{"component", "eventrecorder"}, {"err", r.error().message}});
  } else if (initial && read->alertmanager->event_recorder.is_map()) {
    log.warn("event_recorder is configured but --enable-feature=event-recorder is not set: no events are recorded",
             {{"component", "config"}});
  }
  if (initial) {
    routing::Router::Options ropts{opts.storage_path};
    ropts.events = events.get();
    ropts.shared_log = cluster.get();
    router = std::make_unique<routing::Router>(read->alertmanager, clock, *delivery, ropts);
    router->silences().set_limits(opts.silence_limits);
    keeper = std::make_unique<StateKeeper>(opts.storage_path, *router, *rules, clock, log);
  } else {
    router->reload(read->alertmanager);
  }
  if (scraper) {
    for (const auto& e : scraper->apply(prom)) {
      log.error("scrape job not started", {{"component", "scrape"}, {"err", e.message}});
    }
  }
  forwarder->apply(prom.alertmanagers);
  send = rules::SendOptions{prom.global.external_labels, prom.alert_relabel_configs, external_url};
  const Millis need = rules::retention_for(rules->status());
  retention = opts.retention_bounds.clamp(need);
  if (auto warn = opts.retention_bounds.shortfall(need); warn && embedded())
    log.warn(*warn, {{"component", "storage"}});
  return {};
}

void Daemon::State::sink(rules::GroupAlerts&& g) {
  rules::SendOptions how;
  {
    std::lock_guard lock(config_mu);
    how = send;
  }
  std::vector<routing::Alert> alerts = rules::alerts_to_send(g, how);
  if (alerts.empty()) return;
  forwarder->push(alerts);
  auto put = router->put_alerts(std::move(alerts));
  for (const auto& e : put.invalid) {
    log.warn("alert refused", {{"component", "rules"}, {"group", g.group}, {"err", e.message}});
  }
  if (put.storage) {
    log.error("alerts not written to disk",
              {{"component", "storage"}, {"group", g.group}, {"err", put.storage->message}});
  }
  router_loop->wake();
}

void Daemon::State::restore_state() {
  keeper->restore();
  auto h = history->load();
  history_damage = std::move(h.damage);
  for (const auto& d : history_damage) {
    log.error("notification history damaged", {{"component", "history"}, {"file", d.file}, {"err", d.what}});
  }
  if (h.fold_error) {
    log.error("notification history not rewritten after load", {{"component", "history"}, {"err", *h.fold_error}});
  }
  if (embedded()) {
    wal = std::make_unique<storage::Wal>(opts.storage_path);
    std::unique_lock lock(store_mu);
    const auto replayed = wal->open(store, clock.now());
    for (const auto& d : replayed.damage) {
      log.error("store log damaged", {{"component", "storage"}, {"file", d.file}, {"err", d.what}});
    }
    if (replayed.fold_error) {
      log.error("store log not rewritten after replay: samples are not logged until a later fold succeeds",
                {{"component", "storage"}, {"err", *replayed.fold_error}});
    }
    log.info("store replayed from its log",
             {{"component", "storage"}, {"series", std::to_string(replayed.series)},
              {"samples", std::to_string(replayed.samples)}, {"dropped", std::to_string(replayed.dropped)}});
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

void Daemon::State::upkeep() {
  ::malloc_trim(0);
  forwarder->refresh();
  keeper->compact();
  if (auto r = history->maintain(); !r)
    log.error("notification history not written", {{"component", "history"}, {"err", r.error().message}});
  const Millis now = clock.now();
  std::optional<std::string> refused;
  {
    std::shared_lock lock(store_mu);
    refused = refused_report.due(store, now);
  }
  if (refused) log.error(*refused, {{"component", "storage"}});
  if (now - last_gc >= kMinute) {
    last_gc = now;
    router->maintenance();
  }
  // The store is trimmed every minute, or four times per retention when
  // that is shorter, so that it holds at most a quarter more than kept.
  const Millis keep = retention_now();
  if (now - last_truncate < std::clamp<Millis>(keep / 4, kSecond, kMinute)) return;
  last_truncate = now;
  if (scraper) {
    scraper->truncate(keep);
  } else {
    std::unique_lock lock(store_mu);
    store.truncate_before(now - keep);
  }
  if (wal) {
    // A fold when the log has outgrown the snapshot (which holds only what
    // truncation kept).
    std::unique_lock lock(store_mu);
    if (auto r = wal->maybe_fold(store); !r)
      log.error("store log fold failed", {{"component", "storage"}, {"err", r.error().message}});
  }
  flush_store_log();
}

void Daemon::State::flush_store_log() {
  if (!wal) return;
  Result<uint64_t> pos = uint64_t{0};
  {
    std::unique_lock lock(store_mu);
    pos = wal->write();
  }
  if (!pos) {
    log.error("store log write failed", {{"component", "storage"}, {"err", pos.error().message}});
  } else if (auto r = wal->sync(*pos); !r) {
    log.error("store log sync failed", {{"component", "storage"}, {"err", r.error().message}});
  }
}

std::string Daemon::State::metrics() const {
  std::string out;
  MetricsWriter w(out);
  write_process_metrics(w, started_at);
  reload_status.write(w);
  rules::write_metrics(w, rules->status());
  if (router) routing::write_metrics(w, *router, clock.now());
  if (cluster) cluster->write_metrics(w);
  if (events) events->write_metrics(w);
  std::vector<StateDamage> damage = keeper->damage();
  damage.insert(damage.end(), history_damage.begin(), history_damage.end());
  write_damage_metrics(w, damage);
  delivery->metrics().write(w);
  history->write_metrics(w);
  forwarder->write_metrics(w);
  remote_writer->write_metrics(w);
  if (scraper) scraper->write_metrics(w);
  {
    const Millis keep = embedded() ? retention_now() : 0;  // config_mu before store_mu
    std::shared_lock lock(store_mu);
    storage::write_store_metrics(w, store, keep);
  }
  request_metrics.write(w);
  if (http) out += http->metrics();
  return out;
}

void Daemon::State::register_routes() {
  routes.set_prefix(route_prefix_for(opts.route_prefix, external_url));
  routes.set_observer([this](std::string_view pattern, const Request&, const Response& resp, double secs) {
    request_metrics.observe(pattern, resp.status, secs);
  });
  add_health_routes(routes, HealthSources{&clock, started_at, &ready, &reload_status.last_ok, rules.get(), router.get(),
                                          scraper.get(), opts.datasource.url, cluster.get()});
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
  if (!embedded()) {
    // The query page of the web UI (and Grafana) reach the datasource through vigil.
    if (auto proxy = datasource_proxy(opts.datasource)) pctx.datasource = std::move(*proxy);
  }
  add_prometheus_api(routes, std::move(pctx));
  routes.add("GET", "/api/v1/status/runtimeinfo", [this](const Request&) {
    nlohmann::json data;
    data["startTime"] = format_rfc3339(started_at);
    data["reloadConfigSuccess"] = reload_status.last_ok.load();
    data["lastConfigTime"] = format_rfc3339(reload_status.last_success.load());
    data["reloadConfigFailures"] = reload_status.failures.load();
    data["mode"] = embedded() ? "embedded" : "datasource";
    data["routePrefix"] = routes.prefix().empty() ? "/" : routes.prefix();
    data["externalURL"] = external_url;
    nlohmann::json out;
    out["status"] = "success";
    out["data"] = std::move(data);
    return Response::json(200, out.dump());
  });
  add_ui_routes(routes);
  if (embedded()) {
    FederationContext fctx;
    fctx.clock = &clock;
    fctx.store = &store;
    fctx.store_mu = &store_mu;
    fctx.max_samples = opts.query_max_samples;
    fctx.external_labels = [this] {
      std::lock_guard lock(config_mu);
      return send.external_labels;
    };
    add_federation_routes(routes, fctx);
  }

  AlertmanagerApiContext actx(*router, clock);
  actx.start_time = started_at;
  actx.on_alerts = [this] { router_loop->wake(); };
  actx.alert_limits = opts.alert_limits;
  actx.external_url = external_url;
  actx.cluster = cluster.get();
  add_alertmanager_api(routes, std::move(actx));
  add_notifications_api(routes, NotificationsApiContext{history.get()});
}

Result<void> Daemon::State::serve() {
  HttpServer::Options hopts = opts.web;
  // Answered even while every handler thread is busy.
  for (const auto& p : health_paths()) hopts.priority_paths.push_back(routes.prefix() + p);
  hopts.on_error = [this](const std::string& msg, const std::string& err) {
    log.error(msg, {{"component", "web"}, {"err", err}});
  };
  http = std::make_unique<HttpServer>(routes, hopts);
  if (auto r = http->start(opts.listen_address); !r) {
    http.reset();
    return r;
  }
  return {};
}

void Daemon::State::start_loops() {
  router_loop = std::make_unique<Loop>(
      clock, [this] { return router->next_due(); },
      [this] {
        router->run_due();
        keeper->save_router();
      },
      kSecond);
  rules_loop = std::make_unique<Loop>(
      clock, [this] { return rules->next_due(); },
      [this] {
        if (rules->run_due() > 0) {
          keeper->save_rules();
          flush_store_log();
        }
        start_dispatch_when_ready();
      },
      kSecond);
  if (scraper) {
    scrape_loop = std::make_unique<Loop>(
        clock, [this] { return scraper->next_due(); }, [this] { scraper->run_due(); }, kSecond);
  }
  upkeep_loop = std::make_unique<Loop>(clock, nullptr, [this] { upkeep(); }, opts.upkeep_interval);
  remote_write_loop = std::make_unique<Loop>(
      clock, [this] { return remote_writer->next_due(); }, [this] { remote_writer->run_due(); }, kSecond);
  for (Loop* l : {router_loop.get(), rules_loop.get(), scrape_loop.get(), upkeep_loop.get(), remote_write_loop.get()})
    if (l) l->start();
}

Daemon::Daemon(DaemonOptions opts, const Clock& clock, Logger& log)
    : s_(std::make_unique<State>(std::move(opts), clock, log)) {}

Daemon::~Daemon() { stop(); }

int Daemon::port() const { return s_->http ? s_->http->port() : 0; }
const Routes& Daemon::routes() const { return s_->routes; }
std::string Daemon::metrics_text() const { return s_->metrics(); }

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

  s.external_url = external_url_for(s.opts.external_url, s.opts.web.web_config_file, hp->second);
  // Without --web.external-url, the URL vigil derives includes the route
  // prefix, so that the links it writes (generatorURL, templates) reach it.
  if (s.opts.external_url.empty()) s.external_url += route_prefix_for(s.opts.route_prefix, s.external_url);

  if (auto r = s.build(); !r) return r;
  if (auto r = s.load_all(true); !r) return r;
  if (s.events && s.events->enabled())
    s.events->record(routing::startup_event(build::kVersion, fmt::format("(commit={}, date={})", build::kCommit,
                                                                         build::kDate)));
  s.restore_state();
  s.reload_status.succeeded(s.clock.now());
  s.register_routes();
  if (auto r = s.serve(); !r) return r;
  // Joins once the silences and the log are restored (what etcd holds is
  // merged into them) and the port is known (the default peer name).
  if (s.cluster)
    s.cluster->start(s.router->silences(), s.router->nflog(), fmt::format("{}:{}", host_name(), s.http->port()),
                     s.external_url);
  s.start_loops();
  s.running = true;
  s.ready = true;
  s.log.info("vigil started", {{"component", "main"}, {"version", build::kVersion},
                               {"listen", s.opts.listen_address}, {"port", std::to_string(port())},
                               {"rule_groups", std::to_string(s.rules->group_count())},
                               {"mode", s.embedded() ? "embedded" : "datasource"},
                               {"storage", s.opts.storage_path}});
  if (listens_on_all_interfaces(s.opts.listen_address) && s.opts.web.web_config_file.empty()) {
    s.log.warn("listening on every interface without --web.config.file: anyone who reaches this port can "
               "post alerts and create or expire silences; use --web.listen-address=127.0.0.1:9093 or set "
               "up authentication",
               {{"component", "main"}, {"listen", s.opts.listen_address}});
  }
  return {};
}

Result<void> Daemon::State::reload() {
  auto r = load_all(false);
  if (!r) {
    reload_status.failed();
    log.error("reload failed: the previous configuration stays in use",
              {{"component", "config"}, {"err", r.error().message}});
    return r;
  }
  reload_status.succeeded(clock.now());
  log.info("configuration reloaded", {{"component", "config"}, {"rule_groups", std::to_string(rules->group_count())}});
  for (Loop* l : {rules_loop.get(), router_loop.get(), scrape_loop.get()})
    if (l) l->wake();
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
  // The rules have stopped: what they queued for remote write goes now,
  // within the grace; what is left after it is lost.
  s.remote_writer->flush(grace);
  s.remote_writer->cancel();
  if (s.remote_write_loop) s.remote_write_loop->stop();
  s.delivery->stop();
  if (s.events) {
    if (s.events->enabled()) s.events->record(routing::shutdown_event());
    s.events->close();
  }
  if (s.cluster) s.cluster->stop();
  if (s.wal) {
    std::unique_lock lock(s.store_mu);
    if (auto r = s.wal->flush(); !r)
      s.log.error("store log flush failed", {{"component", "storage"}, {"err", r.error().message}});
  }
  s.keeper->save_all();
  if (auto r = s.history->sync(); !r)
    s.log.error("notification history not synced", {{"component", "history"}, {"err", r.error().message}});
  s.log.info("vigil stopped, state saved", {{"component", "main"}, {"storage", s.opts.storage_path}});
}

}  // namespace vigil::server
