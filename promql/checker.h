#pragma once

// Internal to promql/: upstream's checkAST. Verifies operand and argument
// types, vector matching and selectors of a freshly parsed tree, completing it
// where upstream does (set operators become many-to-many, matching is dropped
// when a side is a scalar, info()'s selector may match empty).

#include <string_view>

#include "promql/ast.h"

namespace vigil::promql {

// Throws Failure on the first error, in upstream's order. `input` is the
// parsed text, used to locate operators.
void check_types(Expr& root, std::string_view input);

}  // namespace vigil::promql
