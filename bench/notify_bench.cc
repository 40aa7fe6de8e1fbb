// Delivery benchmark: N notifications through the worker pool to a local
// webhook receiver (cpp-httplib on 127.0.0.1), in one of three scenarios:
//
//   fast   every notification to a receiver that answers at once
//   slow   every notification to a receiver that takes --delay-ms to answer
//   mixed  N to the fast receiver while N/10 go to the slow one at the
//          same time: the fast receiver's rate shows whether the slow one
//          holds it up
//
//   ninja -C build vigil_notify_bench
//   /usr/bin/time -v build/bench/vigil_notify_bench fast 10000
//   build/bench/vigil_notify_bench slow 10000 --workers 64 --delay-ms 20
//
// Prints notifications/s per receiver and the delivered counts; peak memory
// comes from /usr/bin/time -v.
#include <httplib.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "model/clock.h"
#include "notifiers/delivery.h"
#include "routing/config.h"

using namespace vigil;

namespace {

class Receiver {
 public:
  explicit Receiver(int delay_ms) {
    server_.new_task_queue = [] { return new httplib::ThreadPool(64); };
    server_.set_tcp_nodelay(true);  // answers go out at once, not after a delayed ACK
    server_.Post("/hook", [this, delay_ms](const httplib::Request& req, httplib::Response& res) {
      if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      bytes_ += req.body.size();
      ++received_;
      res.set_content("ok", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}/hook", port_); }
  uint64_t received() const { return received_; }
  uint64_t bytes() const { return bytes_; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<uint64_t> received_{0}, bytes_{0};
};

struct Batch {
  std::atomic<size_t> left;
  std::atomic<size_t> delivered{0};
  std::chrono::steady_clock::time_point start, end;
  std::mutex mu;
  std::condition_variable cv;

  explicit Batch(size_t n) : left(n) {}
  void done(bool ok) {
    if (ok) ++delivered;
    if (left.fetch_sub(1) == 1) {
      std::lock_guard lock(mu);
      end = std::chrono::steady_clock::now();
      cv.notify_all();
    }
  }
  void wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return left.load() == 0; });
  }
  double seconds() const { return std::chrono::duration<double>(end - start).count(); }
};

// Sends n notifications of distinct groups (two alerts each) to the
// receiver's integration `index`.
void send(notifiers::Delivery& d, const std::shared_ptr<const routing::Config>& cfg, size_t index, size_t n,
          Batch& batch, Millis now) {
  const routing::ReceiverConfig* r = cfg->receiver("bench");
  batch.start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < n; ++i) {
    routing::Notification note;
    note.config = cfg;
    note.receiver = r;
    note.integration = &r->integrations[index];
    note.group_labels = Labels({{"alertname", "HighLatency"}, {"service", fmt::format("svc-{}", i)}});
    note.group_key = "{}:" + note.group_labels.to_string();
    for (int k = 0; k < 2; ++k) {
      auto a = std::make_shared<routing::Alert>();
      a->labels = Labels({{"alertname", "HighLatency"}, {"instance", fmt::format("host-{}:9100", k)},
                          {"service", fmt::format("svc-{}", i)}, {"severity", "warning"}});
      a->annotations = {{"summary", "p99 latency above 500ms"}};
      a->starts_at = now - kMinute;
      note.alerts.push_back(routing::FlushedAlert{a, false});
    }
    note.now = now;
    note.deadline = now + 5 * kMinute;
    note.flush_id = 1;
    d.notify(note, [&batch](bool ok) { batch.done(ok); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "fast";
  size_t n = argc > 2 ? std::stoul(argv[2]) : 10000;
  size_t workers = 8;
  int delay_ms = 20;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--workers") == 0) workers = std::stoul(argv[i + 1]);
    if (std::strcmp(argv[i], "--delay-ms") == 0) delay_ms = std::stoi(argv[i + 1]);
  }
  if (mode != "fast" && mode != "slow" && mode != "mixed") {
    std::fprintf(stderr, "usage: vigil_notify_bench fast|slow|mixed [N] [--workers W] [--delay-ms D]\n");
    return 2;
  }
  Receiver fast(0), slow(delay_ms);
  auto loaded = routing::parse_config(fmt::format(
      "route:\n  receiver: bench\nreceivers:\n- name: bench\n  webhook_configs:\n  - url: '{}'\n  - url: '{}'\n",
      fast.url(), slow.url()));
  if (!loaded.ok()) {
    std::fprintf(stderr, "config: %s\n", loaded.errors.front().message.c_str());
    return 1;
  }
  auto cfg = std::make_shared<const routing::Config>(std::move(loaded.config));

  SystemClock clock;
  notifiers::DeliveryOptions opts;
  opts.workers = workers;
  opts.external_url = "http://vigil.example:9093";
  opts.log = [](notifiers::LogLevel, std::string_view) {};
  notifiers::Delivery d(clock, opts);

  const Millis now = clock.now();
  fmt::print("mode={} notifications={} workers={} per-integration limit={}{}\n", mode, n, workers,
             std::max<size_t>(1, workers / 2), mode == "fast" ? "" : fmt::format(" slow delay={}ms", delay_ms));
  if (mode == "fast" || mode == "slow") {
    Batch b(n);
    send(d, cfg, mode == "fast" ? 0 : 1, n, b, now);
    b.wait();
    const Receiver& r = mode == "fast" ? fast : slow;
    fmt::print("{}: delivered {}/{} in {:.3f}s = {:.0f} notifications/s ({} requests received, {:.0f} bytes each)\n",
               mode, b.delivered.load(), n, b.seconds(), static_cast<double>(n) / b.seconds(), r.received(),
               static_cast<double>(r.bytes()) / static_cast<double>(std::max<uint64_t>(r.received(), 1)));
  } else {
    size_t n_slow = std::max<size_t>(1, n / 10);
    Batch bs(n_slow), bf(n);
    send(d, cfg, 1, n_slow, bs, now);
    send(d, cfg, 0, n, bf, now);
    bf.wait();
    fmt::print("fast while slow is busy: delivered {}/{} in {:.3f}s = {:.0f} notifications/s "
               "(slow receiver had answered {} of {} by then)\n",
               bf.delivered.load(), n, bf.seconds(), static_cast<double>(n) / bf.seconds(), slow.received(), n_slow);
    bs.wait();
    fmt::print("slow: delivered {}/{} in {:.3f}s = {:.0f} notifications/s\n", bs.delivered.load(), n_slow,
               bs.seconds(), static_cast<double>(n_slow) / bs.seconds());
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  fmt::print("max RSS {:.1f} MiB\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
  return 0;
}
