#pragma once

#include <string>
#include <string_view>

#include "model/error.h"
#include "promql/ast.h"

namespace vigil::promql {

// Which upstream feature flags the parser honours. The defaults accept
// everything upstream's promqltest corpus uses (its TestParserOpts).
struct ParseOptions {
  // Functions upstream keeps behind --enable-feature=promql-experimental-functions
  // (and the limitk/limit_ratio aggregations).
  bool experimental_functions = true;
  // Arithmetic, step(), range(), min_of()/max_of() in ranges and offsets.
  bool experimental_duration_expr = true;
  // The anchored and smoothed modifiers.
  bool extended_range_selectors = true;
  // fill(), fill_left(), fill_right() on binary operators.
  bool binop_fill_modifiers = true;
  // Deepest tree accepted (every node on a path counts: parentheses, unary
  // and chained binary operators, calls, subqueries). Bounds the parser's and
  // every later tree walk's recursion, so hostile input cannot overflow the
  // stack.
  int max_depth = 2048;
  // Accept selectors whose matchers all match the empty label set, such as
  // `{}` (series descriptions of expected test results).
  bool allow_empty_selectors = false;
};

// Parses and type-checks a PromQL expression. On failure the error's message is
// upstream's wording without the position; line and column (1-based, column in
// bytes) locate it inside `input`.
Result<ExprPtr> parse_expr(std::string_view input, const ParseOptions& opts = {});

// "LINE:COL: parse error: MESSAGE", as Prometheus prints a parse error.
std::string format_parse_error(const Error& e);

// Go's strconv.Unquote rules for PromQL string literals ("...", '...', `...`).
Result<std::string> unquote_string(std::string_view quoted);

}  // namespace vigil::promql
