// Hostile input: deep nesting is an error, never a stack overflow, and large
// inputs parse in linear time.

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "promql/parser.h"
#include "promql/printer.h"
#include "tests/small_stack.h"

using namespace vigil::promql;
using vigil::Result;

namespace {

std::string repeat(std::string_view s, int n) {
  std::string out;
  out.reserve(s.size() * n);
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

bool nested_too_deeply(const Result<ExprPtr>& r) {
  return !r && r.error().message.find("nested too deeply") != std::string::npos;
}

}  // namespace

TEST_CASE("100000 nested parentheses are rejected, not a crash") {
  auto r = parse_expr(repeat("(", 100000) + "1" + repeat(")", 100000));
  CHECK(nested_too_deeply(r));
}

TEST_CASE("100000 unary minus signs are rejected") {
  CHECK(nested_too_deeply(parse_expr(repeat("-", 100000) + "1")));
  CHECK(nested_too_deeply(parse_expr(repeat("- ", 100000) + "foo")));
}

TEST_CASE("deeply nested function calls and aggregations are rejected") {
  CHECK(nested_too_deeply(parse_expr(repeat("abs(", 100000) + "foo" + repeat(")", 100000))));
  CHECK(nested_too_deeply(parse_expr(repeat("sum(", 100000) + "foo" + repeat(")", 100000))));
  CHECK(nested_too_deeply(parse_expr(repeat("foo[1m:]", 1) + repeat("[1m:]", 100000))));
  CHECK(nested_too_deeply(parse_expr("foo[" + repeat("(", 100000) + "1m" + repeat(")", 100000) + "]")));
  CHECK(nested_too_deeply(parse_expr(repeat("2^", 100000) + "2")));
}

TEST_CASE("long binary chains count as nesting too") {
  CHECK(nested_too_deeply(parse_expr("foo" + repeat(" + foo", 100000))));
  CHECK(nested_too_deeply(parse_expr("foo" + repeat(" or foo", 100000))));
}

TEST_CASE("chains inside nested parentheses add up") {
  // Each level is shallow for the parser's recursion, but the tree grows by
  // the sum of all chains.
  std::string s = "a";
  for (int i = 0; i < 100; ++i) s = "(" + s + repeat(" + a", 1000) + ")";
  CHECK(nested_too_deeply(parse_expr(s)));
  std::string sub = "a";
  for (int i = 0; i < 100; ++i) sub = "(" + sub + repeat("[1m:]", 100) + ")";
  CHECK(nested_too_deeply(parse_expr(sub)));
}

TEST_CASE("trees never exceed max_depth") {
  ParseOptions opts;
  opts.max_depth = 50;
  std::string s = "a";
  for (int i = 0; i < 10; ++i) s = "(" + s + repeat(" + a", 5) + ")";
  auto r = parse_expr(s, opts);
  if (r) CHECK((*r)->height <= 50);
  else CHECK(nested_too_deeply(r));
  auto ok = parse_expr("(a + b) * -c", opts);
  REQUIRE(ok);
  CHECK((*ok)->height == 4);  // * -> paren -> + -> a
}

TEST_CASE("nesting below the limit parses, prints and compares") {
  // On a stack large enough for the level limit in any build: sanitizer
  // frames are several times larger, and the parser stops (with its error)
  // when its stack runs low.
  vigil::testing::run_on_stack(64 << 20, [] {
    std::string in = repeat("(", 1000) + "foo" + repeat(")", 1000);
    auto r = parse_expr(in);
    REQUIRE(r);
    CHECK(to_string(**r) == in);
    auto chain = parse_expr("foo" + repeat(" + foo", 2000));
    REQUIRE(chain);
    auto again = parse_expr(to_string(**chain));
    REQUIRE(again);
    CHECK(equal(**chain, **again));
  });
}

TEST_CASE("the depth limit is an option") {
  ParseOptions opts;
  opts.max_depth = 10;
  CHECK(nested_too_deeply(parse_expr("((((((((((((1))))))))))))", opts)));
  CHECK(parse_expr("((1))", opts).has_value());
}

TEST_CASE("megabyte inputs parse in linear time") {
  // A 4 MB selector with many matchers, a 2 MB string literal and a wide call.
  std::string matchers = "foo{";
  for (int i = 0; i < 100000; ++i) matchers += "l" + std::to_string(i) + "=\"v\",";
  matchers += "}";
  std::string str = "label_replace(foo, \"a\", \"" + repeat("x", 2000000) + "\", \"b\", \"c\")";
  std::string wide = "label_join(foo, \"a\", \",\"" + repeat(", \"b\"", 200000) + ")";
  auto start = std::chrono::steady_clock::now();
  CHECK(parse_expr(matchers).has_value());
  CHECK(parse_expr(str).has_value());
  CHECK(parse_expr(wide).has_value());
  CHECK(parse_expr(repeat(" ", 3000000) + "1").has_value());
  CHECK(parse_expr("# " + repeat("c", 3000000) + "\n1").has_value());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  CHECK(ms < 5000);
}

TEST_CASE("every form of nesting up to the limit stays within the stack") {
  // Just below and above the limit, for each construct that recurses.
  for (int n : {1000, 1500, 2047, 2048, 2049, 4095, 4096, 4097}) {
    CAPTURE(n);
    for (const auto& in : {repeat("(", n) + "foo" + repeat(")", n), repeat("-", n) + "foo",
                           repeat("abs(", n) + "foo" + repeat(")", n),
                           repeat("sum by (a) (", n) + "foo" + repeat(")", n), repeat("2 ^ ", n) + "2",
                           "foo" + repeat("[5m:]", n), "foo[" + repeat("(", n) + "1" + repeat(")", n) + "]",
                           "foo[" + repeat("-", n) + "1m]", "1" + repeat(" * 1", n)}) {
      auto r = parse_expr(in);
      CHECK((r.has_value() || nested_too_deeply(r) || !r.error().message.empty()));
      if (r) CHECK(!to_string(**r).empty());
    }
  }
}
