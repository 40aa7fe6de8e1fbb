// PromQL engine benchmark: 10 000 series x 1 day at 15 s in the in-memory
// store (9 000 counters `x` and 100 classic histograms `x_bucket` of 10
// buckets, plus the same 100 histograms as native ones with custom buckets,
// `nh`, over the last two hours), range queries over the last hour at a 15 s
// step, and an instant query over every counter. Also measures this machine's single-core memory
// read bandwidth, to put the throughput in proportion.
//
//   build/bench/vigil_promql_bench [series=10000] [only queries containing this] [runs=5]
//
// Prints, per query, the median wall time of several runs (and the median
// and least thread CPU time) and the samples it
// processed per second (samples read through range windows and selectors, as
// Prometheus counts its "samples" statistic). Run it under /usr/bin/time -v
// for the peak memory.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include <malloc.h>

#include "promql/engine.h"
#include "promql/parser.h"
#include "storage/memory_store.h"

using namespace vigil;

namespace {

constexpr int64_t kStep = 15'000;


struct Query {
  const char* text;
  bool range;
  // Samples the query reads, for the throughput figure.
  double samples;
};

// CPU time of this thread: on a shared machine, steadier than wall time.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int total = argc > 1 ? std::atoi(argv[1]) : 10'000;
  // Only the queries containing this text, each run `runs` times.
  const std::string only = argc > 2 ? argv[2] : "";
  const int runs = argc > 3 ? std::atoi(argv[3]) : 5;
  // Unless VIGIL_BENCH_TRIM is set, freed memory stays in the process, so
  // that each run of a query reuses the pages the previous run freed
  // instead of faulting in fresh ones: what is timed is the engine's work,
  // whatever free space the store's layout happens to leave in the heap.
  if (!std::getenv("VIGIL_BENCH_TRIM")) {
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 64 << 20);
  }
  int histograms = total / 100;
  int series = total - histograms * 10;
  storage::MemoryStore store;
  auto load_start = std::chrono::steady_clock::now();
  // x: counters; x_bucket: 10 buckets per (job, instance) for 1/10 of the series count.
  int buckets_per_hist = 10;
  for (int i = 0; i < series; ++i) {
    Labels ls{{"__name__", "x"}, {"job", "job" + std::to_string(i % 10)}, {"instance", "i" + std::to_string(i)}};
    auto ref = store.series(ls);
    double v = 0;
    for (int64_t t = 0; t < vigil::kDay; t += kStep) {
      v += (i % 7) + 1;
      (void)store.append(ref, t, v);
    }
  }
  static const char* kLe[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"};
  for (int h = 0; h < histograms; ++h) {
    for (int b = 0; b < buckets_per_hist; ++b) {
      Labels ls{{"__name__", "x_bucket"}, {"job", "job" + std::to_string(h % 10)},
                {"instance", "i" + std::to_string(h)}, {"le", kLe[b]}};
      auto ref = store.series(ls);
      double v = 0;
      for (int64_t t = 0; t < vigil::kDay; t += kStep) {
        v += b + 1;
        (void)store.append(ref, t, v);
      }
    }
  }
  // nh: the same histograms as native ones with custom buckets (the le
  // bounds), over the last two hours only (what the queries read).
  for (int h = 0; h < histograms; ++h) {
    Labels ls{{"__name__", "nh"}, {"job", "job" + std::to_string(h % 10)}, {"instance", "i" + std::to_string(h)}};
    auto ref = store.series(ls);
    FloatHistogram cur;
    cur.schema = kCustomBucketsSchema;
    cur.custom_values = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
    cur.positive_spans = {{0, static_cast<uint32_t>(buckets_per_hist)}};
    cur.positive_buckets.assign(buckets_per_hist, 0);
    int64_t first = vigil::kDay - 2 * 3'600'000;
    for (int64_t t = 0; t < vigil::kDay; t += kStep) {
      // Bucket b of the classic histogram grows by b+1 per step: its own
      // (non-cumulative) count grows by 1.
      for (auto& c : cur.positive_buckets) c += 1;
      cur.count += buckets_per_hist;
      cur.sum += 0.1;
      if (t >= first) (void)store.append_histogram(ref, t, std::make_shared<FloatHistogram>(cur));
    }
  }
  store.compact();
  double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  std::printf("loaded %zu series, %zu samples in %.2f s; sample arrays %.1f MiB (%.2f bytes/sample)\n",
              store.num_series(), store.num_samples(), load_s, store.sample_bytes() / 1048576.0,
              static_cast<double>(store.sample_bytes()) / store.num_samples());

  const int64_t end = vigil::kDay - kStep;
  const int64_t start = end - 3'600'000;
  const double steps = 3'600'000 / kStep + 1;
  const double window = 300'000 / kStep;  // samples in a 5m window
  std::vector<Query> queries = {
      {"rate(x[5m])", true, series * steps * window},
      {"sum by (job) (rate(x[5m]))", true, series * steps * window},
      {"histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))", true,
       histograms * buckets_per_hist * steps * window},
      {"x > 0", false, static_cast<double>(series)},
      // Per-series quantiles: classic buckets against native histograms.
      {"histogram_quantile(0.99, rate(x_bucket[5m]))", true, histograms * buckets_per_hist * steps * window},
      {"histogram_quantile(0.99, rate(nh[5m]))", true, histograms * steps * window},
  };
  promql::Engine engine;
  for (const auto& q : queries) {
    if (std::string_view(q.text).find(only) == std::string_view::npos) continue;
    auto expr = promql::parse_expr(q.text);
    if (!expr) {
      std::fprintf(stderr, "%s: %s\n", q.text, expr.error().message.c_str());
      return 1;
    }
    std::vector<double> times, cpu_times;
    size_t out_series = 0;
    for (int run = 0; run < runs; ++run) {
      const double c0 = thread_cpu_seconds();
      auto t0 = std::chrono::steady_clock::now();
      auto res = q.range ? engine.range(store, **expr, start, end, kStep) : engine.instant(store, **expr, end);
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      cpu_times.push_back(thread_cpu_seconds() - c0);
      if (!res) {
        std::fprintf(stderr, "%s: %s\n", q.text, res.error().message.c_str());
        return 1;
      }
      out_series = q.range ? std::get<promql::Matrix>(res->value).size() : std::get<promql::Vector>(res->value).size();
    }
    double m = median(times);
    std::printf("%-62s %8.1f ms  %7.1f M samples/s  cpu %8.1f ms, least %.1f ms  (%zu result series)\n", q.text,
                m * 1000, q.samples / m / 1e6, median(cpu_times) * 1000,
                *std::min_element(cpu_times.begin(), cpu_times.end()) * 1000, out_series);
  }
  if (!only.empty()) return 0;
  // Single-core read bandwidth: summing 1 GiB of doubles.
  std::vector<double> big(128 * 1024 * 1024, 1.0);
  double best = 0, sink = 0;
  for (int run = 0; run < 3; ++run) {
    auto t0 = std::chrono::steady_clock::now();
    double acc = 0;
    for (double d : big) acc += d;
    sink += acc;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, big.size() * sizeof(double) / s / 1e9);
  }
  std::printf("memory read bandwidth, one core: %.1f GB/s (checksum %.0f)\n", best, sink);
  return 0;
}
