#pragma once

// alertmanager.yml as the status API and any other dump show it: the text
// the user wrote, re-emitted as YAML, with every value the schema marks as a
// credential (passwords, tokens, API keys, secret URLs, header secrets, TLS
// keys) replaced by "<secret>". `*_file` paths are not secrets and are shown
// as written. Anchors and aliases are expanded; comments are dropped.

#include <string>
#include <string_view>

#include "model/error.h"

namespace vigil::routing {

// The configuration text with its secrets redacted. Fails only when the text
// is not YAML (a configuration that loaded never fails).
Result<std::string> redacted_config_yaml(std::string_view config_text);

}  // namespace vigil::routing
