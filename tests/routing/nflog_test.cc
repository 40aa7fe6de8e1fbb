#include <doctest/doctest.h>

#include "model/clock.h"
#include "routing/nflog.h"

using namespace vigil;
using namespace vigil::routing;

namespace {

NflogEntry entry(std::vector<uint64_t> firing, std::vector<uint64_t> resolved, Millis ts) {
  return NflogEntry{"g", {"r", "webhook", 0}, ts, std::move(firing), std::move(resolved), 0};
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
