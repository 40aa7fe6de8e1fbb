#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "rules/check.h"

namespace vigil::cli {

void register_check_rules(CLI::App& check, int* exit_code) {
  auto* cmd = check.add_subcommand(
      "rules",
      "Check if the rule files are valid or not (as promtool check rules).\n"
      "Note: the Go template syntax of alerting rules' labels and annotations is only\n"
      "partly checked (unclosed actions, unbalanced if/range/with/end, undefined\n"
      "variables); function names and pipelines are not checked yet.");
  auto opts = std::make_shared<rules::CheckRulesOptions>();
  auto files = std::make_shared<std::vector<std::string>>();
  cmd->add_option("rule-files", *files,
                  "The rule files to check ('-' or none: standard input)");
  cmd->add_option("--lint", opts->lint,
                  "Linting checks to apply. Available options are: all, duplicate-rules, none. "
                  "Use --lint=none to disable linting")
      ->default_str("duplicate-rules");
  cmd->add_flag("--lint-fatal", opts->lint_fatal, "Make lint errors exit with exit code 3.");
  cmd->add_flag("--ignore-unknown-fields", opts->load.ignore_unknown_fields,
                "Ignore unknown fields in the rule files. This is useful when you want to extend "
                "rule files with custom metadata. Ensure that those fields are removed before "
                "loading them into the Prometheus server as it performs strict checks by "
                "default.");
  auto features = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--enable-feature", *features,
                  "Comma separated feature names to enable. Valid options: "
                  "promql-experimental-functions (others promtool knows are accepted with a "
                  "warning).")
      ->allow_extra_args(false);
  cmd->callback([files, opts, features, exit_code] {
    for (const auto& f : *features) rules::enable_features(f, *opts, std::cerr);
    *exit_code = rules::check_rules(*files, *opts, std::cin, std::cout, std::cerr);
  });
}

}  // namespace vigil::cli
