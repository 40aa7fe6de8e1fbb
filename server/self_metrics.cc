#include "server/self_metrics.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "model/build_info.h"
#include "model/file.h"

namespace vigil::server {

void write_process_metrics(MetricsWriter& w, Millis started_at) {
  w.family("vigil_build_info", "gauge", "A metric with a constant '1' value labeled by version, revision and build date.");
  w.sample("vigil_build_info", {{"version", build::kVersion}, {"revision", build::kCommit}, {"date", build::kDate}}, 1);
  w.single("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
           static_cast<double>(started_at) / 1000.0);
  auto stat = read_file("/proc/self/stat");
  if (!stat) return;
  // Fields after the command name (which may hold spaces) in parentheses.
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return;
  std::vector<std::string> f;
  for (size_t i = close + 2; i < stat->size();) {
    size_t j = stat->find(' ', i);
    if (j == std::string::npos) j = stat->size();
    f.push_back(stat->substr(i, j - i));
    i = j + 1;
  }
  if (f.size() < 22) return;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  size_t fds = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++fds;
  w.single("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
           (std::strtod(f[11].c_str(), nullptr) + std::strtod(f[12].c_str(), nullptr)) / ticks);
  w.single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
           std::strtod(f[21].c_str(), nullptr) * page);
  w.single("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", std::strtod(f[20].c_str(), nullptr));
  w.single("process_open_fds", "gauge", "Number of open file descriptors.", static_cast<double>(fds));
}

void RequestMetrics::observe(std::string_view handler, int code, double seconds) {
  std::lock_guard lock(mu_);
  std::string_view key = handler.empty() ? std::string_view("other") : handler;
  auto it = by_handler_.find(key);
  if (it == by_handler_.end()) it = by_handler_.emplace(std::string(key), Handler{}).first;
  Handler& h = it->second;
  ++h.codes[code];
  ++h.count;
  h.sum += seconds;
  for (size_t i = 0; i < std::size(kBuckets); ++i)
    if (seconds <= kBuckets[i]) ++h.buckets[i];
}

void RequestMetrics::write(MetricsWriter& w) const {
  std::lock_guard lock(mu_);
  w.family("vigil_http_requests_total", "counter", "HTTP requests by handler and status code.");
  for (const auto& [name, h] : by_handler_)
    for (const auto& [code, n] : h.codes)
      w.sample("vigil_http_requests_total", {{"handler", name}, {"code", std::to_string(code)}}, static_cast<double>(n));
  w.family("vigil_http_request_duration_seconds", "histogram", "HTTP request latencies by handler.");
  const std::vector<double> bounds(std::begin(kBuckets), std::end(kBuckets));
  for (const auto& [name, h] : by_handler_) {
    w.histogram("vigil_http_request_duration_seconds", {{"handler", name}}, bounds,
                std::vector<uint64_t>(std::begin(h.buckets), std::end(h.buckets)), h.sum, h.count);
  }
}

void ReloadStatus::write(MetricsWriter& w) const {
  w.single("vigil_config_last_reload_successful", "gauge",
           "Whether the last configuration reload attempt was successful.", last_ok ? 1 : 0);
  w.single("vigil_config_last_reload_success_timestamp_seconds", "gauge",
           "Timestamp of the last successful configuration reload.", static_cast<double>(last_success.load()) / 1000.0);
  w.single("vigil_config_reloads_failed_total", "counter", "Configuration reloads that failed.",
           static_cast<double>(failures.load()));
}

}  // namespace vigil::server
