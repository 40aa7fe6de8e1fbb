#include <doctest/doctest.h>

#include "routing/alert_store.h"

using namespace vigil;
using namespace vigil::routing;

namespace {

constexpr Millis kT0 = 1'700'000'000'000;

Alert alert(Millis starts, Millis ends) {
  Alert a;
  a.labels = Labels{{"alertname", "A"}};
  a.starts_at = starts;
  a.ends_at = ends;
  return a;
}

}  // namespace

TEST_CASE("alert store: defaults as upstream's API sets them") {
  AlertStore store(5 * kMinute);
  auto a = store.put(alert(0, 0), kT0);
  CHECK(a->starts_at == kT0);
  CHECK(a->ends_at == kT0 + 5 * kMinute);
  CHECK(a->timeout);
  CHECK(a->updated_at == kT0);
  auto b = store.put(alert(0, kT0 - kMinute), kT0);  // only an end: starts there
  CHECK(b->starts_at == kT0 - kMinute);
  CHECK(b->resolved_at(kT0));
}

TEST_CASE("alert store: updates merge by fingerprint") {
  AlertStore store(5 * kMinute);
  store.put(alert(kT0, 0), kT0);
  // A re-send extends the timed-out end and keeps the earliest start.
  auto a = store.put(alert(kT0 + kMinute, 0), kT0 + kMinute);
  CHECK(store.size() == 1);
  CHECK(a->starts_at == kT0);
  CHECK(a->ends_at == kT0 + 6 * kMinute);
  // An explicit end resolves it, even before the timed-out end.
  a = store.put(alert(kT0, kT0 + 2 * kMinute), kT0 + 2 * kMinute);
  CHECK(a->ends_at == kT0 + 2 * kMinute);
  CHECK(a->resolved_at(kT0 + 2 * kMinute));
  // Firing again later: a new span replaces the old one.
  a = store.put(alert(kT0 + kHour, 0), kT0 + kHour);
  CHECK(a->starts_at == kT0 + kHour);
  CHECK_FALSE(a->resolved_at(kT0 + kHour));
}

TEST_CASE("alert store: an older sent end is kept against a timed-out one") {
  Alert old = alert(kT0, kT0 + kHour);
  old.updated_at = kT0;
  Alert update = alert(kT0, kT0 + 5 * kMinute);
  update.updated_at = kT0 + kMinute;
  update.timeout = true;
  CHECK(merge_alerts(old, update, kT0 + kMinute).ends_at == kT0 + kHour);
  old.timeout = true;
  CHECK(merge_alerts(old, update, kT0 + kMinute).ends_at == kT0 + 5 * kMinute);
}

TEST_CASE("alert store: resolved alerts are collected") {
  AlertStore store(5 * kMinute);
  store.put(alert(kT0, 0), kT0);
  CHECK(store.gc(kT0 + 4 * kMinute).empty());
  CHECK(store.gc(kT0 + 5 * kMinute).size() == 1);
  CHECK(store.size() == 0);
}

TEST_CASE("alerts: validation and notification order") {
  Alert a = alert(kT0, 0);
  CHECK(validate_alert(a));
  a.ends_at = kT0 - 1;
  CHECK(validate_alert(a).error().message == "start time must be before end time");
  CHECK(validate_alert(Alert{}).error().message == "start time missing");
  Alert x = alert(kT0, 0), y = alert(kT0, 0);
  x.labels = Labels{{"alertname", "A"}, {"job", "b"}};
  y.labels = Labels{{"alertname", "A"}, {"job", "a"}, {"zone", "1"}};
  CHECK(alert_before(y, x));  // by job first
  Alert z = alert(kT0, 0);
  z.labels = Labels{{"alertname", "B"}};
  CHECK(alert_before(x, z));  // alerts with a job come first
  CHECK(labels_before(Labels{{"a", "1"}}, Labels{{"a", "1"}, {"b", "1"}}));
  CHECK(labels_before(Labels{{"b", "1"}}, Labels{{"a", "1"}}));  // missing "a" sorts first, as in Go
}
