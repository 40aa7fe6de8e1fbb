#include <doctest/doctest.h>

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

TEST_CASE("content type picks the format") {
  CHECK(format_from_content_type("application/openmetrics-text; version=1.0.0") ==
        ExpositionFormat::kOpenMetrics);
  CHECK(format_from_content_type("text/plain; version=0.0.4") == ExpositionFormat::kPrometheusText);
}
