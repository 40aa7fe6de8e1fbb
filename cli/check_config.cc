#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/routing_flags.h"
#include "notifiers/integration.h"
#include "routing/check_config.h"

namespace vigil::cli {

void register_check_config(CLI::App& check, int* exit_code) {
  auto* cmd = check.add_subcommand(
      "config",
      "Validate Alertmanager configuration files; output and exit codes follow amtool\n"
      "check-config, and every error names its file, line and column; the template files\n"
      "its globs match are parsed as amtool parses them.");
  auto files = std::make_shared<std::vector<std::string>>();
  auto features = std::make_shared<std::string>();
  auto strict = std::make_shared<bool>(false);
  cmd->add_option("config-files", *files, "The files to check (none: standard input)");
  add_feature_flag(*cmd, *features);
  cmd->add_flag("--strict", *strict,
                "Fail on what is only a warning otherwise: receivers vigil cannot deliver to yet");
  cmd->callback([files, features, strict, exit_code] {
    routing::LoadOptions opts;
    opts.deliverable = notifiers::can_deliver;
    opts.strict = *strict;
    if (!apply_features(*features, opts, std::cerr)) {
      *exit_code = 1;
      return;
    }
    *exit_code = routing::check_config(*files, opts, std::cin, std::cout, std::cerr);
  });
}

}  // namespace vigil::cli
