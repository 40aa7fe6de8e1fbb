#pragma once

// The schema of every section of alertmanager.yml (Alertmanager 0.34), with
// upstream's field names, Go type names (for error messages) and defaults.

#include <string_view>
#include <vector>

#include "config/schema.h"

namespace vigil::routing {

const config::ObjectSpec& config_spec();  // the whole file
const config::ObjectSpec& global_spec();
const config::ObjectSpec& route_spec();
const config::ObjectSpec& inhibit_rule_spec();
const config::ObjectSpec& receiver_spec();
const config::ObjectSpec& named_time_interval_spec();
const config::ObjectSpec& time_interval_spec();

// A kind of integration a receiver can hold, in the order upstream builds
// a receiver's integrations.
struct IntegrationKind {
  std::string_view key;   // "slack_configs"
  std::string_view name;  // "slack", as in the notification log and metrics
  const config::ObjectSpec* spec;
};
const std::vector<IntegrationKind>& integration_kinds();

}  // namespace vigil::routing
