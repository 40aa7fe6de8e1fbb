#pragma once

// The checks `promtool check metrics` makes on exposition text (client_golang's
// promlint): help text, base units, counter and histogram/summary naming,
// type names and ':' in names, camelCase names, abbreviated units, series
// listed twice. Each problem names its metric family; they come sorted by
// family, then text, as promtool prints them.

#include <string>
#include <string_view>
#include <vector>

#include "model/error.h"

namespace vigil::storage {

struct LintProblem {
  std::string metric;  // the metric family
  std::string text;
};

// Lints Prometheus text-format exposition; an error when the text does not parse.
Result<std::vector<LintProblem>> lint_exposition(std::string_view text);

}  // namespace vigil::storage
