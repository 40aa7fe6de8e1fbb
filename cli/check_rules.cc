#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace vigil::cli {

// Placeholder until the rule-file checker lands.
void register_check_rules(CLI::App& check, int* exit_code) {
  auto* cmd = check.add_subcommand("rules", "Check that rule files are valid.");
  auto files = std::make_shared<std::vector<std::string>>();
  cmd->add_option("files", *files, "Rule files to check ('-' reads standard input)")->required();
  cmd->callback([files, exit_code] {
    std::fprintf(stderr, "check rules: not implemented yet\n");
    *exit_code = 1;
  });
}

}  // namespace vigil::cli
