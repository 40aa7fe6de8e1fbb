// The text/template language: every construct, with the outputs Go's
// documentation and implementation give.
#include <doctest/doctest.h>

#include <string>

#include "templates/template.h"

using namespace vigil::templates;

namespace {

Value data() {
  MapEntries labels = {{"job", Value::string("api")}, {"instance", Value::string("a:1")}};
  MapEntries m = {
      {"name", Value::string("vigil")},
      {"count", Value::integer(3)},
      {"ratio", Value::floating(0.25)},
      {"empty", Value::string("")},
      {"list", Value::strings({"x", "y", "z"})},
      {"labels", Value::strmap(labels)},
      {"nothing", Value()},
  };
  return Value::map(m, any_map_type());
}

std::string render(std::string_view text, const Value& d = data(),
                   MissingKey mk = MissingKey::kDefault) {
  TemplateSet set({}, mk);
  auto r = set.execute_text(text, d);
  if (!r) return "ERROR: " + r.error().message;
  return *r;
}

}  // namespace

TEST_CASE("text and actions") {
  CHECK(render("plain") == "plain");
  CHECK(render("{{ .name }}!") == "vigil!");
  CHECK(render("{{.count}} {{.ratio}}") == "3 0.25");
  CHECK(render("a{{/* comment */}}b") == "ab");
  CHECK(render("") == "");
}

TEST_CASE("trim markers remove the white space next to an action") {
  CHECK(render("a \n\t {{- .name -}} \n b") == "avigilb");
  CHECK(render("a {{- /* c */ -}} b") == "ab");
  // Without the space, '-' belongs to a number.
  CHECK(render("{{-3}}") == "-3");
  CHECK(render("x {{ 3 -}}\n\n y") == "x 3y");
}

TEST_CASE("missing map keys follow the missingkey option") {
  CHECK(render("{{ .labels.nope }}") == "<no value>");
  CHECK(render("{{ .labels.nope }}", data(), MissingKey::kZero) == "");
  // A map of interface values has no zero string: nil prints <no value>.
  CHECK(render("{{ .nope }}", data(), MissingKey::kZero) == "<no value>");
  CHECK(render("{{ .labels.nope }}", data(), MissingKey::kError) ==
        "ERROR: template: :1:10: executing \"\" at <.labels.nope>: map has no entry for key \"nope\"");
  CHECK(render("{{ .nothing }}") == "<no value>");
  CHECK(render("{{ print .nothing }}") == "<nil>");
}

TEST_CASE("variables") {
  CHECK(render("{{ $x := .name }}{{ $x }}") == "vigil");
  CHECK(render("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}") == "2");
  CHECK(render("{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ end }}{{ $x }}") == "1");
  CHECK(render("{{ range .list }}{{ $.name }}{{ end }}") == "vigilvigilvigil");
  CHECK(render("{{ $l := .labels }}{{ $l.job }}") == "api");
  CHECK(render("{{ $y }}") == "ERROR: template: :1: undefined variable \"$y\"");
}

TEST_CASE("if, else if, else") {
  CHECK(render("{{ if .count }}yes{{ end }}") == "yes");
  CHECK(render("{{ if .empty }}yes{{ else }}no{{ end }}") == "no");
  CHECK(render("{{ if eq .count 1 }}one{{ else if eq .count 3 }}three{{ else }}many{{ end }}") ==
        "three");
  CHECK(render("{{ if .list }}list{{ end }}{{ if .labels }} map{{ end }}") == "list map");
  CHECK(render("{{ if .nothing }}x{{ else }}nil is false{{ end }}") == "nil is false");
}

TEST_CASE("range over slices, maps and integers") {
  CHECK(render("{{ range .list }}[{{ . }}]{{ end }}") == "[x][y][z]");
  CHECK(render("{{ range $i, $e := .list }}{{ $i }}{{ $e }} {{ end }}") == "0x 1y 2z ");
  CHECK(render("{{ range $k, $v := .labels }}{{ $k }}={{ $v }};{{ end }}") == "instance=a:1;job=api;");
  CHECK(render("{{ range .nothing }}x{{ else }}empty{{ end }}") == "empty");
  CHECK(render("{{ range $i, $e := .list }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ $e }}{{ end }}") ==
        "xz");
  CHECK(render("{{ range $i, $e := .list }}{{ if eq $i 1 }}{{ break }}{{ end }}{{ $e }}{{ end }}") == "x");
  // Go 1.22 ranges over integers.
  CHECK(render("{{ range 3 }}{{ . }}{{ end }}") == "012");
  CHECK(render("{{ range $i, $e := .list }}{{ end }}{{ $i }}") ==
        "ERROR: template: :1: undefined variable \"$i\"");
  CHECK(render("{{ range .name }}{{ end }}") ==
        "ERROR: template: :1:9: executing \"\" at <.name>: range can't iterate over vigil");
}

TEST_CASE("with and else with") {
  CHECK(render("{{ with .name }}{{ . }}{{ end }}") == "vigil");
  CHECK(render("{{ with .empty }}x{{ else }}empty{{ end }}") == "empty");
  // Go 1.23's else with.
  CHECK(render("{{ with .empty }}a{{ else with .name }}{{ . }}{{ end }}") == "vigil");
}

TEST_CASE("define, template and block") {
  CHECK(render("{{ define \"t\" }}<{{ . }}>{{ end }}{{ template \"t\" .name }}") == "<vigil>");
  CHECK(render("{{ block \"b\" .count }}n={{ . }}{{ end }}") == "n=3");
  CHECK(render("{{ template \"nope\" }}") ==
        "ERROR: template: :1:12: executing \"\" at <{{template \"nope\"}}>: template \"nope\" not defined");

  TemplateSet set;
  REQUIRE(set.parse("a.tmpl", "{{ define \"x\" }}first{{ end }}"));
  REQUIRE(set.parse("b.tmpl", "{{ define \"x\" }}second{{ end }}"));
  CHECK(set.execute_text("{{ template \"x\" }}", Value()).value() == "second");
  // A file of only definitions does not replace a template of its name.
  REQUIRE(set.parse("x", "{{ define \"y\" }}{{ end }}   "));
  CHECK(set.execute_text("{{ template \"x\" }}", Value()).value() == "second");
  CHECK(set.execute("x", Value()).value() == "second");
}

TEST_CASE("parse once, execute many times") {
  TemplateSet set;
  REQUIRE(set.parse("t", "{{ range . }}{{ . }},{{ end }}"));
  CHECK(set.execute("t", Value::strings({"a"})).value() == "a,");
  CHECK(set.execute("t", Value::strings({"b", "c"})).value() == "b,c,");
  CHECK(!set.execute("missing", Value()));
}

TEST_CASE("the built-in functions") {
  CHECK(render("{{ and 1 .empty 2 }}|{{ and 1 2 }}|{{ or .empty 0 }}|{{ or .empty .name }}") == "|2|0|vigil");
  CHECK(render("{{ not .empty }} {{ not .count }}") == "true false");
  CHECK(render("{{ len .list }} {{ len .labels }} {{ len .name }}") == "3 2 5");
  CHECK(render("{{ index .list 1 }} {{ index .labels \"job\" }} {{ index \"ab\" 1 }}") == "y api 98");
  CHECK(render("{{ slice .list 1 }} {{ slice .name 1 3 }}") == "[y z] ig");
  CHECK(render("{{ eq .count 3 }} {{ ne .name \"x\" }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt 1.5 2.5 }} {{ ge \"b\" \"a\" }}") ==
        "true true true true false true");
  CHECK(render("{{ print 1 2 \"a\" }} {{ printf \"%05.1f\" .ratio }} {{ println 1 }}") == "1 2a 000.2 1\n");
  CHECK(render("{{ html \"<a&'\\\">\" }}") == "&lt;a&amp;&#39;&#34;&gt;");
  CHECK(render("{{ js \"<'\\\"=&>\" }}") == "\\u003C\\'\\\"\\u003D\\u0026\\u003E");
  CHECK(render("{{ urlquery \"a b/c?d\" }}") == "a+b%2Fc%3Fd");
  // and/or stop at the first argument that decides.
  CHECK(render("{{ or 1 (index .list 9) }}") == "1");
  CHECK(render("{{ and 0 (index .list 9) }}") == "0");
}

TEST_CASE("call runs a function value") {
  Value add = Value::function(
      [](const CallArgs& c) -> vigil::Result<Value> {
        return Value::integer(c.args[0].as_int() + c.args[1].as_int());
      },
      Signature{{int_type(), int_type()}}, make_type(Kind::kFunc, "", "func(int, int) int"));
  Value d = Value::map({{"add", add}}, any_map_type());
  CHECK(render("{{ call .add 2 3 }}", d) == "5");
  CHECK(render("{{ call .add 2 }}", d) ==
        "ERROR: template: :1:3: executing \"\" at <call .add 2>: error calling call: wrong number of args: got 1 want 2");
  CHECK(render("{{ call .add \"a\" 1 }}", d) ==
        "ERROR: template: :1:3: executing \"\" at <call .add \"a\" 1>: error calling call: arg 0 has type string; should be int");
}

TEST_CASE("errors name the template, line and column") {
  CHECK(render("{{ .name") == "ERROR: template: :1: unclosed action");
  CHECK(render("a\n{{ if true }}") == "ERROR: template: :2: unexpected EOF");
  CHECK(render("{{ nofunc 1 }}") == "ERROR: template: :1: function \"nofunc\" not defined");
  CHECK(render("x\n  {{ len 3 }}") ==
        "ERROR: template: :2:5: executing \"\" at <len 3>: error calling len: len of type int");
  CHECK(render("{{ printf 1 }}") ==
        "ERROR: template: :1:10: executing \"\" at <1>: expected string; found 1");
  CHECK(render("{{ .name.x }}") ==
        "ERROR: template: :1:8: executing \"\" at <.name.x>: can't evaluate field x in type string");
  CHECK(render("{{ define \"d\" }}\n{{ len 1 }}{{ end }}{{ template \"d\" }}") ==
        "ERROR: template: :2:3: executing \"d\" at <len 1>: error calling len: len of type int");
  TemplateSet set;
  auto r = set.parse("file.tmpl", "ok\n\n{{ end }}");
  REQUIRE(!r);
  CHECK(r.error().message == "template: file.tmpl:3: unexpected {{end}}");
  CHECK(r.error().line == 3);
}

TEST_CASE("numbers parse as Go constants") {
  CHECK(render("{{ 0x10 }} {{ 0o10 }} {{ 0b10 }} {{ 010 }} {{ 1_000 }} {{ 'a' }}") == "16 8 2 8 1000 97");
  CHECK(render("{{ 1e3 }} {{ 1.0 }} {{ 0x1p4 }}") == "1000 1 16");
  CHECK(render("{{ 18446744073709551615 }}") ==
        "ERROR: template: :1:3: executing \"\" at <18446744073709551615>: 18446744073709551615 overflows int");
  CHECK(render("{{ 08 }}") == "ERROR: template: :1: integer overflow: \"08\"");
  CHECK(render("{{ 1+2i }}").starts_with("ERROR: template: :1:3: executing"));
}
