#pragma once

#include <string>
#include <string_view>

#include "model/error.h"
#include "promql/ast.h"

namespace vigil::promql {

struct ParseOptions {
  // Functions upstream keeps behind --enable-feature=promql-experimental-functions.
  bool experimental_functions = true;
};

// Parses and type-checks a PromQL expression. On failure the error's message is
// upstream's wording without the position; line and column (1-based, column in
// bytes) locate it inside `input`.
Result<ExprPtr> parse_expr(std::string_view input, const ParseOptions& opts = {});

// "LINE:COL: parse error: MESSAGE", as Prometheus prints a parse error.
std::string format_parse_error(const Error& e);

}  // namespace vigil::promql
