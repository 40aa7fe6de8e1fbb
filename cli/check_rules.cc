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
      "Validate Prometheus rule files; output and exit codes follow promtool check rules.\n"
      "Note: the Go template syntax of alerting rules' labels and annotations is only\n"
      "partly checked (unclosed actions, unbalanced if/range/with/end, undefined\n"
      "variables); function names and pipelines are not checked yet.");
  auto opts = std::make_shared<rules::CheckRulesOptions>();
  auto files = std::make_shared<std::vector<std::string>>();
  cmd->add_option("rule-files", *files,
                  "The rule files to check ('-' or none: standard input)");
  cmd->add_option("--lint", opts->lint,
                  "Which lint checks run: duplicate-rules (the default), all, or none")
      ->default_str("duplicate-rules");
  cmd->add_flag("--lint-fatal", opts->lint_fatal, "Exit with code 3 when a lint check finds something");
  cmd->add_flag("--ignore-unknown-fields", opts->load.ignore_unknown_fields,
                "Accept keys the rule-file format does not define (custom metadata) instead of "
                "reporting them; Prometheus itself still rejects such files");
  auto features = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--enable-feature", *features,
                  "Features to turn on, comma-separated: promql-experimental-functions; other "
                  "names promtool knows are accepted with a warning")
      ->allow_extra_args(false);
  auto format = std::make_shared<std::string>("text");
  cmd->add_option("--format", *format,
                  "Output: text (promtool's report), or the problems as json, github, gitlab or "
                  "junit findings for CI systems; exit codes are the same")
      ->default_str("text");
  cmd->callback([files, opts, features, format, exit_code] {
    auto f = rules::parse_finding_format(*format);
    if (!f) {
      std::cerr << "vigil check rules: unknown --format " << *format << " (expected "
                << rules::kFindingFormats << ")\n";
      *exit_code = rules::kExitFailure;
      return;
    }
    opts->format = *f;
    for (const auto& f : *features) rules::enable_features(f, *opts, std::cerr);
    *exit_code = rules::check_rules(*files, *opts, std::cin, std::cout, std::cerr);
  });
}

}  // namespace vigil::cli
