// Relabeling: decoding rules from YAML (with positions), upstream's validation
// errors, and what each action does to a label set, including the corners of
// Go's template expansion.
#include <doctest/doctest.h>

#include <re2/re2.h>

#include <string>
#include <vector>

#include "config/relabel.h"

using namespace vigil;
using namespace vigil::config;

namespace {

Result<std::vector<RelabelConfig>> rules(const std::string& yaml, NameValidation names = NameValidation::kUtf8) {
  auto doc = parse_yaml(yaml);
  REQUIRE(doc);
  REQUIRE(doc->root() != nullptr);
  return parse_relabel_configs(*doc, *doc->root(), names);
}

// Applies the rules written in `yaml` to `in`; "DROPPED" when dropped.
std::string apply(const std::string& yaml, const Labels& in) {
  auto rs = rules(yaml);
  if (!rs) FAIL_CHECK("unexpected error: ", rs.error().message);
  if (!rs) return "ERROR";
  auto out = relabel(in, *rs);
  return out ? out->to_string() : "DROPPED";
}

std::string error_of(const std::string& yaml, NameValidation names = NameValidation::kUtf8) {
  auto rs = rules(yaml, names);
  return rs ? "" : rs.error().message;
}

}  // namespace

TEST_CASE("relabel scrape: replace with defaults copies the joined value") {
  Labels in{{"a", "foo"}, {"b", "bar"}, {"c", "baz"}};
  CHECK(apply("- source_labels: [a]\n  regex: f(.*)\n  target_label: d\n  replacement: ch${1}-ch${1}\n", in) ==
        R"({a="foo", b="bar", c="baz", d="choo-choo"})");
  // Default regex (.*) and replacement $1; the separator joins the values.
  CHECK(apply("- source_labels: [a, b]\n  target_label: d\n", in) == R"({a="foo", b="bar", c="baz", d="foo;bar"})");
  CHECK(apply("- source_labels: [a, b]\n  separator: '-'\n  target_label: d\n", in) ==
        R"({a="foo", b="bar", c="baz", d="foo-bar"})");
  // Several groups, repeated.
  CHECK(apply("- source_labels: [a, b]\n  regex: f(.*);(.*)r\n  target_label: a\n  replacement: b${1}${2}m\n", in) ==
        R"({a="boobam", b="bar", c="baz"})");
  CHECK(apply("- source_labels: [c, a]\n  regex: (b)a(z);f(o)o\n  target_label: d\n  replacement: $3$2$2$1\n",
              in) == R"({a="foo", b="bar", c="baz", d="ozzb"})");
}

TEST_CASE("relabel scrape: the regex is anchored at both ends and dot matches newlines") {
  Labels in{{"a", "foo"}};
  // "o" alone would match inside "foo" unanchored; anchored, nothing happens.
  CHECK(apply("- source_labels: [a]\n  regex: o\n  target_label: x\n  replacement: hit\n", in) == R"({a="foo"})");
  CHECK(apply("- source_labels: [a]\n  regex: f|o\n  target_label: x\n  replacement: hit\n", in) == R"({a="foo"})");
  CHECK(apply("- source_labels: [a]\n  regex: .*o.*\n  target_label: x\n  replacement: hit\n", in) ==
        R"({a="foo", x="hit"})");
  Labels multi{{"text", "line1\nline2"}};
  CHECK(apply("- source_labels: [text]\n  regex: line1.*line2\n  target_label: m\n  replacement: yes\n", multi) ==
        "{m=\"yes\", text=\"line1\\nline2\"}");
}

TEST_CASE("relabel scrape: no match leaves the set alone, and an empty result deletes the target") {
  Labels in{{"a", "foo"}, {"b", "bar"}};
  CHECK(apply("- source_labels: [a]\n  regex: no-match\n  target_label: b\n  replacement: x\n", in) ==
        R"({a="foo", b="bar"})");
  CHECK(apply("- source_labels: [missing]\n  regex: (.*)\n  target_label: b\n", in) == R"({a="foo"})");
  // A missing source label reads as "": it matches (.*) and writes a constant.
  CHECK(apply("- source_labels: [missing]\n  target_label: c\n  replacement: const\n", in) ==
        R"({a="foo", b="bar", c="const"})");
  // No source labels at all: likewise.
  CHECK(apply("- target_label: env\n  replacement: prod\n", in) == R"({a="foo", b="bar", env="prod"})");
}

TEST_CASE("relabel scrape: template expansion follows Go's Expand") {
  Labels in{{"a", "some-name-value"}};
  // ${2} is group 2; $2x would be the group named "2x", which is absent: empty.
  CHECK(apply("- source_labels: [a]\n  regex: some-([^-]+)-([^,]+)\n  target_label: n\n  replacement: ${2}x\n", in) ==
        R"({a="some-name-value", n="valuex"})");
  CHECK(apply("- source_labels: [a]\n  regex: some-([^-]+)-([^,]+)\n  target_label: n\n  replacement: $2x\n", in) ==
        R"({a="some-name-value"})");
  // $$ is a dollar; a lone or malformed $ stays as written.
  CHECK(apply("- source_labels: [a]\n  regex: some-(.*)\n  target_label: n\n  replacement: $$1\n", in) ==
        R"({a="some-name-value", n="$1"})");
  CHECK(apply("- source_labels: [a]\n  regex: some-(.*)\n  target_label: n\n  replacement: 'x$ ${1'\n", in) ==
        R"({a="some-name-value", n="x$ ${1"})");
  // Out-of-range groups are empty; a group index with a leading zero is a name.
  CHECK(apply("- source_labels: [a]\n  regex: some-(.*)\n  target_label: n\n  replacement: 'v$3.$01.$1'\n", in) ==
        R"({a="some-name-value", n="v..name-value"})");
  // Named groups, with or without braces.
  Labels two{{"text", "line1 line2"}};
  CHECK(apply("- source_labels: [text]\n  regex: (line1).*(?P<second>line2)\n  target_label: l_${1}\n"
              "  replacement: val_$second\n",
              two) == R"({l_line1="val_line2", text="line1 line2"})");
  // The target itself is expanded; an expansion to an empty name is skipped.
  CHECK(apply("- source_labels: [a]\n  regex: some-([^-]+)-([^,]+)\n  target_label: ${1}\n  replacement: ${2}\n",
              in) == R"({a="some-name-value", name="value"})");
  CHECK(apply("- source_labels: [a]\n  regex: some-([^-]+)-([^,]+)\n  target_label: ${3}\n  replacement: ${2}\n",
              in) == R"({a="some-name-value"})");
}

TEST_CASE("relabel scrape: expand_template directly") {
  RE2 re("(?P<first>a+)(b*)");
  std::vector<re2::StringPiece> pieces(3);
  std::string_view text = "aab";
  REQUIRE(re.Match(text, 0, text.size(), RE2::ANCHOR_BOTH, pieces.data(), 3));
  std::vector<std::string_view> groups;
  for (const auto& p : pieces) groups.emplace_back(p.data(), p.size());
  CHECK(expand_template(re, "$first-$2-${first}x-$first_", groups) == "aa-b-aax-");
  CHECK(expand_template(re, "no refs", groups) == "no refs");
  CHECK(expand_template(re, "trailing $", groups) == "trailing $");
}

TEST_CASE("relabel scrape: keep, drop, keepequal, dropequal") {
  Labels in{{"a", "foo"}, {"b", "foo"}, {"c", "bar"}};
  CHECK(apply("- source_labels: [a]\n  regex: f.*\n  action: keep\n", in) != "DROPPED");
  CHECK(apply("- source_labels: [a]\n  regex: b.*\n  action: keep\n", in) == "DROPPED");
  CHECK(apply("- source_labels: [a]\n  regex: f.*\n  action: drop\n", in) == "DROPPED");
  CHECK(apply("- source_labels: [a]\n  regex: o\n  action: drop\n", in) != "DROPPED");
  // Action names are case-insensitive, as upstream.
  CHECK(apply("- source_labels: [a]\n  regex: f.*\n  action: DROP\n", in) == "DROPPED");
  CHECK(apply("- source_labels: [a]\n  target_label: b\n  action: keepequal\n", in) != "DROPPED");
  CHECK(apply("- source_labels: [a]\n  target_label: c\n  action: keepequal\n", in) == "DROPPED");
  CHECK(apply("- source_labels: [a]\n  target_label: b\n  action: dropequal\n", in) == "DROPPED");
  CHECK(apply("- source_labels: [a]\n  target_label: c\n  action: dropequal\n", in) != "DROPPED");
  // A later rule never runs once the set is dropped.
  CHECK(apply("- source_labels: [a]\n  regex: f.*\n  action: drop\n- target_label: z\n  replacement: z\n", in) ==
        "DROPPED");
}

TEST_CASE("relabel scrape: hashmod matches upstream's md5 arithmetic") {
  Labels in{{"a", "foo"}, {"b", "bar"}, {"c", "baz"}};
  // The last eight bytes of md5("baz") as a big-endian integer, mod 1000
  // (checked against Python's hashlib).
  CHECK(apply("- source_labels: [c]\n  target_label: d\n  action: hashmod\n  modulus: 1000\n", in) ==
        R"({a="foo", b="bar", c="baz", d="976"})");
  CHECK(apply("- source_labels: [a]\n  target_label: d\n  action: hashmod\n  modulus: 1000\n", in) ==
        R"({a="foo", b="bar", c="baz", d="696"})");
}

TEST_CASE("relabel scrape: labelmap, labeldrop, labelkeep") {
  Labels in{{"__meta_my_bar", "aaa"}, {"__meta_my_baz", "bbb"}, {"__meta_other", "ccc"}, {"a", "foo"}};
  CHECK(apply("- regex: __meta_(my.*)\n  action: labelmap\n", in) ==
        R"({__meta_my_bar="aaa", __meta_my_baz="bbb", __meta_other="ccc", a="foo", my_bar="aaa", my_baz="bbb"})");
  CHECK(apply("- regex: __meta_my_(.*)\n  action: labelmap\n  replacement: x_${1}\n", in) ==
        R"({__meta_my_bar="aaa", __meta_my_baz="bbb", __meta_other="ccc", a="foo", x_bar="aaa", x_baz="bbb"})");
  // Copies made by the rule are not mapped again.
  Labels chain{{"aa", "1"}};
  CHECK(apply("- regex: (a+)\n  action: labelmap\n  replacement: ${1}a\n", chain) == R"({aa="1", aaa="1"})");
  CHECK(apply("- regex: __meta_.*\n  action: labeldrop\n", in) == R"({a="foo"})");
  CHECK(apply("- regex: __meta_my.*\n  action: labelkeep\n", in) == R"({__meta_my_bar="aaa", __meta_my_baz="bbb"})");
  // Anchored: "meta" alone matches no name.
  CHECK(apply("- regex: meta\n  action: labeldrop\n", in) == in.to_string());
}

TEST_CASE("relabel scrape: lowercase and uppercase") {
  Labels in{{"foo", "BaR123Foo"}};
  CHECK(apply("- source_labels: [foo]\n  target_label: l\n  action: lowercase\n- source_labels: [foo]\n"
              "  target_label: u\n  action: uppercase\n",
              in) == R"({foo="BaR123Foo", l="bar123foo", u="BAR123FOO"})");
}

TEST_CASE("relabel scrape: rules apply in order and see each other's results") {
  Labels in{{"__address__", "host:9100"}};
  CHECK(apply("- source_labels: [__address__]\n  regex: (.*):.*\n  target_label: host\n"
              "- source_labels: [host]\n  target_label: instance\n  replacement: node-$1\n",
              in) == R"({__address__="host:9100", host="host", instance="node-host"})");
}

TEST_CASE("relabel scrape: validation errors as upstream words them, with positions") {
  CHECK(error_of("- action: hashmod\n  target_label: x\n") ==
        "relabel configuration for hashmod requires non-zero modulus");
  CHECK(error_of("- action: replace\n  source_labels: [a]\n") ==
        "relabel configuration for replace action requires 'target_label' value");
  CHECK(error_of("- action: lowercase\n  source_labels: [a]\n") ==
        "relabel configuration for lowercase action requires 'target_label' value");
  CHECK(error_of("- action: keepequal\n  source_labels: [a]\n  target_label: b\n  regex: x\n") ==
        "keepequal action requires only 'source_labels' and `target_label`, and no other fields");
  // Written out, even the default regex counts as set (upstream compares identity).
  CHECK(error_of("- action: dropequal\n  source_labels: [a]\n  target_label: b\n  regex: (.*)\n") ==
        "dropequal action requires only 'source_labels' and `target_label`, and no other fields");
  CHECK(error_of("- action: uppercase\n  source_labels: [a]\n  target_label: b\n  replacement: x\n") ==
        "'replacement' can not be set for uppercase action");
  CHECK(error_of("- action: labeldrop\n  regex: x\n  source_labels: [a]\n") ==
        "labeldrop action requires only 'regex', and no other fields");
  CHECK(error_of("- action: labelkeep\n  regex: x\n  separator: ','\n") ==
        "labelkeep action requires only 'regex', and no other fields");
  CHECK(error_of("- action: explode\n") == "unknown relabel action \"explode\"");
  CHECK(error_of("- action: ''\n") == "relabel action cannot be empty");
  // A bad expression is reported before the rule's other problems.
  CHECK(error_of("- regex: '('\n").starts_with("error parsing regexp:"));
  CHECK(error_of("- target_label: a\n  bogus: 1\n") == "field bogus not found in type relabel.plain");
  CHECK(error_of("- target_label: a\n  modulus: many\n") == "modulus: cannot unmarshal !!str `many` into uint64");
  CHECK(error_of("- source_labels: a\n  target_label: b\n").starts_with("source_labels: cannot unmarshal"));
  CHECK(error_of("- null\n- target_label: a\n").empty() == false);
  // Legacy names: the target must be a classic name, templates allowed.
  CHECK(error_of("- source_labels: [a]\n  target_label: utf-8.label\n", NameValidation::kLegacy) ==
        "\"utf-8.label\" is invalid 'target_label' for replace action");
  CHECK(error_of("- source_labels: [a]\n  target_label: l_${1}\n", NameValidation::kLegacy).empty());
  CHECK(error_of("- source_labels: [a]\n  target_label: utf-8.label\n").empty());
  CHECK(error_of("- action: labelmap\n  regex: (.*)\n  replacement: 'a-$1'\n", NameValidation::kLegacy) ==
        "\"a-$1\" is invalid 'replacement' for labelmap action");

  auto rs = rules("- target_label: a\n- target_label: b\n  action: hashmod\n");
  REQUIRE_FALSE(rs);
  CHECK(rs.error().line == 2);
  CHECK(rs.error().column == 3);
  auto bad_re = rules("- target_label: a\n  regex: 'x(y'\n");
  REQUIRE_FALSE(bad_re);
  CHECK(bad_re.error().line == 2);
  CHECK(bad_re.error().column == 10);
  auto unknown = rules("- target_label: a\n  nope: 1\n");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().line == 2);
}

TEST_CASE("relabel scrape: UTF-8 label names, and upstream's Kubernetes-style rules") {
  Labels in{{"__meta_kubernetes_pod_annotation_prometheus_io_port", "8080"}, {"__address__", "10.0.0.1:9090"},
            {"__meta_kubernetes_pod_annotation_prometheus_io_scrape", "true"}};
  // The address rewrite of the bundled examples.
  CHECK(apply("- source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]\n  action: keep\n"
              "  regex: true\n"
              "- source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]\n"
              "  regex: ([^:]+)(?::\\d+)?;(\\d+)\n  replacement: $1:$2\n  target_label: __address__\n",
              in)
            .find(R"(__address__="10.0.0.1:8080")") != std::string::npos);
  // UTF-8 names are fine targets, templated or not.
  Labels u{{"a", "some-value"}};
  CHECK(apply("- source_labels: [a]\n  regex: some-(.*)\n  target_label: utf-8.label${1}\n  replacement: x\n", u) ==
        R"({a="some-value", "utf-8.labelvalue"="x"})");
  CHECK(apply("- source_labels: [a]\n  target_label: 'ü'\n", u) == R"({a="some-value", "ü"="some-value"})");
}

TEST_CASE("relabel scrape: a null regex is the empty expression") {
  Labels in{{"a", "x"}};
  CHECK(apply("- source_labels: [a]\n  regex:\n  target_label: m\n  replacement: hit\n", in) == R"({a="x"})");
  CHECK(apply("- source_labels: [missing]\n  regex:\n  target_label: m\n  replacement: hit\n", in) ==
        R"({a="x", m="hit"})");
}

TEST_CASE("relabel scrape: rules built in code must be compiled") {
  RelabelConfig c;
  c.target_label = "env";
  c.replacement = "prod";
  REQUIRE(c.compile());
  std::vector<RelabelConfig> rs{c};
  auto out = relabel(Labels{{"a", "1"}}, rs);
  REQUIRE(out);
  CHECK(out->get("env") == "prod");
  CHECK(relabel_action_name(RelabelAction::kKeepEqual) == "keepequal");
}
