#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "templates/prometheus.h"

namespace {
// What promtool's rule check reports for an alert template, as the rule
// loader reports it: Go's parse error, or nothing.
std::optional<std::string> check_template(std::string_view text, std::string_view alert) {
  vigil::templates::AlertTemplate t(alert, text);
  if (t.syntax_error().empty()) return std::nullopt;
  return t.syntax_error();
}
}  // namespace

TEST_CASE("rule templates: accepts what Prometheus' alert templates commonly hold") {
  for (const char* ok : {
           "plain text",
           "{{ $labels.instance }} of job {{ $labels.job }}",
           "{{ $value | humanize }}",
           "{{ $externalLabels.cluster }} {{ $externalURL }} {{ $.Labels.x }}",
           "{{- if gt $value 0.5 -}}high{{- else -}}low{{- end }}",
           "{{ range $i, $e := query \"up\" }}{{ $i }}={{ $e.Value }}{{ end }}",
           "{{ with $x := 1 }}{{ $x }}{{ end }}",
           "{{ $y := 2 }}{{ $y }}",
           "{{/* a comment with }} and $nope */}}",
           "{{ \"$notavar }}\" }}",
           "{{ `raw $nope }}` }}",
           "{{ printf \"%.2f\" $value }}",
           "text with { braces } and $dollar outside actions",
       }) {
    CHECK_MESSAGE(!check_template(ok, "A").has_value(), ok);
  }
}

TEST_CASE("rule templates: reports what Go's parser rejects, in Go's words") {
  CHECK(check_template("Instance {{ $label.foo }} down", "X") ==
        "template: __alert_X:1: undefined variable \"$label\"");
  CHECK(check_template("line1\n{{ $nope }}", "X") ==
        "template: __alert_X:2: undefined variable \"$nope\"");
  CHECK(check_template("{{ $labels.x", "T") == "template: __alert_T:1: unclosed action");
  CHECK(check_template("{{ if true }}x", "T") == "template: __alert_T:1: unexpected EOF");
  CHECK(check_template("x{{ end }}", "T") == "template: __alert_T:1: unexpected {{end}}");
  CHECK(check_template("{{ else }}", "T") == "template: __alert_T:1: unexpected {{else}}");
  CHECK(check_template("{{}}", "T") == "template: __alert_T:1: missing value for command");
  CHECK(check_template("{{ \"abc }}", "T") == "template: __alert_T:1: unterminated quoted string");
  // Functions are known at parse time: a misspelt one is caught before any alert fires.
  CHECK(check_template("{{ $value | humanise }}", "T") ==
        "template: __alert_T:1: function \"humanise\" not defined");
}

TEST_CASE("rule templates: variables are scoped to their block") {
  CHECK(check_template("{{ if true }}{{ $x := 1 }}{{ end }}{{ $x }}", "T") ==
        "template: __alert_T:1: undefined variable \"$x\"");
  CHECK_FALSE(check_template("{{ if true }}{{ $x := 1 }}{{ $x }}{{ end }}", "T").has_value());
}
