#pragma once

// Checks of the prometheus.yml sections vigil loads without acting on them
// (remote_write, remote_read, tracing, storage, otlp): vigil warns that they
// are ignored, but a value Prometheus 3.x refuses is still refused, with
// upstream's message, so a file vigil accepts also loads in Prometheus.

#include <vector>

#include "config/value.h"
#include "model/error.h"

namespace vigil::config {

// `top` is the whole file as decoded; errors are appended at their values'
// positions.
void check_unacted_sections(const ConfigValue& top, std::vector<Error>& errors);

}  // namespace vigil::config
