#include <doctest/doctest.h>

#include "rules/template_check.h"

using vigil::rules::check_template;

TEST_CASE("template check: accepts what Prometheus' alert templates commonly hold") {
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
    CHECK_MESSAGE(!check_template(ok, "__alert_A").has_value(), ok);
  }
}

TEST_CASE("template check: reports what Go's parser rejects, in Go's words") {
  CHECK(check_template("Instance {{ $label.foo }} down", "__alert_X") ==
        "template: __alert_X:1: undefined variable \"$label\"");
  CHECK(check_template("line1\n{{ $nope }}", "__alert_X") ==
        "template: __alert_X:2: undefined variable \"$nope\"");
  CHECK(check_template("{{ $labels.x", "t") == "template: t:1: unclosed action");
  CHECK(check_template("{{ if true }}x", "t") == "template: t:1: unexpected EOF");
  CHECK(check_template("x{{ end }}", "t") == "template: t:1: unexpected {{end}}");
  CHECK(check_template("{{ else }}", "t") == "template: t:1: unexpected {{else}}");
  CHECK(check_template("{{}}", "t") == "template: t:1: missing value for command");
  CHECK(check_template("{{ \"abc }}", "t") == "template: t:1: unterminated quoted string");
}

TEST_CASE("template check: variables are scoped to their block") {
  CHECK(check_template("{{ if true }}{{ $x := 1 }}{{ end }}{{ $x }}", "t") ==
        "template: t:1: undefined variable \"$x\"");
  CHECK_FALSE(check_template("{{ if true }}{{ $x := 1 }}{{ $x }}{{ end }}", "t").has_value());
}
