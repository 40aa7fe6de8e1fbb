#pragma once

// Builds notifications from a configuration text, as the notify pipeline
// hands them to a Notifier, and drives a Delivery on a ManualClock.

#include <doctest/doctest.h>

#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "model/clock.h"
#include "notifiers/delivery.h"
#include "routing/config.h"
#include "routing/notify.h"

namespace vigil::notifiers::testing {

inline constexpr Millis kT0 = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

inline std::shared_ptr<const routing::Config> load(const std::string& yaml) {
  routing::LoadResult r = routing::parse_config(yaml);
  for (const auto& e : r.errors) MESSAGE("config error: ", e.message, " at line ", e.line);
  REQUIRE(r.ok());
  return std::make_shared<routing::Config>(std::move(r.config));
}

inline std::shared_ptr<const routing::Alert> make_alert(std::vector<Label> labels, std::vector<Label> annotations,
                                                        Millis starts, Millis ends = 0) {
  auto a = std::make_shared<routing::Alert>();
  a->labels = Labels(labels);
  a->annotations = std::move(annotations);
  a->starts_at = starts;
  a->ends_at = ends;
  a->updated_at = starts;
  a->generator_url = "http://prometheus.example/graph?g0.expr=up";
  return a;
}

// A notification for the receiver's integration number `index`, firing
// `alerts` (resolved ones are those with an end at or before `now`).
inline routing::Notification notification(const std::shared_ptr<const routing::Config>& cfg,
                                          std::string_view receiver, size_t index,
                                          std::vector<std::shared_ptr<const routing::Alert>> alerts,
                                          Millis now = kT0, Millis deadline = kT0 + 5 * kMinute) {
  const routing::ReceiverConfig* r = cfg->receiver(receiver);
  REQUIRE(r != nullptr);
  REQUIRE(index < r->integrations.size());
  routing::Notification n;
  n.config = cfg;
  n.receiver = r;
  n.integration = &r->integrations[index];
  n.group_labels = Labels({{"alertname", std::string(alerts.front()->name())}});
  n.group_key = "{}:{alertname=\"" + std::string(alerts.front()->name()) + "\"}";
  for (auto& a : alerts) n.alerts.push_back(routing::FlushedAlert{a, a->resolved_at(now)});
  n.reason = routing::NotifyReason::kNone;
  n.now = now;
  n.deadline = deadline;
  n.flush_id = 1;
  return n;
}

// Log lines a Delivery wrote.
struct LogCapture {
  std::mutex mu;
  std::vector<std::string> lines;
  LogFn fn() {
    return [this](LogLevel, std::string_view line) {
      std::lock_guard lock(mu);
      lines.emplace_back(line);
    };
  }
  std::string all() {
    std::lock_guard lock(mu);
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
};

// Delivers `n` and moves the clock from one retry to the next until the
// outcome is known. No waiting on wall time: the pool reports when it is
// idle and when its next retry is due.
inline DeliveryOutcome deliver_all(Delivery& d, ManualClock& clock, const routing::Notification& n) {
  auto promise = std::make_shared<std::promise<DeliveryOutcome>>();
  auto future = promise->get_future();
  d.deliver(n, [promise](const DeliveryOutcome& o) { promise->set_value(o); });
  for (int step = 0; step < 1000; ++step) {
    d.pool().wait_idle();
    if (future.wait_for(std::chrono::seconds(0)) == std::future_status::ready) return future.get();
    auto due = d.pool().next_due();
    REQUIRE(due.has_value());
    clock.set(std::max(*due, clock.now()));
    d.pool().wake();
  }
  FAIL("delivery did not finish");
  return {};
}

}  // namespace vigil::notifiers::testing
