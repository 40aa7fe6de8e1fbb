#pragma once

// `vigil check rules`: promtool's `check rules`, same output and exit codes.

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "model/labels.h"
#include "rules/findings.h"
#include "rules/rule_file.h"

namespace vigil::rules {

inline constexpr int kExitSuccess = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitLint = 3;  // lint problems with --lint-fatal

struct CheckRulesOptions {
  // promtool's --lint: comma-separated "all", "duplicate-rules", "none".
  // Unknown names print a warning on `out` and are ignored, as promtool does.
  std::string lint = "duplicate-rules";
  bool lint_fatal = false;
  // As promtool: experimental PromQL functions are rejected unless enabled
  // (--enable-feature=promql-experimental-functions).
  LoadOptions load{.ignore_unknown_fields = false, .promql = {.experimental_functions = false}};
  // kText prints promtool's report; the others the problems as findings
  // (rules/findings.h) for CI systems, with the same exit codes.
  FindingFormat format = FindingFormat::kText;
};

// Applies promtool's --enable-feature names (comma-separated) to `opts`;
// writes a warning to `err` for names vigil does not know or not model yet.
void enable_features(std::string_view features, CheckRulesOptions& opts, std::ostream& err);

// Checks each file ("-" is standard input, read from `in`; no files at all
// also means standard input, as in promtool). Writes "Checking F" and
// "  SUCCESS: N rules found" to `out`, "  FAILED:" and the errors to `err`.
// Returns 1 if any file has errors, else 3 if there were lint findings and
// lint_fatal is set, else 0.
int check_rules(const std::vector<std::string>& files, const CheckRulesOptions& opts,
                std::istream& in, std::ostream& out, std::ostream& err);

// Rules that record or alert under the same name with the same labels (group
// labels merged under rule labels) and so would overwrite each other's
// results. One entry per duplicated (name, labels), sorted by name then labels.
struct DuplicateRule {
  std::string name;
  Labels labels;
  Position position;  // a later definition of the pair, in file order
};
std::vector<DuplicateRule> find_duplicate_rules(const RuleFile& file);

// A file's load errors as findings ("rules/load", severity bug).
std::vector<Finding> load_error_findings(const std::string& path, const LoadResult& r);
// Duplicate rules as findings ("rules/duplicate-rules", severity bug).
std::vector<Finding> duplicate_findings(const std::string& path, const RuleFile& file);

}  // namespace vigil::rules
