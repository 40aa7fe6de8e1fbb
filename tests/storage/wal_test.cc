#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

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
