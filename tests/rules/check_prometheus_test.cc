#include <doctest/doctest.h>

#include <sstream>

#include "rules/check_prometheus.h"
#include "rules/json_diff.h"
#include "tests/temp_dir.h"

namespace vigil::rules {

TEST_CASE("check config: prometheus.yml and alertmanager.yml told apart by their top-level keys") {
  CHECK(config_kind("scrape_configs: []\n") == ConfigKind::kPrometheus);
  CHECK(config_kind("rule_files: [a.yml]\nglobal: {resolve_timeout: 5m}\n") == ConfigKind::kPrometheus);
  CHECK(config_kind("alerting: {alertmanagers: []}\n") == ConfigKind::kPrometheus);
  CHECK(config_kind("route: {receiver: a}\nreceivers: [{name: a}]\n") == ConfigKind::kAlertmanager);
  CHECK(config_kind("global:\n  resolve_timeout: 5m\n") == ConfigKind::kAlertmanager);
  CHECK(config_kind("global:\n  scrape_interval: 15s\n") == ConfigKind::kPrometheus);
  // Both know tracing: it decides nothing.
  CHECK(config_kind("tracing: {endpoint: x}\n") == ConfigKind::kUnknown);
  CHECK(config_kind("") == ConfigKind::kUnknown);
  CHECK(config_kind("not-prometheus:\n") == ConfigKind::kUnknown);
  CHECK(config_kind("[unclosed") == ConfigKind::kUnknown);
}

TEST_CASE("check prometheus: promtool's output, rule files found and checked") {
  testing::TempDir dir;
  dir.write("rules.yml", "groups:\n  - name: g\n    rules:\n      - record: a\n        expr: vector(1)\n");
  const std::string cfg = dir.write("prometheus.yml", "rule_files: [rules.yml, 'none/*.yml']\n");
  std::ostringstream out, err;
  CHECK(check_prometheus_configs({cfg}, {}, out, err) == kExitSuccess);
  CHECK(out.str() == "Checking " + cfg + "\n  SUCCESS: 1 rule files found\n SUCCESS: " + cfg +
                         " is valid prometheus config file syntax\n\nChecking " + (dir.path() / "rules.yml").string() +
                         "\n  SUCCESS: 1 rules found\n\n");
  CHECK(err.str().empty());

  const std::string missing = dir.write("missing.yml", "rule_files: [nope.yml]\n");
  std::ostringstream out2, err2;
  CHECK(check_prometheus_configs({missing}, {}, out2, err2) == kExitFailure);
  CHECK(err2.str() == "  FAILED: \"" + (dir.path() / "nope.yml").string() + "\" does not point to an existing file\n");
  CheckPrometheusOptions syntax_only;
  syntax_only.syntax_only = true;
  std::ostringstream out3, err3;
  CHECK(check_prometheus_configs({missing}, syntax_only, out3, err3) == kExitSuccess);
}

TEST_CASE("test rules --diff: the difference of expected and received alerts, coloured as promtool's") {
  using O = DiffValue::Object;
  DiffValue exp{DiffValue::Array{DiffValue{O{{"Labels", DiffValue{O{{"a", DiffValue{std::string("1")}}}}}}}}};
  DiffValue same = exp;
  CHECK(json_diff(exp, same).equal);
  DiffValue got{DiffValue::Array{DiffValue{O{{"Labels", DiffValue{O{{"a", DiffValue{std::string("2")}}}}}}}}};
  DiffResult d = json_diff(exp, got);
  CHECK_FALSE(d.equal);
  CHECK(d.text == "[\n    {\n        \"Labels\": {\n            \"a\": \033[0;33m\"1\" => \"2\"\033[0m\n        }\n    }\n]");
  DiffResult extra = json_diff(DiffValue{DiffValue::Array{}}, got);
  CHECK_FALSE(extra.equal);
  CHECK(extra.text.find("\033[0;32m{\033[0m") != std::string::npos);  // only received: green
}

}  // namespace vigil::rules
