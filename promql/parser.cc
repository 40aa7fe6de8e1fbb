#include "promql/parser.h"

#include <fmt/format.h>

namespace vigil::promql {

Result<ExprPtr> parse_expr(std::string_view input, const ParseOptions&) {
  if (input.empty()) return fail("no expression found in input", 1, 1);
  return std::make_unique<Expr>();
}

std::string format_parse_error(const Error& e) {
  return fmt::format("{}:{}: parse error: {}", e.line, e.column, e.message);
}

}  // namespace vigil::promql
