#include "storage/nhcb.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <memory>

#include <fmt/format.h>

#include "model/names.h"

namespace vigil::storage {

Result<void> ClassicHistogram::add_bucket(double le, double cumulative) {
  if (!error_.empty()) return fail(error_);
  if (std::isnan(le)) error_ = "bucket boundary must not be NaN";
  else if (cumulative < 0) error_ = fmt::format("bucket count must be non-negative: le={}, count={}", le, cumulative);
  if (!error_.empty()) return fail(error_);
  auto at = std::lower_bound(buckets_.begin(), buckets_.end(), le, [](const Bucket& b, double v) { return b.le < v; });
  if (at != buckets_.end() && at->le == le) return {};  // a repeated bound
  if (at != buckets_.begin() && cumulative < std::prev(at)->cumulative)
    error_ = fmt::format("count is not cumulative: {} < {}", cumulative, std::prev(at)->cumulative);
  else if (at != buckets_.end() && cumulative > at->cumulative)
    error_ = fmt::format("count is not cumulative: {} > {}", cumulative, at->cumulative);
  if (!error_.empty()) return fail(error_);
  buckets_.insert(at, Bucket{le, cumulative});
  return {};
}

Result<void> ClassicHistogram::set_count(double count) {
  if (!error_.empty()) return fail(error_);
  if (count < 0) {
    error_ = fmt::format("count must be non-negative: {}", count);
    return fail(error_);
  }
  count_ = count;
  return {};
}

Result<FloatHistogram> ClassicHistogram::to_nhcb() const {
  if (!error_.empty()) return fail(error_);
  std::vector<Bucket> buckets = buckets_;
  const double inf = std::numeric_limits<double>::infinity();
  const double count = count_ ? *count_ : buckets.empty() ? 0 : buckets.back().cumulative;
  if (buckets.empty() || buckets.back().le != inf) buckets.push_back({inf, count});
  if (count != buckets.back().cumulative)
    return fail(fmt::format("count mismatch: count={} but the +Inf bucket has {}", count, buckets.back().cumulative));
  FloatHistogram h;
  h.schema = kCustomBucketsSchema;
  h.hint = gauge_ ? CounterResetHint::kGauge : CounterResetHint::kUnknown;
  h.count = count;
  h.sum = sum_;
  h.positive_spans = {{0, static_cast<uint32_t>(buckets.size())}};
  double below = 0;
  for (const Bucket& b : buckets) {
    h.positive_buckets.push_back(b.cumulative - below);
    below = b.cumulative;
    if (b.le != inf) h.custom_values.push_back(b.le);
  }
  h.compact();
  if (std::string e = h.validate(); !e.empty()) return fail(e);
  return h;
}

namespace {

enum class Suffix { kNone, kBucket, kCount, kSum };

// The family a classic histogram line belongs to, and which part it is.
std::pair<Suffix, std::string_view> split_suffix(std::string_view name) {
  for (auto [suffix, text] : {std::pair{Suffix::kBucket, std::string_view("_bucket")},
                              std::pair{Suffix::kCount, std::string_view("_count")},
                              std::pair{Suffix::kSum, std::string_view("_sum")}}) {
    if (name.size() > text.size() && name.ends_with(text)) return {suffix, name.substr(0, name.size() - text.size())};
  }
  return {Suffix::kNone, name};
}

std::optional<double> parse_bound(std::string_view s) {
  if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || std::isnan(v)) return std::nullopt;
  return v;
}

}  // namespace

void convert_text_histograms(ParsedBody& body, const ScrapeResult::TypeMap& types, bool keep_classic) {
  struct Run {
    Labels labels;  // the histogram's: base name, no le
    ClassicHistogram h;
    std::optional<int64_t> timestamp_ms;
    int line = 0;
  };
  std::optional<Run> run;
  std::vector<RawSample> out;
  out.reserve(body.samples.size());
  auto finish = [&] {
    if (!run) return;
    auto nh = run->h.to_nhcb();
    if (nh) {
      std::vector<std::pair<std::string_view, std::string_view>> pairs;
      for (const LabelView l : run->labels)
        if (l.name != kMetricNameLabel) pairs.emplace_back(l.name, l.value);
      std::string text;
      write_series_text(text, run->labels.get(kMetricNameLabel), pairs);
      body.histograms.push_back(std::make_shared<const FloatHistogram>(std::move(*nh)));
      body.texts.push_back(std::move(text));
      out.push_back(RawSample{body.texts.back(), 0, run->timestamp_ms, run->line,
                              static_cast<uint32_t>(body.histograms.size())});
    }
    run.reset();
  };
  for (const RawSample& s : body.samples) {
    auto keep = [&] {
      finish();
      out.push_back(s);
    };
    if (s.histogram != 0) {
      keep();
      continue;
    }
    // The metric name without reading the labels, unless it is quoted.
    std::optional<Labels> parsed;
    std::string_view name = s.series.substr(0, s.series.find('{'));
    if (name.empty()) {
      parsed = parse_series(s.series, s.line, s.type).value_or(Labels{});
      name = parsed->get(kMetricNameLabel);
    }
    auto [suffix, base] = split_suffix(name);
    auto type = suffix == Suffix::kNone ? types.end() : types.find(base);
    if (type == types.end() || type->second != MetricType::kHistogram) {
      keep();
      continue;
    }
    if (!parsed) parsed = parse_series(s.series, s.line, s.type).value_or(Labels{});
    std::optional<double> le;
    if (suffix == Suffix::kBucket && !(le = parse_bound(parsed->get("le")))) {
      keep();
      continue;
    }
    LabelsBuilder b(*parsed);
    b.set("le", "");
    b.set(kMetricNameLabel, base);
    Labels key = b.build();
    if (run && !(run->labels == key)) finish();
    if (!run) run = Run{std::move(key), {}, s.timestamp_ms, s.line};
    run->line = s.line;
    switch (suffix) {
      case Suffix::kBucket: (void)run->h.add_bucket(*le, s.value); break;
      case Suffix::kCount: (void)run->h.set_count(s.value); break;
      case Suffix::kSum: run->h.set_sum(s.value); break;
      case Suffix::kNone: break;
    }
    if (keep_classic) out.push_back(s);
  }
  finish();
  body.samples = std::move(out);
}

}  // namespace vigil::storage
