#pragma once

// The schema of every section of alertmanager.yml (Alertmanager 0.34), with
// upstream's field names, Go type names (for error messages) and defaults.

#include <string_view>
#include <vector>

#include "routing/config_schema.h"

namespace vigil::routing {

const ObjectSpec& config_spec();  // the whole file
const ObjectSpec& global_spec();
const ObjectSpec& route_spec();
const ObjectSpec& inhibit_rule_spec();
const ObjectSpec& receiver_spec();
const ObjectSpec& named_time_interval_spec();
const ObjectSpec& time_interval_spec();
const ObjectSpec& http_config_spec();
const ObjectSpec& tls_config_spec();

// A kind of integration a receiver can hold, in the order upstream builds
// a receiver's integrations.
struct IntegrationKind {
  std::string_view key;   // "slack_configs"
  std::string_view name;  // "slack", as in the notification log and metrics
  const ObjectSpec* spec;
};
const std::vector<IntegrationKind>& integration_kinds();

}  // namespace vigil::routing
