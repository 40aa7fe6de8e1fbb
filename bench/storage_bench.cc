// Store benchmark: bytes per sample of realistic scrape data in the
// compressed in-memory store, and how fast it appends and decodes.
//
//   build/bench/vigil_storage_bench [series=100000] [samples=480] [wal directory]
//
// With a directory, every scrape is also written to a write-ahead log there
// and synced (as vigil run does), and the log is then replayed into a fresh
// store: the log's size and the replay's time are printed.
//
//   build/bench/vigil_storage_bench histograms [series=2000] [samples=480] [wal directory]
//
// stores native histograms instead: request latencies (log-normal around
// 50 ms) observed 0-100 times a scrape into exponential buckets of schema 2,
// about 20 populated buckets, integer counts, the sum a float; new buckets
// appear as rare latencies are seen.
//
// Each series gets `samples` scrapes 15 s apart (480: two hours), in the
// order a scraper appends them (one sample of every series per scrape). The
// series mix what a Prometheus target exposes:
//   30 %  counters of rare events (errors, restarts): mostly unchanged, +1 now and then
//   20 %  histogram buckets and request counters: integer increments of 0-200
//   10 %  byte counters: increments of up to a few MB
//   10 %  CPU-seconds counters: float increments (user time at 10 ms ticks)
//   10 %  constant gauges (up, build info, limits)
//   10 %  integer gauges that move (memory bytes, goroutines, open fds)
//   10 %  float gauges (temperatures, load averages, ratios) with 2 decimals
// Timestamps are the scrape schedule; 1 scrape in 50 comes a few ms late.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "storage/memory_store.h"
#include "storage/wal.h"

using namespace vigil;

namespace {

size_t rss_bytes() {
  std::ifstream in("/proc/self/statm");
  size_t pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

enum Kind { kRare, kRequests, kBytes, kCpu, kConstant, kIntGauge, kFloatGauge, kKinds };
const char* kKindNames[] = {"rare-event counters", "request counters", "byte counters", "cpu counters",
                            "constant gauges",     "integer gauges",   "float gauges"};

Kind kind_of(int i) {
  const int p = i % 10;
  if (p < 3) return kRare;
  if (p < 5) return kRequests;
  return static_cast<Kind>(p - 3);
}

struct State {
  double v = 0;
};

double next_value(Kind k, State& s, std::mt19937_64& rng) {
  switch (k) {
    case kRare:
      if (rng() % 40 == 0) s.v += 1;
      break;
    case kRequests: s.v += static_cast<double>(rng() % 201); break;
    case kBytes: s.v += static_cast<double>(rng() % 4'000'000); break;
    case kCpu: s.v += static_cast<double>(rng() % 300) * 0.01; break;
    case kConstant: break;
    case kIntGauge: s.v = std::max(0.0, s.v + static_cast<double>(static_cast<int64_t>(rng() % 8193) - 4096)); break;
    case kFloatGauge: s.v = std::round((40 + static_cast<double>(rng() % 2000) / 100) * 100) / 100; break;
    case kKinds: break;
  }
  return s.v;
}

// The log written while appending `total` samples to `store`: its size, a
// fold into a snapshot, and a replay of both into a new store.
int report_wal(storage::Wal& wal, storage::MemoryStore& store, const std::string& wal_dir, double total) {
  std::printf("wal: %.1f MiB of log (%.1f bytes/sample), appended and synced with the scrapes above\n",
              static_cast<double>(wal.log_bytes()) / 1048576.0, static_cast<double>(wal.log_bytes()) / total);
  auto start = std::chrono::steady_clock::now();
  if (auto r = wal.fold(store); !r) {
    std::fprintf(stderr, "wal fold: %s\n", r.error().message.c_str());
    return 1;
  }
  const double fold_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("wal: folded into a %.1f MiB snapshot (%.1f bytes/sample) in %.2f s\n",
              static_cast<double>(wal.snapshot_bytes()) / 1048576.0, static_cast<double>(wal.snapshot_bytes()) / total,
              fold_s);
  store.set_wal(nullptr);
  storage::MemoryStore again;
  storage::Wal replay(wal_dir, size_t{1} << 40);
  start = std::chrono::steady_clock::now();
  auto r = replay.open(again, 0);
  const double replay_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("wal: replayed %zu series, %zu samples in %.2f s (fold after replay included)\n", r.series, r.samples,
              replay_s);
  again.set_wal(nullptr);
  return 0;
}

int histograms_main(int argc, char** argv) {
  const int n_series = argc > 2 ? std::atoi(argv[2]) : 2000;
  const int n_samples = argc > 3 ? std::atoi(argv[3]) : 480;
  std::mt19937_64 rng(42);
  // Observations drawn from a table: bucket index and value.
  std::lognormal_distribution<double> latency(std::log(0.05), 0.45);
  std::vector<int32_t> obs_idx(1 << 16);
  std::vector<double> obs_val(1 << 16);
  for (size_t i = 0; i < obs_idx.size(); ++i) {
    obs_val[i] = latency(rng);
    obs_idx[i] = static_cast<int32_t>(std::ceil(std::log2(obs_val[i]) * 4));  // schema 2
  }
  struct Hist {
    int32_t lo = 0;
    std::vector<double> counts;  // buckets lo, lo+1, ...
    double sum = 0, count = 0;
  };
  const std::string wal_dir = argc > 4 ? argv[4] : "";
  storage::MemoryStore store;
  std::unique_ptr<storage::Wal> wal;
  if (!wal_dir.empty()) {
    wal = std::make_unique<storage::Wal>(wal_dir, size_t{1} << 40);
    wal->open(store, 0);
  }
  std::vector<storage::SeriesRef> refs;
  std::vector<Hist> state(n_series);
  for (int i = 0; i < n_series; ++i) {
    refs.push_back(store.series(Labels{{"__name__", "http_request_duration_seconds"},
                                       {"handler", "/api/" + std::to_string(i % 50)},
                                       {"instance", "host" + std::to_string(i / 50) + ":9100"}}));
  }
  const size_t rss_before = rss_bytes();
  const int64_t t0 = 1'767'225'600'000;
  auto start = std::chrono::steady_clock::now();
  for (int k = 0; k < n_samples; ++k) {
    for (int i = 0; i < n_series; ++i) {
      Hist& h = state[i];
      const int m = static_cast<int>(rng() % 101);
      for (int o = 0; o < m; ++o) {
        const size_t j = rng() & 0xffff;
        const int32_t idx = obs_idx[j];
        if (h.counts.empty()) h.lo = idx;
        if (idx < h.lo) {
          h.counts.insert(h.counts.begin(), static_cast<size_t>(h.lo - idx), 0.0);
          h.lo = idx;
        }
        if (static_cast<size_t>(idx - h.lo) >= h.counts.size()) h.counts.resize(static_cast<size_t>(idx - h.lo) + 1);
        h.counts[static_cast<size_t>(idx - h.lo)] += 1;
        h.sum += obs_val[j];
        h.count += 1;
      }
      auto fh = std::make_shared<FloatHistogram>();
      fh->schema = 2;
      fh->zero_threshold = 2.938735877055719e-39;
      fh->count = h.count;
      fh->sum = h.sum;
      if (!h.counts.empty()) fh->positive_spans = {{h.lo, static_cast<uint32_t>(h.counts.size())}};
      fh->positive_buckets = h.counts;
      (void)store.append_histogram(refs[i], t0 + int64_t{k} * 15'000, std::move(fh));
    }
    if (wal) {
      if (auto r = wal->flush(); !r) {
        std::fprintf(stderr, "wal: %s\n", r.error().message.c_str());
        return 1;
      }
    }
  }
  const double append_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const size_t rss_after = rss_bytes();
  size_t buckets = 0;
  for (const auto& h : state) buckets += h.counts.size();

  start = std::chrono::steady_clock::now();
  double sum = 0;
  size_t read = 0;
  for (auto r : refs) {
    for (const auto& x : store.get(r).histograms()) {
      sum += x.h->sum;
      ++read;
    }
  }
  const double read_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // What an evaluation at the series' end reads: its last 5 minutes, found
  // by binary search over histograms() (as the engine does) and by
  // read_histograms().
  const int64_t end = t0 + int64_t{n_samples - 1} * 15'000;
  size_t found = 0;
  start = std::chrono::steady_clock::now();
  for (auto r : refs) {
    const auto hs = store.get(r).histograms();
    auto it = std::upper_bound(hs.begin(), hs.end(), end - 300'000,
                               [](int64_t t, const storage::Series::HistogramSample& h) { return t < h.t; });
    for (; it != hs.end(); ++it) found += it->h != nullptr;
  }
  const double search_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  start = std::chrono::steady_clock::now();
  for (auto r : refs) {
    std::vector<int64_t> t;
    std::vector<HistogramPtr> h;
    store.get(r).read_histograms(end - 300'000, end, t, h);
    found += h.size();
  }
  const double in_order_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double total = static_cast<double>(store.num_samples());
  std::printf("last 5 minutes of every series (%zu samples both ways): binary search over histograms() %.1f us, "
              "read_histograms() %.1f us a series\n",
              found, search_s / n_series * 1e6, in_order_s / n_series * 1e6);
  std::printf("%zu histogram series x %d samples = %.0f samples, %.1f buckets each at the end\n", store.num_series(),
              n_samples, total, static_cast<double>(buckets) / n_series);
  std::printf("appended in %.2f s (%.2f M samples/s, generation included)\n", append_s, total / append_s / 1e6);
  std::printf("compressed samples: %.1f MiB, %.2f bytes/sample (chunk bytes, descriptors, head buffers)\n",
              static_cast<double>(store.sample_bytes()) / 1048576.0, static_cast<double>(store.sample_bytes()) / total);
  std::printf("RSS growth while appending: %.1f MiB, %.2f bytes/sample (with allocator overhead)\n",
              static_cast<double>(rss_after - rss_before) / 1048576.0,
              static_cast<double>(rss_after - rss_before) / total);
  std::printf("decoded %zu samples in %.2f s (%.2f M samples/s; checksum %g)\n", read, read_s,
              static_cast<double>(read) / read_s / 1e6, sum);
  if (wal) return report_wal(*wal, store, wal_dir, total);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "histograms") return histograms_main(argc, argv);
  const int n_series = argc > 1 ? std::atoi(argv[1]) : 100'000;
  const int n_samples = argc > 2 ? std::atoi(argv[2]) : 480;
  const std::string wal_dir = argc > 3 ? argv[3] : "";
  std::mt19937_64 rng(42);

  storage::MemoryStore store;
  // Folds only when asked: the log then holds every scrape, as between folds.
  std::unique_ptr<storage::Wal> wal;
  if (!wal_dir.empty()) {
    wal = std::make_unique<storage::Wal>(wal_dir, size_t{1} << 40);
    wal->open(store, 0);
  }
  std::vector<storage::SeriesRef> refs;
  std::vector<State> state(n_series);
  for (int i = 0; i < n_series; ++i) {
    Labels ls{{"__name__", std::string("m") + std::to_string(i % 500)},
              {"instance", "host" + std::to_string(i / 500) + ":9100"},
              {"job", "node"}};
    refs.push_back(store.series(ls));
    const Kind k = kind_of(i);
    if (k == kRequests || k == kBytes) state[i].v = static_cast<double>(rng() % 10'000'000);
    if (k == kConstant) state[i].v = static_cast<double>(rng() % 3 == 0 ? 1 : rng() % 100'000);
    if (k == kIntGauge) state[i].v = static_cast<double>(100'000'000 + rng() % 1'000'000'000);
  }
  const size_t rss_before = rss_bytes();
  const int64_t t0 = 1'767'225'600'000;  // 2026-01-01
  auto start = std::chrono::steady_clock::now();
  for (int k = 0; k < n_samples; ++k) {
    const int64_t scheduled = t0 + int64_t{k} * 15'000;
    for (int i = 0; i < n_series; ++i) {
      // A target's scrapes are late together: key the jitter on the target.
      const int64_t t = ((i / 500 + k) % 50 == 0) ? scheduled + 3 : scheduled;
      (void)store.append(refs[i], t, next_value(kind_of(i), state[i], rng));
    }
    if (wal) {
      if (auto r = wal->flush(); !r) {
        std::fprintf(stderr, "wal: %s\n", r.error().message.c_str());
        return 1;
      }
    }
  }
  const double append_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const size_t rss_after = rss_bytes();

  std::vector<size_t> bytes(kKinds), samples(kKinds);
  for (int i = 0; i < n_series; ++i) {
    const auto& s = store.get(refs[i]);
    bytes[kind_of(i)] += s.sample_bytes();
    samples[kind_of(i)] += s.num_samples();
  }

  start = std::chrono::steady_clock::now();
  double sum = 0;
  size_t read = 0;
  for (auto r : refs) {
    auto it = store.get(r).samples();
    while (it.next()) {
      sum += it.v();
      ++read;
    }
  }
  const double read_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const double total = static_cast<double>(store.num_samples());
  std::printf("%zu series x %d samples = %.0f samples\n", store.num_series(), n_samples, total);
  std::printf("appended in %.2f s (%.1f M samples/s)\n", append_s, total / append_s / 1e6);
  std::printf("compressed samples: %.1f MiB, %.3f bytes/sample (chunk bytes, descriptors, head buffers)\n",
              static_cast<double>(store.sample_bytes()) / 1048576.0, static_cast<double>(store.sample_bytes()) / total);
  std::printf("RSS growth while appending: %.1f MiB, %.3f bytes/sample (with allocator overhead)\n",
              static_cast<double>(rss_after - rss_before) / 1048576.0,
              static_cast<double>(rss_after - rss_before) / total);
  for (int k = 0; k < kKinds; ++k) {
    std::printf("  %-20s %.3f bytes/sample\n", kKindNames[k],
                static_cast<double>(bytes[k]) / static_cast<double>(samples[k]));
  }
  std::printf("decoded %zu samples in %.2f s (%.0f M samples/s; checksum %g)\n", read, read_s,
              static_cast<double>(read) / read_s / 1e6, sum);
  if (wal) return report_wal(*wal, store, wal_dir, total);
  return 0;
}
