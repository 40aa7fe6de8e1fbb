// Remote read and /federate over an in-memory store, through the routes table.
#include <doctest/doctest.h>

#include <string>

#include "server/federation.h"
#include "storage/memory_store.h"
#include "storage/remote_protocol.h"

using namespace vigil;
using namespace vigil::server;
using namespace vigil::storage;

namespace {

struct Served {
  ManualClock clock{1'700'000'000'000};
  MemoryStore store;
  std::shared_mutex mu;
  Routes routes;
  Labels external;

  Served() {
    const int64_t now = clock.now();
    for (int i = 0; i < 10; ++i) {
      const int64_t t = now - 90'000 + i * 10'000;
      REQUIRE(store.append(Labels{{"__name__", "up"}, {"job", "api"}, {"instance", "a:1"}}, t, 1));
      REQUIRE(store.append(Labels{{"__name__", "up"}, {"job", "db"}, {"instance", "b:1"}}, t, i < 9 ? 1 : 0));
      REQUIRE(store.append(Labels{{"__name__", "http_requests_total"}, {"job", "api"}, {"path", "/a\"b"}}, t, i * 2.5));
    }
    // Gone: its last sample is a stale marker.
    REQUIRE(store.append(Labels{{"__name__", "up"}, {"job", "gone"}}, now - 20'000, 1));
    REQUIRE(store.append(Labels{{"__name__", "up"}, {"job", "gone"}}, now - 10'000, stale_nan()));
    // Too old for the lookback.
    REQUIRE(store.append(Labels{{"__name__", "up"}, {"job", "old"}}, now - 6 * 60'000, 1));
    FederationContext ctx;
    ctx.clock = &clock;
    ctx.store = &store;
    ctx.store_mu = &mu;
    ctx.external_labels = [this] { return external; };
    add_federation_routes(routes, ctx);
  }

  Response federate(std::initializer_list<std::string> matches) {
    Request r;
    r.method = "GET";
    r.path = "/federate";
    for (const auto& m : matches) r.params.emplace("match[]", m);
    return routes.handle(r);
  }

  Response read(const remote::ReadRequest& rr) {
    Request r;
    r.method = "POST";
    r.path = "/api/v1/read";
    r.body = snappy_compress(rr.SerializeAsString());
    return routes.handle(r);
  }
};

remote::Query* add_query(remote::ReadRequest& rr, int64_t start, int64_t end, remote::LabelMatcher::Type type,
                         const std::string& name, const std::string& value) {
  remote::Query* q = rr.add_queries();
  q->set_start_timestamp_ms(start);
  q->set_end_timestamp_ms(end);
  remote::LabelMatcher* m = q->add_matchers();
  m->set_type(type);
  m->set_name(name);
  m->set_value(value);
  return q;
}

}  // namespace

TEST_CASE("federate: the latest sample of each matching series, grouped by name, with timestamps") {
  Served s;
  Response r = s.federate({"{job=\"api\"}", "up"});
  CHECK(r.status == 200);
  CHECK(r.content_type.starts_with("text/plain; version=0.0.4"));
  const std::string t = std::to_string(s.clock.now());
  CHECK(r.body == "# TYPE http_requests_total untyped\n"
                  "http_requests_total{job=\"api\",path=\"/a\\\"b\"} 22.5 " + t + "\n"
                  "# TYPE up untyped\n"
                  "up{instance=\"a:1\",job=\"api\"} 1 " + t + "\n"
                  "up{instance=\"b:1\",job=\"db\"} 0 " + t + "\n");
}

TEST_CASE("federate: external labels are added where a series lacks them; bad selectors are 400") {
  Served s;
  s.external = Labels{{"replica", "x"}, {"job", "ext"}};
  Response r = s.federate({"{job=\"db\"}"});
  CHECK(r.body.find("up{instance=\"b:1\",job=\"db\",replica=\"x\"} 0") != std::string::npos);
  CHECK(s.federate({"rate(up[5m])"}).status == 400);
  CHECK(s.federate({"{"}).status == 400);
  CHECK(s.federate({}).body.empty());
}

TEST_CASE("remote read: raw samples of [start, end] for each query, in order") {
  Served s;
  const int64_t now = s.clock.now();
  remote::ReadRequest rr;
  add_query(rr, now - 30'000, now - 10'000, remote::LabelMatcher::EQ, "job", "db");
  add_query(rr, now - 1000, now, remote::LabelMatcher::RE, "__name__", "http_.*");
  rr.add_accepted_response_types(remote::ReadRequest::STREAMED_XOR_CHUNKS);
  Response r = s.read(rr);
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "application/x-protobuf");
  CHECK(r.headers == std::vector<std::pair<std::string, std::string>>{{"Content-Encoding", "snappy"}});
  auto resp = decode_snappy_message<remote::ReadResponse>(r.body, 1 << 20, "read response");
  REQUIRE(resp);
  REQUIRE(resp->results_size() == 2);
  REQUIRE(resp->results(0).timeseries_size() == 1);
  const auto& db = resp->results(0).timeseries(0);
  CHECK(*labels_of(db) == Labels{{"__name__", "up"}, {"job", "db"}, {"instance", "b:1"}});
  REQUIRE(db.samples_size() == 3);  // both ends included
  CHECK(db.samples(0).timestamp() == now - 30'000);
  CHECK(db.samples(2).timestamp() == now - 10'000);
  REQUIRE(resp->results(1).timeseries_size() == 1);
  CHECK(resp->results(1).timeseries(0).samples(0).value() == 22.5);
}

TEST_CASE("remote read: matchers on external labels are matched against their values") {
  Served s;
  s.external = Labels{{"cluster", "eu"}};
  const int64_t now = s.clock.now();
  remote::ReadRequest rr;
  remote::Query* q = add_query(rr, now - 1000, now, remote::LabelMatcher::EQ, "cluster", "eu");
  remote::LabelMatcher* m = q->add_matchers();
  m->set_name("job");
  m->set_value("api");
  add_query(rr, now - 1000, now, remote::LabelMatcher::EQ, "cluster", "us");
  auto resp = decode_snappy_message<remote::ReadResponse>(s.read(rr).body, 1 << 20, "read response");
  REQUIRE(resp);
  REQUIRE(resp->results_size() == 2);
  REQUIRE(resp->results(0).timeseries_size() == 2);  // up and http_requests_total of job api
  for (const auto& ts : resp->results(0).timeseries()) CHECK(labels_of(ts)->get("cluster") == "eu");
  CHECK(resp->results(1).timeseries_size() == 0);
}

TEST_CASE("remote read: bad bodies are 400 with the reason") {
  Served s;
  Request r;
  r.method = "POST";
  r.path = "/api/v1/read";
  r.body = "not snappy";
  Response resp = s.routes.handle(r);
  CHECK(resp.status == 400);
  CHECK(resp.body.find("snappy") != std::string::npos);
  remote::ReadRequest rr;
  add_query(rr, 0, 1, remote::LabelMatcher::RE, "job", "(");
  resp = s.read(rr);
  CHECK(resp.status == 400);
  CHECK(resp.body.starts_with("remote read: "));
}

namespace {

HistogramPtr histogram(double count) {
  auto h = std::make_shared<FloatHistogram>();
  h->count = count;
  h->sum = 2 * count;
  h->positive_spans = {{0, 1}};
  h->positive_buckets = {count};
  return h;
}

}  // namespace

TEST_CASE("remote read: native histogram samples of [start, end] go in the series' histograms") {
  Served s;
  const int64_t now = s.clock.now();
  auto only = s.store.add_series(Labels{{"__name__", "rpc_seconds"}, {"job", "api"}});
  auto mixed = s.store.add_series(Labels{{"__name__", "rpc_seconds"}, {"job", "db"}});
  REQUIRE(only);
  REQUIRE(mixed);
  for (int i = 0; i < 4; ++i) REQUIRE(s.store.append_histogram(*only, now - 40'000 + i * 10'000, histogram(i + 1)));
  REQUIRE(s.store.append(*mixed, now - 20'000, 5));
  REQUIRE(s.store.append_histogram(*mixed, now - 10'000, histogram(9)));
  remote::ReadRequest rr;
  add_query(rr, now - 30'000, now - 10'000, remote::LabelMatcher::EQ, "__name__", "rpc_seconds");
  Response r = s.read(rr);
  REQUIRE(r.status == 200);
  auto resp = decode_snappy_message<remote::ReadResponse>(r.body, 1 << 20, "read response");
  REQUIRE(resp);
  REQUIRE(resp->results(0).timeseries_size() == 2);
  for (const auto& ts : resp->results(0).timeseries()) {
    if (labels_of(ts)->get("job") == "api") {
      CHECK(ts.samples_size() == 0);
      REQUIRE(ts.histograms_size() == 3);  // both ends included
      CHECK(ts.histograms(0).timestamp() == now - 30'000);
      auto h = histogram_of(ts.histograms(2));
      REQUIRE(h);
      CHECK(h->count == 4);
      CHECK(h->sum == 8);
    } else {
      REQUIRE(ts.samples_size() == 1);
      CHECK(ts.samples(0).value() == 5);
      REQUIRE(ts.histograms_size() == 1);
      CHECK(histogram_of(ts.histograms(0))->count == 9);
    }
  }
}

TEST_CASE("federate: a series whose latest sample is a native histogram is left out of the text format") {
  Served s;
  const int64_t now = s.clock.now();
  auto newer = s.store.add_series(Labels{{"__name__", "rpc"}, {"job", "h_last"}});
  auto older = s.store.add_series(Labels{{"__name__", "rpc"}, {"job", "f_last"}});
  REQUIRE(s.store.append(*newer, now - 20'000, 1));
  REQUIRE(s.store.append_histogram(*newer, now - 10'000, histogram(1)));
  REQUIRE(s.store.append_histogram(*older, now - 20'000, histogram(1)));
  REQUIRE(s.store.append(*older, now - 10'000, 2));
  Response r = s.federate({"rpc"});
  CHECK(r.body == "# TYPE rpc untyped\nrpc{job=\"f_last\"} 2 " + std::to_string(now - 10'000) + "\n");
}
