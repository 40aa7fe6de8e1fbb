// Replicas sharing a notification log (routing/shared_log.h): the notify
// pipeline's claims, with an in-memory shared log that keeps etcd's rules
// (a claim is granted only when none is held and the entry is still at the
// revision named; a dead replica's claims lapse). server/cluster.h keeps the
// same log in etcd; tests/integration/ha_etcd.py runs it for real.
#include <doctest/doctest.h>

#include <map>

#include "routing/shared_log.h"
#include "tests/routing/router_harness.h"

namespace vigil::routing {
namespace {

using testing::kT0;
using testing::RecordingNotifier;

struct SharedStore {
  int64_t revision = 0;
  struct Logged {
    NflogEntry entry;
    int64_t revision;
  };
  std::map<std::string, Logged> log;
  std::map<std::string, std::string> claims;  // key -> replica
  bool available = true;
  size_t claims_granted = 0;

  static std::string key(const std::string& group_key, const IntegrationRef& r) {
    return r.receiver + "/" + r.integration + "/" + std::to_string(r.index) + "/" + group_key;
  }
  // A replica died: its claims lapse with its lease.
  void lapse(const std::string& replica) {
    std::erase_if(claims, [&](const auto& kv) { return kv.second == replica; });
  }
};

class MemorySharedLog : public SharedLog {
 public:
  MemorySharedLog(SharedStore& store, std::string me) : store_(store), me_(std::move(me)) {}

  void claim(const std::string& group_key, const IntegrationRef& ref, int64_t revision,
             std::function<void(Claim)> done) override {
    if (!store_.available) return done(Claim{Verdict::kUnavailable, std::nullopt, 0});
    const std::string k = SharedStore::key(group_key, ref);
    auto it = store_.log.find(k);
    const int64_t current = it == store_.log.end() ? 0 : it->second.revision;
    if (current != revision) return done(Claim{Verdict::kChanged, it->second.entry, current});
    if (store_.claims.contains(k)) return done(Claim{Verdict::kBusy, std::nullopt, 0});
    store_.claims[k] = me_;
    ++store_.claims_granted;
    done(Claim{Verdict::kClaimed, std::nullopt, 0});
  }
  void delivered(const NflogEntry& e, bool claimed) override {
    if (!store_.available) return;
    const std::string k = SharedStore::key(e.group_key, e.receiver);
    if (!claimed && store_.log.contains(k) && store_.log[k].revision != e.revision) return;
    store_.log[k] = {e, ++store_.revision};
    if (claimed && store_.claims[k] == me_) store_.claims.erase(k);
    nflog->adopt(e.group_key, e.receiver, nullptr, store_.revision);
  }
  void released(const std::string& group_key, const IntegrationRef& ref) override {
    const std::string k = SharedStore::key(group_key, ref);
    if (auto it = store_.claims.find(k); it != store_.claims.end() && it->second == me_) store_.claims.erase(it);
  }

  NotificationLog* nflog = nullptr;

 private:
  SharedStore& store_;
  std::string me_;
};

constexpr std::string_view kConfig = R"(
route:
  receiver: team
  group_by: [alertname]
  group_wait: 10s
  group_interval: 1m
  repeat_interval: 1h
receivers:
- name: team
  webhook_configs:
  - url: http://127.0.0.1:1/hook
    send_resolved: true
)";

// Replicas on one clock, each with its own router and notifier, sharing a
// store; alerts go to every live one, as Prometheus sends them to every
// Alertmanager.
struct Replicas {
  explicit Replicas(size_t n) : clock(kT0), config(testing::config_of(kConfig)) {
    for (size_t i = 0; i < n; ++i) {
      auto& r = replicas.emplace_back(std::make_unique<Replica>());
      r->shared = std::make_unique<MemorySharedLog>(store, "r" + std::to_string(i));
      r->router = std::make_unique<Router>(config, clock, r->notifier,
                                           Router::Options{"", 120 * kHour, 0, r->shared.get()});
      r->shared->nflog = &r->router->nflog();
    }
  }
  // Firing until `ends` (default: far ahead, as a source re-sending it).
  void post(const std::string& name, Millis ends = kT0 + 100 * kHour) {
    for (auto& r : replicas) {
      if (!r->alive) continue;
      Alert a;
      a.labels = Labels{{"alertname", name}};
      a.starts_at = kT0;
      a.ends_at = ends;
      r->router->put_alerts({a});
    }
  }
  // Moves time in one-second steps; at each, the live replicas run what is
  // due, in turn (their flushes land in the same second, as they would).
  void advance(Millis d) {
    const Millis end = clock.now() + d;
    while (clock.now() < end) {
      clock.advance(std::min<Millis>(kSecond, end - clock.now()));
      for (auto& r : replicas)
        if (r->alive) r->router->run_due();
    }
  }
  size_t sent(std::string_view status = "") {
    size_t n = 0;
    for (auto& r : replicas) {
      for (const auto& s : r->notifier.sent) {
        if (status.empty() || (status == "firing" ? !s.firing.empty() : s.firing.empty())) ++n;
      }
    }
    return n;
  }

  struct Replica {
    RecordingNotifier notifier;
    std::unique_ptr<MemorySharedLog> shared;
    std::unique_ptr<Router> router;
    bool alive = true;
  };
  ManualClock clock;
  std::shared_ptr<const Config> config;
  SharedStore store;
  std::vector<std::unique_ptr<Replica>> replicas;
};

TEST_CASE("three replicas: one notification per group, one repeat per repeat interval, one resolved") {
  Replicas rs(3);
  rs.post("Disk");
  rs.advance(11 * kSecond);
  CHECK(rs.sent() == 1);
  rs.advance(30 * kMinute);  // flushes every minute on every replica
  CHECK(rs.sent() == 1);
  rs.advance(31 * kMinute);  // the repeat interval has passed
  CHECK(rs.sent() == 2);
  rs.advance(10 * kMinute);
  CHECK(rs.sent() == 2);
  rs.post("Disk", rs.clock.now());  // resolved
  rs.advance(2 * kMinute);
  CHECK(rs.sent("resolved") == 1);
  CHECK(rs.sent() == 3);
}

TEST_CASE("a replica that does not yet know another's notification adopts it instead of sending") {
  Replicas rs(2);
  rs.post("Disk");
  rs.advance(11 * kSecond);
  REQUIRE(rs.sent() == 1);
  const size_t sender = rs.replicas[0]->notifier.sent.empty() ? 1 : 0;
  const auto& other = rs.replicas[1 - sender]->router->nflog();
  IntegrationRef ref{"team", "webhook", 0};
  auto groups = rs.replicas[1 - sender]->router->groups();
  REQUIRE(groups.size() == 1);
  auto adopted = other.query(groups[0].group_key, ref);
  REQUIRE(adopted);
  CHECK(adopted->revision == rs.store.log.begin()->second.revision);
  CHECK(adopted->timestamp == rs.store.log.begin()->second.entry.timestamp);
}

TEST_CASE("a claim held by a live replica holds the others back; when that replica dies, another sends") {
  Replicas rs(3);
  for (auto& r : rs.replicas) r->notifier.defer = true;  // deliveries hang
  rs.post("Disk");
  rs.advance(11 * kSecond);
  REQUIRE(rs.sent() == 1);  // claimed by one; the others are told it is busy
  size_t claimant = 0;
  while (rs.replicas[claimant]->notifier.sent.empty()) ++claimant;
  rs.advance(3 * kMinute);
  CHECK(rs.sent() == 1);
  // It dies before its receiver answered: its claim lapses with its lease.
  rs.replicas[claimant]->alive = false;
  rs.store.lapse("r" + std::to_string(claimant));
  for (auto& r : rs.replicas) r->notifier.defer = false;
  rs.advance(61 * kSecond);
  CHECK(rs.sent() == 2);  // the one it never delivered, now by another
  rs.advance(20 * kMinute);
  CHECK(rs.sent() == 2);
}

TEST_CASE("a failed delivery lets the claim go: the next flush sends again") {
  Replicas rs(2);
  for (auto& r : rs.replicas) r->notifier.fail = true;
  rs.post("Disk");
  rs.advance(11 * kSecond);
  // The first claimant failed and let go; the other, flushing in the same
  // second, tried too.
  CHECK(rs.sent() == 2);
  CHECK(rs.store.claims.empty());
  CHECK(rs.store.log.empty());
  for (auto& r : rs.replicas) r->notifier.fail = false;
  rs.advance(61 * kSecond);
  CHECK(rs.sent() == 3);  // delivered once
  rs.advance(30 * kMinute);
  CHECK(rs.sent() == 3);
  CHECK(rs.store.log.size() == 1);
}

TEST_CASE("the shared log out of reach: every replica sends (never a miss), and they agree again after") {
  Replicas rs(3);
  rs.store.available = false;
  rs.post("Disk");
  rs.advance(11 * kSecond);
  CHECK(rs.sent() == 3);  // duplicates rather than a missed page
  rs.store.available = true;
  rs.post("Load");
  rs.advance(11 * kSecond);
  CHECK(rs.sent() == 4);  // the new group: once
  rs.advance(30 * kMinute);
  CHECK(rs.sent() == 4);
}

}  // namespace
}  // namespace vigil::routing
