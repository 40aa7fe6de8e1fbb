#pragma once

// `vigil check prometheus` (and `vigil check config` on a prometheus.yml):
// promtool check config's checks, output and exit codes. Each file is loaded
// as Prometheus 3.x loads it (config/prometheus_config.h); unless
// syntax_only, the rule files it names must exist (an explicit name that
// matches nothing is an error, a glob may match nothing) and are then
// checked as `vigil check rules` checks them.

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "model/duration.h"
#include "rules/check.h"

namespace vigil::rules {

struct CheckPrometheusOptions {
  bool syntax_only = false;  // promtool's --syntax-only: the file alone, nothing it names
  // promtool's --agent: the file as Prometheus in agent mode loads it (no
  // alerting, rule_files or remote_read).
  bool agent = false;
  // promtool's --query.lookback-delta, for the too-long-scrape-interval lint
  // (on with --lint=all or --lint=too-long-scrape-interval): a job scraping
  // at least this far apart has its samples marked stale between scrapes.
  Millis lookback_delta = 5 * kMinute;
  CheckRulesOptions rules;   // for the rule files: lint, lint_fatal, unknown fields, features
};

// Writes "Checking F", warnings, "  SUCCESS: N rule files found" and
// " SUCCESS: F is valid prometheus config file syntax" to `out`, "  FAILED:"
// lines to `err`, then checks the rule files. Returns 1 when a file has
// errors, else 3 when lint found something and lint_fatal is set, else 0.
int check_prometheus_configs(const std::vector<std::string>& files, const CheckPrometheusOptions& opts,
                             std::ostream& out, std::ostream& err);

// Which configuration a file is, told apart by its content: a top-level key
// only Prometheus has (scrape_configs, rule_files, alerting, remote_write,
// ...) or only Alertmanager has (route, receivers, inhibit_rules,
// templates, ...), else a global section with settings only Prometheus has
// (scrape_interval, evaluation_interval, external_labels, ...). Text with
// none of these (an empty file, unknown keys) is kUnknown.
enum class ConfigKind { kPrometheus, kAlertmanager, kUnknown };
ConfigKind config_kind(std::string_view text);

}  // namespace vigil::rules
