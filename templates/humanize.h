#pragma once

#include <string>

#include "model/error.h"
#include "templates/value.h"

namespace vigil::templates {

// Prometheus' number helpers (prometheus/common helpers/templates and
// Prometheus' template package), output identical to theirs.

// ConvertToFloat: float64, int, uint64, int64, a string Go's ParseFloat
// accepts, or a time.Duration (in seconds). Else "can't convert T to float".
Result<double> convert_to_float(const Value& v);

Result<std::string> humanize(const Value& v);              // 1.235k, 12.35m
Result<std::string> humanize_1024(const Value& v);         // 1.5Ki
Result<std::string> humanize_duration(const Value& v);     // 1d 2h 3m 4s, 1.5ms
Result<std::string> humanize_percentage(const Value& v);   // 83.33%
Result<std::string> humanize_timestamp(const Value& v);    // 2006-01-02 15:04:05 +0000 UTC

}  // namespace vigil::templates
