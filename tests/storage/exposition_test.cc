#include <doctest/doctest.h>

#include <bit>
#include <cmath>

#include "storage/exposition.h"

using namespace vigil;
using namespace vigil::storage;

TEST_CASE("Prometheus text format") {
  const char* body =
      "# HELP http_requests_total Requests.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
      "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
      "\n"
      "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"
      "metric_without_labels 12.47\n"
      "something_weird{problem=\"division by zero\"} +Inf -3982045\n"
      "nan_metric NaN\n"
      "trailing_comma{a=\"1\",} 2\n";
  auto r = parse_exposition(body, ExpositionFormat::kPrometheusText);
  REQUIRE(r.has_value());
  REQUIRE(r->samples.size() == 7);
  CHECK(r->types.at("http_requests_total") == MetricType::kCounter);
  const auto& s0 = r->samples[0];
  CHECK(s0.labels.to_string() == "{__name__=\"http_requests_total\", code=\"200\", method=\"post\"}");
  CHECK(s0.value == 1027);
  CHECK(s0.timestamp_ms == 1395066363000);
  CHECK(r->samples[2].labels.get("path") == "C:\\DIR\\FILE.TXT");
  CHECK(r->samples[2].labels.get("error") == "Cannot find file:\n\"FILE.TXT\"");
  CHECK_FALSE(r->samples[3].timestamp_ms.has_value());
  CHECK(std::isinf(r->samples[4].value));
  CHECK(r->samples[4].timestamp_ms == -3982045);
  CHECK(std::isnan(r->samples[5].value));
  CHECK(r->samples[6].labels.get("a") == "1");
}

TEST_CASE("OpenMetrics text: seconds timestamps, exemplars, EOF, quoted names") {
  const char* body =
      "# TYPE foo histogram\n"
      "foo_bucket{le=\"0.1\"} 8 1520879607.789 # {trace_id=\"x\"} 0.05 1520879607.7\n"
      "{\"my.metric\",\"service.name\"=\"api\"} 1\n"
      "# EOF\n";
  auto r = parse_exposition(body, ExpositionFormat::kOpenMetrics);
  REQUIRE(r.has_value());
  REQUIRE(r->samples.size() == 2);
  CHECK(r->samples[0].timestamp_ms == 1520879607789);
  CHECK(r->samples[1].labels.get("__name__") == "my.metric");
  CHECK(r->samples[1].labels.get("service.name") == "api");
  CHECK_FALSE(parse_exposition("foo 1\n", ExpositionFormat::kOpenMetrics).has_value());
}

TEST_CASE("malformed bodies give the line and what was expected") {
  auto bad = parse_exposition("ok 1\nbroken{a=\"1\" 2\n", ExpositionFormat::kPrometheusText);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().line == 2);
  CHECK(bad.error().message.find("line 2: expected") == 0);
  CHECK_FALSE(parse_exposition("x notanumber\n", ExpositionFormat::kPrometheusText).has_value());
  CHECK_FALSE(parse_exposition("x\n", ExpositionFormat::kPrometheusText).has_value());
  CHECK_FALSE(parse_exposition("x{a=\"1} 1\n", ExpositionFormat::kPrometheusText).has_value());
  CHECK_FALSE(parse_exposition("x 1 2 3\n", ExpositionFormat::kPrometheusText).has_value());
  CHECK_FALSE(parse_exposition("x{a=\"\xff\"} 1\n", ExpositionFormat::kPrometheusText).has_value());
  std::string garbage(4096, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 131) % 256);
  CHECK_FALSE(parse_exposition(garbage, ExpositionFormat::kPrometheusText).has_value());
}

namespace {

// Reads a body the scraper's way: split, then each line's labels. An error
// anywhere is an error.
Result<std::vector<ScrapedSample>> split_then_parse(std::string_view body, ExpositionFormat f) {
  std::vector<RawSample> lines;
  if (auto r = split_exposition(body, f, lines); !r) return std::unexpected(r.error());
  std::vector<ScrapedSample> out;
  for (const RawSample& l : lines) {
    auto ls = parse_series(l.series, l.line);
    if (!ls) return std::unexpected(ls.error());
    out.push_back({*ls, l.value, l.timestamp_ms});
  }
  return out;
}

}  // namespace

TEST_CASE("split_exposition and parse_series read bodies as parse_exposition does") {
  struct Case {
    const char* body;
    ExpositionFormat f = ExpositionFormat::kPrometheusText;
  };
  const Case cases[] = {
      {"a 1\nb{x=\"1\"} 2 1000\n"},
      {"m{v=\"a}b\",w=\"c\\\"}\\\\\"} 1\n"},  // braces and escaped quotes inside values
      {"m{v=\"\\n\"}\t3\r\n  indented 4\n"},
      {"trailing_comma{a=\"1\",} 2\n"},
      {"spaced{ a = \"1\" , b=\"2\" } 2\n"},
      {"{\"dotted.name\",x=\"1\"} 5\n"},
      {"m{\"quoted label\"=\"v\"} 5\n"},
      {"# TYPE a gauge\na 1 1600000000.5 # {trace=\"x\"} 2\n# EOF\n", ExpositionFormat::kOpenMetrics},
      // Malformed: each must fail both ways.
      {"x{a=\"1\" b} 1\n"},
      {"x{a=\"1} 1\n"},
      {"x{a=\"1\"}1\n"},
      {"x{a\"=\"1\"} 1\n"},
      {"{} 1\n"},
      {"{a=\"1\"} 1\n"},
      {"x{a=\"\xff\"} 1\n"},
      {"x{a=\"1\"} 1 2 3\n"},
      {"x{=\"1\"} 1\n"},
      {"x{a=1} 1\n"},
      {"x{a=\"1\"}} 1\n"},
      {"# TYPE a\n"},
      {"a 1\n", ExpositionFormat::kOpenMetrics},
  };
  for (const Case& c : cases) {
    CAPTURE(c.body);
    auto want = parse_exposition(c.body, c.f);
    auto got = split_then_parse(c.body, c.f);
    REQUIRE(want.has_value() == got.has_value());
    if (!want) continue;
    REQUIRE(want->samples.size() == got->size());
    for (size_t i = 0; i < got->size(); ++i) {
      CHECK(want->samples[i].labels == (*got)[i].labels);
      CHECK(std::bit_cast<uint64_t>(want->samples[i].value) == std::bit_cast<uint64_t>((*got)[i].value));
      CHECK(want->samples[i].timestamp_ms == (*got)[i].timestamp_ms);
    }
  }
}

TEST_CASE("split_exposition keeps each line's series text as written") {
  std::vector<RawSample> lines;
  REQUIRE(split_exposition("  a{x=\"}\"} 1\nb 2 7\n", ExpositionFormat::kPrometheusText, lines));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].series == "a{x=\"}\"}");
  CHECK(lines[0].line == 1);
  CHECK(lines[1].series == "b");
  CHECK(lines[1].timestamp_ms == 7);
  CHECK(lines[1].line == 2);
  auto bad = parse_series("a{x=\"1\"} 1", 4);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().line == 4);
}

TEST_CASE("le and quantile are written as Prometheus 3 formats floats, under their family's # TYPE") {
  const char* body =
      "# TYPE h histogram\n"
      "h_bucket{le=\"1\"} 1\n"
      "h_bucket{le=\"2.50\"} 2\n"
      "h_bucket{le=\"+Inf\"} 3\n"
      "# TYPE s summary\n"
      "s{quantile=\"0.50\"} 1\n"
      "s{quantile=\"1\",le=\"1\"} 2\n"
      "# TYPE g gauge\n"
      "g{le=\"1\",quantile=\"1\"} 3\n";
  auto r = parse_exposition(body, ExpositionFormat::kPrometheusText);
  REQUIRE(r.has_value());
  std::vector<std::string> got;
  for (const auto& s : r->samples) got.push_back(s.labels.to_string());
  CHECK(got == std::vector<std::string>{R"({__name__="h_bucket", le="1.0"})", R"({__name__="h_bucket", le="2.5"})",
                                        R"({__name__="h_bucket", le="+Inf"})", R"({__name__="s", quantile="0.5"})",
                                        R"({__name__="s", le="1", quantile="1.0"})",
                                        R"({__name__="g", le="1", quantile="1"})"});
  // The scraper's way, one line's text at a time with the type split_exposition saw.
  std::vector<RawSample> lines;
  REQUIRE(split_exposition(body, ExpositionFormat::kPrometheusText, lines).has_value());
  REQUIRE(lines.size() == got.size());
  for (size_t i = 0; i < lines.size(); ++i) CHECK(parse_series(lines[i].series, lines[i].line, lines[i].type)->to_string() == got[i]);
}
