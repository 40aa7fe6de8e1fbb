// Parser structure: precedence, associativity, literals, selectors,
// modifiers, aggregations, vector matching, calls and positions.

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <string>

#include "promql/functions.h"
#include "promql/parser.h"
#include "promql/printer.h"

namespace {

using namespace vigil::promql;
using vigil::MatchType;

// A compact dump that makes the tree's shape visible: (op lhs rhs).
std::string shape(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      return fmt::format("({}{} {} {})", binary_op_string(b.op), b.return_bool ? " bool" : "", shape(*b.lhs),
                         shape(*b.rhs));
    }
    case ExprKind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      return fmt::format("({} {})", u.op == UnaryOp::kSub ? "neg" : "pos", shape(*u.expr));
    }
    case ExprKind::kParen: return fmt::format("[{}]", shape(*static_cast<const ParenExpr&>(e).expr));
    default: return to_string(e);
  }
}

ExprPtr parse_ok(std::string_view in) {
  auto r = parse_expr(in);
  REQUIRE_MESSAGE(r, in << ": " << format_parse_error(r.error()));
  return std::move(*r);
}

std::string shape_of(std::string_view in) { return shape(*parse_ok(in)); }

std::string error_of(std::string_view in, const ParseOptions& opts = {}) {
  auto r = parse_expr(in, opts);
  if (r) return "<parsed>";
  return r.error().message;
}

// Every valid input of upstream's parser tests, with the kind of node its
// expected tree has at the top.
struct ValidCase {
  const char* input;
  ExprKind kind;
};
const ValidCase kUpstreamValid[] = {
    {"1", ExprKind::kNumberLiteral},
    {"+Inf", ExprKind::kNumberLiteral},
    {"-Inf", ExprKind::kNumberLiteral},
    {".5", ExprKind::kNumberLiteral},
    {"5.", ExprKind::kNumberLiteral},
    {"123.4567", ExprKind::kNumberLiteral},
    {"5e-3", ExprKind::kNumberLiteral},
    {"5e3", ExprKind::kNumberLiteral},
    {"0xc", ExprKind::kNumberLiteral},
    {"0755", ExprKind::kNumberLiteral},
    {"+5.5e-3", ExprKind::kNumberLiteral},
    {"-0755", ExprKind::kNumberLiteral},
    {"1 + 1", ExprKind::kBinary},
    {"1 - 1", ExprKind::kBinary},
    {"1 * 1", ExprKind::kBinary},
    {"1 % 1", ExprKind::kBinary},
    {"1 / 1", ExprKind::kBinary},
    {"1 == bool 1", ExprKind::kBinary},
    {"1 != bool 1", ExprKind::kBinary},
    {"1 > bool 1", ExprKind::kBinary},
    {"1 >= bool 1", ExprKind::kBinary},
    {"1 < bool 1", ExprKind::kBinary},
    {"1 <= bool 1", ExprKind::kBinary},
    {"-1^2", ExprKind::kUnary},
    {"-1*2", ExprKind::kBinary},
    {"-1+2", ExprKind::kBinary},
    {"-1^-2", ExprKind::kUnary},
    {"+1 + -2 * 1", ExprKind::kBinary},
    {"1 + 2/(3*1)", ExprKind::kBinary},
    {"1 < bool 2 - 1 * 2", ExprKind::kBinary},
    {"-some_metric", ExprKind::kUnary},
    {"+some_metric", ExprKind::kUnary},
    {" +some_metric", ExprKind::kUnary},
    {" +{\"some_metric\"}", ExprKind::kUnary},
    {"offset{step=\"1s\"}[5m]", ExprKind::kMatrixSelector},
    {"step{offset=\"1s\"}[5m]", ExprKind::kMatrixSelector},
    {"anchored{job=\"test\"}", ExprKind::kVectorSelector},
    {"smoothed{job=\"test\"}", ExprKind::kVectorSelector},
    {"foo * bar", ExprKind::kBinary},
    {"foo * sum", ExprKind::kBinary},
    {"foo == 1", ExprKind::kBinary},
    {"foo == bool 1", ExprKind::kBinary},
    {"2.5 / bar", ExprKind::kBinary},
    {"foo and bar", ExprKind::kBinary},
    {"foo or bar", ExprKind::kBinary},
    {"foo unless bar", ExprKind::kBinary},
    {"foo + bar or bla and blub", ExprKind::kBinary},
    {"foo and bar unless baz or qux", ExprKind::kBinary},
    {"bar + on(foo) bla / on(baz, buz) group_right(test) blub", ExprKind::kBinary},
    {"foo * on(test,blub) bar", ExprKind::kBinary},
    {"foo * on(test,blub) group_left bar", ExprKind::kBinary},
    {"foo and on(test,blub) bar", ExprKind::kBinary},
    {"foo and on() bar", ExprKind::kBinary},
    {"foo and ignoring(test,blub) bar", ExprKind::kBinary},
    {"foo and ignoring() bar", ExprKind::kBinary},
    {"foo unless on(bar) baz", ExprKind::kBinary},
    {"foo / on(test,blub) group_left(bar) bar", ExprKind::kBinary},
    {"foo / ignoring(test,blub) group_left(blub) bar", ExprKind::kBinary},
    {"foo / ignoring(test,blub) group_left(bar) bar", ExprKind::kBinary},
    {"foo - on(test,blub) group_right(bar,foo) bar", ExprKind::kBinary},
    {"foo - ignoring(test,blub) group_right(bar,foo) bar", ExprKind::kBinary},
    {"foo", ExprKind::kVectorSelector},
    {"min", ExprKind::kVectorSelector},
    {"foo offset 5m", ExprKind::kVectorSelector},
    {"foo offset -7m", ExprKind::kVectorSelector},
    {"foo offset +(5)", ExprKind::kVectorSelector},
    {"foo offset -(5)", ExprKind::kVectorSelector},
    {"foo offset (5)", ExprKind::kVectorSelector},
    {"foo[(5s)]", ExprKind::kMatrixSelector},
    {"foo OFFSET 1h30m", ExprKind::kVectorSelector},
    {"foo OFFSET 1m30ms", ExprKind::kVectorSelector},
    {"foo @ 1603774568", ExprKind::kVectorSelector},
    {"foo @ -100", ExprKind::kVectorSelector},
    {"foo @ .3", ExprKind::kVectorSelector},
    {"foo @ 3.", ExprKind::kVectorSelector},
    {"foo @ 3.33", ExprKind::kVectorSelector},
    {"foo @ 3.3333", ExprKind::kVectorSelector},
    {"foo @ 3.3335", ExprKind::kVectorSelector},
    {"foo @ 3e2", ExprKind::kVectorSelector},
    {"foo @ 3e-1", ExprKind::kVectorSelector},
    {"foo @ 0xA", ExprKind::kVectorSelector},
    {"foo @ -3.3e1", ExprKind::kVectorSelector},
    {"foo:bar{a=\"bc\"}", ExprKind::kVectorSelector},
    {"{\"foo\"}", ExprKind::kVectorSelector},
    {"{'foo\\'bar', 'a\\\\dos\\\\path'='boo\\\\urns'}", ExprKind::kVectorSelector},
    {"{\"foo\", a=\"bc\"}", ExprKind::kVectorSelector},
    {"foo{NaN='bc'}", ExprKind::kVectorSelector},
    {"foo{bar='}'}", ExprKind::kVectorSelector},
    {"foo{a=\"b\", foo!=\"bar\", test=~\"test\", bar!~\"baz\"}", ExprKind::kVectorSelector},
    {"{a=\"b\", foo!=\"bar\", \"foo\", test=~\"test\", bar!~\"baz\"}", ExprKind::kVectorSelector},
    {"foo{a=\"b\", foo!=\"bar\", test=~\"test\", bar!~\"baz\",}", ExprKind::kVectorSelector},
    {"{__name__=~\"bar\", __name__!~\"baz\"}", ExprKind::kVectorSelector},
    {"{__name__=\"bar\", __name__=\"baz\"}", ExprKind::kVectorSelector},
    {"{\"bar\", __name__=\"baz\"}", ExprKind::kVectorSelector},
    {"test[1000ms]", ExprKind::kMatrixSelector},
    {"test[1001ms]", ExprKind::kMatrixSelector},
    {"test[1002ms]", ExprKind::kMatrixSelector},
    {"test[5s]", ExprKind::kMatrixSelector},
    {"test[5m]", ExprKind::kMatrixSelector},
    {"foo[5m30s]", ExprKind::kMatrixSelector},
    {"test[5h] OFFSET 5m", ExprKind::kMatrixSelector},
    {"test[5d] OFFSET 10s", ExprKind::kMatrixSelector},
    {"test[5w] offset 2w", ExprKind::kMatrixSelector},
    {"test{a=\"b\"}[5y] OFFSET 3d", ExprKind::kMatrixSelector},
    {"test{a=\"b\"}[5m] OFFSET 3600", ExprKind::kMatrixSelector},
    {"foo[3ms] @ 2.345", ExprKind::kMatrixSelector},
    {"foo[4s180ms] @ 2.345", ExprKind::kMatrixSelector},
    {"foo[4.18] @ 2.345", ExprKind::kMatrixSelector},
    {"foo[4s18ms] @ 2.345", ExprKind::kMatrixSelector},
    {"foo[4.018] @ 2.345", ExprKind::kMatrixSelector},
    {"test{a=\"b\"}[5y] @ 1603774699", ExprKind::kMatrixSelector},
    {"test[5]", ExprKind::kMatrixSelector},
    {"some_metric[5m] @ 1m", ExprKind::kMatrixSelector},
    {"sum by (foo)(some_metric)", ExprKind::kAggregate},
    {"sum by (anchored)(some_metric)", ExprKind::kAggregate},
    {"sum by (smoothed)(some_metric)", ExprKind::kAggregate},
    {"sum by (\"foo bar\")({\"some.metric\"})", ExprKind::kAggregate},
    {"sum by (\"foo\", bar, 'baz')({\"some.metric\"})", ExprKind::kAggregate},
    {"avg by (foo)(some_metric)", ExprKind::kAggregate},
    {"max by (foo)(some_metric)", ExprKind::kAggregate},
    {"sum without (foo) (some_metric)", ExprKind::kAggregate},
    {"sum (some_metric) without (foo)", ExprKind::kAggregate},
    {"stddev(some_metric)", ExprKind::kAggregate},
    {"stdvar by (foo)(some_metric)", ExprKind::kAggregate},
    {"sum by ()(some_metric)", ExprKind::kAggregate},
    {"sum by (foo,bar,)(some_metric)", ExprKind::kAggregate},
    {"sum by (foo,)(some_metric)", ExprKind::kAggregate},
    {"topk(5, some_metric)", ExprKind::kAggregate},
    {"count_values(\"value\", some_metric)", ExprKind::kAggregate},
    {"sum without(and, by, avg, count, alert, annotations)(some_metric)", ExprKind::kAggregate},
    {"time()", ExprKind::kCall},
    {"floor(some_metric{foo!=\"bar\"})", ExprKind::kCall},
    {"rate(some_metric[5m])", ExprKind::kCall},
    {"round(some_metric)", ExprKind::kCall},
    {"round(some_metric, 5)", ExprKind::kCall},
    {"sum(sum)", ExprKind::kAggregate},
    {"a + sum", ExprKind::kBinary},
    {"\"double-quoted string \\\" with escaped quote\"", ExprKind::kStringLiteral},
    {"'single-quoted string \\' with escaped quote'", ExprKind::kStringLiteral},
    {"`backtick-quoted string`", ExprKind::kStringLiteral},
    {"\"\\a\\b\\f\\n\\r\\t\\v\\\\\\\" - \\xFF\\377\\u1234\\U00010111\\U0001011111\xe2""\x98""\xba""\"", ExprKind::kStringLiteral},
    {"'\\a\\b\\f\\n\\r\\t\\v\\\\\\' - \\xFF\\377\\u1234\\U00010111\\U0001011111\xe2""\x98""\xba""'", ExprKind::kStringLiteral},
    {"foo{bar=\"baz\"}[10m:6s]", ExprKind::kSubquery},
    {"foo{bar=\"baz\"}[10m5s:1h6ms]", ExprKind::kSubquery},
    {"foo[10m:]", ExprKind::kSubquery},
    {"min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:5s])", ExprKind::kCall},
    {"min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:])[4m:3s]", ExprKind::kSubquery},
    {"min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] offset 4m)[4m:3s]", ExprKind::kSubquery},
    {"min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] @ 1603775091)[4m:3s]", ExprKind::kSubquery},
    {"min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] @ -160377509)[4m:3s]", ExprKind::kSubquery},
    {"sum without(and, by, avg, count, alert, annotations)(some_metric) [30m:10s]", ExprKind::kSubquery},
    {"some_metric OFFSET 1m [10m:5s]", ExprKind::kSubquery},
    {"some_metric @ 123 [10m:5s]", ExprKind::kSubquery},
    {"some_metric @ 123 offset 1m [10m:5s]", ExprKind::kSubquery},
    {"some_metric offset 1m @ 123 [10m:5s]", ExprKind::kSubquery},
    {"some_metric[10m:5s] offset 1m @ 123", ExprKind::kSubquery},
    {"(foo + bar{nm=\"val\"})[5m:]", ExprKind::kSubquery},
    {"(foo + bar{nm=\"val\"})[5m:] offset 10m", ExprKind::kSubquery},
    {"(foo + bar{nm=\"val\"} @ 1234)[5m:] @ 1603775019", ExprKind::kSubquery},
    {"foo @ start()", ExprKind::kVectorSelector},
    {"foo @ end()", ExprKind::kVectorSelector},
    {"test[5y] @ start()", ExprKind::kMatrixSelector},
    {"test[5y] @ end()", ExprKind::kMatrixSelector},
    {"foo[10m:6s] @ start()", ExprKind::kSubquery},
    {"foo[10m:6s] @ end()", ExprKind::kSubquery},
    {"start()", ExprKind::kCall},
    {"end()", ExprKind::kCall},
    {"start", ExprKind::kVectorSelector},
    {"end", ExprKind::kVectorSelector},
    {"start{end=\"foo\"}", ExprKind::kVectorSelector},
    {"end{start=\"foo\"}", ExprKind::kVectorSelector},
    {"foo unless on(start) bar", ExprKind::kBinary},
    {"foo unless on(end) bar", ExprKind::kBinary},
    {"info(rate(http_request_counter_total{}[5m]))", ExprKind::kCall},
    {"info(http_request_counter_total{namespace=\"zzz\"}, {foo=\"bar\", bar=\"baz\"})", ExprKind::kCall},
    {"foo[11s+10s-5*2^2]", ExprKind::kMatrixSelector},
    {"foo[-(10s-5s)+20s]", ExprKind::kMatrixSelector},
    {"foo[-10s+15s]", ExprKind::kMatrixSelector},
    {"foo[step()]", ExprKind::kMatrixSelector},
    {"foo[  -  step  (  )  ]", ExprKind::kMatrixSelector},
    {"foo[   step  (  )  ]", ExprKind::kMatrixSelector},
    {"foo[-step()]", ExprKind::kMatrixSelector},
    {"foo offset step()", ExprKind::kVectorSelector},
    {"foo offset -step()", ExprKind::kVectorSelector},
    {"foo[max_of(step(),5s)]", ExprKind::kMatrixSelector},
    {"foo offset max_of(step(),5s)", ExprKind::kVectorSelector},
    {"foo offset -min_of(5s,step()+8s)", ExprKind::kVectorSelector},
    {"foo[range()]", ExprKind::kMatrixSelector},
    {"foo[2m/range()]", ExprKind::kMatrixSelector},
    {"foo[-range()]", ExprKind::kMatrixSelector},
    {"foo offset range()", ExprKind::kVectorSelector},
    {"foo offset -range()", ExprKind::kVectorSelector},
    {"foo[max_of(range(),5s)]", ExprKind::kMatrixSelector},
    {"foo[4s+4s:1s*2] offset (5s-8)", ExprKind::kSubquery},
    {"foo offset 5s-8", ExprKind::kBinary},
    {"rate(foo[2m+2m])", ExprKind::kCall},
    {"foo offset -1^1", ExprKind::kBinary},
    {"foo offset -(1^2)", ExprKind::kVectorSelector},
    {"foo offset (-1^2)", ExprKind::kVectorSelector},
    {"foo[-2^2]", ExprKind::kMatrixSelector},
    {"foo[0+-2^2]", ExprKind::kMatrixSelector},
    {"(sum(foo))", ExprKind::kParen},
    {"(sum(foo) )", ExprKind::kParen},
    {"(sum(foo) by (bar))", ExprKind::kParen},
    {"(sum by (bar) (foo))", ExprKind::kParen},
    {"sum by (job)(rate(http_requests_total[30m]))", ExprKind::kAggregate},
};

}  // namespace

TEST_CASE("every valid input of upstream's parser tests parses and round-trips") {
  for (const auto& c : kUpstreamValid) {
    const char* in = c.input;
    CAPTURE(in);
    auto e = parse_ok(in);
    CHECK(e->kind == c.kind);
    auto again = parse_expr(to_string(*e));
    REQUIRE_MESSAGE(again, to_string(*e) << ": " << format_parse_error(again.error()));
    CHECK(equal(*e, **again));
  }
}

TEST_CASE("binary operator precedence") {
  CHECK(shape_of("a + b * c") == "(+ a (* b c))");
  CHECK(shape_of("a * b + c") == "(+ (* a b) c)");
  CHECK(shape_of("a + b ^ c") == "(+ a (^ b c))");
  CHECK(shape_of("a * b ^ c") == "(* a (^ b c))");
  CHECK(shape_of("a % b atan2 c / d") == "(/ (atan2 (% a b) c) d)");
  CHECK(shape_of("a == b + c") == "(== a (+ b c))");
  CHECK(shape_of("a and b == c") == "(and a (== b c))");
  CHECK(shape_of("a or b and c") == "(or a (and b c))");
  CHECK(shape_of("a or b unless c") == "(or a (unless b c))");
  CHECK(shape_of("a unless b and c") == "(and (unless a b) c)");
  CHECK(shape_of("a > b < c") == "(< (> a b) c)");
  CHECK(shape_of("a </ b + c") == "(</ a (+ b c))");
  CHECK(shape_of("a >/ b") == "(>/ a b)");
  CHECK(shape_of("1 + 2 * 3 - 4 / 5 ^ 6") == "(- (+ 1 (* 2 3)) (/ 4 (^ 5 6)))");
}

TEST_CASE("associativity: ^ is right-associative, the rest left") {
  CHECK(shape_of("a - b - c") == "(- (- a b) c)");
  CHECK(shape_of("a / b / c") == "(/ (/ a b) c)");
  CHECK(shape_of("a ^ b ^ c") == "(^ a (^ b c))");
  CHECK(shape_of("a or b or c") == "(or (or a b) c)");
  CHECK(shape_of("a == bool b == bool c") == "(== bool (== bool a b) c)");
}

TEST_CASE("unary operators bind like multiplication") {
  CHECK(shape_of("-a ^ b") == "(neg (^ a b))");
  CHECK(shape_of("-a * b") == "(* (neg a) b)");
  CHECK(shape_of("-a + b") == "(+ (neg a) b)");
  CHECK(shape_of("a * -b") == "(* a (neg b))");
  CHECK(shape_of("2 ^ -1") == "(^ 2 -1)");
  CHECK(shape_of("- -a") == "(neg (neg a))");
  CHECK(shape_of("+a") == "(pos a)");
  CHECK(shape_of("-(a)") == "(neg [a])");
  // A sign on a number literal folds into the literal.
  auto e = parse_ok("-5");
  auto* n = as<NumberLiteral>(e.get());
  REQUIRE(n);
  CHECK(n->value == -5);
  CHECK(n->pos.start == 0);
  CHECK(shape_of("-1 ^ 2") == "(neg (^ 1 2))");
  CHECK(shape_of("-some_metric offset 1m") == "(neg some_metric offset 1m)");
}

TEST_CASE("number literals") {
  auto value = [](std::string_view in) {
    auto e = parse_ok(in);
    auto* n = as<NumberLiteral>(e.get());
    REQUIRE(n);
    return n->value;
  };
  CHECK(value("1") == 1);
  CHECK(value("1.5") == 1.5);
  CHECK(value(".5") == 0.5);
  CHECK(value("5.") == 5);
  CHECK(value("1e3") == 1000);
  CHECK(value("1E-3") == 0.001);
  CHECK(value("0xc") == 12);
  CHECK(value("0X1F") == 31);
  CHECK(value("0755") == 493);  // Go: a leading 0 is octal
  CHECK(value("08") == 8);      // ...unless it is not a valid octal number
  CHECK(value("1_000") == 1000);
  CHECK(value("1_000.5") == 1000.5);
  CHECK(value("99999999999999999999") == 1e20);  // beyond int64: parsed as a float
  CHECK(value("0777777777777777777777777") == 777777777777777777777777.0);
  CHECK(error_of("0x") == "error parsing number: strconv.ParseFloat: parsing \"0x\": invalid syntax");
  CHECK(error_of("0xffffffffffffffffffff") ==
        "error parsing number: strconv.ParseFloat: parsing \"0xffffffffffffffffffff\": invalid syntax");
  CHECK(error_of("1e400") == "error parsing number: strconv.ParseFloat: parsing \"1e400\": value out of range");
  CHECK(std::isinf(value("Inf")));
  CHECK(value("-inf") < 0);
  CHECK(std::isinf(value("+InF")));
  CHECK(std::isnan(value("NaN")));
  CHECK(std::isnan(value("nan")));
  CHECK(value("5m") == 300);
  CHECK(value("1h30m") == 5400);
  CHECK(value("1d") == 86400);
  CHECK(value("1y") == 365 * 86400);
  CHECK(value("100ms") == 0.1);
  auto d = parse_ok("2w");
  CHECK(as<NumberLiteral>(d.get())->duration);
  CHECK_FALSE(as<NumberLiteral>(parse_ok("14").get())->duration);
  CHECK(error_of("1.2.3") == "bad number or duration syntax: \"1.2.\"");
  CHECK(error_of("1e") == "bad number or duration syntax: \"1e\"");
  CHECK(error_of("1_") == "bad number or duration syntax: \"1_\"");
  CHECK(error_of("5x") == "bad number or duration syntax: \"5\"");
}

TEST_CASE("string literals in all three quotings") {
  auto value = [](std::string_view in) {
    auto e = parse_ok(in);
    auto* s = as<StringLiteral>(e.get());
    REQUIRE(s);
    CHECK(e->type() == ValueType::kString);
    return s->value;
  };
  CHECK(value(R"("double")") == "double");
  CHECK(value(R"('single')") == "single");
  CHECK(value("`raw \\n`") == "raw \\n");
  CHECK(value(R"("a\nb\tc\\d\"e")") == "a\nb\tc\\d\"e");
  CHECK(value(R"('it\'s "fine"')") == "it's \"fine\"");
  CHECK(value(R"("\x41\101\u00e4\U0001F600")") == "AA\xc3\xa4\xf0\x9f\x98\x80");
  CHECK(value(R"("\a\b\f\r\v")") == "\a\b\f\r\v");
  CHECK(value("\"ünïcödé\"") == "ünïcödé");
  CHECK(error_of(R"("\'")") == "unknown escape sequence U+0027 '''");
  CHECK(error_of(R"('\"')") == "unknown escape sequence U+0022 '\"'");
  CHECK(error_of(R"("\400")") == "escape sequence is an invalid Unicode code point");
  CHECK(error_of(R"("\uD800")") == "escape sequence is an invalid Unicode code point");
  CHECK(error_of(R"("\u12")") == "illegal character U+0022 '\"' in escape sequence");
  CHECK(error_of("\"abc") == "unterminated quoted string");
  CHECK(error_of("\"a\nb\"") == "unterminated quoted string");
  CHECK(error_of("`abc") == "unterminated raw string");
}

TEST_CASE("vector selectors and matchers") {
  auto e = parse_ok(R"(foo{a="1", b!="2", c=~"3.*", d!~"4|5",})");
  auto* vs = as<VectorSelector>(e.get());
  REQUIRE(vs);
  CHECK(vs->name == "foo");
  REQUIRE(vs->matchers.size() == 5);
  CHECK(vs->matchers[0].type() == MatchType::kEqual);
  CHECK(vs->matchers[1].type() == MatchType::kNotEqual);
  CHECK(vs->matchers[2].type() == MatchType::kRegex);
  CHECK(vs->matchers[2].matches("3abc"));
  CHECK_FALSE(vs->matchers[2].matches("x3"));  // fully anchored
  CHECK(vs->matchers[3].type() == MatchType::kNotRegex);
  CHECK(vs->matchers[4].name() == "__name__");
  CHECK(vs->matchers[4].value() == "foo");
  CHECK(vs->pos.start == 0);
  CHECK(vs->pos.end == 39);

  // Quoted UTF-8 names.
  auto u = parse_ok(R"({"my.metric", "a.b"="c"})");
  auto* uvs = as<VectorSelector>(u.get());
  REQUIRE(uvs);
  CHECK(uvs->name.empty());
  REQUIRE(uvs->matchers.size() == 2);
  CHECK(uvs->matchers[0].name() == "__name__");
  CHECK(uvs->matchers[0].value() == "my.metric");
  CHECK(uvs->matchers[1].name() == "a.b");

  // Keywords are metric names where an expression starts.
  for (const char* name : {"sum", "by", "offset", "and", "start", "step", "min", "anchored", "fill", "without"}) {
    CAPTURE(name);
    auto k = parse_ok(name);
    auto* kvs = as<VectorSelector>(k.get());
    REQUIRE(kvs);
    CHECK(kvs->name == name);
  }
  CHECK(as<VectorSelector>(parse_ok("job:rate5m:sum").get())->name == "job:rate5m:sum");
  CHECK(as<VectorSelector>(parse_ok("{a=\"b\"}").get())->matchers.size() == 1);
  CHECK(error_of("{}") == "vector selector must contain at least one non-empty matcher");
  CHECK(error_of("{a=~\".*\"}") == "vector selector must contain at least one non-empty matcher");
  CHECK(error_of("foo{__name__=\"bar\"}") == "metric name must not be set twice: \"foo\" or \"bar\"");
  CHECK(error_of("foo{\"bar\"}") == "metric name must not be set twice: \"foo\" or \"bar\"");
  CHECK(parse_expr("{__name__=\"a\", __name__=\"b\"}").has_value());
}

TEST_CASE("range selectors, offset and @") {
  auto e = parse_ok("foo[5m] offset -1h @ 1000.5");
  auto* ms = as<MatrixSelector>(e.get());
  REQUIRE(ms);
  CHECK(e->type() == ValueType::kMatrix);
  CHECK(ms->range == 5 * 60 * 1000);
  CHECK(ms->selector->mods.offset == -3600 * 1000);
  CHECK(ms->selector->mods.at == AtKind::kTimestamp);
  CHECK(ms->selector->mods.at_timestamp == 1000500);
  CHECK(ms->pos.end == 27);

  auto s = parse_ok("foo @ start()");
  CHECK(as<VectorSelector>(s.get())->mods.at == AtKind::kStart);
  auto en = parse_ok("foo[1m] @ end()");
  CHECK(as<MatrixSelector>(en.get())->selector->mods.at == AtKind::kEnd);
  CHECK(as<VectorSelector>(parse_ok("foo @ -5").get())->mods.at_timestamp == -5000);
  CHECK(as<VectorSelector>(parse_ok("foo offset 1m30s").get())->mods.offset == 90000);
  CHECK(as<MatrixSelector>(parse_ok("foo[90]").get())->range == 90000);
  CHECK(as<MatrixSelector>(parse_ok("foo[1.5]").get())->range == 1500);

  CHECK(error_of("foo offset 1m offset 2m") == "offset may not be set multiple times");
  CHECK(error_of("foo @ 1 @ 2") == "@ <timestamp> may not be set multiple times");
  CHECK(error_of("foo offset 1m [5m]") == "no offset modifiers allowed before range");
  CHECK(error_of("foo @ 1 [5m]") == "no @ modifiers allowed before range");
  CHECK(error_of("sum(foo) offset 1m") ==
        "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery");
  CHECK(error_of("foo[0s]") == "duration must be greater than 0");
  CHECK(error_of("foo @ x") == "unexpected identifier \"x\" in @, expected timestamp");
  CHECK(error_of("foo @ 9223372036854775808.000000") ==
        "timestamp out of bounds for @ modifier: 9223372036854775808.000000");
  CHECK(error_of("foo @ -9223372036854775809") ==
        "timestamp out of bounds for @ modifier: -9223372036854775808.000000");
  CHECK(error_of("foo @ Inf") == "timestamp out of bounds for @ modifier: +Inf");
  CHECK(error_of("foo @ start") == "unexpected end of input in @, expected timestamp");
}

TEST_CASE("subqueries") {
  auto e = parse_ok("rate(foo[5m])[1h:30s] offset 10m @ 50");
  auto* sq = as<SubqueryExpr>(e.get());
  REQUIRE(sq);
  CHECK(sq->range == 3600 * 1000);
  CHECK(sq->step == 30 * 1000);
  CHECK(sq->mods.offset == 600 * 1000);
  CHECK(sq->mods.at_timestamp == 50000);
  CHECK(as<Call>(sq->expr.get()));
  auto nostep = parse_ok("foo[1h:]");
  CHECK(as<SubqueryExpr>(nostep.get())->step == 0);
  CHECK(as<SubqueryExpr>(nostep.get())->step_expr == nullptr);
  auto nested = parse_ok("min_over_time(rate(foo[1m])[5m:])[10m:1m]");
  CHECK(as<SubqueryExpr>(nested.get()));
  CHECK(error_of("foo[5m][1h:]") == "subquery is only allowed on instant vector, got matrix instead");
  CHECK(error_of("foo[5m:1m:1m]") == "unexpected colon ':'");
  CHECK(error_of("foo[5m 1m]") == "unexpected duration \"1m\" in subquery or range, expected \":\" or \"]\"");
}

TEST_CASE("duration expressions") {
  auto e = parse_ok("foo[5m + step() * 2]");
  auto* ms = as<MatrixSelector>(e.get());
  REQUIRE(ms);
  REQUIRE(ms->range_expr);
  CHECK(ms->range_expr->op == DurationOp::kAdd);
  CHECK(as<DurationExpr>(ms->range_expr->rhs.get())->op == DurationOp::kMul);
  auto off = parse_ok("foo offset -min_of(1m, range())");
  auto* vs = as<VectorSelector>(off.get());
  REQUIRE(vs->mods.offset_expr);
  CHECK(vs->mods.offset_expr->op == DurationOp::kSub);
  CHECK(shape_of("(foo offset -2) ^ 2") == "(^ [foo offset -2s] 2)");
  CHECK(shape_of("foo offset -2 ^ 2") == "(^ foo offset -2s 2)");
  // Where parentheses put the "wrapped" flag matters for printing.
  auto neg_paren = parse_ok("foo offset -(1^2)");
  const DurationExpr* d1 = as<VectorSelector>(neg_paren.get())->mods.offset_expr.get();
  REQUIRE(d1);
  CHECK(d1->op == DurationOp::kSub);
  CHECK_FALSE(d1->wrapped);
  CHECK(d1->lhs == nullptr);
  CHECK(as<DurationExpr>(d1->rhs.get())->op == DurationOp::kPow);
  CHECK(as<DurationExpr>(d1->rhs.get())->wrapped);
  auto paren_neg = parse_ok("foo offset (-1^2)");
  const DurationExpr* d2 = as<VectorSelector>(paren_neg.get())->mods.offset_expr.get();
  REQUIRE(d2);
  CHECK(d2->op == DurationOp::kSub);
  CHECK(d2->wrapped);
  CHECK_FALSE(as<DurationExpr>(d2->rhs.get())->wrapped);
  auto plus = parse_ok("foo offset +(5)");
  const DurationExpr* d3 = as<VectorSelector>(plus.get())->mods.offset_expr.get();
  REQUIRE(d3);
  CHECK(d3->op == DurationOp::kAdd);
  CHECK(d3->wrapped);
  CHECK(as<NumberLiteral>(d3->rhs.get())->value == 5);
  CHECK(as<VectorSelector>(parse_ok("foo offset 5s-8").get()) == nullptr);
  CHECK(shape_of("foo offset 5s-8") == "(- foo offset 5s 8)");
  CHECK(error_of("foo[1m/0]") == "division by zero");
  CHECK(error_of("foo[1m%0]") == "modulo by zero");
  ParseOptions strict;
  strict.experimental_duration_expr = false;
  CHECK(error_of("foo[5m+1m]", strict) == "experimental duration expression is not enabled");
  CHECK(error_of("foo[step()]", strict) == "experimental duration expression is not enabled");
  CHECK(parse_expr("foo[5m]", strict).has_value());
}

TEST_CASE("aggregations") {
  auto e = parse_ok("sum by (job, \"a.b\") (rate(x[5m]))");
  auto* a = as<AggregateExpr>(e.get());
  REQUIRE(a);
  CHECK(a->op == AggregateOp::kSum);
  CHECK(a->grouping == std::vector<std::string>{"job", "a.b"});
  CHECK_FALSE(a->without);
  CHECK(a->param == nullptr);
  auto after = parse_ok("avg(foo) without (instance,)");
  CHECK(as<AggregateExpr>(after.get())->without);
  CHECK(as<AggregateExpr>(after.get())->grouping == std::vector<std::string>{"instance"});
  for (const char* in : {"topk(3, foo)", "bottomk(3, foo)", "quantile(0.9, foo)", "limitk(2, foo)",
                         "limit_ratio(0.5, foo)", "count_values(\"v\", foo)"}) {
    CAPTURE(in);
    auto p = parse_ok(in);
    REQUIRE(as<AggregateExpr>(p.get())->param);
  }
  for (const char* in : {"count(foo)", "min(foo)", "max(foo)", "group(foo)", "stddev(foo)", "stdvar(foo)"})
    CHECK(as<AggregateExpr>(parse_ok(in).get()));
  CHECK(as<AggregateExpr>(parse_ok("sum by (on, by, offset, bool) (foo)").get())->grouping.size() == 4);
  CHECK(error_of("sum(foo, bar)") == "wrong number of arguments for aggregate expression provided, expected 1, got 2");
  CHECK(error_of("sum(1)") == "expected type instant vector in aggregation expression, got scalar");
  CHECK(error_of("quantile(\"x\", foo)") == "expected type scalar in aggregation parameter, got string");
  ParseOptions strict;
  strict.experimental_functions = false;
  CHECK(error_of("limitk(1, foo)", strict) ==
        "limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions");
}

TEST_CASE("vector matching") {
  auto e = parse_ok("a * on (x, y) group_left (z) b");
  auto* b = as<BinaryExpr>(e.get());
  REQUIRE(b);
  REQUIRE(b->matching);
  CHECK(b->matching->on);
  CHECK(b->matching->card == Cardinality::kManyToOne);
  CHECK(b->matching->matching_labels == std::vector<std::string>{"x", "y"});
  CHECK(b->matching->include == std::vector<std::string>{"z"});
  auto r = parse_ok("a / ignoring (x) group_right b");
  CHECK(as<BinaryExpr>(r.get())->matching->card == Cardinality::kOneToMany);
  CHECK_FALSE(as<BinaryExpr>(r.get())->matching->on);
  auto set = parse_ok("a and b");
  CHECK(as<BinaryExpr>(set.get())->matching->card == Cardinality::kManyToMany);
  auto scalar = parse_ok("a + 1");
  CHECK_FALSE(as<BinaryExpr>(scalar.get())->matching);
  CHECK(scalar->type() == ValueType::kVector);
  CHECK(parse_ok("1 + 2")->type() == ValueType::kScalar);
  auto cmp = parse_ok("a > bool 1");
  CHECK(as<BinaryExpr>(cmp.get())->return_bool);
  auto fill = parse_ok("a + fill_right(-2) fill_left(3) b");
  CHECK(*as<BinaryExpr>(fill.get())->matching->fill_lhs == 3);
  CHECK(*as<BinaryExpr>(fill.get())->matching->fill_rhs == -2);
  CHECK(error_of("a + bool b") == "bool modifier can only be used on comparison operators");
  CHECK(error_of("1 > 2") == "comparisons between scalars must use BOOL modifier");
  CHECK(error_of("a and fill(1) b") == "filling in missing series not allowed for set operators");
  CHECK(error_of("a + fill(1) 2") == "filling in missing series only allowed between instant vectors");
  CHECK(error_of("a[5m] + b") == "binary expression must contain only scalar and instant vector types");
  CHECK(error_of("\"a\" + b") == "binary expression must contain only scalar and instant vector types");
  ParseOptions strict;
  strict.binop_fill_modifiers = false;
  CHECK(error_of("a + fill(0) b", strict) == "binop fill modifiers are experimental and not enabled");
}

TEST_CASE("function calls are type-checked against the table") {
  auto e = parse_ok("label_replace(up, \"a\", \"$1\", \"b\", \"(.*)\")");
  auto* c = as<Call>(e.get());
  REQUIRE(c);
  CHECK(c->func == find_function("label_replace"));
  CHECK(c->args.size() == 5);
  CHECK(parse_ok("time()")->type() == ValueType::kScalar);
  CHECK(parse_ok("scalar(up)")->type() == ValueType::kScalar);
  CHECK(parse_ok("vector(1)")->type() == ValueType::kVector);
  CHECK(parse_expr("round(up)").has_value());
  CHECK(parse_expr("round(up, 5)").has_value());
  CHECK(error_of("round(up, 5, 6)") == "expected at most 2 argument(s) in call to \"round\", got 3");
  CHECK(error_of("label_join(up)") == "expected at least 3 argument(s) in call to \"label_join\", got 1");
  CHECK(parse_expr("label_join(up, \"a\", \",\", \"b\", \"c\", \"d\", \"e\")").has_value());
  CHECK(error_of("label_join(up, \"a\", \",\", \"b\", 1)") ==
        "expected type string in call to function \"label_join\", got scalar");
  CHECK(error_of("histogram_quantile(up, 0.9)") ==
        "expected type scalar in call to function \"histogram_quantile\", got instant vector");
  CHECK(error_of("foo(bar)") == "unknown function with name \"foo\"");
  CHECK(error_of("Rate(x[5m])") == "unknown function with name \"Rate\"");
  CHECK(parse_expr("step() + range() + start() + end()").has_value());
  CHECK(parse_expr("max_of(1, 2) + min_of(1, 2)").has_value());
  CHECK(error_of("info(up, foo{a=\"b\"})") == "expected label selectors only, got vector selector instead");
  CHECK(parse_expr("info(up, {a=~\".*\"})").has_value());
  ParseOptions strict;
  strict.experimental_functions = false;
  CHECK(error_of("mad_over_time(x[5m])", strict) == "function \"mad_over_time\" is not enabled");
  CHECK(error_of("step()", strict) == "function \"step\" is not enabled");
}

TEST_CASE("function table covers upstream's functions") {
  for (const char* name :
       {"abs", "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh", "avg_over_time",
        "ceil", "changes", "clamp", "clamp_max", "clamp_min", "cos", "cosh", "count_over_time", "day_of_month",
        "day_of_week", "day_of_year", "days_in_month", "deg", "delta", "deriv", "double_exponential_smoothing",
        "exp", "first_over_time", "floor", "histogram_avg", "histogram_count", "histogram_fraction",
        "histogram_quantile", "histogram_stddev", "histogram_stdvar", "histogram_sum", "hour", "idelta",
        "increase", "info", "irate", "label_join", "label_replace", "last_over_time", "ln", "log10", "log2",
        "mad_over_time", "max_over_time", "min_over_time", "minute", "month", "pi", "predict_linear",
        "present_over_time", "quantile_over_time", "rad", "rate", "resets", "round", "scalar", "sgn", "sin",
        "sinh", "sort", "sort_by_label", "sort_by_label_desc", "sort_desc", "sqrt", "stddev_over_time",
        "stdvar_over_time", "sum_over_time", "tan", "tanh", "time", "timestamp", "ts_of_first_over_time",
        "ts_of_last_over_time", "ts_of_max_over_time", "ts_of_min_over_time", "vector", "year"}) {
    CAPTURE(name);
    CHECK(find_function(name) != nullptr);
  }
  CHECK(find_function("nope") == nullptr);
  const Function* hq = find_function("histogram_quantiles");
  REQUIRE(hq);
  CHECK(hq->variadic == 9);
  CHECK(hq->experimental);
  CHECK(find_function("label_join")->variadic == -1);
  CHECK(find_function("rate")->arg_types == std::vector<ValueType>{ValueType::kMatrix});
}

TEST_CASE("anchored and smoothed modifiers") {
  auto e = parse_ok("rate(foo[5m] anchored)");
  auto* ms = as<MatrixSelector>(as<Call>(e.get())->args[0].get());
  REQUIRE(ms);
  CHECK(ms->selector->anchored);
  CHECK(as<VectorSelector>(parse_ok("foo smoothed").get())->smoothed);
  CHECK(error_of("foo anchored smoothed") == "anchored and smoothed modifiers cannot be used together");
  CHECK(error_of("foo[5m:] anchored") == "anchored modifier is not supported for subqueries");
  ParseOptions strict;
  strict.extended_range_selectors = false;
  CHECK(error_of("foo[5m] smoothed", strict) == "smoothed modifier is experimental and not enabled");
}

TEST_CASE("positions are byte ranges of the input") {
  auto e = parse_ok("sum(rate(foo[5m])) + on(a) bar{x=\"y\"} offset 1m");
  auto* b = as<BinaryExpr>(e.get());
  REQUIRE(b);
  CHECK(b->pos.start == 0);
  CHECK(b->pos.end == 47);
  CHECK(b->lhs->pos.start == 0);
  CHECK(b->lhs->pos.end == 18);
  CHECK(b->rhs->pos.start == 27);
  CHECK(b->rhs->pos.end == 47);
  auto* agg = as<AggregateExpr>(b->lhs.get());
  CHECK(agg->expr->pos.start == 4);
  CHECK(agg->expr->pos.end == 17);
  auto multi = parse_expr("foo +\n  bar{a=b}");
  REQUIRE(!multi);
  CHECK(multi.error().line == 2);
  CHECK(multi.error().column == 9);
}

TEST_CASE("comments and whitespace") {
  CHECK(shape_of("# leading comment\nfoo # trailing\n+ bar") == "(+ foo bar)");
  CHECK(shape_of("foo{a=\"b\", # comment inside braces\n c=\"d\"}") == "foo{a=\"b\",c=\"d\"}");
  CHECK(shape_of("\t foo \r\n") == "foo");
  CHECK(error_of("# only a comment") == "no expression found in input");
  CHECK(error_of("   ") == "no expression found in input");
}

// Found by fuzzing (fuzz/promql_parser.cc): NaN became INT64_MIN, which the
// printer negated (signed overflow).
TEST_CASE("offset NaN parses, as upstream's does, to Go's smallest duration, and prints back") {
  auto e = parse_ok("foo offset NaN");
  auto* vs = as<VectorSelector>(e.get());
  REQUIRE(vs);
  CHECK(vs->mods.offset == -9'223'372'036'854);
  CHECK(to_string(*e) == "foo offset -106751d23h47m16s854ms");
  CHECK(equal(*e, *parse_ok(to_string(*e))));
  auto neg = parse_ok("foo offset -NaN");
  CHECK(as<VectorSelector>(neg.get())->mods.offset == -9'223'372'036'854);
}

// Found by fuzzing: a duration literal standing as a number was not checked
// against time.Duration's range, and past 2^53 ms it did not print back.
TEST_CASE("a duration literal used as a number is range-checked as upstream's is") {
  CHECK(parse_ok("9223372036854ms"));
  CHECK(parse_ok("106751d"));
  CHECK(error_of("9223372036855ms") == "duration out of range");
  CHECK(error_of("106752d") == "duration out of range");
  CHECK(error_of("31d2h4444444444444443ms") == "duration out of range");
  CHECK(error_of("1 + 106752d") == "duration out of range");
  CHECK(error_of("-106752d") == "duration out of range");
}

// Found by fuzzing: "+Inf ^ x" reads back as a unary plus over "Inf ^ x".
TEST_CASE("an infinity left of ^ prints back to the same tree") {
  for (const char* in : {"Inf ^ 3", "2 ^ ---++++Inf ^ -+3 > n3", "+Inf ^ 2", "(-Inf) ^ 2", "Inf * 2"}) {
    INFO(in);
    auto e = parse_ok(in);
    auto again = parse_ok(to_string(*e));
    CHECK(equal(*e, *again));
    CHECK(to_string(*again) == to_string(*e));
  }
  CHECK(to_string(*parse_ok("Inf ^ 3")) == "Inf ^ 3");
  CHECK(to_string(*parse_ok("Inf * 3")) == "+Inf * 3");
}

// Found by fuzzing: a grouping label named NaN printed bare, which reads as a number.
TEST_CASE("labels named like Inf or NaN print quoted in label lists and read back") {
  for (const char* in : {"sum by (\"NaN\") (x)", "sum without (\"inf\", a) (x)", "a + on (\"Inf\") b",
                         "a * on (x) group_left (\"nAn\") b", "x{NaN=\"1\"}"}) {
    INFO(in);
    auto e = parse_ok(in);
    auto again = parse_ok(to_string(*e));
    CHECK(equal(*e, *again));
  }
  CHECK(to_string(*parse_ok("sum by (\"NaN\", nanny) (x)")) == "sum by (\"NaN\", nanny) (x)");
}
