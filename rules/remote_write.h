#pragma once

// Remote write of rule results: what recording rules record and the ALERTS /
// ALERTS_FOR_STATE series alerting rules write go, as they enter the store,
// to each `remote_write` destination of prometheus.yml in the remote write
// 1.0 protocol (snappy-compressed prometheus.WriteRequest), as Prometheus
// sends what its rules append.
//
// Per destination: external labels are added where a series lacks them, then
// write_relabel_configs apply; what is left waits in a bounded queue
// (queue_config.capacity samples; beyond it samples are dropped and counted,
// the rules never wait). Batches of max_samples_per_send go when full or
// once their oldest sample waited batch_send_deadline, one at a time and in
// order, so a series' samples arrive in time order. A batch that fails with a
// transport error, a 5xx, or a 429 (with retry_on_http_429) is retried with
// backoff from min_backoff doubling to max_backoff (a Retry-After header
// wins), until it is accepted: while the destination is down, samples wait in
// the queue, up to its capacity. Any other status drops the batch (counted as
// failed). At shutdown, flush() sends what is queued for a bounded time;
// what is left then is lost.
//
// Time is read from the clock; nothing here sleeps or starts threads: the
// owner calls run_due() when next_due() has come (server/ runs it on a loop of
// its own). append() is safe from any thread while run_due() sends.
// RemoteWriter runs its destinations one after another: one that does not
// answer holds the others back for up to its remote_timeout per attempt.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/prometheus_config.h"
#include "model/clock.h"
#include "model/error.h"
#include "model/labels.h"
#include "model/metrics_writer.h"
#include "net/http_client.h"
#include "promql/value.h"

namespace vigil::rules {

// Sends one request; a destination's HTTP client by default, a fake in tests.
using RemoteWriteTransport = std::function<Result<net::HttpResponse>(const net::HttpRequest&)>;
// Makes the transport for a destination (its http options: auth, TLS, ...).
using RemoteWriteTransportFactory = std::function<Result<RemoteWriteTransport>(const config::RemoteWriteConfig&)>;
// Problems worth a log line: a destination failing (`error`: a batch given
// up; otherwise retried; said once until it recovers) and recovering.
using RemoteWriteLog = std::function<void(bool error, const std::string& remote_name, const std::string& msg)>;
// The default: net::HttpClient from the destination's http options.
Result<RemoteWriteTransport> http_transport(const config::RemoteWriteConfig& cfg);

// A batch as the protocol's body: one TimeSeries per label set, in order of
// first appearance, each with its samples in the order given (floats in
// `samples`, native histograms in `histograms`, in the float form); protobuf
// serialised, then snappy-compressed.
std::string encode_write_request(std::span<const promql::Sample> samples);

// One destination's queue and sender.
class RemoteWriteQueue {
 public:
  RemoteWriteQueue(config::RemoteWriteConfig cfg, Labels external_labels, const Clock& clock,
                   RemoteWriteTransport transport, const std::atomic<bool>* cancel = nullptr,
                   RemoteWriteLog log = nullptr);

  // Relabels and queues; never waits for the sender. Native histogram
  // samples are queued only with send_native_histograms, as Prometheus
  // (otherwise they are left out, and that is logged once).
  void append(std::span<const promql::Sample> samples);
  // When run_due() has work: at once for a full batch, at the oldest
  // sample's deadline for a partial one, at the retry time for a failed one;
  // nullopt with nothing queued.
  std::optional<Millis> next_due() const;
  // Sends (or retries) at most one batch if it is due; returns after the
  // exchange. One caller at a time.
  void run_due();
  // Sends what is queued now, batch after batch, without waiting for
  // deadlines or backoff, until the queue is empty, an attempt fails, or
  // `until` (a steady-clock time point) passes. Each request's timeout is
  // cut to what is left of that time.
  void flush(std::chrono::steady_clock::time_point until);

  // `remote_name` label: the configured name, else a hash of the URL.
  const std::string& remote_name() const { return remote_name_; }
  const std::string& url() const { return cfg_.url; }
  const config::RemoteWriteConfig& config() const { return cfg_; }

  // samples_total, _failed and _retried count float samples, histograms_*
  // the native histogram ones; dropped and pending count both.
  struct Stats {
    uint64_t samples_total = 0;    // samples in send attempts (a retried sample counts again)
    uint64_t samples_failed = 0;   // dropped on an unrecoverable answer
    uint64_t samples_retried = 0;  // in attempts that failed recoverably
    uint64_t histograms_total = 0, histograms_failed = 0, histograms_retried = 0;
    uint64_t samples_dropped = 0;  // by write_relabel_configs, or the queue being full
    uint64_t bytes_total = 0;      // compressed bytes of send attempts
    size_t samples_pending = 0;    // queued or in the batch being sent
    double highest_sent_seconds = 0;
    // Send attempts by how long they took (kSendBuckets' bounds, cumulative).
    std::vector<uint64_t> send_seconds_cumulative;
    double send_seconds_sum = 0;
    uint64_t sends = 0;
  };
  // Upper bounds (seconds) of the send duration histogram, as Prometheus'.
  static const std::vector<double>& send_buckets();
  Stats stats() const;

 private:
  struct Batch {
    std::string body;
    size_t samples = 0;     // floats
    size_t histograms = 0;  // native histograms
    int64_t max_t = 0;
    Millis backoff = 0;  // the next retry's delay
  };
  void attempt(Batch& b, Millis now, Millis timeout);
  // The labels a series is sent with (external labels added, relabelled;
  // nullopt: dropped), remembered per series so that each queued sample
  // shares its series' label set instead of holding a copy.
  std::optional<Labels> send_labels(const Labels& in);
  // Takes the next batch off the queue (the caller holds send_mu_).
  bool take_batch(Millis now, bool ignore_deadline);

  // Constant after construction.
  const config::RemoteWriteConfig cfg_;
  const Labels external_labels_;
  const Clock& clock_;
  const RemoteWriteTransport transport_;
  const std::atomic<bool>* const cancel_;
  const RemoteWriteLog log_;
  std::string remote_name_;

  // Guards the label sets remembered by send_labels; emptied when it
  // outgrows four times the queue's capacity (series churn).
  std::mutex labels_mu_;
  std::unordered_map<uint64_t, std::pair<Labels, std::optional<Labels>>> sent_as_;

  // Guards the queue and when its oldest sample came.
  mutable std::mutex mu_;
  std::deque<promql::Sample> queue_;
  Millis oldest_at_ = 0;

  // The sender's (run_due's) own: the batch being sent or waiting to retry.
  std::timed_mutex send_mu_;  // flush waits for a send in flight only until its deadline
  std::optional<Batch> inflight_;
  std::atomic<Millis> retry_at_{0};  // 0: no batch waiting to retry
  std::atomic<size_t> inflight_samples_{0};
  bool failing_ = false;  // a retry was logged; recovery will be

  // Counters, read by stats() from any thread.
  std::atomic<uint64_t> samples_total_{0}, samples_failed_{0}, samples_retried_{0}, samples_dropped_{0},
      bytes_total_{0}, histograms_total_{0}, histograms_failed_{0}, histograms_retried_{0};
  std::atomic<bool> said_histograms_off_{false};
  std::atomic<int64_t> highest_sent_ms_{0};
  // The send duration histogram: written by the sender only, under hist_mu_.
  mutable std::mutex hist_mu_;
  std::vector<uint64_t> send_buckets_;  // per bucket, not cumulative
  double send_seconds_sum_ = 0;
  uint64_t sends_ = 0;
};

// Every destination of the loaded configuration.
class RemoteWriter {
 public:
  explicit RemoteWriter(const Clock& clock, RemoteWriteTransportFactory factory = http_transport,
                        RemoteWriteLog log = nullptr);
  ~RemoteWriter();

  // Takes the destinations of a (re)loaded configuration. A destination
  // whose settings did not change keeps its queue; the others start empty.
  // When a transport cannot be made, nothing changes.
  Result<void> apply(const std::vector<config::RemoteWriteConfig>& configs, const Labels& external_labels);
  // Hands rule output to every destination; never waits for a sender.
  void append(std::span<const promql::Sample> samples);
  std::optional<Millis> next_due() const;
  // Runs every destination that is due.
  void run_due();
  // RemoteWriteQueue::flush for every destination, within `grace` overall.
  void flush(Millis grace);
  // Ends a send in flight within about a second; later sends fail at once.
  void cancel() { cancel_ = true; }
  size_t destinations() const;

  // prometheus_remote_storage_* families, one sample per destination.
  void write_metrics(MetricsWriter& w) const;

 private:
  std::vector<std::shared_ptr<RemoteWriteQueue>> queues() const;

  const Clock& clock_;
  const RemoteWriteTransportFactory factory_;
  const RemoteWriteLog log_;
  std::atomic<bool> cancel_{false};
  std::atomic<int64_t> highest_appended_ms_{0};

  mutable std::mutex mu_;  // guards queues_
  std::vector<std::shared_ptr<RemoteWriteQueue>> queues_;
  // Settings each queue was made from, to tell a changed one on reload.
  std::vector<std::string> fingerprints_;
};

}  // namespace vigil::rules
