#include <doctest/doctest.h>

#include <cmath>

#include "rules/histogram_json.h"

using namespace vigil;
using namespace vigil::rules;

TEST_CASE("a remote answer's exponential histogram reads back with its schema") {
  // Schema 1 buckets: (1, 1.414], (1.414, 2], a gap, (2.828, 4]; negative
  // [-2, -1.414); zero bucket [-0.001, 0.001].
  auto j = nlohmann::json::parse(R"({"count":"9","sum":"7.5","buckets":[
      [1,"-2","-1.4142135623730951","1"],[3,"-0.001","0.001","2"],
      [0,"1","1.4142135623730951","1"],[0,"1.4142135623730951","2","2"],[0,"2.8284271247461903","4","3"]]})");
  auto h = histogram_from_json(j);
  REQUIRE(h);
  FloatHistogram want;
  want.schema = 1;
  want.count = 9;
  want.sum = 7.5;
  want.zero_threshold = 0.001;
  want.zero_count = 2;
  want.positive_spans = {{1, 2}, {1, 1}};
  want.positive_buckets = {1, 2, 3};
  want.negative_spans = {{2, 1}};
  want.negative_buckets = {1};
  CHECK_MESSAGE(h->approx_equal(want, 1e-12, false), h->to_notation());
}

TEST_CASE("a remote answer's custom buckets read back as custom buckets") {
  auto j = nlohmann::json::parse(R"({"count":"6","sum":"10","buckets":[
      [0,"-Inf","0.5","1"],[0,"0.5","2","2"],[0,"2","+Inf","3"]]})");
  auto h = histogram_from_json(j);
  REQUIRE(h);
  CHECK(h->schema == kCustomBucketsSchema);
  CHECK(h->custom_values == std::vector<double>{0.5, 2});
  CHECK(h->positive_buckets == std::vector<double>{1, 2, 3});
  CHECK(histogram_from_json(nlohmann::json::parse(R"({"count":"0","sum":"0"})"))->count == 0);
  auto bad = histogram_from_json(nlohmann::json::parse(
      R"({"count":"2","sum":"1","buckets":[[0,"1","5","1"],[0,"0.5","3","1"]]})"));
  CHECK_FALSE(bad);
}

TEST_CASE("custom buckets with empty ones left out keep every bucket's bounds") {
  // Bounds 0.5, 1, 2, 4: the answer leaves out the empty (0.5, 1] and (2, 4].
  auto h = histogram_from_json(nlohmann::json::parse(R"({"count":"6","sum":"10","buckets":[
      [0,"-Inf","0.5","1"],[0,"1","2","2"],[0,"4","+Inf","3"]]})"));
  REQUIRE(h);
  CHECK(h->custom_values == std::vector<double>{0.5, 1, 2, 4});
  CHECK(h->positive_spans == std::vector<HistogramSpan>{{0, 1}, {1, 1}, {1, 1}});
  CHECK(h->positive_buckets == std::vector<double>{1, 2, 3});
  auto bs = h->positive();
  REQUIRE(bs.size() == 3);
  CHECK(bs[1].lower == 1);
  CHECK(bs[1].upper == 2);
  CHECK(bs[2].lower == 4);
  // A bucket claiming all of (-Inf, +Inf] beside others overlaps them.
  CHECK_FALSE(histogram_from_json(nlohmann::json::parse(
      R"({"count":"2","sum":"1","buckets":[[0,"-Inf","+Inf","1"],[0,"1","2","1"]]})")));
}

TEST_CASE("a range answer's floats and histograms merge in time order") {
  auto s = remote_series_from_json(nlohmann::json::parse(R"({"metric":{"__name__":"m","job":"a"},
      "values":[[10,"1"],[30.5,"NaN"]],
      "histograms":[[20,{"count":"2","sum":"3","buckets":[[0,"1","2","2"]]}],[40,{"count":"4","sum":"6"}]]})"));
  REQUIRE(s);
  CHECK(s->labels == Labels{{"__name__", "m"}, {"job", "a"}});
  CHECK(s->t == std::vector<int64_t>{10'000, 20'000, 30'500, 40'000});
  REQUIRE(s->h.size() == 4);
  CHECK(s->v[0] == 1);
  CHECK(!s->h[0]);
  REQUIRE(s->h[1]);
  CHECK(s->h[1]->count == 2);
  CHECK(s->h[1]->positive_buckets == std::vector<double>{2});
  CHECK(std::isnan(s->v[2]));
  REQUIRE(s->h[3]);
  CHECK(s->h[3]->sum == 6);
  // Histograms only.
  auto only = remote_series_from_json(nlohmann::json::parse(
      R"({"metric":{},"histograms":[[1,{"count":"1","sum":"1"}]]})"));
  REQUIRE(only);
  CHECK(only->t == std::vector<int64_t>{1000});
  CHECK(only->h.size() == 1);
  // Floats only: no histogram entries at all.
  auto floats = remote_series_from_json(nlohmann::json::parse(R"({"metric":{},"values":[[1,"2"]]})"));
  REQUIRE(floats);
  CHECK(floats->h.empty());
  // A float and a histogram at one instant, or a list out of order: an error.
  auto same = remote_series_from_json(nlohmann::json::parse(
      R"({"metric":{"__name__":"m"},"values":[[1,"2"]],"histograms":[[1,{"count":"1","sum":"1"}]]})"));
  REQUIRE_FALSE(same);
  CHECK(same.error().message == "remote query returned points of {__name__=\"m\"} out of time order");
  CHECK_FALSE(remote_series_from_json(nlohmann::json::parse(R"({"metric":{},"values":[[2,"2"],[1,"1"]]})")));
  auto bad = remote_series_from_json(nlohmann::json::parse(
      R"({"metric":{},"histograms":[[1,{"count":"2","sum":"1","buckets":[[0,"1","5","1"],[0,"0.5","3","1"]]}]]})"));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.starts_with("remote query returned a histogram vigil cannot read"));
  CHECK_FALSE(remote_series_from_json(nlohmann::json::parse(R"({"metric":{},"values":{}})")));
}

TEST_CASE("a zero bucket of width 0, and a bucket cut at the zero threshold, read back as exponential") {
  auto h = histogram_from_json(nlohmann::json::parse(R"({"count":"4","sum":"2","buckets":[
      [3,"-0","0","3"],[0,"1","2","1"]]})"));
  REQUIRE(h);
  CHECK(h->schema == 0);
  CHECK(h->zero_threshold == 0);
  CHECK(h->zero_count == 3);
  CHECK(h->positive_spans == std::vector<HistogramSpan>{{1, 1}});
  // Zero threshold 0.75 inside (0.5, 1]: that bucket is shown as (0.75, 1].
  auto cut = histogram_from_json(nlohmann::json::parse(R"({"count":"4","sum":"2","buckets":[
      [3,"-0.75","0.75","1"],[0,"0.75","1","2"],[0,"1","2","1"]]})"));
  REQUIRE(cut);
  CHECK(cut->schema == 0);
  CHECK(cut->zero_threshold == 0.75);
  CHECK(cut->positive_spans == std::vector<HistogramSpan>{{0, 2}});
  CHECK(cut->positive_buckets == std::vector<double>{2, 1});
}
