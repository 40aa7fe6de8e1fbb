#include <cmath>

#include <doctest/doctest.h>

#include "rules/evaluation.h"

namespace vigil::rules {
namespace {

constexpr std::string_view kRules = R"(groups:
  - name: g
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Down
        expr: job:up:sum == 0
        for: 2m
        labels:
          severity: page
        annotations:
          summary: down
      - alert: Flapping
        expr: up == 0
        keep_firing_for: 3m
)";

struct Fixture {
  storage::MemoryStore store;
  LoadResult loaded = parse_rule_file(kRules);
  std::optional<GroupEvaluator> group;
  QueryFn query = engine_query(store);

  Fixture() {
    REQUIRE(loaded.errors.empty());
    group.emplace(loaded.file.groups[0], EvalSettings{});
  }
  // up{job="a"} is 1 until `down_from`, 0 from then until `up_again`.
  void sample(int64_t t, double v) { REQUIRE(store.append(Labels{{"__name__", "up"}, {"job", "a"}}, t, v)); }
  void eval(int64_t t) { group->eval(t, store, query); }
  const AlertingRule& rule(size_t i) { return *group->alerting(i); }
};

AlertState state_of(const AlertingRule& r) {
  auto a = r.alerts();
  REQUIRE(a.size() == 1);
  return a[0]->state;
}

TEST_CASE("alerts are sent as Prometheus sends them: firing, resent after the delay, resolved once at once") {
  Fixture f;
  const Millis interval = 60'000, resend = kDefaultResendDelay;
  auto send = [&](int64_t t) { return f.group->alerts_to_send(t, resend, interval); };
  // Flapping (no for) fires and is sent at 0; Down is pending, never sent,
  // until it fires at 2m. An alert is resent once more than the resend delay
  // has passed since its last send: Flapping at 2m, not at 1m.
  const size_t want[] = {1, 0, 2, 0};
  for (int64_t i = 0; i < 4; ++i) {
    f.sample(i * 60'000, 0);
    f.eval(i * 60'000);
    CHECK_MESSAGE(send(i * 60'000).size() == want[i], "minute ", i);
  }
  // Down fired at 2m and was sent then; not resent at 3m (not after
  // 2m + 1m), resent at 3m30s, valid for 4 x max(1m, 1m).
  f.sample(210'000, 0);
  f.eval(210'000);
  auto again = send(210'000);
  REQUIRE(again.size() == 2);
  CHECK(again[0].labels.get("alertname") == "Down");
  CHECK(again[0].starts_at == 120'000);
  CHECK(again[0].ends_at == 210'000 + 240'000);
  CHECK_FALSE(again[0].resolved);
  // Recovery: Down resolves and is sent at once with endsAt = resolution;
  // Flapping keeps firing for 3m and is not due again yet.
  f.sample(240'000, 1);
  f.eval(240'000);
  auto resolved = send(240'000);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].labels.get("alertname") == "Down");
  CHECK(resolved[0].resolved);
  CHECK(resolved[0].ends_at == 240'000);
  // A resolved alert is resent after the delay while it is kept.
  f.sample(300'000, 1);
  f.eval(300'000);
  auto later = send(330'000);
  REQUIRE(later.size() == 2);
  CHECK(later[0].resolved);
}

TEST_CASE("an alert goes pending, fires after its for duration and resolves") {
  Fixture f;
  f.sample(0, 1);
  f.eval(0);
  CHECK(f.rule(1).alerts().empty());
  f.sample(60'000, 0);
  f.eval(60'000);
  CHECK(state_of(f.rule(1)) == AlertState::kPending);
  f.sample(120'000, 0);
  f.eval(120'000);
  CHECK(state_of(f.rule(1)) == AlertState::kPending);  // 1m of 2m
  f.sample(180'000, 0);
  f.eval(180'000);
  CHECK(state_of(f.rule(1)) == AlertState::kFiring);
  const Alert& a = *f.rule(1).alerts()[0];
  CHECK(a.labels == Labels{{"alertname", "Down"}, {"job", "a"}, {"severity", "page"}});
  CHECK(a.annotations == Labels{{"summary", "down"}});
  CHECK(a.active_at == 60'000);
  f.sample(240'000, 1);
  f.eval(240'000);
  CHECK(state_of(f.rule(1)) == AlertState::kInactive);  // kept, resolved
  CHECK(f.rule(1).alerts()[0]->resolved_at == 240'000);
  f.sample(240'000 + 16 * 60'000, 1);
  f.eval(240'000 + 16 * 60'000);
  CHECK(f.rule(1).alerts().empty());  // dropped after 15m
}

TEST_CASE("a pending alert whose condition clears is forgotten at once") {
  Fixture f;
  f.sample(0, 0);
  f.eval(0);
  CHECK(state_of(f.rule(1)) == AlertState::kPending);
  f.sample(60'000, 1);
  f.eval(60'000);
  CHECK(f.rule(1).alerts().empty());
}

TEST_CASE("keep_firing_for holds a firing alert after its condition clears") {
  Fixture f;
  f.sample(0, 0);
  f.eval(0);
  CHECK(state_of(f.rule(2)) == AlertState::kFiring);  // no `for`: fires at once
  for (int m = 1; m <= 3; ++m) {
    f.sample(m * 60'000, 1);
    f.eval(m * 60'000);
    CHECK(state_of(f.rule(2)) == AlertState::kFiring);  // cleared 1m..3m ago, kept
  }
  f.sample(4 * 60'000, 1);
  f.eval(4 * 60'000);
  CHECK(state_of(f.rule(2)) == AlertState::kInactive);
}

TEST_CASE("rule output lands in the store for later rules, with ALERTS series and staleness") {
  Fixture f;
  f.sample(0, 0);
  f.eval(0);
  auto recorded = f.store.select(std::vector<Matcher>{*Matcher::make(MatchType::kEqual, "__name__", "job:up:sum")});
  REQUIRE(recorded.size() == 1);
  CHECK(f.store.get(recorded[0]).labels == Labels{{"__name__", "job:up:sum"}, {"job", "a"}});
  auto alerts = f.store.select(std::vector<Matcher>{*Matcher::make(MatchType::kEqual, "__name__", "ALERTS")});
  REQUIRE(alerts.size() == 2);  // Down pending, Flapping firing
  CHECK(f.store.get(alerts[0]).labels.get("alertstate") == "pending");
  // When up disappears, the recorded series gets a stale marker.
  f.eval(10 * 60'000);
  const auto& s = f.store.get(recorded[0]);
  CHECK(storage::is_stale_nan(s.last_value()));
}

TEST_CASE("a failing rule records its error and the group goes on") {
  storage::MemoryStore store;
  auto loaded = parse_rule_file(R"(groups:
  - name: g
    limit: 1
    rules:
      - record: r
        expr: up
      - alert: A
        expr: vector(1)
)");
  REQUIRE(loaded.errors.empty());
  GroupEvaluator g(loaded.file.groups[0], EvalSettings{});
  REQUIRE(store.append(Labels{{"__name__", "up"}, {"i", "1"}}, 0, 1));
  REQUIRE(store.append(Labels{{"__name__", "up"}, {"i", "2"}}, 0, 1));
  g.eval(0, store, engine_query(store));
  CHECK_FALSE(g.health()[0].ok);
  CHECK(g.health()[0].last_error == "exceeded limit of 1 with 2 series");
  CHECK(g.health()[1].ok);
  CHECK(g.alerting(1)->alerts().size() == 1);
}

}  // namespace
}  // namespace vigil::rules
