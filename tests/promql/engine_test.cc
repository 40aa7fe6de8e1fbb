#include <cmath>
#include <limits>

#include <doctest/doctest.h>

#include "promql/engine.h"
#include "promql/parser.h"
#include "promql/test_runner.h"

namespace vigil::promql {
namespace {

Labels L(std::initializer_list<Label> ls) { return Labels(ls); }

// Appends value i at i*step_ms for each value.
void fill(storage::MemoryStore& st, const Labels& ls, int64_t step_ms, std::initializer_list<double> vals) {
  int64_t t = 0;
  for (double v : vals) {
    REQUIRE(st.append(ls, t, v));
    t += step_ms;
  }
}

Result<QueryResult> instant(const storage::MemoryStore& st, std::string_view q, int64_t t,
                            EngineOptions opts = {}) {
  auto e = parse_expr(q);
  REQUIRE(e);
  return Engine(opts).instant(st, **e, t);
}

const Vector& vec(const Result<QueryResult>& r) {
  REQUIRE(r);
  REQUIRE(std::holds_alternative<Vector>(r->value));
  return std::get<Vector>(r->value);
}

TEST_CASE("instant selectors look back five minutes and respect stale markers") {
  storage::MemoryStore st;
  fill(st, L({{"__name__", "up"}}), 60'000, {1, 2, 3});
  REQUIRE(st.append(L({{"__name__", "up"}}), 240'000, storage::stale_nan()));
  CHECK(vec(instant(st, "up", 120'000)).at(0).value == 3);
  CHECK(vec(instant(st, "up", 150'000)).at(0).value == 3);   // latest sample before t
  CHECK(vec(instant(st, "up", 240'000)).empty());            // stale marker hides it
  CHECK(vec(instant(st, "up", 60'000 + 300'000)).empty());   // the sample at 1m left the window
  CHECK(vec(instant(st, "up offset 1m", 120'000)).at(0).value == 2);
  CHECK(vec(instant(st, "up @ 60", 0)).at(0).value == 2);
}

TEST_CASE("left-closed windows include the sample at the window start, as Prometheus 2.x") {
  storage::MemoryStore st;
  fill(st, L({{"__name__", "x"}}), 60'000, {1, 2, 3, 4, 5, 6, 7});
  EngineOptions v2;
  v2.left_closed_windows = true;
  // Range selectors: (1m, 2m] holds one sample, [1m, 2m] two.
  CHECK(vec(instant(st, "count_over_time(x[1m])", 120'000)).at(0).value == 1);
  CHECK(vec(instant(st, "count_over_time(x[1m])", 120'000, v2)).at(0).value == 2);
  // The lookback: a lone sample exactly 5m old.
  storage::MemoryStore lone;
  REQUIRE(lone.append(L({{"__name__", "y"}}), 0, 42));
  CHECK(vec(instant(lone, "y", 300'000)).empty());
  CHECK(vec(instant(lone, "y", 300'000, v2)).at(0).value == 42);
  // Subqueries: steps at 1m and 2m in (0, 2m]; 0, 1m and 2m in [0, 2m].
  CHECK(vec(instant(st, "count_over_time(x[2m:1m])", 120'000)).at(0).value == 2);
  CHECK(vec(instant(st, "count_over_time(x[2m:1m])", 120'000, v2)).at(0).value == 3);
}

TEST_CASE("rate extrapolates to the window edges as upstream") {
  storage::MemoryStore st;
  // A counter growing by 10 every 15s, sampled from t=15s.
  Labels ls = L({{"__name__", "x_total"}});
  for (int i = 1; i <= 40; ++i) REQUIRE(st.append(ls, i * 15'000, i * 10.0));
  // Window (300s, 600s]: samples at 315..600 cover 285s of the 300s range.
  auto res = instant(st, "rate(x_total[5m])", 600'000);
  const auto& v = vec(res);
  REQUIRE(v.size() == 1);
  CHECK(v[0].labels.empty());  // functions drop the metric name
  CHECK(v[0].value == doctest::Approx(10.0 / 15.0));
  // A counter reset is compensated; extrapolation stops where the counter was zero.
  storage::MemoryStore reset;
  fill(reset, ls, 60'000, {0, 10, 20, 5, 15});
  CHECK(vec(instant(reset, "increase(x_total[5m])", 240'000)).at(0).value == doctest::Approx(35.0));
}

TEST_CASE("range queries return series sorted by labels with one point per step") {
  storage::MemoryStore st;
  fill(st, L({{"__name__", "m"}, {"i", "b"}}), 60'000, {1, 2, 3});
  fill(st, L({{"__name__", "m"}, {"i", "a"}}), 60'000, {4, 5, 6});
  auto e = parse_expr("m * 2");
  auto r = Engine().range(st, **e, 0, 120'000, 60'000);
  REQUIRE(r);
  const auto& m = std::get<Matrix>(r->value);
  REQUIRE(m.size() == 2);
  CHECK(m[0].labels == L({{"i", "a"}}));
  CHECK(m[0].v == std::vector<double>{8, 10, 12});
  CHECK(m[1].t == std::vector<int64_t>{0, 60'000, 120'000});
  auto bad = parse_expr("m[5m]");
  auto err = Engine().range(st, **bad, 0, 60'000, 60'000);
  REQUIRE_FALSE(err);
  CHECK(err.error().message ==
        "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector");
}

TEST_CASE("matching errors carry upstream's wording") {
  storage::MemoryStore st;
  fill(st, L({{"__name__", "a"}, {"x", "1"}}), 60'000, {1});
  fill(st, L({{"__name__", "b"}, {"x", "1"}, {"y", "1"}}), 60'000, {1});
  fill(st, L({{"__name__", "b"}, {"x", "1"}, {"y", "2"}}), 60'000, {1});
  auto r = instant(st, "a + on(x) b", 0);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("many-to-many matching not allowed") != std::string::npos);
  CHECK(vec(instant(st, "a + on(x) group_right b", 0)).size() == 2);
  auto dup = instant(st, "label_replace(b, \"y\", \"\", \"\", \"\")", 0);
  REQUIRE_FALSE(dup);
  CHECK(dup.error().message == "vector cannot contain metrics with the same labelset");
}

TEST_CASE("hostile values give answers, not crashes") {
  storage::MemoryStore st;
  fill(st, L({{"__name__", "z"}}), 60'000, {0, std::numeric_limits<double>::quiet_NaN()});
  CHECK(std::isinf(vec(instant(st, "1 / z", 0)).at(0).value));
  CHECK(std::isnan(vec(instant(st, "z / z", 0)).at(0).value));
  CHECK(vec(instant(st, "count_values(\"v\", z)", 60'000)).at(0).labels.get("v") == "NaN");
  // A window of ten years over sparse data.
  CHECK(vec(instant(st, "count_over_time(z[3650d])", 60'000)).at(0).value == 2);
  auto deep = parse_expr(std::string(100'000, '(') + "1" + std::string(100'000, ')'));
  CHECK_FALSE(deep);
  // An offset of NaN seconds is the smallest one: it looks far into the
  // future, where there is nothing.
  CHECK(vec(instant(st, "z offset NaN", 60'000)).empty());
}

TEST_CASE("limits: too many samples and the query timeout fail clearly") {
  storage::MemoryStore st;
  for (int i = 0; i < 100; ++i) fill(st, L({{"__name__", "s"}, {"i", std::to_string(i)}}), 1000, {1, 2, 3});
  EngineOptions small;
  small.max_samples = 50;
  auto r = instant(st, "s", 2000, small);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "query processing would load too many samples into memory in query execution");
  EngineOptions hurried;
  hurried.timeout = std::chrono::milliseconds(-1);
  auto t = instant(st, "sum(s)", 2000, hurried);
  REQUIRE_FALSE(t);
  CHECK(t.error().message == "query timed out in expression evaluation");
}

TEST_CASE("the test runner counts passed and failed evals, native histograms included") {
  std::string_view script = R"(load 1m
  m{a="1"} 1 2 3
  h {{schema:0 sum:1 count:1}}

eval instant at 2m m
  m{a="1"} 3

eval instant at 2m m
  m{a="1"} 4

eval instant at 2m h
  {} 1

eval instant at 2m h
  h {{schema:0 sum:1 count:1}}

eval range from 0 to 2m step 1m m * 2
  {a="1"} 2 4 6
)";
  auto r = script::run_script(script, "inline.test");
  REQUIRE(r);
  CHECK(r->passed() == 3);
  CHECK(r->failed() == 2);
  CHECK(r->skipped() == 0);
  CHECK(r->evals[1].message == "{__name__=\"m\", a=\"1\"}: expected 4 but got 3");
  CHECK(r->evals[2].message == "unexpected metric {__name__=\"h\"} in result, has value {{schema:0 count:1 sum:1}}");
}

TEST_CASE("native histograms through the engine") {
  std::string_view script = R"(load 1m
  h {{schema:0 sum:5 count:4 buckets:[1 2 1]}}+{{schema:0 sum:5 count:4 buckets:[1 2 1]}}x4
  g {{schema:1 sum:2 count:2 buckets:[2] counter_reset_hint:gauge}}
  f 1

eval instant at 4m histogram_count(h)
  {} 20

eval instant at 4m h * 2
  {} {{schema:0 sum:50 count:40 buckets:[10 20 10]}}

eval instant at 4m h - h
  {} {{schema:0 sum:0 count:0 counter_reset_hint:gauge}}

eval instant at 4m increase(h[2m])
  {} {{schema:0 sum:10 count:8 buckets:[2 4 2] counter_reset_hint:gauge}}

eval instant at 4m sum(h)
  {} {{schema:0 sum:25 count:20 buckets:[5 10 5]}}

eval instant at 4m h + g
  {} {{schema:0 sum:27 count:22 buckets:[7 10 5] counter_reset_hint:gauge}}

eval instant at 0m sum({__name__=~"f|g"})
  expect warn msg: PromQL warning: encountered a mix of histograms and floats for aggregation (1:5)

eval instant at 4m histogram_quantile(0.5, h)
  {} 1.4142135623730951
)";
  auto r = script::run_script(script, "inline.test");
  REQUIRE(r);
  for (const auto& e : r->evals) CHECK_MESSAGE(e.status == script::EvalReport::Status::kPassed, e.line, ": ", e.message);
}

// Runs an inline script and checks every eval passed, naming the ones that did not.
void all_pass(std::string_view script) {
  auto r = script::run_script(script, "inline.test");
  REQUIRE(r);
  REQUIRE(!r->evals.empty());
  for (const auto& e : r->evals) CHECK_MESSAGE(e.status == script::EvalReport::Status::kPassed, e.line, ": ", e.message);
}

TEST_CASE("histogram expectations ignore empty buckets but not counts") {
  std::string_view script = R"(load 1m
  h {{schema:0 sum:4 count:3 buckets:[0 2 1]}}

eval instant at 0m h
  h {{schema:0 sum:4 count:3 offset:1 buckets:[2 1]}}

eval instant at 0m h
  h {{schema:0 sum:4 count:3 buckets:[0 2 1 0 0]}}

eval instant at 0m h
  h {{schema:0 sum:4 count:3 offset:1 buckets:[2 2]}}
)";
  auto r = script::run_script(script, "inline.test");
  REQUIRE(r);
  REQUIRE(r->evals.size() == 3);
  CHECK(r->evals[0].status == script::EvalReport::Status::kPassed);
  CHECK(r->evals[1].status == script::EvalReport::Status::kPassed);
  CHECK(r->evals[2].status == script::EvalReport::Status::kFailed);
}

TEST_CASE("histogram sums keep small parts next to huge ones") {
  all_pass(R"(load 1m
  s{i="a"} {{schema:0 sum:2.5 count:1}}
  s{i="b"} {{schema:0 sum:1e120 count:1}}
  s{i="c"} {{schema:0 sum:-1e120 count:1}}
  s{i="d"} {{schema:0 sum:0.5 count:1}}
  big{i="a"} {{schema:0 sum:1 count:1.5e308}}
  big{i="b"} {{schema:0 sum:1 count:1.5e308}}

eval instant at 0m sum(s)
  {} {{schema:0 sum:3 count:4}}

eval instant at 0m avg(s)
  {} {{schema:0 sum:0.75 count:1}}

eval instant at 0m avg(big)
  {} {{schema:0 sum:1 count:1.5e308}}
)");
}

TEST_CASE("sums under histogram_count see counter resets between the samples read") {
  all_pass(R"(load 1m
  c{k="up"} {{schema:0 sum:1 count:4}} {{schema:0 sum:1 count:6}}
  c{k="down"} {{schema:0 sum:1 count:6}} {{schema:0 sum:1 count:2}}

eval instant at 1m histogram_count(sum(c))
  expect warn msg: PromQL warning: conflicting counter resets during histogram aggregation (1:21)
  {} 8

eval instant at 0m histogram_count(sum(c))
  expect no_warn
  {} 10

eval instant at 1m sum(c)
  expect no_warn
  {} {{schema:0 sum:2 count:8}}
)");
}

TEST_CASE("info() adds the data labels of the matching info series") {
  all_pass(R"(load 1m
  req{instance="x", job="j"} 1 2 3
  req{instance="y", job="j"} 4 5 6
  target_info{instance="x", job="j", region="eu"} 1 1 1
  build_info{instance="x", job="j", version="2"} 1 1 1

eval instant at 2m info(req)
  req{instance="x", job="j", region="eu"} 3
  req{instance="y", job="j"} 6

eval instant at 2m info(req, {__name__="build_info"})
  req{instance="x", job="j", version="2"} 3
  req{instance="y", job="j"} 6

eval instant at 2m info(req, {region=~".+"})
  req{instance="x", job="j", region="eu"} 3
)");
}

TEST_CASE("smoothed and anchored selectors") {
  all_pass(R"(load 10s
  m 0 10 20 30 40
  c 5 10 2 4

eval instant at 15s m smoothed
  m 15

eval instant at 40s increase(m[20s] anchored)
  {} 20

eval instant at 35s increase(m[20s] smoothed)
  {} 20

eval instant at 30s increase(c[25s] anchored)
  {} 9

eval instant at 30s resets(c[15s] anchored)
  {} 1

eval instant at 30s max_over_time(m[20s] anchored)
  expect fail msg: anchored modifier can only be used with: changes, delta, increase, rate, resets - not with max_over_time
)");
}

TEST_CASE("fill_left and fill_right with group_right, and metadata labels dropped with the name") {
  all_pass(R"(load 1m
  one{k="a"} 10
  one{k="c"} 30
  many{k="a", n="1"} 1
  many{k="b", n="1"} 2
  typed{__type__="counter", __unit__="seconds", k="a"} 4

eval instant at 0m one + on(k) group_right fill_right(100) many
  {k="a", n="1"} 11
  {k="b", n="1"} 102

eval instant at 0m one + on(k) group_right fill_left(100) many
  {k="a", n="1"} 11
  {k="c"} 130

eval instant at 0m typed * 2
  {k="a"} 8
)");
}

TEST_CASE("start timestamps mark restarts the values do not show") {
  all_pass(R"(load 1m
  c 10 20 30 5 15
  c@st -1m -2m -3m -1m -2m
  d 10 20 30 40 50
  d@st -1m -2m -1m -2m -3m

eval instant at 4m resets(c[5m])
  {} 1

eval instant at 4m resets(d[5m])
  {} 1

eval instant at 4m increase(d[4m1ms])
  {} 60.00025

eval instant at 3m start_timestamp(d)
  {} 60

eval instant at 3m start_timestamp(d * 1)
)");
}

}  // namespace
}  // namespace vigil::promql
