#pragma once

// The table of PromQL functions: what the parser type-checks calls against
// and what the engine dispatches on.

#include <span>
#include <string_view>
#include <vector>

#include "promql/ast.h"

namespace vigil::promql {

struct Function {
  std::string_view name;
  std::vector<ValueType> arg_types;
  // Upstream's convention: 0 means exactly arg_types.size() arguments. Otherwise
  // the last entry of arg_types is optional and may repeat: up to `variadic`
  // times, or without limit when -1.
  int variadic = 0;
  ValueType return_type = ValueType::kVector;
  // Upstream keeps it behind --enable-feature=promql-experimental-functions.
  bool experimental = false;
};

// nullptr when there is no function of that name (names are case-sensitive).
const Function* find_function(std::string_view name);

// Every function, in name order.
std::span<const Function> all_functions();

}  // namespace vigil::promql
