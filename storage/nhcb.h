#pragma once

// Classic histograms as native histograms with custom buckets (NHCB,
// schema -53), as Prometheus converts them when a scrape job sets
// convert_classic_histograms_to_nhcb: one series named after the histogram,
// its buckets' upper bounds as custom_values, per-bucket counts (differences
// of the cumulative ones), count and sum.

#include <optional>
#include <string>
#include <vector>

#include "model/error.h"
#include "model/histogram.h"
#include "storage/exposition.h"

namespace vigil::storage {

// One classic histogram's series, gathered in any order.
class ClassicHistogram {
 public:
  // A bucket: observations at or below `le`, cumulative. A repeated bound
  // is ignored. Fails (and stays failed) on a NaN bound, a negative count or
  // counts that do not grow with the bounds.
  Result<void> add_bucket(double le, double cumulative);
  Result<void> set_count(double count);
  void set_sum(double sum) { sum_ = sum; }
  // A gauge histogram converts to one with the gauge hint.
  void set_gauge(bool gauge) { gauge_ = gauge; }

  // The NHCB: the last bucket is +Inf (added with the count when missing;
  // the count is the last bucket's when missing); fails when the count and
  // the +Inf bucket disagree.
  Result<FloatHistogram> to_nhcb() const;

 private:
  struct Bucket {
    double le;
    double cumulative;
  };
  std::vector<Bucket> buckets_;  // ascending le
  std::optional<double> count_;
  double sum_ = 0;
  bool gauge_ = false;
  std::string error_;
};

// Converts the classic histograms of a text-format body (families declared
// `histogram` by # TYPE): each run of consecutive _bucket, _count and _sum
// lines of one label set becomes one NHCB sample after the run. The classic
// lines are dropped unless `keep_classic`. A run that does not convert (bad
// bounds or counts) gives no NHCB, as Prometheus skips it.
void convert_text_histograms(ParsedBody& body, const ScrapeResult::TypeMap& types, bool keep_classic);

}  // namespace vigil::storage
