#include <doctest/doctest.h>

#include <cmath>

#include "promql/series_desc.h"
#include "storage/memory_store.h"

using namespace vigil;
using namespace vigil::promql;

namespace {
std::vector<double> vals(std::string_view s) {
  auto r = parse_series_values(s);
  REQUIRE_MESSAGE(r.has_value(), r.error().message);
  std::vector<double> out;
  for (auto& v : *r) out.push_back(v.omitted ? -12345 : v.value);
  return out;
}
}  // namespace

// Examples from the expanding-notation documentation.
TEST_CASE("series values: documented expansions") {
  CHECK(vals("-2+4x3") == std::vector<double>{-2, 2, 6, 10});
  CHECK(vals(" 1-2x4") == std::vector<double>{1, -1, -3, -5, -7});
  CHECK(vals(" 1x4") == std::vector<double>{1, 1, 1, 1, 1});
  auto r = parse_series_values("1 _x3 stale");
  REQUIRE(r.has_value());
  REQUIRE(r->size() == 5);
  CHECK((*r)[1].omitted);
  CHECK((*r)[3].omitted);
  CHECK(storage::is_stale_nan((*r)[4].value));
  CHECK(vals("5 2+3x2 _") == std::vector<double>{5, 2, 5, 8, -12345});
}

TEST_CASE("series values: repeated addition keeps upstream's rounding") {
  auto v = vals("0+1.1x10");
  REQUIRE(v.size() == 11);
  CHECK(v.back() == 10.999999999999998);
}

TEST_CASE("series values: number forms") {
  CHECK(vals("1e3 .5 -Inf") == std::vector<double>{1000, 0.5, -INFINITY});
  // No hexadecimal: 0x3 is 0 repeated three more times, as upstream reads it.
  CHECK(vals("0x3") == std::vector<double>{0, 0, 0, 0});
  CHECK_FALSE(parse_series_values("0x1F"));
  CHECK(std::isnan(vals("NaN")[0]));
  CHECK(vals("5m") == std::vector<double>{300});
  CHECK(vals("1+1e1x1") == std::vector<double>{1, 11});
}

TEST_CASE("series values: errors") {
  CHECK_FALSE(parse_series_values("1+x3").has_value());
  CHECK_FALSE(parse_series_values("abc").has_value());
  CHECK_FALSE(parse_series_values("1x").has_value());
  CHECK_FALSE(parse_series_values("_y").has_value());
  CHECK_FALSE(parse_series_values("1x99999999999").has_value());
  auto h = parse_series_values("1 {{schema:1 sum:3 colour:2}}");
  REQUIRE_FALSE(h.has_value());
  CHECK(h.error().message.starts_with("unknown histogram field \"colour\""));
  CHECK(h.error().column == 20);  // where "colour" starts
  CHECK_FALSE(parse_series_values("{{schema:1 sum:3").has_value());
  CHECK_FALSE(parse_series_values("{{buckets:[1 x]}}").has_value());
  CHECK_FALSE(parse_series_values("{{sum:1 sum:2}}").has_value());
  CHECK_FALSE(parse_series_values("{{counter_reset_hint:maybe}}").has_value());
  CHECK_FALSE(parse_series_values("{{schema:-53 custom_values:[1]}}+{{schema:0}}x2").has_value());
}

TEST_CASE("series values: native histograms") {
  auto r = parse_series_values(
      "{{schema:1 sum:5 count:4 z_bucket:1 z_bucket_w:0.001 offset:-1 buckets:[1 2] n_offset:2 n_buckets:[3] "
      "counter_reset_hint:gauge}} _ {{}}x1");
  REQUIRE_MESSAGE(r.has_value(), r.error().message);
  REQUIRE(r->size() == 4);
  const FloatHistogram& h = *(*r)[0].histogram;
  CHECK(h.schema == 1);
  CHECK(h.sum == 5);
  CHECK(h.count == 4);
  CHECK(h.zero_count == 1);
  CHECK(h.zero_threshold == 0.001);
  CHECK(h.positive_spans == std::vector<HistogramSpan>{{-1, 2}});
  CHECK(h.positive_buckets == std::vector<double>{1, 2});
  CHECK(h.negative_spans == std::vector<HistogramSpan>{{2, 1}});
  CHECK(h.hint == CounterResetHint::kGauge);
  CHECK((*r)[0].hint_set);
  CHECK((*r)[1].omitted);
  CHECK((*r)[2].histogram->count == 0);
  CHECK((*r)[3].histogram == (*r)[2].histogram);

  // Expansion adds histograms: buckets of the increment join the layout.
  auto e = parse_series_values("{{schema:0 sum:1 count:1 buckets:[1]}}+{{schema:0 sum:2 count:2 offset:1 buckets:[2]}}x2");
  REQUIRE_MESSAGE(e.has_value(), e.error().message);
  REQUIRE(e->size() == 3);
  const FloatHistogram& last = *(*e)[2].histogram;
  CHECK(last.count == 5);
  CHECK(last.sum == 5);
  CHECK(last.positive_spans == std::vector<HistogramSpan>{{0, 2}});
  CHECK(last.positive_buckets == std::vector<double>{1, 4});
  CHECK(last.to_notation() == "{{schema:0 count:5 sum:5 buckets:[1 4]}}");
  auto d = parse_series_values("{{schema:0 sum:9 count:9 buckets:[9]}}-{{schema:0 sum:1 count:1 buckets:[1]}}x3");
  REQUIRE(d.has_value());
  CHECK(d->back().histogram->positive_buckets == std::vector<double>{6});
}

TEST_CASE("series description: labels through the PromQL parser") {
  auto d = parse_series_desc("http_requests{job=\"api\", instance=\"a:1\"} 1+1x2");
  REQUIRE_MESSAGE(d.has_value(), d.error().message);
  CHECK(d->labels.to_string() == "{__name__=\"http_requests\", instance=\"a:1\", job=\"api\"}");
  CHECK(d->values.size() == 3);
  auto q = parse_series_desc("{\"my.metric\", \"a b\"=\"x } y\"} 5");
  REQUIRE_MESSAGE(q.has_value(), q.error().message);
  CHECK(q->labels.get("__name__") == "my.metric");
  CHECK(q->labels.get("a b") == "x } y");
  CHECK(parse_series_desc("up 1")->labels.to_string() == "{__name__=\"up\"}");
  CHECK_FALSE(parse_series_desc("up{job=~\"a.*\"} 1").has_value());
  CHECK_FALSE(parse_series_desc("up{job=\"a\" 1").has_value());
  auto bad = parse_series_desc("up{job=\"a\"} 1 foo");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().column == 15);  // the "f" of foo
}
