#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "storage/histogram_chunk.h"
#include "storage/memory_store.h"

using namespace vigil;
using namespace vigil::storage;

namespace {

bool same_bits(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!same_bits(a[i], b[i])) return false;
  }
  return true;
}

// Every field equal, floats bit for bit.
bool identical(const FloatHistogram& a, const FloatHistogram& b) {
  return a.hint == b.hint && a.schema == b.schema && same_bits(a.zero_threshold, b.zero_threshold) &&
         same_bits(a.zero_count, b.zero_count) && same_bits(a.count, b.count) && same_bits(a.sum, b.sum) &&
         a.positive_spans == b.positive_spans && a.negative_spans == b.negative_spans &&
         same_bits(a.positive_buckets, b.positive_buckets) && same_bits(a.negative_buckets, b.negative_buckets) &&
         same_bits(a.custom_values, b.custom_values);
}

// An exponential histogram of `n` positive buckets in two spans and a few
// negative ones, counts growing with `k`.
FloatHistogram exponential(int k, uint32_t n = 20) {
  FloatHistogram h;
  h.schema = 3;
  h.zero_threshold = 1e-128;
  h.positive_spans = {{-2, n / 2}, {3, n - n / 2}};
  h.negative_spans = {{1, 2}};
  for (uint32_t i = 0; i < n; ++i) h.positive_buckets.push_back(static_cast<double>(k * (i % 5 + 1) + i));
  h.negative_buckets = {static_cast<double>(k), static_cast<double>(2 * k)};
  h.zero_count = k / 3;
  h.count = h.zero_count;
  for (double b : h.positive_buckets) h.count += b;
  for (double b : h.negative_buckets) h.count += b;
  h.sum = k * 0.37 + 1.0 / 3;
  return h;
}

FloatHistogram custom(int k) {
  FloatHistogram h;
  h.schema = kCustomBucketsSchema;
  h.custom_values = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
  h.positive_spans = {{0, 10}};
  for (int i = 0; i < 10; ++i) h.positive_buckets.push_back(k * (i + 1));
  h.count = 55.0 * k;
  h.sum = k * 1.25;
  return h;
}

std::vector<FloatHistogram> round_trip(const std::vector<int64_t>& t, const std::vector<FloatHistogram>& in,
                                       std::vector<uint8_t>* bytes_out = nullptr) {
  std::vector<HistogramPtr> ptrs;
  for (const auto& h : in) ptrs.push_back(std::make_shared<FloatHistogram>(h));
  auto bytes = encode_histograms(t, ptrs);
  HistogramDecoder d(bytes.data(), bytes.size(), static_cast<uint16_t>(in.size()), t.empty() ? 0 : t[0]);
  std::vector<FloatHistogram> out;
  size_t i = 0;
  while (d.next()) {
    REQUIRE(i < t.size());
    CHECK(d.t() == t[i++]);
    out.push_back(d.value());
  }
  CHECK_FALSE(d.failed());
  if (bytes_out) *bytes_out = std::move(bytes);
  return out;
}

void check_identical(const std::vector<FloatHistogram>& a, const std::vector<FloatHistogram>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("sample ", i, ": ", a[i].to_notation(), " vs ", b[i].to_notation());
    CHECK(identical(a[i], b[i]));
  }
}

}  // namespace

TEST_CASE("histogram chunk: integer counts round trip in about a byte per bucket") {
  std::vector<int64_t> t;
  std::vector<FloatHistogram> in;
  for (int k = 0; k < 120; ++k) {
    t.push_back(1'700'000'000'000 + k * 15'000 + (k % 7 == 3 ? 4 : 0));  // a late scrape now and then
    in.push_back(exponential(k + 1));
    in.back().hint = k == 0 ? CounterResetHint::kUnknown : CounterResetHint::kNotReset;
  }
  std::vector<uint8_t> bytes;
  check_identical(round_trip(t, in, &bytes), in);
  // 22 buckets, count and zero count as varint differences, the sum as a
  // float XOR: far below the 8 bytes a value takes uncompressed.
  const double per_sample = static_cast<double>(bytes.size()) / 120;
  CHECK(per_sample < 40);
}

TEST_CASE("histogram chunk: layout changes mid-chunk, resets, gauges, floats and special values") {
  std::vector<int64_t> t;
  std::vector<FloatHistogram> in;
  int64_t at = -5'000;  // negative times too
  auto add = [&](FloatHistogram h, int64_t step = 10'000) {
    at += step;
    t.push_back(at);
    in.push_back(std::move(h));
  };
  add(exponential(1));
  add(exponential(2));
  add(exponential(3, 24));  // more buckets: a new layout
  add(exponential(4, 24));
  {
    FloatHistogram h = exponential(1, 24);  // a counter reset
    h.hint = CounterResetHint::kReset;
    add(h);
  }
  {
    FloatHistogram h = exponential(5, 24);  // a gauge with fractional counts
    h.hint = CounterResetHint::kGauge;
    h.positive_buckets[3] = 0.1;
    h.zero_count = 2.5;
    add(h, 1);
  }
  {
    FloatHistogram h = exponential(6, 24);
    h.sum = std::bit_cast<double>(kStaleNaNBits);  // a stale histogram as Prometheus marks one
    add(h, std::numeric_limits<int32_t>::max());
  }
  {
    FloatHistogram h = exponential(7, 24);
    h.sum = -std::numeric_limits<double>::infinity();
    h.positive_buckets[0] = -0.0;
    h.negative_buckets[1] = std::numeric_limits<double>::quiet_NaN();
    h.count = std::numeric_limits<double>::infinity();
    add(h);
  }
  {
    FloatHistogram h = exponential(8, 24);
    h.positive_buckets[5] = 1e300;  // beyond the integer form's range
    add(h);
  }
  add(custom(1));  // schema -53 after exponential ones
  add(custom(2));
  {
    FloatHistogram h = custom(3);
    h.custom_values[8] = 5;  // other bounds: a new layout
    add(h);
  }
  {
    FloatHistogram h;  // empty
    add(h);
  }
  {
    FloatHistogram h = exponential(9);
    h.schema = -4;
    h.zero_threshold = 0.5;
    add(h, -3);  // equal-time steps and a step back are written as they are
  }
  check_identical(round_trip(t, in), in);
}

TEST_CASE("histogram chunk: damaged bytes fail to decode and never crash") {
  std::vector<int64_t> t;
  std::vector<FloatHistogram> in;
  for (int k = 0; k < 10; ++k) {
    t.push_back(k * 1000);
    in.push_back(k % 2 ? custom(k) : exponential(k));
  }
  std::vector<uint8_t> bytes;
  round_trip(t, in, &bytes);
  // Cut short: the samples before the cut decode, then it fails.
  {
    HistogramDecoder d(bytes.data(), bytes.size() / 2, 10, 0);
    int n = 0;
    while (d.next()) ++n;
    CHECK(n > 0);
    CHECK(n < 10);
    CHECK(d.failed());
  }
  // Random changes and random bytes: decoding stops, or yields something;
  // nothing reads out of bounds (ASan builds check that).
  std::mt19937 rng(7);
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> b = bytes;
    if (round % 3 == 0) {
      b.resize(rng() % 64);
      for (auto& x : b) x = static_cast<uint8_t>(rng());
    } else {
      for (int i = 0; i < 3; ++i) b[rng() % b.size()] = static_cast<uint8_t>(rng());
    }
    HistogramDecoder d(b.data(), b.size(), 120, 0);
    int n = 0;
    while (d.next()) {
      ++n;
      CHECK(d.value().positive_buckets.size() <= b.size());
    }
    CHECK(n <= 120);
  }
  // A first sample without its layout is refused.
  std::vector<uint8_t> no_layout = {0x00, 0x00, 0x00, 0x00};
  HistogramDecoder d(no_layout.data(), no_layout.size(), 1, 0);
  CHECK_FALSE(d.next());
  CHECK(d.failed());
}

namespace {

std::vector<std::pair<int64_t, FloatHistogram>> stored(const Series& s) {
  std::vector<std::pair<int64_t, FloatHistogram>> out;
  for (auto it = s.histogram_samples(); it.next();) out.emplace_back(it.t(), it.value());
  return out;
}

}  // namespace

TEST_CASE("memory store: histogram chunks read back through the iterator, the range and read_histograms") {
  MemoryStore store(8);  // small chunks: many seal and seek paths
  const SeriesRef ref = store.series(Labels{{"__name__", "h"}});
  std::vector<int64_t> times;
  for (int k = 0; k < 50; ++k) {
    FloatHistogram h = k < 30 ? exponential(k + 1) : custom(k);
    times.push_back(k * 15'000);
    REQUIRE(store.append_histogram(ref, times.back(), std::make_shared<FloatHistogram>(h)));
  }
  const Series& s = store.get(ref);
  CHECK(s.num_histograms() == 50);
  CHECK(s.empty());  // no floats
  CHECK(store.num_samples() == 50);
  CHECK(s.histogram_bytes() > 0);

  auto all = stored(s);
  REQUIRE(all.size() == 50);
  for (int k = 0; k < 50; ++k) CHECK(all[static_cast<size_t>(k)].first == times[static_cast<size_t>(k)]);
  // Hints as stored: the first unknown, the others following without a
  // reset, except where schema -53 starts (a layout the reset check cannot
  // compare: unknown).
  CHECK(all[0].second.hint == CounterResetHint::kUnknown);
  CHECK(all[1].second.hint == CounterResetHint::kNotReset);
  CHECK(all[29].second.hint == CounterResetHint::kNotReset);

  // The random-access range: size, binary search, random order reads.
  const auto hs = s.histograms();
  REQUIRE(hs.size() == 50);
  auto pos = std::upper_bound(hs.begin(), hs.end(), int64_t{20 * 15'000 + 1},
                              [](int64_t t, const Series::HistogramSample& h) { return t < h.t; });
  CHECK(pos - hs.begin() == 21);
  CHECK(pos->t == 21 * 15'000);
  for (size_t i : {49u, 3u, 17u, 16u, 0u, 40u, 41u}) {
    const auto& sample = hs.begin()[static_cast<std::ptrdiff_t>(i)];
    CHECK(sample.t == times[i]);
    CHECK(identical(*sample.h, all[i].second));
  }
  CHECK(hs.back().t == times.back());

  std::vector<int64_t> t;
  std::vector<HistogramPtr> h;
  s.read_histograms(10 * 15'000, 33 * 15'000, t, h);
  REQUIRE(t.size() == 23);
  CHECK(t.front() == 11 * 15'000);
  CHECK(t.back() == 33 * 15'000);
  for (size_t i = 0; i < t.size(); ++i) CHECK(identical(*h[i], all[11 + i].second));

  auto it = s.histogram_samples();
  CHECK(it.seek_after(44 * 15'000 - 1));
  CHECK(it.t() == 44 * 15'000);
  CHECK(it.index() == 44);
  CHECK(it.seek_index(47));
  CHECK(it.t() == 47 * 15'000);
  CHECK(it.seek_index(2));
  CHECK(it.t() == 2 * 15'000);
  CHECK_FALSE(it.seek_index(50));

  // The same sample again at the last time changes nothing; another one
  // there, an earlier one and a malformed one are refused.
  CHECK(store.append_histogram(ref, 49 * 15'000, std::make_shared<FloatHistogram>(custom(49))));
  CHECK(store.num_samples() == 50);
  CHECK_FALSE(store.append_histogram(ref, 49 * 15'000, std::make_shared<FloatHistogram>(custom(50))));
  CHECK_FALSE(store.append_histogram(ref, 48 * 15'000, std::make_shared<FloatHistogram>(custom(48))));
  FloatHistogram bad = custom(1);
  bad.positive_buckets.pop_back();
  CHECK_FALSE(store.append_histogram(ref, 60 * 15'000, std::make_shared<FloatHistogram>(bad)));
  CHECK(s.num_histograms() == 50);
}

TEST_CASE("memory store: histogram hints are derived as before: resets, gauges, after a float") {
  MemoryStore store;
  const SeriesRef ref = store.series(Labels{{"__name__", "h"}});
  auto add = [&](int64_t t, FloatHistogram h) {
    REQUIRE(store.append_histogram(ref, t, std::make_shared<FloatHistogram>(std::move(h))));
  };
  add(1000, exponential(5));
  add(2000, exponential(6));
  add(3000, exponential(2));  // counts fell: a reset, read back as unknown
  add(4000, exponential(3));
  REQUIRE(store.append(ref, 5000, stale_nan()));  // a float (stale marker) in between
  add(6000, exponential(4));
  FloatHistogram g = exponential(5);
  g.hint = CounterResetHint::kGauge;
  add(7000, g);
  add(8000, exponential(6));  // after a gauge: unknown
  std::vector<CounterResetHint> hints;
  for (const auto& [t, h] : stored(store.get(ref))) hints.push_back(h.hint);
  using enum CounterResetHint;
  CHECK(hints == std::vector<CounterResetHint>{kUnknown, kNotReset, kUnknown, kNotReset, kUnknown, kGauge, kUnknown});
}

TEST_CASE("memory store: truncation drops old histogram samples and keeps the rest exact") {
  MemoryStore store(8);
  const SeriesRef keep = store.series(Labels{{"__name__", "h"}, {"s", "keep"}});
  store.series(Labels{{"__name__", "h"}, {"s", "old"}});
  std::vector<FloatHistogram> in;
  for (int k = 0; k < 30; ++k) {
    in.push_back(exponential(k + 1));
    REQUIRE(store.append_histogram(keep, k * 1000, std::make_shared<FloatHistogram>(in.back())));
    if (k < 5) REQUIRE(store.append_histogram(1, k * 1000, std::make_shared<FloatHistogram>(in.back())));
  }
  auto before = stored(store.get(keep));
  store.truncate_before(13'000);  // inside the second chunk
  REQUIRE(store.num_series() == 1);  // the old series is gone
  auto after = stored(store.get(0));
  REQUIRE(after.size() == 17);
  for (size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].first == before[13 + i].first);
    CHECK(identical(after[i].second, before[13 + i].second));
  }
  CHECK(store.num_samples() == 17);
  // Appends go on after the cut, and the range still finds every sample.
  REQUIRE(store.append_histogram(0, 30'000, std::make_shared<FloatHistogram>(exponential(31))));
  CHECK(store.get(0).histograms().size() == 18);
  CHECK(store.get(0).histograms().front().t == 13'000);
  // Truncating within the head chunk only.
  store.truncate_before(29'500);
  auto last = stored(store.get(0));
  REQUIRE(last.size() == 1);
  CHECK(last[0].first == 30'000);
}
