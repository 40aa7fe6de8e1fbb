#include <doctest/doctest.h>

#include "model/duration.h"

using namespace vigil;

TEST_CASE("parse Prometheus durations") {
  CHECK(parse_duration("1h30m").value() == 90 * kMinute);
  CHECK(parse_duration("90s").value() == 90 * kSecond);
  CHECK(parse_duration("1d").value() == kDay);
  CHECK(parse_duration("1w").value() == 7 * kDay);
  CHECK(parse_duration("1y").value() == 365 * kDay);
  CHECK(parse_duration("500ms").value() == 500);
  CHECK(parse_duration("0").value() == 0);
  CHECK(parse_duration("0s").value() == 0);
  CHECK(parse_duration("1y2w3d4h5m6s7ms").value() ==
        kYear + 2 * kWeek + 3 * kDay + 4 * kHour + 5 * kMinute + 6 * kSecond + 7);
}

TEST_CASE("reject malformed durations") {
  CHECK_FALSE(parse_duration("").has_value());
  CHECK_FALSE(parse_duration("1").has_value());      // no unit
  CHECK_FALSE(parse_duration("1m1h").has_value());   // out of order
  CHECK_FALSE(parse_duration("1h1h").has_value());   // repeated
  CHECK_FALSE(parse_duration("1.5h").has_value());   // fractions are not Prometheus durations
  CHECK_FALSE(parse_duration("-1m").has_value());
  CHECK_FALSE(parse_duration("5x").has_value());
  CHECK(parse_duration("5x").error().message == "not a valid duration string: \"5x\"");
  CHECK_FALSE(parse_duration("99999999999999999999y").has_value());
  CHECK_FALSE(parse_duration("300000000y").has_value());  // overflows int64 ms
}

TEST_CASE("format durations as Prometheus does") {
  CHECK(format_duration(0) == "0s");
  CHECK(format_duration(90 * kMinute) == "1h30m");
  CHECK(format_duration(66 * kMinute) == "1h6m");
  CHECK(format_duration(kWeek) == "1w");
  CHECK(format_duration(90 * kDay) == "90d");  // not 12w6d
  CHECK(format_duration(kYear) == "1y");
  CHECK(format_duration(1500) == "1s500ms");
  CHECK(format_duration(-kMinute) == "-1m");
}

TEST_CASE("duration round trip") {
  for (const char* s : {"1h30m", "5m", "1d2h", "2w", "3y", "10s250ms", "1ms"}) {
    CHECK(format_duration(parse_duration(s).value()) == s);
  }
}
