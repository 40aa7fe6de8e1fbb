#pragma once

// The rule manager's metrics, under Prometheus' names so its dashboards
// work: evaluations, failures, missed iterations, durations and last
// evaluation per group (rule_group="<file>;<group>"), rules per group, and
// vigil's count of alerting rules' alerts by state.

#include <vector>

#include "model/metrics_writer.h"
#include "rules/manager.h"

namespace vigil::rules {

void write_metrics(MetricsWriter& w, const std::vector<GroupStatus>& groups);

}  // namespace vigil::rules
