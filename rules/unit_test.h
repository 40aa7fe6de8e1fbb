#pragma once

// Rule unit tests in promtool's format (upstream
// docs/configuration/unit_testing_rules.md): input series in the expanding
// notation, rules evaluated at evaluation_interval from the group's start
// (time 0 or start_timestamp), alerts and PromQL results compared at chosen
// times.

#include <iosfwd>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "promql/parser.h"
#include "rules/evaluation.h"
#include "rules/findings.h"

namespace vigil::rules {

struct UnitTestOptions {
  std::vector<std::string> run;  // regular expressions: only test groups whose name matches one
  bool ignore_unknown_fields = false;
  // Evaluate with Prometheus 2.x's left-closed windows (see
  // promql::EngineOptions::left_closed_windows).
  bool left_closed_windows = false;
  // promtool's --diff: alert mismatches as a coloured difference of the
  // expected and received alerts (see json_diff.h) instead of both lists.
  bool diff = false;
  // promtool's --debug: where each group's "DEBUG:" lines go (its start, a
  // dump of every series up to the last eval_time, its duration); null: none.
  std::ostream* debug = nullptr;
  // The PromQL promtool 3.5 accepts in rule files and expression tests: no
  // experimental functions unless --enable-feature=promql-experimental-functions,
  // and none of the later upstream syntax (duration expressions, anchored and
  // smoothed ranges, fill modifiers), which promtool 3.5 has no flag for.
  promql::ParseOptions promql{.experimental_functions = false,
                              .experimental_duration_expr = false,
                              .extended_range_selectors = false,
                              .binop_fill_modifiers = false};
};

// Applies promtool's --enable-feature names (comma-separated) to `opts`, as
// `promtool test rules` does: promql-experimental-functions and
// promql-delayed-name-removal (which vigil's engine always does) are known;
// any other name gets promtool's warning on `out` and is ignored.
void enable_unit_test_features(std::string_view features, UnitTestOptions& opts, std::ostream& out);

// One test group's outcome.
struct TestGroupResult {
  std::string name;                   // the group's name, or "unnamed#<index>"
  std::vector<std::string> failures;  // promtool's failure texts; empty: passed
};

// One test file's outcome.
struct TestFileResult {
  std::string path;
  std::vector<std::string> warnings;  // e.g. a rule_files pattern matching nothing
  std::string abort_error;            // the file could not be run at all
  std::vector<TestGroupResult> groups;
  bool ok() const;
};

// Which rules the tests exercised, gathered over every test file run: an
// alerting rule is covered once some test made it fire, a recording rule once
// some evaluation produced a sample. Rules are told apart by rule file (its
// canonical path), group and position, so a rule file shared by several test
// files counts once.
class Coverage {
 public:
  struct RuleUse {
    std::string file, group, name;
    int line = 0;
    bool alerting = false;
    bool pending = false;   // alerting: went pending in some test
    bool fired = false;     // alerting: fired in some test
    bool asserted = false;  // alerting: some alert_rule_test named it
    bool produced = false;  // recording: produced a sample in some evaluation
  };
  RuleUse& rule(const std::string& file, size_t group, size_t index);
  const std::map<std::tuple<std::string, size_t, size_t>, RuleUse>& rules() const { return rules_; }
  // The report `vigil test rules --coverage` prints.
  void print(std::ostream& out) const;
  // Covered rules (alerting: fired; recording: produced a sample) as a
  // percentage of all rules; 100 when there are none.
  double percent() const;
  // The same as JSON: totals, the percentage and one entry per rule.
  std::string json() const;

 private:
  std::map<std::tuple<std::string, size_t, size_t>, RuleUse> rules_;
};

// Runs one test file. `coverage`, when given, records what the tests exercised.
TestFileResult run_unit_test_file(const std::string& path, const UnitTestOptions& opts,
                                  Coverage* coverage = nullptr);

// Prints a file's result as promtool does: the SUCCESS line on `out`,
// warnings, "  FAILED:" and the failures on `err` (promtool 3 prints no
// header naming the file).
void print_unit_test_result(const TestFileResult& r, std::ostream& out, std::ostream& err);

// The results as JUnit XML, in the shape promtool's --junit writes:
// <testsuites><testsuite name=FILE tests failures errors skipped timestamp>
// <testcase name=GROUP><failure>...</failure></testcase>...
// `timestamp` is the local run time, "2006-01-02T15:04:05".
std::string junit_xml(const std::vector<TestFileResult>& results, const std::string& timestamp);

// Failed test groups and files that could not run as findings
// (rules/findings.h), check "test/failed" or "test/error", for
// `vigil test rules --format=json|github|gitlab`.
std::vector<Finding> unit_test_findings(const std::vector<TestFileResult>& results);

}  // namespace vigil::rules
