#pragma once

// The daemon's own metrics: what every Prometheus client exposes about its
// process (CPU, memory, descriptors, start time, read from /proc), build
// information, and HTTP requests by handler and status with their latencies.

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "model/duration.h"
#include "model/metrics_writer.h"

namespace vigil::server {

// process_* (from /proc/self), process_start_time_seconds and vigil_build_info.
void write_process_metrics(MetricsWriter& w, Millis started_at);

// Requests by handler and status code, and a latency histogram per handler
// (vigil_http_requests_total, vigil_http_request_duration_seconds).
// Thread-safe.
class RequestMetrics {
 public:
  // `handler` is the route pattern ("" for a request no route took).
  void observe(std::string_view handler, int code, double seconds);
  void write(MetricsWriter& w) const;

 private:
  static constexpr double kBuckets[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};
  struct Handler {
    std::map<int, uint64_t> codes;
    uint64_t buckets[std::size(kBuckets)] = {};  // cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;  // guards by_handler_
  std::map<std::string, Handler, std::less<>> by_handler_;
};

// The outcome of configuration loads (vigil_config_last_reload_successful,
// ..._success_timestamp_seconds, vigil_config_reloads_failed_total).
// Thread-safe.
struct ReloadStatus {
  std::atomic<bool> last_ok{true};
  std::atomic<Millis> last_success{0};
  std::atomic<uint64_t> failures{0};

  void succeeded(Millis at) {
    last_ok = true;
    last_success = at;
  }
  void failed() {
    last_ok = false;
    ++failures;
  }
  void write(MetricsWriter& w) const;
};

}  // namespace vigil::server
