#pragma once

// Alertmanager's event recorder (upstream eventrecorder/, behind
// --enable-feature=event-recorder): the events of routing/events.h go
// through a bounded queue (8192 events; full means the event is dropped and
// counted, never that the pipeline waits) to one writer thread, which
// encodes each and hands it to every output of the `event_recorder` block:
//
//   file_outputs    one JSON line per event appended to `path`; when the
//                   file was moved or removed (log rotation), the next
//                   event reopens the path.
//   stdout_outputs  one JSON line per event on standard output.
//   webhook_outputs each event POSTed as its JSON object, or, with
//                   `batch: true`, events POSTed as JSON arrays of at most
//                   batch_max_events (100) events and about batch_max_bytes
//                   (1 MiB), sent at the latest batch_flush_interval
//                   (100ms) after their first event. `workers` (4) requests
//                   at a time, `timeout` (10s) each, failures (transport
//                   errors, non-2xx) tried up to `max_retries` (3) times in
//                   all, waiting retry_backoff (500ms) doubled per attempt,
//                   at most 30s. Up to 1024 requests wait per output;
//                   beyond, events are dropped and counted.
//   kafka_outputs   not supported: said at load time, ignored here.
//
// apply() replaces the outputs when the block changed (old outputs are
// closed: webhook requests still waiting for a worker get up to 30s).
// Metrics carry upstream's names. Timestamps, batch timers and retry waits
// read the clock given; tests drive them with a ManualClock and wake().

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/value.h"
#include "model/clock.h"
#include "model/error.h"
#include "model/metrics_writer.h"
#include "routing/events.h"

namespace vigil::routing {

// Receives the recorder's log lines: level ("info", "warn", "error") and message.
using EventLogFn = std::function<void(std::string_view level, std::string_view message)>;

// One destination. send() is called from the recorder's writer thread only.
class EventOutput {
 public:
  virtual ~EventOutput() = default;
  // A stable name for metrics and logs ("file:/path", "webhook:http://host/path", "stdout").
  virtual const std::string& name() const = 0;
  // Writes, or queues for delivery, one event (a JSON object without newline).
  virtual Result<void> send(const std::string& json) = 0;
  // Sends what is still queued (bounded in time) and releases everything.
  virtual void close() {}
  // The clock may have moved (webhook retries and batch timers).
  virtual void wake() {}
  // Waits until nothing is ready to be sent (tests); waiting retries aside.
  virtual void wait_idle() {}
};

// Events an output dropped because its own queue was full, by output name.
struct EventOutputDrops {
  std::mutex mu;
  std::map<std::string, uint64_t> by_output;
  void add(const std::string& output) {
    std::lock_guard lock(mu);
    ++by_output[output];
  }
};

struct EventRecorderOptions {
  std::string instance;  // the hostname, as upstream writes it
  // This replica's place among the live ones of its cluster (server/
  // cluster.h), read for each event; null: not clustered.
  std::function<uint32_t()> cluster_position;
  const Clock* clock = nullptr;  // required
  EventLogFn log;                // null: nothing logged
  size_t queue_size = 8192;
  // false: no writer thread; process() writes what is queued (tests).
  bool threaded = true;
  // Where stdout outputs write (a file descriptor; tests use a pipe or file).
  int stdout_fd = 1;
};

class EventRecorder final : public EventSink {
 public:
  explicit EventRecorder(EventRecorderOptions opts);
  ~EventRecorder() override;
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Builds the outputs of an `event_recorder` block (null: none) and puts
  // them in place of the current ones, unless the block is unchanged. An
  // output that cannot be built (a file that cannot be opened, an invalid
  // http_config) is an error, and the current outputs stay.
  Result<void> apply(const config::ConfigValue& block);

  bool enabled() const override { return enabled_.load(std::memory_order_relaxed); }
  // Queues the event, stamped with the clock's time; drops it when the queue is full.
  void record(EventData event) override;

  // Writes every queued event now (without a writer thread).
  void process();
  // Waits until the writer thread has handed every queued event to the
  // outputs and no output has a request ready to send.
  void wait_idle();
  // The clock moved: outputs look again at waiting retries and batches.
  void wake();
  // Writes what is queued, closes the outputs, stops the thread. Idempotent.
  void close();

  size_t queue_length() const;
  uint64_t dropped(EventType t) const { return dropped_[static_cast<size_t>(t)].load(); }
  void write_metrics(MetricsWriter& w) const;

  // The outputs, built from a block (exposed for tests).
  static Result<std::vector<std::unique_ptr<EventOutput>>> build_outputs(const config::ConfigValue& block,
                                                                         const EventRecorderOptions& opts,
                                                                         std::shared_ptr<EventOutputDrops> drops);

 private:
  struct Queued {
    EventData event;
    Millis at;
  };
  void run();
  void write(const Queued& q);
  void log(std::string_view level, std::string_view msg) const;

  EventRecorderOptions opts_;
  std::atomic<bool> enabled_{false};
  std::array<std::atomic<uint64_t>, kEventTypes> dropped_{};
  std::array<std::atomic<uint64_t>, kEventTypes> serialize_errors_{};

  mutable std::mutex mu_;  // the queue
  std::condition_variable cv_, idle_cv_;
  std::deque<Queued> queue_;
  bool writing_ = false;
  bool closed_ = false;
  std::thread thread_;

  // Owned by the writer (or by process() callers); swapped under outputs_mu_.
  std::mutex outputs_mu_;
  config::ConfigValue current_;
  std::vector<std::unique_ptr<EventOutput>> outputs_;
  std::shared_ptr<EventOutputDrops> drops_;

  // Per event type and output name: successes, errors and bytes.
  struct OutputCounts {
    uint64_t success = 0, error = 0, bytes = 0;
  };
  mutable std::mutex counts_mu_;
  std::map<std::pair<EventType, std::string>, OutputCounts> counts_;
};


}  // namespace vigil::routing
