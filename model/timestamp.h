#pragma once

#include <string>
#include <string_view>

#include "model/duration.h"
#include "model/error.h"

namespace vigil {

// Parses an RFC 3339 timestamp ("2024-05-01T10:00:00Z",
// "2024-05-01T12:00:00.5+02:00") into Unix milliseconds; digits beyond
// milliseconds are dropped.
Result<Millis> parse_rfc3339(std::string_view s);

// Unix milliseconds as RFC 3339 in UTC, fractional seconds only when
// non-zero and without trailing zeros, as Go prints time.RFC3339Nano:
// "2024-05-01T10:00:00Z", "2024-05-01T10:00:00.5Z".
std::string format_rfc3339(Millis t);

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t z, int64_t* y, unsigned* m, unsigned* d);

}  // namespace vigil
