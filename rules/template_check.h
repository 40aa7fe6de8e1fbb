#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vigil::rules {

// A light check of Go text/template syntax in an alerting rule's label or
// annotation, until the template engine (templates/) can parse them for real.
//
// It finds what Prometheus' check finds most often in practice: an action
// left open ("{{ $labels.x"), and a variable used where it is not defined
// ("$label" for "$labels"). Defined are "$", $labels, $externalLabels,
// $externalURL, $value, and variables declared with := (scoped to their
// if/range/with block, as Go does). Everything else — unknown functions,
// pipeline syntax, bad field names — is NOT checked: a template that passes
// here may still fail at render time. The check never rejects a template Go
// would accept.
//
// `name` is the template's name in the message ("__alert_" + alert name).
// Returns Go's wording, e.g. `template: __alert_X:1: undefined variable "$label"`.
std::optional<std::string> check_template(std::string_view text, std::string_view name);

}  // namespace vigil::rules
