#pragma once

// Alertmanager's rules for receivers, their integrations and the settings
// they share with `global`: which fields are required or exclusive, and which
// values an integration takes from `global` when it leaves them out
// (upstream's config.go, notifiers.go and notify/*/config.go).

#include <string_view>
#include <vector>

#include "config/value.h"
#include "model/error.h"
#include "routing/config.h"

namespace vigil::routing {

// The global section's own checks (exclusive pairs such as slack_api_url and
// slack_api_url_file).
void check_global(config::ConfigValue& global, std::vector<Error>& errors);

// Validates one receiver's integrations and applies the global defaults.
// `receiver` is the decoded receiver mapping.
std::vector<IntegrationConfig> build_integrations(const config::ConfigValue& receiver,
                                                  const config::ConfigValue& global,
                                                  std::vector<Error>& errors);

}  // namespace vigil::routing
