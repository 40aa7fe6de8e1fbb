#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/error.h"

namespace vigil {

// Durations and timestamps are integer milliseconds throughout vigil.
using Millis = int64_t;

inline constexpr Millis kSecond = 1000;
inline constexpr Millis kMinute = 60 * kSecond;
inline constexpr Millis kHour = 60 * kMinute;
inline constexpr Millis kDay = 24 * kHour;
inline constexpr Millis kWeek = 7 * kDay;
inline constexpr Millis kYear = 365 * kDay;

// Parses a Prometheus duration: units y w d h m s ms, each at most once and
// in that order ("1h30m", "90s", "1d", "500ms"), or "0".
Result<Millis> parse_duration(std::string_view s);

// Parses a Go duration (time.ParseDuration): a sequence of decimal numbers,
// each with an optional fraction and a unit (ns us µs ms s m h), optionally
// signed: "1h30m", "1.5s", "300ms", "-2h". Alertmanager uses this form for
// integration timeouts and Pushover's retry/expire. The result is rounded
// down to whole milliseconds.
Result<Millis> parse_go_duration(std::string_view s);

// Formats as Prometheus does: "0s", "1h30m", "1w", "90d" (years and weeks only
// when they divide the duration exactly).
std::string format_duration(Millis ms);

// Formats nanoseconds as Go's time.Duration prints: "0s", "1.5s", "5m0s",
// "2h0m0s", "300ms", "-1µs".
std::string format_go_duration(int64_t nanos);

}  // namespace vigil
