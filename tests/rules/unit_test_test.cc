#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "rules/unit_test.h"
#include "tests/temp_dir.h"

using vigil::rules::Coverage;
using vigil::rules::run_unit_test_file;
using vigil::rules::TestFileResult;
using vigil::rules::UnitTestOptions;
using vigil::testing::TempDir;

namespace {

std::string failures(const TestFileResult& r) {
  std::string out = r.abort_error;
  for (const auto& g : r.groups)
    for (const auto& f : g.failures) out += f + "\n";
  return out;
}

constexpr const char* kRules = R"(groups:
  - name: g
    rules:
      - alert: HighErrorRate
        expr: errors_ratio > 0.1
        for: 2m
        labels:
          severity: '{{ if gt $value 0.5 }}page{{ else }}ticket{{ end }}'
        annotations:
          summary: '{{ $value | humanizePercentage }} errors on {{ $labels.instance }}'
          where: '{{ $externalLabels.cluster }} {{ $externalURL }}'
          up: '{{ with query "up" }}{{ . | first | value }}{{ end }}'
          broken: '{{ index $labels 3 }}'
      - alert: NeverFires
        expr: errors_ratio > 2
      - alert: OnlyPending
        expr: errors_ratio > 0.1
        for: 1h
      - record: job:errors:max
        expr: max(errors_ratio)
      - record: job:nothing:sum
        expr: sum(does_not_exist)
)";

}  // namespace

TEST_CASE("unit tests: alert labels and annotations are expanded as Prometheus expands them") {
  TempDir tmp;
  tmp.write("rules.yml", kRules);
  auto test = tmp.write("test.yml", R"(rule_files: [rules.yml]
tests:
  - interval: 1m
    external_labels: {cluster: eu1}
    external_url: http://prom.example:9090
    input_series:
      - series: 'errors_ratio{instance="web-1"}'
        values: '0.2x3 0.75x3'
      - series: 'up'
        values: '1x10'
    alert_rule_test:
      - alertname: HighErrorRate
        eval_time: 1m
      - alertname: HighErrorRate
        eval_time: 2m
        exp_alerts:
          - exp_labels: {instance: web-1, severity: ticket}
            exp_annotations:
              summary: 20% errors on web-1
              where: eu1 http://prom.example:9090
              up: '1'
              broken: '<error expanding template: error executing template __alert_HighErrorRate: template: __alert_HighErrorRate:1:115: executing "__alert_HighErrorRate" at <index $labels 3>: error calling index: value has type int; should be string>'
      # The severity label changed with the value: a new alert, pending
      # since 4m, firing from 6m; the "ticket" one is resolved.
      - alertname: HighErrorRate
        eval_time: 5m
      - alertname: HighErrorRate
        eval_time: 6m
        exp_alerts:
          - exp_labels: {instance: web-1, severity: page}
            exp_annotations:
              summary: 75% errors on web-1
              where: eu1 http://prom.example:9090
              up: '1'
              broken: '<error expanding template: error executing template __alert_HighErrorRate: template: __alert_HighErrorRate:1:115: executing "__alert_HighErrorRate" at <index $labels 3>: error calling index: value has type int; should be string>'
)");
  auto r = run_unit_test_file(test, {});
  CHECK_MESSAGE(r.ok(), failures(r));
}

TEST_CASE("unit tests: a failed expectation shows the expanded alert that was got") {
  TempDir tmp;
  tmp.write("rules.yml", kRules);
  auto test = tmp.write("test.yml", R"(rule_files: [rules.yml]
tests:
  - name: wrong summary
    input_series:
      - series: 'errors_ratio{instance="web-1"}'
        values: '0.2x3'
    alert_rule_test:
      - alertname: HighErrorRate
        eval_time: 2m
        exp_alerts:
          - exp_labels: {instance: web-1, severity: ticket}
            exp_annotations: {summary: 30% errors on web-1}
)");
  auto r = run_unit_test_file(test, {});
  REQUIRE(r.groups.size() == 1);
  REQUIRE(r.groups[0].failures.size() == 1);
  const std::string& f = r.groups[0].failures[0];
  CHECK(f.starts_with("    name: wrong summary,\n    alertname: HighErrorRate, time: 2m, \n"));
  CHECK(f.find("summary=\"20% errors on web-1\"") != std::string::npos);
  CHECK(f.find("Annotations:{summary=\"30% errors on web-1\"}") != std::string::npos);
}

TEST_CASE("unit tests: start_timestamp shifts the input series and the evaluations") {
  TempDir tmp;
  tmp.write("rules.yml", kRules);
  auto test = tmp.write("test.yml", R"(rule_files: [rules.yml]
tests:
  - start_timestamp: '2024-01-01T00:00:00Z'
    input_series:
      - series: 'errors_ratio{instance="a"}'
        values: '0.2x5'
    promql_expr_test:
      - expr: timestamp(errors_ratio)
        eval_time: 3m
        exp_samples:
          - labels: '{instance="a"}'
            value: 1704067380
      - expr: job:errors:max
        eval_time: 3m
        exp_samples:
          - labels: 'job:errors:max'
            value: 0.2
    alert_rule_test:
      - alertname: HighErrorRate
        eval_time: 2m
        exp_alerts:
          - exp_labels: {instance: a, severity: ticket}
            exp_annotations: {summary: 20% errors on a, where: ' ', up: '', broken: '<error expanding template: error executing template __alert_HighErrorRate: template: __alert_HighErrorRate:1:115: executing "__alert_HighErrorRate" at <index $labels 3>: error calling index: value has type int; should be string>'}
  - start_timestamp: 1704067200.5
    promql_expr_test:
      - expr: time()
        eval_time: 1m
        exp_samples:
          - value: 1704067260.5
)");
  auto r = run_unit_test_file(test, {});
  CHECK_MESSAGE(r.ok(), failures(r));

  auto bad = tmp.write("bad.yml", "rule_files: [rules.yml]\ntests:\n  - start_timestamp: yesterday\n");
  auto rb = run_unit_test_file(bad, {});
  CHECK(rb.abort_error == bad + ":3:22: cannot parse \"yesterday\" to a valid timestamp");
}

TEST_CASE("unit tests: bad input is reported with file, line and what was expected") {
  TempDir tmp;
  tmp.write("rules.yml", kRules);
  auto order = tmp.write("order.yml", "rule_files: [rules.yml]\ngroup_eval_order: [g, g]\ntests: []\n");
  CHECK(run_unit_test_file(order, {}).abort_error ==
        order + ":2:23: group name repeated in evaluation order: g");

  auto typo = tmp.write("typo.yml", R"(rule_files: [rules.yml]
tests:
  - input_series:
      - series: 'errors_ratio'
        values: '1+1x3 oops'
)");
  auto rt = run_unit_test_file(typo, {});
  REQUIRE(rt.groups.size() == 1);
  REQUIRE(rt.groups[0].failures.size() == 1);
  CHECK(rt.groups[0].failures[0].starts_with("    series \"errors_ratio\": "));

  auto missing = tmp.write("missing.yml", "rule_files: [nope/*.yml]\ntests:\n  - promql_expr_test: []\n");
  auto rm = run_unit_test_file(missing, {});
  REQUIRE(rm.warnings.size() == 1);
  CHECK(rm.warnings[0] == "  WARNING: no file match pattern " + (tmp.path() / "nope/*.yml").string());
  CHECK(rm.ok());

  CHECK(run_unit_test_file((tmp.path() / "absent.yml").string(), {}).abort_error.find("no such file") !=
        std::string::npos);

  auto fuzzy = tmp.write("fuzzy.yml", "fuzzy_compare: maybe\ntests: []\n");
  CHECK(run_unit_test_file(fuzzy, {}).abort_error == fuzzy + ":1:16: cannot unmarshal !!str `maybe` into bool");
}

TEST_CASE("unit tests: a rule that fails to evaluate stops the group, with the absolute time") {
  TempDir tmp;
  tmp.write("dup.yml", R"(groups:
  - name: d
    rules:
      - record: same
        expr: '{__name__=~"m1|m2"}'
)");
  auto test = tmp.write("test.yml", R"(rule_files: [dup.yml]
tests:
  - input_series:
      - {series: m1, values: '_ 1'}
      - {series: m2, values: '_ 1'}
    promql_expr_test:
      - {expr: m1, eval_time: 5m, exp_samples: [{labels: m1, value: 1}]}
)");
  auto r = run_unit_test_file(test, {});
  REQUIRE(r.groups.size() == 1);
  REQUIRE(r.groups[0].failures.size() == 1);
  CHECK(r.groups[0].failures[0] ==
        "    rule: same, time: 1m0s, err: vector contains metrics with the same labelset after applying rule labels");
}

TEST_CASE("unit tests: a long series loads and evaluates") {
  TempDir tmp;
  tmp.write("rules.yml", "groups:\n  - name: g\n    rules:\n      - record: doubled\n        expr: c * 2\n");
  auto test = tmp.write("test.yml", R"(rule_files: [rules.yml]
evaluation_interval: 1d
tests:
  - interval: 1s
    input_series:
      - {series: c, values: '0+1x200000'}
    promql_expr_test:
      - {expr: doubled, eval_time: 2d, exp_samples: [{labels: doubled, value: 345600}]}
)");
  auto r = run_unit_test_file(test, {});
  CHECK_MESSAGE(r.ok(), failures(r));
}

TEST_CASE("unit tests: coverage lists rules no test fired or fed, once per rule file") {
  TempDir tmp;
  tmp.write("rules.yml", kRules);
  const char* body = R"(rule_files: [rules.yml]
tests:
  - input_series:
      - {series: 'errors_ratio{instance="a"}', values: '0.2x5'}
    alert_rule_test:
      - {alertname: HighErrorRate, eval_time: 3m, exp_alerts: [{exp_labels: {instance: a, severity: ticket}}]}
)";
  auto t1 = tmp.write("t1.yml", body);
  auto t2 = tmp.write("t2.yml", body);
  Coverage cov;
  run_unit_test_file(t1, {}, &cov);
  run_unit_test_file(t2, {}, &cov);
  CHECK(cov.rules().size() == 5);
  std::ostringstream out;
  cov.print(out);
  std::string rules_path = std::filesystem::weakly_canonical(tmp.path() / "rules.yml").string();
  CHECK(out.str() ==
        "Coverage:\n"
        "  alerting rules: 1 of 3 fired in a test (1 named by an alert_rule_test)\n"
        "    never fired: NeverFires (" + rules_path + ":14, group g)\n"
        "    never fired: OnlyPending (" + rules_path + ":16, group g), went pending only\n"
        "  recording rules: 1 of 2 produced a sample in a test\n"
        "    never produced a sample: job:nothing:sum (" + rules_path + ":21, group g)\n");
}

TEST_CASE("unit tests: JUnit XML has promtool's shape, escaped") {
  TestFileResult ok;
  ok.path = "a.yml";
  ok.groups.push_back({"passes", {}});
  ok.groups.push_back({"fails <x>", {"    expr: \"up\", time: 0s,\n  got: nil", "second"}});
  TestFileResult aborted;
  aborted.path = "b.yml";
  aborted.abort_error = "b.yml:1:1: bad & worse";
  CHECK(vigil::rules::junit_xml({ok, aborted}, "2026-01-02T03:04:05") ==
        "<testsuites>"
        "<testsuite name=\"a.yml\" tests=\"2\" failures=\"2\" errors=\"0\" skipped=\"0\" timestamp=\"2026-01-02T03:04:05\">"
        "<testcase name=\"passes\"></testcase>"
        "<testcase name=\"fails &lt;x&gt;\"><failure>    expr: &#34;up&#34;, time: 0s,&#xA;  got: nil</failure>"
        "<failure>second</failure></testcase></testsuite>"
        "<testsuite name=\"b.yml\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" timestamp=\"\">"
        "<testcase name=\"unknown\"><error>b.yml:1:1: bad &amp; worse</error></testcase></testsuite>"
        "</testsuites>");
}
