#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "rules/rule_file.h"

using namespace vigil;
using namespace vigil::rules;

namespace {

// The error lines as promtool would print them (without the file prefix).
std::vector<std::string> errors_of(std::string_view yaml, LoadOptions opts = {}) {
  return format_errors(parse_rule_file(yaml, opts).errors);
}

bool has_error(std::string_view yaml, std::string_view want, LoadOptions opts = {}) {
  for (const auto& e : errors_of(yaml, opts))
    if (e == want) return true;
  return false;
}

}  // namespace

TEST_CASE("rule file: every field is loaded, in file order") {
  auto r = parse_rule_file(R"(groups:
  - name: my-group
    interval: 30s
    query_offset: 1m
    limit: 10
    labels:
      team: infra
      zone: a
    rules:
      - alert: HighErrors
        expr: |
          sum(rate(errors_total[5m])) > 1
        for: 5m
        keep_firing_for: 10m
        labels:
          severity: critical
          b: x
        annotations:
          summary: "{{ $labels.job }} errors"
      - record: job:errors:rate5m
        expr: sum by (job) (rate(errors_total[5m]))
  - name: other
    rules: []
)");
  REQUIRE(r.ok());
  REQUIRE(r.file.groups.size() == 2);
  const RuleGroup& g = r.file.groups[0];
  CHECK(g.name == "my-group");
  CHECK(g.interval == 30 * kSecond);
  CHECK(g.query_offset == kMinute);
  CHECK(g.limit == 10);
  CHECK(g.labels == std::vector<Label>{{"team", "infra"}, {"zone", "a"}});
  CHECK(g.position.line == 2);
  CHECK(g.position.column == 5);
  REQUIRE(g.rules.size() == 2);

  const Rule& a = g.rules[0];
  CHECK(a.is_alert());
  CHECK(a.name == "HighErrors");
  CHECK(a.expr == "sum(rate(errors_total[5m])) > 1\n");
  CHECK(a.parsed != nullptr);
  CHECK(a.for_duration == 5 * kMinute);
  CHECK(a.keep_firing_for == 10 * kMinute);
  CHECK(a.labels == std::vector<Label>{{"severity", "critical"}, {"b", "x"}});
  CHECK(a.annotations == std::vector<Label>{{"summary", "{{ $labels.job }} errors"}});
  CHECK(a.position.line == 10);
  CHECK(a.expr_position.line == 11);

  const Rule& rec = g.rules[1];
  CHECK_FALSE(rec.is_alert());
  CHECK(rec.name == "job:errors:rate5m");
  CHECK(rec.expr_position.line == 21);
  CHECK(rec.expr_position.column == 15);

  const RuleGroup& o = r.file.groups[1];
  CHECK_FALSE(o.interval.has_value());
  CHECK_FALSE(o.query_offset.has_value());
  CHECK(o.limit == 0);
  CHECK(r.file.rule_count() == 2);
}

TEST_CASE("rule file: interval 0 means the global interval, query_offset 0 is explicit") {
  auto r = parse_rule_file("groups:\n- name: a\n  interval: 0s\n  query_offset: 0s\n  rules: []\n");
  REQUIRE(r.ok());
  CHECK_FALSE(r.file.groups[0].interval.has_value());
  CHECK(r.file.groups[0].query_offset == 0);
}

TEST_CASE("rule file: empty input and null sections are valid and hold nothing") {
  for (const char* text : {"", "# only a comment\n", "groups:\n", "groups: []\n", "---\n"}) {
    auto r = parse_rule_file(text);
    CHECK_MESSAGE(r.ok(), text);
    CHECK(r.file.rule_count() == 0);
  }
  auto r = parse_rule_file("groups:\n- name: a\n  rules:\n");
  REQUIRE(r.ok());
  CHECK(r.file.groups[0].rules.empty());
}

TEST_CASE("rule file: aliases and merge keys, as in upstream's test_aliases.yaml") {
  auto r = parse_rule_file(R"(groups:
  - name: g
    rules:
      - &high
        alert: &name HighAlert
        expr: &expr up == 0
        labels:
          severity: &sev critical
      - record: new_metric
        expr: *expr
      - alert: *name
        expr: *expr
        labels:
          severity: *sev
      - <<: *high
        alert: HighAlert2
)");
  REQUIRE(r.ok());
  const auto& rules = r.file.groups[0].rules;
  REQUIRE(rules.size() == 4);
  CHECK(rules[1].expr == "up == 0");
  CHECK(rules[2].name == "HighAlert");
  CHECK(rules[2].labels == std::vector<Label>{{"severity", "critical"}});
  CHECK(rules[3].name == "HighAlert2");  // the explicit key wins over the merged one
  CHECK(rules[3].expr == "up == 0");
  CHECK(rules[3].labels == std::vector<Label>{{"severity", "critical"}});
}

TEST_CASE("rule file: upstream rulefmt validations, worded as promtool words them") {
  CHECK(has_error("groups:\n  - name: yolo\n  - name: yolo\n",
                  "3:5: groupname: \"yolo\" is repeated in the same file"));
  CHECK(has_error("groups:\n  - rules: []\n", "2:5: Groupname must not be empty"));
  CHECK(has_error("groups:\n  - name: yolo\n    rules:\n      - record: Hi\n        alert: Hello\n"
                  "        expr: 1\n",
                  "4:17: 5:16: group \"yolo\", rule 1, \"Hello\": only one of 'record' and 'alert' "
                  "must be set"));
  CHECK(has_error("groups:\n  - name: yolo\n    rules:\n      - expr: 1\n",
                  "4:9: group \"yolo\", rule 1, \"\": one of 'record' or 'alert' must be set"));
  CHECK(has_error("groups:\n  - name: yolo\n    rules:\n      - record: ylo\n",
                  "4:9: group \"yolo\", rule 1, \"ylo\": field 'expr' must be set in rule"));
  CHECK(has_error("groups:\n  - name: yolo\n    rules:\n      - record: ylo\n        expr: ''\n",
                  "5:15: group \"yolo\", rule 1, \"ylo\": field 'expr' must be set in rule"));
  CHECK(has_error(
      "groups:\n  - name: yolo\n    rules:\n      - record: strawberry{flavor=\"sweet\"}\n"
      "        expr: 1\n",
      "4:17: group \"yolo\", rule 1, \"strawberry{flavor=\\\"sweet\\\"}\": braces present in the "
      "recording rule name; should it be in expr?: strawberry{flavor=\"sweet\"}"));
  CHECK(has_error("groups:\n  - name: yolo\n    rules:\n      - record: hola\n        expr: 1\n"
                  "        labels:\n          __name__: anything\n",
                  "7:11: group \"yolo\", rule 1, \"hola\": invalid label name: __name__"));
  CHECK(has_error("groups:\n  - name: yolo\n    rules:\n      - record: Hello\n        expr: 1\n"
                  "        for: 1m\n",
                  "4:17: group \"yolo\", rule 1, \"Hello\": invalid field 'for' in recording rule"));
  CHECK(has_error("groups:\n  - name: yolo\n    rules:\n      - record: Hello\n        expr: 1\n"
                  "        keep_firing_for: 1m\n",
                  "4:17: group \"yolo\", rule 1, \"Hello\": invalid field 'keep_firing_for' in "
                  "recording rule"));
  CHECK(has_error("groups:\n  - name: yolo\n    rules:\n      - record: Hello\n        expr: 1\n"
                  "        annotations:\n          a: b\n",
                  "4:17: group \"yolo\", rule 1, \"Hello\": invalid field 'annotations' in "
                  "recording rule"));
  CHECK(has_error("groups:\n  - name: yolo\n    labels:\n      __name__: x\n    rules: []\n",
                  "4:7: invalid label name: __name__"));
}

TEST_CASE("rule file: UTF-8 names are valid, as in Prometheus 3") {
  CHECK(parse_rule_file("groups:\n  - name: yolo\n    rules:\n      - record: hola\n        expr: 1\n"
                        "        labels:\n          ins-tance: localhost\n")
            .ok());
  CHECK(parse_rule_file("groups:\n  - name: yolo\n    rules:\n      - alert: hola\n        expr: 1\n"
                        "        annotations:\n          ins-tance: localhost\n")
            .ok());
  CHECK(parse_rule_file("groups:\n  - name: yolo\n    rules:\n      - record: \"http.requests\"\n"
                        "        expr: 1\n")
            .ok());
}

TEST_CASE("rule file: unknown fields are errors unless ignored") {
  const char* text = R"(groups:
  - name: a
    namespace: foo
    rules:
      - alert: A
        expr: up
        owner: me
)";
  auto errs = errors_of(text);
  REQUIRE(errs.size() == 1);
  CHECK(errs[0] ==
        "yaml: unmarshal errors:\n"
        "  line 3, column 5: field namespace not found in type rulefmt.RuleGroup\n"
        "  line 7, column 9: field owner not found in type rulefmt.Rule");
  LoadOptions lax;
  lax.ignore_unknown_fields = true;
  CHECK(parse_rule_file(text, lax).ok());
  CHECK(has_error("groups: []\nextra: 1\n",
                  "yaml: unmarshal errors:\n  line 2, column 1: field extra not found in type "
                  "rulefmt.RuleGroups"));
}

TEST_CASE("rule file: wrong shapes are reported with their position") {
  CHECK(errors_of("groups: foo\n") ==
        std::vector<std::string>{"yaml: unmarshal errors:\n  line 1, column 9: cannot unmarshal "
                                 "!!str `foo` into []rulefmt.RuleGroup"});
  CHECK(errors_of("- a\n") == std::vector<std::string>{"yaml: unmarshal errors:\n  line 1, "
                                                       "column 1: cannot unmarshal !!seq into "
                                                       "rulefmt.RuleGroups"});
  CHECK(errors_of("groups:\n- name: a\n  rules:\n    x: 1\n") ==
        std::vector<std::string>{"yaml: unmarshal errors:\n  line 4, column 5: cannot unmarshal "
                                 "!!map into []rulefmt.Rule"});
  CHECK(has_error("groups:\n- a long string\n",
                  "yaml: unmarshal errors:\n  line 2, column 3: cannot unmarshal !!str `a long ...` "
                  "into rulefmt.RuleGroup"));
  CHECK(has_error("groups:\n- name: a\n  limit: abc\n  rules: []\n",
                  "yaml: unmarshal errors:\n  line 3, column 10: cannot unmarshal !!str `abc` into "
                  "int"));
  CHECK(has_error("groups:\n- name: a\n  labels: [1]\n  rules: []\n",
                  "yaml: unmarshal errors:\n  line 3, column 11: cannot unmarshal !!seq into "
                  "map[string]string"));
  CHECK(has_error("groups:\n- name: [a]\n  rules: []\n",
                  "yaml: unmarshal errors:\n  line 2, column 9: cannot unmarshal !!seq into string"));
}

TEST_CASE("rule file: limit accepts Go yaml's integers") {
  CHECK(parse_rule_file("groups:\n- name: a\n  limit: 0x10\n").file.groups[0].limit == 16);
  CHECK(parse_rule_file("groups:\n- name: a\n  limit: 1_000\n").file.groups[0].limit == 1000);
  CHECK(parse_rule_file("groups:\n- name: a\n  limit: 010\n").file.groups[0].limit == 8);
  CHECK(parse_rule_file("groups:\n- name: a\n  limit: -0\n").file.groups[0].limit == 0);
  CHECK(parse_rule_file("groups:\n- name: a\n  limit: 5.0\n").file.groups[0].limit == 5);
  CHECK_FALSE(parse_rule_file("groups:\n- name: a\n  limit: 5.5\n").ok());
  CHECK_FALSE(parse_rule_file("groups:\n- name: a\n  limit: '5'\n").ok());
}

TEST_CASE("rule file: bad durations name the value and where it is") {
  CHECK(has_error("groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n    for: 5x\n",
                  "yaml: unmarshal errors:\n  line 6, column 10: not a valid duration string: "
                  "\"5x\""));
  CHECK(has_error("groups:\n- name: a\n  interval: ''\n",
                  "yaml: unmarshal errors:\n  line 3, column 13: empty duration string"));
}

TEST_CASE("rule file: repeated keys are errors, as in Go's yaml") {
  CHECK(has_error("groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n    expr: down\n",
                  "yaml: unmarshal errors:\n  line 6, column 5: mapping key \"expr\" already "
                  "defined at line 5"));
}

TEST_CASE("rule file: all errors of a file are collected, in file order") {
  auto errs = errors_of(R"(groups:
  - name: a
    interval: 1x
    rules:
      - record: r{x}
        expr: up
        for: 1m
      - alert: A
        expr: up
        annotations:
          summary: "{{ $label.x }}"
  - name: a
)");
  REQUIRE(errs.size() == 5);
  CHECK(errs[0] == "yaml: unmarshal errors:\n  line 3, column 15: not a valid duration string: \"1x\"");
  CHECK(errs[1] == "5:17: group \"a\", rule 1, \"r{x}\": invalid field 'for' in recording rule");
  CHECK(errs[2] == "5:17: group \"a\", rule 1, \"r{x}\": braces present in the recording rule "
                   "name; should it be in expr?: r{x}");
  CHECK(errs[3] == "11:20: group \"a\", rule 2, \"A\": annotation \"summary\": template: "
                   "__alert_A:1: undefined variable \"$label\"");
  CHECK(errs[4] == "12:5: groupname: \"a\" is repeated in the same file");
}

TEST_CASE("rule file: templates are checked in alerting rules only") {
  const char* alert = "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n    labels:\n"
                      "      severity: \"{{$this_is_wrong}}\"\n";
  CHECK(has_error(alert, "7:17: group \"a\", rule 1, \"A\": label \"severity\": template: "
                         "__alert_A:1: undefined variable \"$this_is_wrong\""));
  CHECK(parse_rule_file("groups:\n- name: a\n  rules:\n  - record: r\n    expr: up\n    labels:\n"
                        "      x: \"{{$this_is_wrong}}\"\n")
            .ok());
}

TEST_CASE("rule file: YAML syntax errors and garbage give one positioned error") {
  auto errs = errors_of("groups:\n  - name: a\n   rules: [\n");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].starts_with("yaml: line "));
  CHECK(errors_of(std::string("groups:\n  - name: \x01\n")) ==
        std::vector<std::string>{"yaml: line 2, column 11: control characters are not allowed"});
  CHECK(errors_of(std::string("groups: \xff\xfe\n")) ==
        std::vector<std::string>{"yaml: line 1, column 9: invalid UTF-8"});
  CHECK(errors_of(std::string("a\0b", 3)) ==
        std::vector<std::string>{"yaml: line 1, column 2: control characters are not allowed"});
}

TEST_CASE("rule file: a second YAML document is ignored but noticed") {
  auto r = parse_rule_file("groups: []\n---\ngroups:\n- name: x\n");
  CHECK(r.ok());
  CHECK(r.multiple_documents);
  CHECK(r.file.groups.empty());
}

TEST_CASE("rule file: deeply nested YAML is an error, not a crash") {
  std::string deep = "groups: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  auto errs = errors_of(deep);
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].find("exceeded max depth") != std::string::npos);
  std::string open = "groups: " + std::string(100000, '[') + "\n";
  CHECK(errors_of(open).size() == 1);
  std::string maps;
  for (int i = 0; i < 100000; ++i) maps += "{a: ";
  CHECK(errors_of("groups: " + maps + "\n").size() == 1);
}

TEST_CASE("rule file: self-referencing merge keys do not loop") {
  auto r = parse_rule_file("groups:\n- &g\n  name: a\n  <<: *g\n");
  // yaml-cpp may or may not resolve the alias to the open node; either way we end.
  CHECK(r.file.groups.size() <= 1);
}

TEST_CASE("rule file: unreadable paths give one Read error naming the path") {
  auto missing = load_rule_file("/nonexistent/rules.yml");
  REQUIRE(missing.errors.size() == 1);
  CHECK(missing.errors[0].kind == LoadError::Kind::Read);
  CHECK(missing.errors[0].text == "open /nonexistent/rules.yml: no such file or directory");
  auto dir = load_rule_file("/");
  REQUIRE(dir.errors.size() == 1);
  CHECK(dir.errors[0].text == "read /: is a directory");
}

TEST_CASE("rule file: columns count characters, not bytes, as Go's yaml does") {
  CHECK(has_error("groups:\n- name: a\n  rules:\n  - record: r\n    expr: up\n"
                  "    labels: {\"é\": x, \"__name__\": y}\n",
                  "6:22: group \"a\", rule 1, \"r\": invalid label name: __name__"));
}

TEST_CASE("rule file: alias bombs stop with an error instead of exhausting memory") {
  // Modest reuse of anchors is fine.
  std::string rules = "groups:\n- name: g\n  labels: &l {a: b}\n  rules:\n";
  std::string items;
  for (int i = 0; i < 2000; ++i) items += "  - &r" + std::to_string(i) + " {record: r, expr: up, labels: *l}\n";
  auto ok = parse_rule_file(rules + items);
  CHECK(ok.ok());
  // 5 000 rules each aliasing a 5 000-label map: 25 million labels from 150 kB.
  std::string big_labels = "groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n    labels: &big {";
  for (int i = 0; i < 5000; ++i) big_labels += "k" + std::to_string(i) + ": v, ";
  big_labels += "z: v}\n";
  for (int i = 0; i < 5000; ++i) big_labels += "  - {record: r" + std::to_string(i) + ", expr: up, labels: *big}\n";
  auto bomb = parse_rule_file(big_labels);
  bool found = false;
  for (const auto& e : format_errors(bomb.errors))
    if (e.find("document contains excessive aliasing") != std::string::npos) found = true;
  CHECK(found);
}

TEST_CASE("rule file: mutated input never crashes (a small deterministic fuzz)") {
  const std::string seed = R"(groups:
  - name: &n alerts
    interval: 30s
    labels: {team: a}
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 5m
        labels:
          severity: page
        annotations:
          summary: "Instance {{ $labels.instance }} down"
      - record: job:x:sum
        expr: |
          sum by (job) (x)
      - <<: {alert: B, expr: vector(1)}
        keep_firing_for: 1m
)";
  const std::string alphabet = "{}[]:-,&*!|>'\"#\n \t\\x0aA{{$}}<<";
  uint64_t state = 42;
  auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<size_t>(state >> 33);
  };
  for (int i = 0; i < 20000; ++i) {
    std::string text = seed;
    for (int m = 0, n = 1 + static_cast<int>(next() % 4); m < n; ++m) {
      size_t at = next() % (text.size() + 1);
      switch (next() % 3) {
        case 0: text.insert(at, 1, alphabet[next() % alphabet.size()]); break;
        case 1: if (at < text.size()) text.erase(at, 1 + next() % 8); break;
        default: if (at < text.size()) text[at] = static_cast<char>(next() % 128); break;
      }
    }
    auto r = parse_rule_file(text);
    (void)format_errors(r.errors);
  }
  CHECK(true);
}
