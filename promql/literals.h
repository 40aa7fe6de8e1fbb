#pragma once

// Internal to promql/: PromQL's number and duration literals, read as
// upstream reads them (Go's strconv and model.ParseDuration rules).

#include <string_view>

#include "model/duration.h"
#include "model/error.h"

namespace vigil::promql {

// strconv.ParseInt(s, 0, 64), falling back to strconv.ParseFloat; the error
// is Go's message ("strconv.ParseFloat: parsing ...: invalid syntax").
Result<double> parse_number(std::string_view text);

// A duration token ("1h30m"), with model.ParseDuration's error wording.
Result<Millis> parse_duration_literal(std::string_view text);

// Beyond what a Go time.Duration (int64 nanoseconds) can hold.
bool duration_out_of_range(double seconds);

// A literal's seconds as milliseconds. NaN passes the range check, as it
// does upstream (`foo offset NaN` parses), and becomes what Go's conversion
// gives on amd64, the smallest time.Duration, here truncated to
// milliseconds: an offset so far back that nothing is selected, and one
// that can be negated and subtracted from a timestamp without overflow.
Millis seconds_to_millis(double seconds);

}  // namespace vigil::promql
