#pragma once

#include "model/error.h"
#include "templates/value.h"

namespace vigil::templates {

// Template functions that Prometheus and Alertmanager define alike.

// reReplaceAll(pattern, replacement, text): Go's ReplaceAllString; a bad
// pattern fails as regexp.MustCompile's panic reads.
Result<Value> re_replace_all(const CallArgs& c);

// match(pattern, text): regexp.MatchString.
Result<Value> regexp_match(const CallArgs& c);

}  // namespace vigil::templates
