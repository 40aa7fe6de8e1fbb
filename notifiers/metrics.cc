#include "notifiers/metrics.h"

#include <fmt/format.h>

#include "model/metrics_writer.h"

#include "routing/config_specs.h"

namespace vigil::notifiers {

void IntegrationMetrics::request(bool ok, Millis latency) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  if (!ok) failed_requests_.fetch_add(1, std::memory_order_relaxed);
  latency_sum_ms_.fetch_add(static_cast<uint64_t>(std::max<Millis>(latency, 0)), std::memory_order_relaxed);
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (static_cast<double>(latency) <= kBuckets[i] * 1000) buckets_[i].fetch_add(1, std::memory_order_relaxed);
}

DeliveryMetrics::DeliveryMetrics() {
  // Every type is listed from the start, with zeros, as upstream does.
  for (const auto& kind : routing::integration_kinds())
    by_type_.emplace(std::string(kind.name), std::make_unique<IntegrationMetrics>());
}

IntegrationMetrics& DeliveryMetrics::integration(std::string_view type) {
  std::lock_guard lock(mu_);
  auto it = by_type_.find(type);
  if (it == by_type_.end()) it = by_type_.emplace(std::string(type), std::make_unique<IntegrationMetrics>()).first;
  return *it->second;
}

void DeliveryMetrics::write(MetricsWriter& w) const {
  std::lock_guard lock(mu_);
  auto per_integration = [&](std::string_view name, std::string_view help, auto value) {
    w.family(name, "counter", help);
    for (const auto& [t, m] : by_type_) w.sample(name, {{"integration", t}}, static_cast<double>(value(*m)));
  };
  per_integration("alertmanager_notifications_total", "The total number of attempted notifications.",
                  [](const IntegrationMetrics& m) { return m.notifications(); });
  w.family("alertmanager_notifications_failed_total", "counter", "The total number of failed notifications.");
  for (const auto& [t, m] : by_type_)
    for (size_t r = 0; r < kFailureReasons; ++r)
      w.sample("alertmanager_notifications_failed_total",
               {{"integration", t}, {"reason", reason_name(static_cast<FailureReason>(r))}},
               static_cast<double>(m->failures(static_cast<FailureReason>(r))));
  per_integration("alertmanager_notification_requests_total", "The total number of attempted notification requests.",
                  [](const IntegrationMetrics& m) { return m.requests(); });
  per_integration("alertmanager_notification_requests_failed_total",
                  "The total number of failed notification requests.",
                  [](const IntegrationMetrics& m) { return m.failed_requests(); });
  w.family("alertmanager_notification_latency_seconds", "histogram", "The latency of notifications in seconds.");
  const std::vector<double> bounds(IntegrationMetrics::kBuckets.begin(), IntegrationMetrics::kBuckets.end());
  for (const auto& [t, m] : by_type_) {
    std::vector<uint64_t> cumulative;
    for (size_t i = 0; i < bounds.size(); ++i) cumulative.push_back(m->bucket(i));
    w.histogram("alertmanager_notification_latency_seconds", {{"integration", t}}, bounds, cumulative,
                m->latency_sum_seconds(), m->requests());
  }
}

std::string DeliveryMetrics::exposition() const {
  std::string out;
  MetricsWriter w(out);
  write(w);
  return out;
}

}  // namespace vigil::notifiers
