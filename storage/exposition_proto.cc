#include "storage/exposition_proto.h"

#include <cmath>
#include <limits>
#include <memory>

#include <fmt/format.h>

#include "model/names.h"
#include "storage/metrics.pb.h"
#include "storage/nhcb.h"

namespace vigil::storage {

namespace pb = vigil::storage::expo;

namespace {

using Pairs = std::vector<std::pair<std::string_view, std::string_view>>;

// A histogram Prometheus reads as native: it has a span or a zero bucket.
bool is_native(const pb::Histogram& h) {
  return h.positive_span_size() > 0 || h.negative_span_size() > 0 || h.zero_threshold() > 0 || h.zero_count() > 0;
}

// One side's spans and counts (absolute for float histograms, deltas
// otherwise) into `spans` and `buckets`.
template <class Counts>
Result<void> read_side(std::string_view side, const google::protobuf::RepeatedPtrField<pb::BucketSpan>& in_spans,
                       const Counts& counts, bool deltas, std::vector<HistogramSpan>& spans,
                       std::vector<double>& buckets) {
  uint64_t need = 0;
  int64_t index = 0;
  for (int i = 0; i < in_spans.size(); ++i) {
    const pb::BucketSpan& s = in_spans.Get(i);
    if (i > 0 && s.offset() < 0)
      return fail(fmt::format("{} side: span number {} has a negative offset {}", side, i + 1, s.offset()));
    index += s.offset() + static_cast<int64_t>(s.length());
    // Bucket indexes stay well inside int32: larger ones have no finite bound.
    if (index > (int64_t{1} << 30) || index < -(int64_t{1} << 30))
      return fail(fmt::format("{} side: span number {} reaches bucket index {}", side, i + 1, index));
    need += s.length();
    spans.push_back({s.offset(), s.length()});
  }
  if (need != static_cast<uint64_t>(counts.size()))
    return fail(fmt::format("{} side: spans require {} buckets, have {}", side, need, counts.size()));
  int64_t running = 0;
  buckets.reserve(counts.size());
  for (int i = 0; i < counts.size(); ++i) {
    double c = 0;
    if (deltas) {
      if (__builtin_add_overflow(running, static_cast<int64_t>(counts.Get(i)), &running))
        return fail(fmt::format("{} side: bucket count overflows", side));
      c = static_cast<double>(running);
    } else {
      c = static_cast<double>(counts.Get(i));
    }
    if (c < 0 || std::isnan(c)) return fail(fmt::format("{} side: bucket {} has a count of {}", side, i + 1, c));
    buckets.push_back(c);
  }
  return {};
}

Result<FloatHistogram> native_histogram(const pb::Histogram& h, bool gauge) {
  if (h.schema() == kCustomBucketsSchema)
    return fail("schema -53 (custom buckets) needs bucket bounds, which the protobuf format does not carry");
  if (h.schema() < -4 || h.schema() > 8)
    return fail(fmt::format("schema {} is out of range (-4 to 8)", h.schema()));
  const bool is_float = h.sample_count_float() > 0 || h.zero_count_float() > 0;
  FloatHistogram f;
  f.hint = gauge ? CounterResetHint::kGauge : CounterResetHint::kUnknown;
  f.schema = h.schema();
  f.zero_threshold = h.zero_threshold();
  f.sum = h.sample_sum();
  f.count = is_float ? h.sample_count_float() : static_cast<double>(h.sample_count());
  f.zero_count = is_float ? h.zero_count_float() : static_cast<double>(h.zero_count());
  if (!(f.zero_threshold >= 0)) return fail(fmt::format("zero threshold {} is not a non-negative number", f.zero_threshold));
  Result<void> r = is_float ? read_side("positive", h.positive_span(), h.positive_count(), false, f.positive_spans,
                                        f.positive_buckets)
                            : read_side("positive", h.positive_span(), h.positive_delta(), true, f.positive_spans,
                                        f.positive_buckets);
  if (!r) return std::unexpected(r.error());
  r = is_float ? read_side("negative", h.negative_span(), h.negative_count(), false, f.negative_spans,
                           f.negative_buckets)
               : read_side("negative", h.negative_span(), h.negative_delta(), true, f.negative_spans,
                           f.negative_buckets);
  if (!r) return std::unexpected(r.error());
  f.compact();
  if (std::string e = f.validate(); !e.empty()) return fail(e);
  return f;
}

// Reads one family's metrics into `out`; `at` is the message's byte offset.
class FamilyReader {
 public:
  FamilyReader(const pb::MetricFamily& mf, const HistogramOptions& options, size_t at, ParsedBody& out)
      : mf_(mf), options_(options), at_(at), out_(out) {}

  Result<void> read() {
    if (mf_.metric_size() == 0) return {};  // an empty family is skipped, whatever its name
    const std::string& name = mf_.name();
    if (name.empty() || !is_valid_utf8(name)) return error(fmt::format("invalid metric name {}", go_quote(name)));
    if (!is_valid_utf8(mf_.help())) return error(fmt::format("invalid help for metric {}", go_quote(name)));
    if (mf_.type() < pb::COUNTER || mf_.type() > pb::GAUGE_HISTOGRAM)
      return error(fmt::format("unknown metric type {} for metric {}", mf_.type(), go_quote(name)));
    for (const pb::Metric& m : mf_.metric()) {
      if (auto r = metric(m); !r) return r;
    }
    return {};
  }

 private:
  std::unexpected<Error> error(std::string_view what) const {
    return fail(fmt::format("protobuf body, message at byte {}: {}", at_, what));
  }

  Result<void> metric(const pb::Metric& m) {
    pairs_.clear();
    for (const pb::LabelPair& l : m.label()) {
      if (l.name().empty() || !is_valid_utf8(l.name()))
        return error(fmt::format("metric {}: invalid label name {}", go_quote(mf_.name()), go_quote(l.name())));
      if (!is_valid_utf8(l.value()))
        return error(fmt::format("metric {}: label {} has a value that is not UTF-8", go_quote(mf_.name()), l.name()));
      pairs_.emplace_back(l.name(), l.value());
    }
    ts_ = m.timestamp_ms() != 0 ? std::optional<int64_t>(m.timestamp_ms()) : std::nullopt;
    const std::string& name = mf_.name();
    switch (mf_.type()) {
      case pb::COUNTER: sample(name, m.counter().value()); break;
      case pb::GAUGE: sample(name, m.gauge().value()); break;
      case pb::UNTYPED: sample(name, m.untyped().value()); break;
      case pb::SUMMARY: {
        const pb::Summary& s = m.summary();
        sample(name + "_count", static_cast<double>(s.sample_count()));
        sample(name + "_sum", s.sample_sum());
        for (const pb::Quantile& q : s.quantile()) sample(name, q.value(), "quantile", format_openmetrics_float(q.quantile()));
        break;
      }
      default: return histogram(m.histogram(), mf_.type() == pb::GAUGE_HISTOGRAM);
    }
    return {};
  }

  Result<void> histogram(const pb::Histogram& h, bool gauge) {
    const std::string& name = mf_.name();
    if (options_.native && is_native(h)) {
      auto f = native_histogram(h, gauge);
      if (!f) return error(fmt::format("histogram {}: {}", go_quote(name), f.error().message));
      std::string text;
      write_series_text(text, name, pairs_);
      out_.add_histogram(std::move(text), std::make_shared<const FloatHistogram>(std::move(*f)), ts_, 0);
      if (options_.keep_classic && h.bucket_size() > 0) classic(h);
      return {};
    }
    if (!options_.convert_nhcb || options_.keep_classic) classic(h);
    if (!options_.convert_nhcb) return {};
    ClassicHistogram c;
    c.set_gauge(gauge);
    (void)c.set_count(count_of(h));
    c.set_sum(h.sample_sum());
    for (const pb::Bucket& b : h.bucket()) (void)c.add_bucket(b.upper_bound(), cumulative_of(b));
    auto f = c.to_nhcb();
    if (!f) return error(fmt::format("histogram {}: {}", go_quote(name), f.error().message));
    std::string text;
    write_series_text(text, name, pairs_);
    out_.add_histogram(std::move(text), std::make_shared<const FloatHistogram>(std::move(*f)), ts_, 0);
    return {};
  }

  static double count_of(const pb::Histogram& h) {
    return h.sample_count_float() > 0 ? h.sample_count_float() : static_cast<double>(h.sample_count());
  }
  static double cumulative_of(const pb::Bucket& b) {
    return b.cumulative_count_float() > 0 ? b.cumulative_count_float() : static_cast<double>(b.cumulative_count());
  }

  // The classic series: _count, _sum, then the buckets up to +Inf.
  void classic(const pb::Histogram& h) {
    const std::string& name = mf_.name();
    sample(name + "_count", count_of(h));
    sample(name + "_sum", h.sample_sum());
    const std::string bucket = name + "_bucket";
    for (const pb::Bucket& b : h.bucket()) {
      sample(bucket, cumulative_of(b), "le", format_openmetrics_float(b.upper_bound()));
      if (std::isinf(b.upper_bound()) && b.upper_bound() > 0) return;
    }
    sample(bucket, count_of(h), "le", "+Inf");
  }

  void sample(const std::string& name, double v, std::string_view magic = {}, const std::string& magic_value = {}) {
    std::string text;
    if (magic.empty()) {
      write_series_text(text, name, pairs_);
    } else {
      pairs_.emplace_back(magic, magic_value);
      write_series_text(text, name, pairs_);
      pairs_.pop_back();
    }
    out_.add(std::move(text), v, ts_, 0);
  }

  const pb::MetricFamily& mf_;
  const HistogramOptions& options_;
  size_t at_;
  ParsedBody& out_;
  Pairs pairs_;
  std::optional<int64_t> ts_;
};

}  // namespace

namespace {

Result<void> parse_families(std::string_view body, const HistogramOptions& options, ParsedBody& out) {
  pb::MetricFamily mf;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t at = pos;
    uint64_t len = 0;
    bool ended = false;
    for (int shift = 0; pos < body.size() && shift < 64; shift += 7) {
      const auto b = static_cast<uint8_t>(body[pos++]);
      len |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        ended = true;
        break;
      }
    }
    if (!ended) return fail(fmt::format("protobuf body, byte {}: the length of a message is cut off", at));
    if (len > body.size() - pos)
      return fail(fmt::format("protobuf body, byte {}: a message of {} bytes, but only {} bytes follow", at, len,
                              body.size() - pos));
    mf.Clear();
    if (!mf.ParseFromArray(body.data() + pos, static_cast<int>(len)))
      return fail(fmt::format("protobuf body, byte {}: the message is not a MetricFamily", at));
    pos += len;
    if (auto r = FamilyReader(mf, options, at, out).read(); !r) return r;
  }
  return {};
}

}  // namespace

Result<void> parse_protobuf_exposition(std::string_view body, const HistogramOptions& options, ParsedBody& out) {
  out.clear();
  auto r = parse_families(body, options, out);
  if (!r) out.clear();
  return r;
}

}  // namespace vigil::storage
