// Remote write of rule results: how many samples per second one destination's
// sender gets through (relabelling, queueing, protobuf encoding, snappy, HTTP
// over loopback), and what queued samples cost in memory.
//
//   remote_write_bench [--series N] [--rounds R] [--per-send S] [--url URL] [--metric NAME]
//                      [--histograms B]
//
// Each round appends one sample for each of N series (as a big recording
// rule group's evaluation would: `bench:rec:sum{instance="host-i",job="bench"}`)
// and runs the sender until the queue is empty. Without --url the receiver is
// an in-process HTTP server on 127.0.0.1 that counts bytes and answers 204;
// with --url (a Prometheus started with --web.enable-remote-write-receiver,
// say) the samples go there; a receiver that keeps what it is sent refuses
// a second run's samples of the same series as out of order, so give each
// run its own --metric name. With --histograms B, every sample is a native
// histogram (schema 3, a zero bucket and B populated positive buckets in one
// span, as `sum by (job) (rate(h[5m]))` gives), sent with
// send_native_histograms.
//
// Memory: a second queue whose destination refuses every request (503)
// holds N*R samples (its capacity); the growth of the resident set, divided
// by the samples held, is the cost of a queued sample.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>

#include "model/clock.h"
#include "rules/remote_write.h"

using namespace vigil;

namespace {

size_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  size_t pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

std::string metric = "bench:rec:sum";
size_t histogram_buckets = 0;  // 0: float samples

HistogramPtr histogram_of(size_t i, int64_t t) {
  auto h = std::make_shared<FloatHistogram>();
  h->schema = 3;
  h->zero_threshold = 1e-128;
  h->zero_count = 1;
  h->positive_spans = {{static_cast<int32_t>(i % 7) - 3, static_cast<uint32_t>(histogram_buckets)}};
  h->count = h->zero_count;
  for (size_t b = 0; b < histogram_buckets; ++b) {
    h->positive_buckets.push_back(static_cast<double>((b * 7 + i + static_cast<size_t>(t / 1000)) % 50) * 0.25);
    h->count += h->positive_buckets.back();
  }
  h->sum = h->count * 1.5;
  h->hint = CounterResetHint::kGauge;
  return h;
}

promql::Vector round_of(size_t series, int64_t t) {
  promql::Vector v;
  v.reserve(series);
  for (size_t i = 0; i < series; ++i)
    v.push_back(promql::Sample{Labels{{"__name__", metric}, {"instance", fmt::format("host-{}", i)},
                                      {"job", "bench"}},
                               static_cast<double>(i) + 0.5, t,
                               histogram_buckets > 0 ? histogram_of(i, t) : nullptr});
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  size_t series = 10000, rounds = 30, per_send = 2000;
  std::string url;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--series") series = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--rounds") rounds = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--per-send") per_send = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--url") url = argv[i + 1];
    else if (a == "--metric") metric = argv[i + 1];
    else if (a == "--histograms") histogram_buckets = std::strtoull(argv[i + 1], nullptr, 10);
    else {
      fmt::print(stderr, "unknown flag {}\n", a);
      return 2;
    }
  }

  httplib::Server server;
  std::atomic<uint64_t> received_bytes{0}, requests{0};
  std::thread server_thread;
  if (url.empty()) {
    server.Post("/write", [&](const httplib::Request& req, httplib::Response& res) {
      received_bytes += req.body.size();
      ++requests;
      res.status = 204;
    });
    const int port = server.bind_to_any_port("127.0.0.1");
    server_thread = std::thread([&] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    url = fmt::format("http://127.0.0.1:{}/write", port);
  }

  SystemClock clock;
  config::RemoteWriteConfig cfg;
  cfg.url = url;
  cfg.queue.capacity = series * 2;
  cfg.queue.max_samples_per_send = per_send;
  cfg.queue.batch_send_deadline = 0;  // a round's tail goes at once, not after 5 s
  cfg.send_native_histograms = true;
  auto transport = rules::http_transport(cfg);
  if (!transport) {
    fmt::print(stderr, "{}\n", transport.error().message);
    return 1;
  }
  rules::RemoteWriteQueue q(cfg, Labels{{"replica", "a"}}, clock, *transport);

  // Labels are built outside the timed part, as the store hands them over.
  std::vector<promql::Vector> input;
  const int64_t t0 = clock.now() - static_cast<int64_t>(rounds) * 15'000;
  for (size_t r = 0; r < rounds; ++r) input.push_back(round_of(series, t0 + static_cast<int64_t>(r) * 15'000));

  double append_s = 0;
  const auto start = std::chrono::steady_clock::now();
  for (size_t r = 0; r < rounds; ++r) {
    const auto a0 = std::chrono::steady_clock::now();
    q.append(input[r]);
    append_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - a0).count();
    while (q.next_due() && *q.next_due() <= clock.now()) q.run_due();
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const rules::RemoteWriteQueue::Stats st = q.stats();
  const uint64_t sent = st.samples_total + st.histograms_total;
  fmt::print("{}series {} rounds {} per-send {}: {} samples sent in {:.3f} s = {:.0f} samples/s "
             "({:.0f} samples/s appending: relabel + queue); {:.2f} compressed bytes/sample; {} left queued; "
             "failed {} retried {}\n",
             histogram_buckets > 0 ? fmt::format("native histograms of {} buckets, ", histogram_buckets) : "",
             series, rounds, per_send, sent, secs, static_cast<double>(sent) / secs,
             static_cast<double>(series * rounds) / append_s,
             static_cast<double>(st.bytes_total) / static_cast<double>(sent ? sent : 1), st.samples_pending,
             st.samples_failed + st.histograms_failed, st.samples_retried + st.histograms_retried);

  // Memory of queued samples: a destination that is down keeps them all.
  config::RemoteWriteConfig down = cfg;
  down.queue.capacity = series * rounds;
  rules::RemoteWriteQueue held(down, Labels{{"replica", "a"}}, clock,
                               [](const net::HttpRequest&) -> Result<net::HttpResponse> {
                                 net::HttpResponse r;
                                 r.status = 503;
                                 return r;
                               });
  // Each round's label sets are built afresh (not shared with `input`);
  // the queue keeps one label set per series, as the store does.
  const size_t before = rss_bytes();
  for (size_t r = 0; r < rounds; ++r) {
    promql::Vector v = round_of(series, t0 + static_cast<int64_t>(r) * 15'000);
    held.append(v);
  }
  const size_t after = rss_bytes();
  fmt::print("queue holding {} samples ({} series x {} rounds, external label added): {:.1f} MiB, {:.0f} bytes/sample\n",
             held.stats().samples_pending, series, rounds, static_cast<double>(after - before) / (1 << 20),
             static_cast<double>(after - before) / static_cast<double>(held.stats().samples_pending));
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  fmt::print("max RSS {:.1f} MiB\n", static_cast<double>(ru.ru_maxrss) / 1024.0);

  if (server_thread.joinable()) {
    fmt::print("receiver: {} requests, {:.1f} MiB\n", requests.load(),
               static_cast<double>(received_bytes.load()) / (1 << 20));
    server.stop();
    server_thread.join();
  }
  return 0;
}
