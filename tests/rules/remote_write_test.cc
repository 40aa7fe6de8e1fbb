#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "config/prometheus_config.h"
#include "model/clock.h"
#include "rules/manager.h"
#include "rules/remote_write.h"
#include "tests/temp_dir.h"
#include "storage/memory_store.h"
#include "storage/remote_protocol.h"

using namespace vigil;
using namespace vigil::rules;

namespace {

// A destination that answers with the statuses it is told to, in turn (200
// once they run out), and keeps what it was sent.
struct FakeDestination {
  std::vector<int> statuses;  // 0: a transport error
  std::vector<net::HttpRequest> got;
  std::string retry_after;

  RemoteWriteTransport transport() {
    return [this](const net::HttpRequest& req) -> Result<net::HttpResponse> {
      got.push_back(req);
      int status = 200;
      if (!statuses.empty()) {
        status = statuses.front();
        statuses.erase(statuses.begin());
      }
      if (status == 0) return fail("connection refused");
      net::HttpResponse r;
      r.status = status;
      r.retry_after = retry_after;
      return r;
    };
  }
};

config::RemoteWriteConfig destination(size_t capacity = 100, size_t per_send = 10) {
  config::RemoteWriteConfig c;
  c.url = "http://remote.example/api/v1/write";
  c.queue.capacity = capacity;
  c.queue.max_samples_per_send = per_send;
  c.queue.batch_send_deadline = 5 * kSecond;
  c.queue.min_backoff = 100;
  c.queue.max_backoff = 400;
  return c;
}

promql::Vector samples(const std::string& name, int n, int64_t t0 = 1000) {
  promql::Vector out;
  for (int i = 0; i < n; ++i) out.push_back(promql::Sample{Labels{{"__name__", name}}, double(i), t0 + i * 1000});
  return out;
}

storage::remote::WriteRequest decode(const net::HttpRequest& req) {
  auto m = storage::decode_snappy_message<storage::remote::WriteRequest>(req.body, 1 << 24, "write request");
  REQUIRE(m);
  return *m;
}

size_t sample_count(const storage::remote::WriteRequest& w) {
  size_t n = 0;
  for (const auto& ts : w.timeseries()) n += static_cast<size_t>(ts.samples_size());
  return n;
}

}  // namespace

TEST_CASE("remote write: a full batch goes at once, with the protocol's headers") {
  ManualClock clock(10'000);
  FakeDestination dest;
  RemoteWriteQueue q(destination(100, 10), {}, clock, dest.transport());
  q.append(samples("a", 10));
  REQUIRE(q.next_due() == clock.now());
  q.run_due();
  REQUIRE(dest.got.size() == 1);
  const net::HttpRequest& req = dest.got[0];
  CHECK(req.url == "http://remote.example/api/v1/write");
  CHECK(req.content_type == "application/x-protobuf");
  auto header = [&](const std::string& name) {
    for (const auto& [k, v] : req.headers)
      if (k == name) return v;
    return std::string();
  };
  CHECK(header("Content-Encoding") == "snappy");
  CHECK(header("X-Prometheus-Remote-Write-Version") == "0.1.0");
  auto w = decode(req);
  REQUIRE(w.timeseries_size() == 1);  // one series, its ten samples in order
  CHECK(w.timeseries(0).samples_size() == 10);
  CHECK(w.timeseries(0).samples(9).timestamp() == 10'000);
  CHECK(q.stats().samples_total == 10);
  CHECK(q.stats().samples_pending == 0);
  CHECK(q.stats().highest_sent_seconds == 10.0);
  CHECK(!q.next_due());
}

TEST_CASE("remote write: a partial batch waits for batch_send_deadline") {
  ManualClock clock(10'000);
  FakeDestination dest;
  RemoteWriteQueue q(destination(100, 10), {}, clock, dest.transport());
  q.append(samples("a", 3));
  CHECK(q.next_due() == 15'000);
  q.run_due();
  CHECK(dest.got.empty());
  clock.advance(5 * kSecond);
  q.run_due();
  REQUIRE(dest.got.size() == 1);
  CHECK(sample_count(decode(dest.got[0])) == 3);
}

TEST_CASE("remote write: 5xx and transport errors are retried with doubling backoff, in order") {
  ManualClock clock(10'000);
  FakeDestination dest;
  dest.statuses = {503, 0, 500, 500};
  RemoteWriteQueue q(destination(100, 2), {}, clock, dest.transport());
  q.append(samples("a", 4));
  q.run_due();
  CHECK(q.next_due() == 10'100);  // min_backoff
  clock.set(10'100);
  q.run_due();
  CHECK(q.next_due() == 10'300);  // doubled
  clock.set(10'300);
  q.run_due();
  CHECK(q.next_due() == 10'700);  // doubled again: 400, max_backoff
  clock.set(10'700);
  q.run_due();
  CHECK(q.next_due() == 11'100);  // capped at max_backoff
  // Later samples wait behind the failing batch.
  q.append(samples("b", 1, 50'000));
  clock.set(11'100);
  q.run_due();  // accepted now
  REQUIRE(dest.got.size() == 5);
  for (const auto& r : dest.got) CHECK(r.body == dest.got[0].body);  // the same batch each time
  CHECK(q.stats().samples_retried == 8);
  CHECK(q.stats().samples_total == 10);
  CHECK(q.stats().samples_pending == 3);
  q.run_due();  // a full batch of what waited
  clock.advance(5 * kSecond);
  q.run_due();  // the last one, at its deadline
  REQUIRE(dest.got.size() == 7);
  auto last = decode(dest.got.back());
  CHECK(last.timeseries(0).labels(0).value() == "b");
  CHECK(q.stats().samples_failed == 0);
  CHECK(q.stats().samples_pending == 0);
}

TEST_CASE("remote write: 429 is retried unless retry_on_http_429 is off; Retry-After wins") {
  ManualClock clock(10'000);
  SUBCASE("retried, after Retry-After") {
    FakeDestination dest;
    dest.statuses = {429};
    dest.retry_after = "3";
    RemoteWriteQueue q(destination(100, 1), {}, clock, dest.transport());
    q.append(samples("a", 1));
    q.run_due();
    CHECK(q.next_due() == 13'000);
    CHECK(q.stats().samples_retried == 1);
  }
  SUBCASE("dropped when not retried") {
    FakeDestination dest;
    dest.statuses = {429};
    config::RemoteWriteConfig c = destination(100, 1);
    c.queue.retry_on_http_429 = false;
    RemoteWriteQueue q(c, {}, clock, dest.transport());
    q.append(samples("a", 1));
    q.run_due();
    CHECK(!q.next_due());
    CHECK(q.stats().samples_failed == 1);
  }
}

TEST_CASE("remote write: other 4xx answers drop the batch and count it failed") {
  ManualClock clock(10'000);
  FakeDestination dest;
  dest.statuses = {400};
  RemoteWriteQueue q(destination(100, 2), {}, clock, dest.transport());
  q.append(samples("a", 3));
  q.run_due();
  CHECK(q.stats().samples_failed == 2);
  CHECK(q.stats().samples_retried == 0);
  CHECK(q.stats().samples_pending == 1);
  CHECK(q.stats().highest_sent_seconds == 0);
}

TEST_CASE("remote write: the queue is bounded; what does not fit is dropped and counted") {
  ManualClock clock(10'000);
  FakeDestination dest;
  dest.statuses = {0, 0, 0};
  RemoteWriteQueue q(destination(5, 2), {}, clock, dest.transport());
  q.append(samples("a", 8));
  CHECK(q.stats().samples_pending == 5);
  CHECK(q.stats().samples_dropped == 3);
  // While a batch retries, the queue still takes what fits.
  q.run_due();
  q.append(samples("b", 4, 90'000));
  CHECK(q.stats().samples_pending == 5 + 2);  // 3 queued + 2 more fitted, 2 in flight
  CHECK(q.stats().samples_dropped == 5);
}

TEST_CASE("remote write: external labels added, then write_relabel_configs") {
  ManualClock clock(10'000);
  FakeDestination dest;
  config::RemoteWriteConfig c = destination(100, 3);
  config::RelabelConfig drop;
  drop.action = config::RelabelAction::kDrop;
  drop.source_labels = {"__name__"};
  drop.regex = "debug_.*";
  REQUIRE(drop.compile());
  c.write_relabel_configs.push_back(drop);
  RemoteWriteQueue q(c, Labels{{"replica", "a"}, {"job", "external"}}, clock, dest.transport());
  promql::Vector in = samples("kept", 1);
  in.push_back(promql::Sample{Labels{{"__name__", "kept2"}, {"job", "own"}}, 1, 1000});
  in.push_back(promql::Sample{Labels{{"__name__", "debug_x"}}, 1, 1000});
  q.append(in);
  CHECK(q.stats().samples_dropped == 1);
  q.append(in);  // the same series again: decided as the first time
  CHECK(q.stats().samples_dropped == 2);
  CHECK(q.stats().samples_pending == 4);
  clock.advance(5 * kSecond);
  q.run_due();
  REQUIRE(dest.got.size() == 1);  // a full batch of 3
  auto w = decode(dest.got[0]);
  REQUIRE(w.timeseries_size() == 2);
  auto first = storage::labels_of(w.timeseries(0));
  auto second = storage::labels_of(w.timeseries(1));
  CHECK(*first == Labels{{"__name__", "kept"}, {"job", "external"}, {"replica", "a"}});
  CHECK(*second == Labels{{"__name__", "kept2"}, {"job", "own"}, {"replica", "a"}});  // the series' own job wins
}

TEST_CASE("remote write: the writer feeds every destination and keeps unchanged queues on reload") {
  ManualClock clock(10'000);
  std::vector<std::string> made;
  FakeDestination a, b;
  RemoteWriter w(clock, [&](const config::RemoteWriteConfig& c) -> Result<RemoteWriteTransport> {
    made.push_back(c.url);
    return c.url.ends_with("/a") ? a.transport() : b.transport();
  });
  config::RemoteWriteConfig ca = destination(100, 2), cb = destination(100, 2);
  ca.url = "http://x/a";
  cb.url = "http://x/b";
  REQUIRE(w.apply({ca, cb}, {}));
  w.append(samples("r", 2));
  CHECK(w.next_due() == clock.now());
  REQUIRE(w.apply({ca, cb}, {}));  // nothing changed: the queued samples stay
  CHECK(made.size() == 2);
  w.run_due();
  CHECK(a.got.size() == 1);
  CHECK(b.got.size() == 1);
  std::string text;
  MetricsWriter mw(text);
  w.write_metrics(mw);
  CHECK(text.find("prometheus_remote_storage_samples_total{remote_name=\"") != std::string::npos);
  CHECK(text.find("url=\"http://x/a\"} 2") != std::string::npos);
  CHECK(text.find("prometheus_remote_storage_highest_timestamp_in_seconds 2") != std::string::npos);
  // One send each, instant with the fake: in the first bucket, counted once.
  CHECK(text.find("prometheus_remote_storage_sent_batch_duration_seconds_bucket{remote_name=\"") != std::string::npos);
  CHECK(text.find("url=\"http://x/b\",le=\"0.005\"} 1") != std::string::npos);
  CHECK(text.find("prometheus_remote_storage_sent_batch_duration_seconds_count{remote_name=") != std::string::npos);
  // Changed credentials make a new destination (its transport made again).
  config::RemoteWriteConfig ca2 = ca;
  ca2.http = config::ConfigValue::map();
  config::ConfigValue auth = config::ConfigValue::map();
  auth.set("username", config::ConfigValue::string("u"));
  ca2.http.set("basic_auth", auth);
  REQUIRE(w.apply({ca2}, {}));
  CHECK(made.size() == 3);
  auth.set("username", config::ConfigValue::string("v"));
  config::RemoteWriteConfig ca3 = ca2;
  ca3.http.set("basic_auth", auth);
  REQUIRE(w.apply({ca3}, {}));
  CHECK(made.size() == 4);
  CHECK(w.destinations() == 1);
  // A destination whose client cannot be made fails the apply and changes nothing.
  RemoteWriter bad(clock, [](const config::RemoteWriteConfig&) -> Result<RemoteWriteTransport> {
    return fail("cannot read CA file");
  });
  CHECK(!bad.apply({ca}, {}));
  CHECK(bad.destinations() == 0);
}

TEST_CASE("remote write: stale markers keep their bits on the wire") {
  promql::Vector v{promql::Sample{Labels{{"__name__", "x"}}, storage::stale_nan(), 5}};
  auto m = storage::decode_snappy_message<storage::remote::WriteRequest>(encode_write_request(v), 1 << 20, "w");
  REQUIRE(m);
  CHECK(storage::is_stale_nan(m->timeseries(0).samples(0).value()));
}

TEST_CASE("remote write: the rule manager hands on what its rules wrote, stale markers included") {
  testing::TempDir dir("vigil-remote-write");
  const std::string file = dir.write("rules.yml", R"(groups:
- name: g
  interval: 10s
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
  - alert: Down
    expr: up == 0
)");
  ManualClock clock(1'000'000'000'000);
  storage::MemoryStore store;
  std::shared_mutex store_mu;
  RuleManager m(clock, ManagerOptions{}, EvalBackend{&store, &store_mu, engine_query(store)}, nullptr);
  std::vector<promql::Vector> handed;
  m.set_on_appended([&](const promql::Vector& v) { handed.push_back(v); });
  REQUIRE(m.load({file}, ManagerOptions{}).empty());
  auto step = [&] {
    clock.set(*m.next_due());
    REQUIRE(m.run_due() == 1);
  };
  {
    std::unique_lock lock(store_mu);
    REQUIRE(store.append(Labels{{"__name__", "up"}, {"job", "api"}}, clock.now(), 0));
  }
  step();
  REQUIRE(handed.size() == 1);
  // job:up:sum, then ALERTS and ALERTS_FOR_STATE of the pending alert (no `for`: firing at once).
  std::vector<std::string> names;
  for (const auto& s : handed[0]) names.push_back(std::string(s.labels.get("__name__")));
  CHECK(names == std::vector<std::string>{"job:up:sum", "ALERTS", "ALERTS_FOR_STATE"});
  CHECK(handed[0][0].labels == Labels{{"__name__", "job:up:sum"}, {"job", "api"}});
  CHECK(handed[0][0].value == 0);
  CHECK(handed[0][0].t == clock.now());
  // up recovers: the alert's series go stale, and remote write hears of it.
  {
    std::unique_lock lock(store_mu);
    REQUIRE(store.append(Labels{{"__name__", "up"}, {"job", "api"}}, clock.now() + 1, 1));
  }
  step();
  REQUIRE(handed.size() == 2);
  size_t stale = 0;
  for (const auto& s : handed[1]) stale += storage::is_stale_nan(s.value) ? 1 : 0;
  CHECK(stale == 2);
}

TEST_CASE("remote write: flush sends everything queued at once, and stops at a failure") {
  ManualClock clock(10'000);
  FakeDestination dest;
  RemoteWriteQueue q(destination(100, 2), {}, clock, dest.transport());
  q.append(samples("a", 5));
  q.flush(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  CHECK(dest.got.size() == 3);  // 2 + 2 + the partial 1, its deadline not waited for
  CHECK(q.stats().samples_pending == 0);
  dest.statuses = {503};
  q.append(samples("b", 4));
  q.flush(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  CHECK(dest.got.size() == 4);  // one failed attempt, then it gives up
  CHECK(q.stats().samples_pending == 4);
  // A deadline already passed sends nothing.
  q.flush(std::chrono::steady_clock::now() - std::chrono::seconds(1));
  CHECK(dest.got.size() == 4);
}

TEST_CASE("remote write: a failing destination is logged once until it recovers; a dropped batch each time") {
  ManualClock clock(10'000);
  FakeDestination dest;
  dest.statuses = {503, 503, 503, 200, 400};
  std::vector<std::string> lines;
  config::RemoteWriteConfig c = destination(100, 1);
  c.name = "central";
  RemoteWriteQueue q(c, {}, clock, dest.transport(), nullptr,
                     [&](bool error, const std::string& name, const std::string& msg) {
                       lines.push_back(fmt::format("{} {} {}", error ? "error" : "warn", name, msg));
                     });
  q.append(samples("a", 2));
  for (int i = 0; i < 5; ++i) {
    clock.advance(10 * kSecond);
    q.run_due();
  }
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "warn central remote write failed, retrying with backoff: HTTP 503");
  CHECK(lines[1] == "warn central remote write resumed: the destination accepts samples again");
  CHECK(lines[2] == "error central remote write batch of 1 samples dropped: HTTP 400");
}

namespace {

HistogramPtr test_histogram(double scale) {
  auto h = std::make_shared<FloatHistogram>();
  h->schema = 0;
  h->count = 4 * scale;
  h->sum = 10 * scale;
  h->zero_threshold = 0.001;
  h->zero_count = 1 * scale;
  h->positive_spans = {{0, 2}, {1, 1}};
  h->positive_buckets = {1 * scale, 1 * scale, 1 * scale};
  return h;
}

}  // namespace

TEST_CASE("remote write: native histograms go in the series' histograms, with send_native_histograms") {
  ManualClock clock(10'000);
  FakeDestination dest;
  dest.statuses = {503};
  config::RemoteWriteConfig c = destination(100, 3);
  c.send_native_histograms = true;
  RemoteWriteQueue q(c, {}, clock, dest.transport());
  const Labels ls{{"__name__", "job:h:sum"}};
  promql::Vector v{promql::Sample{ls, 0, 1000, test_histogram(1)}, promql::Sample{ls, 7, 2000},
                   promql::Sample{ls, 0, 3000, test_histogram(2)}};
  q.append(v);
  q.run_due();  // 503: retried
  CHECK(q.stats().histograms_retried == 2);
  CHECK(q.stats().samples_retried == 1);
  clock.advance(1000);
  q.run_due();
  REQUIRE(dest.got.size() == 2);
  auto w = decode(dest.got[1]);
  REQUIRE(w.timeseries_size() == 1);
  const auto& ts = w.timeseries(0);
  REQUIRE(ts.samples_size() == 1);
  CHECK(ts.samples(0).timestamp() == 2000);
  REQUIRE(ts.histograms_size() == 2);
  CHECK(ts.histograms(0).timestamp() == 1000);
  CHECK(ts.histograms(1).timestamp() == 3000);
  auto h = storage::histogram_of(ts.histograms(1));
  REQUIRE(h);
  CHECK(h->count == 8);
  CHECK(h->positive_buckets == std::vector<double>{2, 2, 2});
  CHECK(h->positive_spans == test_histogram(1)->positive_spans);
  CHECK(q.stats().histograms_total == 4);  // two attempts of two
  CHECK(q.stats().samples_total == 2);
  CHECK(q.stats().samples_pending == 0);
}

TEST_CASE("remote write: without send_native_histograms histograms are left out, said once") {
  ManualClock clock(10'000);
  FakeDestination dest;
  std::vector<std::string> lines;
  RemoteWriteQueue q(destination(100, 1), {}, clock, dest.transport(), nullptr,
                     [&](bool, const std::string&, const std::string& msg) { lines.push_back(msg); });
  const Labels ls{{"__name__", "h"}};
  for (int i = 0; i < 2; ++i)
    q.append(promql::Vector{promql::Sample{ls, 0, 1000 + i, test_histogram(1)}, promql::Sample{ls, 1, 2000 + i}});
  CHECK(q.stats().samples_pending == 2);
  CHECK(q.stats().samples_dropped == 0);  // not a drop: Prometheus does not count them either
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("send_native_histograms is off") != std::string::npos);
  q.run_due();
  REQUIRE(dest.got.size() == 1);
  CHECK(decode(dest.got[0]).timeseries(0).histograms_size() == 0);
}

TEST_CASE("remote write: a recording rule's native histogram is stored and handed on") {
  testing::TempDir dir("vigil-remote-write-h");
  const std::string file = dir.write("rules.yml", R"(groups:
- name: g
  interval: 10s
  rules:
  - record: job:h:sum
    expr: sum by (job) (h)
)");
  ManualClock clock(1'000'000'000'000);
  storage::MemoryStore store;
  std::shared_mutex store_mu;
  RuleManager m(clock, ManagerOptions{}, EvalBackend{&store, &store_mu, engine_query(store)}, nullptr);
  std::vector<promql::Vector> handed;
  m.set_on_appended([&](const promql::Vector& v) { handed.push_back(v); });
  REQUIRE(m.load({file}, ManagerOptions{}).empty());
  clock.set(*m.next_due());
  {
    std::unique_lock lock(store_mu);
    for (const char* inst : {"a", "b"}) {
      auto ref = store.add_series(Labels{{"__name__", "h"}, {"instance", inst}, {"job", "api"}});
      REQUIRE(ref);
      REQUIRE(store.append_histogram(*ref, clock.now() - 1000, test_histogram(1)));
    }
  }
  REQUIRE(m.run_due() == 1);
  REQUIRE(handed.size() == 1);
  REQUIRE(handed[0].size() == 1);
  const promql::Sample& s = handed[0][0];
  CHECK(s.labels == Labels{{"__name__", "job:h:sum"}, {"job", "api"}});
  REQUIRE(s.h);
  CHECK(s.h->count == 8);
  CHECK(s.h->positive_buckets == std::vector<double>{2, 2, 2});
  std::shared_lock lock(store_mu);
  const std::vector<Matcher> name{*Matcher::make(MatchType::kEqual, "__name__", "job:h:sum")};
  auto refs = store.select(name);
  REQUIRE(refs.size() == 1);
  const auto& stored = store.get(refs[0]).histograms();
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].t == clock.now());
  CHECK(stored[0].h->sum == 20);
  CHECK(store.get(refs[0]).empty());  // no float sample beside it
}
