#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"
#include "model/labels.h"

namespace vigil::storage {

// The two text formats targets expose metrics in.
enum class ExpositionFormat {
  kPrometheusText,  // text/plain; version=0.0.4 (timestamps in milliseconds)
  kOpenMetrics,     // application/openmetrics-text (timestamps in seconds, "# EOF")
};

// Picks the format from a Content-Type header value.
ExpositionFormat format_from_content_type(std::string_view content_type);

enum class MetricType { kUnknown, kCounter, kGauge, kHistogram, kGaugeHistogram, kSummary, kInfo, kStateSet };

struct ScrapedSample {
  Labels labels;  // includes __name__
  double value = 0;
  std::optional<int64_t> timestamp_ms;
};

struct ScrapeResult {
  std::vector<ScrapedSample> samples;
  std::map<std::string, MetricType, std::less<>> types;  // metric family -> declared type
};

// Parses a scrape body. An error names the 1-based line and what was expected;
// nothing of a body with an error is kept, as Prometheus drops such a scrape.
Result<ScrapeResult> parse_exposition(std::string_view body, ExpositionFormat format);

}  // namespace vigil::storage
