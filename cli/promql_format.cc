// vigil promql format: promtool promql format, pretty-printing a query.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "promql/parser.h"
#include "promql/printer.h"

namespace vigil::cli {

void register_promql(CLI::App& app, int* exit_code) {
  auto* promql = app.add_subcommand("promql", "PromQL formatting, as promtool promql does.");
  promql->require_subcommand(1);
  auto* cmd = promql->add_subcommand(
      "format",
      "Print a query in the pretty-printed form promtool promql format prints: parts longer than\n"
      "100 characters split over lines, indented by two spaces per level.");
  auto query = std::make_shared<std::string>();
  cmd->add_option("query", *query, "The PromQL query")->required();
  auto features = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--enable-feature", *features,
                  "promql-experimental-functions: accept the experimental functions, as promtool does "
                  "with the same flag")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->callback([query, features, exit_code] {
    // The PromQL promtool 3.5 parses: experimental functions only when
    // enabled, none of the later syntax.
    promql::ParseOptions opts{.experimental_functions = false,
                              .experimental_duration_expr = false,
                              .extended_range_selectors = false,
                              .binop_fill_modifiers = false};
    for (const auto& f : *features) {
      if (f == "promql-experimental-functions") opts.experimental_functions = true;
    }
    auto e = promql::parse_expr(*query, opts);
    if (!e) {
      std::cerr << promql::format_parse_error(e.error()) << "\n";
      *exit_code = 1;
      return;
    }
    std::cout << promql::pretty(**e) << "\n";
    *exit_code = 0;
  });
}

}  // namespace vigil::cli
