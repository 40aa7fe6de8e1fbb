#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"
#include "model/histogram.h"
#include "model/labels.h"

namespace vigil::storage {

// The two text formats targets expose metrics in (storage/scrape_protocol.h
// tells them and the protobuf format apart by Content-Type).
enum class ExpositionFormat {
  kPrometheusText,  // text/plain; version=0.0.4 (timestamps in milliseconds)
  kOpenMetrics,     // application/openmetrics-text (timestamps in seconds, "# EOF")
};

enum class MetricType { kUnknown, kCounter, kGauge, kHistogram, kGaugeHistogram, kSummary, kInfo, kStateSet };

struct ScrapedSample {
  Labels labels;  // includes __name__
  double value = 0;
  std::optional<int64_t> timestamp_ms;
};

struct ScrapeResult {
  std::vector<ScrapedSample> samples;
  using TypeMap = std::map<std::string, MetricType, std::less<>>;
  TypeMap types;  // metric family -> declared type
};

// Parses a scrape body. An error names the 1-based line and what was expected;
// nothing of a body with an error is kept, as Prometheus drops such a scrape.
Result<ScrapeResult> parse_exposition(std::string_view body, ExpositionFormat format);

// One sample line of a body with its label block left unread: `series` is
// the metric name and the label block exactly as the line writes them (a
// view into the body), so that a scraper can look the text up in what it
// read on the previous scrape before paying for the labels.
struct RawSample {
  std::string_view series;
  double value = 0;
  std::optional<int64_t> timestamp_ms;
  int line = 0;  // 1-based
  // 1 + the index of the sample's native histogram in ParsedBody::histograms
  // (`value` unused then); 0: a float sample.
  uint32_t histogram = 0;
  MetricType type = MetricType::kUnknown;  // declared by the last # TYPE line before it
};

// A scrape body's samples, whatever its format. Series texts are views into
// the body (text formats) or into `texts`, which holds the ones a parser
// wrote (protobuf bodies, classic histograms converted to native ones): they
// read as text-format series, so parse_series() gives their labels.
struct ParsedBody {
  std::vector<RawSample> samples;
  std::deque<std::string> texts;  // a deque: views into it stay valid as it grows
  std::vector<HistogramPtr> histograms;

  void clear() {
    samples.clear();
    texts.clear();
    histograms.clear();
  }
  // Appends a sample whose series text is `series` (kept in `texts`).
  RawSample& add(std::string series, double value, std::optional<int64_t> timestamp_ms, int line);
  // Appends a native-histogram sample.
  RawSample& add_histogram(std::string series, HistogramPtr h, std::optional<int64_t> timestamp_ms, int line);
};

// Writes a series the way a text-format line starts, metric name and label
// block, with names quoted where the classic character set does not cover
// them and values escaped: parse_series() reads it back.
void write_series_text(std::string& out, std::string_view name,
                       const std::vector<std::pair<std::string_view, std::string_view>>& labels);

// Splits a body into its sample lines, checking everything but what the
// label blocks hold (their quoting and closing brace are checked). Sample
// lines are appended to `out`, which is cleared first. On an error, call
// parse_exposition() for the exact message: lines are checked in another
// order here.
// With `types`, the # TYPE lines are recorded there.
Result<void> split_exposition(std::string_view body, ExpositionFormat format, std::vector<RawSample>& out,
                              ScrapeResult::TypeMap* types = nullptr);

// The labels (with __name__) of a RawSample's `series` text, read as
// parse_exposition() reads them: under a histogram's # TYPE its `le`, under a
// summary's its `quantile` are rewritten as Prometheus 3 formats floats.
Result<Labels> parse_series(std::string_view series, int line, MetricType type = MetricType::kUnknown);

// A float as Prometheus writes `le` and `quantile` label values: Go's
// shortest form, with ".0" added to integers ("1.0", "1e+06", "+Inf").
std::string format_openmetrics_float(double v);

}  // namespace vigil::storage
