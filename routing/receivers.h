#pragma once

// Alertmanager's rules for receivers, their integrations and the settings
// they share with `global`: which fields are required or exclusive, and which
// values an integration takes from `global` when it leaves them out
// (upstream's config.go, notifiers.go and notify/*/config.go).

#include <string_view>
#include <vector>

#include "model/error.h"
#include "routing/config.h"
#include "routing/config_value.h"

namespace vigil::routing {

// Checks an http_config (prometheus/common's rules) and normalises it as
// upstream does: bearer_token(_file) becomes an authorization, whose type
// defaults to Bearer.
void check_http_config(ConfigValue& http, std::vector<Error>& errors);

// Checks a tls_config: ca, cert and key each set at most one way, cert and
// key together.
void check_tls_config(const ConfigValue& tls, std::vector<Error>& errors);

// The global section's own checks (exclusive pairs such as slack_api_url and
// slack_api_url_file).
void check_global(ConfigValue& global, std::vector<Error>& errors);

// Validates one receiver's integrations and applies the global defaults.
// `receiver` is the decoded receiver mapping.
std::vector<IntegrationConfig> build_integrations(const ConfigValue& receiver,
                                                  const ConfigValue& global,
                                                  std::vector<Error>& errors);

// Makes the relative file paths of an http_config absolute against `dir`.
void resolve_http_paths(ConfigValue& http, std::string_view dir);

}  // namespace vigil::routing
