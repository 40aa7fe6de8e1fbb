#pragma once

// A Router driven by a ManualClock, with a notifier that records what it is
// asked to send. Time only moves through advance(), which then runs what is
// due, as a daemon's loop would.

#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/clock.h"
#include "routing/config.h"
#include "routing/router.h"

namespace vigil::routing::testing {

inline constexpr Millis kT0 = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

struct Sent {
  std::string receiver;
  std::string integration;
  std::string group_key;
  std::vector<std::string> firing;    // alertnames (or the labels when unnamed)
  std::vector<std::string> resolved;
  NotifyReason reason;
  Millis at;
  ReceiverData data;  // the receiver data the notification started with
};

class RecordingNotifier : public Notifier {
 public:
  void notify(const Notification& n, std::function<void(bool)> done) override {
    Sent s{n.receiver->name, n.integration->type, n.group_key, {}, {}, n.reason, n.now, n.store->data()};
    for (const FlushedAlert& a : n.alerts) {
      std::string name = a->name().empty() ? a->labels.to_string() : std::string(a->name());
      (a.resolved ? s.resolved : s.firing).push_back(name);
    }
    sent.push_back(std::move(s));
    if (keep) keep(n, *n.store);
    if (defer) pending.push_back(std::move(done));
    else done(!fail);
  }
  std::vector<Sent> take() { return std::exchange(sent, {}); }

  std::vector<Sent> sent;
  bool fail = false;   // report every delivery as failed
  bool defer = false;  // hold completions in `pending`
  // Sets receiver data as an integration would while delivering.
  std::function<void(const Notification&, ReceiverStore&)> keep;
  std::vector<std::function<void(bool)>> pending;
};

inline std::shared_ptr<const Config> config_of(std::string_view yaml) {
  LoadResult r = parse_config(yaml);
  REQUIRE_MESSAGE(r.ok(), (r.errors.empty() ? std::string() : format_error("config", r.errors[0])));
  return std::make_shared<const Config>(std::move(r.config));
}

class Harness {
 public:
  explicit Harness(std::string_view yaml, std::string data_dir = "", Millis start = kT0)
      : clock(start), config(config_of(yaml)), dir_(std::move(data_dir)) {
    router = std::make_unique<Router>(config, clock, notifier, Router::Options{dir_});
    if (!dir_.empty()) router->restore();  // as a daemon starts: changes are kept from here on
  }

  // Posts an alert as Prometheus would: `labels`, starting at `starts`
  // (0: now), ending at `ends` (0: not sent).
  void post(Labels labels, Millis starts = 0, Millis ends = 0) {
    Alert a;
    a.labels = std::move(labels);
    a.starts_at = starts;
    a.ends_at = ends;
    router->put_alerts({a});
    router->run_due();
  }
  void resolve(Labels labels, Millis starts) { post(std::move(labels), starts, clock.now()); }

  // Moves time forward in one-second steps, running what is due at each.
  void advance(Millis d) {
    const Millis end = clock.now() + d;
    while (clock.now() < end) {
      clock.advance(std::min<Millis>(kSecond, end - clock.now()));
      router->run_due();
    }
  }

  // Restarts: snapshot, drop the router, make a new one from the data dir.
  // A crash instead saves only what a daemon saves as it goes (the
  // notification log after each flush; alerts and silence changes are in
  // their logs as they are made).
  void restart(bool graceful = true) {
    if (graceful) {
      REQUIRE(router->snapshot());
    } else {
      Router::SavedVersions saved;
      REQUIRE(router->save_changed(saved));
    }
    router.reset();
    router = std::make_unique<Router>(config, clock, notifier, Router::Options{data_dir()});
    auto restored = router->restore();
    CHECK(restored.damage.empty());
    CHECK(restored.errors.empty());
  }
  std::string data_dir() const { return dir_; }

  ManualClock clock;
  std::shared_ptr<const Config> config;
  RecordingNotifier notifier;
  std::unique_ptr<Router> router;

 private:
  std::string dir_;
};

}  // namespace vigil::routing::testing
