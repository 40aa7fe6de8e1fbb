#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/memory_store.h"
#include "storage/wal.h"
#include "tests/temp_dir.h"

using namespace vigil;
using namespace vigil::storage;

namespace {

struct Point {
  int64_t t;
  uint64_t v;
  bool operator==(const Point&) const = default;
};

// "labels -> samples" of the whole store, values as bit patterns.
std::map<std::string, std::vector<Point>> contents(const MemoryStore& s) {
  std::map<std::string, std::vector<Point>> out;
  for (SeriesRef r = 0; r < s.num_series(); ++r) {
    auto& pts = out[s.get(r).labels.to_string()];
    for (auto it = s.get(r).samples(); it.next();) pts.push_back({it.t(), std::bit_cast<uint64_t>(it.v())});
  }
  return out;
}

Labels series_labels(int i) { return {{"__name__", "m"}, {"i", std::to_string(i)}}; }

// Appends one scrape of `n` series at time t.
void scrape(MemoryStore& s, int n, int64_t t) {
  for (int i = 0; i < n; ++i) {
    double v = (t / 1000) * (i + 1) + 0.25;
    if (i == 3 && t % 30'000 == 0) v = stale_nan();
    if (i == 4) v = std::numeric_limits<double>::infinity();
    REQUIRE(s.append(series_labels(i), t, v).has_value());
  }
}

void flip_byte(const std::filesystem::path& p, uint64_t at) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(&c, 1);
}

}  // namespace

TEST_CASE("wal: a restart replays every series and sample, stale markers bit-exact") {
  testing::TempDir dir;
  std::map<std::string, std::vector<Point>> before;
  {
    MemoryStore s;
    Wal wal(dir.path().string());
    auto r = wal.open(s, 0);
    CHECK(r.series == 0);
    for (int k = 0; k < 300; ++k) {  // past two chunks of 120
      scrape(s, 10, 1'000'000 + k * 15'000);
      REQUIRE(wal.flush().has_value());
    }
    before = contents(s);
    s.set_wal(nullptr);
  }
  MemoryStore again;
  Wal wal(dir.path().string());
  auto r = wal.open(again, 0);
  CHECK(r.damage.empty());
  CHECK(r.series == 10);
  CHECK(r.samples == 3000);
  CHECK(r.dropped == 0);
  CHECK(contents(again) == before);

  // What is appended after a restart is logged too (the replay folded the
  // log into a snapshot with the new ids).
  scrape(again, 11, 1'000'000 + 300 * 15'000);
  REQUIRE(wal.flush().has_value());
  auto after = contents(again);
  again.set_wal(nullptr);
  MemoryStore third;
  Wal wal3(dir.path().string());
  auto r3 = wal3.open(third, 0);
  CHECK(r3.series == 11);
  CHECK(contents(third) == after);
}

TEST_CASE("wal: a torn tail loses only the record it cut; damage in the middle only the damaged record") {
  testing::TempDir dir;
  const auto log = dir.path() / "wal.log";
  std::vector<uint64_t> ends;  // log size after each flush
  {
    MemoryStore s;
    Wal wal(dir.path().string());
    wal.open(s, 0);
    for (int k = 0; k < 4; ++k) {
      scrape(s, 5, 1'000'000 + k * 15'000);
      REQUIRE(wal.flush().has_value());
      ends.push_back(std::filesystem::file_size(log));
    }
    s.set_wal(nullptr);
  }
  const std::string whole = [&] {
    std::ifstream f(log, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }();

  SUBCASE("torn tail") {
    std::filesystem::resize_file(log, ends[2] + (ends[3] - ends[2]) / 2);
    MemoryStore s;
    Wal wal(dir.path().string());
    auto r = wal.open(s, 0);
    CHECK(r.series == 5);
    CHECK(r.samples == 15);  // the first three scrapes
    for (SeriesRef ref = 0; ref < s.num_series(); ++ref) CHECK(s.get(ref).num_samples() == 3);
  }

  SUBCASE("damaged record in the middle") {
    // The third scrape's samples are one record between ends[1] and ends[2].
    flip_byte(log, ends[1] + (ends[2] - ends[1]) / 2);
    MemoryStore s;
    Wal wal(dir.path().string());
    auto r = wal.open(s, 0);
    CHECK(r.damage.size() == 1);
    CHECK(r.series == 5);
    CHECK(r.samples == 15);  // scrapes 1, 2 and 4
    for (SeriesRef ref = 0; ref < s.num_series(); ++ref) {
      std::vector<int64_t> t;
      for (auto it = s.get(ref).samples(); it.next();) t.push_back(it.t());
      CHECK(t == std::vector<int64_t>{1'000'000, 1'015'000, 1'045'000});
    }
  }
}

TEST_CASE("wal: folding after truncation keeps only what the retention holds") {
  testing::TempDir dir;
  MemoryStore s;
  Wal wal(dir.path().string(), 1);  // fold whenever asked
  wal.open(s, 0);
  for (int k = 0; k < 500; ++k) {
    // Series 0-4 all along; series 5-9 only in the first 100 scrapes.
    scrape(s, k < 100 ? 10 : 5, k * 15'000);
    REQUIRE(wal.flush().has_value());
  }
  const size_t log_before = wal.log_bytes();
  s.truncate_before(400 * 15'000);
  CHECK(s.num_series() == 5);
  REQUIRE(wal.maybe_fold(s).has_value());
  CHECK(wal.log_bytes() < log_before / 10);
  // The snapshot holds compressed chunks: far less than the raw records.
  CHECK(wal.snapshot_bytes() < log_before / 4);
  scrape(s, 5, 500 * 15'000);
  REQUIRE(wal.flush().has_value());
  auto want = contents(s);
  s.set_wal(nullptr);

  MemoryStore again;
  Wal wal2(dir.path().string());
  auto r = wal2.open(again, 0);
  CHECK(r.damage.empty());
  CHECK(again.num_series() == 5);
  // The snapshot keeps whole chunks: samples truncation hid in the first
  // one come back until the next truncation hides them again.
  again.truncate_before(400 * 15'000);
  CHECK(contents(again) == want);
}

namespace {

// A histogram of 12 buckets whose counts grow with k, its sum a float.
FloatHistogram hist(int k) {
  FloatHistogram h;
  h.schema = 2;
  h.zero_threshold = 1e-128;
  h.zero_count = k % 3;
  h.positive_spans = {{-3, 8}, {2, 4}};
  for (int i = 0; i < 12; ++i) h.positive_buckets.push_back(static_cast<double>(k * (i % 4 + 1)));
  h.count = h.zero_count;
  for (double b : h.positive_buckets) h.count += b;
  h.sum = k * 0.1;
  return h;
}

struct HPoint {
  int64_t t;
  std::string notation;
  CounterResetHint hint;
  uint64_t sum_bits;
  bool operator==(const HPoint&) const = default;
};

std::map<std::string, std::vector<HPoint>> histogram_contents(const MemoryStore& s) {
  std::map<std::string, std::vector<HPoint>> out;
  for (SeriesRef r = 0; r < s.num_series(); ++r) {
    auto& pts = out[s.get(r).labels.to_string()];
    for (auto it = s.get(r).histogram_samples(); it.next();) {
      pts.push_back({it.t(), it.value().to_notation(), it.value().hint, std::bit_cast<uint64_t>(it.value().sum)});
    }
  }
  return out;
}

// One scrape: histogram series h{i} (i < n), the float series of scrape(),
// and at k == 7 a reset of h{0}, at k % 50 == 49 a stale marker for h{1}.
void scrape_histograms(MemoryStore& s, int n, int k) {
  const int64_t t = 1'000'000 + k * 15'000;
  for (int i = 0; i < n; ++i) {
    Labels ls{{"__name__", "h"}, {"i", std::to_string(i)}};
    auto ref = s.add_series(ls);
    REQUIRE(ref.has_value());
    if (i == 1 && k % 50 == 49) {
      REQUIRE(s.append(*ref, t, stale_nan()).has_value());
      continue;
    }
    FloatHistogram h = hist(i == 0 && k >= 7 ? k - 6 : k + i);
    if (i == 2) h.hint = CounterResetHint::kGauge;
    if (i == 3) h.schema = kCustomBucketsSchema, h.positive_spans = {{0, 12}},
                h.custom_values = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    REQUIRE(s.append_histogram(*ref, t, std::make_shared<FloatHistogram>(h)).has_value());
  }
  scrape(s, 3, t);
}

}  // namespace

TEST_CASE("wal: histograms survive a restart bit-exact, hints included, beside floats and stale markers") {
  testing::TempDir dir;
  std::map<std::string, std::vector<HPoint>> hist_before;
  std::map<std::string, std::vector<Point>> float_before;
  {
    MemoryStore s;
    Wal wal(dir.path().string());
    wal.open(s, 0);
    for (int k = 0; k < 300; ++k) {  // past two chunks
      scrape_histograms(s, 4, k);
      REQUIRE(wal.flush().has_value());
    }
    hist_before = histogram_contents(s);
    float_before = contents(s);
    s.set_wal(nullptr);
  }
  CHECK(hist_before["{__name__=\"h\", i=\"0\"}"].size() == 300);
  CHECK(hist_before["{__name__=\"h\", i=\"0\"}"][7].hint == CounterResetHint::kUnknown);  // the reset
  CHECK(hist_before["{__name__=\"h\", i=\"0\"}"][8].hint == CounterResetHint::kNotReset);
  CHECK(hist_before["{__name__=\"h\", i=\"2\"}"][8].hint == CounterResetHint::kGauge);
  CHECK(hist_before["{__name__=\"h\", i=\"1\"}"].size() == 294);  // 6 stale markers instead

  MemoryStore again;
  Wal wal(dir.path().string());
  auto r = wal.open(again, 0);
  CHECK(r.damage.empty());
  CHECK(r.dropped == 0);
  CHECK(r.series == 7);
  CHECK(r.samples == 300 * 4 - 6 + 6 + 300 * 3);
  CHECK(histogram_contents(again) == hist_before);
  CHECK(contents(again) == float_before);

  // The replay folded everything into a snapshot of histogram chunks; what
  // comes after is logged on top, and both read back.
  for (int k = 300; k < 310; ++k) scrape_histograms(again, 5, k);
  REQUIRE(wal.flush().has_value());
  auto hist_after = histogram_contents(again);
  again.set_wal(nullptr);
  MemoryStore third;
  Wal wal3(dir.path().string());
  auto r3 = wal3.open(third, 0);
  CHECK(r3.damage.empty());
  CHECK(r3.series == 8);
  CHECK(histogram_contents(third) == hist_after);
  third.set_wal(nullptr);
}

TEST_CASE("wal: a torn tail in histogram records loses only the record it cut") {
  testing::TempDir dir;
  const auto log = dir.path() / "wal.log";
  std::vector<uint64_t> ends;
  std::map<std::string, std::vector<HPoint>> after_three;
  {
    MemoryStore s;
    Wal wal(dir.path().string());
    wal.open(s, 0);
    for (int k = 0; k < 4; ++k) {
      scrape_histograms(s, 4, k);
      REQUIRE(wal.flush().has_value());
      ends.push_back(std::filesystem::file_size(log));
      if (k == 2) after_three = histogram_contents(s);
    }
    s.set_wal(nullptr);
  }
  // The last flush wrote its float samples, then its histograms: cut the
  // histogram record at its end.
  std::filesystem::resize_file(log, ends[3] - 10);
  MemoryStore s;
  Wal wal(dir.path().string());
  auto r = wal.open(s, 0);
  CHECK(histogram_contents(s) == after_three);
  s.set_wal(nullptr);
}

TEST_CASE("wal: a log and snapshot written before histograms were logged load as before") {
  // Written by vigil 8c65539 (floats only): wal.snapshot holds series
  // m{i="0".."4"} folded after 130 scrapes, wal.log 20 scrapes more. See
  // tests/storage/testdata/wal_v1/README.
  testing::TempDir dir;
  for (const char* f : {"wal.snapshot", "wal.log"}) {
    std::filesystem::copy_file(std::filesystem::path(VIGIL_SOURCE_DIR) / "tests/storage/testdata/wal_v1" / f,
                               dir.path() / f);
  }
  MemoryStore s;
  Wal wal(dir.path().string());
  auto r = wal.open(s, 0);
  CHECK(r.damage.empty());
  CHECK(r.dropped == 0);
  CHECK(r.series == 5);
  CHECK(r.samples == 5 * 150);
  MemoryStore want;
  for (int k = 0; k < 150; ++k) scrape(want, 5, 1'000'000 + k * 15'000);
  CHECK(contents(s) == contents(want));
  s.set_wal(nullptr);
}

TEST_CASE("wal: histograms flushed before a kill -9 are there after the restart") {
  testing::TempDir dir;
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Scrapes as fast as it can, each flushed (written and synced), and
    // reports each flushed scrape until it is killed.
    ::close(pipefd[0]);
    MemoryStore s;
    Wal wal(dir.path().string(), 64 << 10);  // small: folds happen too
    wal.open(s, 0);
    for (int k = 0;; ++k) {
      for (int i = 0; i < 20; ++i) {
        auto ref = s.series(Labels{{"__name__", "h"}, {"i", std::to_string(i)}});
        if (!s.append_histogram(ref, k * 1000, std::make_shared<FloatHistogram>(hist(k + i)))) ::_exit(2);
      }
      if (!wal.flush() || !wal.maybe_fold(s)) ::_exit(3);
      if (::write(pipefd[1], &k, sizeof k) != sizeof k) ::_exit(4);
    }
  }
  ::close(pipefd[1]);
  int flushed = -1, k = 0;
  while (flushed < 150 && ::read(pipefd[0], &k, sizeof k) == sizeof k) flushed = k;
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(pipefd[0]);
  REQUIRE(flushed >= 150);
  CHECK(WIFSIGNALED(status));

  MemoryStore s;
  Wal wal(dir.path().string());
  auto r = wal.open(s, 0);
  CHECK(r.dropped == 0);
  REQUIRE(s.num_series() == 20);
  // Every flushed scrape is there (later ones may be too), exactly as a
  // store that was never killed holds them.
  MemoryStore want;
  for (int j = 0; j <= flushed + 2; ++j) {
    for (int i = 0; i < 20; ++i) {
      auto ref = want.series(Labels{{"__name__", "h"}, {"i", std::to_string(i)}});
      REQUIRE(want.append_histogram(ref, j * 1000, std::make_shared<FloatHistogram>(hist(j + i))));
    }
  }
  auto got = histogram_contents(s);
  auto all = histogram_contents(want);
  for (const auto& [name, pts] : got) {
    INFO(name);
    REQUIRE(pts.size() >= static_cast<size_t>(flushed) + 1);
    REQUIRE(pts.size() <= all[name].size());
    CHECK(std::equal(pts.begin(), pts.end(), all[name].begin()));
  }
  s.set_wal(nullptr);
}
