#pragma once

// `vigil lint`: mistakes in rule files that load fine but page wrongly (or
// never). Each check has a stable name, a severity and a one-line reason;
// findings point at file:line:col.
//
//   promql/rate-non-counter      rate()/irate()/increase()/resets() over a name that is not a counter
//   promql/counter-raw           a counter (…_total) used without rate()/increase()
//   promql/rate-of-aggregation   rate(sum(…)[…:]): resets of one series look like drops of the sum
//   promql/regexp-literal        =~"text" with no regular-expression syntax: use =
//   promql/regexp-anchors        ^ or $ in a matcher: Prometheus anchors regexes already
//   promql/constant-comparison   a comparison whose result does not depend on any series
//   promql/range-too-short       a range under two scrape intervals (needs prometheus.yml)
//   alerts/bool-comparison       an alert filtered with `bool`: it fires for every series
//   alerts/for-too-short         `for` shorter than the group's evaluation interval
//   alerts/template-missing-label   a template uses a label the expression cannot return
//   alerts/absent-missing-label     the same, for absent(): it only returns its = matchers
//   alerts/value-in-labels       $value in a label: every new value is a new alert
//   alerts/duplicate-severity    one alert name with several severities in one group
//   rules/dependency-order       reading a series recorded later (later rule or group)
// and, with a datasource to query (live checks):
//   promql/series-missing        a selector matches no series now (and which matcher rules them out)
//   promql/series-count          how many series a rule's selectors touch
//
// A rule can silence a check with a comment anywhere in its lines:
//   # vigil lint ignore promql/counter-raw

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/prometheus_config.h"
#include "rules/evaluation.h"
#include "rules/findings.h"
#include "rules/rule_file.h"

namespace vigil::rules {

struct LintCheckInfo {
  std::string_view name;
  Severity severity;
  std::string_view summary;
};
// Every check, in name order.
const std::vector<LintCheckInfo>& lint_checks();

struct LintOptions {
  // Checks to skip (names as above).
  std::set<std::string, std::less<>> disabled;
  // When set: scrape intervals (promql/range-too-short) and the global
  // evaluation interval (alerts/for-too-short) come from it.
  const config::PrometheusConfig* prometheus = nullptr;
  // When set (vigil lint --datasource.url): the live checks
  // promql/series-missing and promql/series-count query it at `now`.
  QueryFn query;
  Millis now = 0;
};

// Lints one loaded file. `content` is the file's text (used to place
// findings inside multi-line expressions and to read ignore comments).
std::vector<Finding> lint_rule_file(const RuleFile& file, std::string_view content,
                                    const LintOptions& opts);

// The labels a PromQL expression's result can carry: `bounded` when the set
// is known to be at most `names` (after an aggregation, on(), absent(), ...);
// otherwise any label may be present. Exposed for tests.
struct OutputLabels {
  bool bounded = false;
  std::set<std::string> names;
};
OutputLabels output_labels(const promql::Expr& e);

// `vigil lint FILES`: loads each file (load errors are findings too, as
// "rules/load"), lints it, adds duplicate rules ("rules/duplicate-rules"),
// and writes every finding in `format`. Returns 1 when a finding is at
// least `fail_on` (never when unset), else 0.
struct LintRunOptions {
  LintOptions lint;
  LoadOptions load;
  FindingFormat format = FindingFormat::kText;
  std::optional<Severity> fail_on = Severity::kBug;
};
int lint_files(const std::vector<std::string>& files, const LintRunOptions& opts, std::ostream& out,
               std::ostream& err);

// The live checks alone, for every rule of `file`; selectors of series the
// file itself records are left out (new recording rules have no series
// yet). Fails when the datasource does.
Result<std::vector<Finding>> lint_live(const RuleFile& file, std::string_view content,
                                       const LintOptions& opts);

}  // namespace vigil::rules
