// vigil test rules: promtool's rule unit tests.
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "model/file.h"
#include "rules/findings.h"
#include "rules/unit_test.h"

namespace vigil::cli {

namespace {

std::string local_timestamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

}  // namespace

void register_test_rules(CLI::App& test, int* exit_code) {
  struct Options {
    std::vector<std::string> files;
    rules::UnitTestOptions test;
    std::string junit;
    bool coverage = false;
    double coverage_threshold = -1;
    std::string coverage_file;
    std::string format = "text";
    bool debug = false;
    bool experimental = false;  // promtool's global flag; nothing here needs it
    std::vector<std::string> features;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = test.add_subcommand(
      "rules", "Run rule unit tests in promtool's format (rule_files, input_series, alert_rule_test, "
               "promql_expr_test).");
  cmd->add_option("files", o->files, "Unit test files")->required();
  cmd->add_option("--run", o->test.run,
                  "Only run test groups whose name matches this regular expression (repeatable)")
      ->take_all()
      ->allow_extra_args(false);
  cmd->add_flag("--ignore-unknown-fields,!--no-ignore-unknown-fields", o->test.ignore_unknown_fields,
                "Accept unknown fields in test and rule files");
  cmd->add_flag("--diff,!--no-diff", o->test.diff,
                "Show a failed alert test as a coloured difference of the expected and received alerts, as "
                "promtool's --diff");
  cmd->add_flag("--debug,!--no-debug", o->debug,
                "Print when each test group starts and ends, and every series (input and rule results) up to "
                "its last eval_time, as promtool's --debug");
  cmd->add_option("--enable-feature", o->features,
                  "Features to turn on, comma-separated: promql-experimental-functions, "
                  "promql-delayed-name-removal (always on in vigil); other names get promtool's warning")
      ->take_all()
      ->allow_extra_args(false);
  cmd->add_flag("--experimental,!--no-experimental", o->experimental,
                "Accepted for promtool's command lines; no effect");
  cmd->add_flag("--left-closed-windows", o->test.left_closed_windows,
                "Include samples exactly at a window's start, as Prometheus 2.x did (for expectations "
                "recorded with promtool 2.x)");
  cmd->add_option("--junit", o->junit, "Also write the results as JUnit XML to this file");
  cmd->add_flag("--coverage", o->coverage,
                "After the tests, list the alerting rules no test made fire and the recording rules "
                "that never produced a sample");
  cmd->add_option("--coverage-threshold", o->coverage_threshold,
                  "Fail (exit 1) when fewer than this percentage of the rules are covered (alerting "
                  "rules: fired in a test; recording rules: produced a sample); implies --coverage")
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--coverage-file", o->coverage_file,
                  "Write the coverage as JSON to this file (totals, percentage, one entry per rule); "
                  "implies --coverage");
  cmd->add_option("--format", o->format,
                  "Output: text (promtool's), junit (promtool's --junit XML on standard output), or the "
                  "failures as json, github or gitlab findings for CI systems")
      ->default_str("text");
  cmd->callback([o, exit_code] {
    auto format = rules::parse_finding_format(o->format);
    if (!format) {
      std::cerr << "vigil test rules: unknown --format " << o->format << " (expected "
                << rules::kFindingFormats << ")\n";
      *exit_code = 1;
      return;
    }
    const bool text = *format == rules::FindingFormat::kText;
    if (o->coverage_threshold >= 0 || !o->coverage_file.empty()) o->coverage = true;
    for (const auto& f : o->features) rules::enable_unit_test_features(f, o->test, text ? std::cout : std::cerr);
    if (o->debug) o->test.debug = &std::cout;
    bool ok = true;
    rules::Coverage coverage;
    std::vector<rules::TestFileResult> results;
    for (const auto& f : o->files) {
      // promtool 3 names no file before its result (2.x printed "Unit Testing:  FILE").
      auto r = rules::run_unit_test_file(f, o->test, o->coverage ? &coverage : nullptr);
      if (text) rules::print_unit_test_result(r, std::cout, std::cerr);
      ok = ok && r.ok();
      results.push_back(std::move(r));
    }
    if (*format == rules::FindingFormat::kJunit) {
      std::cout << rules::junit_xml(results, local_timestamp());
    } else if (!text) {
      std::vector<std::string> paths;
      for (const auto& r : results) paths.push_back(r.path);
      rules::write_findings(std::cout, *format, rules::unit_test_findings(results), paths,
                            "vigil test rules");
    }
    if (o->coverage) coverage.print(text ? std::cout : std::cerr);
    if (!o->coverage_file.empty()) {
      auto w = write_file_atomic(o->coverage_file, coverage.json());
      if (!w) {
        std::cerr << "failed to write the coverage: " << w.error().message << "\n";
        ok = false;
      }
    }
    if (o->coverage_threshold >= 0 && coverage.percent() < o->coverage_threshold) {
      std::cerr << fmt::format("coverage {:.1f}% is below the threshold {}%\n", coverage.percent(),
                               o->coverage_threshold);
      ok = false;
    }
    if (!o->junit.empty()) {
      auto w = write_file_atomic(o->junit, rules::junit_xml(results, local_timestamp()));
      if (!w) std::cerr << "failed to write JUnit XML: " << w.error().message << "\n";
    }
    *exit_code = ok ? 0 : 1;
  });
}

}  // namespace vigil::cli
