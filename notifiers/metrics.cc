#include "notifiers/metrics.h"

#include <fmt/format.h>

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

std::string DeliveryMetrics::exposition() const {
  std::lock_guard lock(mu_);
  std::string out;
  auto family = [&](std::string_view name, std::string_view type, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  family("alertmanager_notifications_total", "counter", "The total number of attempted notifications.");
  for (const auto& [t, m] : by_type_)
    out += fmt::format("alertmanager_notifications_total{{integration=\"{}\"}} {}\n", t, m->notifications());
  family("alertmanager_notifications_failed_total", "counter", "The total number of failed notifications.");
  for (const auto& [t, m] : by_type_)
    for (size_t r = 0; r < kFailureReasons; ++r)
      out += fmt::format("alertmanager_notifications_failed_total{{integration=\"{}\",reason=\"{}\"}} {}\n", t,
                         reason_name(static_cast<FailureReason>(r)), m->failures(static_cast<FailureReason>(r)));
  family("alertmanager_notification_requests_total", "counter", "The total number of attempted notification requests.");
  for (const auto& [t, m] : by_type_)
    out += fmt::format("alertmanager_notification_requests_total{{integration=\"{}\"}} {}\n", t, m->requests());
  family("alertmanager_notification_requests_failed_total", "counter",
         "The total number of failed notification requests.");
  for (const auto& [t, m] : by_type_)
    out += fmt::format("alertmanager_notification_requests_failed_total{{integration=\"{}\"}} {}\n", t,
                       m->failed_requests());
  family("alertmanager_notification_latency_seconds", "histogram", "The latency of notifications in seconds.");
  for (const auto& [t, m] : by_type_) {
    for (size_t i = 0; i < IntegrationMetrics::kBuckets.size(); ++i)
      out += fmt::format("alertmanager_notification_latency_seconds_bucket{{integration=\"{}\",le=\"{}\"}} {}\n", t,
                         IntegrationMetrics::kBuckets[i], m->bucket(i));
    out += fmt::format("alertmanager_notification_latency_seconds_bucket{{integration=\"{}\",le=\"+Inf\"}} {}\n", t,
                       m->requests());
    out += fmt::format("alertmanager_notification_latency_seconds_sum{{integration=\"{}\"}} {}\n", t,
                       m->latency_sum_seconds());
    out += fmt::format("alertmanager_notification_latency_seconds_count{{integration=\"{}\"}} {}\n", t, m->requests());
  }
  return out;
}

}  // namespace vigil::notifiers
