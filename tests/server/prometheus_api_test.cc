// The Prometheus /api/v1 endpoints over a rule manager and an in-memory
// store, called through the routes table.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "rules/manager.h"
#include "server/prometheus_api.h"
#include "tests/temp_dir.h"

using namespace vigil;
using namespace vigil::server;
using namespace vigil::storage;
using json = nlohmann::json;

namespace {

struct Api {
  testing::TempDir dir{"vigil-promapi"};
  ManualClock clock{1'700'000'000'000};
  storage::MemoryStore store;
  std::shared_mutex mu;
  std::unique_ptr<rules::RuleManager> manager;
  Routes routes;

  explicit Api(promql::EngineOptions engine = {}) {
    std::string f = dir.write("r.yml", R"(groups:
- name: g
  interval: 10s
  rules:
  - alert: Down
    expr: up == 0
    for: 1m
    labels: {severity: page}
    annotations: {summary: "{{ $labels.job }} down"}
  - record: job:up
    expr: sum by (job) (up)
)");
    manager = std::make_unique<rules::RuleManager>(clock, rules::ManagerOptions{},
                                                   rules::EvalBackend{&store, &mu, rules::engine_query(store, engine)},
                                                   [](rules::GroupAlerts&&) {});
    REQUIRE(manager->load({f}, rules::ManagerOptions{}).empty());
    for (int i = 0; i < 10; ++i) {
      REQUIRE(store.append(Labels{{"__name__", "up"}, {"job", "api"}}, clock.now() - 60'000 + i * 6'000, 0));
      REQUIRE(store.append(Labels{{"__name__", "up"}, {"job", "db"}}, clock.now() - 60'000 + i * 6'000, 1));
    }
    PrometheusApiContext ctx;
    ctx.clock = &clock;
    ctx.rules = manager.get();
    ctx.store = &store;
    ctx.store_mu = &mu;
    ctx.engine = engine;
    add_prometheus_api(routes, ctx);
  }
  std::pair<int, json> get(std::string path, std::multimap<std::string, std::string, std::less<>> params = {}) {
    Request r;
    r.method = "GET";
    r.path = std::move(path);
    r.params = std::move(params);
    Response resp = routes.handle(r);
    return {resp.status, json::parse(resp.body)};
  }
};

}  // namespace

TEST_CASE("prometheus api: instant query") {
  Api api;
  auto [status, body] = api.get("/api/v1/query", {{"query", "up == 0"}});
  REQUIRE(status == 200);
  CHECK(body["status"] == "success");
  CHECK(body["data"]["resultType"] == "vector");
  REQUIRE(body["data"]["result"].size() == 1);
  CHECK(body["data"]["result"][0]["metric"]["job"] == "api");
  CHECK(body["data"]["result"][0]["value"][1] == "0");
  CHECK(body["data"]["result"][0]["value"][0].get<double>() == doctest::Approx(1'700'000'000.0));

  std::tie(status, body) = api.get("/api/v1/query", {{"query", "1/0"}, {"time", "1700000000.5"}});
  CHECK(body["data"]["resultType"] == "scalar");
  CHECK(body["data"]["result"][1] == "+Inf");
  CHECK(body["data"]["result"][0].get<double>() == 1700000000.5);

  std::tie(status, body) = api.get("/api/v1/query", {{"query", "up +"}});
  CHECK(status == 400);
  CHECK(body["errorType"] == "bad_data");
  std::tie(status, body) = api.get("/api/v1/query", {{"query", "up"}, {"time", "yesterday"}});
  CHECK(status == 400);
}

TEST_CASE("prometheus api: native histograms as Prometheus writes them") {
  Api api;
  auto h = std::make_shared<FloatHistogram>();
  h->count = 4;
  h->sum = 5;
  h->zero_threshold = 0.001;
  h->zero_count = 1;
  h->positive_spans = {{0, 2}};
  h->positive_buckets = {2, 0};
  h->negative_spans = {{1, 1}};
  h->negative_buckets = {1};
  auto ref = api.store.series(Labels{{"__name__", "lat"}});
  for (int i = 0; i < 3; ++i) REQUIRE(api.store.append_histogram(ref, api.clock.now() - 20'000 + i * 10'000, h));
  auto [status, body] = api.get("/api/v1/query", {{"query", "lat"}});
  REQUIRE(status == 200);
  const json& r = body["data"]["result"][0];
  CHECK_FALSE(r.contains("value"));
  CHECK(r["histogram"][0] == 1700000000.0);
  CHECK(r["histogram"][1] == json::parse(R"({"count":"4","sum":"5","buckets":[
      [1,"-2","-1","1"],[3,"-0.001","0.001","1"],[0,"0.5","1","2"]]})"));
  std::tie(status, body) = api.get("/api/v1/query_range", {{"query", "lat"}, {"start", "1699999990"},
                                                           {"end", "1700000000"}, {"step", "10"}});
  REQUIRE(status == 200);
  const json& m = body["data"]["result"][0];
  CHECK_FALSE(m.contains("values"));
  REQUIRE(m["histograms"].size() == 2);
  CHECK(m["histograms"][1][1]["count"] == "4");
}

TEST_CASE("prometheus api: range query, series, labels and values") {
  Api api;
  auto [status, body] = api.get("/api/v1/query_range", {{"query", "up"}, {"start", "1699999950"}, {"end", "1700000000"},
                                                       {"step", "10s"}});
  REQUIRE(status == 200);
  CHECK(body["data"]["resultType"] == "matrix");
  REQUIRE(body["data"]["result"].size() == 2);
  CHECK(body["data"]["result"][0]["values"].size() == 6);
  std::tie(status, body) = api.get("/api/v1/query_range", {{"query", "up"}, {"start", "2"}, {"end", "1"}, {"step", "1"}});
  CHECK(status == 400);
  std::tie(status, body) = api.get("/api/v1/query_range", {{"query", "up[5m]"}, {"start", "1"}, {"end", "2"}, {"step", "1"}});
  CHECK(status == 400);

  std::tie(status, body) = api.get("/api/v1/series", {{"match[]", "up{job=\"db\"}"}});
  REQUIRE(status == 200);
  REQUIRE(body["data"].size() == 1);
  CHECK(body["data"][0]["job"] == "db");
  std::tie(status, body) = api.get("/api/v1/series", {});
  CHECK(status == 400);
  std::tie(status, body) = api.get("/api/v1/series", {{"match[]", "sum(up)"}});
  CHECK(status == 400);

  std::tie(status, body) = api.get("/api/v1/labels");
  CHECK(body["data"] == json::array({"__name__", "job"}));
  std::tie(status, body) = api.get("/api/v1/label/job/values");
  CHECK(body["data"] == json::array({"api", "db"}));
  std::tie(status, body) = api.get("/api/v1/label/job/values", {{"match[]", "up{job=\"api\"}"}});
  CHECK(body["data"] == json::array({"api"}));
}

TEST_CASE("prometheus api: rules and alerts follow evaluations") {
  Api api;
  auto [status, body] = api.get("/api/v1/rules");
  REQUIRE(status == 200);
  auto& g = body["data"]["groups"][0];
  CHECK(g["name"] == "g");
  CHECK(g["interval"] == 10);
  REQUIRE(g["rules"].size() == 2);
  CHECK(g["rules"][0]["health"] == "unknown");
  CHECK(g["rules"][0]["state"] == "inactive");
  CHECK(g["rules"][0]["duration"] == 60);
  CHECK(g["rules"][0]["labels"]["severity"] == "page");
  CHECK(g["rules"][1]["type"] == "recording");

  api.clock.set(*api.manager->next_due());
  REQUIRE(api.manager->run_due() == 1);
  std::tie(status, body) = api.get("/api/v1/rules");
  auto& r = body["data"]["groups"][0]["rules"][0];
  CHECK(r["health"] == "ok");
  CHECK(r["state"] == "pending");
  REQUIRE(r["alerts"].size() == 1);
  CHECK(r["alerts"][0]["annotations"]["summary"] == "api down");
  CHECK(r["alerts"][0]["value"] == "0e+00");

  std::tie(status, body) = api.get("/api/v1/rules", {{"type", "record"}});
  CHECK(body["data"]["groups"][0]["rules"].size() == 1);
  std::tie(status, body) = api.get("/api/v1/rules", {{"type", "bogus"}});
  CHECK(status == 400);

  std::tie(status, body) = api.get("/api/v1/alerts");
  REQUIRE(body["data"]["alerts"].size() == 1);
  CHECK(body["data"]["alerts"][0]["state"] == "pending");
  CHECK(body["data"]["alerts"][0]["labels"]["alertname"] == "Down");
}

TEST_CASE("prometheus api: query limits are answered as Prometheus answers them") {
  promql::EngineOptions one_sample;
  one_sample.max_samples = 1;
  Api api(one_sample);
  const std::string too_many = "query processing would load too many samples into memory in query execution";
  auto [status, body] = api.get("/api/v1/query", {{"query", "up"}});
  CHECK(status == 422);
  CHECK(body["errorType"] == "execution");
  CHECK(body["error"] == too_many);
  std::tie(status, body) = api.get("/api/v1/query_range", {{"query", "max_over_time(up[1m:1s])"}, {"start", "1699999990"},
                                                            {"end", "1700000000"}, {"step", "10s"}});
  CHECK(status == 422);
  CHECK(body["error"] == too_many);
  // A query that runs out of time: 503 with errorType timeout.
  std::tie(status, body) = api.get("/api/v1/query", {{"query", "vector(1)"}, {"timeout", "0s"}});
  CHECK(status == 503);
  CHECK(body["errorType"] == "timeout");
  CHECK(body["error"] == "query timed out in expression evaluation");

  // A rule over the limit is a failed evaluation, with the message.
  api.clock.set(*api.manager->next_due());
  REQUIRE(api.manager->run_due() == 1);
  std::tie(status, body) = api.get("/api/v1/rules");
  auto& rule = body["data"]["groups"][0]["rules"][0];
  CHECK(rule["health"] == "err");
  CHECK(rule["lastError"] == too_many);
}

TEST_CASE("prometheus api: a query canceled at shutdown is answered 499") {
  std::atomic<bool> stopping{true};
  promql::EngineOptions opts;
  opts.cancel = &stopping;
  Api api(opts);
  auto [status, body] = api.get("/api/v1/query", {{"query", "up"}});
  CHECK(status == 499);
  CHECK(body["errorType"] == "canceled");
  CHECK(body["error"] == "query was canceled in expression evaluation");
}

TEST_CASE("time and duration parameters") {
  CHECK(parse_time_param("1.5").value() == 1500);
  CHECK(parse_time_param("2024-05-01T10:00:00Z").value() == 1714557600000);
  CHECK_FALSE(parse_time_param("soon").has_value());
  CHECK(parse_duration_param("15").value() == 15000);
  CHECK(parse_duration_param("1m30s").value() == 90000);
  CHECK_FALSE(parse_duration_param("fast").has_value());
  CHECK(prom_value(0.1) == "0.1");
  CHECK(prom_value(-std::numeric_limits<double>::infinity()) == "-Inf");
}

TEST_CASE("prometheus api: sample values are formatted as Prometheus 3 formats them") {
  // jsonutil.MarshalFloat: no exponent in [1e-6, 1e21), Go's 'e' outside.
  CHECK(prom_value(0.0000001) == "1e-07");
  CHECK(prom_value(-0.0000001) == "-1e-07");
  CHECK(prom_value(0.000001) == "0.000001");
  CHECK(prom_value(1e21) == "1e+21");
  CHECK(prom_value(123456789012345678901.0) == "123456789012345680000");
  CHECK(prom_value(1.5e300) == "1.5e+300");
  CHECK(prom_value(0) == "0");
  CHECK(prom_value(std::nan("")) == "NaN");
  CHECK(prom_value(std::numeric_limits<double>::infinity()) == "+Inf");
  Api api;
  auto [status, body] = api.get("/api/v1/query", {{"query", "vector(0.0000001)"}});
  REQUIRE(status == 200);
  CHECK(body["data"]["result"][0]["value"][1] == "1e-07");
  // A scalar result never takes the exponent form (promql.Scalar's MarshalJSON).
  std::tie(status, body) = api.get("/api/v1/query", {{"query", "scalar(vector(1e-7))"}});
  CHECK(body["data"]["result"][1] == "0.0000001");
}

namespace {

// Three groups over two files, loaded in an order that is not the API's.
struct RulesApi {
  testing::TempDir dir{"vigil-rulesapi"};
  ManualClock clock{1'700'000'000'000};
  storage::MemoryStore store;
  std::shared_mutex mu;
  std::unique_ptr<rules::RuleManager> manager;
  Routes routes;

  RulesApi() {
    std::string b = dir.write("b.yml", R"(groups:
- name: zeta
  labels: {team: infra}
  rules:
  - alert: Down
    expr: vector(1)
    labels: {severity: page}
  - record: job:up
    expr: vector(1)
- name: alpha
  rules:
  - alert: Slow
    expr: vector(1)
    labels: {severity: ticket}
)");
    std::string a = dir.write("a.yml", R"(groups:
- name: only
  rules:
  - record: x
    expr: vector(2)
)");
    manager = std::make_unique<rules::RuleManager>(clock, rules::ManagerOptions{},
                                                   rules::EvalBackend{&store, &mu, rules::engine_query(store)},
                                                   [](rules::GroupAlerts&&) {});
    REQUIRE(manager->load({b, a}, rules::ManagerOptions{}).empty());
    PrometheusApiContext ctx;
    ctx.clock = &clock;
    ctx.rules = manager.get();
    add_prometheus_api(routes, ctx);
  }
  std::pair<int, json> get(std::multimap<std::string, std::string, std::less<>> params = {}) {
    Request r;
    r.method = "GET";
    r.path = "/api/v1/rules";
    r.params = std::move(params);
    Response resp = routes.handle(r);
    return {resp.status, json::parse(resp.body)};
  }
  std::vector<std::string> group_names(const json& body) {
    std::vector<std::string> out;
    for (const auto& g : body["data"]["groups"]) out.push_back(g["name"].get<std::string>());
    return out;
  }
};

}  // namespace

TEST_CASE("prometheus api: rules are ordered by file and group, and filtered") {
  RulesApi api;
  auto [status, body] = api.get();
  REQUIRE(status == 200);
  CHECK(api.group_names(body) == std::vector<std::string>{"only", "alpha", "zeta"});
  CHECK_FALSE(body["data"].contains("groupNextToken"));

  // match[] selects on the rule's labels, group labels included.
  std::tie(status, body) = api.get({{"match[]", "{severity=\"page\"}"}});
  REQUIRE(api.group_names(body) == std::vector<std::string>{"zeta"});
  CHECK(body["data"]["groups"][0]["rules"].size() == 1);
  std::tie(status, body) = api.get({{"match[]", "{team=\"infra\"}"}});
  REQUIRE(api.group_names(body) == std::vector<std::string>{"zeta"});
  CHECK(body["data"]["groups"][0]["rules"].size() == 2);
  CHECK(body["data"]["groups"][0]["rules"][1]["labels"]["team"] == "infra");
  // Sets are ORed.
  std::tie(status, body) = api.get({{"match[]", "{severity=\"page\"}"}, {"match[]", "{severity=\"ticket\"}"}});
  CHECK(api.group_names(body) == std::vector<std::string>{"alpha", "zeta"});

  std::tie(status, body) = api.get({{"rule_name[]", "x"}, {"rule_name[]", "Slow"}});
  CHECK(api.group_names(body) == std::vector<std::string>{"only", "alpha"});
  std::tie(status, body) = api.get({{"rule_group[]", "zeta"}, {"type", "RECORD"}});
  REQUIRE(api.group_names(body) == std::vector<std::string>{"zeta"});
  CHECK(body["data"]["groups"][0]["rules"].size() == 1);
  std::tie(status, body) = api.get({{"file[]", (api.dir.path() / "a.yml").string()}});
  CHECK(api.group_names(body) == std::vector<std::string>{"only"});

  std::tie(status, body) = api.get({{"exclude_alerts", "TRUE"}, {"rule_name[]", "Down"}});
  REQUIRE(status == 200);
  CHECK_FALSE(body["data"]["groups"][0]["rules"][0].contains("alerts"));
  std::tie(status, body) = api.get({{"exclude_alerts", "f"}, {"rule_name[]", "Down"}});
  CHECK(body["data"]["groups"][0]["rules"][0].contains("alerts"));
}

TEST_CASE("prometheus api: rule groups page with group_limit and group_next_token") {
  RulesApi api;
  auto [status, body] = api.get({{"group_limit", "2"}});
  REQUIRE(status == 200);
  CHECK(api.group_names(body) == std::vector<std::string>{"only", "alpha"});
  REQUIRE(body["data"].contains("groupNextToken"));
  // The token is the hex SHA-1 of "file;group" of the next page's first group.
  const std::string token = body["data"]["groupNextToken"];
  CHECK(token.size() == 40);
  std::tie(status, body) = api.get({{"group_limit", "2"}, {"group_next_token", token}});
  REQUIRE(status == 200);
  CHECK(api.group_names(body) == std::vector<std::string>{"zeta"});
  CHECK_FALSE(body["data"].contains("groupNextToken"));
  // Filters apply within the pages.
  std::tie(status, body) = api.get({{"group_limit", "1"}, {"type", "alert"}});
  CHECK(api.group_names(body) == std::vector<std::string>{"alpha"});
  CHECK(body["data"].contains("groupNextToken"));
}

TEST_CASE("prometheus api: invalid rules parameters are 400 with Prometheus' messages") {
  RulesApi api;
  struct Case {
    std::multimap<std::string, std::string, std::less<>> params;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{{"type", "bogus"}}, "invalid parameter \"type\": not supported value \"bogus\""},
      {{{"exclude_alerts", "yes"}},
       "invalid parameter \"exclude_alerts\": error converting exclude_alerts: strconv.ParseBool: parsing \"yes\": "
       "invalid syntax"},
      {{{"group_next_token", "abc"}},
       "invalid parameter \"group_next_token\": group_limit needs to be present in order to paginate over the groups"},
      {{{"group_limit", "0"}}, "invalid parameter \"group_limit\": group_limit needs to be greater than 0"},
      {{{"group_limit", "-3"}}, "invalid parameter \"group_limit\": group_limit needs to be greater than 0"},
      {{{"group_limit", "ten"}},
       "invalid parameter \"group_limit\": group_limit needs to be a valid number: strconv.ParseInt: parsing "
       "\"ten\": invalid syntax"},
      {{{"group_limit", "3000000000"}},
       "invalid parameter \"group_limit\": group_limit needs to be a valid number: strconv.ParseInt: parsing "
       "\"3000000000\": value out of range"},
      {{{"group_limit", "1"}, {"group_next_token", "0000"}},
       "invalid parameter \"group_next_token\": invalid group_next_token '0000'. were rule groups changed?"},
      {{{"match[]", "{severity=~\".*\"}"}}, "match[] must contain at least one non-empty matcher"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.error);
    auto [status, body] = api.get(c.params);
    CHECK(status == 400);
    CHECK(body["status"] == "error");
    CHECK(body["errorType"] == "bad_data");
    CHECK(body["error"] == c.error);
  }
  auto [status, body] = api.get({{"match[]", "up +"}});
  CHECK(status == 400);
  CHECK(body["errorType"] == "bad_data");
}
