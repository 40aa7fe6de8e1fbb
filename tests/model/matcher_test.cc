#include <doctest/doctest.h>

#include "model/matcher.h"

using namespace vigil;

TEST_CASE("equality matchers") {
  auto eq = Matcher::make(MatchType::kEqual, "job", "api").value();
  CHECK(eq.matches("api"));
  CHECK_FALSE(eq.matches("api2"));
  auto ne = Matcher::make(MatchType::kNotEqual, "job", "api").value();
  CHECK(ne.matches(""));
  CHECK_FALSE(ne.matches("api"));
}

TEST_CASE("regex matchers are fully anchored RE2") {
  auto re = Matcher::make(MatchType::kRegex, "job", "api|web").value();
  CHECK(re.matches("api"));
  CHECK(re.matches("web"));
  CHECK_FALSE(re.matches("xapi"));
  CHECK_FALSE(re.matches("apix"));
  auto nre = Matcher::make(MatchType::kNotRegex, "job", "a.*").value();
  CHECK(nre.matches("b"));
  CHECK_FALSE(nre.matches("abc"));
  CHECK(Matcher::make(MatchType::kRegex, "x", "").value().matches(""));
}

TEST_CASE("dot matches newline in Prometheus matchers but not in Alertmanager's") {
  auto prom = Matcher::make(MatchType::kRegex, "x", "a.b").value();
  CHECK(prom.matches("a\nb"));
  auto am = Matcher::make(MatchType::kRegex, "x", "a.b", Matcher::Dialect::kAlertmanager).value();
  CHECK_FALSE(am.matches("a\nb"));
}

TEST_CASE("invalid regex is an error, not a crash") {
  auto bad = Matcher::make(MatchType::kRegex, "x", "(unclosed");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.find("error parsing regexp") == 0);
  // Go RE2 syntax: no backreferences or lookahead.
  CHECK_FALSE(Matcher::make(MatchType::kRegex, "x", "(a)\\1").has_value());
  CHECK_FALSE(Matcher::make(MatchType::kRegex, "x", "a(?=b)").has_value());
}

TEST_CASE("matcher string form") {
  CHECK(Matcher::make(MatchType::kNotRegex, "job", "a\"b").value().to_string() ==
        "job!~\"a\\\"b\"");
  CHECK(Matcher::make(MatchType::kEqual, "a.b", "1").value().to_string() == "\"a.b\"=\"1\"");
}
