// vigil check metrics: promtool check metrics, on exposition text from
// standard input.
#include <iostream>
#include <iterator>
#include <string>

#include "cli/commands.h"
#include "storage/exposition_lint.h"

namespace vigil::cli {

void register_check_metrics(CLI::App& check, int* exit_code) {
  auto* cmd = check.add_subcommand(
      "metrics",
      "Lint metrics in the Prometheus text format read from standard input, as promtool check\n"
      "metrics does: each problem as \"METRIC PROBLEM\" on stderr, exit 3 when there is one.\n"
      "  curl -s http://localhost:9090/metrics | vigil check metrics");
  cmd->callback([exit_code] {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    auto problems = storage::lint_exposition(text);
    if (!problems) {
      std::cerr << "error while linting: " << problems.error().message << "\n";
      *exit_code = 1;
      return;
    }
    for (const auto& p : *problems) std::cerr << p.metric << " " << p.text << "\n";
    *exit_code = problems->empty() ? 0 : 3;
  });
}

}  // namespace vigil::cli
