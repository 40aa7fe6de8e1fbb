#pragma once

// Rule unit tests in promtool's format (upstream
// docs/configuration/unit_testing_rules.md): input series in the expanding
// notation, rules evaluated at evaluation_interval from time 0, alerts and
// PromQL results compared at chosen times.

#include <iosfwd>
#include <string>
#include <vector>

#include "rules/evaluation.h"

namespace vigil::rules {

struct UnitTestOptions {
  std::vector<std::string> run;  // regular expressions: only test groups whose name matches one
  bool ignore_unknown_fields = false;
};

// Runs one test file, printing promtool's report ("Unit Testing:  FILE",
// then "  SUCCESS" or "  FAILED:" and the failures) to `out`. Returns true when
// every selected test group passed.
bool run_unit_test_file(const std::string& path, const UnitTestOptions& opts, const TemplateFn& render,
                        std::ostream& out);

}  // namespace vigil::rules
