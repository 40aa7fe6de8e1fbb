// The event recorder's events: each type encoded as upstream's protojson
// encodes eventrecorderpb.Event, and the routing pipeline telling of them
// where upstream records them.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "model/xxhash.h"
#include "routing/events.h"
#include "routing/inhibit.h"
#include "routing/matchers.h"
#include "routing/silence.h"
#include "tests/routing/router_harness.h"

using namespace vigil;
using namespace vigil::routing;
using routing::testing::kT0;

namespace {

Alert test_alert() {
  Alert a;
  a.labels = Labels{{"alertname", "HighLatency"}, {"job", "api"}};
  a.annotations = Labels{{"summary", "p99 \"over\" 1s"}};
  a.starts_at = kT0;
  a.ends_at = kT0 + 5 * kMinute;
  a.updated_at = kT0;
  return a;
}

std::string envelope(const EventData& e) { return encode_envelope(e, kT0 + 250, "am-1"); }

// The alert message of test_alert(), as a prefix up to its end time.
const std::string kAlertBody =
    R"("fingerprint":"1460320528884713349","name":"HighLatency","labels":{"labels":[{"key":"alertname","value":"HighLatency"},{"key":"job","value":"api"}]},"annotations":{"labels":[{"key":"summary","value":"p99 \"over\" 1s"}]},"startsAt":"2023-11-14T22:13:20Z")";

Silence test_silence() {
  Silence s;
  s.id = "9c2d0ac8-55cb-4f8b-8a33-6b3f4d0a7f10";
  s.matchers = {*make_matcher(MatchType::kEqual, "job", "api"), *make_matcher(MatchType::kRegex, "env", "prod|stage")};
  s.starts_at = kT0;
  s.ends_at = kT0 + kHour;
  s.updated_at = kT0 + 1;
  s.created_by = "ops";
  s.comment = "deploy";
  s.annotations = {{"ticket", "OPS-1"}};
  return s;
}

const std::string kSilenceBody =
    R"("silence":{"id":"9c2d0ac8-55cb-4f8b-8a33-6b3f4d0a7f10","matchers":[{"type":"TYPE_EQUAL","name":"job","pattern":"api","rendered":"job=\"api\""},{"type":"TYPE_REGEXP","name":"env","pattern":"prod|stage","rendered":"env=~\"prod|stage\""}],"startsAt":"2023-11-14T22:13:20Z","endsAt":"2023-11-14T23:13:20Z","updatedAt":"2023-11-14T22:13:20.001Z","createdBy":"ops","comment":"deploy","matcherSets":[{"matchers":[{"type":"TYPE_EQUAL","name":"job","pattern":"api","rendered":"job=\"api\""},{"type":"TYPE_REGEXP","name":"env","pattern":"prod|stage","rendered":"env=~\"prod|stage\""}]}]})";

}  // namespace

TEST_CASE("events: XXH64 and the alert hash match the reference values") {
  CHECK(xxhash64("") == 0xEF46DB3751D8E999ULL);
  CHECK(xxhash64("abc") == 0x44BC2CF5AD770999ULL);
  CHECK(xxhash64("Nobody inspects the spammish repetition") == 0xFBCEA83C8A378BF1ULL);
  // name 0xff value 0xff, sorted by name.
  CHECK(alert_hash(Labels{{"b", "2"}, {"a", "1"}}) == xxhash64("a\xff" "1\xff" "b\xff" "2\xff"));
  CHECK(group_id("route-key:{job=\"api\"}") == "17fcc10bf7afa1a2accf0d5d72ce3ee0333c202b4a0e87771d7fbb84c6dad07a");
}

TEST_CASE("events: timestamps as protojson writes them") {
  CHECK(proto_timestamp(kT0) == "2023-11-14T22:13:20Z");
  CHECK(proto_timestamp(kT0 + 5) == "2023-11-14T22:13:20.005Z");
  CHECK(proto_timestamp(kT0 + 120) == "2023-11-14T22:13:20.120Z");
  CHECK(proto_timestamp(0) == "0001-01-01T00:00:00Z");  // Go's zero time
}

TEST_CASE("events: startup and shutdown") {
  CHECK(envelope(startup_event("0.1.0", "commit=abc date=2026-01-01")) ==
        R"({"@timestamp":"2023-11-14T22:13:20.250Z","instance":"am-1","data":{"alertmanagerStartupEvent":{"version":"0.1.0","buildContext":"commit=abc date=2026-01-01"}}})");
  CHECK(envelope(shutdown_event()) ==
        R"({"@timestamp":"2023-11-14T22:13:20.250Z","instance":"am-1","data":{"alertmanagerShutdownEvent":{}}})");
  CHECK(encode_envelope(shutdown_event(), kT0, "") == R"({"@timestamp":"2023-11-14T22:13:20Z","data":{"alertmanagerShutdownEvent":{}}})");
  // A replica's place in its cluster, after the data (field 4), when not 0.
  CHECK(encode_envelope(shutdown_event(), kT0, "am-2", 1) ==
        R"({"@timestamp":"2023-11-14T22:13:20Z","instance":"am-2","data":{"alertmanagerShutdownEvent":{}},"clusterPosition":1})");
  CHECK(event_type_name(EventType::kStartup) == "alertmanager_startup_event");
  CHECK(event_type_name(EventType::kInhibitionMutedAlert) == "inhibition_muted_alert");
}

TEST_CASE("events: alert created, grouped and resolved") {
  const Alert a = test_alert();
  CHECK(envelope(alert_created_event(a, kT0)) ==
        R"({"@timestamp":"2023-11-14T22:13:20.250Z","instance":"am-1","data":{"alertCreated":{"alert":{)" +
            kAlertBody + R"(,"endsAt":"2023-11-14T22:18:20Z"}}}})");
  const Labels group_labels{{"job", "api"}};
  const EventGroup g{"{}:{job=\"api\"}", &group_labels, "ops", nullptr, {}};
  const std::string hash = std::to_string(alert_hash(a.labels));
  const std::string info =
      R"("groupInfo":{"groupKey":"{}:{job=\"api\"}","groupLabels":{"labels":[{"key":"job","value":"api"}]},"groupId":")" +
      group_id("{}:{job=\"api\"}") + R"(","receiverName":"ops"})";
  CHECK(alert_grouped_event(a, g, kT0).json ==
        R"({"alertGrouped":{"alert":{"hash":")" + hash + R"(","details":{)" + kAlertBody +
            R"(,"endsAt":"2023-11-14T22:18:20Z"}},)" + info + "}}");
  // Resolved: the end has passed.
  CHECK(alert_resolved_event(a, g, kT0 + 5 * kMinute).json ==
        R"({"alertResolved":{"alert":{"hash":")" + hash + R"(","details":{)" + kAlertBody +
            R"(,"endsAt":"2023-11-14T22:18:20Z","resolved":true}},)" + info + "}}");
  CHECK(hash == "10920912707575670227");
}

TEST_CASE("events: a notification") {
  const auto firing = std::make_shared<const Alert>(test_alert());
  Alert r = test_alert();
  r.labels = Labels{{"alertname", "Down"}};
  r.annotations = Labels();
  r.ends_at = kT0 + kMinute;
  const auto resolved = std::make_shared<const Alert>(r);
  Alert m = test_alert();
  m.labels = Labels{{"alertname", "Quiet"}};
  const auto muted = std::make_shared<const Alert>(m);

  const std::vector<FlushedAlert> sent{{firing, false}, {resolved, true}};
  const std::vector<FlushedAlert> firing_list{{firing, false}}, resolved_list{{resolved, true}}, muted_list{{muted, false}};
  const Labels group_labels;
  const std::vector<Matcher> route_matchers{*make_matcher(MatchType::kNotEqual, "team", "db")};
  NotificationEventInfo n;
  n.sent = &sent;
  n.firing = &firing_list;
  n.resolved = &resolved_list;
  n.muted = &muted_list;
  n.group = EventGroup{"{}/{team!=\"db\"}:{}", &group_labels, "ops", &route_matchers, "0f4b7c2e-1d7a-4e2b-9c55-3a1e2d4c5b6a"};
  n.repeat_interval = 4 * kHour;
  n.reason = NotifyReason::kNewResolvedAlerts;
  n.flush_id = 7;
  n.integration = "webhook";
  n.integration_index = 1;
  n.now = kT0 + 2 * kMinute;
  const std::string h1 = std::to_string(alert_hash(firing->labels)), h2 = std::to_string(alert_hash(resolved->labels)),
                    h3 = std::to_string(alert_hash(muted->labels));
  // A firing alert shows no end (Go's zero time), as sent to the receiver.
  CHECK(notification_event(n).json ==
        R"({"notification":{"alerts":[{"hash":")" + h1 + R"(","details":{)" + kAlertBody +
            R"(,"endsAt":"0001-01-01T00:00:00Z"}},{"hash":")" + h2 +
            R"(","details":{"fingerprint":"7695804301864773908","name":"Down","labels":{"labels":[{"key":"alertname","value":"Down"}]},"annotations":{},"startsAt":"2023-11-14T22:13:20Z","endsAt":"2023-11-14T22:14:20Z","resolved":true}}],"firingAlerts":[{"hash":")" +
            h1 + R"("}],"resolvedAlerts":[{"hash":")" + h2 + R"("}],"mutedAlerts":[{"hash":")" + h3 +
            R"("}],"groupInfo":{"groupKey":"{}/{team!=\"db\"}:{}","groupLabels":{},"groupId":")" +
            group_id("{}/{team!=\"db\"}:{}") +
            R"(","receiverName":"ops","matchers":[{"type":"TYPE_NOT_EQUAL","name":"team","pattern":"db","rendered":"team!=\"db\""}],"groupUuid":"0f4b7c2e-1d7a-4e2b-9c55-3a1e2d4c5b6a"},"repeatInterval":"14400s","reason":"NOTIFY_REASON_NEW_RESOLVED_ALERTS","flushId":"7","integration":{"name":"webhook","index":"1"}}})");

  // Index 0 and empty lists are left out, as protojson leaves out zero values.
  const std::vector<FlushedAlert> none;
  n.firing = n.resolved = n.muted = &none;
  n.sent = &firing_list;
  n.integration_index = 0;
  n.repeat_interval = 1500;
  n.reason = NotifyReason::kFirstNotification;
  const std::string json = notification_event(n).json;
  CHECK(json.find("firingAlerts") == std::string::npos);
  CHECK(json.find("mutedAlerts") == std::string::npos);
  CHECK(json.find(R"("repeatInterval":"1.500s","reason":"NOTIFY_REASON_FIRST_NOTIFICATION")") != std::string::npos);
  CHECK(json.ends_with(R"("integration":{"name":"webhook"}}})"));
}

TEST_CASE("events: silences created, updated and muting an alert") {
  const Silence s = test_silence();
  CHECK(envelope(silence_created_event(s)) ==
        R"({"@timestamp":"2023-11-14T22:13:20.250Z","instance":"am-1","data":{"silenceCreated":{)" + kSilenceBody + "}}}");
  CHECK(silence_updated_event(s).json == R"({"silenceUpdated":{)" + kSilenceBody + "}}");
  const Labels muted{{"env", "prod"}, {"job", "api"}};
  CHECK(silence_muted_alert_event(s, muted).json ==
        R"({"silenceMutedAlert":{)" + kSilenceBody +
            R"(,"mutedAlert":{"labels":{"labels":[{"key":"env","value":"prod"},{"key":"job","value":"api"}]},"fingerprint":")" +
            std::to_string(muted.fingerprint()) + R"("}}})");
}

TEST_CASE("events: an inhibition muting an alert") {
  auto cfg = routing::testing::config_of(R"(
route: {receiver: ops}
receivers: [{name: ops}]
inhibit_rules:
- name: critical-mutes-warning
  source_matchers: [severity="critical"]
  target_match: {severity: warning}
  equal: [job, cluster]
)");
  const InhibitRule rule(cfg->inhibit_rules[0]);
  const Labels target{{"job", "api"}, {"severity", "warning"}};
  CHECK(inhibition_muted_alert_event(rule, target, 42).json ==
        R"({"inhibitionMutedAlert":{"inhibitRules":[{"sourceMatchers":[{"type":"TYPE_EQUAL","name":"severity","pattern":"critical","rendered":"severity=\"critical\""}],"targetMatchers":[{"type":"TYPE_EQUAL","name":"severity","pattern":"warning","rendered":"severity=\"warning\""}],"equalLabels":["cluster","job"],"name":"critical-mutes-warning"}],"mutedAlert":{"labels":{"labels":[{"key":"job","value":"api"},{"key":"severity","value":"warning"}]},"fingerprint":")" +
            std::to_string(target.fingerprint()) + R"("},"inhibitingFingerprints":["42"]}})");
}

TEST_CASE("events: strings are escaped as protojson escapes them; invalid UTF-8 marks the event") {
  Alert a = test_alert();
  a.annotations = Labels{{"d", "tab\there\x01<&>\xc3\xa9"}};
  const EventData e = alert_created_event(a, kT0);
  CHECK(e.valid);
  CHECK(e.json.find(R"({"key":"d","value":"tab\there\u0001<&>é"})") != std::string::npos);
  a.annotations = Labels{{"d", "bad\xff"}};
  CHECK_FALSE(alert_created_event(a, kT0).valid);
}

namespace {

// Collects what the pipeline records, decoded.
class CollectingSink : public EventSink {
 public:
  bool enabled() const override { return on; }
  void record(EventData e) override {
    std::lock_guard lock(mu);
    REQUIRE(e.valid);
    events.emplace_back(e.type, nlohmann::json::parse(e.json).begin().value());
  }
  std::vector<std::pair<EventType, nlohmann::json>> take() {
    std::lock_guard lock(mu);
    return std::exchange(events, {});
  }
  std::vector<EventType> types() {
    std::vector<EventType> out;
    for (const auto& [t, j] : take()) out.push_back(t);
    return out;
  }
  bool on = true;
  std::mutex mu;
  std::vector<std::pair<EventType, nlohmann::json>> events;
};

}  // namespace

TEST_CASE("events: the pipeline records alerts created, grouped, notified and resolved") {
  ManualClock clock(kT0);
  routing::testing::RecordingNotifier notifier;
  CollectingSink sink;
  auto config = routing::testing::config_of(R"(
route: {receiver: ops, group_by: [job], group_wait: 10s, group_interval: 1m}
receivers:
- name: ops
  webhook_configs: [{url: "http://127.0.0.1:1/", send_resolved: true}]
)");
  Router::Options opts;
  opts.events = &sink;
  Router router(config, clock, notifier, opts);
  Alert a;
  a.labels = Labels{{"alertname", "Down"}, {"job", "api"}};
  router.put_alerts({a});
  auto events = sink.take();
  REQUIRE(events.size() == 2);
  CHECK(events[0].first == EventType::kAlertCreated);
  CHECK(events[0].second["alert"]["name"] == "Down");
  CHECK(events[1].first == EventType::kAlertGrouped);
  CHECK(events[1].second["groupInfo"]["groupKey"] == "{}:{job=\"api\"}");
  CHECK(events[1].second["groupInfo"]["receiverName"] == "ops");
  CHECK(events[1].second["alert"]["hash"] == std::to_string(alert_hash(a.labels)));

  // Sent again: not created again, grouped again (as upstream's insert).
  router.put_alerts({a});
  CHECK(sink.types() == std::vector<EventType>{EventType::kAlertGrouped});

  clock.advance(10 * kSecond);
  router.run_due();
  events = sink.take();
  REQUIRE(events.size() == 1);
  CHECK(events[0].first == EventType::kNotification);
  const auto& n = events[0].second;
  CHECK(n["reason"] == "NOTIFY_REASON_FIRST_NOTIFICATION");
  CHECK(n["flushId"] == "1");
  CHECK(n["integration"] == nlohmann::json{{"name", "webhook"}});
  CHECK(n["alerts"].size() == 1);
  CHECK(n["firingAlerts"].size() == 1);
  CHECK(n["groupInfo"]["groupUuid"].get<std::string>().size() == 36);
  CHECK(n["repeatInterval"] == "14400s");

  // Resolved: notified, then the alert leaves its group.
  a.ends_at = clock.now();
  router.put_alerts({a});
  CHECK(sink.types() == std::vector<EventType>{EventType::kAlertGrouped});
  clock.advance(kMinute);
  router.run_due();
  events = sink.take();
  REQUIRE(events.size() == 2);
  CHECK(events[0].first == EventType::kNotification);
  CHECK(events[0].second["resolvedAlerts"].size() == 1);
  CHECK(events[1].first == EventType::kAlertResolved);
  CHECK(events[1].second["alert"]["details"]["resolved"] == true);

  // A failed delivery is not an event.
  notifier.fail = true;
  Alert b;
  b.labels = Labels{{"alertname", "Other"}, {"job", "db"}};
  router.put_alerts({b});
  sink.take();
  clock.advance(10 * kSecond);
  router.run_due();
  CHECK(sink.types().empty());

  // Nothing is built while the sink is off.
  sink.on = false;
  b.labels = Labels{{"alertname", "Third"}, {"job", "x"}};
  router.put_alerts({b});
  CHECK(sink.take().empty());
}

TEST_CASE("events: silences created and updated, and alerts muted at a flush") {
  ManualClock clock(kT0);
  routing::testing::RecordingNotifier notifier;
  CollectingSink sink;
  auto config = routing::testing::config_of(R"(
route: {receiver: ops, group_by: [alertname], group_wait: 0s}
receivers:
- name: ops
  webhook_configs: [{url: "http://127.0.0.1:1/"}]
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [job]
)");
  Router::Options opts;
  opts.events = &sink;
  Router router(config, clock, notifier, opts);
  Silence s;
  s.matchers = {*make_matcher(MatchType::kEqual, "alertname", "Silenced")};
  s.ends_at = kT0 + kHour;
  s.created_by = "me";
  s.comment = "first";
  auto id = router.silences().set(s);
  REQUIRE(id);
  auto events = sink.take();
  REQUIRE(events.size() == 1);
  CHECK(events[0].first == EventType::kSilenceCreated);
  CHECK(events[0].second["silence"]["id"] == *id);
  CHECK(events[0].second["silence"]["comment"] == "first");
  s.id = *id;
  s.comment = "second";
  s.starts_at = router.silences().get(*id)->starts_at;
  REQUIRE(router.silences().set(s) == *id);
  events = sink.take();
  REQUIRE(events.size() == 1);
  CHECK(events[0].first == EventType::kSilenceUpdated);
  CHECK(events[0].second["silence"]["comment"] == "second");

  Alert silenced, source, target;
  silenced.labels = Labels{{"alertname", "Silenced"}};
  source.labels = Labels{{"alertname", "Src"}, {"job", "a"}, {"severity", "critical"}};
  target.labels = Labels{{"alertname", "Tgt"}, {"job", "a"}, {"severity", "warning"}};
  router.put_alerts({silenced, source, target});
  sink.take();
  router.run_due();
  events = sink.take();
  std::map<EventType, nlohmann::json> by_type;
  for (auto& [t, j] : events) by_type[t] = j;
  REQUIRE(by_type.contains(EventType::kSilenceMutedAlert));
  CHECK(by_type[EventType::kSilenceMutedAlert]["silence"]["id"] == *id);
  CHECK(by_type[EventType::kSilenceMutedAlert]["mutedAlert"]["fingerprint"] == std::to_string(silenced.labels.fingerprint()));
  REQUIRE(by_type.contains(EventType::kInhibitionMutedAlert));
  CHECK(by_type[EventType::kInhibitionMutedAlert]["inhibitingFingerprints"] ==
        nlohmann::json::array({std::to_string(source.labels.fingerprint())}));
  CHECK(by_type[EventType::kInhibitionMutedAlert]["inhibitRules"][0]["equalLabels"] == nlohmann::json::array({"job"}));
  // The source's own notification is the one delivered.
  REQUIRE(by_type.contains(EventType::kNotification));
  // The API's status queries are not muting passes: no events.
  (void)router.status(target.labels);
  CHECK(sink.take().empty());
}
