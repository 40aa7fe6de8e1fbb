#include <doctest/doctest.h>

#include <cmath>

#include "model/histogram.h"

using namespace vigil;

namespace {

FloatHistogram exp_hist(int32_t schema, std::vector<HistogramSpan> spans, std::vector<double> buckets) {
  FloatHistogram h;
  h.schema = schema;
  h.positive_spans = std::move(spans);
  h.positive_buckets = std::move(buckets);
  for (double b : h.positive_buckets) h.count += b;
  return h;
}

}  // namespace

TEST_CASE("exponential bucket bounds") {
  CHECK(exponential_bucket_bound(0, 0) == 1);
  CHECK(exponential_bucket_bound(1, 0) == 2);
  CHECK(exponential_bucket_bound(-1, 0) == 0.5);
  CHECK(exponential_bucket_bound(1, -2) == 16);
  CHECK(exponential_bucket_bound(2, 1) == 2);
  CHECK(exponential_bucket_bound(1, 1) == doctest::Approx(std::sqrt(2.0)));
  CHECK(exponential_bucket_bound(-3, 1) == doctest::Approx(1 / std::pow(2.0, 1.5)));
}

TEST_CASE("buckets come out in order with their bounds") {
  FloatHistogram h = exp_hist(0, {{0, 2}, {1, 1}}, {1, 2, 3});
  h.negative_spans = {{1, 1}};
  h.negative_buckets = {4};
  h.zero_threshold = 0.5;
  h.zero_count = 5;
  auto bs = h.buckets();
  REQUIRE(bs.size() == 5);
  CHECK(bs[0].lower == -2);
  CHECK(bs[0].upper == -1);
  CHECK(bs[0].count == 4);
  CHECK(bs[1].lower == -0.5);  // the zero bucket
  CHECK(bs[1].count == 5);
  CHECK(bs[2].upper == 1);
  CHECK(bs[3].upper == 2);
  CHECK(bs[4].index == 3);
  CHECK(bs[4].upper == 8);

  FloatHistogram c;
  c.schema = kCustomBucketsSchema;
  c.custom_values = {1, 5};
  c.positive_spans = {{0, 3}};
  c.positive_buckets = {1, 2, 3};
  auto cb = c.buckets();
  REQUIRE(cb.size() == 3);
  CHECK(std::isinf(cb[0].lower));
  CHECK(cb[1].lower == 1);
  CHECK(cb[1].upper == 5);
  CHECK(std::isinf(cb[2].upper));
}

TEST_CASE("adding reduces to the lower schema and merges layouts") {
  FloatHistogram a = exp_hist(1, {{1, 2}}, {1, 1});  // indices 1, 2 at schema 1
  FloatHistogram b = exp_hist(0, {{2, 1}}, {5});     // index 2 at schema 0
  bool collision = false, reconciled = false;
  REQUIRE(a.add(b, false, &collision, &reconciled));
  CHECK(a.schema == 0);
  // Schema 1 indices 1 and 2 both fall into schema 0 index 1.
  CHECK(a.positive_spans == std::vector<HistogramSpan>{{1, 2}});
  CHECK(a.positive_buckets == std::vector<double>{2, 5});
  CHECK(a.count == 7);
  CHECK_FALSE(collision);

  FloatHistogram x = exp_hist(0, {{0, 1}}, {1});
  x.hint = CounterResetHint::kReset;
  FloatHistogram y = exp_hist(0, {{0, 1}}, {1});
  y.hint = CounterResetHint::kNotReset;
  REQUIRE(x.add(y, true, &collision, &reconciled));
  CHECK(collision);
  CHECK(x.hint == CounterResetHint::kUnknown);
  CHECK(x.positive_buckets == std::vector<double>{0});
  x.compact();
  CHECK(x.positive_buckets.empty());
  CHECK(x.positive_spans.empty());
}

TEST_CASE("custom buckets: no mixing with exponential, bounds intersected when they differ") {
  FloatHistogram c;
  c.schema = kCustomBucketsSchema;
  c.custom_values = {1, 2, 5};
  c.positive_spans = {{0, 4}};
  c.positive_buckets = {1, 1, 1, 1};
  c.count = 4;
  FloatHistogram e = exp_hist(0, {{0, 1}}, {1});
  CHECK_FALSE(c.add(e, false, nullptr, nullptr));
  FloatHistogram d = c;
  d.custom_values = {2, 10};
  d.positive_spans = {{0, 3}};
  d.positive_buckets = {1, 1, 1};
  bool reconciled = false;
  REQUIRE(c.add(d, false, nullptr, &reconciled));
  CHECK(reconciled);
  CHECK(c.custom_values == std::vector<double>{2});
  CHECK(c.positive_buckets == std::vector<double>{3, 4});
}

TEST_CASE("zero buckets widen to the larger threshold") {
  FloatHistogram a = exp_hist(0, {{-1, 3}}, {1, 2, 3});  // (0.25,0.5] (0.5,1] (1,2]
  a.zero_threshold = 0.1;
  FloatHistogram b;
  b.zero_threshold = 1;
  b.zero_count = 10;
  REQUIRE(a.add(b, false, nullptr, nullptr));
  CHECK(a.zero_threshold == 1);
  CHECK(a.zero_count == 13);
  CHECK(a.positive_spans == std::vector<HistogramSpan>{{1, 1}});
  CHECK(a.positive_buckets == std::vector<double>{3});
}

TEST_CASE("counter resets") {
  FloatHistogram prev = exp_hist(0, {{0, 2}}, {2, 2});
  FloatHistogram same = prev;
  CHECK_FALSE(same.detect_reset(prev));
  FloatHistogram fewer = exp_hist(0, {{0, 2}}, {3, 1});  // count equal, one bucket lower
  CHECK(fewer.detect_reset(prev));
  FloatHistogram moved = exp_hist(0, {{1, 1}}, {4});  // a populated bucket gone
  CHECK(moved.detect_reset(prev));
  FloatHistogram finer = exp_hist(1, {{0, 1}}, {10});
  CHECK(finer.detect_reset(prev));
  FloatHistogram hinted = prev;
  hinted.hint = CounterResetHint::kReset;
  CHECK(hinted.detect_reset(prev));
}

TEST_CASE("validation and notation") {
  FloatHistogram h = exp_hist(0, {{0, 2}}, {1});
  CHECK(h.validate() == "positive side: spans need 2 buckets, have 1 buckets");
  h.schema = 9;
  CHECK(h.validate().find("invalid schema") != std::string::npos);
  FloatHistogram g = exp_hist(0, {{1, 1}, {2, 1}}, {1, 2});
  g.sum = 1.5;
  g.hint = CounterResetHint::kGauge;
  CHECK(g.to_notation() == "{{schema:0 count:3 sum:1.5 offset:1 buckets:[1 0 0 2] counter_reset_hint:gauge}}");
  FloatHistogram g2 = exp_hist(0, {{1, 4}}, {1, 0, 0, 2});
  g2.sum = 1.5;
  CHECK_FALSE(g.approx_equal(g2, 1e-6, true));  // an empty bucket is still a bucket
  g2.hint = CounterResetHint::kGauge;
  g2.compact();
  CHECK(g.approx_equal(g2, 1e-6, true));
}

TEST_CASE("compensated sums keep what plain addition loses") {
  auto with_sum = [](double sum, double bucket) {
    FloatHistogram h = exp_hist(0, {{0, 1}}, {bucket});
    h.sum = sum;
    return h;
  };
  std::vector<FloatHistogram> in = {with_sum(1, 1), with_sum(1e100, 1e100), with_sum(1, 1), with_sum(-1e100, -1e100)};
  HistogramAccumulator sum(false);
  for (const auto& h : in) REQUIRE(sum.add(h, nullptr));
  FloatHistogram s = sum.take();
  CHECK(s.sum == 2);
  REQUIRE(s.positive_buckets.size() == 1);
  CHECK(s.positive_buckets[0] == 2);

  FloatHistogram plain = in[0];
  for (size_t i = 1; i < in.size(); ++i) plain.add(in[i], false, nullptr, nullptr);
  CHECK(plain.sum != 2);  // the case the compensation is for

  HistogramAccumulator mean(true);
  for (const auto& h : in) REQUIRE(mean.add(h, nullptr));
  CHECK(mean.take().sum == 0.5);
}

TEST_CASE("a mean whose direct sum would overflow continues incrementally") {
  FloatHistogram a = exp_hist(0, {{0, 1}}, {1.5e308});
  FloatHistogram b = exp_hist(0, {{1, 1}}, {1e308});
  HistogramAccumulator mean(true);
  REQUIRE(mean.add(a, nullptr));
  REQUIRE(mean.add(b, nullptr));
  FloatHistogram m = mean.take();
  CHECK_FALSE(m.has_overflow());
  CHECK(m.count == doctest::Approx(1.25e308));
  REQUIRE(m.positive_buckets.size() == 2);
  CHECK(m.positive_buckets[0] == doctest::Approx(0.75e308));
  CHECK(m.positive_buckets[1] == doctest::Approx(0.5e308));

  HistogramAccumulator sum(false);
  REQUIRE(sum.add(a, nullptr));
  REQUIRE(sum.add(b, nullptr));
  CHECK(sum.take().has_overflow());
}

TEST_CASE("the accumulator reports colliding counter-reset hints and incompatible schemas") {
  FloatHistogram r = exp_hist(0, {{0, 1}}, {1});
  r.hint = CounterResetHint::kReset;
  FloatHistogram nr = r;
  nr.hint = CounterResetHint::kNotReset;
  HistogramAccumulator acc(false);
  REQUIRE(acc.add(r, nullptr));
  CHECK_FALSE(acc.counter_reset_collision());
  REQUIRE(acc.add(nr, nullptr));
  CHECK(acc.counter_reset_collision());

  FloatHistogram c;
  c.schema = kCustomBucketsSchema;
  CHECK_FALSE(acc.add(c, nullptr));
}
