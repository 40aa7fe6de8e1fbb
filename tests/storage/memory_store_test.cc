#include <doctest/doctest.h>

#include <cmath>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <fmt/format.h>

#include "storage/memory_store.h"

using namespace vigil;
using namespace vigil::storage;

namespace {
Matcher m(MatchType t, const char* n, const char* v) { return Matcher::make(t, n, v).value(); }

std::vector<std::string> names_of(const MemoryStore& s, const std::vector<SeriesRef>& refs) {
  std::vector<std::string> out;
  for (auto r : refs) out.push_back(s.get(r).labels.to_string());
  return out;
}
}  // namespace

TEST_CASE("the same label set is one series") {
  MemoryStore s;
  auto a = s.series({{"__name__", "up"}, {"job", "a"}});
  auto b = s.series({{"job", "a"}, {"__name__", "up"}});
  CHECK(a == b);
  CHECK(s.num_series() == 1);
}

TEST_CASE("samples append in order, duplicates and out-of-order are errors") {
  MemoryStore s;
  auto r = s.series({{"__name__", "x"}});
  CHECK(s.append(r, 1000, 1).has_value());
  CHECK(s.append(r, 2000, 2).has_value());
  CHECK(s.append(r, 2000, 2).has_value());  // same value at the same time is accepted
  auto dup = s.append(r, 2000, 3);
  REQUIRE_FALSE(dup.has_value());
  CHECK(dup.error().message.find("duplicate sample") == 0);
  CHECK_FALSE(s.append(r, 500, 1).has_value());
  CHECK(s.num_samples() == 2);
  const Series& ser = s.get(r);
  CHECK(ser.num_samples() == 2);
  CHECK(ser.max_time() == 2000);
  CHECK(ser.last_value() == 2);
  CHECK(ser.has_sample_in(1500, 2000));
  CHECK_FALSE(ser.has_sample_in(1001, 1999));
}

TEST_CASE("stale marker is a distinct NaN") {
  CHECK(is_stale_nan(stale_nan()));
  CHECK(std::isnan(stale_nan()));
  CHECK_FALSE(is_stale_nan(std::nan("")));
}

TEST_CASE("select by matchers through the index") {
  MemoryStore s;
  s.series({{"__name__", "up"}, {"job", "api"}, {"instance", "a"}});
  s.series({{"__name__", "up"}, {"job", "web"}, {"instance", "b"}});
  s.series({{"__name__", "up"}, {"instance", "c"}});
  s.series({{"__name__", "down"}, {"job", "api"}});

  std::vector<Matcher> eq{m(MatchType::kEqual, "__name__", "up"), m(MatchType::kEqual, "job", "api")};
  CHECK(names_of(s, s.select(eq)) ==
        std::vector<std::string>{"{__name__=\"up\", instance=\"a\", job=\"api\"}"});

  std::vector<Matcher> re{m(MatchType::kEqual, "__name__", "up"), m(MatchType::kRegex, "job", "a.*|w.*")};
  CHECK(s.select(re).size() == 2);

  // job!="api" also matches the series without a job label.
  std::vector<Matcher> ne{m(MatchType::kEqual, "__name__", "up"), m(MatchType::kNotEqual, "job", "api")};
  CHECK(names_of(s, s.select(ne)) ==
        std::vector<std::string>{"{__name__=\"up\", instance=\"b\", job=\"web\"}",
                                 "{__name__=\"up\", instance=\"c\"}"});

  // job="" selects series lacking the label.
  std::vector<Matcher> empty{m(MatchType::kEqual, "__name__", "up"), m(MatchType::kEqual, "job", "")};
  CHECK(s.select(empty).size() == 1);

  // Only empty-matching matchers: everything is a candidate.
  std::vector<Matcher> all{m(MatchType::kRegex, "job", ".*")};
  CHECK(s.select(all).size() == 4);

  std::vector<Matcher> none{m(MatchType::kEqual, "__name__", "nope")};
  CHECK(s.select(none).empty());
}

TEST_CASE("label names and values") {
  MemoryStore s;
  s.series({{"__name__", "up"}, {"job", "b"}});
  s.series({{"__name__", "up"}, {"job", "a"}});
  CHECK(s.label_names() == std::vector<std::string>{"__name__", "job"});
  CHECK(s.label_values("job") == std::vector<std::string>{"a", "b"});
  CHECK(s.label_values("nope").empty());
}

TEST_CASE("truncate drops old samples, whole chunks freed, the rest hidden") {
  MemoryStore s;
  auto r = s.series({{"__name__", "x"}});
  for (int i = 0; i < 1000; ++i) REQUIRE(s.append(r, i * 15000, i).has_value());
  const size_t before = s.sample_bytes();
  s.truncate_before(500 * 15000);
  CHECK(s.num_samples() == 500);
  auto it = s.get(r).samples();
  REQUIRE(it.next());
  CHECK(it.t() == 500 * 15000);
  CHECK(it.v() == 500);
  size_t n = 1;
  while (it.next()) ++n;
  CHECK(n == 500);
  // Chunks of 120 samples: the four before sample 480 are gone.
  CHECK(s.sample_bytes() < before * 7 / 10);
  // Reads over the truncated span see nothing.
  CHECK_FALSE(s.get(r).has_sample_in(0, 500 * 15000 - 1));
  CHECK(s.get(r).has_sample_in(0, 500 * 15000));
  std::vector<int64_t> t;
  std::vector<double> v;
  s.get(r).read(0, 510 * 15000, t, v);
  CHECK(t.size() == 11);
  CHECK(t.front() == 500 * 15000);
  s.compact();
  // Regular 15 s samples of a steady counter compress to a few bits each.
  CHECK(s.sample_bytes() < 500 * 3);
  // A series truncated to nothing is gone; its labels make a new one.
  s.truncate_before(2000 * 15000);
  CHECK(s.num_samples() == 0);
  CHECK(s.num_series() == 0);
  CHECK(s.append({{"__name__", "x"}}, 1, 1).has_value());
  CHECK(s.num_series() == 1);
}

namespace {
// Heap bytes in use (glibc); 0 where it cannot be told (sanitizer builds).
size_t heap_in_use() {
#if defined(__GLIBC__)
  return mallinfo2().uordblks;
#else
  return 0;
#endif
}
}  // namespace

TEST_CASE("truncation removes series without samples in the retention: the index and memory come back down") {
  MemoryStore s;
  const size_t start_heap = heap_in_use();
  constexpr int64_t kCycle = 15 * 60'000;  // a deployment every 15 minutes renames 1000 pods
  constexpr int64_t kKeep = 30 * 60'000;
  size_t heap_at_cycle_4 = 0;
  for (int cycle = 0; cycle < 16; ++cycle) {
    for (int i = 0; i < 1000; ++i) {
      Labels ls{{"__name__", "requests_total"}, {"pod", fmt::format("api-{}-{}", cycle, i)}, {"job", "api"}};
      auto ref = s.series(ls);
      for (int k = 0; k < 60; ++k) REQUIRE(s.append(ref, cycle * kCycle + k * 15'000, k * 3.0 + i).has_value());
    }
    const int64_t now = (cycle + 1) * kCycle;
    s.truncate_before(now - kKeep);
    // Only the last two cycles' pods have samples in the last 30 minutes.
    CHECK(s.num_series() == (cycle == 0 ? 1000u : 2000u));
    CHECK(s.num_samples() == s.num_series() * 60);
    if (cycle == 4) heap_at_cycle_4 = heap_in_use();
  }
  std::vector<Matcher> pods{m(MatchType::kRegex, "pod", "api-.*")};
  CHECK(s.select(pods).size() == 2000);
  CHECK(s.label_values("pod").size() == 2000);
  CHECK(s.label_values("pod").front() == "api-14-0");
  std::vector<Matcher> old{m(MatchType::kEqual, "pod", "api-3-7")};
  CHECK(s.select(old).empty());
  std::vector<Matcher> recent{m(MatchType::kEqual, "pod", "api-15-7")};
  auto found = s.select(recent);
  REQUIRE(found.size() == 1);
  CHECK(s.get(found[0]).labels.get("pod") == "api-15-7");
  CHECK(s.get(found[0]).last_value() == 59 * 3.0 + 7);
  // The same label set appends to its series, not to a new one.
  REQUIRE(s.append({{"__name__", "requests_total"}, {"pod", "api-15-7"}, {"job", "api"}}, 16 * kCycle, 1).has_value());
  CHECK(s.num_series() == 2000);

  const size_t heap_at_end = heap_in_use();
  if (start_heap > 0) {
    // Steady under churn: twelve more cycles of new pods did not grow the heap.
    CHECK(heap_at_end < heap_at_cycle_4 + heap_at_cycle_4 / 4);
  }
  s.truncate_before(100 * kCycle);
  CHECK(s.num_series() == 0);
  CHECK(s.num_samples() == 0);
  CHECK(s.sample_bytes() == 0);
  CHECK(s.label_names().empty());
  if (start_heap > 0) {
    INFO("heap before ", start_heap, ", at cycle 4 ", heap_at_cycle_4, ", at the end ", heap_at_end,
         ", emptied ", heap_in_use());
    CHECK(heap_in_use() < start_heap + 64 * 1024);
  }
}

TEST_CASE("appends keep working across chunk boundaries, out of order is refused in any chunk") {
  MemoryStore s;
  auto r = s.series({{"__name__", "x"}});
  for (int i = 0; i < 2 * kChunkSamples; ++i) REQUIRE(s.append(r, i * 1000, i * 0.5).has_value());
  CHECK_FALSE(s.append(r, (2 * kChunkSamples - 2) * 1000, 1).has_value());
  CHECK(s.append(r, (2 * kChunkSamples - 1) * 1000, (2 * kChunkSamples - 1) * 0.5).has_value());  // same value
  CHECK_FALSE(s.append(r, (2 * kChunkSamples - 1) * 1000, 7).has_value());
  CHECK(s.append(r, 2 * kChunkSamples * 1000, stale_nan()).has_value());
  CHECK(s.num_samples() == 2 * kChunkSamples + 1);
  CHECK(is_stale_nan(s.get(r).last_value()));
  auto it = s.get(r).samples();
  int i = 0;
  while (it.next()) {
    CHECK(it.t() == i * 1000);
    if (i < 2 * kChunkSamples) CHECK(it.v() == i * 0.5);
    ++i;
  }
  CHECK(i == 2 * kChunkSamples + 1);
}
