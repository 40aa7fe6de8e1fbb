// Chat integrations against a capture server on 127.0.0.1: Teams Workflows
// (msteamsv2), Webex, Mattermost and Rocket.Chat. Each test asserts the
// method, path, headers and the exact bytes Alertmanager sends for the same
// configuration and alerts (Go's JSON encoding: struct field order, empty
// fields left out where upstream omits them, <, > and & escaped).
#include <doctest/doctest.h>

#include "notifiers/delivery.h"
#include "tests/notifiers/harness.h"
#include "tests/notifiers/test_server.h"

using namespace vigil;
using namespace vigil::notifiers;
using namespace vigil::notifiers::testing;

namespace {

// Delivers the receiver's first integration once and returns the outcome.
DeliveryOutcome deliver_once(const std::string& yaml, bool second_resolved = false, bool all_resolved = false) {
  auto cfg = load(yaml);
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  auto alerts = two_alerts(second_resolved);
  if (all_resolved)
    for (auto& a : alerts) {
      auto copy = std::make_shared<routing::Alert>(*a);
      copy->ends_at = kT0 - 1000;
      a = copy;
    }
  return deliver_all(d, clock, notification(cfg, "r", 0, alerts));
}

}  // namespace

TEST_CASE("msteamsv2: an Adaptive Card, its heading coloured by the group's state") {
  TestServer server;
  const std::string yaml = receiver_config(fmt::format(
      "  msteamsv2_configs:\n  - webhook_url: '{}'\n    title: '{{{{ .Status }}}}: {{{{ .GroupLabels.alertname }}}}'\n"
      "    text: '<b>{{{{ len .Alerts }}}}</b> & more'\n",
      server.url("/workflows/teams-secret")));
  SUBCASE("firing") {
    DeliveryOutcome o = deliver_once(yaml);
    REQUIRE_MESSAGE(o.delivered, o.error);
    auto reqs = server.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].method == "POST");
    CHECK(reqs[0].path == "/workflows/teams-secret");
    CHECK(reqs[0].header("Content-Type") == "application/json");
    CHECK(reqs[0].body ==
          R"({"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",)"
          R"("contentUrl":null,"content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json",)"
          R"("type":"AdaptiveCard","version":"1.2","body":[{"type":"TextBlock","text":"firing: DiskFull",)"
          R"("weight":"Bolder","size":"Medium","wrap":true,"style":"heading","color":"Attention"},)"
          R"({"type":"TextBlock","text":"\u003cb\u003e2\u003c/b\u003e \u0026 more","wrap":true}],)"
          R"("msteams":{"width":"full"}}}]})"
          "\n");
  }
  SUBCASE("resolved") {
    DeliveryOutcome o = deliver_once(yaml, false, true);
    REQUIRE_MESSAGE(o.delivered, o.error);
    auto body = server.requests().at(0).body_json();
    const auto& heading = body["attachments"][0]["content"]["body"][0];
    CHECK(heading["text"] == "resolved: DiskFull");
    CHECK(heading["color"] == "Good");
  }
}

TEST_CASE("webex: Markdown for the room, with http_config's bearer token; long messages cut in bytes") {
  TestServer server;
  const std::string big(8000, 'x');
  const std::string yaml = receiver_config(fmt::format(
      "  webex_configs:\n  - api_url: '{}'\n    room_id: 'room-{{{{ .GroupLabels.alertname }}}}'\n"
      "    http_config:\n      authorization:\n        credentials: webex-token-1234\n"
      "    message: '{{{{ .Status }}}} <{{{{ len .Alerts }}}}>'\n"
      "  - api_url: '{}'\n    room_id: r2\n    http_config:\n      authorization:\n        credentials: webex-token-1234\n"
      "    message: 'é{}'\n",
      server.url("/v1/messages"), server.url("/v1/messages"), big));
  DeliveryOutcome o = deliver_once(yaml);
  REQUIRE_MESSAGE(o.delivered, o.error);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].path == "/v1/messages");
  CHECK(reqs[0].header("Authorization") == "Bearer webex-token-1234");
  CHECK(reqs[0].body == "{\"markdown\":\"firing \\u003c2\\u003e\",\"roomId\":\"room-DiskFull\"}\n");

  auto cfg = load(yaml);
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  REQUIRE(deliver_all(d, clock, notification(cfg, "r", 1, two_alerts())).delivered);
  std::string md = server.requests().at(1).body_json()["markdown"];
  CHECK(md.size() == 7439);  // Webex's limit in bytes, the cut marked with "…"
  CHECK(md.starts_with("éxxx"));
  CHECK(md.ends_with("x…"));
}

TEST_CASE("mattermost: one attachment from the settings, or the configured attachments with the text on top") {
  TestServer server;
  SUBCASE("settings") {
    DeliveryOutcome o = deliver_once(receiver_config(fmt::format(
        "  mattermost_configs:\n  - webhook_url: '{}'\n    channel: '#ops'\n    username: bot\n"
        "    text: 'hello & {{{{ .Status }}}}'\n    fallback: fb\n    color: danger\n    title: T\n"
        "    title_link: 'http://x/?a=1&b=2'\n    fields:\n    - title: sev\n      value: '{{{{ .CommonLabels.severity }}}}'\n"
        "      short: false\n    - title: n\n      value: '2'\n",
        server.url("/hooks/mm-secret"))));
    REQUIRE_MESSAGE(o.delivered, o.error);
    auto reqs = server.requests();
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].path == "/hooks/mm-secret");
    CHECK(reqs[0].body ==
          R"({"channel":"#ops","username":"bot","attachments":[{"fallback":"fb","color":"danger",)"
          R"("text":"hello \u0026 firing","title":"T","title_link":"http://x/?a=1\u0026b=2",)"
          R"("fields":[{"title":"sev","value":"critical","short":false},{"title":"n","value":"2"}]}]})"
          "\n");
  }
  SUBCASE("attachments and priority") {
    DeliveryOutcome o = deliver_once(receiver_config(fmt::format(
        "  mattermost_configs:\n  - webhook_url: '{}'\n    username: bot\n    text: top\n"
        "    attachments:\n    - text: 'a1 {{{{ .Status }}}}'\n      title: A1\n    - pretext: p2\n"
        "    priority:\n      priority: Important\n      requested_ack: true\n      persistent_notifications: true\n"
        "    props:\n      card: 'card {{{{ len .Alerts }}}}'\n",
        server.url("/hooks/mm-secret"))));
    REQUIRE_MESSAGE(o.delivered, o.error);
    // Persistent notifications need "urgent": dropped; the acknowledgement stays.
    CHECK(server.requests().at(0).body ==
          R"({"text":"top","username":"bot","attachments":[{"text":"a1 firing","title":"A1"},{"pretext":"p2"}],)"
          R"("props":{"card":"card 2"},"priority":{"priority":"important","requested_ack":true}})"
          "\n");
  }
  SUBCASE("a refusal names the channel and is not retried") {
    TestServer refusing([](const Captured&, httplib::Response& res) {
      res.status = 400;
      res.set_content("bad channel", "text/plain");
    });
    DeliveryOutcome o = deliver_once(receiver_config(fmt::format(
        "  mattermost_configs:\n  - webhook_url: '{}'\n    channel: nowhere\n", refusing.url("/hooks/x"))));
    CHECK_FALSE(o.delivered);
    CHECK(o.attempts == 1);
    CHECK(o.error.find("channel \"nowhere\": unexpected status code 400: bad channel") != std::string::npos);
  }
}

TEST_CASE("rocketchat: chat.postMessage with the token headers; success false in a 200 is a failure") {
  std::atomic<bool> refuse{false};
  TestServer server([&](const Captured&, httplib::Response& res) {
    res.set_content(refuse ? R"({"success":false,"error":"room not found"})" : R"({"success":true})",
                    "application/json");
  });
  std::string token_file = temp_file("rc-token-5678\n");
  const std::string yaml = receiver_config(fmt::format(
      "  rocketchat_configs:\n  - api_url: '{}'\n    token_file: {}\n    token_id: rc-user-1234\n    channel: '#alerts'\n"
      "    title: '{{{{ .Status }}}}'\n    title_link: 'http://t/'\n    text: 'n={{{{ len .Alerts }}}}'\n"
      "    emoji: ':fire:'\n    icon_url: ''\n    short_fields: true\n"
      "    fields:\n    - title: a\n      value: b\n    - title: c\n      value: d\n      short: false\n"
      "    actions:\n    - text: Silence\n      url: 'http://am/#/silences/new'\n      msg: hi\n",
      server.url("/rc/"), token_file));
  DeliveryOutcome o = deliver_once(yaml);
  REQUIRE_MESSAGE(o.delivered, o.error);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].path == "/rc/api/v1/chat.postMessage");
  CHECK(reqs[0].header("X-Auth-Token") == "rc-token-5678");
  CHECK(reqs[0].header("X-User-Id") == "rc-user-1234");
  CHECK(reqs[0].body ==
        R"({"channel":"#alerts","emoji":":fire:","attachments":[{"title":"firing","title_link":"http://t/",)"
        R"("text":"n=2","color":"red","fields":[{"short":true,"title":"a","value":"b"},)"
        R"({"short":false,"title":"c","value":"d"}],"actions":[{"type":"button","text":"Silence",)"
        R"("url":"http://am/#/silences/new","is_webview":false,"msg":"hi","msg_in_chat_window":false}]}]})"
        "\n");

  refuse = true;
  o = deliver_once(yaml);
  CHECK_FALSE(o.delivered);
  CHECK(o.attempts == 1);
  CHECK(o.error.find("channel \"#alerts\": error response from Rocketchat: room not found") != std::string::npos);
  std::remove(token_file.c_str());
}
