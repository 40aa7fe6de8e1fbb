// vigil test rules: promtool's rule unit tests.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "rules/unit_test.h"

namespace vigil::cli {

void register_test_rules(CLI::App& test, int* exit_code) {
  struct Options {
    std::vector<std::string> files;
    rules::UnitTestOptions test;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = test.add_subcommand(
      "rules", "Run rule unit tests in promtool's format (rule_files, input_series, alert_rule_test, "
               "promql_expr_test).");
  cmd->add_option("files", o->files, "Unit test files")->required();
  cmd->add_option("--run", o->test.run,
                  "Only run test groups whose name matches this regular expression (repeatable)")
      ->take_last();
  cmd->add_flag("--ignore-unknown-fields", o->test.ignore_unknown_fields,
                "Accept unknown fields in test and rule files");
  cmd->callback([o, exit_code] {
    bool ok = true;
    for (const auto& f : o->files) ok = rules::run_unit_test_file(f, o->test, nullptr, std::cout) && ok;
    *exit_code = ok ? 0 : 1;
  });
}

}  // namespace vigil::cli
