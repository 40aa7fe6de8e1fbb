#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/duration.h"
#include "model/error.h"
#include "model/labels.h"
#include "templates/template.h"

namespace vigil::templates {

// One sample of a query result, as Prometheus' template functions see it.
struct QuerySample {
  Labels metric;  // with __name__ when the result has one
  double value = 0;
};
using QueryResult = std::vector<QuerySample>;

// Evaluates a PromQL instant query at `at`; the rule engine passes its own
// engine (or a remote Prometheus). The template function `query` calls it.
using QueryFn = std::function<Result<QueryResult>(std::string_view expr, Millis at)>;

// What a rule's labels and annotations are expanded with, as Prometheus'
// rule manager provides it: $labels, $externalLabels, $externalURL, $value,
// plus the evaluation time (for query and now) and the query function.
struct AlertTemplateData {
  Labels labels;
  Labels external_labels;
  std::string external_url;  // --web.external-url as given, e.g. "http://prom:9090/prefix"
  double value = 0;
  Millis eval_time = 0;
  QueryFn query;  // may be empty: then query fails with a clear error
};

// Prometheus' template functions: humanize humanize1024 humanizeDuration
// humanizePercentage humanizeTimestamp toTime toDuration now query first
// label value strvalue sortByLabel args safeHtml match reReplaceAll title
// toUpper toLower stripPort stripDomain parseDuration externalURL pathPrefix
// graphLink tableLink urlQueryEscape. query, now, externalURL and pathPrefix
// read the AlertTemplateData the execution runs with.
FuncMap prometheus_functions();

// A label or annotation template of an alerting rule, parsed once and
// expanded for every alert. Like Prometheus, the text is prefixed with
// {{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}
// {{$externalURL := .ExternalURL}}{{$value := .Value}} (so columns on the
// first line count that prefix, as in Prometheus' messages), the template is
// named "__alert_" + the alert name, and missing map keys expand to "".
class AlertTemplate {
 public:
  AlertTemplate(std::string_view alert_name, std::string_view text);

  // Empty when the text parsed; else Go's message, as Prometheus reports it
  // ("error parsing template __alert_X: template: __alert_X:1: ...").
  const std::string& parse_error() const { return parse_error_; }
  // The same problem as Go's parser words it ("template: __alert_X:1: ..."),
  // which is what promtool's rule check prints; empty when the text parsed.
  const std::string& syntax_error() const { return syntax_error_; }

  // The expanded text, or an error worded as Prometheus words it
  // ("error executing template __alert_X: template: ..."). Prometheus' rule
  // manager then uses "<error expanding template: " + message + ">" as the
  // value; that choice is the caller's.
  Result<std::string> expand(const AlertTemplateData& data) const;

 private:
  std::string name_;
  std::shared_ptr<const TemplateSet> set_;
  std::string parse_error_;
  std::string syntax_error_;
};

// Expands `text` once, as Prometheus' rule manager does for each alert.
Result<std::string> expand_alert_template(std::string_view alert_name, std::string_view text,
                                          const AlertTemplateData& data);

}  // namespace vigil::templates
