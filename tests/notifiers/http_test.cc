// HTTP integrations against local servers on 127.0.0.1: the requests they
// send (JSON shape and headers, as Alertmanager sends them), and what
// delivery does when the receiver fails, limits, stalls or hangs up.
#include <doctest/doctest.h>

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <future>
#include <latch>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "notifiers/delivery.h"
#include "notifiers/integration.h"
#include "notifiers/render.h"
#include "routing/config_specs.h"
#include "tests/notifiers/harness.h"
#include "tests/notifiers/test_server.h"

using namespace vigil;
using namespace vigil::net;
using namespace vigil::notifiers;
using namespace vigil::notifiers::testing;
using nlohmann::json;


TEST_CASE("webhook: the payload and headers Alertmanager sends") {
  TestServer server;
  std::string token_file = temp_file("file-token-123\n");
  auto cfg = load(receiver_config(fmt::format(
      "  webhook_configs:\n  - url: '{}'\n    http_config:\n      authorization:\n        credentials_file: {}\n",
      server.url(), token_file)));
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  DeliveryOutcome o = deliver_all(d, clock, notification(cfg, "r", 0, two_alerts(true)));
  CHECK(o.delivered);
  CHECK(o.attempts == 1);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  const Captured& c = reqs[0];
  CHECK(c.method == "POST");
  CHECK(c.path == "/hook");
  CHECK(c.header("Content-Type") == "application/json");
  CHECK(c.header("Authorization") == "Bearer file-token-123");
  CHECK(c.header("User-Agent").starts_with("vigil/"));
  json body = c.body_json();
  CHECK(body["version"] == "4");
  CHECK(body["groupKey"] == "{}:{alertname=\"DiskFull\"}");
  CHECK(body["truncatedAlerts"] == 0);
  CHECK(body["receiver"] == "r");
  CHECK(body["status"] == "firing");
  CHECK(body["externalURL"] == "http://vigil.example:9093");
  CHECK(body["groupLabels"] == json{{"alertname", "DiskFull"}});
  CHECK(body["commonLabels"] == json{{"alertname", "DiskFull"}, {"severity", "critical"}});
  CHECK(body["commonAnnotations"] == json::object());
  CHECK(body["routeLabels"] == json::object());  // Alertmanager 0.34 always sends it
  REQUIRE(body["alerts"].size() == 2);
  const json& firing = body["alerts"][0];
  CHECK(firing["status"] == "firing");
  CHECK(firing["labels"]["instance"] == "a:9100");
  CHECK(firing["annotations"]["summary"] == "Disk on a is full");
  CHECK(firing["startsAt"] == "2023-11-14T22:12:20Z");
  CHECK(firing["endsAt"] == "0001-01-01T00:00:00Z");
  CHECK(firing["generatorURL"] == "http://prometheus.example/graph?g0.expr=up");
  CHECK(firing["fingerprint"].get<std::string>().size() == 16);
  const json& resolved = body["alerts"][1];
  CHECK(resolved["status"] == "resolved");
  CHECK(resolved["endsAt"] == "2023-11-14T22:13:19Z");
  std::remove(token_file.c_str());
}

// Alertmanager 0.34's route labels: rendered once for the group against all
// the flush's alerts (here one more than is sent), then sent as routeLabels
// and read as they are by routeLabels in the integration's templates.
TEST_CASE("webhook: route labels are rendered for the group and sent") {
  TestServer server;
  auto cfg = load(receiver_config(fmt::format("  webhook_configs:\n  - url: '{}?team={{{{ routeLabels \"team\" }}}}'\n",
                                              server.url())));
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  auto alerts = two_alerts();
  routing::Notification n = notification(cfg, "r", 0, {alerts[0]});
  n.route_labels = {{"team", "db"}, {"desc", "{{ len .Alerts }} {{ .NotificationReason }} for {{ routeLabels \"team\" }}"},
                    {"bad", "{{ .Nope.x }}"}};
  n.group_alerts = std::make_shared<const std::vector<routing::FlushedAlert>>(
      std::vector<routing::FlushedAlert>{{alerts[0], false}, {alerts[1], false}});
  DeliveryOutcome o = deliver_all(d, clock, n);
  CHECK(o.delivered);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].path == "/hook");
  CHECK(reqs[0].param("team") == "db");
  CHECK(reqs[0].body_json()["routeLabels"] == json{{"desc", "2 unknown for db"}, {"team", "db"}});
  CHECK(reqs[0].body_json()["alerts"].size() == 1);
}

// Alertmanager 0.33 says why it sends (its dedup stage's reason), between
// the alerts and the group labels, and templates see it as .NotificationReason.
TEST_CASE("webhook: notification_reason says why the notification is sent, where Alertmanager 0.33 puts it") {
  TestServer server;
  auto cfg = load(receiver_config(fmt::format("  webhook_configs:\n  - url: '{}'\n", server.url())));
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  for (auto [reason, text] : {std::pair{routing::NotifyReason::kFirstNotification, "first notification"},
                              {routing::NotifyReason::kRepeatIntervalElapsed, "repeat interval elapsed"}}) {
    auto n = notification(cfg, "r", 0, two_alerts(true));
    n.reason = reason;
    CHECK(deliver_all(d, clock, n).delivered);
    const Captured c = server.requests().back();
    CHECK(c.body_json()["notification_reason"] == text);
    const size_t alerts = c.body.find("\"alerts\":"), why = c.body.find("\"notification_reason\":"),
                 group = c.body.find("\"groupLabels\":");
    CHECK(alerts < why);
    CHECK(why < group);
  }
}

TEST_CASE("webhook: max_alerts sends the first alerts and counts the rest") {
  TestServer server;
  auto cfg = load(receiver_config(fmt::format("  webhook_configs:\n  - url: '{}'\n    max_alerts: 1\n", server.url())));
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  REQUIRE(deliver_all(d, clock, notification(cfg, "r", 0, two_alerts())).delivered);
  json body = server.requests().at(0).body_json();
  CHECK(body["alerts"].size() == 1);
  CHECK(body["truncatedAlerts"] == 1);
}

TEST_CASE("webhook: basic_auth, custom headers and a templated URL") {
  TestServer server;
  auto cfg = load(receiver_config(fmt::format(
      "  webhook_configs:\n  - url: '{}/{{{{ .CommonLabels.severity }}}}'\n    http_config:\n"
      "      basic_auth: {{username: alice, password: wonderland}}\n"
      "      http_headers:\n        X-Team: {{values: [storage]}}\n",
      server.url("/hook"))));
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  REQUIRE(deliver_all(d, clock, notification(cfg, "r", 0, two_alerts())).delivered);
  Captured c = server.requests().at(0);
  CHECK(c.path == "/hook/critical");
  CHECK(c.header("Authorization") == "Basic " + base64_encode("alice:wonderland"));
  CHECK(c.header("X-Team") == "storage");
}

TEST_CASE("delivery: a 500 is retried with backoff until it succeeds") {
  ManualClock clock(kT0);
  std::atomic<int> calls{0};
  TestServer server(
      [&](const Captured&, httplib::Response& res) {
        if (++calls <= 2) {
          res.status = 500;
          res.set_content("try later", "text/plain");
        }
      },
      &clock);
  auto cfg = load(receiver_config(fmt::format("  webhook_configs:\n  - url: '{}'\n", server.url())));
  LogCapture logs;
  Delivery d(clock, options(logs));
  DeliveryOutcome o = deliver_all(d, clock, notification(cfg, "r", 0, two_alerts()));
  CHECK(o.delivered);
  CHECK(o.attempts == 3);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 3);
  // Waits of 0.5s and 0.75s, each +-50%.
  Millis first_wait = reqs[1].clock_at - reqs[0].clock_at;
  Millis second_wait = reqs[2].clock_at - reqs[1].clock_at;
  CHECK(first_wait >= 250);
  CHECK(first_wait <= 750);
  CHECK(second_wait >= 375);
  CHECK(second_wait <= 1125);
  CHECK(logs.all().find("msg=\"Notify attempt failed, will retry later\" attempts=") != std::string::npos);
  CHECK(logs.all().find("unexpected status code 500: try later") != std::string::npos);
  auto& m = d.metrics().integration("webhook");
  CHECK(m.notifications() == 1);
  CHECK(m.requests() == 3);
  CHECK(m.failed_requests() == 2);
}

TEST_CASE("delivery: retries stop at the deadline") {
  ManualClock clock(kT0);
  TestServer server([](const Captured&, httplib::Response& res) { res.status = 503; }, &clock);
  auto cfg = load(receiver_config(fmt::format("  webhook_configs:\n  - url: '{}'\n", server.url())));
  LogCapture logs;
  Delivery d(clock, options(logs));
  const Millis deadline = kT0 + 30 * kSecond;
  DeliveryOutcome o = deliver_all(d, clock, notification(cfg, "r", 0, two_alerts(), kT0, deadline));
  CHECK_FALSE(o.delivered);
  auto reqs = server.requests();
  CHECK(static_cast<size_t>(o.attempts) == reqs.size());
  // 0.5s growing by 1.5: about nine attempts fit in 30s.
  CHECK(reqs.size() >= 5);
  CHECK(reqs.size() <= 14);
  for (const auto& r : reqs) CHECK(r.clock_at < deadline);
  CHECK(o.reason == FailureReason::kServerError);
  CHECK(o.error.find("deadline reached") != std::string::npos);
  CHECK(o.error.find("503") != std::string::npos);
  CHECK(d.metrics().integration("webhook").failures(FailureReason::kServerError) == 1);
  CHECK(d.metrics().exposition().find(
            "alertmanager_notifications_failed_total{integration=\"webhook\",reason=\"serverError\"} 1") !=
        std::string::npos);
}

TEST_CASE("delivery: a 4xx is not retried") {
  ManualClock clock(kT0);
  TestServer server([](const Captured&, httplib::Response& res) {
    res.status = 404;
    res.set_content("no such hook", "text/plain");
  });
  auto cfg = load(receiver_config(fmt::format("  webhook_configs:\n  - url: '{}'\n", server.url())));
  LogCapture logs;
  Delivery d(clock, options(logs));
  DeliveryOutcome o = deliver_all(d, clock, notification(cfg, "r", 0, two_alerts()));
  CHECK_FALSE(o.delivered);
  CHECK(o.attempts == 1);
  CHECK(server.count() == 1);
  CHECK(o.reason == FailureReason::kClientError);
  CHECK(o.error.find("unrecoverable error after 1 attempts: unexpected status code 404: no such hook") !=
        std::string::npos);
}

TEST_CASE("delivery: a 429 waits for Retry-After") {
  ManualClock clock(kT0);
  std::atomic<int> calls{0};
  TestServer server(
      [&](const Captured&, httplib::Response& res) {
        if (++calls == 1) {
          res.status = 429;
          res.set_header("Retry-After", "30");
        }
      },
      &clock);
  auto cfg = load(receiver_config(fmt::format("  webhook_configs:\n  - url: '{}'\n", server.url())));
  LogCapture logs;
  Delivery d(clock, options(logs));
  DeliveryOutcome o = deliver_all(d, clock, notification(cfg, "r", 0, two_alerts()));
  CHECK(o.delivered);
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[1].clock_at - reqs[0].clock_at >= 30 * kSecond);
}

TEST_CASE("delivery: a Retry-After past the deadline gives up at once") {
  ManualClock clock(kT0);
  TestServer server([](const Captured&, httplib::Response& res) {
    res.status = 429;
    res.set_header("Retry-After", "3600");
  });
  auto cfg = load(receiver_config(fmt::format("  webhook_configs:\n  - url: '{}'\n", server.url())));
  LogCapture logs;
  Delivery d(clock, options(logs));
  DeliveryOutcome o = deliver_all(d, clock, notification(cfg, "r", 0, two_alerts(), kT0, kT0 + kMinute));
  CHECK_FALSE(o.delivered);
  CHECK(o.attempts == 1);
  CHECK(o.reason == FailureReason::kRateLimited);
}

TEST_CASE("delivery: a receiver that hangs up is retried") {
  HangUpServer server;
  auto cfg = load(receiver_config(fmt::format("  webhook_configs:\n  - url: '{}'\n", server.url())));
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  DeliveryOutcome o = deliver_all(d, clock, notification(cfg, "r", 0, two_alerts(), kT0, kT0 + 5 * kSecond));
  CHECK_FALSE(o.delivered);
  CHECK(o.attempts >= 3);
  CHECK(server.accepted() == o.attempts);
  CHECK(o.error.find("deadline reached") != std::string::npos);
  // Depending on when the close lands: nothing read, or the send reset.
  bool transport = o.error.find("Empty reply from server") != std::string::npos ||
                   o.error.find("Connection reset") != std::string::npos ||
                   o.error.find("Recv failure") != std::string::npos || o.error.find("Send failure") != std::string::npos;
  CHECK_MESSAGE(transport, o.error);
}

TEST_CASE("delivery: a slow receiver times out, and does not hold up another receiver") {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  TestServer slow([&](const Captured&, httplib::Response&) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return release; });
  });
  TestServer fast;
  auto cfg = load(receiver_config(fmt::format(
      "  webhook_configs:\n  - url: '{}'\n    timeout: 300ms\n  - url: '{}'\n", slow.url(), fast.url())));
  SystemClock clock;
  LogCapture logs;
  DeliveryOptions opts = options(logs, 4);  // at most two workers for one integration
  Delivery d(clock, opts);
  const Millis now = clock.now();
  std::vector<std::future<DeliveryOutcome>> slow_outcomes;
  for (int i = 0; i < 4; ++i) {
    auto p = std::make_shared<std::promise<DeliveryOutcome>>();
    slow_outcomes.push_back(p->get_future());
    // A deadline shorter than any retry: one attempt each.
    d.deliver(notification(cfg, "r", 0, two_alerts(), now, now + 350),
              [p](const DeliveryOutcome& o) { p->set_value(o); });
  }
  auto p = std::make_shared<std::promise<DeliveryOutcome>>();
  auto fast_outcome = p->get_future();
  d.deliver(notification(cfg, "r", 1, two_alerts(), now, now + kMinute),
            [p](const DeliveryOutcome& o) { p->set_value(o); });
  // The fast receiver is served while the slow one still holds its workers.
  REQUIRE(fast_outcome.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(fast_outcome.get().delivered);
  CHECK(fast.count() == 1);
  for (auto& f : slow_outcomes) {
    REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    DeliveryOutcome o = f.get();
    CHECK_FALSE(o.delivered);
    // The last two wait for a worker: on a slow build (sanitizers) their
    // deadline can pass before their turn comes.
    CHECK_MESSAGE((o.error.find("timed out") != std::string::npos ||
                   o.error == "deadline reached before the first attempt"),
                  o.error);
  }
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
}

// A receiver that takes the request and keeps it without answering (until
// the test ends); stopping delivery must not wait for it. Were the exchange
// not aborted, stop() would return only when the receiver lets go, after the
// request's own timeout of ten minutes, with the notification delivered.
TEST_CASE("delivery: stopping aborts an attempt waiting on its receiver") {
  std::mutex mu;
  std::condition_variable cv;
  bool arrived = false, release = false;
  TestServer stuck([&](const Captured&, httplib::Response&) {
    std::unique_lock lock(mu);
    arrived = true;
    cv.notify_all();
    cv.wait_for(lock, std::chrono::minutes(10), [&] { return release; });
  });
  auto cfg = load(receiver_config(fmt::format("  webhook_configs:\n  - url: '{}'\n    timeout: 10m\n", stuck.url())));
  SystemClock clock;
  LogCapture logs;
  Delivery d(clock, options(logs));
  std::promise<DeliveryOutcome> outcome;
  const Millis now = clock.now();
  d.deliver(notification(cfg, "r", 0, two_alerts(), now, now + kHour),
            [&](const DeliveryOutcome& o) { outcome.set_value(o); });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return arrived; });  // the attempt is in flight
  }
  d.drain(std::chrono::milliseconds(0));
  d.stop();
  auto f = outcome.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  DeliveryOutcome o = f.get();
  CHECK_FALSE(o.delivered);
  CHECK(o.error.find("request canceled") != std::string::npos);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
}

TEST_CASE("delivery: stopping fails notifications waiting to retry without running them") {
  TestServer failing([](const Captured&, httplib::Response& res) { res.status = 503; });
  auto cfg = load(receiver_config(fmt::format("  webhook_configs:\n  - url: '{}'\n", failing.url())));
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  std::promise<DeliveryOutcome> outcome;
  d.deliver(notification(cfg, "r", 0, two_alerts()), [&](const DeliveryOutcome& o) { outcome.set_value(o); });
  d.pool().wait_idle();
  REQUIRE(d.pool().next_due().has_value());  // the first attempt failed; a retry waits
  d.drain(std::chrono::minutes(1));  // returns at once: nothing runs, the retry is for later
  d.stop();
  auto f = outcome.get_future();
  REQUIRE(f.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  DeliveryOutcome o = f.get();
  CHECK_FALSE(o.delivered);
  CHECK(o.reason == FailureReason::kContextCanceled);
  CHECK(failing.count() == 1);
}

TEST_CASE("delivery: credentials never appear in errors or logs") {
  const std::string token = "tok-4f9a8b7c6d5e";
  const std::string password = "pw-correct-horse-battery";
  // The receiver echoes what it was sent, credentials included.
  TestServer server([](const Captured& c, httplib::Response& res) {
    res.status = 400;
    res.set_content("rejected " + c.header("Authorization") + " for " + c.path, "text/plain");
  });
  std::string secret_path = "/services/T0/B0/path-secret-9f8e7d";
  auto cfg = load(receiver_config(fmt::format(
      "  webhook_configs:\n  - url: '{}'\n    http_config:\n      authorization: {{credentials: {}}}\n"
      "  slack_configs:\n  - api_url: '{}'\n    http_config:\n      basic_auth: {{username: u, password: {}}}\n",
      server.url("/hook"), token, server.url(secret_path), password)));
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  DeliveryOutcome webhook = deliver_all(d, clock, notification(cfg, "r", 0, two_alerts()));
  DeliveryOutcome slack = deliver_all(d, clock, notification(cfg, "r", 1, two_alerts()));
  REQUIRE(server.count() == 2);
  CHECK(server.requests()[0].header("Authorization") == "Bearer " + token);  // it was sent
  CHECK_FALSE(webhook.delivered);
  CHECK_FALSE(slack.delivered);
  const std::string basic = base64_encode("u:" + password);
  for (const std::string& text : {webhook.error, slack.error, logs.all()}) {
    CHECK(text.find(token) == std::string::npos);
    CHECK(text.find(basic) == std::string::npos);
    CHECK(text.find("path-secret-9f8e7d") == std::string::npos);
    CHECK(text.find("<secret>") != std::string::npos);
  }
  // Connection errors do not show the secret URL either.
  auto refused = load(receiver_config(
      "  slack_configs:\n  - api_url: 'http://127.0.0.1:1/services/T0/B0/refused-secret-1234'\n"));
  DeliveryOutcome o = deliver_all(d, clock, notification(refused, "r", 0, two_alerts(), kT0, kT0 + 2 * kSecond));
  CHECK_FALSE(o.delivered);
  CHECK(o.error.find("refused-secret-1234") == std::string::npos);
  CHECK(logs.all().find("refused-secret-1234") == std::string::npos);
}

TEST_CASE("delivery: a broken integration setting fails with a clear error") {
  auto cfg = load(receiver_config(
      "  webhook_configs:\n  - url: 'http://127.0.0.1:1/'\n    http_config:\n      oauth2:\n"
      "        client_id: id\n        client_secret_ref: vault\n        token_url: 'http://127.0.0.1:1/token'\n"));
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  DeliveryOutcome o = deliver_all(d, clock, notification(cfg, "r", 0, two_alerts()));
  CHECK_FALSE(o.delivered);
  CHECK(o.attempts == 0);
  CHECK(o.error.find("cannot use secret ref without manager") != std::string::npos);
}

TEST_CASE("webhook: http_config oauth2 gets a token and sends it; a token endpoint failure is the attempt's error") {
  TestServer token_server([](const Captured&, httplib::Response& res) {
    res.set_content(R"({"access_token":"hook-token-42","token_type":"bearer","expires_in":3600})",
                    "application/json");
  });
  TestServer server;
  auto cfg = load(receiver_config(fmt::format(
      "  webhook_configs:\n  - url: '{}'\n    http_config:\n      oauth2:\n"
      "        client_id: vigil\n        client_secret: hook-secret-77\n        token_url: '{}'\n",
      server.url(), token_server.url("/token"))));
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  DeliveryOutcome o = deliver_all(d, clock, notification(cfg, "r", 0, two_alerts()));
  CHECK(o.delivered);
  DeliveryOutcome again = deliver_all(d, clock, notification(cfg, "r", 0, two_alerts()));
  CHECK(again.delivered);
  CHECK(token_server.count() == 1);
  REQUIRE(server.count() == 2);
  CHECK(server.requests()[1].header("Authorization") == "Bearer hook-token-42");

  TestServer refusing([](const Captured&, httplib::Response& res) {
    res.status = 401;
    res.set_content(R"({"error":"invalid_client","error_description":"hook-secret-77 unknown"})", "application/json");
  });
  auto bad = load(receiver_config(fmt::format(
      "  webhook_configs:\n  - url: '{}'\n    http_config:\n      oauth2:\n"
      "        client_id: vigil\n        client_secret: hook-secret-77\n        token_url: '{}'\n",
      server.url(), refusing.url("/token"))));
  DeliveryOutcome f = deliver_all(d, clock, notification(bad, "r", 0, two_alerts(), kT0, kT0 + 2 * kSecond));
  CHECK_FALSE(f.delivered);
  CHECK(f.error.find(R"(oauth2: "invalid_client" "<secret> unknown")") != std::string::npos);
  CHECK(server.count() == 2);
  for (const std::string& text : {f.error, logs.all()}) CHECK(text.find("hook-secret-77") == std::string::npos);
}

TEST_CASE("slack: the message Alertmanager sends, rendered with the default templates") {
  TestServer server;
  auto cfg = load(receiver_config(fmt::format(
      "  slack_configs:\n  - api_url: '{}'\n    channel: '#alerts'\n    send_resolved: true\n"
      "    fields:\n    - title: Severity\n      value: '{{{{ .CommonLabels.severity }}}}'\n"
      "    actions:\n    - type: button\n      text: Runbook\n      url: 'http://runbook/{{{{ .GroupLabels.alertname }}}}'\n",
      server.url("/services/T/B/X"))));
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  REQUIRE(deliver_all(d, clock, notification(cfg, "r", 0, two_alerts())).delivered);
  Captured c = server.requests().at(0);
  CHECK(c.path == "/services/T/B/X");
  CHECK(c.header("Content-Type") == "application/json");
  json body = c.body_json();
  CHECK(body["channel"] == "#alerts");
  CHECK(body["username"] == "vigil");  // slack.default.username
  REQUIRE(body["attachments"].size() == 1);
  const json& a = body["attachments"][0];
  CHECK(a["title"] == "[FIRING:2] DiskFull (critical)");
  CHECK(a["title_link"].get<std::string>().starts_with("http://vigil.example:9093/#/alerts?receiver=r"));
  CHECK(a["color"] == "danger");
  CHECK(a["mrkdwn_in"] == json::array({"fallback", "pretext", "text"}));
  CHECK(a.contains("text"));
  CHECK(a.contains("footer"));
  CHECK(a["fallback"].get<std::string>().find("DiskFull") != std::string::npos);
  CHECK(a["fields"] == json::array({{{"title", "Severity"}, {"value", "critical"}, {"short", false}}}));
  CHECK(a["actions"] == json::array({{{"type", "button"}, {"text", "Runbook"}, {"url", "http://runbook/DiskFull"}}}));
}

TEST_CASE("slack: the Web API answer decides, and a bot token is sent as a bearer token") {
  TestServer server([](const Captured&, httplib::Response& res) {
    res.set_content(R"({"ok":false,"error":"channel_not_found"})", "application/json; charset=utf-8");
  });
  auto cfg = load(receiver_config(
      "  slack_configs:\n  - app_token: xoxb-bot-token-123\n    channel: '#nowhere'\n",
      fmt::format("  slack_app_url: '{}'\n", server.url("/api/chat.postMessage"))));
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  DeliveryOutcome o = deliver_all(d, clock, notification(cfg, "r", 0, two_alerts()));
  CHECK_FALSE(o.delivered);
  CHECK(o.attempts == 1);
  CHECK(o.error.find("channel \"#nowhere\": error response from Slack: channel_not_found") != std::string::npos);
  Captured c = server.requests().at(0);
  CHECK(c.path == "/api/chat.postMessage");
  CHECK(c.header("Authorization") == "Bearer xoxb-bot-token-123");
}

TEST_CASE("pagerduty: Events API v2 trigger and resolve") {
  TestServer server([](const Captured&, httplib::Response& res) {
    res.status = 202;
    res.set_content(R"({"status":"success"})", "application/json");
  });
  auto cfg = load(receiver_config(fmt::format(
      "  pagerduty_configs:\n  - routing_key: rk-0123456789\n    url: '{}'\n    severity: critical\n"
      "    class: disk\n    component: storage\n    group: '{{{{ .CommonLabels.severity }}}}'\n"
      "    images: [{{src: 'http://img/{{{{ .GroupLabels.alertname }}}}.png', alt: graph}}]\n"
      "    links: [{{href: 'http://runbook', text: runbook}}, {{href: '', text: dropped}}]\n"
      "    details: {{team: storage, count: '{{{{ len .Alerts }}}}'}}\n",
      server.url("/v2/enqueue"))));
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  auto n = notification(cfg, "r", 0, two_alerts());
  REQUIRE(deliver_all(d, clock, n).delivered);
  json body = server.requests().at(0).body_json();
  CHECK(body["routing_key"] == "rk-0123456789");
  CHECK(body["dedup_key"] == sha256_hex(n.group_key));
  CHECK(body["event_action"] == "trigger");
  CHECK(body["client"] == "vigil");
  CHECK(body["client_url"].get<std::string>().starts_with("http://vigil.example:9093/#/alerts?receiver=r"));
  const json& p = body["payload"];
  CHECK(p["summary"].get<std::string>().starts_with("[FIRING:2] DiskFull"));
  CHECK(p["source"] == "vigil");  // the client, as upstream
  CHECK(p["severity"] == "critical");
  CHECK(p["class"] == "disk");
  CHECK(p["component"] == "storage");
  CHECK(p["group"] == "critical");
  CHECK(p["custom_details"]["team"] == "storage");
  CHECK(p["custom_details"]["count"] == 2);  // a rendered number becomes a number
  CHECK(p["custom_details"]["num_firing"] == 2);
  CHECK(p["custom_details"]["num_resolved"] == 0);
  CHECK(p["custom_details"]["firing"].is_array());
  CHECK(body["images"] == json::array({{{"src", "http://img/DiskFull.png"}, {"alt", "graph"}, {"href", ""}}}));
  CHECK(body["links"] == json::array({{{"href", "http://runbook"}, {"text", "runbook"}}}));

  // All resolved: a resolve event for the same incident.
  auto resolved = {make_alert({{"alertname", "DiskFull"}, {"instance", "a:9100"}}, {}, kT0 - kHour, kT0 - 1)};
  REQUIRE(deliver_all(d, clock, notification(cfg, "r", 0, resolved)).delivered);
  json second = server.requests().at(1).body_json();
  CHECK(second["event_action"] == "resolve");
  CHECK(second["dedup_key"] == body["dedup_key"]);
}

TEST_CASE("pagerduty: the v1 API with a service key, and its error details") {
  std::atomic<int> calls{0};
  TestServer server([&](const Captured&, httplib::Response& res) {
    if (++calls == 1) {
      res.status = 403;  // v1's rate limit: retried
      return;
    }
    res.status = 400;
    res.set_content(R"({"status":"invalid event","message":"Event object is invalid","errors":["Length of 'service_key' is incorrect"]})",
                    "application/json");
  });
  auto cfg = load(receiver_config("  pagerduty_configs:\n  - service_key: sk-abcdef\n"));
  ManualClock clock(kT0);
  LogCapture logs;
  DeliveryOptions opts = options(logs);
  opts.integration.pagerduty_v1_url = server.url("/generic/2010-04-15/create_event.json");
  Delivery d(clock, opts);
  auto n = notification(cfg, "r", 0, two_alerts());
  DeliveryOutcome o = deliver_all(d, clock, n);
  CHECK_FALSE(o.delivered);
  CHECK(o.attempts == 2);
  CHECK(o.error.find("Event object is invalid: Length of 'service_key' is incorrect") != std::string::npos);
  json body = server.requests().at(0).body_json();
  CHECK(body["service_key"] == "sk-abcdef");
  CHECK(body["incident_key"] == sha256_hex(n.group_key));
  CHECK(body["event_type"] == "trigger");
  CHECK(body["description"].get<std::string>().starts_with("[FIRING:2] DiskFull"));
  CHECK(body["details"]["num_firing"] == 2);
}

TEST_CASE("file receiver: one JSON line per notification") {
  char dir[] = "/tmp/vigil-file-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  std::string path = std::string(dir) + "/notifications.jsonl";
  auto cfg = load(receiver_config(fmt::format("  file_configs:\n  - path: {}\n", path)));
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  REQUIRE(deliver_all(d, clock, notification(cfg, "r", 0, two_alerts())).delivered);
  REQUIRE(deliver_all(d, clock, notification(cfg, "r", 0, two_alerts(true))).delivered);
  std::ifstream in(path);
  std::string line;
  std::vector<json> lines;
  while (std::getline(in, line)) lines.push_back(json::parse(line));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["version"] == "4");
  CHECK(lines[0]["alerts"].size() == 2);
  CHECK(lines[1]["alerts"][1]["status"] == "resolved");
  std::remove(path.c_str());
  ::rmdir(dir);
}

TEST_CASE("file receiver: a path is required") {
  routing::LoadResult r = routing::parse_config(receiver_config("  file_configs:\n  - send_resolved: true\n"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.errors.front().message.find("missing path in file config") != std::string::npos);
}

TEST_CASE("discord, msteams and telegram: the bodies their APIs expect") {
  TestServer server([](const Captured& c, httplib::Response& res) {
    if (c.path.find("/sendMessage") != std::string::npos)
      res.set_content(R"({"ok":true,"result":{"message_id":1}})", "application/json");
    else
      res.set_content("1", "text/plain");
  });
  auto cfg = load(receiver_config(fmt::format(
      "  discord_configs:\n  - webhook_url: '{}'\n    username: vigil-bot\n"
      "  telegram_configs:\n  - api_url: '{}'\n    bot_token: 123456:tg-token-abcdef\n    chat_id: -1001234\n"
      "    message_thread_id: 7\n"
      "  msteams_configs:\n  - webhook_url: '{}'\n",
      server.url("/api/webhooks/1/discord-secret"), server.url(""), server.url("/webhookb2/teams-secret"))));
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  const routing::ReceiverConfig* r = cfg->receiver("r");
  REQUIRE(r->integrations.size() == 3);
  for (size_t i = 0; i < r->integrations.size(); ++i) {
    DeliveryOutcome o = deliver_all(d, clock, notification(cfg, "r", i, two_alerts()));
    CHECK_MESSAGE(o.delivered, r->integrations[i].type, ": ", o.error);
  }
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 3);
  for (const Captured& c : reqs) {
    json body = c.body_json();
    if (c.path == "/api/webhooks/1/discord-secret") {
      CHECK(body["username"] == "vigil-bot");
      CHECK(body["content"] == "");
      REQUIRE(body["embeds"].size() == 1);
      CHECK(body["embeds"][0]["title"].get<std::string>().starts_with("[FIRING:2] DiskFull"));
      CHECK(body["embeds"][0]["color"] == 0x992D22);
    } else if (c.path == "/bot123456:tg-token-abcdef/sendMessage") {
      // Alertmanager 0.33's Bot API client: string parameters, sorted keys.
      CHECK(body["chat_id"] == "-1001234");
      CHECK(body["message_thread_id"] == "7");
      CHECK(body["parse_mode"] == "HTML");
      CHECK(body["disable_web_page_preview"] == "true");
      CHECK(c.body.starts_with("{\"chat_id\":\"-1001234\",\"disable_web_page_preview\":\"true\",\"message_thread_id\""));
      CHECK(body["text"].get<std::string>().find("DiskFull") != std::string::npos);
    } else {
      CHECK(c.path == "/webhookb2/teams-secret");
      CHECK(body["@context"] == "http://schema.org/extensions");
      CHECK(body["type"] == "MessageCard");
      CHECK(body["themeColor"] == "8C1A1A");
      CHECK(body["title"].get<std::string>().starts_with("[FIRING:2] DiskFull"));
    }
  }
}

TEST_CASE("delivery: every integration alertmanager.yml can name is delivered") {
  // Every *_configs kind the configuration reader knows has an integration
  // behind it: none is accepted at load time only to fail at the first page.
  for (const auto& kind : routing::integration_kinds()) CHECK_MESSAGE(can_deliver(kind.name), kind.key);
  // What make_integration says of a type it has no integration for (a
  // configuration built by hand; the reader cannot produce one).
  CHECK_FALSE(can_deliver("carrier-pigeon"));
  routing::IntegrationConfig ic;
  ic.type = "carrier-pigeon";
  ic.settings = config::ConfigValue::map();
  auto made = make_integration(ic, IntegrationOptions{});
  REQUIRE_FALSE(made);
  CHECK(made.error().message == "carrier-pigeon: vigil cannot deliver to this integration yet");
}

TEST_CASE("delivery: a dry run records each request with secrets redacted and sends nothing") {
  TestServer server;
  auto cfg = load(receiver_config(fmt::format(
      "  webhook_configs:\n  - url: '{}'\n    http_config:\n      authorization:\n        credentials: dry-token-1234\n"
      "      http_headers:\n        X-Team:\n          values: [db]\n"
      "  slack_configs:\n  - api_url: '{}'\n    channel: '#ops'\n"
      "  wechat_configs:\n  - api_url: '{}'\n    api_secret: wx-secret-1234\n    corp_id: corp-1\n",
      server.url("/hook"), server.url("/services/T0/B0/slack-secret-path"), server.url("/cgi-bin/"))));
  ManualClock clock(kT0);
  LogCapture logs;
  DryRun dry;
  DeliveryOptions o = options(logs);
  o.dry_run = &dry;
  Delivery d(clock, o);
  for (size_t i = 0; i < 3; ++i) {
    DeliveryOutcome out = deliver_all(d, clock, notification(cfg, "r", i, two_alerts()));
    CHECK_MESSAGE(out.delivered, out.error);
  }
  CHECK(server.count() == 0);
  auto reqs = dry.requests();
  REQUIRE(reqs.size() == 4);  // WeChat asks for its token first
  // Integrations run in the order the configuration reader keeps them:
  // webhook, WeChat, Slack.
  const routing::ReceiverConfig* r = cfg->receiver("r");
  CHECK(reqs[0].integration == &r->integrations[0]);
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].url == "<secret>");  // webhook URLs are credentials, as upstream
  CHECK(reqs[0].headers ==
        std::vector<std::string>{"Content-Type: application/json", "Authorization: Bearer <secret>", "X-Team: db"});
  CHECK(json::parse(reqs[0].body)["groupKey"] == "{}:{alertname=\"DiskFull\"}");
  CHECK(reqs[1].integration == &r->integrations[1]);
  CHECK(reqs[1].method == "GET");
  CHECK(reqs[1].url == server.url("/cgi-bin/gettoken?corpid=corp-1&corpsecret=<secret>"));
  CHECK(reqs[2].url == server.url("/cgi-bin/message/send?access_token=dry-run-token"));
  CHECK(reqs[3].integration == &r->integrations[2]);
  CHECK(reqs[3].url == "<secret>");
  CHECK(json::parse(reqs[3].body)["channel"] == "#ops");
}
