#include <doctest/doctest.h>

#include "model/timestamp.h"
#include "routing/config.h"
#include "routing/time_interval.h"

using namespace vigil;
using namespace vigil::routing;

namespace {

Millis at(std::string_view rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  REQUIRE_MESSAGE(t, rfc3339);
  return *t;
}

TimeInterval interval(std::string_view yaml) {
  std::string cfg = "time_intervals:\n- name: t\n  time_intervals:\n  - " + std::string(yaml) +
                    "\nroute:\n  receiver: r\nreceivers:\n- name: r\n";
  LoadResult r = parse_config(cfg);
  REQUIRE_MESSAGE(r.ok(), (r.errors.empty() ? "" : r.errors[0].message));
  return r.config.time_intervals.at(0).intervals.at(0);
}

std::string error_of(std::string_view yaml) {
  std::string cfg = "time_intervals:\n- name: t\n  time_intervals:\n  - " + std::string(yaml) +
                    "\nroute:\n  receiver: r\nreceivers:\n- name: r\n";
  LoadResult r = parse_config(cfg);
  return r.errors.empty() ? "" : r.errors[0].message;
}

}  // namespace

TEST_CASE("time intervals: weekday business hours") {
  TimeInterval ti = interval("{weekdays: ['monday:friday'], times: [{start_time: '09:00', end_time: '17:00'}]}");
  CHECK(ti.contains(at("2020-05-04T15:04:00Z")));   // Monday
  CHECK(ti.contains(at("2020-06-09T09:04:00Z")));   // Tuesday
  CHECK_FALSE(ti.contains(at("2020-05-03T15:04:00Z")));  // Sunday
  CHECK_FALSE(ti.contains(at("2020-05-04T08:59:00Z")));
  CHECK_FALSE(ti.contains(at("2020-05-04T17:00:00Z")));  // the end is excluded
}

TEST_CASE("time intervals: negative days count from the month's end") {
  TimeInterval ti = interval("{days_of_month: ['-3:-1']}");
  CHECK(ti.contains(at("2020-01-29T15:04:00Z")));
  CHECK(ti.contains(at("2020-02-29T23:05:00Z")));  // leap year
  CHECK(ti.contains(at("2020-06-30T00:00:00Z")));
  CHECK_FALSE(ti.contains(at("2020-01-27T15:04:00Z")));
  CHECK_FALSE(ti.contains(at("2020-03-01T00:00:00Z")));
  TimeInterval june = interval("{months: ['june'], days_of_month: ['1:-1']}");
  CHECK(june.contains(at("2020-06-01T00:00:00Z")));
  CHECK(june.contains(at("2020-06-30T00:00:00Z")));
  CHECK_FALSE(june.contains(at("2020-05-31T00:00:00Z")));
}

TEST_CASE("time intervals: read in the interval's time zone, across DST") {
  TimeInterval syd = interval("{weekdays: ['monday:friday'], times: [{start_time: '09:00', end_time: '17:00'}], months: ['november'], location: 'Australia/Sydney'}");
  CHECK(syd.contains(at("2021-11-01T09:00:00+11:00")));
  CHECK(syd.contains(at("2021-10-31T22:00:00Z")));
  CHECK_FALSE(syd.contains(at("2021-10-31T21:00:00Z")));
  TimeInterval ny = interval("{days_of_month: ['-1'], location: 'America/New_York'}");
  CHECK(ny.contains(at("2021-03-31T12:00:00-04:00")));
  CHECK_FALSE(ny.contains(at("2021-03-30T12:00:00-04:00")));
  // 2021-04-01T02:00Z is still March 31st in New York.
  CHECK(ny.contains(at("2021-04-01T02:00:00Z")));
}

TEST_CASE("time intervals: years, months and empty lists") {
  TimeInterval ti = interval("{days_of_month: ['4:6'], months: ['4'], years: ['2020']}");
  CHECK(ti.contains(at("2020-04-05T00:00:00Z")));
  CHECK_FALSE(ti.contains(at("2019-04-06T23:59:00Z")));
  CHECK_FALSE(ti.contains(at("2020-04-07T00:00:00Z")));
  // An empty list matches nothing, as upstream.
  CHECK_FALSE(interval("{weekdays: []}").contains(at("2020-04-05T00:00:00Z")));
  CHECK(interval("{}").contains(at("2020-04-05T00:00:00Z")));
}

// Messages from upstream's timeinterval tests.
TEST_CASE("time intervals: invalid ranges") {
  CHECK(error_of("{times: [{start_time: '01:99', end_time: '02:00'}]}") ==
        "times: couldn't parse timestamp 01:99, invalid format");
  CHECK(error_of("{times: [{start_time: '17:31', end_time: '17:31'}]}") ==
        "times: start time cannot be equal or greater than end time");
  CHECK(error_of("{times: [{start_time: '14:03'}]}") == "times: both start and end times must be provided");
  CHECK(error_of("{weekdays: ['friday:monday']}") == "weekdays: start day cannot be before end day");
  CHECK(error_of("{weekdays: ['blurgsday']}") == "weekdays: blurgsday is not a valid weekday");
  CHECK(error_of("{days_of_month: ['0']}") == "days_of_month: 0 is not a valid day of the month: out of range");
  CHECK(error_of("{days_of_month: ['-50']}") == "days_of_month: -50 is not a valid day of the month: out of range");
  CHECK(error_of("{days_of_month: ['-5:5']}") == "days_of_month: end day must be negative if start day is negative");
  CHECK(error_of("{days_of_month: ['10:-25']}") == "days_of_month: end day -25 is always before start day 10");
  CHECK(error_of("{months: ['martius']}") == "months: martius is not a valid month");
  CHECK(error_of("{months: ['december:january']}") == "months: end month january is before start month december");
  CHECK(error_of("{years: ['2022:2020']}") == "years: end year 2020 is before start year 2022");
  CHECK(error_of("{location: 'Not/AZone'}") == "location: unknown time zone Not/AZone");
}

TEST_CASE("time intervals: a named set reports which names are active") {
  TimeIntervals set;
  set.add("weekend", {interval("{weekdays: ['saturday', 'sunday']}")});
  auto in = set.active({"weekend"}, at("2024-06-01T10:00:00Z"));  // a Saturday
  REQUIRE(in);
  CHECK(*in == std::vector<std::string>{"weekend"});
  CHECK(set.active({"weekend"}, at("2024-06-03T10:00:00Z"))->empty());
  CHECK_FALSE(set.active({"nope"}, 0));
}
