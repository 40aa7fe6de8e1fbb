#include "storage/remote_protocol.h"

#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>
#include <snappy.h>

namespace vigil::storage {

std::string snappy_compress(std::string_view raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

Result<std::string> snappy_decompress(std::string_view compressed, size_t max_size) {
  size_t size = 0;
  if (!snappy::GetUncompressedLength(compressed.data(), compressed.size(), &size))
    return fail("snappy: corrupt input (no valid length)");
  if (size > max_size) return fail(fmt::format("snappy: decoded size {} exceeds the limit of {} bytes", size, max_size));
  std::string out;
  if (!snappy::Uncompress(compressed.data(), compressed.size(), &out)) return fail("snappy: corrupt input");
  return out;
}

void set_labels(remote::TimeSeries& ts, const Labels& labels) {
  for (LabelView l : labels) {
    remote::Label* p = ts.add_labels();
    p->set_name(l.name.data(), l.name.size());
    p->set_value(l.value.data(), l.value.size());
  }
}

Result<Labels> labels_of(const remote::TimeSeries& ts) {
  std::vector<Label> ls;
  ls.reserve(ts.labels_size());
  for (const remote::Label& l : ts.labels()) {
    if (l.name().empty()) return fail("a label has an empty name");
    ls.push_back({l.name(), l.value()});
  }
  Labels out(ls);
  size_t non_empty = 0;
  for (const Label& l : ls) non_empty += l.value.empty() ? 0 : 1;
  if (out.size() != non_empty) return fail("a label name is repeated");
  return out;
}

void set_histogram(remote::Histogram& out, const FloatHistogram& h, int64_t t) {
  out.set_count_float(h.count);
  out.set_sum(h.sum);
  out.set_schema(h.schema);
  out.set_zero_threshold(h.zero_threshold);
  out.set_zero_count_float(h.zero_count);
  for (const HistogramSpan& s : h.negative_spans) {
    remote::BucketSpan* p = out.add_negative_spans();
    p->set_offset(s.offset);
    p->set_length(s.length);
  }
  out.mutable_negative_counts()->Add(h.negative_buckets.begin(), h.negative_buckets.end());
  for (const HistogramSpan& s : h.positive_spans) {
    remote::BucketSpan* p = out.add_positive_spans();
    p->set_offset(s.offset);
    p->set_length(s.length);
  }
  out.mutable_positive_counts()->Add(h.positive_buckets.begin(), h.positive_buckets.end());
  switch (h.hint) {
    case CounterResetHint::kUnknown: out.set_reset_hint(remote::Histogram::UNKNOWN); break;
    case CounterResetHint::kReset: out.set_reset_hint(remote::Histogram::YES); break;
    case CounterResetHint::kNotReset: out.set_reset_hint(remote::Histogram::NO); break;
    case CounterResetHint::kGauge: out.set_reset_hint(remote::Histogram::GAUGE); break;
  }
  out.set_timestamp(t);
  out.mutable_custom_values()->Add(h.custom_values.begin(), h.custom_values.end());
}

namespace {

std::vector<HistogramSpan> spans_of(const google::protobuf::RepeatedPtrField<remote::BucketSpan>& in) {
  std::vector<HistogramSpan> out;
  out.reserve(static_cast<size_t>(in.size()));
  for (const remote::BucketSpan& s : in) out.push_back({s.offset(), s.length()});
  return out;
}

// Absolute counts from the integer form's deltas; fails when one goes
// negative.
Result<std::vector<double>> counts_of_deltas(const google::protobuf::RepeatedField<int64_t>& deltas, const char* side) {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(deltas.size()));
  int64_t running = 0;
  for (int i = 0; i < deltas.size(); ++i) {
    if (__builtin_add_overflow(running, deltas[i], &running) || running < 0)
      return fail(fmt::format("{} bucket number {} has a negative or overflowing count", side, i + 1));
    out.push_back(static_cast<double>(running));
  }
  return out;
}

}  // namespace

Result<FloatHistogram> histogram_of(const remote::Histogram& m) {
  FloatHistogram h;
  const bool is_float = m.count_case() == remote::Histogram::kCountFloat;
  // A sample is in one form: an integer count with float parts (or the
  // reverse) is not something either form produces.
  if (is_float) {
    if (m.zero_count_case() == remote::Histogram::kZeroCountInt || m.negative_deltas_size() > 0 ||
        m.positive_deltas_size() > 0)
      return fail("histogram mixes the float form (count_float) with integer fields (zero_count_int or deltas)");
  } else if (m.zero_count_case() == remote::Histogram::kZeroCountFloat || m.negative_counts_size() > 0 ||
             m.positive_counts_size() > 0) {
    return fail("histogram mixes the integer form (count_int) with float fields (zero_count_float or counts)");
  }
  h.schema = m.schema();
  h.sum = m.sum();
  h.zero_threshold = m.zero_threshold();
  if (!(h.zero_threshold >= 0) || std::isinf(h.zero_threshold))
    return fail(fmt::format("histogram has an invalid zero threshold {}", h.zero_threshold));
  h.negative_spans = spans_of(m.negative_spans());
  h.positive_spans = spans_of(m.positive_spans());
  if (is_float) {
    h.count = m.count_float();
    h.zero_count = m.zero_count_float();
    h.negative_buckets.assign(m.negative_counts().begin(), m.negative_counts().end());
    h.positive_buckets.assign(m.positive_counts().begin(), m.positive_counts().end());
  } else {
    h.count = static_cast<double>(m.count_int());
    h.zero_count = static_cast<double>(m.zero_count_int());
    auto neg = counts_of_deltas(m.negative_deltas(), "negative");
    if (!neg) return std::unexpected(neg.error());
    auto pos = counts_of_deltas(m.positive_deltas(), "positive");
    if (!pos) return std::unexpected(pos.error());
    h.negative_buckets = std::move(*neg);
    h.positive_buckets = std::move(*pos);
  }
  switch (m.reset_hint()) {
    case remote::Histogram::YES: h.hint = CounterResetHint::kReset; break;
    case remote::Histogram::NO: h.hint = CounterResetHint::kNotReset; break;
    case remote::Histogram::GAUGE: h.hint = CounterResetHint::kGauge; break;
    default: h.hint = CounterResetHint::kUnknown; break;
  }
  h.custom_values.assign(m.custom_values().begin(), m.custom_values().end());
  if (!h.custom() && !h.custom_values.empty())
    return fail(fmt::format("histogram of exponential schema {} has custom_values (only schema {} has)", h.schema,
                            kCustomBucketsSchema));
  if (std::string why = h.validate(); !why.empty()) return fail("histogram: " + why);
  // Bucket indices are 32-bit: spans whose offsets add up past that would
  // wrap around.
  for (const auto* spans : {&h.negative_spans, &h.positive_spans}) {
    int64_t next = 0;
    for (const HistogramSpan& s : *spans) {
      next += s.offset;
      if (next < INT32_MIN) return fail("histogram has a span that starts below the lowest bucket index");
      next += s.length;
      if (next > INT32_MAX) return fail("histogram has a span that ends past the highest bucket index");
    }
  }
  if (h.custom()) {
    for (double b : h.custom_values)
      if (!std::isfinite(b)) return fail("histogram of custom buckets has a bound that is not finite");
    if (h.zero_count != 0 || h.zero_threshold != 0)
      return fail("histogram of custom buckets has a zero bucket (its zero count and threshold must be 0)");
    // Bucket indices run from 0 to the number of bounds (the last one, up
    // to +Inf).
    int64_t next = 0;
    for (const HistogramSpan& s : h.positive_spans) {
      if (s.offset < 0) return fail("histogram of custom buckets has a span with a negative offset");
      next += int64_t{s.offset} + s.length;
    }
    if (next > static_cast<int64_t>(h.custom_values.size()) + 1)
      return fail(fmt::format("histogram of custom buckets has buckets beyond its {} bounds", h.custom_values.size()));
  }
  // NaN counts pass, as upstream lets them (a division by zero makes them).
  for (double c : h.positive_buckets)
    if (c < 0) return fail("histogram has a positive bucket with a negative count");
  for (double c : h.negative_buckets)
    if (c < 0) return fail("histogram has a negative bucket with a negative count");
  if (h.zero_count < 0) return fail("histogram has a negative zero bucket count");
  if (!is_float) {
    // Integer counts add up exactly: the buckets hold every observation
    // (a NaN observation counts without a bucket, and makes the sum NaN).
    unsigned __int128 in_buckets = m.zero_count_int();  // cannot wrap
    for (double c : h.positive_buckets) in_buckets += static_cast<uint64_t>(c);
    for (double c : h.negative_buckets) in_buckets += static_cast<uint64_t>(c);
    if (in_buckets > m.count_int() || (in_buckets < m.count_int() && !std::isnan(h.sum)))
      return fail(fmt::format("histogram count is {} but its buckets hold {} observations", m.count_int(),
                              static_cast<double>(in_buckets)));
  }
  return h;
}

Result<Matcher> matcher_of(const remote::LabelMatcher& m) {
  MatchType type;
  switch (m.type()) {
    case remote::LabelMatcher::EQ: type = MatchType::kEqual; break;
    case remote::LabelMatcher::NEQ: type = MatchType::kNotEqual; break;
    case remote::LabelMatcher::RE: type = MatchType::kRegex; break;
    case remote::LabelMatcher::NRE: type = MatchType::kNotRegex; break;
    default: return fail(fmt::format("unknown matcher type {}", static_cast<int>(m.type())));
  }
  return Matcher::make(type, m.name(), m.value());
}

}  // namespace vigil::storage
