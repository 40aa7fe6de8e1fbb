// Opsgenie against a local server: the Alert API requests Alertmanager 0.34
// sends (create, close, the update_alerts pair), byte for byte, and which
// failures are tried again.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdio>

#include <fmt/format.h>

#include "notifiers/delivery.h"
#include "tests/notifiers/harness.h"
#include "tests/notifiers/test_server.h"

using namespace vigil;
using namespace vigil::notifiers;
using namespace vigil::notifiers::testing;

namespace {

// sha256 of the fixtures' group key, {}:{alertname="DiskFull"}.
constexpr std::string_view kAlias = "17c4e445d234645c9e547ff6d32a864af0ebdadcd1902771c24c8d366637ff41";

// Every field set, some from labels; the last responder renders empty.
std::string custom_config(const TestServer& s, std::string_view extra = "") {
  return receiver_config(std::string("  opsgenie_configs:\n  - api_url: '") + s.url("/") + "'\n" +
                         "    api_key: og-key-1234\n"
                         "    message: '{{ .CommonLabels.alertname }} on {{ len .Alerts.Firing }}'\n"
                         "    description: 'Disk <full> & more'\n"
                         "    source: vigil-test\n"
                         "    details: {team: storage, severity: '{{ .CommonLabels.severity }}-x'}\n"
                         "    responders:\n"
                         "    - {name: '{{ .CommonLabels.alertname }}-team', type: team}\n"
                         "    - {id: abc, type: user}\n"
                         "    - {name: 'ops,dba, db', type: teams}\n"
                         "    - {name: '{{ .CommonLabels.missing }}', type: '{{ .CommonLabels.missing }}'}\n"
                         "    tags: 'disk, storage,,'\n"
                         "    note: n1\n"
                         "    priority: P2\n"
                         "    entity: '{{ .GroupLabels.alertname }}'\n"
                         "    actions: restart,page\n" +
                         std::string(extra));
}

DeliveryOutcome run(const std::string& yaml, std::vector<std::shared_ptr<const routing::Alert>> alerts,
                    Millis deadline = kT0 + 5 * kMinute) {
  auto cfg = load(yaml);
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  return deliver_all(d, clock, notification(cfg, "r", 0, std::move(alerts), kT0, deadline));
}

std::vector<std::shared_ptr<const routing::Alert>> resolved_alerts() {
  return {make_alert({{"alertname", "DiskFull"}, {"severity", "critical"}}, {}, kT0 - kMinute, kT0 - 1000)};
}

}  // namespace

TEST_CASE("opsgenie: a firing group creates an alert with upstream's body") {
  TestServer server;
  DeliveryOutcome o = run(custom_config(server), two_alerts());
  REQUIRE(o.delivered);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  const Captured& c = reqs[0];
  CHECK(c.method == "POST");
  CHECK(c.path == "/v2/alerts");
  CHECK(c.params.empty());
  CHECK(c.header("Authorization") == "GenieKey og-key-1234");
  CHECK(c.header("Content-Type") == "application/json");
  CHECK(c.body == fmt::format(
                      R"({{"alias":"{}","message":"DiskFull on 2","description":"Disk \u003cfull\u003e \u0026 more",)"
                      R"("details":{{"alertname":"DiskFull","severity":"critical-x","team":"storage"}},)"
                      R"("source":"vigil-test","responders":[{{"name":"DiskFull-team","type":"team"}},)"
                      R"({{"id":"abc","type":"user"}},{{"name":"ops","type":"team"}},{{"name":"dba","type":"team"}},)"
                      R"({{"name":" db","type":"team"}}],"tags":["disk"," storage"],"note":"n1","priority":"P2",)"
                      R"("entity":"DiskFull","actions":["restart","page"]}})"
                      "\n",
                      kAlias));
}

TEST_CASE("opsgenie: default templates, and empty optional fields left out") {
  TestServer server;
  DeliveryOutcome o = run(receiver_config("  opsgenie_configs:\n  - api_url: '" + server.url("/") +
                                          "'\n    api_key: og-key-1234\n"),
                          two_alerts());
  REQUIRE(o.delivered);
  const Captured c = server.requests().at(0);
  auto body = c.body_json();
  CHECK(body["message"] == "[FIRING:2] DiskFull (critical)");
  CHECK(body["source"] == "http://vigil.example:9093/#/alerts?receiver=r");
  CHECK(body["details"] == json{{"alertname", "DiskFull"}, {"severity", "critical"}});
  CHECK(body["description"].get<std::string>().find("Disk on a is full") != std::string::npos);
  // Only upstream's always-present fields and the description, in its order.
  std::vector<std::string> keys;
  const auto ordered = nlohmann::ordered_json::parse(c.body);
  for (const auto& [k, v] : ordered.items()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"alias", "message", "description", "details", "source"});
}

TEST_CASE("opsgenie: the message is cut at 130 characters") {
  TestServer server;
  std::string long_msg(140, 'x');
  DeliveryOutcome o = run(receiver_config("  opsgenie_configs:\n  - api_url: '" + server.url("/") +
                                          "'\n    api_key: og-key-1234\n    message: " + long_msg + "\n"),
                          two_alerts());
  REQUIRE(o.delivered);
  CHECK(server.requests().at(0).body_json()["message"] == std::string(129, 'x') + "…");
}

TEST_CASE("opsgenie: a resolved group closes the alert by alias") {
  TestServer server;
  DeliveryOutcome o = run(custom_config(server), resolved_alerts());
  REQUIRE(o.delivered);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  const Captured& c = reqs[0];
  CHECK(c.method == "POST");
  CHECK(c.path == fmt::format("/v2/alerts/{}/close", kAlias));
  CHECK(c.param("identifierType") == "alias");
  CHECK(c.header("Authorization") == "GenieKey og-key-1234");
  CHECK(c.body == "{\"source\":\"vigil-test\"}\n");
}

TEST_CASE("opsgenie: update_alerts replaces message and description after the create") {
  TestServer server;
  DeliveryOutcome o = run(custom_config(server, "    update_alerts: true\n"), two_alerts());
  REQUIRE(o.delivered);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].path == "/v2/alerts");
  CHECK(reqs[1].method == "PUT");
  CHECK(reqs[1].path == fmt::format("/v2/alerts/{}/message", kAlias));
  CHECK(reqs[1].param("identifierType") == "alias");
  CHECK(reqs[1].body == "{\"message\":\"DiskFull on 2\"}\n");
  CHECK(reqs[2].method == "PUT");
  CHECK(reqs[2].path == fmt::format("/v2/alerts/{}/description", kAlias));
  CHECK(reqs[2].param("identifierType") == "alias");
  CHECK(reqs[2].body == "{\"description\":\"Disk \\u003cfull\\u003e \\u0026 more\"}\n");
  for (const Captured& c : reqs) CHECK(c.header("Authorization") == "GenieKey og-key-1234");
}

TEST_CASE("opsgenie: update_alerts stops at the first failed request") {
  TestServer server([](const Captured& c, httplib::Response& res) {
    if (c.path.ends_with("/message")) {
      res.status = 404;
      res.set_content("{\"message\":\"Alert not found\"}", "application/json");
    }
  });
  DeliveryOutcome o = run(custom_config(server, "    update_alerts: true\n"), two_alerts());
  CHECK_FALSE(o.delivered);
  CHECK(o.attempts == 1);
  CHECK(server.count() == 2);
  CHECK(o.error.find("unexpected status code 404: {\"message\":\"Alert not found\"}") != std::string::npos);
}

TEST_CASE("opsgenie: the global URL and key file, the key trimmed") {
  TestServer server;
  std::string key_file = temp_file("file-key-5678\n");
  DeliveryOutcome o = run(receiver_config("  opsgenie_configs:\n  - message: m\n",
                                          "  opsgenie_api_url: '" + server.url("/og/") + "'\n" +
                                              "  opsgenie_api_key_file: " + key_file + "\n"),
                          two_alerts());
  REQUIRE(o.delivered);
  const Captured c = server.requests().at(0);
  CHECK(c.path == "/og/v2/alerts");
  CHECK(c.header("Authorization") == "GenieKey file-key-5678");
  std::remove(key_file.c_str());
}

TEST_CASE("opsgenie: a key that fails to render is an error, not retried, and nothing is sent") {
  TestServer server;
  DeliveryOutcome o = run(receiver_config("  opsgenie_configs:\n  - api_url: '" + server.url("/") +
                                          "'\n    api_key: '{{ kaput }}'\n"),
                          two_alerts());
  CHECK_FALSE(o.delivered);
  CHECK(o.attempts == 1);
  CHECK(server.count() == 0);
  CHECK(o.error.find("templating error: ") != std::string::npos);
  CHECK(o.error.find("kaput") != std::string::npos);
}

TEST_CASE("opsgenie: 5xx and 429 are retried, other 4xx are not") {
  for (int status : {500, 503, 429}) {
    CAPTURE(status);
    std::atomic<int> calls{0};
    TestServer server([&](const Captured&, httplib::Response& res) {
      if (++calls == 1) res.status = status;
    });
    DeliveryOutcome o = run(custom_config(server), two_alerts());
    CHECK(o.delivered);
    CHECK(o.attempts == 2);
  }
  for (int status : {400, 401, 403, 404, 422}) {
    CAPTURE(status);
    TestServer server([&](const Captured&, httplib::Response& res) { res.status = status; });
    DeliveryOutcome o = run(custom_config(server), two_alerts());
    CHECK_FALSE(o.delivered);
    CHECK(o.attempts == 1);
  }
}

TEST_CASE("opsgenie: a receiver that hangs up is retried") {
  HangUpServer server;
  std::string url = server.url();
  url.resize(url.size() - 4);  // the root, without "hook"
  DeliveryOutcome o = run(receiver_config("  opsgenie_configs:\n  - api_url: '" + url + "'\n    api_key: k-123456\n"),
                          two_alerts(), kT0 + 5 * kSecond);
  CHECK_FALSE(o.delivered);
  CHECK(o.attempts >= 2);
  CHECK(server.accepted() == o.attempts);
}
