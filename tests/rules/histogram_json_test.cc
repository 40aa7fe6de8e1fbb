#include <doctest/doctest.h>

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
