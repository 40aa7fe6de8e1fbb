// The store's bounds: --storage.retention's forms and clamping, the series
// limit, and the rate-limited report of refused series.
#include <doctest/doctest.h>

#include "storage/limits.h"
#include "storage/memory_store.h"

using namespace vigil;
using namespace vigil::storage;

TEST_CASE("retention bounds: D is exact, MIN..MAX clamps, either side may be left out") {
  auto none = RetentionBounds::parse("");
  REQUIRE(none);
  CHECK(none->clamp(3 * kHour) == 3 * kHour);
  CHECK_FALSE(none->shortfall(400 * kDay));

  auto exact = RetentionBounds::parse("15d");
  REQUIRE(exact);
  CHECK(exact->clamp(kHour) == 15 * kDay);
  CHECK(exact->clamp(30 * kDay) == 15 * kDay);

  auto range = RetentionBounds::parse("2h..7d");
  REQUIRE(range);
  CHECK(range->clamp(kHour) == 2 * kHour);
  CHECK(range->clamp(3 * kHour) == 3 * kHour);
  CHECK(range->clamp(30 * kDay) == 7 * kDay);

  auto floor = RetentionBounds::parse("1d..");
  REQUIRE(floor);
  CHECK(floor->clamp(kHour) == kDay);
  CHECK(floor->clamp(30 * kDay) == 30 * kDay);
  CHECK_FALSE(floor->shortfall(30 * kDay));

  auto ceiling = RetentionBounds::parse("..90s");
  REQUIRE(ceiling);
  CHECK(ceiling->clamp(kHour) == 90 * kSecond);
  CHECK(ceiling->clamp(kMinute) == kMinute);
  auto warn = ceiling->shortfall(kHour);
  REQUIRE(warn);
  CHECK(warn->find("keeps 1m30s but the rules' ranges need 1h") != std::string::npos);
}

TEST_CASE("retention bounds: bad forms are errors naming the flag and what was expected") {
  for (const char* bad : {"..", "abc", "0s", "-1h", "1h..x", "x..1h", "2d..1d"}) {
    auto r = RetentionBounds::parse(bad);
    REQUIRE_MESSAGE(!r, bad);
    CHECK(r.error().message.starts_with("--storage.retention: "));
  }
  CHECK(RetentionBounds::parse("2d..1d").error().message.find("minimum 2d is above maximum 1d") != std::string::npos);
  CHECK(RetentionBounds::parse("abc").error().message.find("not a positive duration") != std::string::npos);
}

TEST_CASE("series limit: new series refused and counted, known ones keep taking samples") {
  MemoryStore s;
  s.set_max_series(2);
  REQUIRE(s.append({{"__name__", "a"}}, 1000, 1));
  REQUIRE(s.append({{"__name__", "b"}}, 1000, 1));
  auto refused = s.append({{"__name__", "c"}}, 1000, 1);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.starts_with("series limit reached: the store holds 2 series"));
  CHECK_FALSE(s.add_series({{"__name__", "d"}}));
  CHECK(s.num_series() == 2);
  CHECK(s.series_refused() == 2);
  CHECK(s.last_refused().to_string() == "{__name__=\"d\"}");
  // Series already held: found, and take their samples.
  CHECK(s.append({{"__name__", "a"}}, 2000, 2));
  CHECK(s.get(*s.add_series({{"__name__", "b"}})).num_samples() == 1);
  CHECK(s.num_samples() == 3);

  // Retention frees room: once a series is gone a new one is taken.
  REQUIRE(s.append({{"__name__", "b"}}, 2000, 2));
  s.truncate_before(1500);
  CHECK(s.num_series() == 2);
  REQUIRE(s.append({{"__name__", "a"}}, 3000, 3));
  s.truncate_before(2500);  // b's last sample is at 2000
  CHECK(s.num_series() == 1);
  CHECK(s.append({{"__name__", "c"}}, 3000, 1));
  CHECK(s.num_series() == 2);

  // No limit.
  s.set_max_series(0);
  for (int i = 0; i < 10; ++i) CHECK(s.add_series({{"__name__", "n"}, {"i", std::to_string(i)}}));
  CHECK(s.num_series() == 12);
}

TEST_CASE("refused series are reported at most once per interval, with their count since the last report") {
  MemoryStore s;
  s.set_max_series(1);
  RefusedSeriesReport report(kMinute);
  REQUIRE(s.append({{"__name__", "a"}}, 1000, 1));
  CHECK_FALSE(report.due(s, 0));  // nothing refused
  for (int i = 0; i < 3; ++i) CHECK_FALSE(s.add_series({{"__name__", "x"}, {"i", std::to_string(i)}}));
  auto first = report.due(s, 10 * kSecond);
  REQUIRE(first);
  CHECK(first->find("3 new series refused since the start") != std::string::npos);
  CHECK(first->find("at most 1 series") != std::string::npos);
  CHECK(first->find("{__name__=\"x\", i=\"2\"}") != std::string::npos);
  CHECK_FALSE(report.due(s, 20 * kSecond));  // nothing new
  CHECK_FALSE(s.add_series({{"__name__", "y"}}));
  CHECK_FALSE(report.due(s, 69 * kSecond));  // new, but within the minute
  auto second = report.due(s, 70 * kSecond);
  REQUIRE(second);
  CHECK(second->find("1 new series refused since the last report") != std::string::npos);
  CHECK_FALSE(report.due(s, 200 * kSecond));
}
