#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "storage/chunk.h"
#include "storage/memory_store.h"

using namespace vigil;
using namespace vigil::storage;

namespace {

struct Sample {
  int64_t t;
  uint64_t v;  // bit pattern
};

Sample at(int64_t t, double v) { return {t, std::bit_cast<uint64_t>(v)}; }

// Encodes the samples in one chunk and decodes them back.
std::vector<Sample> round_trip(const std::vector<Sample>& in, size_t* bytes = nullptr) {
  ChunkEncoder enc;
  std::vector<uint8_t> buf;
  for (const auto& s : in) enc.append(buf, s.t, std::bit_cast<double>(s.v));
  if (bytes) *bytes = buf.size();
  std::vector<Sample> out;
  ChunkDecoder dec(buf.data(), buf.size(), enc.count(), in.empty() ? 0 : in[0].t);
  while (dec.next()) out.push_back({dec.t(), dec.v_bits()});
  return out;
}

void check_same(const std::vector<Sample>& in) {
  auto out = round_trip(in);
  REQUIRE(out.size() == in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    CHECK(out[i].t == in[i].t);
    CHECK(out[i].v == in[i].v);
  }
}

}  // namespace

TEST_CASE("chunk: regular counter samples round trip and take a few bits each") {
  std::vector<Sample> in;
  double v = 1000;
  for (int i = 0; i < kChunkSamples; ++i) {
    in.push_back(at(1'700'000'000'000 + i * 15'000, v));
    v += (i % 5);
  }
  size_t bytes = 0;
  auto out = round_trip(in, &bytes);
  REQUIRE(out.size() == in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    CHECK(out[i].t == in[i].t);
    CHECK(out[i].v == in[i].v);
  }
  CHECK(bytes < kChunkSamples * 2);
}

TEST_CASE("chunk: a constant series costs two bits a sample") {
  std::vector<Sample> in;
  for (int i = 0; i < kChunkSamples; ++i) in.push_back(at(i * 30'000, 1));
  size_t bytes = 0;
  CHECK(round_trip(in, &bytes).size() == in.size());
  // 64 bits of first value, 20 for the first delta, then '0' '0' per sample.
  CHECK(bytes == (64 + 3 + 17 + 1 + 2 * (kChunkSamples - 2) + 7) / 8);
}

TEST_CASE("chunk: stale markers, NaNs, infinities, signed zeros and extremes keep their bits") {
  const double nan_payload = std::bit_cast<double>(uint64_t{0x7ff8'dead'beef'0001});
  const double neg_nan = std::bit_cast<double>(uint64_t{0xfff8'0000'0000'0000});
  std::vector<double> values = {0.0,
                                -0.0,
                                stale_nan(),
                                1.5,
                                stale_nan(),
                                stale_nan(),
                                std::numeric_limits<double>::quiet_NaN(),
                                nan_payload,
                                neg_nan,
                                std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity(),
                                std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::lowest(),
                                std::numeric_limits<double>::min(),
                                std::numeric_limits<double>::denorm_min(),
                                -std::numeric_limits<double>::denorm_min(),
                                1e-300,
                                1e300,
                                42,
                                42,
                                stale_nan()};
  std::vector<Sample> in;
  for (size_t i = 0; i < values.size(); ++i) in.push_back(at(static_cast<int64_t>(i) * 1000, values[i]));
  auto out = round_trip(in);
  REQUIRE(out.size() == in.size());
  for (size_t i = 0; i < in.size(); ++i) CHECK(out[i].v == in[i].v);
  CHECK(is_stale_nan(std::bit_cast<double>(out[2].v)));
  CHECK_FALSE(is_stale_nan(std::bit_cast<double>(out[6].v)));
  CHECK(is_stale_nan(std::bit_cast<double>(out.back().v)));
}

TEST_CASE("chunk: counter resets and sign changes round trip") {
  std::vector<Sample> in;
  double v = 0;
  for (int i = 0; i < 100; ++i) {
    v = (i % 17 == 16) ? 0 : v + 3.25 * i;
    in.push_back(at(i * 15'000, v));
    if (i % 9 == 0) in.push_back(at(i * 15'000 + 7, -v));
  }
  check_same(in);
}

TEST_CASE("chunk: every delta-of-delta bucket, both signs, and their edges") {
  std::vector<int64_t> deltas = {15'000, 15'000, 15'001, 14'999, 15'000,
                                 // edges of the 14, 17 and 20 bit buckets, either side
                                 15'000 + 8191, 15'000, 15'000 - 8192, 15'000, 15'000 + 8192, 15'000, 15'000 - 8193,
                                 15'000, 15'000 + 65'535, 15'000, 15'000 - 65'536, 15'000 + 65'536, 15'000,
                                 1'000'000, 15'000, 524'287 + 15'000, 15'000, 15'000 + 524'288, 15'000,
                                 // days apart, then back to milliseconds, and equal timestamps
                                 86'400'000'000, 1, 0, 0, 1, 3'600'000, 2, 15'000};
  std::vector<Sample> in;
  int64_t t = -5'000'000;  // negative times too
  in.push_back(at(t, 1));
  for (size_t i = 0; i < deltas.size(); ++i) {
    t += deltas[i];
    in.push_back(at(t, static_cast<double>(i)));
  }
  check_same(in);
}

TEST_CASE("chunk: extreme timestamps wrap exactly") {
  check_same({at(std::numeric_limits<int64_t>::min(), 1), at(0, 2), at(std::numeric_limits<int64_t>::max(), 3),
              at(std::numeric_limits<int64_t>::max(), 4)});
  check_same({at(std::numeric_limits<int64_t>::max(), 1)});
}

TEST_CASE("chunk: random values and irregular intervals round trip") {
  std::mt19937_64 rng(20261206);
  for (int round = 0; round < 200; ++round) {
    std::vector<Sample> in;
    int64_t t = static_cast<int64_t>(rng() % 2'000'000'000'000);
    const int n = 1 + static_cast<int>(rng() % kChunkSamples);
    double gauge = 0;
    for (int i = 0; i < n; ++i) {
      switch (rng() % 4) {
        case 0: t += 15'000; break;
        case 1: t += static_cast<int64_t>(rng() % 100'000); break;
        case 2: t += static_cast<int64_t>(rng() % (int64_t{1} << 40)); break;
        default: t += static_cast<int64_t>(rng() % 3); break;
      }
      uint64_t bits;
      switch (rng() % 5) {
        case 0: bits = rng(); break;  // any pattern: NaNs with payloads, denormals
        case 1: gauge += std::ldexp(static_cast<double>(rng() % 1000), static_cast<int>(rng() % 40) - 20); bits = std::bit_cast<uint64_t>(gauge); break;
        case 2: bits = std::bit_cast<uint64_t>(static_cast<double>(rng() % 100)); break;
        case 3: bits = kStaleNaNBits; break;
        default: bits = in.empty() ? 0 : in.back().v; break;
      }
      in.push_back({t, bits});
    }
    check_same(in);
  }
}

TEST_CASE("chunk: a cut-off chunk stops without reading past its bytes") {
  ChunkEncoder enc;
  std::vector<uint8_t> buf;
  for (int i = 0; i < 50; ++i) enc.append(buf, i * 1000, i * 1.1);
  for (size_t keep : {size_t{0}, size_t{3}, buf.size() / 2, buf.size() - 1}) {
    std::vector<uint8_t> cut(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(keep));
    ChunkDecoder dec(cut.data(), cut.size(), enc.count(), 0);
    int n = 0;
    while (dec.next()) ++n;
    CHECK(n < 50);
  }
}

TEST_CASE("series iterator: seek by chunk time span, forward only") {
  MemoryStore s;
  auto r = s.series({{"__name__", "x"}});
  // 1000 samples at 10 s: 8 sealed chunks of 120, then 40 in the head.
  for (int i = 0; i < 1000; ++i) REQUIRE(s.append(r, i * 10'000, i).has_value());
  const Series& ser = s.get(r);

  SUBCASE("each position") {
    for (int64_t target : {int64_t{-1}, int64_t{0}, int64_t{5}, int64_t{1'195'000}, int64_t{1'190'000},
                           int64_t{1'200'000}, int64_t{4'800'001}, int64_t{9'589'999}, int64_t{9'600'000}}) {
      auto it = ser.samples();
      REQUIRE(it.seek_after(target));
      const int64_t want = target < 0 ? 0 : (target / 10'000 + 1) * 10'000;
      CHECK(it.t() == want);
      CHECK(it.v() == static_cast<double>(want / 10'000));
    }
    auto end = ser.samples();
    CHECK_FALSE(end.seek_after(9'990'000));
    CHECK_FALSE(end.next());
  }

  SUBCASE("successive seeks and steps") {
    auto it = ser.samples();
    REQUIRE(it.seek_after(2'000'000));
    CHECK(it.t() == 2'010'000);
    REQUIRE(it.seek_after(1'000'000));  // behind: stays
    CHECK(it.t() == 2'010'000);
    REQUIRE(it.next());
    CHECK(it.t() == 2'020'000);
    REQUIRE(it.seek_after(2'405'000));  // into the next chunk
    CHECK(it.t() == 2'410'000);
    REQUIRE(it.seek_after(9'700'000));  // into the head
    CHECK(it.t() == 9'710'000);
    int rest = 1;
    while (it.next()) ++rest;
    CHECK(rest == 29);
  }

  SUBCASE("reads decode the window only") {
    std::vector<int64_t> t;
    std::vector<double> v;
    ser.read(1'195'000, 1'255'000, t, v);
    CHECK(t == std::vector<int64_t>{1'200'000, 1'210'000, 1'220'000, 1'230'000, 1'240'000, 1'250'000});
    CHECK(v.front() == 120);
    t.clear();
    v.clear();
    ser.read(9'990'000, 20'000'000, t, v);
    CHECK(t.empty());
    CHECK(ser.has_sample_in(9'985'000, 9'990'000));
    CHECK_FALSE(ser.has_sample_in(9'990'001, 20'000'000));
    CHECK_FALSE(ser.has_sample_in(-100, -1));
  }
}

TEST_CASE("series iterator: stale markers read back and are skipped on request") {
  MemoryStore s;
  auto r = s.series({{"__name__", "x"}});
  for (int i = 0; i < 300; ++i) REQUIRE(s.append(r, i * 1000, i % 50 == 49 ? stale_nan() : i).has_value());
  std::vector<int64_t> t;
  std::vector<double> v;
  s.get(r).read(-1, 300'000, t, v);
  CHECK(t.size() == 300);
  CHECK(is_stale_nan(v[49]));
  t.clear();
  v.clear();
  s.get(r).read(-1, 300'000, t, v, true);
  CHECK(t.size() == 294);
}
