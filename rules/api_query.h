#pragma once

// `vigil query instant|range|series|labels`: promtool's query commands
// against a Prometheus-compatible HTTP API, printing what promtool prints
// (its `promql` text form of the result, or `json`).

#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/value.h"
#include "model/duration.h"

namespace vigil::rules {

struct ApiQuery {
  enum class Kind { kInstant, kRange, kSeries, kLabels };
  Kind kind = Kind::kInstant;
  std::string server;  // base URL; a path prefix is kept
  std::string expr;    // instant and range
  std::string label;   // labels: the label name
  std::vector<std::string> match;  // series (required) and labels: match[]
  // Unix times in seconds as promtool sends them (fractions kept), or unset.
  std::optional<double> time, start, end;
  std::optional<double> step_seconds;  // range; unset: promtool's default
  std::vector<std::pair<std::string, std::string>> headers;
  bool json = false;  // -o json
  const config::ConfigValue* http_config = nullptr;
};

// promtool's time arguments: a Unix timestamp (fractions rounded to the
// millisecond) or RFC 3339.
std::optional<double> parse_query_time(std::string_view s);

// Runs the query and prints the result on `out`, problems on `err` as
// promtool does ("query error: ..."). Returns the exit code: 0 or 1.
// `now_seconds` is the current time (range defaults: the last 5 minutes).
int run_api_query(ApiQuery q, double now_seconds, std::ostream& out, std::ostream& err);

}  // namespace vigil::rules
