// Replaying rules over a datasource's history (rules/backtest.h), with the
// datasource a store queried through the in-process engine.
#include <doctest/doctest.h>

#include "rules/backtest.h"
#include "rules/manager.h"

using namespace vigil;
using namespace vigil::rules;

namespace {

constexpr int64_t kT0 = 1'700'000'000'000 - 1'700'000'000'000 % kHour;

TEST_CASE("backtest: an alert over a recorded series goes pending, fires and resolves at the right instants") {
  // errors = 10 during [T0+10m, T0+30m), 0 otherwise; one sample a minute.
  storage::MemoryStore remote;
  for (int m = 0; m <= 60; ++m) {
    double v = (m >= 10 && m < 30) ? 10 : 0;
    REQUIRE(remote.append(Labels{{"__name__", "errors"}, {"job", "api"}}, kT0 + m * kMinute, v));
  }
  auto loaded = parse_rule_file(R"(groups:
- name: g
  interval: 1m
  rules:
  - record: job:errors
    expr: sum by (job) (errors)
  - alert: Errors
    expr: job:errors > 5
    for: 5m
)");
  REQUIRE(loaded.ok());
  loaded.file.path = "rules.yml";
  const Millis offset = RuleManager::offset_of("rules.yml", "g", kMinute);
  QueryFn q = engine_query(remote);
  SeriesReader none = [](const std::vector<Matcher>&, int64_t, int64_t) -> Result<std::vector<RemoteSeries>> {
    return std::vector<RemoteSeries>{};
  };
  BacktestResult r = backtest({loaded.file}, BacktestOptions{kT0, kT0 + kHour - 1, kMinute, nullptr}, q, none);
  CHECK(r.failures == 0);
  CHECK(r.evaluations == 2 * 60);  // 60 instants of the group's schedule, two rules
  REQUIRE(r.changes.size() == 3);
  // The first instant at or after T0+10m on the group's offset.
  const int64_t pending = kT0 + 10 * kMinute + offset;
  CHECK(r.changes[0].state == AlertState::kPending);
  CHECK(r.changes[0].at == pending);
  CHECK(r.changes[0].labels == Labels{{"alertname", "Errors"}, {"job", "api"}});
  CHECK(r.changes[1].state == AlertState::kFiring);
  CHECK(r.changes[1].at == pending + 5 * kMinute);
  CHECK(r.changes[1].active_at == pending);
  CHECK(r.changes[2].state == AlertState::kInactive);
  CHECK(r.changes[2].at == kT0 + 30 * kMinute + offset);
}

TEST_CASE("backtest: with an Alertmanager configuration, the notifications its timers would send") {
  storage::MemoryStore remote;
  for (int m = 0; m <= 180; ++m) {
    double v = (m >= 10 && m < 100) ? 10 : 0;  // 90 minutes of errors
    REQUIRE(remote.append(Labels{{"__name__", "errors"}, {"job", "api"}}, kT0 + m * kMinute, v));
  }
  auto loaded = parse_rule_file(R"(groups:
- name: g
  interval: 1m
  rules:
  - alert: Errors
    expr: errors > 5
    for: 5m
)");
  REQUIRE(loaded.ok());
  loaded.file.path = "rules.yml";
  auto am = routing::parse_config(R"(route:
  receiver: team
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
receivers:
- name: team
  webhook_configs:
  - url: http://127.0.0.1:1/hook
    send_resolved: true
)");
  REQUIRE(am.ok());
  BacktestOptions opts{kT0, kT0 + 3 * kHour - 1, kMinute, std::make_shared<const routing::Config>(am.config)};
  SeriesReader none = [](const std::vector<Matcher>&, int64_t, int64_t) -> Result<std::vector<RemoteSeries>> {
    return std::vector<RemoteSeries>{};
  };
  BacktestResult r = backtest({loaded.file}, opts, engine_query(remote), none);
  const Millis offset = RuleManager::offset_of("rules.yml", "g", kMinute);
  const int64_t fired = kT0 + 15 * kMinute + offset;
  const int64_t resolved = kT0 + 100 * kMinute + offset;
  REQUIRE(r.notifications.size() == 3);
  for (const auto& n : r.notifications) {
    CHECK(n.receiver == "team");
    CHECK(n.integration == "webhook");
  }
  // group_wait after it fired; again once repeat_interval has passed (on
  // the group's group_interval ticks); resolved at the first group_interval
  // tick after it resolved.
  CHECK(r.notifications[0].at == fired + 30 * kSecond);
  CHECK(r.notifications[0].firing == 1);
  // The log entry must be older than repeat_interval, strictly (upstream's
  // needsUpdate): exactly an hour later it is not, so the tick after.
  CHECK(r.notifications[1].at == fired + 30 * kSecond + kHour + 5 * kMinute);
  CHECK(r.notifications[1].firing == 1);
  CHECK(r.notifications[2].resolved == 1);
  CHECK(r.notifications[2].firing == 0);
  CHECK(r.notifications[2].at >= resolved);
  CHECK(r.notifications[2].at <= resolved + 5 * kMinute);
  CHECK((r.notifications[2].at - r.notifications[0].at) % (5 * kMinute) == 0);
}

TEST_CASE("backtest: failing rules are counted with their instant") {
  storage::MemoryStore remote;
  auto loaded = parse_rule_file(R"(groups:
- name: g
  interval: 10m
  rules:
  - alert: Broken
    expr: up
)");
  REQUIRE(loaded.ok());
  QueryFn failing = [](const promql::Expr&, int64_t) -> Result<promql::Vector> { return fail("HTTP 503"); };
  SeriesReader none = [](const std::vector<Matcher>&, int64_t, int64_t) -> Result<std::vector<RemoteSeries>> {
    return std::vector<RemoteSeries>{};
  };
  BacktestResult r = backtest({loaded.file}, BacktestOptions{kT0, kT0 + kHour - 1, kMinute, nullptr}, failing, none);
  CHECK(r.evaluations == 6);
  CHECK(r.failures == 6);
  REQUIRE(r.errors.size() == 6);
  CHECK(r.errors[0].starts_with("g/Broken at "));
  CHECK(r.errors[0].ends_with(": HTTP 503"));
  CHECK(r.changes.empty());
}

}  // namespace
