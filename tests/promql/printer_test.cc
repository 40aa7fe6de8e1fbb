// The printer: upstream's canonical String() forms, and parse -> print ->
// parse giving an equal tree.

#include <doctest/doctest.h>

#include <string>

#include "promql/parser.h"
#include "promql/printer.h"

namespace {

using namespace vigil::promql;

struct PrintCase {
  const char* in;
  const char* out;  // nullptr: prints back exactly as written
};

// Inputs and canonical forms from upstream's printer tests.
const PrintCase kUpstreamForms[] = {
    {R"q(sum by() (task:errors:rate10s{job="s"}))q", R"q(sum(task:errors:rate10s{job="s"}))q"},
    {R"q(sum by(code) (task:errors:rate10s{job="s"}))q", R"q(sum by (code) (task:errors:rate10s{job="s"}))q"},
    {R"q(sum without() (task:errors:rate10s{job="s"}))q", R"q(sum without () (task:errors:rate10s{job="s"}))q"},
    {R"q(sum without(instance) (task:errors:rate10s{job="s"}))q", R"q(sum without (instance) (task:errors:rate10s{job="s"}))q"},
    {R"q(sum by("foo.bar") (task:errors:rate10s{job="s"}))q", R"q(sum by ("foo.bar") (task:errors:rate10s{job="s"}))q"},
    {R"q(sum without("foo.bar") (task:errors:rate10s{job="s"}))q", R"q(sum without ("foo.bar") (task:errors:rate10s{job="s"}))q"},
    {R"q(topk(5, task:errors:rate10s{job="s"}))q", nullptr},
    {R"q(count_values("value", task:errors:rate10s{job="s"}))q", nullptr},
    {R"q(a - on() c)q", R"q(a - on () c)q"},
    {R"q(a - on(b) c)q", R"q(a - on (b) c)q"},
    {R"q(a - on(b) group_left(x) c)q", R"q(a - on (b) group_left (x) c)q"},
    {R"q(a - on(b) group_left(x, y) c)q", R"q(a - on (b) group_left (x, y) c)q"},
    {R"q(a - on(b) group_left c)q", R"q(a - on (b) group_left () c)q"},
    {R"q(a - on(b) group_left() (c))q", R"q(a - on (b) group_left () (c))q"},
    {R"q(a - ignoring(b) c)q", R"q(a - ignoring (b) c)q"},
    {R"q(a - ignoring() c)q", R"q(a - c)q"},
    {R"q(a - ignoring() group_left c)q", R"q(a - ignoring () group_left () c)q"},
    {R"q(a + fill(-23) b)q", R"q(a + fill (-23) b)q"},
    {R"q(a + fill_left(-23) b)q", R"q(a + fill_left (-23) b)q"},
    {R"q(a + fill_right(42) b)q", R"q(a + fill_right (42) b)q"},
    {R"q(a + fill_left(-23) fill_right(42) b)q", R"q(a + fill_left (-23) fill_right (42) b)q"},
    {R"q(a + fill_left(5) fill_right(5) b)q", R"q(a + fill (5) b)q"},
    {R"q(a + on(b) group_left fill(-23) c)q", R"q(a + on (b) group_left () fill (-23) c)q"},
    {R"q(up > bool 0)q", nullptr},
    {R"q(a offset 1m)q", nullptr},
    {R"q(a offset -7m)q", nullptr},
    {R"q(a{c="d"}[5m] offset 1m)q", nullptr},
    {R"q(a[5m] offset 1m)q", nullptr},
    {R"q(a[12m] offset -3m)q", nullptr},
    {R"q(a[1h:5m] offset 1m)q", nullptr},
    {R"q(a anchored)q", nullptr},
    {R"q(a[5m] anchored)q", nullptr},
    {R"q(a{b="c"}[5m] anchored)q", nullptr},
    {R"q(a{b="c"}[5m] anchored offset 1m)q", nullptr},
    {R"q(a{b="c"}[5m] anchored @ start() offset 1m)q", nullptr},
    {R"q(a smoothed)q", nullptr},
    {R"q(a[5m] smoothed)q", nullptr},
    {R"q(a{b="c"}[5m] smoothed)q", nullptr},
    {R"q(a{b="c"}[5m] smoothed offset 1m)q", nullptr},
    {R"q(a{b="c"}[5m] smoothed @ start() offset 1m)q", nullptr},
    {R"q({__name__="a"})q", nullptr},
    {R"q(a{b!="c"}[1m])q", nullptr},
    {R"q(a{b=~"c"}[1m])q", nullptr},
    {R"q(a{b!~"c"}[1m])q", nullptr},
    {R"q(a @ 10)q", R"q(a @ 10.000)q"},
    {R"q(a[1m] @ 10)q", R"q(a[1m] @ 10.000)q"},
    {R"q(a @ start())q", nullptr},
    {R"q(a @ end())q", nullptr},
    {R"q(a[1m] @ start())q", nullptr},
    {R"q(a[1m] @ end())q", nullptr},
    {R"q({__name__="",a="x"})q", nullptr},
    {R"q({"a.b"="c"})q", nullptr},
    {R"q({"0"="1"})q", nullptr},
    {R"q({"_0"="1"})q", R"q({_0="1"})q"},
    {R"q({""="0"})q", nullptr},
    {R"q({``="0"})q", R"q({""="0"})q"},
    {R"q(1048576)q", R"q(1048576)q"},
    {R"q(foo[step()])q", nullptr},
    {R"q(foo[-step()])q", nullptr},
    {R"q(foo[(step())])q", nullptr},
    {R"q(foo[-(step())])q", nullptr},
    {R"q(foo offset step())q", nullptr},
    {R"q(foo offset -step())q", nullptr},
    {R"q(foo offset (step()))q", nullptr},
    {R"q(foo offset -(step()))q", nullptr},
    {R"q(foo offset +(5))q", R"q(foo offset (5))q"},
    {R"q(foo offset -(5))q", nullptr},
    {R"q(foo offset (5))q", nullptr},
    {R"q(foo offset (5m))q", nullptr},
    {R"q(foo[(5s)])q", nullptr},
    {R"q(foo[(5m):(1m)])q", nullptr},
    {R"q(foo offset +min_of(10s, 20s))q", R"q(foo offset min_of(10s, 20s))q"},
    {R"q(foo offset -min_of(10s, 20s))q", nullptr},
    {R"q(foo offset -min_of(10s, +max_of(step() ^ 2, 2)))q", R"q(foo offset -min_of(10s, max_of(step() ^ 2, 2)))q"},
    {R"q(foo[200-min_of(-step()^+step(),1)])q", R"q(foo[200 - min_of(-step() ^ step(), 1)])q"},
    {R"q(foo[200 - min_of(step() + 10s, -max_of(step() ^ 2, 3))])q", nullptr},
    {R"q(foo[range()])q", nullptr},
    {R"q(foo[-range()])q", nullptr},
    {R"q(foo offset range())q", nullptr},
    {R"q(foo offset -range())q", nullptr},
    {R"q(foo[max_of(range(), 5s)])q", nullptr},
    {R"q(predict_linear(foo[1h], 3000))q", nullptr},
    {R"q(sum by("üüü") (foo))q", R"q(sum by ("üüü") (foo))q"},
    {R"q(sum without("äää") (foo))q", R"q(sum without ("äää") (foo))q"},
    {R"q(count by("ööö", job) (foo))q", R"q(count by ("ööö", job) (foo))q"},
    // UTF-8 label names in vector matching.
    {R"q(foo / on("äää") bar)q", R"q(foo / on ("äää") bar)q"},
    {R"q(foo / ignoring("üüü") bar)q", R"q(foo / ignoring ("üüü") bar)q"},
    {R"q(foo / on("äää") group_left("ööö") bar)q", R"q(foo / on ("äää") group_left ("ööö") bar)q"},
    {R"q(foo / on("äää") group_right("ööö") bar)q", R"q(foo / on ("äää") group_right ("ööö") bar)q"},
    {R"q(foo / on(legacy, "üüü") bar)q", R"q(foo / on (legacy, "üüü") bar)q"},
    {R"q(foo / on(job, instance) bar)q", R"q(foo / on (job, instance) bar)q"},
};

void check_round_trip(const std::string& in) {
  auto first = parse_expr(in);
  REQUIRE_MESSAGE(first, in << ": " << format_parse_error(first.error()));
  std::string printed = to_string(**first);
  auto second = parse_expr(printed);
  REQUIRE_MESSAGE(second, printed << ": " << format_parse_error(second.error()));
  CHECK_MESSAGE(equal(**first, **second), in << " -> " << printed);
  CHECK(to_string(**second) == printed);
}

}  // namespace

TEST_CASE("printer produces upstream's canonical forms") {
  for (const auto& c : kUpstreamForms) {
    CAPTURE(c.in);
    auto r = parse_expr(c.in);
    REQUIRE_MESSAGE(r, format_parse_error(r.error()));
    CHECK(to_string(**r) == std::string(c.out ? c.out : c.in));
    check_round_trip(c.in);
  }
}

TEST_CASE("printer: literals") {
  auto print = [](std::string_view in) {
    auto r = parse_expr(in);
    REQUIRE_MESSAGE(r, in << ": " << format_parse_error(r.error()));
    return to_string(**r);
  };
  CHECK(print("1") == "1");
  CHECK(print("1.5e3") == "1500");
  CHECK(print("0x1F") == "31");
  CHECK(print("-0.25") == "-0.25");
  CHECK(print("Inf") == "+Inf");
  CHECK(print("-inf") == "-Inf");
  CHECK(print("NaN") == "NaN");
  CHECK(print("1e-7") == "0.0000001");
  CHECK(print("5m") == "5m");
  CHECK(print("90s") == "1m30s");
  CHECK(print("-1h") == "-1h");
  CHECK(print("'a\\'b'") == "\"a'b\"");
  CHECK(print("`raw\\n`") == "\"raw\\\\n\"");
  CHECK(print("\"tab\\there\"") == "\"tab\\there\"");
  CHECK(print("\"\\u00e4\"") == "\"ä\"");
}

TEST_CASE("printer: selectors, modifiers and operators") {
  auto print = [](std::string_view in) {
    auto r = parse_expr(in);
    REQUIRE_MESSAGE(r, in << ": " << format_parse_error(r.error()));
    return to_string(**r);
  };
  CHECK(print(R"({"my.metric", "a.b"="c"})") == R"({"a.b"="c",__name__="my.metric"})");
  CHECK(print(R"(foo{b="2",a="1"})") == R"(foo{a="1",b="2"})");
  CHECK(print("foo offset 5m @ 100") == "foo @ 100.000 offset 5m");
  CHECK(print("foo[5m] offset -1h") == "foo[5m] offset -1h");
  CHECK(print("rate(foo[5m])[30m:1m] @ end()") == "rate(foo[5m])[30m:1m] @ end()");
  CHECK(print("foo[1h:] offset 2m") == "foo[1h:] offset 2m");
  CHECK(print("sum(foo) by (job)") == "sum by (job) (foo)");
  CHECK(print("topk by (a) (3, foo)") == "topk by (a) (3, foo)");
  CHECK(print("a+on(x)group_right(y)b") == "a + on (x) group_right (y) b");
  CHECK(print("a and b") == "a and b");
  CHECK(print("1 < bool 2") == "1 < bool 2");
  CHECK(print("-(foo)") == "-(foo)");
  CHECK(print("foo[5m+1m]") == "foo[5m + 1m]");
  CHECK(print("foo offset -(1m*2)") == "foo offset -(1m * 2)");
}

TEST_CASE("round trip keeps the tree for tricky inputs") {
  for (const char* in : {
           "-a ^ b", "(-a) ^ b", "a - -b", "- -a", "a ^ b ^ c", "(a ^ b) ^ c", "a - b - c", "a - (b - c)",
           "a / b * c", "a or b and c unless d", "a < bool b == bool c", "2 ^ -1", "-1 ^ 2",
           "foo @ -10.5", "foo offset -5m", "foo[1m:] @ start()", "count_values(\"v\", foo)",
           "quantile(0.9, foo) without (a, b)", "label_join(up, \"x\", \",\", \"a\", \"b\", \"c\")",
           "histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))", "a + fill_left(1) fill_right(2) b",
           "foo[step() * 2:range()]", "foo offset min_of(1m, step())", "foo[5m] anchored",
           "foo smoothed offset 1m", "info(up, {job=\"a\"})", "{__name__=~\"a.+\"}", "{\"a b\"}",
           "foo{\"a\\nb\"=\"c\\td\"}", "sum by (\"x y\") (foo)", "1e300 * 1e-300", "0x10 + 010",
       }) {
    CAPTURE(in);
    check_round_trip(in);
  }
}

TEST_CASE("equal() tells different trees apart") {
  auto parse = [](std::string_view in) {
    auto r = parse_expr(in);
    REQUIRE_MESSAGE(r, in << ": " << format_parse_error(r.error()));
    return std::move(*r);
  };
  CHECK(equal(*parse("a + b"), *parse("a+b")));
  CHECK(equal(*parse("foo{a=\"1\",b=\"2\"}"), *parse("foo{b=\"2\",a=\"1\"}")));
  CHECK_FALSE(equal(*parse("a + b"), *parse("a - b")));
  CHECK_FALSE(equal(*parse("a + b"), *parse("b + a")));
  CHECK_FALSE(equal(*parse("a - b - c"), *parse("a - (b - c)")));
  CHECK_FALSE(equal(*parse("foo offset 1m"), *parse("foo offset 2m")));
  CHECK_FALSE(equal(*parse("foo @ 1"), *parse("foo @ start()")));
  CHECK_FALSE(equal(*parse("sum by (a) (x)"), *parse("sum without (a) (x)")));
  CHECK_FALSE(equal(*parse("a + on (x) b"), *parse("a + ignoring (x) b")));
  CHECK_FALSE(equal(*parse("5m"), *parse("300")));
  CHECK_FALSE(equal(*parse("foo[5m]"), *parse("foo[5m:]")));
  CHECK_FALSE(equal(*parse("foo{a=\"1\"}"), *parse("foo{a=~\"1\"}")));
}
