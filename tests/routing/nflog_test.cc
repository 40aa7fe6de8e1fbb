#include <doctest/doctest.h>

#include "model/clock.h"
#include "routing/nflog.h"

using namespace vigil;
using namespace vigil::routing;

namespace {

NflogEntry entry(std::vector<uint64_t> firing, std::vector<uint64_t> resolved, Millis ts) {
  return NflogEntry{"g", {"r", "webhook", 0}, ts, std::move(firing), std::move(resolved), 0, {}};
}

using Set = std::unordered_set<uint64_t>;

}  // namespace

// Upstream's DedupStage cases.
TEST_CASE("nflog: whether a flush must notify") {
  const Millis now = 10 * kHour, repeat = kHour;
  CHECK(needs_update(nullptr, Set{1}, {}, true, repeat, now) == NotifyReason::kFirstNotification);
  CHECK(needs_update(nullptr, {}, Set{1}, true, repeat, now) == NotifyReason::kNone);
  auto e = entry({1, 2}, {}, now - kMinute);
  CHECK(needs_update(&e, Set{1, 2, 3}, {}, true, repeat, now) == NotifyReason::kNewAlertsInGroup);
  CHECK(needs_update(&e, Set{1}, Set{2}, true, repeat, now) == NotifyReason::kNewResolvedAlerts);
  CHECK(needs_update(&e, Set{1}, Set{2}, false, repeat, now) == NotifyReason::kNone);
  CHECK(needs_update(&e, {}, Set{1, 2}, false, repeat, now) == NotifyReason::kAllAlertsResolved);
  CHECK(needs_update(&e, Set{1, 2}, {}, true, repeat, now) == NotifyReason::kNone);
  auto old = entry({1, 2}, {}, now - repeat - 1);
  CHECK(needs_update(&old, Set{1, 2}, {}, true, repeat, now) == NotifyReason::kRepeatIntervalElapsed);
  auto exactly = entry({1, 2}, {}, now - repeat);
  CHECK(needs_update(&exactly, Set{1, 2}, {}, true, repeat, now) == NotifyReason::kNone);
  auto cleared = entry({}, {1}, now - kMinute);
  CHECK(needs_update(&cleared, Set{1}, {}, true, repeat, now) == NotifyReason::kFirstNotification);
  CHECK(needs_update(&cleared, {}, Set{1}, true, repeat, now) == NotifyReason::kNone);
}

TEST_CASE("nflog: entries per group and integration, expiring") {
  ManualClock clock(kHour);
  NotificationLog log(clock, 10 * kHour);
  IntegrationRef slack0{"team", "slack", 0}, slack1{"team", "slack", 1};
  log.log(slack0, "g1", {3, 1}, {2}, 2 * kHour);
  auto e = log.query("g1", slack0);
  REQUIRE(e);
  CHECK(e->firing == std::vector<uint64_t>{1, 3});
  CHECK(e->timestamp == kHour);
  CHECK(e->expires_at == 3 * kHour);  // twice the repeat interval, shorter than the retention
  CHECK_FALSE(log.query("g1", slack1));
  CHECK_FALSE(log.query("g2", slack0));
  clock.advance(2 * kHour);
  CHECK(log.gc() == 1);
  CHECK(log.size() == 0);
}

TEST_CASE("nflog: snapshot round trip") {
  ManualClock clock(kHour);
  NotificationLog log(clock);
  log.log({"team", "email", 2}, "{}:{alertname=\"A\"}", {42}, {}, 0);
  NotificationLog other(clock);
  REQUIRE(other.restore(log.snapshot()));
  auto e = other.query("{}:{alertname=\"A\"}", {"team", "email", 2});
  REQUIRE(e);
  CHECK(e->firing == std::vector<uint64_t>{42});
  CHECK(e->expires_at == kHour + 120 * kHour);
}

TEST_CASE("nflog: receiver data is kept, replaced with each entry, and saved") {
  ManualClock clock(kHour);
  NotificationLog log(clock);
  const IntegrationRef slack{"team", "slack", 0};
  log.log(slack, "g", {1}, {}, 0, {{"threadTs", "1700000000.000100"}, {"channelId", "C024BE91L"}});
  log.log({"team", "webhook", 0}, "g", {1}, {}, 0);
  // Only entries with data write it: files of integrations that keep none
  // are as before.
  const std::string saved = log.snapshot();
  CHECK(saved.find("receiver_data") == saved.rfind("receiver_data"));
  NotificationLog other(clock);
  REQUIRE(other.restore(saved));
  auto e = other.query("g", slack);
  REQUIRE(e);
  CHECK(e->data == ReceiverData{{"channelId", "C024BE91L"}, {"threadTs", "1700000000.000100"}});
  CHECK(other.query("g", {"team", "webhook", 0})->data.empty());
  // A new entry holds what it is given, nothing of the old one.
  clock.advance(kMinute);
  other.log(slack, "g", {1, 2}, {}, 0);
  CHECK(other.query("g", slack)->data.empty());
}

TEST_CASE("nflog: a snapshot written before receiver data existed still loads") {
  ManualClock clock(kHour);
  NotificationLog log(clock);
  REQUIRE(log.restore(R"({"version":1,"entries":[{"group_key":"g","receiver":"team","integration":"slack",)"
                      R"("index":0,"timestamp":3600000,"firing":[7],"resolved":[],"expires_at":7200000}]})"));
  auto e = log.query("g", {"team", "slack", 0});
  REQUIRE(e);
  CHECK(e->firing == std::vector<uint64_t>{7});
  CHECK(e->data.empty());
}

TEST_CASE("receiver store: get, set and a copy of its data") {
  ReceiverStore store(ReceiverData{{"a", "1"}});
  CHECK(store.get("a") == "1");
  CHECK(store.get("b").empty());
  store.set("b", "2");
  store.set("a", "3");
  CHECK(store.data() == ReceiverData{{"a", "3"}, {"b", "2"}});
}

TEST_CASE("nflog: entries as replicas exchange them, and adopting another replica's") {
  ManualClock clock(kHour);
  NotificationLog log(clock);
  IntegrationRef ref{"team", "slack", 1};
  NflogEntry e = log.log(ref, "g", {2, 1}, {3}, 0, {{"ts", "123.4"}});
  auto back = decode_nflog_entry(encode_nflog_entry(e));
  REQUIRE(back);
  CHECK(back->group_key == "g");
  CHECK(back->receiver.integration == "slack");
  CHECK(back->receiver.index == 1);
  CHECK(back->firing == std::vector<uint64_t>{1, 2});
  CHECK(back->resolved == std::vector<uint64_t>{3});
  CHECK(back->data.at("ts") == "123.4");
  CHECK_FALSE(decode_nflog_entry("{\"group_key\":\"g\"}"));
  CHECK_FALSE(decode_nflog_entry("not json"));

  // Another replica's later notification replaces the local entry.
  NflogEntry theirs = *back;
  theirs.timestamp = kHour + kMinute;
  theirs.firing = {7};
  log.adopt("g", ref, &theirs, 42);
  auto now = log.query("g", ref);
  REQUIRE(now);
  CHECK(now->firing == std::vector<uint64_t>{7});
  CHECK(now->revision == 42);
  // An older one only moves the revision on; none at all, too.
  NflogEntry older = theirs;
  older.timestamp = kHour;
  older.firing = {9};
  log.adopt("g", ref, &older, 50);
  CHECK(log.query("g", ref)->firing == std::vector<uint64_t>{7});
  CHECK(log.query("g", ref)->revision == 50);
  log.adopt("g", ref, nullptr, 51);
  CHECK(log.query("g", ref)->revision == 51);
  // A later local entry keeps the revision it replaces (what the next claim
  // compares with).
  clock.advance(kHour);
  CHECK(log.log(ref, "g", {7}, {}, 0).revision == 51);
}
