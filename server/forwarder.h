#pragma once

// Alerts forwarded to the external Alertmanagers of prometheus.yml's
// alerting.alertmanagers (Prometheus' notifier/): their static targets and
// file-discovered ones, followed as the files change, after
// relabel_configs. Alerts wait in a bounded queue (the oldest dropped when
// it is full, and counted) and go out from a thread of their own, in batches
// to every Alertmanager, so a slow Alertmanager never delays the rules.
// Thread-safe.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/prometheus_config.h"
#include "model/clock.h"
#include "model/metrics_writer.h"
#include "net/http_client.h"
#include "routing/alert.h"
#include "server/log.h"
#include "storage/file_sd.h"

namespace vigil::server {

class Forwarder {
 public:
  Forwarder(const Clock& clock, Logger& log, Millis file_sd_poll);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Replaces the Alertmanagers with those `configs` name (their discovery
  // files are read at once). A config whose client cannot be built is
  // logged and left out.
  void apply(const std::vector<config::AlertmanagerTargetConfig>& configs);
  // Re-reads the discovery files that changed.
  void refresh();
  // Queues alerts for every Alertmanager (nothing when there is none).
  void push(std::vector<routing::Alert> alerts);
  // prometheus_notifications_{sent,errors,dropped}_total, by Alertmanager.
  void write_metrics(MetricsWriter& w) const;

 private:
  struct Target {
    std::string url;  // .../api/v2/alerts
    std::shared_ptr<net::HttpClient> client;
    Millis timeout = 10 * kSecond;
    uint64_t sent = 0, errors = 0;
  };
  struct Source {
    config::AlertmanagerTargetConfig cfg;
    std::shared_ptr<net::HttpClient> client;
    std::unique_ptr<storage::FileDiscovery> discovery;
  };
  static constexpr size_t kMaxQueue = 10000;
  static constexpr size_t kMaxBatch = 256;

  void loop();
  // The targets of sources_ now (sources_mu_ held).
  std::vector<Target> targets_of_sources() const;
  void set_targets(std::vector<Target> t);
  static std::string encode(const std::vector<routing::Alert>& alerts);

  // Constant after construction.
  const Clock& clock_;
  Logger& log_;
  const Millis file_sd_poll_;

  std::mutex sources_mu_;  // guards sources_; taken before mu_, never after
  std::vector<Source> sources_;

  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  std::deque<routing::Alert> queue_;
  std::vector<Target> targets_;
  uint64_t dropped_ = 0;
  bool stop_ = false;

  std::thread thread_;  // last: starts once the fields above exist
};

}  // namespace vigil::server
