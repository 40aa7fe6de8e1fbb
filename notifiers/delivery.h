#pragma once

// Delivery: the routing::Notifier that sends notifications through the
// configured integrations. Each notification becomes a job on a bounded
// worker pool; a failed attempt that may succeed later is tried again with
// backoff (see retry.h) until the notification's deadline, and the outcome
// is logged, counted (metrics.h) and reported to the notify pipeline.
//
// A slow or unreachable receiver cannot starve the others: one integration
// never holds more than `max_in_flight_per_integration` workers; its further
// jobs wait their turn without holding a thread.
//
// Integrations and templates are built once per configuration (the first
// notification that names a new configuration builds them); a bad template
// file or integration setting fails that integration's notifications with a
// clear error, not the process.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "model/clock.h"
#include "net/worker_pool.h"
#include "notifiers/integration.h"
#include "notifiers/metrics.h"
#include "notifiers/retry.h"
#include "routing/notify.h"

namespace vigil::notifiers {

class NotificationHistory;

enum class LogLevel { kDebug, kInfo, kWarn, kError };
// Receives log lines already redacted.
using LogFn = std::function<void(LogLevel, std::string_view line)>;
// Writes logfmt lines to standard error.
LogFn stderr_log(LogLevel min_level = LogLevel::kInfo);

struct DeliveryOptions {
  size_t workers = 8;
  size_t max_queued = 100'000;
  size_t max_in_flight_per_integration = 0;  // 0: half the workers (at least 1)
  std::string external_url;                  // templates' .ExternalURL
  Millis default_deadline = 5 * kMinute;     // for notifications without one
  Backoff::Options backoff;
  uint64_t seed = 0;  // jitter; 0: random
  IntegrationOptions integration;
  LogFn log;  // null: stderr_log()
  // Called after each notification's own callback, whatever its outcome
  // (the daemon wakes its router loop, so the notification log is written
  // at once).
  std::function<void()> on_finished;
  // A dry run: integrations record what they would send there, and a
  // failure is final (nothing was sent that could be tried again).
  DryRun* dry_run = nullptr;
  // Where each finished notification is recorded (history.h), before its
  // callback runs. Null, or a dry run: nothing is recorded.
  NotificationHistory* history = nullptr;
};

struct DeliveryOutcome {
  bool delivered = false;
  int attempts = 0;
  FailureReason reason = FailureReason::kOther;
  std::string error;  // the last error, redacted; empty when delivered
};

class Delivery final : public routing::Notifier {
 public:
  Delivery(const Clock& clock, DeliveryOptions opts);
  ~Delivery() override;

  void notify(const routing::Notification& n, std::function<void(bool delivered)> done) override;
  // The same, reporting how it went.
  void deliver(const routing::Notification& n, std::function<void(const DeliveryOutcome&)> done);

  DeliveryMetrics& metrics() { return metrics_; }
  net::WorkerPool& pool() { return *pool_; }
  // Waits until no attempt runs or is ready to run, for at most `grace`:
  // what is in flight may finish (retries waiting for later do not count).
  void drain(std::chrono::milliseconds grace);
  // Stops the workers: an attempt still talking to its receiver is aborted
  // (within about a second, whatever its timeout), and notifications not yet
  // delivered fail (contextCanceled).
  void stop();

 private:
  struct Job;
  struct Lane;
  struct Prepared;

  std::shared_ptr<Prepared> prepared(const std::shared_ptr<const routing::Config>& config);
  void schedule(const std::shared_ptr<Job>& job, Millis due);
  void start(const std::shared_ptr<Job>& job);
  void attempt(const std::shared_ptr<Job>& job);
  void release_lane(const std::shared_ptr<Job>& job);
  void finish(const std::shared_ptr<Job>& job, bool ok, FailureReason reason, std::string error);
  // A logfmt line: the message quoted, then `fields` (already logfmt).
  void log(LogLevel level, const Job& job, std::string_view msg, std::string_view fields);

  const Clock& clock_;
  DeliveryOptions opts_;
  DeliveryMetrics metrics_;
  std::atomic<bool> stopping_{false};  // set once, by stop()
  std::mutex mu_;
  std::map<const routing::Config*, std::shared_ptr<Prepared>> prepared_;
  std::unique_ptr<net::WorkerPool> pool_;
};

}  // namespace vigil::notifiers
