// The scrape manager against a local HTTP server on 127.0.0.1, driven by a
// ManualClock with scrapes run synchronously: samples and their labels,
// report series, staleness markers, limits, timeouts, file_sd reloads,
// relabel-dropped targets and reloads that keep targets.
#include <doctest/doctest.h>

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "config/prometheus_config.h"
#include "model/matcher.h"
#include "model/metrics_writer.h"
#include "storage/memory_store.h"
#include "storage/metrics.pb.h"
#include "storage/scrape.h"
#include "tests/temp_dir.h"

using namespace vigil;
using namespace vigil::config;
using namespace vigil::storage;

namespace {

constexpr Millis kT0 = 1'700'000'000'000;

// Serves bodies set per path; records the headers of the last request.
class MetricsServer {
 public:
  struct Reply {
    int status = 200;
    std::string content_type = "text/plain; version=0.0.4";
    std::string body;
    int delay_ms = 0;
  };

  MetricsServer() {
    server_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      Reply r;
      {
        std::lock_guard lock(mu_);
        last_headers_.clear();
        for (const auto& [k, v] : req.headers) last_headers_[k] = v;
        last_target_ = req.target;
        ++hits_;
        auto it = replies_.find(req.path);
        if (it == replies_.end()) {
          res.status = 404;
          return;
        }
        r = it->second;
      }
      if (r.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(r.delay_ms));
      res.status = r.status;
      res.set_content(r.body, r.content_type);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // A stop() before the listener runs would be lost (and the join hang).
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~MetricsServer() {
    server_.stop();
    thread_.join();
  }
  void set(const std::string& path, Reply r) {
    std::lock_guard lock(mu_);
    replies_[path] = std::move(r);
  }
  void set_body(const std::string& path, std::string body) { set(path, Reply{200, "text/plain; version=0.0.4", std::move(body), 0}); }
  std::string address() const { return fmt::format("127.0.0.1:{}", port_); }
  std::string header(const std::string& name) {
    std::lock_guard lock(mu_);
    auto it = last_headers_.find(name);
    return it == last_headers_.end() ? "" : it->second;
  }
  std::string last_target() {
    std::lock_guard lock(mu_);
    return last_target_;
  }
  int hits() {
    std::lock_guard lock(mu_);
    return hits_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, Reply> replies_;
  std::map<std::string, std::string> last_headers_;
  std::string last_target_;
  int hits_ = 0;
};

PrometheusConfig prom_config(const std::string& yaml, std::string_view dir = {}) {
  auto r = parse_prometheus_config(yaml, dir);
  for (const auto& e : r.errors) MESSAGE("config error: ", e.message, " at line ", e.line);
  REQUIRE(r.ok());
  return r.config;
}

struct Point {
  Millis t;
  double v;
};

// The series named `name` (with every other label matching `extra`), as
// "labels -> samples".
std::map<std::string, std::vector<Point>> series(const storage::MemoryStore& store, const std::string& name) {
  std::vector<Matcher> ms{*Matcher::make(MatchType::kEqual, "__name__", name)};
  std::map<std::string, std::vector<Point>> out;
  for (storage::SeriesRef ref : store.select(ms)) {
    const storage::Series& s = store.get(ref);
    auto& pts = out[s.labels.to_string()];
    for (auto it = s.samples(); it.next();) pts.push_back({it.t(), it.v()});
  }
  return out;
}

// The one series named `name`; fails the test when there is not exactly one.
std::vector<Point> only(const storage::MemoryStore& store, const std::string& name) {
  auto s = series(store, name);
  REQUIRE_MESSAGE(s.size() == 1, name, " has ", s.size(), " series");
  return s.begin()->second;
}

// A manager over its own store and clock, scraping synchronously.
struct Harness {
  storage::MemoryStore store;
  std::shared_mutex mu;
  ManualClock clock{kT0};
  ScrapeManager manager;
  explicit Harness(ScrapeOptions opts = {}) : manager(store, mu, clock, opts) {}

  void apply(const PrometheusConfig& c) { REQUIRE(manager.apply(c).empty()); }
  // Moves the clock to the next due time and runs what is due there.
  size_t step() {
    auto due = manager.next_due();
    REQUIRE(due.has_value());
    if (*due > clock.now()) clock.set(*due);
    size_t n = manager.run_due();
    manager.wait_idle();
    return n;
  }
  // Runs until `n` scrapes have happened.
  void scrapes(size_t n) {
    size_t done = 0;
    for (int guard = 0; done < n && guard < 1000; ++guard) done += step();
    REQUIRE(done == n);
  }
  std::string metrics() const {
    std::string out;
    MetricsWriter w(out);
    manager.write_metrics(w);
    return out;
  }
};

std::string job(const std::string& name, const std::string& target, const std::string& extra = "") {
  return "  - job_name: " + name + "\n    scrape_interval: 10s\n    scrape_timeout: 5s\n    static_configs:\n"
         "      - targets: ['" + target + "']\n" + extra;
}

}  // namespace

TEST_CASE("scrape: samples get the target's labels and the report series are written") {
  MetricsServer srv;
  srv.set_body("/metrics", "# TYPE requests_total counter\nrequests_total{code=\"200\"} 7\ntemperature 21.5\n");
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("web", srv.address(), "        labels: {env: prod}\n")));
  auto due = h.manager.next_due();
  REQUIRE(due.has_value());
  CHECK(*due >= kT0);
  CHECK(*due < kT0 + 10 * kSecond);  // within one interval
  if (*due > kT0) CHECK(h.manager.run_due() == 0);  // nothing before its time
  h.scrapes(1);
  const Millis at = h.clock.now();
  const std::string inst = srv.address();
  auto req = series(h.store, "requests_total");
  REQUIRE(req.size() == 1);
  CHECK(req.begin()->first ==
        fmt::format(R"({{__name__="requests_total", code="200", env="prod", instance="{}", job="web"}})", inst));
  CHECK(req.begin()->second.at(0).t == at);
  CHECK(req.begin()->second.at(0).v == 7);
  auto up = only(h.store, "up");
  CHECK(up.at(0).v == 1);
  CHECK(up.at(0).t == at);
  CHECK(series(h.store, "up").begin()->first ==
        fmt::format(R"({{__name__="up", env="prod", instance="{}", job="web"}})", inst));
  CHECK(only(h.store, "scrape_samples_scraped").at(0).v == 2);
  CHECK(only(h.store, "scrape_samples_post_metric_relabeling").at(0).v == 2);
  CHECK(only(h.store, "scrape_series_added").at(0).v == 2);
  CHECK(only(h.store, "scrape_duration_seconds").at(0).v >= 0);
  // Prometheus' request headers (3.5's Accept, as seen on the wire).
  CHECK(srv.header("Accept") ==
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;"
        "version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,"
        "*/*;q=0.2");
  CHECK(srv.header("X-Prometheus-Scrape-Timeout-Seconds") == "5");

  auto targets = h.manager.active_targets();
  REQUIRE(targets.size() == 1);
  const TargetStatus& t = targets[0];
  CHECK(t.scrape_pool == "web");
  CHECK(t.scrape_url == "http://" + inst + "/metrics");
  CHECK(t.global_url.find("/metrics") != std::string::npos);
  CHECK(t.global_url.find("127.0.0.1") == std::string::npos);
  CHECK(t.health == TargetHealth::kUp);
  CHECK(t.last_error.empty());
  CHECK(t.last_scrape == at);
  CHECK(t.scrape_interval == 10 * kSecond);
  CHECK(t.scrape_timeout == 5 * kSecond);
  CHECK(t.labels.to_string() == fmt::format(R"({{env="prod", instance="{}", job="web"}})", inst));
  CHECK(t.discovered_labels.get("__address__") == inst);
  CHECK(t.discovered_labels.get("__metrics_path__") == "/metrics");
  CHECK(t.discovered_labels.get("__scheme__") == "http");
  CHECK(t.discovered_labels.get("__scrape_interval__") == "10s");
  CHECK(t.discovered_labels.get("__scrape_timeout__") == "5s");
  CHECK(t.discovered_labels.get("job") == "web");

  // The next scrape comes one interval later, at the same offset.
  h.scrapes(1);
  CHECK(h.clock.now() == at + 10 * kSecond);
  CHECK(only(h.store, "requests_total").size() == 2);
  CHECK(only(h.store, "scrape_series_added").at(1).v == 0);
  CHECK(h.metrics().find("vigil_target_scrapes_total{scrape_job=\"web\"} 2") != std::string::npos);
}

TEST_CASE("scrape: honor_labels decides who wins a label conflict") {
  MetricsServer srv;
  srv.set_body("/metrics", "m{job=\"pushed\",instance=\"inner\",exported_job=\"x\"} 1\n");
  SUBCASE("the target's labels win and the scraped ones become exported_") {
    Harness h;
    h.apply(prom_config("scrape_configs:\n" + job("outer", srv.address())));
    h.scrapes(1);
    auto m = series(h.store, "m");
    REQUIRE(m.size() == 1);
    CHECK(m.begin()->first ==
          fmt::format(R"({{__name__="m", exported_exported_job="pushed", exported_instance="inner", exported_job="x", )"
                      R"(instance="{}", job="outer"}})",
                      srv.address()));
  }
  SUBCASE("honor_labels keeps the scraped values") {
    Harness h;
    h.apply(prom_config("scrape_configs:\n" + job("outer", srv.address(), "    honor_labels: true\n")));
    h.scrapes(1);
    auto m = series(h.store, "m");
    REQUIRE(m.size() == 1);
    CHECK(m.begin()->first == R"({__name__="m", exported_job="x", instance="inner", job="pushed"})");
  }
}

TEST_CASE("scrape: honor_timestamps and OpenMetrics bodies") {
  MetricsServer srv;
  srv.set("/metrics", {200, "application/openmetrics-text; version=1.0.0; charset=utf-8",
                       "# TYPE a gauge\na 1 1600000000.5\n# TYPE b gauge\nb 2\n# EOF\n", 0});
  SUBCASE("kept") {
    Harness h;
    h.apply(prom_config("scrape_configs:\n" + job("j", srv.address())));
    h.scrapes(1);
    CHECK(only(h.store, "a").at(0).t == 1'600'000'000'500);
    CHECK(only(h.store, "b").at(0).t == h.clock.now());
  }
  SUBCASE("ignored") {
    Harness h;
    h.apply(prom_config("scrape_configs:\n" + job("j", srv.address(), "    honor_timestamps: false\n")));
    h.scrapes(1);
    CHECK(only(h.store, "a").at(0).t == h.clock.now());
  }
}

TEST_CASE("scrape: staleness markers for vanished series, failed scrapes and removed targets") {
  MetricsServer srv;
  srv.set_body("/metrics", "a 1\nb 2\n");
  Harness h;
  auto cfg = prom_config("scrape_configs:\n" + job("j", srv.address()));
  h.apply(cfg);
  h.scrapes(1);
  const Millis first = h.clock.now();
  srv.set_body("/metrics", "a 1\n");
  h.scrapes(1);
  const Millis second = h.clock.now();
  auto b = only(h.store, "b");
  REQUIRE(b.size() == 2);
  CHECK(b[1].t == second);
  CHECK(storage::is_stale_nan(b[1].v));
  CHECK(only(h.store, "a").size() == 2);
  CHECK_FALSE(storage::is_stale_nan(only(h.store, "a")[1].v));

  // A failing scrape: up is 0 and every series of the target goes stale.
  srv.set("/metrics", {500, "text/plain", "boom", 0});
  h.scrapes(1);
  const Millis third = h.clock.now();
  auto a = only(h.store, "a");
  REQUIRE(a.size() == 3);
  CHECK(a[2].t == third);
  CHECK(storage::is_stale_nan(a[2].v));
  CHECK(only(h.store, "up").back().v == 0);
  CHECK(only(h.store, "scrape_samples_scraped").back().v == 0);
  auto t = h.manager.active_targets().at(0);
  CHECK(t.health == TargetHealth::kDown);
  CHECK(t.last_error == "server returned HTTP status 500");
  // b was already stale: it is not marked again.
  CHECK(only(h.store, "b").size() == 2);

  // It recovers, then the job goes away: its series and report series go stale.
  srv.set_body("/metrics", "a 5\n");
  h.scrapes(1);
  CHECK(only(h.store, "up").back().v == 1);
  h.clock.advance(kSecond);
  const Millis removed_at = h.clock.now();
  h.apply(prom_config("scrape_configs: []\n"));
  CHECK(storage::is_stale_nan(only(h.store, "a").back().v));
  CHECK(only(h.store, "a").back().t == removed_at);
  CHECK(storage::is_stale_nan(only(h.store, "up").back().v));
  CHECK(storage::is_stale_nan(only(h.store, "scrape_duration_seconds").back().v));
  CHECK(h.manager.active_targets().empty());
  CHECK_FALSE(h.manager.next_due().has_value());
  (void)first;
}

TEST_CASE("scrape: sample_limit fails the scrape and stores nothing of it") {
  MetricsServer srv;
  srv.set_body("/metrics", "a 1\nb 2\nc 3\n");
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address(), "    sample_limit: 2\n")));
  h.scrapes(1);
  CHECK(series(h.store, "a").empty());
  CHECK(only(h.store, "up").at(0).v == 0);
  CHECK(only(h.store, "scrape_samples_scraped").at(0).v == 3);
  CHECK(only(h.store, "scrape_samples_post_metric_relabeling").at(0).v == 0);
  auto t = h.manager.active_targets().at(0);
  CHECK(t.last_error.find("sample limit exceeded") != std::string::npos);
  CHECK(h.metrics().find("prometheus_target_scrapes_exceeded_sample_limit_total 1") != std::string::npos);
  // metric relabeling counts first: dropping one series brings it under the limit.
  Harness h2;
  h2.apply(prom_config("scrape_configs:\n" + job("j", srv.address(),
                                            "    sample_limit: 2\n    metric_relabel_configs:\n"
                                            "      - source_labels: [__name__]\n        regex: c\n"
                                            "        action: drop\n")));
  h2.scrapes(1);
  CHECK(only(h2.store, "up").at(0).v == 1);
  CHECK(series(h2.store, "c").empty());
  CHECK(only(h2.store, "scrape_samples_scraped").at(0).v == 3);
  CHECK(only(h2.store, "scrape_samples_post_metric_relabeling").at(0).v == 2);
}

TEST_CASE("scrape: a target slower than its timeout is down, within bounded time") {
  MetricsServer srv;
  srv.set("/slow", {200, "text/plain", "a 1\n", 1000});
  Harness h;
  h.apply(prom_config("scrape_configs:\n  - job_name: slow\n    scrape_interval: 1s\n    scrape_timeout: 200ms\n"
                 "    metrics_path: /slow\n    static_configs: [{targets: ['" + srv.address() + "']}]\n"));
  auto began = std::chrono::steady_clock::now();
  h.scrapes(1);
  auto took = std::chrono::steady_clock::now() - began;
  CHECK(took < std::chrono::milliseconds(900));  // the reply would take 1 s
  auto t = h.manager.active_targets().at(0);
  CHECK(t.health == TargetHealth::kDown);
  CHECK(t.last_error.find("timed out") != std::string::npos);
  CHECK(only(h.store, "up").at(0).v == 0);
  CHECK(series(h.store, "a").empty());
}

TEST_CASE("scrape: bodies over the limit fail with a clear error") {
  MetricsServer srv;
  std::string big;
  for (int i = 0; i < 200; ++i) big += fmt::format("metric_{} {}\n", i, i);
  srv.set_body("/metrics", big);
  ScrapeOptions opts;
  opts.max_body = 512;
  Harness h(opts);
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address())));
  h.scrapes(1);
  auto t = h.manager.active_targets().at(0);
  CHECK(t.health == TargetHealth::kDown);
  CHECK(t.last_error == "response body larger than the limit of 512 bytes");
  CHECK(h.metrics().find("prometheus_target_scrapes_exceeded_body_size_limit_total 1") !=
        std::string::npos);
  // The default limit reads it fine.
  Harness big_ok;
  big_ok.apply(prom_config("scrape_configs:\n" + job("j", srv.address())));
  big_ok.scrapes(1);
  CHECK(only(big_ok.store, "scrape_samples_scraped").at(0).v == 200);
}

TEST_CASE("scrape: relabeling sets the URL and instance, and drops targets") {
  MetricsServer srv;
  srv.set_body("/probe", "probe_success 1\n");
  Harness h;
  h.apply(prom_config("scrape_configs:\n  - job_name: blackbox\n    metrics_path: /probe\n"
                 "    params: {module: [http_2xx]}\n    static_configs:\n"
                 "      - targets: ['example.org', 'drop.me']\n    relabel_configs:\n"
                 "      - source_labels: [__address__]\n        regex: drop\\..*\n        action: drop\n"
                 "      - source_labels: [__address__]\n        target_label: __param_target\n"
                 "      - source_labels: [__param_target]\n        target_label: instance\n"
                 "      - target_label: __address__\n        replacement: " + srv.address() + "\n"));
  auto dropped = h.manager.dropped_targets();
  REQUIRE(dropped.size() == 1);
  CHECK(dropped[0].scrape_pool == "blackbox");
  CHECK(dropped[0].discovered_labels.get("__address__") == "drop.me");
  CHECK(dropped[0].discovered_labels.get("__param_module") == "http_2xx");
  auto targets = h.manager.active_targets();
  REQUIRE(targets.size() == 1);
  CHECK(targets[0].scrape_url == "http://" + srv.address() + "/probe?module=http_2xx&target=example.org");
  CHECK(targets[0].labels.to_string() == R"({instance="example.org", job="blackbox"})");
  h.scrapes(1);
  CHECK(srv.last_target() == "/probe?module=http_2xx&target=example.org");
  CHECK(series(h.store, "probe_success").begin()->first ==
        R"({__name__="probe_success", instance="example.org", job="blackbox"})");
  CHECK(h.metrics().find("prometheus_target_scrape_pool_dropped_targets{scrape_job=\"blackbox\"} 1") !=
        std::string::npos);
}

TEST_CASE("scrape: file_sd targets load, reload on change and survive a bad file") {
  MetricsServer srv;
  srv.set_body("/metrics", "x 1\n");
  testing::TempDir dir;
  dir.write("targets.json", R"([{"targets": [")" + srv.address() + R"("], "labels": {"team": "a"}}])");
  ScrapeOptions opts;
  opts.file_sd_poll = kSecond;
  Harness h(opts);
  h.apply(prom_config("scrape_configs:\n  - job_name: files\n    scrape_interval: 1m\n    file_sd_configs:\n"
                 "      - files: ['*.json', 'more/*.yml']\n        refresh_interval: 10m\n",
                 dir.path().string()));
  auto ts = h.manager.active_targets();
  REQUIRE(ts.size() == 1);
  CHECK(ts[0].labels.get("team") == "a");
  CHECK(ts[0].discovered_labels.get("__meta_filepath") == (dir.path() / "targets.json").string());

  // A changed file is noticed at the next poll, well before refresh_interval.
  dir.write("targets.json", R"([{"targets": [")" + srv.address() + R"("], "labels": {"team": "b"}}])");
  std::filesystem::last_write_time(dir.path() / "targets.json",
                                   std::filesystem::last_write_time(dir.path() / "targets.json") +
                                       std::chrono::seconds(5));
  h.clock.advance(2 * kSecond);
  h.manager.run_due();
  ts = h.manager.active_targets();
  REQUIRE(ts.size() == 1);
  CHECK(ts[0].labels.get("team") == "b");

  // A YAML file joins; a broken JSON file keeps its previous targets.
  std::filesystem::create_directories(dir.path() / "more");
  dir.write("more/extra.yml", "- targets: ['127.0.0.1:1']\n  labels:\n    team: c\n");  // refused at once, no name lookup
  dir.write("targets.json", "[{\"targets\": ");
  h.clock.advance(2 * kSecond);
  h.manager.run_due();
  ts = h.manager.active_targets();
  REQUIRE(ts.size() == 2);
  std::set<std::string> teams;
  for (const auto& t : ts) teams.insert(std::string(t.labels.get("team")));
  CHECK(teams == std::set<std::string>{"b", "c"});
  auto errs = h.manager.discovery_errors();
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].scrape_pool == "files");
  CHECK(errs[0].file == (dir.path() / "targets.json").string());
  CHECK(errs[0].message.find("invalid JSON") != std::string::npos);
  CHECK(h.metrics().find("prometheus_sd_file_read_errors_total 1") != std::string::npos);

  // Removing a file removes its targets.
  std::filesystem::remove(dir.path() / "more/extra.yml");
  h.clock.advance(2 * kSecond);
  h.manager.run_due();
  CHECK(h.manager.active_targets().size() == 1);
}

TEST_CASE("scrape: a reload keeps unchanged targets without scraping them twice") {
  MetricsServer srv;
  srv.set_body("/metrics", "a 1\n");
  Harness h;
  const std::string base = "scrape_configs:\n" + job("j", srv.address());
  h.apply(prom_config(base));
  h.scrapes(1);
  const Millis due = *h.manager.next_due();
  const Millis scraped_at = h.clock.now();
  // Same job and target, plus a new job: the old target keeps its schedule.
  h.apply(prom_config(base + job("k", srv.address(), "    metrics_path: /other\n")));
  h.manager.run_due();
  CHECK(only(h.store, "a").size() == 1);
  auto ts = h.manager.active_targets();
  REQUIRE(ts.size() == 2);
  for (const auto& t : ts)
    if (t.scrape_pool == "j") CHECK(t.last_scrape == scraped_at);
  // Its series are still tracked: dropping a series later marks it stale.
  h.clock.set(due);
  h.manager.run_due();
  CHECK(only(h.store, "a").size() == 2);
  CHECK_FALSE(storage::is_stale_nan(only(h.store, "a").back().v));
}

TEST_CASE("scrape: out-of-order samples are counted and the rest of the scrape kept") {
  MetricsServer srv;
  srv.set_body("/metrics", "old 1 1000\nfresh 2\n");
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address())));
  h.scrapes(1);
  srv.set_body("/metrics", "old 1 500\nfresh 3\n");
  h.scrapes(1);
  CHECK(only(h.store, "old").size() == 1);
  CHECK(only(h.store, "fresh").size() == 2);
  CHECK(only(h.store, "up").back().v == 1);
  CHECK(h.metrics().find("prometheus_target_scrapes_sample_out_of_order_total 1") != std::string::npos);
}

TEST_CASE("scrape: truncate drops samples older than the kept window") {
  MetricsServer srv;
  srv.set_body("/metrics", "a 1\n");
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address())));
  h.scrapes(3);
  CHECK(only(h.store, "a").size() == 3);
  h.manager.truncate(15 * kSecond);  // keeps the last two scrapes (10 s apart)
  CHECK(only(h.store, "a").size() == 2);
}

TEST_CASE("scrape: scrapes can run on a worker pool") {
  MetricsServer srv;
  srv.set_body("/metrics", "a 1\n");
  srv.set_body("/b", "b 1\n");
  ScrapeOptions opts;
  opts.workers = 2;
  Harness h(opts);
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address()) + job("k", srv.address(), "    metrics_path: /b\n")));
  h.scrapes(2);
  CHECK(only(h.store, "a").size() == 1);
  CHECK(only(h.store, "b").size() == 1);
  h.clock.advance(kSecond);
  h.manager.stop();
  CHECK(h.manager.active_targets().empty());
  CHECK(storage::is_stale_nan(only(h.store, "a").back().v));
}

TEST_CASE("scrape: series with their own timestamps get no staleness markers") {
  MetricsServer srv;
  srv.set_body("/metrics", "own 1 1000\nplain 2\n");
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address())));
  h.scrapes(1);
  CHECK(only(h.store, "scrape_series_added").back().v == 2);
  srv.set_body("/metrics", "own 1 1000\n");
  h.scrapes(1);
  CHECK(only(h.store, "own").size() == 1);  // the same sample again: nothing new
  CHECK(only(h.store, "scrape_series_added").back().v == 0);
  CHECK(storage::is_stale_nan(only(h.store, "plain").back().v));
  srv.set_body("/metrics", "");
  h.scrapes(1);
  CHECK_FALSE(storage::is_stale_nan(only(h.store, "own").back().v));
}

TEST_CASE("scrape: label limits fail the scrape") {
  MetricsServer srv;
  srv.set_body("/metrics", "m{a=\"1\",b=\"2\"} 1\n");
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address(), "    label_limit: 3\n") +
                 job("k", srv.address(), "    label_value_length_limit: 8\n    metrics_path: /metrics\n"
                                         "    params: {x: ['1']}\n")));
  h.scrapes(2);
  for (const auto& t : h.manager.active_targets()) {
    CHECK(t.health == TargetHealth::kDown);
    if (t.scrape_pool == "j") CHECK(t.last_error.starts_with("label_limit exceeded"));
    // The instance label (127.0.0.1:port) is longer than 8 bytes.
    if (t.scrape_pool == "k") CHECK(t.last_error.starts_with("label_value_length_limit exceeded"));
  }
  CHECK(series(h.store, "m").empty());
}

TEST_CASE("scrape: a job over its target_limit scrapes none of its targets") {
  Harness h;
  h.apply(prom_config("scrape_configs:\n  - job_name: many\n    target_limit: 1\n"
                 "    static_configs: [{targets: ['a:1', 'b:1']}]\n"));
  auto ts = h.manager.active_targets();
  REQUIRE(ts.size() == 2);
  CHECK(ts[0].health == TargetHealth::kDown);
  CHECK(ts[0].last_error == "target_limit exceeded (number of targets: 2, limit: 1)");
  CHECK_FALSE(h.manager.next_due().has_value());
  h.clock.advance(kHour);
  CHECK(h.manager.run_due() == 0);
}

TEST_CASE("scrape: a job's oauth2 token is fetched once and sent with its scrapes") {
  std::atomic<int> token_requests{0};
  httplib::Server token;
  token.Post("/token", [&](const httplib::Request&, httplib::Response& res) {
    ++token_requests;
    res.set_content(R"({"access_token":"scrape-tok-9","token_type":"bearer","expires_in":3600})", "application/json");
  });
  const int token_port = token.bind_to_any_port("127.0.0.1");
  REQUIRE(token_port > 0);
  std::thread token_thread([&] { token.listen_after_bind(); });
  while (!token.is_running()) std::this_thread::yield();
  MetricsServer srv;
  srv.set_body("/metrics", "m 1\n");
  {
    Harness h;
    h.apply(prom_config("scrape_configs:\n" +
                        job("j", srv.address(),
                            fmt::format("    oauth2: {{client_id: c, client_secret: s, token_url: 'http://127.0.0.1:{}/token'}}\n",
                                        token_port))));
    h.scrapes(2);
  }
  CHECK(srv.header("Authorization") == "Bearer scrape-tok-9");
  CHECK(token_requests == 1);
  token.stop();
  token_thread.join();
}

TEST_CASE("scrape: the job's HTTP options are used, and bodies are not redacted") {
  MetricsServer srv;
  srv.set_body("/metrics", "m{note=\"hunter22\"} 1\n");
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address(), "    basic_auth: {username: u, password: hunter22}\n")));
  h.scrapes(1);
  CHECK(srv.header("Authorization") == "Basic dTpodW50ZXIyMg==");  // base64("u:hunter22")
  // The job's scrape_protocols order the Accept header.
  Harness text_first;
  text_first.apply(prom_config("scrape_configs:\n" +
                          job("j", srv.address(), "    scrape_protocols: [PrometheusText0.0.4, OpenMetricsText1.0.0]\n")));
  text_first.scrapes(1);
  CHECK(srv.header("Accept") ==
        "text/plain;version=0.0.4;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,*/*;q=0.4");
  auto m = series(h.store, "m");
  REQUIRE(m.size() == 1);
  CHECK(m.begin()->first.find("note=\"hunter22\"") != std::string::npos);
}

TEST_CASE("scrape: at the store's series limit, new series are refused and known ones keep being scraped") {
  MetricsServer srv;
  srv.set_body("/metrics", "a 1\n");
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address())));
  h.scrapes(1);
  // a and the five report series.
  REQUIRE(h.store.num_series() == 6);
  h.store.set_max_series(6);
  srv.set_body("/metrics", "a 2\nchurn{id=\"1\"} 1\n");
  h.scrapes(1);
  srv.set_body("/metrics", "a 3\nchurn{id=\"2\"} 1\n");
  h.scrapes(1);
  CHECK(only(h.store, "a").size() == 3);
  CHECK(only(h.store, "a").back().v == 3);
  CHECK(series(h.store, "churn").empty());
  CHECK(only(h.store, "up").back().v == 1);  // the scrape itself succeeded
  CHECK(h.store.series_refused() == 2);
  // Refusals are not duplicate timestamps.
  CHECK(h.metrics().find("prometheus_target_scrapes_sample_duplicate_timestamp_total 0") != std::string::npos);
  std::string out;
  MetricsWriter w(out);
  write_store_metrics(w, h.store, 2 * kHour);
  CHECK(out.find("vigil_store_series_refused_total 2") != std::string::npos);
  CHECK(out.find("vigil_store_max_series 6") != std::string::npos);
  CHECK(out.find("vigil_store_retention_seconds 7200") != std::string::npos);
}

TEST_CASE("scrape cache: a line seen in the previous scrape is found, not parsed again") {
  MetricsServer srv;
  srv.set_body("/metrics", "# TYPE a counter\na{x=\"1\"} 1\na{x=\"2\"} 2\nb 3\n");
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address())));
  h.scrapes(1);
  auto st = h.manager.cache_stats();
  CHECK(st.hits == 0);
  CHECK(st.misses == 3);
  CHECK(st.texts == 3);
  CHECK(st.series == 3);
  srv.set_body("/metrics", "# TYPE a counter\na{x=\"1\"} 10\na{x=\"2\"} 20\nb 30\n");
  h.scrapes(1);
  st = h.manager.cache_stats();
  CHECK(st.hits == 3);
  CHECK(st.misses == 3);
  // The cached lines reach the same series with the target's labels.
  auto a = series(h.store, "a");
  REQUIRE(a.size() == 2);
  const auto& a1 = a.at(fmt::format(R"({{__name__="a", instance="{}", job="j", x="1"}})", srv.address()));
  REQUIRE(a1.size() == 2);
  CHECK(a1[0].v == 1);
  CHECK(a1[1].v == 10);
  CHECK(only(h.store, "b").back().v == 30);
  CHECK(only(h.store, "scrape_series_added").back().v == 0);
  CHECK(h.metrics().find("vigil_target_scrape_cache_hits_total 3") != std::string::npos);
  CHECK(h.metrics().find("vigil_target_scrape_cache_misses_total 3") != std::string::npos);
}

TEST_CASE("scrape cache: two spellings of one series share it, and duplicates are still caught") {
  MetricsServer srv;
  srv.set_body("/metrics", "a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 1\n");
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address())));
  h.scrapes(1);
  CHECK(h.manager.cache_stats().texts == 2);
  CHECK(h.manager.cache_stats().series == 1);
  CHECK(only(h.store, "a").size() == 1);
  CHECK(only(h.store, "scrape_series_added").back().v == 1);
  // Now from the cache: the second spelling repeats the timestamp with
  // another value.
  srv.set_body("/metrics", "a{x=\"1\",y=\"2\"} 5\na{y=\"2\",x=\"1\"} 6\n");
  h.scrapes(1);
  CHECK(h.manager.cache_stats().hits == 2);
  CHECK(only(h.store, "a").back().v == 5);
  CHECK(h.metrics().find("prometheus_target_scrapes_sample_duplicate_timestamp_total 1") != std::string::npos);
  // One spelling goes away: the series is still exposed, so not stale.
  srv.set_body("/metrics", "a{y=\"2\",x=\"1\"} 7\n");
  h.scrapes(1);
  CHECK(only(h.store, "a").back().v == 7);
  CHECK(h.manager.cache_stats().texts == 1);
  CHECK(h.manager.cache_stats().series == 1);
}

TEST_CASE("scrape cache: a series metric relabelling drops is cached as dropped") {
  MetricsServer srv;
  srv.set_body("/metrics", "keep 1\ndrop_me 2\n");
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address(),
                                                "    metric_relabel_configs:\n"
                                                "      - source_labels: [__name__]\n        regex: drop_.*\n"
                                                "        action: drop\n")));
  h.scrapes(2);
  auto st = h.manager.cache_stats();
  CHECK(st.misses == 2);
  CHECK(st.hits == 2);
  CHECK(st.texts == 2);
  CHECK(st.series == 1);
  CHECK(series(h.store, "drop_me").empty());
  CHECK(only(h.store, "keep").size() == 2);
  CHECK(only(h.store, "scrape_samples_scraped").back().v == 2);
  CHECK(only(h.store, "scrape_samples_post_metric_relabeling").back().v == 1);
}

TEST_CASE("scrape cache: a changed label is a new series; the old one goes stale and leaves the cache") {
  MetricsServer srv;
  srv.set_body("/metrics", "a{x=\"1\"} 1\n");
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address())));
  h.scrapes(1);
  srv.set_body("/metrics", "a{x=\"2\"} 1\n");
  h.scrapes(1);
  CHECK(h.manager.cache_stats().misses == 2);
  CHECK(h.manager.cache_stats().texts == 1);
  CHECK(h.manager.cache_stats().series == 1);
  auto a = series(h.store, "a");
  REQUIRE(a.size() == 2);
  const auto& old = a.at(fmt::format(R"({{__name__="a", instance="{}", job="j", x="1"}})", srv.address()));
  REQUIRE(old.size() == 2);
  CHECK(storage::is_stale_nan(old[1].v));
  CHECK(only(h.store, "scrape_series_added").back().v == 1);
  // Back to the first: read afresh (it left the cache), and added again.
  srv.set_body("/metrics", "a{x=\"1\"} 3\n");
  h.scrapes(1);
  CHECK(h.manager.cache_stats().misses == 3);
  CHECK(only(h.store, "scrape_series_added").back().v == 1);
}

TEST_CASE("scrape cache: a reload reads every line afresh with the new relabelling, keeping staleness") {
  MetricsServer srv;
  srv.set_body("/metrics", "a 1\nb 2\n");
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address())));
  h.scrapes(1);
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address(),
                                                "    metric_relabel_configs:\n"
                                                "      - target_label: team\n        replacement: core\n"
                                                "      - source_labels: [__name__]\n        regex: b\n"
                                                "        action: drop\n")));
  h.scrapes(1);
  CHECK(h.manager.cache_stats().hits == 0);
  CHECK(h.manager.cache_stats().misses == 4);
  auto a = series(h.store, "a");
  REQUIRE(a.size() == 2);
  const std::string inst = srv.address();
  CHECK(a.at(fmt::format(R"({{__name__="a", instance="{}", job="j", team="core"}})", inst)).size() == 1);
  // The series the old relabelling made are gone from the target: stale.
  CHECK(storage::is_stale_nan(a.at(fmt::format(R"({{__name__="a", instance="{}", job="j"}})", inst)).back().v));
  CHECK(storage::is_stale_nan(only(h.store, "b").back().v));
  CHECK(h.manager.cache_stats().series == 1);
}

TEST_CASE("scrape cache: series refs renumbered by truncation are looked up again") {
  MetricsServer srv;
  srv.set_body("/metrics", "a 1\nb 2\n");
  Harness h;
  // A series before the target's, with only an old sample: truncation
  // removes it and moves every later ref down.
  REQUIRE(h.store.append(Labels{{"__name__", "old"}}, kT0 - kMinute, 1));
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address())));
  h.scrapes(1);
  h.manager.truncate(30 * kSecond);
  REQUIRE(series(h.store, "old").empty());
  srv.set_body("/metrics", "a 10\nb 20\n");
  h.scrapes(1);
  CHECK(h.manager.cache_stats().hits == 2);
  auto a = only(h.store, "a");
  auto b = only(h.store, "b");
  REQUIRE(a.size() == 2);
  REQUIRE(b.size() == 2);
  CHECK(a[1].v == 10);
  CHECK(b[1].v == 20);
}

TEST_CASE("scrape cache: a label error is reported for its line, as without the cache") {
  MetricsServer srv;
  srv.set_body("/metrics", "a 1\n");
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address())));
  h.scrapes(1);
  // The cached line comes first; the broken label block follows, and a bad
  // value after it: the label block is the error named.
  srv.set_body("/metrics", "a 1\nb{x=\"1\" y} 2\nc notanumber\n");
  h.scrapes(1);
  auto t = h.manager.active_targets().at(0);
  CHECK(t.health == TargetHealth::kDown);
  CHECK_MESSAGE(t.last_error.starts_with("line 2: "), t.last_error);
  CHECK(only(h.store, "scrape_samples_scraped").back().v == 0);
  CHECK(storage::is_stale_nan(only(h.store, "a").back().v));
}

TEST_CASE("scrape cache: a failed scrape keeps the cache; the series come back as added") {
  MetricsServer srv;
  srv.set_body("/metrics", "a 1\nb 2\n");
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address())));
  h.scrapes(1);
  srv.set("/metrics", {503, "text/plain", "down", 0});
  h.scrapes(1);
  CHECK(storage::is_stale_nan(only(h.store, "a").back().v));
  CHECK(h.manager.cache_stats().texts == 2);
  srv.set_body("/metrics", "a 3\nb 4\n");
  h.scrapes(1);
  CHECK(h.manager.cache_stats().hits == 2);
  CHECK(h.manager.cache_stats().misses == 2);
  CHECK(only(h.store, "a").back().v == 3);
  CHECK(only(h.store, "scrape_series_added").back().v == 2);
  // Back to normal: nothing added, nothing stale.
  h.scrapes(1);
  CHECK(only(h.store, "scrape_series_added").back().v == 0);
  CHECK_FALSE(storage::is_stale_nan(only(h.store, "b").back().v));
}

namespace {

constexpr const char* kProtobufType =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

std::string delimited(const std::vector<storage::expo::MetricFamily>& families) {
  std::string out;
  for (const auto& mf : families) {
    std::string b = mf.SerializeAsString();
    for (uint64_t v = b.size(); ; v >>= 7) {
      if (v < 0x80) {
        out += static_cast<char>(v);
        break;
      }
      out += static_cast<char>((v & 0x7f) | 0x80);
    }
    out += b;
  }
  return out;
}

// A body with one counter and one integer native histogram of schema 3:
// buckets at indexes 0..7 with counts 1..8 (36 observations), 4 more in the
// zero bucket. The histogram also has one classic bucket.
std::string native_body(double counter = 5) {
  namespace pb = storage::expo;
  pb::MetricFamily c;
  c.set_name("jobs_total");
  c.set_type(pb::COUNTER);
  c.add_metric()->mutable_counter()->set_value(counter);
  pb::MetricFamily h;
  h.set_name("latency_seconds");
  h.set_type(pb::HISTOGRAM);
  auto* m = h.add_metric();
  auto* l = m->add_label();
  l->set_name("path");
  l->set_value("/a");
  auto* hist = m->mutable_histogram();
  hist->set_sample_count(40);
  hist->set_sample_sum(50);
  hist->set_schema(3);
  hist->set_zero_threshold(1e-3);
  hist->set_zero_count(4);
  auto* span = hist->add_positive_span();
  span->set_offset(0);
  span->set_length(8);
  for (int i = 0; i < 8; ++i) hist->add_positive_delta(1);
  auto* b = hist->add_bucket();
  b->set_upper_bound(1);
  b->set_cumulative_count(10);
  return delimited({c, h});
}

// The native histograms of the one series named `name`.
std::vector<storage::Series::HistogramSample> histograms_of(const storage::MemoryStore& store, const std::string& name) {
  std::vector<Matcher> ms{*Matcher::make(MatchType::kEqual, "__name__", name)};
  auto refs = store.select(ms);
  REQUIRE_MESSAGE(refs.size() == 1, name, " has ", refs.size(), " series");
  auto hs = store.get(refs[0]).histograms();
  return {hs.begin(), hs.end()};
}

}  // namespace

TEST_CASE("scrape: protobuf bodies with native histograms are stored as native histograms") {
  MetricsServer srv;
  srv.set("/metrics", {200, kProtobufType, native_body(), 0});
  Harness h;
  h.apply(prom_config("global: {scrape_native_histograms: true}\nscrape_configs:\n" + job("p", srv.address())));
  h.scrapes(1);
  CHECK(srv.header("Accept").starts_with(
      "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,"));
  CHECK(only(h.store, "up").at(0).v == 1);
  CHECK(only(h.store, "jobs_total").at(0).v == 5);
  auto hs = histograms_of(h.store, "latency_seconds");
  REQUIRE(hs.size() == 1);
  CHECK(hs[0].h->count == 40);
  CHECK(hs[0].h->zero_count == 4);
  CHECK(hs[0].h->schema == 3);
  CHECK(hs[0].h->positive_buckets == std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(series(h.store, "latency_seconds_bucket").empty());
  CHECK(only(h.store, "scrape_samples_scraped").at(0).v == 2);
  CHECK(only(h.store, "scrape_series_added").at(0).v == 2);
  // The next scrape finds both series in the cache.
  const auto before = h.manager.cache_stats();
  srv.set("/metrics", {200, kProtobufType, native_body(6), 0});
  h.scrapes(1);
  CHECK(h.manager.cache_stats().hits == before.hits + 2);
  CHECK(histograms_of(h.store, "latency_seconds").size() == 2);
  CHECK(only(h.store, "jobs_total").at(1).v == 6);
  // A series gone from the body gets a staleness marker, histogram or not.
  srv.set("/metrics", {200, kProtobufType, delimited({}), 0});
  h.scrapes(1);
  auto marks = only(h.store, "latency_seconds");
  REQUIRE(marks.size() == 1);
  CHECK(storage::is_stale_nan(marks[0].v));
}

TEST_CASE("scrape: without scrape_native_histograms a protobuf histogram is read as a classic one") {
  MetricsServer srv;
  srv.set("/metrics", {200, kProtobufType, native_body(), 0});
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("p", srv.address(), "    scrape_protocols: [PrometheusProto]\n")));
  h.scrapes(1);
  CHECK(only(h.store, "up").at(0).v == 1);
  CHECK(series(h.store, "latency_seconds").empty());
  CHECK(only(h.store, "latency_seconds_count").at(0).v == 40);
  CHECK(only(h.store, "latency_seconds_sum").at(0).v == 50);
  auto buckets = series(h.store, "latency_seconds_bucket");
  REQUIRE(buckets.size() == 2);
  CHECK(buckets.begin()->first.find("le=\"+Inf\"") != std::string::npos);
  CHECK(buckets.begin()->second.at(0).v == 40);
  CHECK(std::next(buckets.begin())->second.at(0).v == 10);  // le="1.0"
}

TEST_CASE("scrape: native_histogram_bucket_limit and min_bucket_factor reduce resolution; custom buckets fail") {
  MetricsServer srv;
  srv.set("/metrics", {200, kProtobufType, native_body(), 0});
  Harness h;
  h.apply(prom_config("global: {scrape_native_histograms: true}\nscrape_configs:\n" +
                      job("limit", srv.address(), "    native_histogram_bucket_limit: 3\n") +
                      "  - job_name: factor\n    scrape_interval: 10s\n    native_histogram_min_bucket_factor: 1.1\n"
                      "    static_configs: [{targets: ['" + srv.address() + "']}]\n"));
  h.scrapes(2);
  std::vector<Matcher> ms{*Matcher::make(MatchType::kEqual, "__name__", "latency_seconds")};
  std::map<std::string, HistogramPtr> by_job;
  for (auto ref : h.store.select(ms)) {
    REQUIRE(h.store.get(ref).histograms().size() == 1);
    by_job[std::string(h.store.get(ref).labels.get("job"))] = h.store.get(ref).histograms().front().h;
  }
  REQUIRE(by_job.size() == 2);
  // 8 buckets at schema 3 (indexes 0..7): schema 1 merges them into 2 buckets.
  const FloatHistogram& limited = *by_job.at("limit");
  CHECK(limited.schema == 1);
  CHECK(limited.positive_buckets.size() + limited.negative_buckets.size() <= 3);
  CHECK(limited.count == 40);
  double total = limited.zero_count;
  for (double b : limited.positive_buckets) total += b;
  CHECK(total == 40);
  // A factor of 1.1 allows schema 2 at most (2^(2^-2) = 1.19 >= 1.1 > 2^(2^-3)).
  CHECK(by_job.at("factor")->schema == 2);

  // Custom buckets cannot be reduced: over the limit, the scrape fails.
  srv.set_body("/text", "# TYPE c histogram\nc_bucket{le=\"1\"} 1\nc_bucket{le=\"2\"} 2\nc_bucket{le=\"+Inf\"} 3\n"
                        "c_count 3\nc_sum 4\n");
  Harness nhcb;
  nhcb.apply(prom_config("scrape_configs:\n" +
                         job("c", srv.address(),
                             "    metrics_path: /text\n    convert_classic_histograms_to_nhcb: true\n"
                             "    native_histogram_bucket_limit: 2\n")));
  nhcb.scrapes(1);
  CHECK(only(nhcb.store, "up").at(0).v == 0);
  auto t = nhcb.manager.active_targets();
  REQUIRE(t.size() == 1);
  CHECK(t[0].last_error == "histogram bucket limit exceeded");
  CHECK(nhcb.metrics().find("prometheus_target_scrapes_exceeded_native_histogram_bucket_limit_total 1") !=
        std::string::npos);
}

TEST_CASE("scrape: classic text histograms convert to custom buckets") {
  MetricsServer srv;
  srv.set_body("/metrics", "# TYPE c histogram\nc_bucket{le=\"1\"} 1\nc_bucket{le=\"2\"} 2\nc_bucket{le=\"+Inf\"} 3\n"
                           "c_count 3\nc_sum 4\nplain 1\n");
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("c", srv.address(), "    convert_classic_histograms_to_nhcb: true\n")));
  h.scrapes(1);
  auto hs = histograms_of(h.store, "c");
  REQUIRE(hs.size() == 1);
  CHECK(hs[0].h->custom_values == std::vector<double>{1, 2});
  CHECK(hs[0].h->positive_buckets == std::vector<double>{1, 1, 1});
  CHECK(series(h.store, "c_bucket").empty());
  CHECK(only(h.store, "plain").at(0).v == 1);
  CHECK(only(h.store, "scrape_samples_scraped").at(0).v == 2);
}

TEST_CASE("scrape: a missing or unknown Content-Type fails the scrape unless a fallback protocol is set") {
  MetricsServer srv;
  srv.set("/metrics", {200, "application/json", "m 1\n", 0});
  Harness h;
  h.apply(prom_config("scrape_configs:\n" + job("j", srv.address())));
  h.scrapes(1);
  auto t = h.manager.active_targets();
  REQUIRE(t.size() == 1);
  CHECK(t[0].last_error ==
        "received unsupported Content-Type \"application/json\" and no fallback_scrape_protocol specified for target");
  // An empty body has nothing to read: the scrape succeeds.
  srv.set("/empty", {200, "", "", 0});
  Harness empty;
  empty.apply(prom_config("scrape_configs:\n" + job("j", srv.address(), "    metrics_path: /empty\n")));
  empty.scrapes(1);
  CHECK(only(empty.store, "up").at(0).v == 1);
  Harness fb;
  fb.apply(prom_config("scrape_configs:\n" + job("j", srv.address(), "    fallback_scrape_protocol: PrometheusText0.0.4\n")));
  fb.scrapes(1);
  CHECK(only(fb.store, "m").at(0).v == 1);
  CHECK(only(fb.store, "up").at(0).v == 1);
}

TEST_CASE("scrape: a malformed protobuf body fails the scrape with the parser's error") {
  MetricsServer srv;
  srv.set("/metrics", {200, kProtobufType, native_body() + "\x7f", 0});
  Harness h;
  h.apply(prom_config("global: {scrape_native_histograms: true}\nscrape_configs:\n" + job("j", srv.address())));
  h.scrapes(1);
  CHECK(only(h.store, "up").at(0).v == 0);
  CHECK(series(h.store, "jobs_total").empty());
  auto t = h.manager.active_targets();
  REQUIRE(t.size() == 1);
  CHECK(t[0].last_error.find("a message of 127 bytes, but only 0 bytes follow") != std::string::npos);
}

TEST_CASE("scrape: native histograms go through metric relabelling and count toward sample_limit") {
  MetricsServer srv;
  srv.set("/metrics", {200, kProtobufType, native_body(), 0});
  Harness drop;
  drop.apply(prom_config("global: {scrape_native_histograms: true}\nscrape_configs:\n" +
                         job("j", srv.address(),
                             "    metric_relabel_configs:\n      - {source_labels: [path], regex: /a, action: drop}\n")));
  drop.scrapes(1);
  CHECK(series(drop.store, "latency_seconds").empty());
  CHECK(only(drop.store, "jobs_total").at(0).v == 5);
  CHECK(only(drop.store, "scrape_samples_scraped").at(0).v == 2);
  CHECK(only(drop.store, "scrape_samples_post_metric_relabeling").at(0).v == 1);

  Harness limited;
  limited.apply(prom_config("global: {scrape_native_histograms: true}\nscrape_configs:\n" +
                            job("j", srv.address(), "    sample_limit: 1\n")));
  limited.scrapes(1);
  CHECK(only(limited.store, "up").at(0).v == 0);
  CHECK(series(limited.store, "latency_seconds").empty());
  auto t = limited.manager.active_targets();
  REQUIRE(t.size() == 1);
  CHECK(t[0].last_error.starts_with("sample limit exceeded: 2 samples"));
}
