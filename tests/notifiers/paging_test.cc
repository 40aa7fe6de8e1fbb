// Paging and messaging integrations against a capture server on 127.0.0.1:
// VictorOps, incident.io, Pushover and WeChat. Each test asserts method,
// path, query, headers and the exact bytes Alertmanager sends for the same
// configuration and alerts, and which failures are tried again.
#include <doctest/doctest.h>

#include "notifiers/delivery.h"
#include "tests/notifiers/harness.h"
#include "tests/notifiers/test_server.h"

using namespace vigil;
using namespace vigil::notifiers;
using namespace vigil::notifiers::testing;

namespace {

std::vector<std::shared_ptr<const routing::Alert>> resolved(std::vector<std::shared_ptr<const routing::Alert>> alerts) {
  for (auto& a : alerts) {
    auto copy = std::make_shared<routing::Alert>(*a);
    copy->ends_at = kT0 - 1000;
    a = copy;
  }
  return alerts;
}

// sha256 of the group key "{}:{alertname=\"DiskFull\"}", as upstream names the incident.
constexpr const char* kGroupHash = "17c4e445d234645c9e547ff6d32a864af0ebdadcd1902771c24c8d366637ff41";

struct Run {
  std::shared_ptr<const routing::Config> cfg;
  ManualClock clock{kT0};
  LogCapture logs;
  Delivery d;
  explicit Run(const std::string& yaml, DeliveryOptions o = {}) : cfg(load(yaml)), d(clock, init(o)) {}
  DeliveryOptions init(DeliveryOptions o) {
    DeliveryOptions base = options(logs);
    base.integration = o.integration;
    return base;
  }
  DeliveryOutcome deliver(std::vector<std::shared_ptr<const routing::Alert>> alerts, size_t index = 0) {
    return deliver_all(d, clock, notification(cfg, "r", index, std::move(alerts), clock.now(), clock.now() + 5 * kMinute));
  }
};

}  // namespace

TEST_CASE("victorops: the REST endpoint with key and routing key, entity state from the group's state") {
  TestServer server;
  Run run(receiver_config(fmt::format(
      "  victorops_configs:\n  - api_url: '{}'\n    api_key: vo-key-1234\n    routing_key: 'team-{{{{ .CommonLabels.severity }}}}'\n"
      "    state_message: 'state <{{{{ len .Alerts }}}}>'\n    entity_display_name: '{{{{ .GroupLabels.alertname }}}}'\n"
      "    monitoring_tool: vigil-test\n    custom_fields:\n      zeta: '{{{{ .Status }}}}'\n      alpha: one\n"
      "  - api_url: '{}'\n    api_key: vo-key-1234\n    routing_key: rk\n    message_type: WARNING\n"
      "  - api_url: '{}'\n    api_key: vo-key-1234\n    routing_key: rk\n    message_type: bogus\n",
      server.url("/integrations/alert/"), server.url("/integrations/alert/"), server.url("/integrations/alert/"))));
  REQUIRE(run.deliver(two_alerts()).delivered);
  REQUIRE(run.deliver(resolved(two_alerts())).delivered);
  REQUIRE(run.deliver(two_alerts(), 1).delivered);
  REQUIRE(run.deliver(two_alerts(), 2).delivered);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 4);
  CHECK(reqs[0].path == "/integrations/alert/vo-key-1234/team-critical");
  // A map upstream: keys sorted, custom fields among them.
  CHECK(reqs[0].body == fmt::format("{{\"alpha\":\"one\",\"entity_display_name\":\"DiskFull\",\"entity_id\":\"{}\","
                                    "\"message_type\":\"CRITICAL\",\"monitoring_tool\":\"vigil-test\","
                                    "\"state_message\":\"state \\u003c2\\u003e\",\"zeta\":\"firing\"}}\n",
                                    kGroupHash));
  CHECK(reqs[1].body_json()["message_type"] == "RECOVERY");
  CHECK(reqs[1].body_json()["zeta"] == "resolved");
  CHECK(reqs[2].body_json()["message_type"] == "WARNING");
  CHECK(reqs[3].body_json()["message_type"] == "CRITICAL");  // not one VictorOps knows
}

TEST_CASE("incidentio: the webhook body as version 1, the alert source token as bearer, 429 retried") {
  std::atomic<int> calls{0};
  TestServer server([&](const Captured&, httplib::Response& res) {
    int n = ++calls;
    if (n == 1) {
      res.status = 429;
    } else if (n == 3) {
      res.status = 400;
      res.set_content(R"({"message":"invalid payload","errors":["a","b"]})", "application/json");
    }
  });
  Run run(receiver_config(fmt::format(
      "  incidentio_configs:\n  - url: '{}'\n    alert_source_token: inc-token-1234\n    max_alerts: 1\n",
      server.url("/v2/alert_events/alertmanager/src-1"))));
  DeliveryOutcome o = run.deliver(two_alerts());
  REQUIRE_MESSAGE(o.delivered, o.error);
  CHECK(o.attempts == 2);  // the 429 was tried again
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[1].path == "/v2/alert_events/alertmanager/src-1");
  CHECK(reqs[1].header("Authorization") == "Bearer inc-token-1234");
  json body = reqs[1].body_json();
  CHECK(body["version"] == "1");
  CHECK(body["groupKey"] == "{}:{alertname=\"DiskFull\"}");
  CHECK(body["truncatedAlerts"] == 1);
  CHECK(body["alerts"].size() == 1);
  CHECK(body["externalURL"] == "http://vigil.example:9093");
  // The webhook's field order: the template data, then version, groupKey, truncatedAlerts.
  CHECK(reqs[1].body.starts_with("{\"receiver\":\"r\",\"status\":\"firing\",\"alerts\":["));
  CHECK(reqs[1].body.find("\"version\":\"1\",\"groupKey\":") != std::string::npos);

  o = run.deliver(two_alerts());
  CHECK_FALSE(o.delivered);
  CHECK(o.attempts == 1);
  CHECK(o.error.find("unexpected status code 400: invalid payload: a, b") != std::string::npos);
}

TEST_CASE("incidentio: a body over 512 KiB is sent with its first alert only") {
  TestServer server;
  Run run(receiver_config(fmt::format("  incidentio_configs:\n  - url: '{}'\n    alert_source_token: inc-token-1234\n",
                                      server.url("/v2/alert_events"))));
  auto alerts = two_alerts();
  // Different annotations, so that the common ones stay empty.
  char fill = 'd';
  for (auto& a : alerts) {
    auto copy = std::make_shared<routing::Alert>(*a);
    copy->annotations = Labels({{"description", std::string(300 * 1024, fill++)}});
    a = copy;
  }
  REQUIRE(run.deliver(alerts).delivered);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  json body = reqs[0].body_json();
  CHECK(body["alerts"].size() == 1);
  CHECK(body["alerts"][0]["labels"]["instance"] == "a:9100");
  CHECK(reqs[0].body.size() < 512 * 1024);
}

TEST_CASE("pushover: every parameter in the query string, sorted and escaped; limits applied") {
  TestServer server;
  DeliveryOptions o;
  o.integration.pushover_url = server.url("/1/messages.json");
  Run run(receiver_config("  pushover_configs:\n  - user_key: po-user-1234\n    token: po-token-5678\n"
                          "    title: '{{ .Status }} & {{ .GroupLabels.alertname }}'\n    message: '  '\n"
                          "    url: 'http://x/?a=1'\n    sound: siren\n    ttl: 90s\n    monospace: true\n"
                          "  - user_key: po-user-1234\n    token: po-token-5678\n    html: true\n"
                          "    message: '<b>{{ .CommonAnnotations.summary }}</b>{{ \"<i>\" }}'\n"
                          "    title: '" + std::string(300, 't') + "'\n"),
          o);
  REQUIRE(run.deliver(two_alerts()).delivered);
  REQUIRE(run.deliver(resolved(two_alerts())).delivered);
  REQUIRE(run.deliver(two_alerts(), 1).delivered);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].path == "/1/messages.json");
  CHECK(reqs[0].body.empty());
  CHECK(reqs[0].header("Content-Type") == "text/plain");
  CHECK(reqs[0].param("token") == "po-token-5678");
  CHECK(reqs[0].param("user") == "po-user-1234");
  CHECK(reqs[0].param("title") == "firing & DiskFull");
  CHECK(reqs[0].param("message") == "(no details)");  // blank after trimming
  CHECK(reqs[0].param("priority") == "2");
  CHECK(reqs[0].param("retry") == "60");
  CHECK(reqs[0].param("expire") == "3600");
  CHECK(reqs[0].param("ttl") == "90");
  CHECK(reqs[0].param("monospace") == "1");
  CHECK(reqs[0].param("sound") == "siren");
  CHECK(reqs[0].params.count("html") == 0);
  CHECK(reqs[1].param("priority") == "0");  // resolved
  CHECK(reqs[1].param("title") == "resolved & DiskFull");
  CHECK(reqs[2].param("html") == "1");
  CHECK(reqs[2].param("message") == "<b></b>&lt;i&gt;");  // HTML-escaped values, no common summary
  CHECK(reqs[2].param("title").size() == 249 + std::string("…").size());
}

TEST_CASE("pushover: the query string's bytes are url.Values.Encode's") {
  // Pushover reads the parameters from the URL; vigil writes them as Go
  // does: keys sorted, spaces as '+', the rest percent-encoded.
  std::string target;
  httplib::Server raw;
  raw.Post(".*", [&](const httplib::Request& req, httplib::Response&) { target = req.target; });
  int port = raw.bind_to_any_port("127.0.0.1");
  std::thread t([&] { raw.listen_after_bind(); });
  DeliveryOptions o;
  o.integration.pushover_url = fmt::format("http://127.0.0.1:{}/1/messages.json", port);
  {
    Run run(receiver_config("  pushover_configs:\n  - user_key: u-1234\n    token: t-1234\n    title: 'a b&c'\n"
                            "    message: m\n    url: ''\n"),
            o);
    REQUIRE(run.deliver(two_alerts()).delivered);
  }
  raw.stop();
  t.join();
  CHECK(target ==
        "/1/messages.json?device=&expire=3600&message=m&priority=2&retry=60&sound=&title=a+b%26c&token=t-1234&url=&"
        "url_title=&user=u-1234");
}

TEST_CASE("wechat: a token fetched once and kept, the message sent with it; an expired token is fetched again") {
  std::atomic<int> tokens{0};
  std::atomic<bool> expire_next{false};
  TestServer server([&](const Captured& c, httplib::Response& res) {
    if (c.path == "/cgi-bin/gettoken") {
      res.set_content(fmt::format(R"({{"errcode":0,"access_token":"tok-{}"}})", ++tokens), "application/json");
    } else if (expire_next.exchange(false)) {
      res.set_content(R"({"errcode":42001,"errmsg":"access_token expired"})", "application/json");
    } else {
      res.set_content(R"({"errcode":0,"errmsg":"ok"})", "application/json");
    }
  });
  Run run(receiver_config(fmt::format(
      "  wechat_configs:\n  - api_url: '{}'\n    api_secret: wx-secret-1234\n    corp_id: corp-1\n"
      "    to_user: '@all'\n    agent_id: '1000002'\n    message: 'n={{{{ len .Alerts }}}} <{{{{ .Status }}}}>'\n"
      "  - api_url: '{}'\n    api_secret: wx-secret-1234\n    corp_id: corp-1\n    message_type: markdown\n"
      "    message: '**{{{{ .Status }}}}**'\n    to_party: '2'\n",
      server.url("/cgi-bin/"), server.url("/cgi-bin/"))));
  REQUIRE(run.deliver(two_alerts()).delivered);
  REQUIRE(run.deliver(two_alerts()).delivered);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 3);  // one token for both
  CHECK(reqs[0].method == "GET");
  CHECK(reqs[0].path == "/cgi-bin/gettoken");
  CHECK(reqs[0].param("corpid") == "corp-1");
  CHECK(reqs[0].param("corpsecret") == "wx-secret-1234");
  CHECK(reqs[1].method == "POST");
  CHECK(reqs[1].path == "/cgi-bin/message/send");
  CHECK(reqs[1].param("access_token") == "tok-1");
  CHECK(reqs[1].body ==
        "{\"text\":{\"content\":\"n=2 \\u003cfiring\\u003e\"},\"touser\":\"@all\",\"agentid\":\"1000002\","
        "\"safe\":\"0\",\"msgtype\":\"text\",\"markdown\":{\"content\":\"\"}}\n");

  // Two hours on, the token is fetched again.
  run.clock.advance(2 * kHour + kSecond);
  REQUIRE(run.deliver(two_alerts()).delivered);
  CHECK(tokens == 2);

  // WeChat says the token expired: fetched again and the message retried.
  expire_next = true;
  DeliveryOutcome o = run.deliver(two_alerts());
  REQUIRE_MESSAGE(o.delivered, o.error);
  CHECK(o.attempts == 2);
  CHECK(tokens == 3);

  REQUIRE(run.deliver(two_alerts(), 1).delivered);
  reqs = server.requests();
  CHECK(reqs.back().body ==
        "{\"text\":{\"content\":\"\"},\"toparty\":\"2\",\"safe\":\"0\",\"msgtype\":\"markdown\","
        "\"markdown\":{\"content\":\"**firing**\"}}\n");
}
