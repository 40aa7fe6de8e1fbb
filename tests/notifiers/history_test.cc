// The notification history: one entry per finished notification (after
// retries), what the filters select, the bounds by age and count, and the
// files in the storage path surviving a restart, a torn tail and damage.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "model/file.h"
#include "notifiers/dry_run.h"
#include "notifiers/history.h"
#include "tests/notifiers/harness.h"
#include "tests/notifiers/test_server.h"
#include "tests/temp_dir.h"

using namespace vigil;
using namespace vigil::notifiers;
using namespace vigil::notifiers::testing;
using vigil::testing::TempDir;

namespace {

HistoryEntry entry(std::string receiver, std::string alertname, bool firing = true, bool success = true,
                   std::string integration = "webhook", uint32_t index = 0) {
  HistoryEntry e;
  e.receiver = std::move(receiver);
  e.integration = std::move(integration);
  e.integration_index = index;
  e.group_key = fmt::format("{{}}:{{alertname=\"{}\"}}", alertname);
  e.group_labels = Labels({{"alertname", alertname}});
  e.firing = firing;
  e.alerts.push_back(HistoryAlert{Labels({{"alertname", alertname}, {"instance", "a"}}), !firing, kT0 - kMinute});
  e.alerts.push_back(HistoryAlert{Labels({{"alertname", alertname}, {"instance", "b"}, {"team", "db"}}), !firing,
                                  kT0 - 2 * kMinute});
  e.success = success;
  e.attempts = success ? 1 : 3;
  e.error = success ? "" : "unexpected status code 500";
  e.duration = 12;
  return e;
}

Matcher eq(std::string name, std::string value) { return Matcher::make(MatchType::kEqual, name, value).value(); }

std::vector<std::string> receivers_of(const HistoryPage& p) {
  std::vector<std::string> out;
  for (const auto& e : p.entries) out.push_back(e->receiver);
  return out;
}

NotificationHistory::Options on_disk(const TempDir& dir, size_t max_entries = 100, Millis retention = kDay) {
  NotificationHistory::Options o;
  o.dir = dir.path().string();
  o.max_entries = max_entries;
  o.retention = retention;
  return o;
}

void check_same(const HistoryEntry& a, const HistoryEntry& b) {
  CHECK(a.time == b.time);
  CHECK(a.receiver == b.receiver);
  CHECK(a.integration == b.integration);
  CHECK(a.integration_index == b.integration_index);
  CHECK(a.group_key == b.group_key);
  CHECK(a.group_labels == b.group_labels);
  CHECK(a.firing == b.firing);
  CHECK(a.success == b.success);
  CHECK(a.attempts == b.attempts);
  CHECK(a.error == b.error);
  CHECK(a.duration == b.duration);
  REQUIRE(a.alerts.size() == b.alerts.size());
  for (size_t i = 0; i < a.alerts.size(); ++i) {
    CHECK(a.alerts[i].labels == b.alerts[i].labels);
    CHECK(a.alerts[i].resolved == b.alerts[i].resolved);
    CHECK(a.alerts[i].starts_at == b.alerts[i].starts_at);
  }
}

}  // namespace

TEST_CASE("history: a delivery records one entry per notification, after its retries") {
  ManualClock clock(kT0);
  std::atomic<int> calls{0};
  TestServer flaky(
      [&](const Captured&, httplib::Response& res) {
        if (++calls <= 2) {
          res.status = 500;
          res.set_content("try later", "text/plain");
        }
      },
      &clock);
  TestServer refusing([](const Captured&, httplib::Response& res) {
    res.status = 400;
    res.set_content("bad payload", "text/plain");
  });
  auto cfg = load(receiver_config(
      fmt::format("  webhook_configs:\n  - url: '{}'\n  - url: '{}'\n", flaky.url(), refusing.url())));
  NotificationHistory history({}, clock);
  LogCapture logs;
  DeliveryOptions o = options(logs);
  o.history = &history;
  Delivery d(clock, o);

  const DeliveryOutcome ok = deliver_all(d, clock, notification(cfg, "r", 0, two_alerts(true), clock.now()));
  REQUIRE(ok.delivered);
  const Millis after_first = clock.now();
  const DeliveryOutcome bad = deliver_all(d, clock, notification(cfg, "r", 1, two_alerts(), clock.now()));
  REQUIRE_FALSE(bad.delivered);

  HistoryPage all = history.query({});
  REQUIRE(all.total == 2);
  REQUIRE(all.entries.size() == 2);
  const HistoryEntry& failed = *all.entries[0];  // newest first
  const HistoryEntry& sent = *all.entries[1];
  CHECK(sent.receiver == "r");
  CHECK(sent.integration == "webhook");
  CHECK(sent.integration_index == 0);
  CHECK(sent.group_key == "{}:{alertname=\"DiskFull\"}");
  CHECK(sent.group_labels == Labels({{"alertname", "DiskFull"}}));
  CHECK(sent.success);
  CHECK(sent.attempts == 3);
  CHECK(sent.error.empty());
  CHECK(sent.time == after_first);
  CHECK(sent.duration == after_first - kT0);  // the two waits between the attempts
  CHECK(sent.duration > 0);
  CHECK(sent.firing);
  REQUIRE(sent.alerts.size() == 2);
  CHECK(sent.alerts[0].labels.get("instance") == "a:9100");
  CHECK_FALSE(sent.alerts[0].resolved);
  CHECK(sent.alerts[0].starts_at == kT0 - kMinute);
  CHECK(sent.alerts[1].resolved);

  CHECK(failed.integration_index == 1);
  CHECK_FALSE(failed.success);
  CHECK(failed.attempts == 1);
  CHECK(failed.error.find("unexpected status code 400") != std::string::npos);
  CHECK(failed.error.find("bad payload") != std::string::npos);
  CHECK(failed.error == bad.error);
}

TEST_CASE("history: a resolved-only notification is recorded as resolved") {
  ManualClock clock(kT0);
  TestServer server;
  auto cfg = load(receiver_config(fmt::format("  webhook_configs:\n  - url: '{}'\n    send_resolved: true\n",
                                              server.url())));
  NotificationHistory history({}, clock);
  LogCapture logs;
  DeliveryOptions o = options(logs);
  o.history = &history;
  Delivery d(clock, o);
  auto resolved = make_alert({{"alertname", "Gone"}}, {}, kT0 - kHour, kT0 - kMinute);
  REQUIRE(deliver_all(d, clock, notification(cfg, "r", 0, {resolved})).delivered);
  REQUIRE(history.size() == 1);
  CHECK_FALSE(history.query({}).entries[0]->firing);
}

TEST_CASE("history: a dry run records nothing") {
  ManualClock clock(kT0);
  TestServer server;
  auto cfg = load(receiver_config(fmt::format("  webhook_configs:\n  - url: '{}'\n", server.url())));
  NotificationHistory history({}, clock);
  DryRun dry;
  LogCapture logs;
  DeliveryOptions o = options(logs);
  o.history = &history;
  o.dry_run = &dry;
  Delivery d(clock, o);
  deliver_all(d, clock, notification(cfg, "r", 0, two_alerts()));
  CHECK(dry.requests().size() == 1);
  CHECK(history.size() == 0);
}

TEST_CASE("history: filters by receiver, integration, alert matchers, status, outcome and time") {
  ManualClock clock(kT0);
  NotificationHistory history({}, clock);
  history.record(entry("team-a", "DiskFull"));                                // kT0
  clock.advance(kSecond);
  history.record(entry("team-b", "DiskFull", false));                         // kT0+1s, resolved
  clock.advance(kSecond);
  history.record(entry("team-a", "CPU", true, false));                        // kT0+2s, failed
  clock.advance(kSecond);
  history.record(entry("team-a", "CPU", true, true, "slack", 1));             // kT0+3s

  CHECK(receivers_of(history.query({})) == std::vector<std::string>{"team-a", "team-a", "team-b", "team-a"});

  HistoryQuery q;
  q.receiver = "team-a";
  CHECK(history.query(q).total == 3);

  q = {};
  q.integration = "slack";
  CHECK(history.query(q).total == 1);
  q.integration = "slack[1]";
  CHECK(history.query(q).total == 1);
  q.integration = "slack[0]";
  CHECK(history.query(q).total == 0);
  q.integration = "webhook";
  CHECK(history.query(q).total == 3);

  q = {};
  q.filter = {eq("alertname", "CPU")};
  CHECK(history.query(q).total == 2);
  // Both matchers on the same alert: instance b has team=db.
  q.filter = {eq("instance", "b"), eq("team", "db")};
  CHECK(history.query(q).total == 4);
  // No single alert has instance a and team db.
  q.filter = {eq("instance", "a"), eq("team", "db")};
  CHECK(history.query(q).total == 0);

  q = {};
  q.firing = false;
  REQUIRE(history.query(q).total == 1);
  CHECK(history.query(q).entries[0]->receiver == "team-b");
  q = {};
  q.success = false;
  REQUIRE(history.query(q).total == 1);
  CHECK(history.query(q).entries[0]->alerts[0].labels.get("alertname") == "CPU");

  q = {};
  q.since = kT0 + kSecond;
  q.until = kT0 + 2 * kSecond;
  HistoryPage p = history.query(q);
  REQUIRE(p.total == 2);
  CHECK(p.entries[0]->time == kT0 + 2 * kSecond);
  CHECK(p.entries[1]->time == kT0 + kSecond);

  q = {};
  q.limit = 1;
  p = history.query(q);
  CHECK(p.total == 4);
  REQUIRE(p.entries.size() == 1);
  CHECK(p.entries[0]->time == kT0 + 3 * kSecond);
}

TEST_CASE("history: bounded by count and by age, and counts what it drops") {
  ManualClock clock(kT0);
  NotificationHistory::Options o;
  o.max_entries = 3;
  o.retention = kHour;
  NotificationHistory history(o, clock);
  for (int i = 0; i < 5; ++i) {
    history.record(entry(fmt::format("r{}", i), "X"));
    clock.advance(10 * kMinute);
  }
  CHECK(receivers_of(history.query({})) == std::vector<std::string>{"r4", "r3", "r2"});
  // r2 was recorded at kT0+20m; at kT0+81m it is older than the hour.
  clock.set(kT0 + 81 * kMinute);
  REQUIRE(history.maintain());
  CHECK(receivers_of(history.query({})) == std::vector<std::string>{"r4", "r3"});
  std::string metrics;
  MetricsWriter w(metrics);
  history.write_metrics(w);
  CHECK(metrics.find("vigil_notification_history_entries 2\n") != std::string::npos);
  CHECK(metrics.find("vigil_notification_history_dropped_total{reason=\"count\"} 2\n") != std::string::npos);
  CHECK(metrics.find("vigil_notification_history_dropped_total{reason=\"age\"} 1\n") != std::string::npos);
  CHECK(metrics.find("vigil_notification_history_recorded_total 5\n") != std::string::npos);
}

TEST_CASE("history: entries survive a restart, and later ones follow them") {
  TempDir dir;
  ManualClock clock(kT0);
  std::vector<HistoryEntry> written;
  {
    NotificationHistory h(on_disk(dir), clock);
    CHECK(h.load().entries == 0);
    for (int i = 0; i < 3; ++i) {
      HistoryEntry e = entry(fmt::format("r{}", i), "X", i != 1, i != 2);
      h.record(e);
      written.push_back(*h.query({}).entries.front());
      clock.advance(kSecond);
    }
    // No sync, no stop: what a killed process leaves.
  }
  {
    NotificationHistory h(on_disk(dir), clock);
    auto loaded = h.load();
    CHECK(loaded.damage.empty());
    REQUIRE(loaded.entries == 3);
    HistoryPage p = h.query({});
    REQUIRE(p.entries.size() == 3);
    for (size_t i = 0; i < 3; ++i) check_same(*p.entries[2 - i], written[i]);
    h.record(entry("r3", "Y"));
    REQUIRE(h.maintain());
  }
  NotificationHistory h(on_disk(dir), clock);
  REQUIRE(h.load().entries == 4);
  CHECK(receivers_of(h.query({})) == std::vector<std::string>{"r3", "r2", "r1", "r0"});
}

TEST_CASE("history: the bounds apply to what is read back, and the files shrink to match") {
  TempDir dir;
  ManualClock clock(kT0);
  {
    NotificationHistory h(on_disk(dir, 100, kDay), clock);
    h.load();
    for (int i = 0; i < 10; ++i) {
      h.record(entry(fmt::format("r{}", i), "X"));
      clock.advance(kHour);
    }
  }
  {
    // Restarted with smaller bounds: 4 entries at most, and 5h at most
    // (r5..r9 were recorded at kT0+5h..kT0+9h; now is kT0+10h).
    NotificationHistory h(on_disk(dir, 4, 5 * kHour), clock);
    auto loaded = h.load();
    CHECK_FALSE(loaded.fold_error);
    CHECK(loaded.entries == 4);
    CHECK(receivers_of(h.query({})) == std::vector<std::string>{"r9", "r8", "r7", "r6"});
  }
  // The log was folded into a snapshot of the four: a start with the old
  // bounds does not bring the others back.
  NotificationHistory h(on_disk(dir, 100, kDay), clock);
  CHECK(h.load().entries == 4);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "history.log.1"));
}

TEST_CASE("history: the log is folded once it outgrows the snapshot") {
  TempDir dir;
  ManualClock clock(kT0);
  NotificationHistory::Options o = on_disk(dir, 50);
  o.min_fold_bytes = 4096;
  {
    NotificationHistory h(o, clock);
    h.load();
    for (int i = 0; i < 500; ++i) {
      h.record(entry(fmt::format("r{}", i), "X"));
      clock.advance(kSecond);
      if (i % 50 == 49) REQUIRE(h.maintain());
    }
    const auto log = std::filesystem::file_size(dir.path() / "history.log");
    const auto snapshot = std::filesystem::file_size(dir.path() / "history.snapshot");
    // 50 entries are kept; the files hold about that, not the 500 recorded.
    const auto one = snapshot / 50;
    CHECK(log + snapshot < 160 * one);
  }
  NotificationHistory h(o, clock);
  CHECK(h.load().entries == 50);
  CHECK(receivers_of(h.query({})).front() == "r499");
}

TEST_CASE("history: a torn last record loses that record only") {
  TempDir dir;
  ManualClock clock(kT0);
  {
    NotificationHistory h(on_disk(dir), clock);
    h.load();
    for (int i = 0; i < 3; ++i) h.record(entry(fmt::format("r{}", i), "X"));
  }
  const auto log = dir.path() / "history.log";
  std::filesystem::resize_file(log, std::filesystem::file_size(log) - 7);
  {
    NotificationHistory h(on_disk(dir), clock);
    auto loaded = h.load();
    REQUIRE(loaded.damage.size() == 1);
    CHECK(loaded.damage[0].what.find("not a whole record") != std::string::npos);
    CHECK(loaded.entries == 2);
    CHECK(receivers_of(h.query({})) == std::vector<std::string>{"r1", "r0"});
    h.record(entry("r3", "X"));
  }
  NotificationHistory h(on_disk(dir), clock);
  auto loaded = h.load();
  CHECK(loaded.damage.empty());
  CHECK(receivers_of(h.query({})) == std::vector<std::string>{"r3", "r1", "r0"});
}

TEST_CASE("history: damage in the middle of the log costs the record it hits") {
  TempDir dir;
  ManualClock clock(kT0);
  {
    NotificationHistory h(on_disk(dir), clock);
    h.load();
    h.record(entry("first", "X"));
    h.record(entry("second", "X"));
    h.record(entry("third", "X"));
  }
  const auto log = dir.path() / "history.log";
  std::string bytes = read_file(log.string()).value();
  const size_t at = bytes.find("second");
  REQUIRE(at != std::string::npos);
  bytes[at] = 'S';
  std::ofstream(log, std::ios::binary | std::ios::trunc) << bytes;
  NotificationHistory h(on_disk(dir), clock);
  auto loaded = h.load();
  CHECK(loaded.damage.size() == 1);
  CHECK(receivers_of(h.query({})) == std::vector<std::string>{"third", "first"});
}

TEST_CASE("history: an entry's encoding round-trips, and a short payload is refused") {
  HistoryEntry e = entry("team-x", "Disk \"full\"", false, false, "email", 2);
  e.time = kT0;
  e.omitted_alerts = 5;
  std::string payload;
  encode_history_entry(payload, e);
  auto back = decode_history_entry(payload);
  REQUIRE(back);
  check_same(*back, e);
  CHECK(back->omitted_alerts == 5);
  CHECK_FALSE(decode_history_entry(std::string_view(payload).substr(0, payload.size() - 1)));
  CHECK_FALSE(decode_history_entry(payload + "x"));
}
