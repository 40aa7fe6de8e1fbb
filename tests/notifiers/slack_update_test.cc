// Slack update_message: the first notification of a group posts, later ones
// update that message, through the notification log and across a restart.
#include <doctest/doctest.h>

#include <future>

#include <fmt/format.h>

#include "notifiers/delivery.h"
#include "routing/nflog.h"
#include "routing/notify.h"
#include "routing/route.h"
#include "tests/notifiers/test_server.h"
#include "tests/temp_dir.h"

using namespace vigil;
using namespace vigil::notifiers;
using namespace vigil::notifiers::testing;

namespace {

// Slack's answer to chat.postMessage and chat.update.
constexpr const char* kPosted = R"({"ok":true,"channel":"C024BE91L","ts":"1700000000.000100","message":{}})";

void answer_json(httplib::Response& res, const char* body) { res.set_content(body, "application/json; charset=utf-8"); }

// A Slack receiver with update_message. As upstream, the loader accepts it
// only with Slack's own chat.postMessage URL; the tests then point that URL
// at their server.
std::shared_ptr<const routing::Config> slack_config(const TestServer& server, bool update_message = true) {
  routing::LoadResult r = routing::parse_config(receiver_config(fmt::format(
      "  slack_configs:\n  - api_url: https://slack.com/api/chat.postMessage\n    channel: '#alerts'\n"
      "    send_resolved: true\n    update_message: {}\n"
      "    http_config: {{authorization: {{credentials: xoxb-bot-token}}}}\n",
      update_message)));
  for (const auto& e : r.errors) MESSAGE("config error: ", e.message, " at line ", e.line);
  REQUIRE(r.ok());
  r.config.receivers.at(0).integrations.at(0).settings.set(
      "api_url", config::ConfigValue::string(server.url("/api/chat.postMessage")));
  return std::make_shared<routing::Config>(std::move(r.config));
}

}  // namespace

TEST_CASE("slack update_message: the first notification posts, the next updates that message") {
  TestServer server([](const Captured&, httplib::Response& res) { answer_json(res, kPosted); });
  auto cfg = slack_config(server);
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));

  auto first = notification(cfg, "r", 0, two_alerts());
  REQUIRE(deliver_all(d, clock, first).delivered);
  CHECK(first.store->data() ==
        routing::ReceiverData{{"channelId", "C024BE91L"}, {"threadTs", "1700000000.000100"}});

  // The group's next notification starts from what the first kept.
  auto next = notification(cfg, "r", 0, two_alerts(true));
  next.store = std::make_shared<routing::ReceiverStore>(first.store->data());
  REQUIRE(deliver_all(d, clock, next).delivered);

  auto reqs = server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].path == "/api/chat.postMessage");
  json posted = reqs[0].body_json();
  CHECK(posted["channel"] == "#alerts");
  CHECK_FALSE(posted.contains("ts"));
  CHECK(reqs[1].path == "/api/chat.update");
  CHECK(reqs[1].header("Authorization") == "Bearer xoxb-bot-token");
  json updated = reqs[1].body_json();
  // The channel is the ID Slack answered with, not the configured name.
  CHECK(updated["channel"] == "C024BE91L");
  CHECK(updated["ts"] == "1700000000.000100");
  CHECK(updated["attachments"][0]["title"] == "[FIRING:1] DiskFull (critical)");
  // Upstream's key order: ts right after the channel.
  CHECK(reqs[1].body.find(R"({"channel":"C024BE91L","ts":"1700000000.000100",)") == 0);
}

TEST_CASE("slack update_message: an answer without ts keeps nothing; without the setting, always a new post") {
  SUBCASE("no ts in the answer") {
    TestServer server([](const Captured&, httplib::Response& res) { answer_json(res, R"({"ok":true})"); });
    auto cfg = slack_config(server);
    ManualClock clock(kT0);
    LogCapture logs;
    Delivery d(clock, options(logs));
    auto n = notification(cfg, "r", 0, two_alerts());
    REQUIRE(deliver_all(d, clock, n).delivered);
    CHECK(n.store->data().empty());
  }
  SUBCASE("update_message off") {
    TestServer server([](const Captured&, httplib::Response& res) { answer_json(res, kPosted); });
    auto cfg = slack_config(server, false);
    ManualClock clock(kT0);
    LogCapture logs;
    Delivery d(clock, options(logs));
    auto n = notification(cfg, "r", 0, two_alerts());
    n.store->set("threadTs", "1.2");
    n.store->set("channelId", "C1");
    REQUIRE(deliver_all(d, clock, n).delivered);
    REQUIRE(server.count() == 1);
    CHECK(server.requests()[0].path == "/api/chat.postMessage");
    CHECK_FALSE(server.requests()[0].body_json().contains("ts"));
    CHECK(n.store->data() == routing::ReceiverData{{"channelId", "C1"}, {"threadTs", "1.2"}});
  }
}

TEST_CASE("slack update_message: ok:false from chat.update fails the notification, not retried, ts kept") {
  TestServer server([](const Captured&, httplib::Response& res) {
    answer_json(res, R"({"ok":false,"error":"message_not_found"})");
  });
  auto cfg = slack_config(server);
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  auto n = notification(cfg, "r", 0, two_alerts());
  n.store->set("threadTs", "1700000000.000100");
  n.store->set("channelId", "C024BE91L");
  DeliveryOutcome o = deliver_all(d, clock, n);
  CHECK_FALSE(o.delivered);
  CHECK(o.attempts == 1);
  CHECK(o.reason == FailureReason::kClientError);
  CHECK(o.error.find("channel \"C024BE91L\": error response from Slack: message_not_found") != std::string::npos);
  CHECK(server.requests().at(0).path == "/api/chat.update");
  CHECK(n.store->get("threadTs") == "1700000000.000100");
}

TEST_CASE("slack update_message: answers that are no JSON object are retried as Go's decoder fails them") {
  TestServer server([](const Captured&, httplib::Response& res) { answer_json(res, R"(["ok"])"); });
  auto cfg = slack_config(server);
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  auto n = notification(cfg, "r", 0, two_alerts(), kT0, kT0 + 2 * kSecond);
  DeliveryOutcome o = deliver_all(d, clock, n);
  CHECK_FALSE(o.delivered);
  CHECK(o.attempts > 1);
  CHECK(o.error.find("could not unmarshal JSON response") != std::string::npos);
}

namespace {

// Flushes the group of `alerts` through a notify pipeline with `nflog` and
// waits for the outcome.
bool flush(const std::shared_ptr<const routing::Config>& cfg, routing::NotificationLog& nflog, Delivery& d,
           std::vector<std::shared_ptr<const routing::Alert>> alerts, Millis now) {
  auto route = routing::Route::build(cfg->route);
  routing::NotifyPipeline pipeline({cfg, nullptr, nullptr, &nflog, &d, nullptr});
  routing::GroupFlush f;
  f.route = route.get();
  f.group_labels = Labels({{"alertname", "DiskFull"}});
  f.group_key = routing::group_key(*route, f.group_labels);
  f.flush_id = 1;
  f.now = now;
  for (auto& a : alerts) f.alerts.push_back(routing::FlushedAlert{a, a->resolved_at(now)});
  std::promise<bool> done;
  pipeline.flush(f, [&done](bool ok) { done.set_value(ok); });
  return done.get_future().get();
}

}  // namespace

TEST_CASE("slack update_message: the message's ts lives in the notification log and survives a restart") {
  TestServer server([](const Captured&, httplib::Response& res) { answer_json(res, kPosted); });
  auto cfg = slack_config(server);
  vigil::testing::TempDir tmp("vigil-slack-update");
  const std::string path = (tmp.path() / "nflog.json").string();
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  {
    routing::NotificationLog nflog(clock);
    REQUIRE(flush(cfg, nflog, d, {two_alerts()[0]}, clock.now()));
    REQUIRE(nflog.save(path));
  }
  clock.advance(5 * kMinute);
  routing::NotificationLog restarted(clock);
  REQUIRE(restarted.load(path));
  REQUIRE(flush(cfg, restarted, d, two_alerts(), clock.now()));  // a new alert joined the group
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].path == "/api/chat.postMessage");
  CHECK(reqs[1].path == "/api/chat.update");
  CHECK(reqs[1].body_json()["ts"] == "1700000000.000100");
  CHECK(reqs[1].body_json()["attachments"][0]["title"] == "[FIRING:2] DiskFull (critical)");
}
