#include "rules/metrics.h"

#include <string>

namespace vigil::rules {

void write_metrics(MetricsWriter& w, const std::vector<GroupStatus>& groups) {
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    double (*value)(const GroupStatus&);
  };
  static const Family kFamilies[] = {
      {"prometheus_rule_evaluations_total", "counter", "The total number of rule evaluations.",
       [](const GroupStatus& g) { return static_cast<double>(g.evaluations * g.rules.size()); }},
      {"prometheus_rule_evaluation_failures_total", "counter",
       "Rule group evaluations with at least one failing rule.",
       [](const GroupStatus& g) { return static_cast<double>(g.failures); }},
      {"prometheus_rule_group_iterations_missed_total", "counter",
       "Rule group evaluations missed due to slow evaluation or downtime.",
       [](const GroupStatus& g) { return static_cast<double>(g.missed); }},
      {"prometheus_rule_group_last_duration_seconds", "gauge", "The duration of the last rule group evaluation.",
       [](const GroupStatus& g) { return g.last_duration_seconds; }},
      {"prometheus_rule_group_last_evaluation_timestamp_seconds", "gauge",
       "The timestamp of the last rule group evaluation.",
       [](const GroupStatus& g) { return static_cast<double>(g.last_eval) / 1000.0; }},
      {"prometheus_rule_group_rules", "gauge", "The number of rules.",
       [](const GroupStatus& g) { return static_cast<double>(g.rules.size()); }},
  };
  std::vector<std::string> keys;
  keys.reserve(groups.size());
  for (const auto& g : groups) keys.push_back(g.file->path + ";" + g.group->name);
  for (const Family& f : kFamilies) {
    w.family(f.name, f.type, f.help);
    for (size_t i = 0; i < groups.size(); ++i) w.sample(f.name, {{"rule_group", keys[i]}}, f.value(groups[i]));
  }
  size_t pending = 0, firing = 0;
  for (const auto& g : groups)
    for (const auto& r : g.rules)
      for (const auto& a : r.alerts) {
        if (a.state == AlertState::kPending) ++pending;
        if (a.state == AlertState::kFiring) ++firing;
      }
  w.family("vigil_rule_alerts", "gauge", "Alerts of alerting rules by state.");
  w.sample("vigil_rule_alerts", {{"state", "pending"}}, static_cast<double>(pending));
  w.sample("vigil_rule_alerts", {{"state", "firing"}}, static_cast<double>(firing));
}

}  // namespace vigil::rules
