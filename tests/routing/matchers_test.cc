#include <doctest/doctest.h>

#include <string>

#include "routing/config.h"
#include "routing/matchers.h"

using namespace vigil;
using namespace vigil::routing;

namespace {

std::string utf8(std::string_view in) {
  auto r = parse_utf8_matchers(in);
  if (!r) return "error: " + r.error().message;
  return Matchers(*r).to_string();
}

std::string classic(std::string_view in) {
  auto r = parse_classic_matchers(in);
  if (!r) return "error: " + r.error().message;
  return Matchers(*r).to_string();
}

}  // namespace

// Cases from upstream's matcher/parse tests.
TEST_CASE("matchers: the UTF-8 syntax") {
  CHECK(utf8("") == "{}");
  CHECK(utf8("{}") == "{}");
  CHECK(utf8("{foo=bar,}") == "{foo=\"bar\"}");
  CHECK(utf8("foo!~[a-z]+") == "{foo!~\"[a-z]+\"}");
  CHECK(utf8("{foo=🙂bar}") == "{foo=\"🙂bar\"}");
  CHECK(utf8("{\"foo\"=~\"\\\\d+\"}") == "{foo=~\"\\\\d+\"}");
  CHECK(utf8("{\"foo\"=\"\\U0001f642\"}") == "{foo=\"🙂\"}");
  CHECK(utf8("\"foo\"=\"bar\\n\"") == "{foo=\"bar\\n\"}");
  CHECK(utf8("{\"foo bar\"=\"baz\"}") == "{\"foo bar\"=\"baz\"}");
  CHECK(utf8("foo=bar,bar!=baz") == "{bar!=\"baz\",foo=\"bar\"}");
  CHECK(utf8(",") == "error: 0:1: unexpected ,: expected label name");
  CHECK(utf8("{,}") == "error: 1:2: unexpected ,: expected label name");
  CHECK(utf8("{") == "error: 0:1: end of input: expected close brace");
  CHECK(utf8("}") == "error: 0:1: }: expected opening brace");
  CHECK(utf8("foo=bar}") == "error: 0:8: }: expected opening brace");
  CHECK(utf8("{foo=bar") == "error: 0:8: end of input: expected close brace");
  CHECK(utf8("{foo=:\"bar\"}") == "error: 6:11: unexpected \"bar\": expected a comma or close brace");
  CHECK(utf8("{foo=\"bar\\w\"}") == "error: 5:12: \"bar\\w\": invalid input");
  CHECK(utf8("{\"foo\"=~\"\\d+\"}") == "error: 8:13: \"\\d+\": invalid input");
  CHECK(utf8("{foo=bar\\n}") == "error: 8:9: \\: invalid input: expected a comma or close brace");
  CHECK(utf8("{\"foo\"=\"\\xf0\\x9f\"}") == "error: 7:17: \"\\xf0\\x9f\": invalid input");
  CHECK(utf8("foo=\"bar") == "error: 4:8: \"bar: missing end \": expected label value");
  CHECK(utf8("foo!bar") ==
        "error: 3:4: !: expected one of '=~': expected an operator such as '=', '!=', '=~' or '!~'");
}

// Cases from upstream's pkg/labels parse tests.
TEST_CASE("matchers: the classic syntax") {
  CHECK(classic("{}") == "{}");
  CHECK(classic(",") == "error: bad matcher format: ");
  CHECK(classic("{foo='}") == "{foo=\"'\"}");
  CHECK(classic("{foo=\"bar\", baz!~\"quux.*\"}") == "{baz!~\"quux.*\",foo=\"bar\"}");
  CHECK(classic("{foo=\"bar,quux\", job=\"job1\"}") == "{foo=\"bar,quux\",job=\"job1\"}");
  CHECK(classic("{foo = \"bar\", dings != \"bums\", }") == "{dings!=\"bums\",foo=\"bar\"}");
  CHECK(classic("tricky=~~~") == "{tricky=~\"~~\"}");
  CHECK(classic("trickier==\\\\=\\=\\\"") == "{trickier=\"=\\\\=\\\\=\\\"\"}");
  CHECK(classic("{foo=bar}}") == "{foo=\"bar}\"}");
  CHECK(classic("job=") == "{job=\"\"}");
  CHECK(classic("job=\"value") == "error: matcher value contains unescaped double quote: \"value");
  CHECK(classic("contains_unescaped_quote = foo\"bar") ==
        "error: matcher value contains unescaped double quote: foo\"bar");
  CHECK(classic("{invalid-name = \"valid label\"}") ==
        "error: bad matcher format: invalid-name = \"valid label\"");
  CHECK(classic("{foo=~\"invalid[regexp\"}").starts_with("error: error parsing regexp"));
}

TEST_CASE("matchers: fallback takes the classic reading when there is one, else UTF-8") {
  auto ms = parse_matchers("foo=bar baz", MatcherSyntax::kFallback);
  REQUIRE(ms);
  CHECK(Matchers(*ms).to_string() == "{foo=\"bar baz\"}");
  ms = parse_matchers("\"service name\"=\"x\"", MatcherSyntax::kFallback);
  REQUIRE(ms);
  CHECK(ms->at(0).name() == "service name");
  CHECK_FALSE(parse_matchers("\"service name\"=\"x\"", MatcherSyntax::kClassic));
  CHECK_FALSE(parse_matchers("foo=bar baz", MatcherSyntax::kUtf8));
  auto m = parse_matcher("{a=b}", MatcherSyntax::kFallback);
  REQUIRE_FALSE(m);
  CHECK(m.error().message == "unexpected open or close brace: {a=b}");
  CHECK(parse_matcher("a=b,c=d", MatcherSyntax::kUtf8).error().message == "expected 1 matcher, found 2");
}

TEST_CASE("matchers: fallback warns about input only the classic parser reads") {
  std::string warning;
  auto ms = parse_matchers("foo=bar baz", MatcherSyntax::kFallback, &warning);
  REQUIRE(ms);
  CHECK(warning.find("\"foo=bar baz\" are read by the classic parser only") != std::string::npos);
  CHECK(warning.find("written as {foo=\"bar baz\"} they read the same in both") != std::string::npos);
  // Input both parsers read alike, and the other modes, say nothing.
  for (auto [input, syntax] : {std::pair<const char*, MatcherSyntax>{"foo=\"bar baz\"", MatcherSyntax::kFallback},
                               {"a=b, c=~\"x|y\"", MatcherSyntax::kFallback},
                               {"foo=bar baz", MatcherSyntax::kClassic}}) {
    CAPTURE(input);
    warning.clear();
    REQUIRE(parse_matchers(input, syntax, &warning));
    CHECK(warning.empty());
  }
  // Through a configuration: a warning with its line, and the file loads.
  LoadResult r = parse_config("route:\n  receiver: r\n  routes:\n  - receiver: r\n    matchers:\n    - foo=bar!\n"
                              "receivers:\n- name: r\n");
  REQUIRE(r.ok());
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].line == 6);
  CHECK(r.warnings[0].message.find("{foo=\"bar!\"}") != std::string::npos);
}

TEST_CASE("matchers: matching is fully anchored and a missing label is empty") {
  auto ms = parse_matchers("a=~\"x|y\", b!=\"\", c=\"\"", MatcherSyntax::kFallback);
  REQUIRE(ms);
  Matchers m(*ms);
  CHECK(m.matches(Labels{{"a", "x"}, {"b", "1"}}));
  CHECK_FALSE(m.matches(Labels{{"a", "xx"}, {"b", "1"}}));
  CHECK_FALSE(m.matches(Labels{{"a", "x"}}));
  CHECK_FALSE(m.matches(Labels{{"a", "x"}, {"b", "1"}, {"c", "z"}}));
  // Alertmanager's '.' does not match a newline.
  auto dot = make_matcher(MatchType::kRegex, "a", ".*");
  REQUIRE(dot);
  CHECK_FALSE(dot->matches("x\ny"));
}

TEST_CASE("matchers: printing as Alertmanager prints") {
  auto m = make_matcher(MatchType::kEqual, "a", "say \"hi\"\n\\");
  REQUIRE(m);
  CHECK(format_matcher(*m) == "a=\"say \\\"hi\\\"\\n\\\\\"");
  m = make_matcher(MatchType::kNotRegex, "a-b", "x");
  CHECK(format_matcher(*m) == "a-b!~\"x\"");
  m = make_matcher(MatchType::kEqual, "a b", "x");
  CHECK(format_matcher(*m) == "\"a b\"=\"x\"");
}
