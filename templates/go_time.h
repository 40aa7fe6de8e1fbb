#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/error.h"
#include "templates/value.h"

namespace vigil::templates {

// An instant as Go's time.Time holds it, with the zone it is shown in.
// The zone is fixed per value: converting to a named location (tz) looks the
// offset up for that instant. vigil's "Local" zone is UTC.
struct GoTime {
  int64_t sec = -62135596800;  // Unix seconds; the default is Go's zero time
  int32_t nsec = 0;
  int32_t offset = 0;          // seconds east of UTC
  std::string zone = "UTC";    // abbreviation; empty for an unnamed fixed offset

  bool is_zero() const { return sec == -62135596800 && nsec == 0; }
};

GoTime go_time_from_unix(int64_t sec, int32_t nsec = 0);
GoTime go_time_from_unix_millis(int64_t ms);

// time.Time.Format with Go's reference layout ("2006-01-02 15:04:05").
std::string go_time_format(const GoTime& t, std::string_view layout);
// time.Time.String: "2006-01-02 15:04:05.999999999 -0700 MST".
std::string go_time_string(const GoTime& t);

// time.Time.UnmarshalJSON / RFC 3339 with optional fraction: "Z" is UTC, an
// offset is an unnamed fixed zone (or UTC when it is zero).
Result<GoTime> go_time_parse_rfc3339(std::string_view s);
// time.ParseInLocation(layout, value, time.UTC) (go_time_parse.cc): the
// value read with a Go layout; without a zone in the value the time is UTC.
// Errors are Go's: `parsing time "x" as "2006": cannot parse "x" as "2006"`.
Result<GoTime> go_time_parse(std::string_view layout, std::string_view value);
// time.LoadLocation(name) and In: the same instant shown in that zone.
// "UTC" and "" are UTC, "Local" is UTC; others come from the tz database.
Result<GoTime> go_time_in(const GoTime& t, std::string_view location);

// Nanoseconds from a to b (b - a), saturated as Go's Sub is.
int64_t go_time_sub(const GoTime& b, const GoTime& a);
GoTime go_time_add(const GoTime& t, int64_t nanos);

// Template values of type time.Time and time.Duration, with the methods
// templates commonly call (Format, Unix, UTC, Add, Sub, Year, ... on time;
// Seconds, Minutes, Hours, String, ... on durations).
const Type* time_type();
const Type* duration_type();
Value time_value(GoTime t);
Value duration_value(int64_t nanos);
// The time inside a time.Time or *time.Time value, or null.
const GoTime* as_time(const Value& v);

}  // namespace vigil::templates
