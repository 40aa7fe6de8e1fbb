// dns_sd_configs and http_sd_configs: their configuration, the targets and
// meta labels they give, refresh and failure semantics (a fake resolver and
// a fake HTTP exchange, a ManualClock), and a scrape job fed by them.
#include <doctest/doctest.h>

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "config/prometheus_config.h"
#include "storage/dns_sd.h"
#include "storage/http_sd.h"
#include "storage/scrape.h"

using namespace vigil;
using namespace vigil::storage;

namespace {

// Answers set per (name, type); a name set to fail answers an error.
class FakeResolver : public Resolver {
 public:
  std::map<std::pair<std::string, std::string>, std::vector<Record>> answers;
  std::map<std::string, std::string> failing;  // name -> error
  int lookups = 0;
  Result<std::vector<Record>> lookup(const std::string& name, const std::string& type) override {
    ++lookups;
    if (auto f = failing.find(name); f != failing.end()) return fail(f->second);
    auto it = answers.find({name, type});
    return it == answers.end() ? std::vector<Record>{} : it->second;
  }
};

config::PrometheusConfigResult parse(const std::string& yaml) { return config::parse_prometheus_config(yaml); }

bool has_error(const config::PrometheusConfigResult& r, std::string_view text) {
  for (const auto& e : r.errors)
    if (e.message.find(text) != std::string::npos) return true;
  return false;
}

config::DnsSdConfig dns(std::vector<std::string> names, std::string type, int port = 0) {
  config::DnsSdConfig c;
  c.names = std::move(names);
  c.type = std::move(type);
  c.port = port;
  return c;
}

std::vector<std::string> targets(const RefreshDiscovery& d) {
  std::vector<std::string> out;
  for (const TargetGroup& g : d.groups())
    for (const std::string& t : g.targets) out.push_back(t + " " + g.labels.to_string());
  return out;
}

}  // namespace

TEST_CASE("dns_sd_configs and http_sd_configs load as Prometheus reads them, with its errors") {
  auto r = parse(R"(scrape_configs:
  - job_name: d
    dns_sd_configs:
      - names: [_api._tcp.example.org]
      - names: [a.example.org, b.example.org]
        type: a
        port: 9100
        refresh_interval: 10s
    http_sd_configs:
      - url: http://sd.example.org/targets
        refresh_interval: 2m
        basic_auth: {username: u, password: p}
)");
  REQUIRE(r.ok());
  CHECK(r.warnings.empty());
  const auto& sc = r.config.scrape_configs.at(0);
  REQUIRE(sc.dns_sd_configs.size() == 2);
  CHECK(sc.dns_sd_configs[0].type == "SRV");
  CHECK(sc.dns_sd_configs[0].refresh_interval == 30 * kSecond);
  CHECK(sc.dns_sd_configs[1].type == "A");
  CHECK(sc.dns_sd_configs[1].port == 9100);
  CHECK(sc.dns_sd_configs[1].names == std::vector<std::string>{"a.example.org", "b.example.org"});
  CHECK(sc.dns_sd_configs[1].refresh_interval == 10 * kSecond);
  REQUIRE(sc.http_sd_configs.size() == 1);
  CHECK(sc.http_sd_configs[0].url == "http://sd.example.org/targets");
  CHECK(sc.http_sd_configs[0].refresh_interval == 2 * kMinute);
  CHECK(sc.http_sd_configs[0].http.find("basic_auth") != nullptr);
  CHECK(sc.unsupported_sd.empty());

  auto job = [](const std::string& sd) { return parse("scrape_configs:\n  - job_name: j\n" + sd); };
  CHECK(has_error(job("    dns_sd_configs:\n      - type: SRV\n"), "must contain at least one SRV record name"));
  CHECK(has_error(job("    dns_sd_configs:\n      - names: [x]\n        type: TXT\n"), "invalid DNS-SD records type TXT"));
  CHECK(has_error(job("    dns_sd_configs:\n      - names: [x]\n        type: A\n"),
                  "a port is required in DNS-SD configs for all record types except SRV"));
  CHECK(has_error(job("    dns_sd_configs:\n      - names: [x]\n        nmes: [y]\n"), "nmes"));
  CHECK(has_error(job("    http_sd_configs:\n      - refresh_interval: 1m\n"), "URL is missing"));
  CHECK(has_error(job("    http_sd_configs:\n      - url: ftp://x/y\n"), "URL scheme must be 'http' or 'https'"));
  CHECK(has_error(job("    http_sd_configs:\n      - url: http:///y\n"), "host is missing in URL"));
  auto bad = job("    dns_sd_configs:\n      - names: [x]\n        type: A\n");
  REQUIRE_FALSE(bad.errors.empty());
  CHECK(bad.errors[0].line == 4);

  // Alertmanagers are still found by static and file discovery only.
  auto am = parse("alerting:\n  alertmanagers:\n    - dns_sd_configs:\n        - names: [am.example.org]\n");
  REQUIRE(am.ok());
  REQUIRE(am.warnings.size() == 1);
  CHECK(am.warnings[0].message.find("dns_sd_configs is not supported") != std::string::npos);
}

TEST_CASE("dns_sd: SRV, A, AAAA and MX records become targets with Prometheus' meta labels") {
  auto resolver = std::make_shared<FakeResolver>();
  resolver->answers[{"_api._tcp.example.org", "SRV"}] = {{"api-1.example.org", 8080}, {"api-2.example.org", 8081}};
  resolver->answers[{"web.example.org", "A"}] = {{"10.0.0.1", 0}, {"10.0.0.2", 0}};
  resolver->answers[{"web.example.org", "AAAA"}] = {{"2001:db8::1", 0}};
  resolver->answers[{"example.org", "MX"}] = {{"mail.example.org", 0}};

  DnsDiscovery srv(dns({"_api._tcp.example.org"}, "SRV"), resolver);
  CHECK(srv.refresh(0, true));
  CHECK(targets(srv) ==
        std::vector<std::string>{
            R"(api-1.example.org:8080 {__meta_dns_name="_api._tcp.example.org", __meta_dns_srv_record_port="8080", __meta_dns_srv_record_target="api-1.example.org."})",
            R"(api-2.example.org:8081 {__meta_dns_name="_api._tcp.example.org", __meta_dns_srv_record_port="8081", __meta_dns_srv_record_target="api-2.example.org."})"});

  DnsDiscovery a(dns({"web.example.org"}, "A", 9100), resolver);
  a.refresh(0, true);
  CHECK(targets(a) == std::vector<std::string>{R"(10.0.0.1:9100 {__meta_dns_name="web.example.org"})",
                                               R"(10.0.0.2:9100 {__meta_dns_name="web.example.org"})"});
  DnsDiscovery aaaa(dns({"web.example.org"}, "AAAA", 9100), resolver);
  aaaa.refresh(0, true);
  CHECK(targets(aaaa) == std::vector<std::string>{R"([2001:db8::1]:9100 {__meta_dns_name="web.example.org"})"});
  DnsDiscovery mx(dns({"example.org"}, "MX", 25), resolver);
  mx.refresh(0, true);
  CHECK(targets(mx) == std::vector<std::string>{
                           R"(mail.example.org:25 {__meta_dns_mx_record_target="mail.example.org.", __meta_dns_name="example.org"})"});
}

TEST_CASE("dns_sd: refreshed every refresh_interval; a failed name keeps its targets, a vanished one loses them") {
  auto resolver = std::make_shared<FakeResolver>();
  resolver->answers[{"a.example.org", "A"}] = {{"10.0.0.1", 0}};
  resolver->answers[{"b.example.org", "A"}] = {{"10.0.0.2", 0}};
  auto cfg = dns({"a.example.org", "b.example.org"}, "A", 80);
  cfg.refresh_interval = 30 * kSecond;
  DnsDiscovery d(cfg, resolver);
  CHECK(d.refresh(1000, false));  // due at once
  CHECK(d.groups().size() == 2);
  CHECK(d.next_due() == 31'000);
  const int lookups = resolver->lookups;
  CHECK_FALSE(d.refresh(30'999, false));
  CHECK(resolver->lookups == lookups);  // not asked before it is due

  resolver->answers[{"a.example.org", "A"}] = {{"10.0.0.9", 0}};
  resolver->failing["b.example.org"] = "could not resolve b.example.org: server failure";
  CHECK(d.refresh(31'000, false));
  CHECK(targets(d) == std::vector<std::string>{R"(10.0.0.9:80 {__meta_dns_name="a.example.org"})",
                                               R"(10.0.0.2:80 {__meta_dns_name="b.example.org"})"});
  CHECK(d.error() == "could not resolve b.example.org: server failure");
  CHECK(d.failures() == 1);
  CHECK(d.lookups() == 4);

  resolver->failing.clear();
  resolver->answers.erase({"b.example.org", "A"});  // the name no longer exists
  CHECK(d.refresh(61'000, false));
  CHECK(targets(d) == std::vector<std::string>{R"(10.0.0.9:80 {__meta_dns_name="a.example.org"})"});
  CHECK(d.error().empty());
  CHECK_FALSE(d.refresh(91'000, false));  // the same answer: no change
}

TEST_CASE("dns_sd: the system resolver answers A records for localhost and none for a name that does not exist") {
  auto r = system_resolver();
  auto local = r->lookup("localhost", "A");
  REQUIRE(local);
  REQUIRE_FALSE(local->empty());
  CHECK((*local)[0].target == "127.0.0.1");
  auto none = r->lookup("no-such-name.invalid", "A");
  if (none) CHECK(none->empty());  // without a DNS server the lookup may fail instead
}

TEST_CASE("http_sd: a JSON list of target groups, with __meta_url; failures keep the previous targets") {
  net::HttpResponse reply;
  reply.status = 200;
  reply.content_type = "application/json; charset=utf-8";
  reply.body = R"([{"targets": ["10.0.0.1:9100", "10.0.0.2:9100"], "labels": {"env": "prod"}},
                   {"targets": ["10.0.0.3:9100"]}])";
  net::HttpRequest seen;
  int calls = 0;
  config::HttpSdConfig cfg;
  cfg.url = "http://sd.example.org/targets";
  cfg.refresh_interval = 15 * kSecond;
  auto d = HttpDiscovery::create(cfg, [&](const net::HttpRequest& req) -> Result<net::HttpResponse> {
    ++calls;
    seen = req;
    return reply;
  });
  REQUIRE(d);
  HttpDiscovery& sd = **d;
  CHECK(sd.refresh(0, false));
  CHECK(seen.method == "GET");
  CHECK(seen.url == cfg.url);
  CHECK(seen.headers == std::vector<std::pair<std::string, std::string>>{
                            {"Accept", "application/json"}, {"X-Prometheus-Refresh-Interval-Seconds", "15"}});
  CHECK(targets(sd) == std::vector<std::string>{
                           R"(10.0.0.1:9100 {__meta_url="http://sd.example.org/targets", env="prod"})",
                           R"(10.0.0.2:9100 {__meta_url="http://sd.example.org/targets", env="prod"})",
                           R"(10.0.0.3:9100 {__meta_url="http://sd.example.org/targets"})"});
  CHECK(sd.error().empty());
  CHECK_FALSE(sd.refresh(14'999, false));
  CHECK(calls == 1);

  const auto before = targets(sd);
  reply.status = 503;
  CHECK_FALSE(sd.refresh(15'000, false));
  CHECK(targets(sd) == before);
  CHECK(sd.error() == "http_sd_configs http://sd.example.org/targets: server returned HTTP status 503");
  reply.status = 200;
  reply.content_type = "text/plain";
  CHECK_FALSE(sd.refresh(30'000, false));
  CHECK(sd.error().find("unsupported content type \"text/plain\"") != std::string::npos);
  reply.content_type = "application/json";
  reply.body = R"([null])";
  CHECK_FALSE(sd.refresh(45'000, false));
  CHECK(sd.error().find("expected each target group to be an object") != std::string::npos);
  reply.body = "[{\"targets\": [\"a:1\"]";
  CHECK_FALSE(sd.refresh(60'000, false));
  CHECK(sd.error().find("invalid JSON") != std::string::npos);
  CHECK(targets(sd) == before);
  CHECK(sd.failures() == 4);

  reply.body = "[]";
  CHECK(sd.refresh(75'000, false));
  CHECK(sd.groups().empty());
  CHECK(sd.error().empty());
}

namespace {

// Serves /metrics with one sample.
struct OneTarget {
  httplib::Server server;
  int port = 0;
  std::thread thread;
  OneTarget() {
    server.Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("m 1\n", "text/plain; version=0.0.4");
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::yield();
  }
  ~OneTarget() {
    server.stop();
    thread.join();
  }
};

}  // namespace

TEST_CASE("scrape: a job's dns_sd targets are relabelled with their meta labels, scraped and refreshed") {
  OneTarget target;
  auto resolver = std::make_shared<FakeResolver>();
  resolver->answers[{"_metrics._tcp.local", "SRV"}] = {{"localhost", static_cast<uint16_t>(target.port)}};
  MemoryStore store;
  std::shared_mutex mu;
  ManualClock clock{1'700'000'000'000};
  ScrapeOptions opts;
  opts.resolver = resolver;
  ScrapeManager m(store, mu, clock, opts);
  auto cfg = parse(R"(scrape_configs:
  - job_name: d
    scrape_interval: 10s
    dns_sd_configs:
      - names: [_metrics._tcp.local]
        refresh_interval: 1m
    relabel_configs:
      - source_labels: [__meta_dns_srv_record_target]
        target_label: srv
      - source_labels: [__meta_dns_name]
        target_label: name
)");
  REQUIRE(cfg.ok());
  REQUIRE(m.apply(cfg.config).empty());
  auto active = m.active_targets();
  REQUIRE(active.size() == 1);
  CHECK(active[0].scrape_url == fmt::format("http://localhost:{}/metrics", target.port));
  CHECK(active[0].labels.to_string() ==
        fmt::format(R"({{instance="localhost:{}", job="d", name="_metrics._tcp.local", srv="localhost."}})", target.port));
  CHECK(active[0].discovered_labels.get("__meta_dns_srv_record_port") == std::to_string(target.port));
  for (int i = 0; i < 3; ++i) {
    clock.set(*m.next_due());
    m.run_due();
  }
  std::vector<Matcher> up{*Matcher::make(MatchType::kEqual, "__name__", "m")};
  REQUIRE(store.select(up).size() == 1);
  CHECK(store.get(store.select(up)[0]).labels.get("srv") == "localhost.");

  // The lookup fails: the target stays and the error is shown.
  resolver->failing["_metrics._tcp.local"] = "could not resolve _metrics._tcp.local: timed out";
  clock.set(clock.now() + kMinute);
  m.run_due();
  CHECK(m.active_targets().size() == 1);
  REQUIRE(m.discovery_errors().size() == 1);
  CHECK(m.discovery_errors()[0].message == "could not resolve _metrics._tcp.local: timed out");
  // The name goes away: so does the target.
  resolver->failing.clear();
  resolver->answers.clear();
  clock.set(clock.now() + kMinute);
  m.run_due();
  CHECK(m.active_targets().empty());
  CHECK(m.discovery_errors().empty());
  std::string text;
  MetricsWriter w(text);
  m.write_metrics(w);
  CHECK(text.find("prometheus_sd_dns_lookups_total 3") != std::string::npos);
  CHECK(text.find("prometheus_sd_dns_lookup_failures_total 1") != std::string::npos);
}

TEST_CASE("scrape: a slow http_sd endpoint does not hold up scrapes; its answer comes in later") {
  OneTarget target;
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool open = false;
  std::atomic<int> calls = 0;
  ScrapeOptions opts;
  opts.workers = 1;
  opts.http_sd_fetch = [&](const net::HttpRequest&) -> Result<net::HttpResponse> {
    const int n = ++calls;
    if (n > 1) {
      // Hangs until the test lets it go (bounded, should the test fail first).
      std::unique_lock lock(gate_mu);
      gate_cv.wait_for(lock, std::chrono::seconds(20), [&] { return open; });
    }
    net::HttpResponse r;
    r.status = 200;
    r.content_type = "application/json";
    r.body = n == 1 ? "[]" : fmt::format(R"([{{"targets": ["127.0.0.1:{}"], "labels": {{"from": "sd"}}}}])", target.port);
    return r;
  };
  MemoryStore store;
  std::shared_mutex mu;
  ManualClock clock{1'700'000'000'000};
  ScrapeManager m(store, mu, clock, opts);
  auto cfg = parse(fmt::format(R"(scrape_configs:
  - job_name: s
    scrape_interval: 10s
    static_configs:
      - targets: ['localhost:{}']
    http_sd_configs:
      - url: http://sd.example.org/targets
        refresh_interval: 30s
)",
                               target.port));
  REQUIRE(cfg.ok());
  REQUIRE(m.apply(cfg.config).empty());
  CHECK(calls == 1);
  REQUIRE(m.active_targets().size() == 1);

  // Past the refresh: the endpoint hangs, and the static target's scrapes
  // go on at their times.
  const Millis until = clock.now() + kMinute;
  while (clock.now() < until) {
    clock.set(*m.next_due());
    const auto began = std::chrono::steady_clock::now();
    m.run_due();
    m.wait_idle();
    CHECK(std::chrono::steady_clock::now() - began < std::chrono::seconds(5));
  }
  CHECK(calls == 2);  // asked once and still waiting: not asked again
  std::vector<Matcher> sel{*Matcher::make(MatchType::kEqual, "__name__", "m")};
  {
    std::shared_lock lock(mu);
    REQUIRE(store.select(sel).size() == 1);
    CHECK(store.get(store.select(sel)[0]).num_samples() >= 5);
  }
  CHECK(m.active_targets().size() == 1);

  // The answer comes: its target joins.
  {
    std::lock_guard lock(gate_mu);
    open = true;
  }
  gate_cv.notify_all();
  m.wait_discovery_idle();
  auto active = m.active_targets();
  REQUIRE(active.size() == 2);
  CHECK((active[0].labels.get("from") == "sd" || active[1].labels.get("from") == "sd"));
  m.stop();
}
