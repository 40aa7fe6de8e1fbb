#pragma once

// Native histograms as Prometheus defines them (model/histogram): exponential
// schemas -4..8, where bucket i of schema s covers (2^((i-1)/2^s), 2^(i/2^s)],
// and the custom-buckets schema -53, whose bucket i covers
// (custom_values[i-1], custom_values[i]] (the last one up to +Inf). Counts are
// floats here (the form PromQL computes with); a sample scraped with integer
// counts converts losslessly up to 2^53.
//
// Buckets are kept as spans (offset from the end of the previous span, then a
// length) over a dense array of counts, as on the wire. The arithmetic below
// keeps each span a maximal run of present bucket indices.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vigil {

enum class CounterResetHint : uint8_t { kUnknown = 0, kReset = 1, kNotReset = 2, kGauge = 3 };

struct HistogramSpan {
  int32_t offset = 0;
  uint32_t length = 0;
  bool operator==(const HistogramSpan&) const = default;
};

// One bucket: its bounds, count and index (for exponential schemas).
struct HistogramBucket {
  double lower = 0, upper = 0;
  double count = 0;
  int32_t index = 0;
  bool lower_inclusive = false, upper_inclusive = true;
};

inline constexpr int32_t kCustomBucketsSchema = -53;

struct FloatHistogram {
  CounterResetHint hint = CounterResetHint::kUnknown;
  int32_t schema = 0;
  double zero_threshold = 0;
  double zero_count = 0;
  double count = 0;
  double sum = 0;
  std::vector<HistogramSpan> positive_spans, negative_spans;
  std::vector<double> positive_buckets, negative_buckets;
  std::vector<double> custom_values;  // schema -53 only: upper bounds, ascending

  bool custom() const { return schema == kCustomBucketsSchema; }

  // Why the histogram is malformed (spans disagree with bucket counts, bad
  // schema, custom bounds not ascending), or empty when it is well formed.
  std::string validate() const;

  // Buckets in ascending order of their bounds: negative ones (most negative
  // first), the zero bucket when it has a count or a width, then positive.
  // Empty buckets are included when they are part of a span.
  std::vector<HistogramBucket> buckets() const;
  std::vector<HistogramBucket> positive() const;
  std::vector<HistogramBucket> negative() const;

  // Scales every count and the sum; a negative factor makes it a gauge.
  void mul(double f);
  // Divides; by zero: counts and sum become infinities (or NaN), buckets go.
  void div(double f);
  // Adds (sub: subtracts) `o`, reconciling schemas (to the lower one) and
  // zero buckets (to the wider one). Fails for exponential with custom, and
  // intersects custom bounds that differ (*bounds_reconciled set then).
  // *hint_collision: one was a counter reset and the other not.
  // Returns false when the two cannot be combined.
  bool add(const FloatHistogram& o, bool subtract, bool* hint_collision, bool* bounds_reconciled);
  // add() with compensated summation: the low-order parts that plain
  // addition would lose are kept in `comp`, a histogram with this one's
  // bucket layout (default-constructed before the first call, then left to
  // this function). The sum is *this plus comp (add_compensation).
  bool kahan_add(const FloatHistogram& o, FloatHistogram& comp, bool* hint_collision, bool* bounds_reconciled);
  // Adds a compensation kahan_add kept (same layout; missing buckets are 0).
  void add_compensation(const FloatHistogram& comp);
  // Whether any count, the sum or a bucket is infinite.
  bool has_overflow() const;
  // Removes empty buckets (keeps spans maximal runs).
  void compact();
  // Merges buckets to a lower-resolution exponential schema.
  void reduce_resolution(int32_t target);
  // The trim operators: keeps the observations below `rhs` (upper) or above
  // it, splitting the bucket it falls in by interpolation, and re-estimates
  // count and sum from bucket midpoints when anything was removed.
  void trim(double rhs, bool upper);
  // Whether `this` (later) shows a counter reset against `prev`.
  bool detect_reset(const FloatHistogram& prev) const;

  // Bucket-wise equality up to a relative epsilon (promqltest's comparison);
  // the hint only counts when `with_hint`.
  bool approx_equal(const FloatHistogram& o, double epsilon, bool with_hint) const;

  // The series notation, {{schema:0 count:4 sum:5 buckets:[1 2 1]}}.
  std::string to_notation() const;
};

using HistogramPtr = std::shared_ptr<const FloatHistogram>;

// The sum or the mean of histograms added one by one, as Prometheus computes
// them for sum/avg and sum_over_time/avg_over_time: compensated summation,
// and for the mean, a direct sum divided at the end until that sum would
// overflow, then an incremental mean from there on.
class HistogramAccumulator {
 public:
  explicit HistogramAccumulator(bool mean) : mean_(mean) {}
  // False when `h` mixes exponential and custom buckets with what was added
  // before; the accumulator is of no further use then.
  bool add(const FloatHistogram& h, bool* bounds_reconciled);
  bool empty() const { return n_ == 0; }
  // One histogram added was a counter reset and another was not.
  bool counter_reset_collision() const { return reset_seen_ && not_reset_seen_; }
  // The sum or mean; the accumulator is spent afterwards.
  FloatHistogram take();

 private:
  bool mean_;
  bool incremental_ = false;
  bool reset_seen_ = false, not_reset_seen_ = false;
  double n_ = 0;
  FloatHistogram acc_;   // the running sum, or the running mean once incremental
  FloatHistogram comp_;  // its compensation
};

// Upper bound of exponential bucket `index` in `schema`.
double exponential_bucket_bound(int32_t index, int32_t schema);

}  // namespace vigil
