// vigil check web-config: the web configuration files of --web.config.file,
// checked as `promtool check web-config` checks them (certificates and keys
// are read and must fit together), with its output and exit codes.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "server/web_config.h"

namespace vigil::cli {

void register_check_web_config(CLI::App& check, int* exit_code) {
  auto* cmd = check.add_subcommand("web-config", "Check web configuration files (--web.config.file) as promtool does.");
  auto files = std::make_shared<std::vector<std::string>>();
  cmd->add_option("web-config-files", *files, "The files to check")->required();
  cmd->callback([files, exit_code] {
    bool failed = false;
    for (const auto& f : *files) {
      auto r = server::validate_web_config(f);
      if (!r) {
        const Error& e = r.error();
        std::cerr << f << " FAILED: "
                  << (e.line ? fmt::format("line {}, column {}: {}", e.line, e.column, e.message) : e.message)
                  << "\n";
        failed = true;
        continue;
      }
      std::cerr << f << " SUCCESS\n";
    }
    *exit_code = failed ? 1 : 0;
  });
}

}  // namespace vigil::cli
