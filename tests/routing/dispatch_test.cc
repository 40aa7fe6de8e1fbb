// Grouping, timers, dedup, inhibition, silences and time intervals through a
// Router whose clock the tests move; no test sleeps.
#include <doctest/doctest.h>

#include <unistd.h>

#include "router_harness.h"
#include "tests/temp_dir.h"

using namespace vigil;
using namespace vigil::routing;
using namespace vigil::routing::testing;
using vigil::testing::TempDir;

namespace {

// A long resolve_timeout: alerts posted once stay firing (Prometheus would
// re-send them); the tests that care re-send or resolve explicitly.
const char* kConfig = R"(global:
  resolve_timeout: 30d
route:
  receiver: team
  group_by: [alertname, cluster]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
receivers:
- name: team
  webhook_configs:
  - url: http://hook.example/
)";

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("dispatch: a group waits, flushes, repeats and resolves") {
  Harness h(kConfig);
  const Labels a{{"alertname", "A"}, {"cluster", "eu"}};
  h.post(a);
  h.advance(29 * kSecond);
  CHECK(h.notifier.take().empty());
  h.advance(kSecond);
  auto sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].reason == NotifyReason::kFirstNotification);
  CHECK(sent[0].firing == Names{"A"});
  CHECK(sent[0].group_key == "{}:{alertname=\"A\", cluster=\"eu\"}");
  CHECK(sent[0].at == kT0 + 30 * kSecond);
  // Prometheus re-sends the firing alert every minute; nothing changes.
  for (int i = 0; i < 66; ++i) {
    h.post(a, kT0);
    h.advance(kMinute);
  }
  // Flushes every 5m, but only the one after the repeat interval notifies.
  sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].reason == NotifyReason::kRepeatIntervalElapsed);
  CHECK(sent[0].at == kT0 + 30 * kSecond + 65 * kMinute);
  h.resolve(a, kT0);
  h.advance(5 * kMinute);
  sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].reason == NotifyReason::kAllAlertsResolved);
  CHECK(sent[0].firing.empty());
  CHECK(sent[0].resolved == Names{"A"});
  // A notified resolved alert leaves the group; the empty group goes.
  CHECK(h.router->group_count() == 0);
  h.advance(2 * kHour);
  CHECK(h.notifier.take().empty());
}

TEST_CASE("dispatch: alerts joining a group wait for the next flush") {
  Harness h(kConfig);
  h.post({{"alertname", "A"}, {"cluster", "eu"}, {"instance", "1"}});
  h.advance(10 * kSecond);
  h.post({{"alertname", "A"}, {"cluster", "eu"}, {"instance", "2"}});  // during group_wait
  h.advance(20 * kSecond);
  auto sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].firing.size() == 2);
  h.advance(2 * kMinute);
  h.post({{"alertname", "A"}, {"cluster", "eu"}, {"instance", "3"}});  // mid-interval
  h.advance(2 * kMinute + 59 * kSecond);
  CHECK(h.notifier.take().empty());
  h.advance(kSecond);  // 5m after the first flush
  sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].reason == NotifyReason::kNewAlertsInGroup);
  CHECK(sent[0].firing.size() == 3);
  // Another group is independent.
  h.post({{"alertname", "A"}, {"cluster", "us"}});
  h.advance(30 * kSecond);
  sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].group_key == "{}:{alertname=\"A\", cluster=\"us\"}");
}

TEST_CASE("dispatch: an alert older than group_wait is sent at once") {
  Harness h(kConfig);
  h.post({{"alertname", "Old"}}, kT0 - kHour);
  auto sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].at == kT0);
}

TEST_CASE("dispatch: send_resolved false records the resolution without sending it") {
  Harness h(R"(route:
  receiver: mail
  group_wait: 30s
  group_interval: 5m
receivers:
- name: mail
  slack_configs:
  - api_url: https://hooks.slack.com/x
)");
  const Labels a{{"alertname", "A"}};
  h.post(a);
  h.advance(30 * kSecond);
  CHECK(h.notifier.take().size() == 1);
  h.resolve(a, kT0);
  h.advance(5 * kMinute);
  CHECK(h.notifier.take().empty());
  CHECK(h.router->group_count() == 0);
  // Firing again is a first notification, not a repeat.
  h.post(a);
  h.advance(30 * kSecond);
  auto sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].reason == NotifyReason::kFirstNotification);
}

TEST_CASE("dispatch: a failed delivery keeps the resolved alerts and is retried") {
  Harness h(kConfig);
  const Labels a{{"alertname", "A"}};
  h.post(a);
  h.advance(30 * kSecond);
  h.notifier.take();
  h.resolve(a, kT0);
  h.notifier.fail = true;
  h.advance(5 * kMinute);
  CHECK(h.notifier.take().size() == 1);
  CHECK(h.router->group_count() == 1);
  h.notifier.fail = false;
  h.advance(5 * kMinute);
  auto sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].resolved == Names{"A"});
  CHECK(h.router->group_count() == 0);
}

TEST_CASE("dispatch: a slow delivery delays the next flush, never overlaps it") {
  Harness h(kConfig);
  h.notifier.defer = true;
  h.post({{"alertname", "A"}});
  h.advance(30 * kSecond);
  REQUIRE(h.notifier.sent.size() == 1);
  h.post({{"alertname", "A"}, {"x", "2"}});
  h.advance(10 * kMinute);  // two intervals pass while the first is in flight
  CHECK(h.notifier.sent.size() == 1);
  auto done = std::move(h.notifier.pending.front());
  h.notifier.pending.clear();
  h.notifier.defer = false;
  done(true);
  h.router->run_due();  // due since long: flushes at once
  CHECK(h.notifier.sent.size() == 2);
  CHECK(h.notifier.sent[1].reason == NotifyReason::kNewAlertsInGroup);
}

TEST_CASE("dispatch: continue routes notify every matching receiver") {
  Harness h(R"(route:
  receiver: default
  group_wait: 1s
  routes:
  - matchers: [severity="critical"]
    receiver: pager
    continue: true
  - matchers: [team="db"]
    receiver: db
receivers:
- name: default
  webhook_configs: [{url: http://d/}]
- name: pager
  webhook_configs: [{url: http://p/}]
  email_configs: [{to: oncall@example.org, smarthost: 'mail:25', from: am@example.org}]
- name: db
  webhook_configs: [{url: http://db/}]
)");
  h.post({{"alertname", "A"}, {"severity", "critical"}, {"team", "db"}});
  h.advance(kSecond);
  auto sent = h.notifier.take();
  REQUIRE(sent.size() == 3);
  std::vector<std::string> got;
  for (const Sent& s : sent) got.push_back(s.receiver + "/" + s.integration);
  std::sort(got.begin(), got.end());
  CHECK(got == Names{"db/webhook", "pager/email", "pager/webhook"});
}

TEST_CASE("inhibition: chains as upstream: a muted source still mutes") {
  Harness h(R"(global:
  resolve_timeout: 30d
route:
  receiver: team
  group_by: ['...']
  group_wait: 10s
  group_interval: 1m
receivers:
- name: team
  webhook_configs: [{url: http://hook/}]
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [cluster]
- source_matchers: [severity="warning"]
  target_matchers: [severity="info"]
  equal: [cluster]
)");
  h.post({{"alertname", "Down"}, {"severity", "critical"}, {"cluster", "a"}});
  h.post({{"alertname", "Slow"}, {"severity", "warning"}, {"cluster", "a"}});
  h.post({{"alertname", "Noisy"}, {"severity", "info"}, {"cluster", "a"}});
  h.post({{"alertname", "Slow"}, {"severity", "warning"}, {"cluster", "b"}});
  h.advance(10 * kSecond);
  auto sent = h.notifier.take();
  Names firing;
  for (const Sent& s : sent) firing.insert(firing.end(), s.firing.begin(), s.firing.end());
  std::sort(firing.begin(), firing.end());
  CHECK(firing == Names{"Down", "Slow"});  // Slow from cluster b only
  // The critical resolves: its warning comes through, the info stays muted.
  h.resolve({{"alertname", "Down"}, {"severity", "critical"}, {"cluster", "a"}}, kT0);
  h.advance(kMinute);
  sent = h.notifier.take();
  firing.clear();
  for (const Sent& s : sent) firing.insert(firing.end(), s.firing.begin(), s.firing.end());
  std::sort(firing.begin(), firing.end());
  CHECK(firing == Names{"Slow"});
  auto status = h.router->status({{"alertname", "Noisy"}, {"severity", "info"}, {"cluster", "a"}});
  CHECK(status.inhibited_by.has_value());
}

TEST_CASE("inhibition: an alert matching both sides does not inhibit itself") {
  InhibitRuleConfig cfg;
  cfg.source = Matchers(*parse_matchers("severity=~\"critical|warning\"", MatcherSyntax::kFallback));
  cfg.target = Matchers(*parse_matchers("severity=~\"warning|critical\"", MatcherSyntax::kFallback));
  cfg.equal = {"alertname"};
  Inhibitor inh({cfg});
  auto a = std::make_shared<Alert>();
  a->labels = Labels{{"alertname", "X"}, {"severity", "critical"}};
  a->starts_at = kT0;
  inh.put(a);
  CHECK_FALSE(inh.mutes(a->labels, kT0));
  // A source only on the source side still inhibits a two-sided target.
  InhibitRuleConfig one = cfg;
  one.source = Matchers(*parse_matchers("severity=\"critical\"", MatcherSyntax::kFallback));
  Inhibitor inh2({one});
  inh2.put(a);
  CHECK(inh2.mutes(Labels{{"alertname", "X"}, {"severity", "warning"}}, kT0));
  CHECK_FALSE(inh2.mutes(Labels{{"alertname", "Y"}, {"severity", "warning"}}, kT0));
  // Resolved sources stop muting and are collected.
  auto resolved = std::make_shared<Alert>(*a);
  resolved->ends_at = kT0 + 1;
  inh2.put(resolved);
  CHECK_FALSE(inh2.mutes(Labels{{"alertname", "X"}, {"severity", "warning"}}, kT0 + 1));
  CHECK(inh2.gc(kT0 + 1) == 1);
  CHECK(inh2.source_count() == 0);
}

TEST_CASE("silences: one added during group_wait mutes the first flush") {
  Harness h(kConfig);
  const Labels a{{"alertname", "A"}, {"cluster", "eu"}};
  h.post(a);
  h.advance(10 * kSecond);
  Silence s;
  s.matchers = {*make_matcher(MatchType::kEqual, "cluster", "eu")};
  s.ends_at = h.clock.now() + kHour;
  auto id = h.router->silences().set(s);
  REQUIRE(id);
  h.advance(20 * kSecond);
  CHECK(h.notifier.take().empty());
  CHECK(h.router->status(a).silenced_by == std::vector<std::string>{*id});
  REQUIRE(h.router->silences().expire(*id));
  h.advance(5 * kMinute);
  auto sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].reason == NotifyReason::kFirstNotification);
}

TEST_CASE("time intervals: applied when a group flushes") {
  // kT0 is a Tuesday, 22:13 UTC.
  Harness h(R"(global:
  resolve_timeout: 30d
time_intervals:
- name: nights
  time_intervals: [{times: [{start_time: '22:00', end_time: '24:00'}]}]
- name: daytime
  time_intervals: [{times: [{start_time: '08:00', end_time: '20:00'}]}]
route:
  receiver: default
  group_wait: 10s
  group_interval: 1h
  routes:
  - matchers: [kind="noisy"]
    receiver: default
    mute_time_intervals: [nights]
  - matchers: [kind="office"]
    receiver: default
    active_time_intervals: [daytime]
receivers:
- name: default
  webhook_configs: [{url: http://hook/}]
)");
  h.post({{"alertname", "N"}, {"kind", "noisy"}});
  h.post({{"alertname", "O"}, {"kind", "office"}});
  h.post({{"alertname", "P"}, {"kind", "other"}});
  h.advance(10 * kSecond);
  auto sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].firing == Names{"P"});
  // 23:13: still night. 00:13: the noisy one is out of its mute interval.
  h.advance(2 * kHour);
  sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].firing == Names{"N"});
  // 08:13 the next morning: the office route is active.
  h.advance(8 * kHour);
  bool office = false;
  for (const Sent& s : h.notifier.take()) office = office || s.firing == Names{"O"};
  CHECK(office);
}

TEST_CASE("restart: between flushes neither duplicates nor loses notifications") {
  TempDir tmp("vigil-restart");
  const std::string dir = tmp.path().string();
  Harness h(kConfig, dir);
  const Labels a{{"alertname", "A"}, {"cluster", "eu"}};
  const Labels b{{"alertname", "B"}, {"cluster", "eu"}};
  h.post(a);
  h.advance(30 * kSecond);
  CHECK(h.notifier.take().size() == 1);  // A notified
  h.post(b);                             // joins A's neighbour group, not yet flushed
  Silence s;
  s.matchers = {*make_matcher(MatchType::kEqual, "alertname", "Muted")};
  s.ends_at = h.clock.now() + kHour;
  REQUIRE(h.router->silences().set(s));
  h.advance(kMinute);
  h.restart();  // both groups lost with the process; the log and silences are not
  // Prometheus re-sends what fires, with the same start times.
  h.post(a, kT0);
  h.post(b, kT0 + 30 * kSecond);
  h.post({{"alertname", "Muted"}});
  h.advance(kMinute);
  auto sent = h.notifier.take();
  REQUIRE(sent.size() == 1);  // B, never notified before the restart; not A again
  CHECK(sent[0].firing == Names{"B"});
  CHECK(h.router->silences().list().size() == 1);
  // And A repeats on schedule, an hour after it was first sent.
  h.advance(kHour);
  bool repeated = false;
  for (const Sent& x : h.notifier.take())
    repeated = repeated || (x.firing == Names{"A"} && x.reason == NotifyReason::kRepeatIntervalElapsed);
  CHECK(repeated);
}

TEST_CASE("restart: alerts come back without a re-send, and inhibition holds from the first flush") {
  TempDir tmp("vigil-restart");
  const std::string dir = tmp.path().string();
  std::string config = std::string(kConfig) + R"(inhibit_rules:
- source_matchers: [alertname="Down"]
  target_matchers: [alertname="Slow"]
  equal: [cluster]
)";
  Harness h(config.c_str(), dir);
  const Labels down{{"alertname", "Down"}, {"cluster", "eu"}};
  const Labels slow{{"alertname", "Slow"}, {"cluster", "eu"}};
  const Labels other{{"alertname", "Other"}, {"cluster", "us"}};
  h.post(down);
  h.post(slow);
  h.advance(30 * kSecond);
  auto sent = h.notifier.take();
  REQUIRE(sent.size() == 1);  // Slow is inhibited
  CHECK(sent[0].firing == Names{"Down"});
  h.post(other);  // received, not yet notified when the process dies
  h.advance(10 * kSecond);
  bool graceful = true;
  SUBCASE("stopped") { graceful = true; }
  SUBCASE("killed") { graceful = false; }
  h.restart(graceful);
  CHECK(h.router->alerts().size() == 3);
  // Nobody re-sends anything: the restored alerts alone drive the groups.
  h.advance(kMinute);
  sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].firing == Names{"Other"});
  CHECK(h.router->status(slow).inhibited_by.has_value());
}

TEST_CASE("restart: an alert whose end passed while down is not resolved before its source can re-send it") {
  TempDir tmp("vigil-restart");
  Harness h(kConfig, tmp.path().string());
  const Labels w{{"alertname", "Watchdog"}, {"cluster", "eu"}};
  // Prometheus sends what fires with an end four resend delays ahead.
  h.post(w, kT0, kT0 + 4 * kMinute);
  h.advance(30 * kSecond);
  REQUIRE(h.notifier.take().size() == 1);
  // Down for 20 minutes: the alert's end passes meanwhile.
  h.clock.advance(20 * kMinute);
  h.restart(false);
  const Millis started = h.clock.now();
  SUBCASE("held, and re-sent meanwhile: nothing to notify") {
    h.router->hold_dispatch_until(started + kMinute);
    CHECK(h.router->next_due() == started + kMinute);
    h.advance(15 * kSecond);
    CHECK(h.notifier.take().empty());
    h.post(w, kT0, h.clock.now() + 4 * kMinute);  // the source's first evaluation after the restart
    h.advance(3 * kMinute);
    CHECK(h.notifier.take().empty());  // neither resolved nor paged again
  }
  SUBCASE("held, and not re-sent: resolved once the hold ends") {
    h.router->hold_dispatch_until(started + kMinute);
    h.advance(2 * kMinute);
    auto sent = h.notifier.take();
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].resolved == Names{"Watchdog"});
    CHECK(sent[0].at == started + kMinute);
  }
  SUBCASE("without a hold the restart pages falsely: resolved, then firing again") {
    h.advance(15 * kSecond);
    h.post(w, kT0, h.clock.now() + 4 * kMinute);
    h.advance(3 * kMinute);
    auto sent = h.notifier.take();
    REQUIRE(sent.size() == 2);
    CHECK(sent[0].resolved == Names{"Watchdog"});
    CHECK(sent[1].firing == Names{"Watchdog"});
  }
}

TEST_CASE("dispatch hold: groups form meanwhile and flush when it ends, and it lasts across reloads") {
  Harness h(kConfig);
  h.router->hold_dispatch_until(kT0 + 2 * kMinute);
  h.post({{"alertname", "A"}, {"cluster", "eu"}});
  h.router->reload(config_of(kConfig));
  h.advance(kMinute);
  CHECK(h.router->group_count() == 1);
  CHECK(h.router->run_due() == 0);
  CHECK(h.notifier.take().empty());
  h.advance(kMinute);
  auto sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].at == kT0 + 2 * kMinute);
}

TEST_CASE("restart: a damaged notification log is set aside; the router starts with an empty one") {
  TempDir tmp("vigil-restart");
  const std::string dir = tmp.path().string();
  tmp.write("nflog.json", "{\"version\":1,\"entries\":[{\"group_key\"");
  Harness h(kConfig);
  Router router(h.config, h.clock, h.notifier, Router::Options{dir});
  auto restored = router.restore();
  REQUIRE(restored.damage.size() == 1);
  CHECK(restored.damage[0].file == dir + "/nflog.json");
  CHECK(restored.damage[0].what.find("the notification log starts empty") != std::string::npos);
  CHECK(restored.damage[0].moved_to.find("nflog.json.damaged-") != std::string::npos);
  CHECK(::access(restored.damage[0].moved_to.c_str(), F_OK) == 0);
  CHECK(::access((dir + "/nflog.json").c_str(), F_OK) != 0);
  CHECK(router.nflog().size() == 0);
}

TEST_CASE("save_changed writes only what changed") {
  TempDir tmp("vigil-save");
  const std::string dir = tmp.path().string();
  Harness h(kConfig, dir);
  Router::SavedVersions saved;
  REQUIRE(h.router->save_changed(saved));
  const std::string nflog = dir + "/nflog.json";
  CHECK(::access(nflog.c_str(), F_OK) == 0);
  ::unlink(nflog.c_str());
  REQUIRE(h.router->save_changed(saved));
  CHECK(::access(nflog.c_str(), F_OK) != 0);  // unchanged: not written again
  h.post({{"alertname", "A"}, {"cluster", "eu"}});
  h.advance(30 * kSecond);  // notified: the log moved
  REQUIRE(h.router->save_changed(saved));
  CHECK(::access(nflog.c_str(), F_OK) == 0);
}

TEST_CASE("dispatch: a clock that jumps does not crash or flood") {
  Harness h(kConfig);
  h.post({{"alertname", "A"}});
  h.clock.set(kT0 - kDay);  // backwards
  CHECK(h.router->run_due() == 0);
  h.clock.set(kT0 + kDay);  // far forwards: one flush, not hundreds
  CHECK(h.router->run_due() == 1);
  CHECK(h.router->run_due() == 0);
  CHECK(h.notifier.take().size() == 1);
  h.clock.set(kT0);
  h.post({{"alertname", "A"}, {"more", "1"}});
  h.advance(kHour);
  CHECK(h.router->group_count() >= 1);
}

TEST_CASE("router: a reload rebuilds groups without notifying twice") {
  Harness h(kConfig);
  h.post({{"alertname", "A"}, {"cluster", "eu"}});
  h.advance(30 * kSecond);
  CHECK(h.notifier.take().size() == 1);
  h.router->reload(config_of(kConfig));
  CHECK(h.router->group_count() == 1);
  h.advance(10 * kMinute);
  CHECK(h.notifier.take().empty());
  // Another receiver for the same groups has no log entry yet: notified.
  std::string other = kConfig;
  other.replace(other.find("receiver: team"), 14, "receiver: ops");
  other += "- name: ops\n  webhook_configs: [{url: http://ops/}]\n";
  h.router->reload(config_of(other));
  h.advance(kSecond);
  auto sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].receiver == "ops");
}

TEST_CASE("router: invalid alerts are refused, valid ones taken") {
  Harness h(kConfig);
  Alert good;
  good.labels = Labels{{"alertname", "A"}};
  Alert no_labels;
  Alert backwards;
  backwards.labels = Labels{{"alertname", "B"}};
  backwards.starts_at = kT0;
  backwards.ends_at = kT0 - 1;
  auto put = h.router->put_alerts({good, no_labels, backwards});
  CHECK_FALSE(put.storage);
  const auto& errors = put.invalid;
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].message == "at least one label pair required");
  CHECK(errors[1].message == "start time must be before end time");
  CHECK(h.router->alerts().size() == 1);
}

TEST_CASE("receiver data: carried from one notification of a group to the next, across restarts, "
          "and dropped when the group fires again after its resolution") {
  TempDir tmp("vigil-receiver-data");
  Harness h(kConfig, tmp.path().string());
  int posted = 0;
  // As Slack with update_message: a message's ts is kept when first posted.
  h.notifier.keep = [&posted](const Notification&, ReceiverStore& store) {
    if (store.get("threadTs").empty()) store.set("threadTs", "ts-" + std::to_string(++posted));
  };
  const Labels a{{"alertname", "A"}, {"cluster", "eu"}};
  const Labels a2{{"alertname", "A"}, {"cluster", "eu"}, {"instance", "2"}};
  h.post(a);
  h.advance(30 * kSecond);
  auto sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].data.empty());
  h.post(a, kT0);
  h.post(a2);
  h.advance(5 * kMinute);
  sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].reason == NotifyReason::kNewAlertsInGroup);
  CHECK(sent[0].data == ReceiverData{{"threadTs", "ts-1"}});

  for (bool graceful : {true, false}) {
    CAPTURE(graceful);
    h.restart(graceful);
    h.post(a, kT0);
    h.post(a2, kT0 + 30 * kSecond);
    h.advance(kHour + 5 * kMinute);
    sent = h.notifier.take();
    REQUIRE_FALSE(sent.empty());
    CHECK(sent.back().reason == NotifyReason::kRepeatIntervalElapsed);
    CHECK(sent.back().data == ReceiverData{{"threadTs", "ts-1"}});
  }

  // The resolution still updates the same message...
  h.resolve(a, kT0);
  h.resolve(a2, kT0);
  h.advance(5 * kMinute);
  sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].reason == NotifyReason::kAllAlertsResolved);
  CHECK(sent[0].data == ReceiverData{{"threadTs", "ts-1"}});
  // ...and firing again starts anew.
  h.post(a);
  h.advance(30 * kSecond);
  sent = h.notifier.take();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].reason == NotifyReason::kFirstNotification);
  CHECK(sent[0].data.empty());
  h.advance(kHour + 5 * kMinute);
  sent = h.notifier.take();
  REQUIRE_FALSE(sent.empty());
  CHECK(sent.back().data == ReceiverData{{"threadTs", "ts-2"}});
}
