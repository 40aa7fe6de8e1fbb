// The rule manager: scheduling on per-group offsets, alerts handed to the
// sink with resend rules, reloads and restarts that keep `for` timers. Time
// is a ManualClock; nothing sleeps.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "model/state_file.h"
#include "rules/manager.h"
#include "tests/temp_dir.h"

using namespace vigil;
using namespace vigil::rules;

namespace {

const char* kRules = R"(groups:
- name: g
  interval: 10s
  rules:
  - alert: Down
    expr: up == 0
    for: 30s
    labels:
      severity: page
    annotations:
      summary: "{{ $labels.job }} is down"
  - record: job:up:sum
    expr: sum by (job) (up)
)";

struct Fixture {
  testing::TempDir dir{"vigil-manager"};
  ManualClock clock{1'000'000'000'000};
  storage::MemoryStore store;
  std::shared_mutex store_mu;
  std::vector<GroupAlerts> sent;
  std::unique_ptr<RuleManager> manager;
  std::string file;

  explicit Fixture(const std::string& rules = kRules) {
    file = dir.write("rules.yml", rules);
    manager = make();
    REQUIRE(manager->load({file}, ManagerOptions{}).empty());
  }
  std::unique_ptr<RuleManager> make() {
    return std::make_unique<RuleManager>(clock, ManagerOptions{}, EvalBackend{&store, &store_mu, engine_query(store)},
                                         [this](GroupAlerts&& a) { sent.push_back(std::move(a)); });
  }
  // up{job="api"} = v from now on (the sample lasts the lookback).
  void up(double v) {
    std::unique_lock lock(store_mu);
    REQUIRE(store.append(Labels{{"__name__", "up"}, {"job", "api"}}, clock.now(), v));
  }
  // Moves the clock to the next due evaluation and runs it.
  Millis step() {
    auto due = manager->next_due();
    REQUIRE(due.has_value());
    clock.set(*due);
    CHECK(manager->run_due() == 1);
    return *due;
  }
  AlertState state() {
    auto st = manager->status();
    REQUIRE(st.size() == 1);
    if (st[0].rules[0].alerts.empty()) return AlertState::kInactive;
    return st[0].rules[0].alerts[0].state;
  }
};

}  // namespace

TEST_CASE("rule manager: groups run on their own offset within the interval") {
  Fixture f;
  const Millis offset = RuleManager::offset_of(f.file, "g", 10 * kSecond);
  auto due = f.manager->next_due();
  REQUIRE(due.has_value());
  CHECK((*due - offset) % (10 * kSecond) == 0);
  CHECK(*due > f.clock.now());
  CHECK(*due <= f.clock.now() + 10 * kSecond);
  f.clock.set(*due - 1);
  CHECK(f.manager->run_due() == 0);
  f.clock.set(*due + 3 * kSecond);
  CHECK(f.manager->run_due() == 1);
  auto st = f.manager->status();
  CHECK(st[0].last_eval == *due);  // at the scheduled instant, not when it ran
  CHECK(*f.manager->next_due() == *due + 10 * kSecond);
  // A stall of a minute skips the missed evaluations and counts them.
  f.clock.set(*due + 70 * kSecond + 5);
  CHECK(f.manager->run_due() == 1);
  st = f.manager->status();
  CHECK(st[0].last_eval == *due + 70 * kSecond);
  CHECK(st[0].missed == 6);
  CHECK(st[0].evaluations == 2);
}

TEST_CASE("rule manager: an alert goes pending, fires after for, and is resent and resolved") {
  Fixture f;
  f.up(0);
  Millis first = f.step();
  CHECK(f.state() == AlertState::kPending);
  CHECK(f.sent.empty());  // pending alerts are never sent
  f.step();
  f.step();
  CHECK(f.sent.empty());
  Millis fired = f.step();  // 30s after the first evaluation
  CHECK(fired == first + 30 * kSecond);
  CHECK(f.state() == AlertState::kFiring);
  REQUIRE(f.sent.size() == 1);
  REQUIRE(f.sent[0].alerts.size() == 1);
  const OutgoingAlert& a = f.sent[0].alerts[0];
  CHECK(a.labels == Labels{{"alertname", "Down"}, {"job", "api"}, {"severity", "page"}});
  CHECK(a.annotations.get("summary") == "api is down");
  CHECK(a.starts_at == fired);
  CHECK(a.ends_at == fired + 4 * kMinute);  // 4 x max(resend delay, interval)
  CHECK(f.sent[0].exprs[0] == "up == 0");
  CHECK(f.sent[0].group == "g");
  // Not resent until more than the resend delay (a minute) has passed.
  f.sent.clear();
  for (int i = 0; i < 6; ++i) f.step();
  CHECK(f.sent.empty());
  f.step();
  CHECK(f.sent.size() == 1);
  // Recovered: resolved at once.
  f.sent.clear();
  f.up(1);
  Millis resolved = f.step();
  REQUIRE(f.sent.size() == 1);
  CHECK(f.sent[0].alerts[0].resolved);
  CHECK(f.sent[0].alerts[0].ends_at == resolved);
  // The recording rule wrote its series into the store.
  std::shared_lock lock(f.store_mu);
  CHECK(f.store.select(std::vector<Matcher>{*Matcher::make(MatchType::kEqual, "__name__", "job:up:sum")}).size() == 1);
}

TEST_CASE("rule manager: a restart restores pending timers from the snapshot") {
  Fixture f;
  f.up(0);
  Millis first = f.step();
  f.step();
  std::string saved = f.manager->snapshot();
  // A new process: same files, state restored, evaluations resume.
  f.manager = f.make();
  REQUIRE(f.manager->load({f.file}, ManagerOptions{}).empty());
  REQUIRE(f.manager->restore(saved));
  CHECK(f.state() == AlertState::kPending);
  f.step();
  Millis fired = f.step();
  CHECK(fired == first + 30 * kSecond);  // the for timer did not restart
  CHECK(f.state() == AlertState::kFiring);
  CHECK(f.sent.size() == 1);
  CHECK_FALSE(f.manager->restore("{not json").has_value());
}

TEST_CASE("rule manager: a damaged rules.json is set aside as the daemon restores it, and rules start afresh") {
  Fixture f;
  f.up(0);
  f.step();
  const std::string path = f.dir.write("rules.json", f.manager->snapshot().substr(0, 40));
  f.manager = f.make();
  REQUIRE(f.manager->load({f.file}, ManagerOptions{}).empty());
  auto damage = restore_state_file(path, f.clock.now(), [&](std::string_view text) { return f.manager->restore(text); },
                                   "`for` timers start afresh");
  REQUIRE(damage);
  CHECK(damage->file == path);
  CHECK(damage->end == 40);
  CHECK(damage->what.find("invalid rule state snapshot") != std::string::npos);
  CHECK(std::filesystem::exists(damage->moved_to));
  CHECK_FALSE(std::filesystem::exists(path));
  // Evaluations go on from nothing: the alert goes pending again.
  f.step();
  CHECK(f.state() == AlertState::kPending);
  // A good file restores; a missing one is no damage.
  f.dir.write("rules.json", f.manager->snapshot());
  CHECK_FALSE(restore_state_file(path, f.clock.now(), [&](std::string_view text) { return f.manager->restore(text); },
                                 ""));
  std::filesystem::remove(path);
  CHECK_FALSE(restore_state_file(path, f.clock.now(), [](std::string_view) { return Result<void>(); }, ""));
}

TEST_CASE("rule manager: a reload keeps alert state, a bad file keeps the old rules") {
  Fixture f;
  f.up(0);
  Millis first = f.step();
  // Add a rule before the alert: state follows the rule by name and expression.
  std::string more = std::string(kRules);
  more.insert(more.find("  - alert: Down"), "  - record: extra\n    expr: vector(1)\n");
  f.dir.write("rules.yml", more);
  REQUIRE(f.manager->load({f.file}, ManagerOptions{}).empty());
  CHECK(f.manager->rule_count() == 3);
  f.step();
  f.step();
  Millis fired = f.step();
  CHECK(fired == first + 30 * kSecond);
  auto st = f.manager->status();
  CHECK(st[0].rules[1].alerts.at(0).state == AlertState::kFiring);

  f.dir.write("rules.yml", "groups:\n- name: g\n  rules:\n  - alert: X\n    expr: up ==\n");
  auto errors = f.manager->load({f.file}, ManagerOptions{});
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("rules.yml") != std::string::npos);
  CHECK(f.manager->rule_count() == 3);
  auto missing = f.manager->load({f.dir.path().string() + "/nope.yml"}, ManagerOptions{});
  CHECK(missing.size() == 1);
  CHECK(f.manager->rule_count() == 3);
}

TEST_CASE("rule manager: a failing rule is recorded in its health and counted") {
  Fixture f(R"(groups:
- name: g
  interval: 10s
  rules:
  - record: bad
    expr: label_replace(vector(1), "a", "$1", "b", "(")
  - record: good
    expr: vector(2)
)");
  f.step();
  auto st = f.manager->status();
  REQUIRE(st[0].rules.size() == 2);
  CHECK_FALSE(st[0].rules[0].health.ok);
  CHECK_FALSE(st[0].rules[0].health.last_error.empty());
  CHECK(st[0].rules[1].health.ok);
  CHECK(st[0].failures == 1);
}

// The daemon's sink takes the configuration lock, which a reload holds while
// it calls load(): a sink called with the manager's locks held would
// deadlock against a reload. The sink here waits (bounded) for a load on
// another thread.
TEST_CASE("rule manager: alerts are handed on with no lock held, so a reload can run meanwhile") {
  Fixture f;
  bool reloaded_meanwhile = false;
  RuleManager* m = nullptr;
  auto manager = std::make_unique<RuleManager>(
      f.clock, ManagerOptions{}, EvalBackend{&f.store, &f.store_mu, engine_query(f.store)}, [&](GroupAlerts&&) {
        auto done = std::make_shared<std::promise<void>>();
        auto ready = done->get_future();
        std::thread([m, file = f.file, done] {
          m->load({file}, ManagerOptions{});
          done->set_value();
        }).detach();
        reloaded_meanwhile = ready.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
      });
  m = manager.get();
  REQUIRE(manager->load({f.file}, ManagerOptions{}).empty());
  f.up(0);
  for (int i = 0; i < 4; ++i) {
    f.clock.set(*manager->next_due());
    manager->run_due();
  }
  CHECK(reloaded_meanwhile);
  // A sink that never returned would leave the thread blocked on the
  // manager: keep the manager alive rather than destroy it under it.
  if (!reloaded_meanwhile) (void)manager.release();
}
