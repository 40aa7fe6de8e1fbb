#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "promql/test_script.h"
#include "tests/shared_corpus.h"

using namespace vigil;
using namespace vigil::promql::script;

TEST_CASE("test script: load, clear and eval commands") {
  auto cmds = parse(
      "# comment\n"
      "load 5m\n"
      "  http_requests{job=\"api\"} 0+10x10\n"
      "  @st http_requests{job=\"api\"} 0x10\n"
      "\n"
      "eval instant at 50m sum(http_requests)\n"
      "  expect no_warn\n"
      "  {} 100\n"
      "\n"
      "eval range from 0 to 10m step 5m http_requests\n"
      "  http_requests{job=\"api\"} 0 10 20\n"
      "\n"
      "eval instant at 1m 1 + 1\n"
      "  2\n"
      "clear\n");
  REQUIRE(cmds.has_value());
  REQUIRE(cmds->size() == 5);
  const auto& load = std::get<Load>((*cmds)[0]);
  CHECK(load.interval == 5 * kMinute);
  CHECK(load.line == 2);
  REQUIRE(load.series.size() == 1);
  CHECK(load.series[0].text == "http_requests{job=\"api\"} 0+10x10");
  CHECK(load.series[0].number == 3);
  CHECK(load.start_times.size() == 1);

  const auto& inst = std::get<Eval>((*cmds)[1]);
  CHECK_FALSE(inst.range);
  CHECK(inst.at == 50 * kMinute);
  CHECK(inst.expr == "sum(http_requests)");
  CHECK(inst.has(ExpectKind::kNoWarn));
  REQUIRE(inst.series.size() == 1);
  CHECK(inst.series[0].text == "{} 100");

  const auto& range = std::get<Eval>((*cmds)[2]);
  CHECK(range.range);
  CHECK(range.start == 0);
  CHECK(range.end == 10 * kMinute);
  CHECK(range.step == 5 * kMinute);

  const auto& scalar = std::get<Eval>((*cmds)[3]);
  CHECK(scalar.scalar == 2.0);
  CHECK(std::holds_alternative<Clear>((*cmds)[4]));
}

TEST_CASE("test script: deprecated eval forms become expectations") {
  auto cmds = parse(
      "eval_fail instant at 1m foo\n"
      "  expected_fail_message vector cannot contain metrics with the same labelset\n"
      "\n"
      "eval_ordered instant at 1m sort(foo)\n"
      "\n"
      "eval instant at 1m foo\n"
      "  expect fail regex: many-to-many .*\n"
      "  expect warn msg: PromQL warning: x (1:1)\n");
  REQUIRE(cmds.has_value());
  const auto& f = std::get<Eval>((*cmds)[0]);
  REQUIRE(f.expects.size() == 1);
  CHECK(f.expects[0].kind == ExpectKind::kFail);
  CHECK(f.expects[0].match == MessageMatch::kExact);
  CHECK(f.expects[0].text == "vector cannot contain metrics with the same labelset");
  CHECK(std::get<Eval>((*cmds)[1]).has(ExpectKind::kOrdered));
  const auto& e = std::get<Eval>((*cmds)[2]);
  REQUIRE(e.expects.size() == 2);
  CHECK(e.expects[0].match == MessageMatch::kRegex);
  CHECK(e.expects[0].text == "many-to-many .*");
  CHECK(e.expects[1].text == "PromQL warning: x (1:1)");
}

TEST_CASE("test script: errors name the line") {
  auto bad = parse("load 5m\n  a 1\n\nfrobnicate\n");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message == "line 4: invalid command \"frobnicate\"");
  CHECK_FALSE(parse("load xyz\n").has_value());
  CHECK_FALSE(parse("eval instant at 1q foo\n").has_value());
  CHECK_FALSE(parse("eval range from 10m to 1m step 1m foo\n").has_value());
  auto both = parse("eval instant at 1m foo\n  expect warn\n  expect no_warn\n");
  REQUIRE_FALSE(both.has_value());
  CHECK(both.error().message.find("warn and no_warn cannot be used together") != std::string::npos);
}

TEST_CASE("test script: scalar results read as Go numbers") {
  CHECK(parse_number("42") == 42.0);
  CHECK(parse_number("0x1F") == 31.0);
  CHECK(parse_number("010") == 8.0);  // Go's base-0 ParseInt reads a leading 0 as octal
  CHECK(parse_number("-1.5e3") == -1500.0);
  CHECK(std::isinf(*parse_number("+Inf")));
  CHECK(std::isnan(*parse_number("NaN")));
  CHECK_FALSE(parse_number("foo").has_value());
  CHECK_FALSE(parse_number("{} 1").has_value());
}

TEST_CASE("test script: every upstream corpus file reads") {
  VIGIL_NEEDS_SHARED();
  namespace fs = std::filesystem;
  fs::path dir = fs::path(VIGIL_SHARED_DIR) / "conformance" / "promql";
  REQUIRE(fs::is_directory(dir));
  int files = 0, evals = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".test") continue;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    auto cmds = parse(ss.str());
    INFO(entry.path().filename().string());
    REQUIRE_MESSAGE(cmds.has_value(), cmds.error().message);
    ++files;
    for (const auto& c : *cmds) evals += std::holds_alternative<Eval>(c);
  }
  CHECK(files >= 13);
  CHECK(evals > 1000);
}
