#pragma once

#include <string>

#include "promql/ast.h"

namespace vigil::promql {

// Turns a tree back into PromQL, in upstream's canonical String() form:
// `sum by (job) (rate(x{a="b"}[5m] offset 1m))`. Parsing the result yields an
// equal tree (see equal() in ast.h).
std::string to_string(const Expr& e);

// The pretty-printed form `promtool promql format` prints: a node whose
// String() form is longer than 100 bytes is split over lines, its children
// indented by two spaces per level; shorter ones stay on one line.
std::string pretty(const Expr& e);

}  // namespace vigil::promql
