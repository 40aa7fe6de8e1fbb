#pragma once

// The router's metrics, under Alertmanager's names so its dashboards work:
// alerts by state (active, suppressed), silences by state, aggregation
// groups; and how often the state logs synced.

#include "model/clock.h"
#include "model/metrics_writer.h"
#include "routing/router.h"

namespace vigil::routing {

void write_metrics(MetricsWriter& w, Router& router, Millis now);

}  // namespace vigil::routing
