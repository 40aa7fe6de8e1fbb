// Prometheus' template functions; expected outputs are those of Prometheus'
// own template tests and documentation.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "templates/prometheus.h"

using namespace vigil;
using namespace vigil::templates;

namespace {

// Runs text with Prometheus' functions over `dot`, without an alert.
std::string run(std::string_view text, const Value& dot = Value()) {
  TemplateSet set(prometheus_functions(), MissingKey::kZero);
  auto r = set.execute_text(text, dot);
  if (!r) return "ERROR: " + r.error().message;
  return *r;
}

Value floats(std::initializer_list<double> fs) {
  std::vector<Value> vs;
  for (double f : fs) vs.push_back(Value::floating(f));
  return Value::slice(vs, slice_of(float64_type()));
}

Value ints(std::initializer_list<int64_t> is) {
  std::vector<Value> vs;
  for (int64_t i : is) vs.push_back(Value::integer(i, int64_type()));
  return Value::slice(vs, slice_of(int64_type()));
}

Value strs(std::initializer_list<const char*> ss) {
  std::vector<std::string> v(ss.begin(), ss.end());
  return Value::strings(v);
}

AlertTemplateData alert() {
  AlertTemplateData d;
  d.labels = Labels{{"alertname", "HighCPU"}, {"instance", "web-1:9100"}, {"job", "node"}};
  d.external_labels = Labels{{"cluster", "eu1"}};
  d.external_url = "http://testhost:9090/path/prefix";
  d.value = 83.33333333333334;
  d.eval_time = 1353755652000;
  return d;
}

std::string expand(std::string_view text, const AlertTemplateData& d = alert()) {
  auto r = expand_alert_template("HighCPU", text, d);
  if (!r) return "ERROR: " + r.error().message;
  return *r;
}

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

TEST_CASE("humanize") {
  const char* t = "{{ range . }}{{ humanize . }}:{{ end }}";
  CHECK(run(t, floats({0.0, 1.0, 1234567.0, .12})) == "0:1:1.235M:120m:");
  CHECK(run(t, strs({"0.0", "1.0", "1234567.0", ".12"})) == "0:1:1.235M:120m:");
  CHECK(run(t, ints({0, -1, 1, 1234567, std::numeric_limits<int64_t>::max()})) == "0:-1:1:1.235M:9.223E:");
  CHECK(run("{{ humanize \"one\" }}") ==
        "ERROR: template: :1:3: executing \"\" at <humanize \"one\">: error calling humanize: "
        "strconv.ParseFloat: parsing \"one\": invalid syntax");
}

TEST_CASE("humanize1024") {
  const char* t = "{{ range . }}{{ humanize1024 . }}:{{ end }}";
  CHECK(run(t, floats({0.0, 1.0, 1048576.0, .12})) == "0:1:1Mi:0.12:");
  CHECK(run(t, ints({0, -1, 1, 1234567, std::numeric_limits<int64_t>::max()})) == "0:-1:1:1.177Mi:8Ei:");
}

TEST_CASE("humanizeDuration") {
  const char* t = "{{ range . }}{{ humanizeDuration . }}:{{ end }}";
  CHECK(run(t, floats({0, 1, 60, 3600, 86400, 86400 + 3600, -(86400 * 2 + 3600 * 3 + 60 * 4 + 5), 899.99})) ==
        "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:");
  CHECK(run(t, floats({.1, .0001, .12345, 60.1, 60.5, 1.2345, 12.345})) ==
        "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:");
  CHECK(run(t, strs({"0", "1", "60", "3600", "86400"})) == "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:");
  CHECK(run(t, ints({0, -1, 1, 1234567})) == "0s:-1s:1s:14d 6h 56m 7s:");
}

TEST_CASE("infinities and NaN") {
  const char* t =
      "{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:{{ humanizeTimestamp . }}:{{ end }}";
  const char* want = "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:";
  CHECK(run(t, floats({kInf, -kInf, std::nan("")})) == want);
  CHECK(run(t, strs({"+Inf", "-Inf", "NaN"})) == want);
}

TEST_CASE("humanizePercentage") {
  CHECK(run("{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | "
            "humanizePercentage }}:{{ 1.23456 | humanizePercentage }}") == "-22.22%:0%:12.35%:123.5%");
  CHECK(run("{{ range . }}{{ humanizePercentage . }}:{{ end }}",
            ints({0, -1, 1, 1234567, std::numeric_limits<int64_t>::max()})) ==
        "0%:-100%:100%:1.235e+08%:9.223e+20%:");
}

TEST_CASE("humanizeTimestamp, toTime, toDuration") {
  CHECK(run("{{ range . }}{{ humanizeTimestamp . }}:{{ end }}", ints({0, -1, 1, 1234567, 9223372036})) ==
        "1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:"
        "1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:");
  CHECK(run("{{ 1435065584.128 | humanizeTimestamp }}") == "2015-06-23 13:19:44.128 +0000 UTC");
  CHECK(run("{{ \"1435065584.128\" | humanizeTimestamp }}") == "2015-06-23 13:19:44.128 +0000 UTC");
  CHECK(run("{{ (1435065584.128 | toTime).Format \"2006\" }}") == "2015");
  CHECK(run("{{ (1800 | toDuration).String }}") == "30m0s");
  CHECK(run("{{ (\"1800\" | toDuration).String }}") == "30m0s");
  CHECK(run("{{ range . }}{{ humanizeTimestamp . }}{{ end }}",
            ints({std::numeric_limits<int64_t>::max()}))
            .starts_with("ERROR:"));
}

TEST_CASE("now, parseDuration and time arithmetic") {
  CHECK(expand("{{ now }}") == "1.353755652e+09");
  CHECK(expand("{{ (now | toTime).Format \"Mon Jan 2 15:04:05 2006\" }}") == "Sat Nov 24 11:14:12 2012");
  CHECK(expand("{{ (\"-30m\" | parseDuration | toDuration | (now | toTime).Add).UnixMilli }}") ==
        "1353753852000");
  CHECK(run("{{ printf \"%0.2f\" (parseDuration \"1h2m10ms\") }}") == "3720.01");
  CHECK(run("{{ printf \"%0.2f\" (parseDuration \"-1h2m10ms\") }}") == "-3720.01");
  CHECK(run("{{ parseDuration \"1x\" }}").starts_with("ERROR:"));
}

TEST_CASE("string helpers") {
  CHECK(run("{{ \"aa bb CC\" | title }}") == "Aa Bb CC");  // Prometheus' title keeps the rest
  CHECK(run("{{ \"aa bb CC\" | toUpper }}") == "AA BB CC");
  CHECK(run("{{ \"aA bB CC\" | toLower }}") == "aa bb cc");
  CHECK(run("{{ match \"a+\" \"aa\" }} {{ match \"a+\" \"b\" }}") == "true false");
  CHECK(run("{{ reReplaceAll \"(a)b\" \"x$1\" \"ab\" }}") == "xa");
  CHECK(run("{{ graphLink \"up\" }}") == "/graph?g0.expr=up&g0.tab=0");
  CHECK(run("{{ tableLink \"rate(x[5m]) > 1\" }}") == "/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+1&g0.tab=1");
  CHECK(run("{{ urlQueryEscape \"a b&c\" }}") == "a+b%26c");
  CHECK(run("{{ \"<b>\" | safeHtml }}") == "<b>");
  CHECK(run("{{ define \"x\" }}{{ .arg0 }} {{ .arg1 }}{{ end }}{{ template \"x\" (args 1 \"2\") }}") == "1 2");
}

TEST_CASE("stripPort and stripDomain") {
  struct {
    const char* in;
    const char* port;
    const char* domain;
  } cases[] = {
      {"foo.example.com", "foo.example.com", "foo"},
      {"foo.example.com:12345", "foo.example.com", "foo:12345"},
      {"192.0.2.1", "192.0.2.1", "192.0.2.1"},
      {"192.0.2.1:12345", "192.0.2.1", "192.0.2.1:12345"},
      {"2001:0DB8::1", "2001:0DB8::1", "2001:0DB8::1"},
      {"[2001:0DB8::1]:12345", "2001:0DB8::1", "[2001:0DB8::1]:12345"},
      {"[2001:0DB8::1]::12345", "[2001:0DB8::1]::12345", "[2001:0DB8::1]::12345"},
  };
  for (const auto& c : cases) {
    CHECK(run(std::string("{{ \"") + c.in + "\" | stripPort }}") == c.port);
    CHECK(run(std::string("{{ \"") + c.in + "\" | stripDomain }}") == c.domain);
  }
}

TEST_CASE("alert variables") {
  CHECK(expand("{{ $labels.instance }} of {{ $labels.job }} in {{ $externalLabels.cluster }}") ==
        "web-1:9100 of node in eu1");
  CHECK(expand("CPU usage is {{ $value }}%") == "CPU usage is 83.33333333333334%");
  CHECK(expand("{{ $value | humanize }}") == "83.33");
  CHECK(expand("{{ printf \"%.2f\" $value }}") == "83.33");
  CHECK(expand("[{{ $labels.missing }}]") == "[]");  // missing labels expand to ""
  CHECK(expand("{{ $externalURL }} {{ externalURL }} {{ pathPrefix }}") ==
        "http://testhost:9090/path/prefix http://testhost:9090/path/prefix /path/prefix");
  AlertTemplateData d = alert();
  d.value = 1e6;
  CHECK(expand("{{ $value }}", d) == "1e+06");
  d.value = kInf;
  CHECK(expand("{{ $value }}", d) == "+Inf");
  d.value = std::nan("");
  CHECK(expand("{{ $value }}", d) == "NaN");
}

TEST_CASE("errors read as Prometheus reports them") {
  // The 112 bytes of variable declarations count in the column, as upstream;
  // Go places a chain of fields at its second field.
  CHECK(expand("{{ $labels.x.y }}") ==
        "ERROR: error executing template __alert_HighCPU: template: __alert_HighCPU:1:122: executing "
        "\"__alert_HighCPU\" at <$labels.x.y>: can't evaluate field y in type string");
  AlertTemplate bad("HighCPU", "{{ $label.instance }}");
  CHECK(bad.parse_error() ==
        "error parsing template __alert_HighCPU: template: __alert_HighCPU:1: undefined variable \"$label\"");
  CHECK(!bad.expand(alert()));
  AlertTemplate good("HighCPU", "{{ $labels.job }}");
  CHECK(good.parse_error().empty());
  CHECK(good.expand(alert()).value() == "node");
}

TEST_CASE("query calls back into the caller") {
  AlertTemplateData d = alert();
  std::string asked;
  Millis asked_at = 0;
  d.query = [&](std::string_view q, Millis at) -> Result<QueryResult> {
    asked = q;
    asked_at = at;
    return QueryResult{{Labels{{"__name__", "metric"}, {"instance", "b"}}, 21},
                       {Labels{{"__name__", "metric"}, {"instance", "a"}, {"__value__", "txt"}}, 11}};
  };
  CHECK(expand("{{ query \"metric\" | first | value }}", d) == "21");
  CHECK(asked == "metric");
  CHECK(asked_at == 1353755652000);
  CHECK(expand("{{ range query \"metric\" | sortByLabel \"instance\" }}{{ .Labels.instance }}:{{ .Value }}: {{ end }}",
               d) == "a:11: b:21: ");
  CHECK(expand("{{ query \"metric\" | first | label \"instance\" }}", d) == "b");
  CHECK(expand("{{ with query \"metric\" }}{{ len . }}{{ end }}", d) == "2");
  CHECK(expand("{{ (index (query \"metric\") 1) | strvalue }}", d) == "txt");
  CHECK(expand("{{ $x := query \"metric\" | first }}[{{ $x.Labels.foo }}]", d) == "[]");
  d.query = [](std::string_view, Millis) -> Result<QueryResult> { return QueryResult{}; };
  CHECK(expand("{{ query \"missing\" | first }}", d).find("first() called on vector with no elements") !=
        std::string::npos);
  d.query = [](std::string_view, Millis) -> Result<QueryResult> { return fail("engine down"); };
  CHECK(expand("{{ query \"x\" }}", d).ends_with("error calling query: engine down"));
}
