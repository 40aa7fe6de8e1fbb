#pragma once

// Delivery counters and latencies per integration type, under upstream's
// metric names so existing dashboards keep working:
//   alertmanager_notifications_total{integration}
//   alertmanager_notifications_failed_total{integration,reason}
//   alertmanager_notification_requests_total{integration}
//   alertmanager_notification_requests_failed_total{integration}
//   alertmanager_notification_latency_seconds{integration} (histogram)

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "model/duration.h"
#include "model/metrics_writer.h"
#include "notifiers/retry.h"

namespace vigil::notifiers {

class IntegrationMetrics {
 public:
  static constexpr std::array<double, 5> kBuckets{1, 5, 10, 15, 20};  // seconds, as upstream

  void notification() { notifications_.fetch_add(1, std::memory_order_relaxed); }
  void failed(FailureReason r) { failed_[static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed); }
  // One request (attempt) and how long it took.
  void request(bool ok, Millis latency);

  uint64_t notifications() const { return notifications_.load(); }
  uint64_t failures(FailureReason r) const { return failed_[static_cast<size_t>(r)].load(); }
  uint64_t requests() const { return requests_.load(); }
  uint64_t failed_requests() const { return failed_requests_.load(); }
  // Observations at or below kBuckets[i] seconds.
  uint64_t bucket(size_t i) const { return buckets_[i].load(); }
  double latency_sum_seconds() const { return static_cast<double>(latency_sum_ms_.load()) / 1000.0; }

 private:
  std::atomic<uint64_t> notifications_{0};
  std::array<std::atomic<uint64_t>, kFailureReasons> failed_{};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> failed_requests_{0};
  std::array<std::atomic<uint64_t>, kBuckets.size()> buckets_{};
  std::atomic<uint64_t> latency_sum_ms_{0};
};

class DeliveryMetrics {
 public:
  DeliveryMetrics();
  // The counters of an integration type ("slack", "webhook", ...).
  IntegrationMetrics& integration(std::string_view type);
  // The Prometheus text exposition of all of them.
  void write(MetricsWriter& w) const;
  std::string exposition() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<IntegrationMetrics>, std::less<>> by_type_;
};

}  // namespace vigil::notifiers
