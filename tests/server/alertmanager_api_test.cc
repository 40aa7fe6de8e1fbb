#include <doctest/doctest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "../routing/router_harness.h"
#include "routing/config_redact.h"
#include "server/alertmanager_api.h"
#include "tests/temp_dir.h"

using nlohmann::json;
using namespace vigil;
using namespace vigil::server;
using vigil::routing::testing::Harness;
using vigil::routing::testing::kT0;

namespace {

constexpr std::string_view kConfig = R"(
global:
  resolve_timeout: 5m
  slack_api_url: https://hooks.slack.com/services/SLACK-SECRET
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: [team="db"]
      receiver: db-pager
      continue: true
    - matchers: [team="db"]
      receiver: db-chat
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [cluster]
receivers:
  - name: default
    webhook_configs:
      - url: http://127.0.0.1:1/hook/URL-SECRET
        http_config:
          basic_auth: {username: someone, password: BASIC-SECRET}
  - name: db-pager
    pagerduty_configs:
      - routing_key: PD-SECRET
        http_config:
          authorization: {credentials_file: /etc/vigil/token}
  - name: db-chat
    slack_configs:
      - channel: '#db'
        http_config:
          tls_config: {key: TLS-KEY-SECRET, cert_file: /etc/vigil/cert.pem}
          http_headers:
            X-Token: {secrets: [HEADER-SECRET], values: [visible-header]}
)";

// A Router over kConfig with the API on a Routes table, driven by hand.
struct ApiHarness {
  Harness h;
  Routes routes;
  int alerts_posted = 0;

  explicit ApiHarness(std::string data_dir = "", routing::AlertLimits limits = {}, std::string_view config = kConfig)
      : h(config, std::move(data_dir)) {
    AlertmanagerApiContext ctx{*h.router, h.clock};
    ctx.alert_limits = limits;
    ctx.start_time = kT0 - 60 * kSecond;
    ctx.config_original = [] { return routing::redacted_config_yaml(kConfig).value(); };
    ctx.on_alerts = [this] { ++alerts_posted; };
    add_alertmanager_api(routes, std::move(ctx));
  }

  // Bodies go as JSON, as every Alertmanager client sends them, unless the
  // test says otherwise.
  Response call(std::string method, std::string path, std::string body = "",
                std::vector<std::pair<std::string, std::string>> params = {},
                std::string content_type = "application/json") {
    Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.body = std::move(body);
    if (!content_type.empty()) r.headers["content-type"] = std::move(content_type);
    for (auto& [k, v] : params) r.params.emplace(k, v);
    return routes.handle(std::move(r));
  }
  json get(std::string path, std::vector<std::pair<std::string, std::string>> params = {}) {
    Response r = call("GET", std::move(path), "", std::move(params));
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return json::parse(r.body);
  }
  Response post(std::string path, const json& body) { return call("POST", std::move(path), body.dump()); }

  std::string silence(json matchers, Millis starts, Millis ends, std::string id = "") {
    json s{{"matchers", std::move(matchers)}, {"startsAt", api_time(starts)}, {"endsAt", api_time(ends)},
           {"createdBy", "tester"}, {"comment", "maintenance"}};
    if (!id.empty()) s["id"] = id;
    Response r = post("/api/v2/silences", s);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    return json::parse(r.body).at("silenceID").get<std::string>();
  }
};

json alert(json labels) { return json{{"labels", std::move(labels)}}; }

json eq(std::string name, std::string value) {
  return json{{"name", std::move(name)}, {"value", std::move(value)}, {"isRegex", false}};
}

std::vector<std::string> names_of(const json& alerts) {
  std::vector<std::string> out;
  for (const json& a : alerts) out.push_back(a["labels"]["alertname"].get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("am api: times are RFC 3339 in UTC with milliseconds") {
  CHECK(api_time(kT0) == "2023-11-14T22:13:20.000Z");
  CHECK(api_time(kT0 + 5) == "2023-11-14T22:13:20.005Z");
  CHECK(api_time(0) == "1970-01-01T00:00:00.000Z");
  CHECK(api_time(-1) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("am api: posted alerts come back with fingerprint, times, receivers and status") {
  ApiHarness t;
  json body = json::array({json{{"labels", {{"alertname", "DiskFull"}, {"team", "db"}, {"empty", ""}}},
                                {"annotations", {{"summary", "disk is full"}}},
                                {"generatorURL", "http://prom/graph"}},
                           json{{"labels", {{"alertname", "Other"}}}, {"startsAt", api_time(kT0 - kMinute)},
                                {"endsAt", api_time(kT0 + kHour)}}});
  Response r = t.post("/api/v2/alerts", body);
  CHECK(r.status == 200);
  CHECK(r.body.empty());
  CHECK(t.alerts_posted == 1);

  json alerts = t.get("/api/v2/alerts");
  REQUIRE(alerts.size() == 2);
  Labels disk{{"alertname", "DiskFull"}, {"team", "db"}};
  // Ordered by fingerprint.
  std::string fp_disk = fmt::format("{:016x}", disk.fingerprint());
  std::string fp_other = fmt::format("{:016x}", Labels{{"alertname", "Other"}}.fingerprint());
  const json& a = alerts[0]["fingerprint"] == fp_disk ? alerts[0] : alerts[1];
  const json& b = alerts[0]["fingerprint"] == fp_disk ? alerts[1] : alerts[0];
  CHECK((alerts[0]["fingerprint"].get<std::string>() < alerts[1]["fingerprint"].get<std::string>()));
  CHECK(a["fingerprint"].get<std::string>().size() == 16);
  CHECK(b["fingerprint"] == fp_other);
  CHECK(a["labels"] == json{{"alertname", "DiskFull"}, {"team", "db"}});  // empty label dropped
  CHECK(a["annotations"] == json{{"summary", "disk is full"}});
  CHECK(a["generatorURL"] == "http://prom/graph");
  CHECK(a["startsAt"] == "2023-11-14T22:13:20.000Z");
  CHECK(a["updatedAt"] == "2023-11-14T22:13:20.000Z");
  CHECK(a["endsAt"] == "2023-11-14T22:18:20.000Z");  // now + resolve_timeout
  CHECK(a["receivers"] == json::parse(R"([{"name":"db-pager"},{"name":"db-chat"}])"));
  CHECK(a["status"] == json::parse(R"({"state":"active","silencedBy":[],"inhibitedBy":[],"mutedBy":[]})"));
  CHECK(b["startsAt"] == "2023-11-14T22:12:20.000Z");
  CHECK(b["endsAt"] == "2023-11-14T23:13:20.000Z");
  CHECK(b["receivers"] == json::parse(R"([{"name":"default"}])"));
  CHECK_FALSE(b.contains("generatorURL"));

  // Resolved alerts are no longer listed.
  t.h.clock.advance(6 * kMinute);
  CHECK(names_of(t.get("/api/v2/alerts")) == std::vector<std::string>{"Other"});
}

TEST_CASE("am api: bad alert bodies are 400 with a message and valid alerts are still kept") {
  ApiHarness t;
  SUBCASE("not JSON") {
    Response r = t.call("POST", "/api/v2/alerts", "{nope");
    CHECK(r.status == 400);
    CHECK(json::parse(r.body)["message"].get<std::string>().find("invalid JSON") != std::string::npos);
  }
  SUBCASE("empty body") { CHECK(t.call("POST", "/api/v2/alerts", "").status == 400); }
  SUBCASE("not an array") {
    Response r = t.post("/api/v2/alerts", alert({{"a", "b"}}));
    CHECK(r.status == 400);
    CHECK(json::parse(r.body)["message"].get<std::string>().find("expected an array") != std::string::npos);
  }
  SUBCASE("wrong types") {
    Response r = t.post("/api/v2/alerts", json::array({json{{"labels", {{"a", 1}}}}}));
    CHECK(r.status == 400);
    CHECK(json::parse(r.body)["message"] == "parsing alerts body failed: alerts[0].labels.a must be a string, not a number");
    CHECK(t.post("/api/v2/alerts", json::array({json{{"labels", "x"}}})).status == 400);
    CHECK(t.post("/api/v2/alerts", json::array({json{{"labels", {{"a", "b"}}}, {"startsAt", "yesterday"}}})).status == 400);
    CHECK(t.post("/api/v2/alerts", json::array({42})).status == 400);
    CHECK(t.h.router->alerts().size() == 0);
  }
  SUBCASE("missing labels is a schema violation") {
    Response r = t.post("/api/v2/alerts", json::array({json{{"annotations", json::object()}}}));
    CHECK(r.status == 422);
    CHECK(json::parse(r.body)["message"] == "0.labels in body is required");
  }
  SUBCASE("partial acceptance: the valid alert is stored, the errors joined") {
    json body = json::array({alert({{"alertname", "Good"}}), alert(json::object()),
                             json{{"labels", {{"alertname", "Backwards"}}},
                                  {"startsAt", api_time(kT0)},
                                  {"endsAt", api_time(kT0 - kMinute)}}});
    Response r = t.post("/api/v2/alerts", body);
    CHECK(r.status == 400);
    CHECK(json::parse(r.body) == "at least one label pair required; start time must be before end time");
    CHECK(names_of(t.get("/api/v2/alerts")) == std::vector<std::string>{"Good"});
    CHECK(t.alerts_posted == 1);
  }
  SUBCASE("a start after the resolve timeout without an end") {
    Response r = t.post("/api/v2/alerts", json::array({json{{"labels", {{"a", "b"}}}, {"startsAt", api_time(kT0 + kHour)}}}));
    CHECK(r.status == 400);
    CHECK(json::parse(r.body) == "start time must be before end time");
    CHECK(t.alerts_posted == 0);
  }
}

TEST_CASE("am api: alerts past the label limits are refused with 400 naming the limit, the others kept") {
  routing::AlertLimits limits;
  limits.max_labels = 3;
  limits.max_label_name_length = 9;
  limits.max_label_value_length = 10;
  limits.max_size_bytes = 40;
  ApiHarness t("", limits);
  auto message = [&](const json& labels) {
    Response r = t.post("/api/v2/alerts", json::array({alert(labels)}));
    CHECK(r.status == 400);
    return json::parse(r.body).get<std::string>();
  };
  CHECK(message({{"alertname", "A"}, {"b", "1"}, {"c", "2"}, {"d", "3"}}) ==
        "alert has 4 labels (limit: 3, --alerts.max-labels)");
  CHECK(message({{"alertname", "A"}, {std::string(10, 'n'), "1"}}) ==
        "alert has a label name of 10 bytes (limit: 9, --alerts.max-label-name-length)");
  CHECK(message({{"alertname", std::string(11, 'v')}}) ==
        "label \"alertname\" has a value of 11 bytes (limit: 10, --alerts.max-label-value-length)");
  json big = {{"alertname", "A"}, {"b", std::string(10, 'x')}};
  Response r = t.post("/api/v2/alerts", json::array({json{{"labels", big}, {"annotations", {{"summary", std::string(30, 's')}}}},
                                                     alert({{"alertname", "Small"}})}));
  CHECK(r.status == 400);
  CHECK(json::parse(r.body) ==
        "alert has 58 bytes of labels, annotations and generatorURL (limit: 40, --alerts.max-size-bytes)");
  // The webhook intake applies the same bounds.
  Response w = t.post("/api/v1/intake/webhook",
                      json{{"version", "4"}, {"alerts", json::array({alert({{"alertname", "A"}, {"b", "1"}, {"c", "2"}, {"d", "3"}}),
                                                                     alert({{"alertname", "Hooked"}})})}});
  CHECK(w.status == 400);
  CHECK(json::parse(w.body)["rejected"] == 1);
  auto stored = names_of(t.get("/api/v2/alerts"));
  std::sort(stored.begin(), stored.end());
  CHECK(stored == std::vector<std::string>{"Hooked", "Small"});
}

TEST_CASE("am api: the default alert limits refuse an alert of a million labels") {
  ApiHarness t;
  std::string body = R"([{"labels":{"alertname":"Huge")";
  for (int i = 0; i < 1'000'000; ++i) body += fmt::format(R"(,"l{}":"v")", i);
  body += "}}]";
  Response r = t.call("POST", "/api/v2/alerts", body);
  CHECK(r.status == 400);
  CHECK(json::parse(r.body) == "alert has 1000001 labels (limit: 1000, --alerts.max-labels)");
  CHECK(t.h.router->alerts().size() == 0);
}

TEST_CASE("am api: oversized and deeply nested bodies are refused with 400") {
  ApiHarness t;
  std::string deep(10000, '[');
  for (const char* path : {"/api/v2/alerts", "/api/v2/silences", "/api/v1/intake/webhook"}) {
    Response r = t.call("POST", path, deep);
    CHECK(r.status == 400);
    CHECK(r.body.find("nested deeper") != std::string::npos);
    Response big = t.call("POST", path, std::string(17 * 1024 * 1024, ' '));
    CHECK(big.status == 400);
    CHECK(big.body.find("limit") != std::string::npos);
  }
}

TEST_CASE("am api: alert filters by matchers, receiver regex and receiver labels") {
  ApiHarness t;
  REQUIRE(t.post("/api/v2/alerts", json::array({alert({{"alertname", "A"}, {"team", "db"}}),
                                                alert({{"alertname", "B"}, {"team", "web"}}),
                                                alert({{"alertname", "C"}})}))
              .status == 200);
  CHECK(names_of(t.get("/api/v2/alerts", {{"filter", "team=db"}})) == std::vector<std::string>{"A"});
  CHECK(names_of(t.get("/api/v2/alerts", {{"filter", "team=~\"db|web\""}, {"filter", "alertname!=A"}})) ==
        std::vector<std::string>{"B"});
  // An empty value selects alerts without the label, `!=""` those with it.
  CHECK(names_of(t.get("/api/v2/alerts", {{"filter", "team=\"\""}})) == std::vector<std::string>{"C"});
  CHECK(names_of(t.get("/api/v2/alerts", {{"filter", "team!=\"\""}})).size() == 2);
  CHECK(names_of(t.get("/api/v2/alerts", {{"receiver", "db-.*"}})) == std::vector<std::string>{"A"});
  CHECK(names_of(t.get("/api/v2/alerts", {{"receiver", "db"}})).empty());  // anchored
  CHECK(names_of(t.get("/api/v2/alerts", {{"receiver_matchers", "name=db-chat"}})) == std::vector<std::string>{"A"});

  Response bad = t.call("GET", "/api/v2/alerts", "", {{"filter", "team=~\"(\""}});
  CHECK(bad.status == 400);
  CHECK(json::parse(bad.body).is_string());
  CHECK(t.call("GET", "/api/v2/alerts", "", {{"receiver", "("}}).status == 400);
  CHECK(json::parse(t.call("GET", "/api/v2/alerts", "", {{"receiver", "("}}).body)
            .get<std::string>()
            .starts_with("failed to parse receiver param: "));
  CHECK(t.call("GET", "/api/v2/alerts", "", {{"active", "maybe"}}).status == 400);
}

TEST_CASE("am api: silenced alerts are suppressed with the silence id, inhibited ones name their inhibitor") {
  ApiHarness t;
  REQUIRE(t.post("/api/v2/alerts",
                 json::array({alert({{"alertname", "Down"}, {"severity", "critical"}, {"cluster", "eu"}}),
                              alert({{"alertname", "Slow"}, {"severity", "warning"}, {"cluster", "eu"}}),
                              alert({{"alertname", "Noisy"}, {"cluster", "us"}})}))
              .status == 200);
  std::string id = t.silence(json::array({eq("alertname", "Noisy")}), kT0, kT0 + kHour);

  json alerts = t.get("/api/v2/alerts");
  std::map<std::string, json> by_name;
  for (const json& a : alerts) by_name[a["labels"]["alertname"]] = a["status"];
  CHECK(by_name["Down"]["state"] == "active");
  CHECK(by_name["Noisy"]["state"] == "suppressed");
  CHECK(by_name["Noisy"]["silencedBy"] == json::array({id}));
  CHECK(by_name["Noisy"]["inhibitedBy"] == json::array());
  std::string down_fp =
      fmt::format("{:016x}", Labels{{"alertname", "Down"}, {"severity", "critical"}, {"cluster", "eu"}}.fingerprint());
  CHECK(by_name["Slow"]["state"] == "suppressed");
  CHECK(by_name["Slow"]["inhibitedBy"] == json::array({down_fp}));
  CHECK(by_name["Slow"]["silencedBy"] == json::array());

  auto unsilenced = names_of(t.get("/api/v2/alerts", {{"silenced", "false"}}));
  std::sort(unsilenced.begin(), unsilenced.end());
  CHECK(unsilenced == std::vector<std::string>{"Down", "Slow"});
  CHECK(names_of(t.get("/api/v2/alerts", {{"silenced", "false"}, {"inhibited", "false"}})) ==
        std::vector<std::string>{"Down"});
  CHECK(names_of(t.get("/api/v2/alerts", {{"active", "false"}})).size() == 2);
  CHECK(t.get("/api/v2/alerts", {{"active", "false"}, {"silenced", "false"}, {"inhibited", "false"}}).empty());

  // Expiring the silence makes the alert active again.
  CHECK(t.call("DELETE", "/api/v2/silence/" + id).status == 200);
  t.h.clock.advance(kSecond);
  CHECK(t.get("/api/v2/alerts", {{"filter", "alertname=Noisy"}})[0]["status"]["state"] == "active");
}

TEST_CASE("am api: silence lifecycle create, get, update, expire") {
  ApiHarness t;
  std::string id = t.silence(json::array({eq("service", "db"), json{{"name", "env"}, {"value", "prod|stag"}, {"isRegex", true}, {"isEqual", false}}}),
                             kT0, kT0 + kHour);
  json s = t.get("/api/v2/silence/" + id);
  CHECK(s["id"] == id);
  CHECK(s["status"]["state"] == "active");
  CHECK(s["createdBy"] == "tester");
  CHECK(s["comment"] == "maintenance");
  CHECK(s["startsAt"] == "2023-11-14T22:13:20.000Z");
  CHECK(s["endsAt"] == "2023-11-14T23:13:20.000Z");
  CHECK(s["updatedAt"] == "2023-11-14T22:13:20.000Z");
  REQUIRE(s["matchers"].size() == 2);
  json env = s["matchers"][0]["name"] == "env" ? s["matchers"][0] : s["matchers"][1];
  CHECK(env == json{{"name", "env"}, {"value", "prod|stag"}, {"isRegex", true}, {"isEqual", false}});

  // Extending the end keeps the id; changing the matchers makes a new one
  // and expires the old.
  t.h.clock.advance(kMinute);
  CHECK(t.silence(json::array({eq("service", "db"), json{{"name", "env"}, {"value", "prod|stag"}, {"isRegex", true}, {"isEqual", false}}}),
                  kT0, kT0 + 2 * kHour, id) == id);
  CHECK(t.get("/api/v2/silence/" + id)["endsAt"] == "2023-11-15T00:13:20.000Z");
  CHECK(t.get("/api/v2/silence/" + id)["updatedAt"] == "2023-11-14T22:14:20.000Z");
  std::string id2 = t.silence(json::array({eq("service", "web")}), kT0, kT0 + 2 * kHour, id);
  CHECK(id2 != id);
  CHECK(t.get("/api/v2/silence/" + id)["status"]["state"] == "expired");
  CHECK(t.get("/api/v2/silence/" + id2)["status"]["state"] == "active");

  CHECK(t.call("DELETE", "/api/v2/silence/" + id2).status == 200);
  CHECK(t.get("/api/v2/silence/" + id2)["status"]["state"] == "expired");
  CHECK(t.call("DELETE", "/api/v2/silence/" + id2).status == 200);  // already expired: fine

  std::string unknown = "6d5fa0b8-0000-4000-8000-000000000000";
  CHECK(t.call("GET", "/api/v2/silence/" + unknown).status == 404);
  CHECK(t.call("DELETE", "/api/v2/silence/" + unknown).status == 404);
  CHECK(t.call("GET", "/api/v2/silence/not-a-uuid").status == 422);
  Response r = t.post("/api/v2/silences", json{{"id", unknown},
                                               {"matchers", json::array({eq("a", "b")})},
                                               {"startsAt", api_time(kT0)},
                                               {"endsAt", api_time(kT0 + 3 * kHour)},
                                               {"createdBy", "x"},
                                               {"comment", "y"}});
  CHECK(r.status == 404);
  CHECK(json::parse(r.body) == "silence not found");
}

// Silence annotations (Alertmanager 0.32+): kept, returned, updated in place
// with the silence, left out of the answer when there are none, and read
// back after a restart. Checked against Alertmanager 0.33.
TEST_CASE("am api: silence annotations round-trip and survive a restart") {
  testing::TempDir dir("vigil-api");
  std::string id, plain;
  {
    ApiHarness t(dir.path().string());
    json s{{"matchers", json::array({eq("service", "db")})}, {"startsAt", api_time(kT0)},
           {"endsAt", api_time(kT0 + kHour)}, {"createdBy", "tester"}, {"comment", "upgrade"},
           {"annotations", {{"ticket", "JIRA-123"}, {"type", "planned"}, {"empty", nullptr}, {"", "v"}}}};
    Response r = t.post("/api/v2/silences", s);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    id = json::parse(r.body)["silenceID"];
    CHECK(t.get("/api/v2/silence/" + id)["annotations"] ==
          json{{"ticket", "JIRA-123"}, {"type", "planned"}, {"empty", ""}, {"", "v"}});
    // Changing the annotations alone updates the silence in place.
    t.h.clock.advance(kMinute);
    s["id"] = id;
    s["annotations"] = {{"ticket", "JIRA-123"}, {"type", "emergency"}};
    r = t.post("/api/v2/silences", s);
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(json::parse(r.body)["silenceID"] == id);
    plain = t.silence(json::array({eq("service", "web")}), kT0, kT0 + kHour);
    json listed = t.get("/api/v2/silences");
    REQUIRE(listed.size() == 2);
    for (const json& l : listed) {
      if (l["id"] == id) CHECK(l["annotations"] == json{{"ticket", "JIRA-123"}, {"type", "emergency"}});
      if (l["id"] == plain) CHECK_FALSE(l.contains("annotations"));
    }
  }
  ApiHarness t(dir.path().string());
  CHECK(t.get("/api/v2/silence/" + id)["annotations"] == json{{"ticket", "JIRA-123"}, {"type", "emergency"}});
  CHECK_FALSE(t.get("/api/v2/silence/" + plain).contains("annotations"));
}

TEST_CASE("am api: silence annotations must be an object of strings") {
  ApiHarness t;
  json good{{"matchers", json::array({eq("a", "b")})}, {"startsAt", api_time(kT0)},
            {"endsAt", api_time(kT0 + kHour)}, {"createdBy", "x"}, {"comment", "y"}};
  auto answer = [&](json annotations) {
    json s = good;
    s["annotations"] = std::move(annotations);
    return t.post("/api/v2/silences", s);
  };
  CHECK(answer(nullptr).status == 200);
  CHECK(answer(json::object()).status == 200);
  Response r = answer({{"t", 1}});
  CHECK(r.status == 400);
  CHECK(json::parse(r.body)["message"] == "parsing silence body failed: silence.annotations.t must be a string, not a number");
  r = answer(json::array());
  CHECK(r.status == 400);
  CHECK(json::parse(r.body)["message"].get<std::string>().ends_with("silence.annotations must be an object of strings, not an array"));
  CHECK(answer("x").status == 400);
  CHECK(answer({{"t", {{"nested", "x"}}}}).status == 400);
}

TEST_CASE("am api: silence listing filters and orders as upstream") {
  ApiHarness t;
  std::string active_late = t.silence(json::array({eq("a", "1")}), kT0, kT0 + 3 * kHour);
  std::string active_soon = t.silence(json::array({eq("a", "2")}), kT0, kT0 + kHour);
  std::string pending_late = t.silence(json::array({eq("a", "3")}), kT0 + 2 * kHour, kT0 + 4 * kHour);
  std::string pending_soon = t.silence(json::array({eq("a", "4")}), kT0 + kHour, kT0 + 4 * kHour);
  std::string expired_early = t.silence(json::array({eq("a", "5")}), kT0, kT0 + 5 * kHour);
  t.h.clock.advance(kMinute);
  REQUIRE(t.call("DELETE", "/api/v2/silence/" + expired_early).status == 200);
  std::string expired_late = t.silence(json::array({eq("a", "6")}), kT0, kT0 + 5 * kHour);
  t.h.clock.advance(kMinute);
  REQUIRE(t.call("DELETE", "/api/v2/silence/" + expired_late).status == 200);
  t.h.clock.advance(kSecond);

  std::vector<std::string> ids;
  for (const json& s : t.get("/api/v2/silences")) ids.push_back(s["id"]);
  CHECK(ids == std::vector<std::string>{active_soon, active_late, pending_soon, pending_late, expired_late, expired_early});

  json one = t.get("/api/v2/silences", {{"filter", "a=\"3\""}});
  REQUIRE(one.size() == 1);
  CHECK(one[0]["id"] == pending_late);
  CHECK(t.get("/api/v2/silences", {{"filter", "a=~\"3\""}}).empty());  // the matcher must be the same
  CHECK(t.get("/api/v2/silences", {{"expired", "false"}, {"pending", "false"}}).size() == 2);
  CHECK(t.call("GET", "/api/v2/silences", "", {{"filter", "a=~\"(\""}}).status == 400);
}

TEST_CASE("am api: silence validation answers as upstream") {
  ApiHarness t;
  auto post = [&](json s) { return t.post("/api/v2/silences", s); };
  json good{{"matchers", json::array({eq("a", "b")})},
            {"startsAt", api_time(kT0)},
            {"endsAt", api_time(kT0 + kHour)},
            {"createdBy", "x"},
            {"comment", "y"}};
  CHECK(post(good).status == 200);

  json s = good;
  s.erase("createdBy");
  Response r = post(s);
  CHECK(r.status == 422);
  CHECK(json::parse(r.body)["message"] == "createdBy in body is required");

  s = good;
  s["matchers"] = json::array();
  CHECK(post(s).status == 422);

  s = good;
  s["matchers"] = json::array({eq("a", "")});
  r = post(s);
  CHECK(r.status == 400);
  CHECK(json::parse(r.body) == "invalid silence: at least one matcher must not match the empty string");

  s = good;
  s["matchers"] = json::array({json{{"name", "a"}, {"value", ".*"}, {"isRegex", true}}});
  CHECK(post(s).status == 400);

  s = good;
  s["matchers"] = json::array({json{{"name", "a"}, {"value", "("}, {"isRegex", true}}});
  r = post(s);
  CHECK(r.status == 400);
  CHECK(json::parse(r.body).get<std::string>().starts_with("invalid silence: invalid label matcher 0: "));

  s = good;
  s["endsAt"] = api_time(kT0 - kMinute);
  r = post(s);
  CHECK(r.status == 400);
  CHECK(json::parse(r.body) == "Failed to create silence: start time must be before end time");

  s = good;
  s["startsAt"] = api_time(kT0 - 2 * kHour);
  s["endsAt"] = api_time(kT0 - kHour);
  r = post(s);
  CHECK(r.status == 400);
  CHECK(json::parse(r.body) == "Failed to create silence: end time can't be in the past");

  s = good;
  s["comment"] = 5;
  CHECK(post(s).status == 400);
  s = good;
  s["matchers"] = json::array({json{{"name", "a"}, {"value", "b"}, {"isRegex", "no"}}});
  CHECK(post(s).status == 400);
  CHECK(post(json::array()).status == 400);
  CHECK(t.h.router->silences().list().size() == 1);
}

TEST_CASE("am api: alert groups list each group with its receiver and alerts") {
  ApiHarness t;
  REQUIRE(t.post("/api/v2/alerts", json::array({alert({{"alertname", "A"}, {"team", "db"}, {"instance", "2"}}),
                                                alert({{"alertname", "A"}, {"team", "db"}, {"instance", "1"}}),
                                                alert({{"alertname", "B"}})}))
              .status == 200);
  json groups = t.get("/api/v2/alerts/groups");
  REQUIRE(groups.size() == 3);
  // Ordered by group labels, then receiver.
  CHECK(groups[0]["labels"] == json{{"alertname", "A"}});
  CHECK(groups[0]["receiver"] == json{{"name", "db-chat"}});
  CHECK(groups[1]["labels"] == json{{"alertname", "A"}});
  CHECK(groups[1]["receiver"] == json{{"name", "db-pager"}});
  CHECK(groups[2]["labels"] == json{{"alertname", "B"}});
  CHECK(groups[2]["receiver"] == json{{"name", "default"}});
  CHECK(groups[0]["routeLabels"] == json::object());
  REQUIRE(groups[0]["alerts"].size() == 2);
  CHECK(groups[0]["alerts"][0]["labels"]["instance"] == "1");
  CHECK(groups[0]["alerts"][0]["receivers"] == json::parse(R"([{"name":"db-chat"},{"name":"db-pager"}])"));
  CHECK(groups[0]["alerts"][0]["status"]["mutedBy"] == json::array());

  CHECK(t.get("/api/v2/alerts/groups", {{"receiver", "default"}}).size() == 1);
  json filtered = t.get("/api/v2/alerts/groups", {{"filter", "instance=2"}});
  REQUIRE(filtered.size() == 2);
  CHECK(filtered[0]["alerts"].size() == 1);
  CHECK(t.call("GET", "/api/v2/alerts/groups", "", {{"filter", "=="}}).status == 400);

  t.silence(json::array({eq("alertname", "B")}), kT0, kT0 + kHour);
  CHECK(t.get("/api/v2/alerts/groups", {{"silenced", "false"}}).size() == 2);
}

// Alertmanager 0.34's route labels: inherited and overridden down the
// tree, shown rendered for each group.
TEST_CASE("am api: alert groups show their route's labels, rendered for the group") {
  ApiHarness t("", {}, R"(
route:
  receiver: ops
  group_by: [alertname]
  labels:
    team: platform
    summary: '{{ .GroupLabels.alertname }}: {{ len .Alerts }} for {{ routeLabels "team" }}'
  routes:
    - matchers: [service="db"]
      group_by: [alertname, instance]
      labels:
        team: 'database {{ .GroupLabels.instance }}'
    - matchers: [service="none"]
      labels:
        broken: '{{ .Nope.x }}'
receivers:
  - name: ops
)");
  REQUIRE(t.post("/api/v2/alerts", json::array({alert({{"alertname", "Up"}, {"service", "db"}, {"instance", "a"}}),
                                                alert({{"alertname", "Load"}, {"service", "web"}}),
                                                alert({{"alertname", "Load"}, {"service", "api"}}),
                                                alert({{"alertname", "Gone"}, {"service", "none"}})}))
              .status == 200);
  json groups = t.get("/api/v2/alerts/groups");
  REQUIRE(groups.size() == 3);
  CHECK(groups[0]["labels"] == json{{"alertname", "Gone"}});
  CHECK(groups[0]["routeLabels"] == json{{"team", "platform"}, {"summary", "Gone: 1 for platform"}});
  CHECK(groups[1]["labels"] == json{{"alertname", "Load"}});
  CHECK(groups[1]["routeLabels"] == json{{"team", "platform"}, {"summary", "Load: 2 for platform"}});
  CHECK(groups[2]["labels"] == json{{"alertname", "Up"}, {"instance", "a"}});
  CHECK(groups[2]["routeLabels"] == json{{"team", "database a"}, {"summary", "Up: 1 for database a"}});
}

TEST_CASE("am api: status never shows a secret and lists receivers") {
  ApiHarness t;
  json st = t.get("/api/v2/status");
  CHECK(st["cluster"] == json::parse(R"({"status":"disabled","peers":[]})"));
  CHECK(st["uptime"] == "2023-11-14T22:12:20.000Z");
  for (const char* k : {"version", "revision", "branch", "buildUser", "buildDate", "goVersion"})
    CHECK(st["versionInfo"][k].is_string());
  std::string original = st["config"]["original"];
  for (const char* secret : {"SLACK-SECRET", "URL-SECRET", "BASIC-SECRET", "PD-SECRET", "TLS-KEY-SECRET", "HEADER-SECRET"}) {
    INFO(secret);
    CHECK(original.find(secret) == std::string::npos);
  }
  CHECK(original.find("<secret>") != std::string::npos);
  CHECK(original.find("/etc/vigil/token") != std::string::npos);
  CHECK(original.find("/etc/vigil/cert.pem") != std::string::npos);
  CHECK(original.find("visible-header") != std::string::npos);
  CHECK(original.find("someone") != std::string::npos);
  // What is shown is still a valid configuration.
  CHECK(routing::parse_config(original).ok());

  json rs = t.get("/api/v2/receivers");
  REQUIRE(rs.size() == 3);
  CHECK(rs[0] == json::parse(R"({"name":"default","labels":{"name":"default"}})"));
  CHECK(t.get("/api/v2/receivers", {{"receiver_matchers", "name=~db-.*"}}).size() == 2);
}

TEST_CASE("am api: config redaction hides every kind of secret and keeps the rest") {
  auto shown = routing::redacted_config_yaml(kConfig);
  REQUIRE(shown);
  CHECK(shown->find("slack_api_url: <secret>") != std::string::npos);
  CHECK(shown->find("password: <secret>") != std::string::npos);
  CHECK(shown->find("routing_key: <secret>") != std::string::npos);
  CHECK(shown->find("key: <secret>") != std::string::npos);
  CHECK(shown->find("- <secret>") != std::string::npos);
  CHECK(shown->find("channel: \"#db\"") != std::string::npos);
  CHECK(shown->find("matchers:\n        - team=\"db\"") != std::string::npos);

  auto anchors = routing::redacted_config_yaml(R"(
route: {receiver: r}
receivers:
  - name: r
    pagerduty_configs:
      - &pd {service_key: "ANCHORED-SECRET"}
      - *pd
)");
  REQUIRE(anchors);
  CHECK(anchors->find("ANCHORED-SECRET") == std::string::npos);
  CHECK(routing::parse_config(*anchors).ok());
  CHECK_FALSE(routing::redacted_config_yaml("a: [").has_value());
}

TEST_CASE("am api: webhook intake accepts another Alertmanager's payload") {
  ApiHarness t;
  json payload = json::parse(R"({
    "version": "4", "groupKey": "{}:{alertname=\"X\"}", "truncatedAlerts": 0, "status": "firing",
    "receiver": "upstream", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
    "externalURL": "http://am:9093",
    "alerts": [
      {"status": "firing", "labels": {"alertname": "X", "team": "db"}, "annotations": {"summary": "s"},
       "startsAt": "2023-11-14T22:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
       "generatorURL": "http://prom/x", "fingerprint": "abc"},
      {"status": "resolved", "labels": {"alertname": "Y"}, "annotations": {},
       "startsAt": "2023-11-14T21:00:00Z", "endsAt": "2023-11-14T22:10:00Z", "generatorURL": ""}
    ]})");
  Response r = t.post("/api/v1/intake/webhook", payload);
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body) == json{{"accepted", 2}, {"rejected", 0}});
  CHECK(t.alerts_posted == 1);
  json alerts = t.get("/api/v2/alerts");
  REQUIRE(alerts.size() == 1);  // Y is resolved
  CHECK(alerts[0]["labels"]["alertname"] == "X");
  CHECK(alerts[0]["startsAt"] == "2023-11-14T22:00:00.000Z");
  CHECK(alerts[0]["endsAt"] == "2023-11-14T22:18:20.000Z");  // the resolve timeout
  CHECK(t.h.router->alerts().size() == 2);

  CHECK(t.post("/api/v1/intake/webhook", json::array()).status == 400);
  CHECK(t.post("/api/v1/intake/webhook", json{{"version", "3"}, {"alerts", json::array()}}).status == 400);
  CHECK(t.post("/api/v1/intake/webhook", json{{"version", "4"}}).status == 400);
  Response bad_status = t.post("/api/v1/intake/webhook",
                               json{{"alerts", json::array({json{{"status", "odd"}, {"labels", {{"a", "b"}}}}})}});
  CHECK(bad_status.status == 400);
  CHECK(json::parse(bad_status.body)["message"].get<std::string>().find("status") != std::string::npos);
  Response partial = t.post("/api/v1/intake/webhook",
                            json{{"alerts", json::array({alert({{"alertname", "Z"}}), alert(json::object())})}});
  CHECK(partial.status == 400);
  CHECK(json::parse(partial.body)["accepted"] == 1);
  CHECK(json::parse(partial.body)["error"] == "at least one label pair required");
  CHECK(t.call("POST", "/api/v1/intake/webhook", "not json").status == 400);
}

TEST_CASE("am api: groups muted by a time interval name it, and muted=false hides them") {
  Harness h(R"(
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: [team="night"]
      receiver: default
      mute_time_intervals: [always]
    - matchers: [team="office"]
      receiver: default
      active_time_intervals: [never]
time_intervals:
  - name: always
    time_intervals: [{times: [{start_time: "00:00", end_time: "24:00"}]}]
  - name: never
    time_intervals: [{years: ["1999"]}]
receivers:
  - name: default
)");
  Routes routes;
  add_alertmanager_api(routes, AlertmanagerApiContext(*h.router, h.clock));
  h.post(Labels{{"alertname", "A"}, {"team", "night"}});
  h.post(Labels{{"alertname", "B"}, {"team", "office"}});
  h.post(Labels{{"alertname", "C"}});
  auto get = [&](std::string muted) {
    Request r;
    r.method = "GET";
    r.path = "/api/v2/alerts/groups";
    if (!muted.empty()) r.params.emplace("muted", muted);
    Response resp = routes.handle(r);
    REQUIRE(resp.status == 200);
    std::map<std::string, json> by_name;
    for (const json& g : json::parse(resp.body)) by_name[g["labels"]["alertname"]] = g["alerts"][0]["status"]["mutedBy"];
    return by_name;
  };
  // Before a group's first flush nothing has been held back: upstream's
  // marker is set by the pipeline, and the API shows only its verdict.
  auto before = get("");
  REQUIRE(before.size() == 3);
  CHECK(before["A"] == json::array());
  h.advance(31 * kSecond);  // past group_wait: every group flushes
  auto all = get("");
  REQUIRE(all.size() == 3);
  CHECK(all["A"] == json::array({"always"}));
  CHECK(all["B"] == json::array({"never"}));
  CHECK(all["C"] == json::array());
  auto unmuted = get("false");
  REQUIRE(unmuted.size() == 1);
  CHECK(unmuted.count("C") == 1);
}

TEST_CASE("am api: receivers shown follow a configuration reload") {
  ApiHarness t;
  REQUIRE(t.post("/api/v2/alerts", json::array({alert({{"alertname", "A"}, {"team", "db"}})})).status == 200);
  CHECK(t.get("/api/v2/alerts")[0]["receivers"] == json::parse(R"([{"name":"db-pager"},{"name":"db-chat"}])"));
  t.h.router->reload(routing::testing::config_of("route: {receiver: other}\nreceivers: [{name: other}]\n"));
  CHECK(t.get("/api/v2/alerts")[0]["receivers"] == json::parse(R"([{"name":"other"}])"));
  CHECK(t.get("/api/v2/receivers") == json::parse(R"([{"name":"other","labels":{"name":"other"}}])"));
  CHECK(t.call("GET", "/api/v2/alerts", "", {{"unprocessed", "false"}}).status == 200);
}

TEST_CASE("am api: bodies that are not declared JSON are refused 415, as upstream refuses them") {
  // A web page can post a form or text to any address without a CORS
  // preflight; refusing them keeps other sites from creating silences.
  ApiHarness t;
  json silence = {{"matchers", json::array({{{"name", "a"}, {"value", "b"}, {"isRegex", false}}})},
                  {"startsAt", "2030-01-01T00:00:00Z"}, {"endsAt", "2030-01-02T00:00:00Z"},
                  {"createdBy", "x"}, {"comment", "y"}};
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=z",
                           "application/vnd.foo+json"}) {
    CAPTURE(type);
    Response r = t.call("POST", "/api/v2/silences", silence.dump(), {}, type);
    CHECK(r.status == 415);
    std::string bare = std::string(type).substr(0, std::string(type).find(';'));
    CHECK(r.body == "{\"code\":415,\"message\":\"unsupported media type \\\"" + bare +
                        "\\\", only [application/json] are allowed\"}");
    CHECK(t.call("POST", "/api/v2/alerts", "[]", {}, type).status == 415);
    CHECK(t.call("POST", "/api/v1/intake/webhook", "{}", {}, type).status == 415);
  }
  // No type at all reads as application/octet-stream, as Go's server reads it.
  Response none = t.call("POST", "/api/v2/silences", silence.dump(), {}, "");
  CHECK(none.status == 415);
  CHECK(none.body.find("application/octet-stream") != std::string::npos);
  CHECK(t.get("/api/v2/silences").empty());
  // Parameters and case do not matter.
  CHECK(t.call("POST", "/api/v2/silences", silence.dump(), {}, "Application/JSON; charset=utf-8").status == 200);
}

TEST_CASE("am api: a change that cannot be written to disk is answered 500, and held in memory") {
  testing::TempDir dir("vigil-api");
  ApiHarness api(dir.path().string());
  // Every write to /dev/full fails with "no space left on device".
  std::filesystem::create_symlink("/dev/full", dir.path() / "alerts.log");
  std::filesystem::create_symlink("/dev/full", dir.path() / "silences.log");
  Response r = api.post("/api/v2/alerts", json::array({alert({{"alertname", "Stored"}})}));
  CHECK(r.status == 500);
  CHECK(r.body.find("no space left on device") != std::string::npos);
  CHECK(names_of(api.get("/api/v2/alerts")) == std::vector<std::string>{"Stored"});
  json hook{{"version", "4"}, {"status", "firing"}, {"alerts", json::array({alert({{"alertname", "Hooked"}})})}};
  CHECK(api.post("/api/v1/intake/webhook", hook).status == 500);

  json s{{"matchers", json::array({eq("alertname", "Stored")})}, {"startsAt", api_time(kT0)},
         {"endsAt", api_time(kT0 + kHour)}, {"createdBy", "tester"}, {"comment", "disk full"}};
  r = api.post("/api/v2/silences", s);
  CHECK(r.status == 500);
  CHECK(r.body.find("no space left on device") != std::string::npos);
  json listed = api.get("/api/v2/silences");
  REQUIRE(listed.size() == 1);
  const std::string id = listed[0]["id"].get<std::string>();
  CHECK(api.call("DELETE", "/api/v2/silence/" + id).status == 500);
  CHECK(api.call("DELETE", "/api/v2/silence/" + std::string("00000000-0000-4000-8000-000000000000")).status == 404);
}
