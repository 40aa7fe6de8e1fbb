// Restoring `for` timers at a fresh start from a datasource's
// ALERTS_FOR_STATE (Prometheus' RestoreForState), with a fake datasource and
// a ManualClock.
#include <doctest/doctest.h>

#include "rules/manager.h"
#include "tests/temp_dir.h"

using namespace vigil;
using namespace vigil::rules;

namespace {

constexpr int64_t kT0 = 1'700'000'000'000;  // a whole second

TEST_CASE("for state: the restored activeAt follows Prometheus' three cases") {
  const Millis hold = kHour, grace = 10 * kMinute;
  const int64_t down = kT0, now = kT0 + 5 * kMinute;
  auto secs = [](int64_t ms) { return static_cast<double>(ms) / 1000.0; };
  // Pending for 20 minutes when it stopped: 40 left, more than the grace
  // period; it resumes, the 5 minutes down added.
  CHECK(restored_active_at(hold, grace, now, down, secs(down - 20 * kMinute)) == down - 20 * kMinute + 5 * kMinute);
  // 55 minutes pending, 5 left: less than the grace period, so it fires a
  // grace period from now.
  CHECK(restored_active_at(hold, grace, now, down, secs(down - 55 * kMinute)) == now + grace - hold);
  // Already firing: activeAt as written.
  CHECK(restored_active_at(hold, grace, now, down, secs(down - 70 * kMinute)) == down - 70 * kMinute);
  // Both instants in whole seconds: the sample time and the value are
  // truncated (1999 ms down, 10.9 s active).
  CHECK(restored_active_at(hold, grace, kT0 + 100'000, kT0 + 1'999, secs(kT0 - 10 * kMinute) + 0.9) ==
        kT0 - 10 * kMinute + (kT0 + 100'000 - (kT0 + 1'000)));
}

const char* kRules = R"(groups:
- name: g
  interval: 10s
  labels: {team: infra}
  rules:
  - alert: Down
    expr: up == 0
    for: 1h
    labels: {severity: page}
  - alert: Flapping
    expr: up == 0
    for: 5m
)";

struct Fake {
  struct Call {
    std::vector<Matcher> matchers;
    int64_t from = 0, to = 0;
  };
  std::vector<Call> calls;
  std::vector<RemoteSeries> series;
  std::optional<std::string> error;

  SeriesReader reader() {
    return [this](const std::vector<Matcher>& m, int64_t from, int64_t to) -> Result<std::vector<RemoteSeries>> {
      calls.push_back({m, from, to});
      if (error) return fail(*error);
      return series;
    };
  }
};

struct Fixture {
  testing::TempDir dir{"vigil-forstate"};
  ManualClock clock{kT0};
  storage::MemoryStore store;
  std::shared_mutex store_mu;
  Fake fake;
  std::unique_ptr<RuleManager> manager;
  std::string file;
  ManagerOptions opts;
  std::vector<std::string> told;  // what on_restore said

  Fixture() {
    opts.on_restore = [this](const std::string& group, bool ok, const std::string& what) {
      told.push_back(group + (ok ? " ok: " : " failed: ") + what);
    };
    file = dir.write("rules.yml", kRules);
    for (int i = 0; i < 400; ++i) {
      REQUIRE(store.append(Labels{{"__name__", "up"}, {"job", "api"}}, kT0 + i * 10 * kSecond, 0));
    }
    restart();
  }
  // A new manager over the same file and store, as after a restart.
  void restart() {
    fake.calls.clear();
    EvalBackend backend{&store, &store_mu, engine_query(store), fake.reader()};
    manager = std::make_unique<RuleManager>(clock, opts, backend, [](GroupAlerts&&) {});
    REQUIRE(manager->load({file}, opts).empty());
  }
  Millis step() {
    Millis due = *manager->next_due();
    clock.set(due);
    REQUIRE(manager->run_due() == 1);
    return due;
  }
  Alert alert(size_t rule) {
    auto st = manager->status();
    REQUIRE(st[0].rules[rule].alerts.size() == 1);
    return st[0].rules[rule].alerts[0];
  }
};

// The ALERTS_FOR_STATE series a previous evaluator wrote for Down.
RemoteSeries down_series(int64_t written_at, int64_t active_at) {
  return RemoteSeries{Labels{{"__name__", "ALERTS_FOR_STATE"},
                               {"alertname", "Down"},
                               {"job", "api"},
                               {"severity", "page"},
                               {"team", "infra"}},
                      {written_at - 10 * kSecond, written_at},
                      {0, static_cast<double>(active_at / 1000)}};
}

TEST_CASE("for state: a fresh start resumes a pending timer after its second evaluation") {
  Fixture f;
  // The previous evaluator saw Down pending from 30 minutes before the
  // start and wrote its last sample 2 minutes before it.
  const int64_t prev_active = kT0 - 30 * kMinute, down_at = kT0 - 2 * kMinute;
  f.fake.series = {down_series(down_at, prev_active)};
  const Millis first = f.step();
  CHECK(f.fake.calls.empty());  // not after the first evaluation
  CHECK(f.alert(0).active_at == first);
  f.step();
  // One read, for Down only: Flapping's `for` is below the grace period.
  REQUIRE(f.fake.calls.size() == 1);
  const auto& call = f.fake.calls[0];
  CHECK(call.to == f.clock.now());
  CHECK(call.from == f.clock.now() - kHour);
  std::vector<std::string> sel;
  for (const auto& m : call.matchers) sel.push_back(m.to_string());
  CHECK(sel == std::vector<std::string>{"__name__=\"ALERTS_FOR_STATE\"", "alertname=\"Down\"", "severity=\"page\"",
                                        "team=\"infra\""});
  // Resumed: the time down (from the last sample to now) is added.
  const int64_t restored = prev_active + (f.clock.now() - down_at / 1000 * 1000);
  CHECK(f.alert(0).active_at == restored);
  CHECK(f.alert(0).state == AlertState::kPending);
  CHECK(f.told == std::vector<std::string>{"g ok: 1 alerts restored"});
  // It fires an hour after the restored activeAt: about 32 minutes after the
  // start, not an hour.
  while (f.alert(0).state == AlertState::kPending) f.step();
  CHECK(f.clock.now() >= restored + kHour);
  CHECK(f.clock.now() < restored + kHour + 10 * kSecond);
  CHECK(f.clock.now() - kT0 < 33 * kMinute);
  CHECK(f.fake.calls.size() == 1);  // once only
}

TEST_CASE("for state: local state wins, and only the first load restores") {
  SUBCASE("a snapshot restored for the group") {
    Fixture f;
    f.fake.series = {down_series(kT0 - kMinute, kT0 - 30 * kMinute)};
    const Millis first = f.step();
    const std::string snap = f.manager->snapshot();
    f.restart();
    REQUIRE(f.manager->restore(snap).has_value());
    f.step();
    f.step();
    f.step();
    CHECK(f.fake.calls.empty());
    CHECK(f.alert(0).active_at == first);
  }
  SUBCASE("groups added by a reload") {
    Fixture f;
    f.step();
    f.step();
    REQUIRE(f.fake.calls.size() == 1);
    std::string other = f.dir.write("other.yml", R"(groups:
- name: h
  interval: 10s
  rules:
  - alert: Down
    expr: up == 0
    for: 1h
)");
    REQUIRE(f.manager->load({f.file, other}, f.opts).empty());
    for (int i = 0; i < 6; ++i) {
      f.clock.set(*f.manager->next_due());
      f.manager->run_due();
    }
    CHECK(f.fake.calls.size() == 1);
  }
}

TEST_CASE("for state: a failed read leaves the timers as they are, with the error in the status") {
  Fixture f;
  f.fake.error = "remote query failed: HTTP 503";
  const Millis first = f.step();
  f.step();
  CHECK(f.fake.calls.size() == 1);
  CHECK(f.alert(0).active_at == first);
  auto st = f.manager->status();
  CHECK(st[0].restore_error == "Down: remote query failed: HTTP 503");
  CHECK(f.told == std::vector<std::string>{"g failed: Down: remote query failed: HTTP 503", "g ok: 0 alerts restored"});
}

TEST_CASE("for state: series of other alerts change nothing") {
  Fixture f;
  RemoteSeries other = down_series(kT0 - kMinute, kT0 - 30 * kMinute);
  other.labels = LabelsBuilder(other.labels).set("job", "db").build();
  f.fake.series = {other};
  const Millis first = f.step();
  f.step();
  CHECK(f.alert(0).active_at == first);
}

}  // namespace
