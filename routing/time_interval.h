#pragma once

// Alertmanager's time intervals (upstream timeinterval/): times of day,
// weekdays, days of the month (negative days count from the month's end),
// months and years, in a time zone from the system's tz database. Routes name
// them in mute_time_intervals and active_time_intervals; they are checked when
// a group flushes.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/duration.h"
#include "model/error.h"

namespace date {
class time_zone;
}

namespace vigil::routing {

// [start, end) in minutes of the day, 0..1440.
struct TimeRange {
  int start_minute = 0;
  int end_minute = 0;
};

// An inclusive range [begin, end].
struct InclusiveRange {
  int begin = 0;
  int end = 0;
};

struct TimeInterval {
  // Unset: no restriction. Set but empty: never matches (as upstream).
  std::optional<std::vector<TimeRange>> times;
  std::optional<std::vector<InclusiveRange>> weekdays;       // 0 = Sunday
  std::optional<std::vector<InclusiveRange>> days_of_month;  // -1 = last day
  std::optional<std::vector<InclusiveRange>> months;         // 1 = January
  std::optional<std::vector<InclusiveRange>> years;
  const date::time_zone* location = nullptr;  // nullptr: UTC
  std::string location_name;

  // Whether the instant (Unix milliseconds) falls in this interval, read in
  // the interval's time zone.
  bool contains(Millis t) const;
};

// Parsers for the YAML strings, with upstream's validations and messages.
Result<TimeRange> parse_time_range(std::string_view start, std::string_view end);
Result<InclusiveRange> parse_weekday_range(std::string_view s);
Result<InclusiveRange> parse_day_of_month_range(std::string_view s);
Result<InclusiveRange> parse_month_range(std::string_view s);
Result<InclusiveRange> parse_year_range(std::string_view s);
// "UTC" or "" is UTC, "Local" the machine's zone, else an IANA name.
Result<const date::time_zone*> load_location(std::string_view name);

// The named intervals of a configuration.
class TimeIntervals {
 public:
  void add(std::string name, std::vector<TimeInterval> intervals);
  bool has(std::string_view name) const;
  // Which of `names` contain `t`. An unknown name is an error, as upstream.
  Result<std::vector<std::string>> active(const std::vector<std::string>& names, Millis t) const;

 private:
  std::map<std::string, std::vector<TimeInterval>, std::less<>> intervals_;
};

}  // namespace vigil::routing
