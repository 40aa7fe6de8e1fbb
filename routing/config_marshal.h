#pragma once

// alertmanager.yml as Alertmanager 0.33 shows it in the status API's
// `config.original` (and `amtool config show`): the loaded configuration
// written back as YAML the way Go's yaml.v2 writes Alertmanager's config
// structs. Every default is filled in (global settings, each integration's
// templates, `send_resolved`, HTTP client defaults), global settings are
// copied into the integrations that inherit them, fields come in the order of
// upstream's structs with upstream's omitempty rules, secrets show as
// "<secret>", durations are normalised ("5m", "1m0s"), matchers are parsed and
// printed sorted, time intervals print with numbers for months, relative file
// paths of HTTP client settings and templates are joined with the config's
// directory, and long strings are folded at 80 columns as yaml.v2 folds them.

#include <string>
#include <string_view>

#include "model/error.h"

namespace vigil::routing {

// The text of a configuration that loads. `base_dir` is the directory of the
// configuration file (relative paths are joined with it), empty for none.
// Fails when the text is not YAML.
Result<std::string> marshal_config_yaml(std::string_view config_text, std::string_view base_dir);

}  // namespace vigil::routing
