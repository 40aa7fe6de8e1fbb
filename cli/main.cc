// vigil: Prometheus rule evaluation and Alertmanager routing in one binary.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/unknown_command.h"
#include "model/build_info.h"

namespace {

std::string version_text() {
  return fmt::format("vigil, version {} (commit: {}, build date: {})", vigil::build::kVersion,
                     vigil::build::kCommit, vigil::build::kDate);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "vigil evaluates Prometheus alerting and recording rules and routes alerts as "
      "Alertmanager does: one binary for rule checks, rule unit tests, routing and delivery.",
      "vigil"};
  app.set_version_flag("--version", version_text());
  app.require_subcommand(1);
  app.fallthrough();

  int exit_code = 0;
  vigil::cli::register_run(app, &exit_code);
  CLI::App* check = app.add_subcommand("check", "Check rule files and configuration for errors.");
  check->require_subcommand(1);
  vigil::cli::register_check_rules(*check, &exit_code);
  vigil::cli::register_check_config(*check, &exit_code);
  vigil::cli::register_check_prometheus(*check, &exit_code);
  vigil::cli::register_check_metrics(*check, &exit_code);
  vigil::cli::register_check_web_config(*check, &exit_code);
  CLI::App* test = app.add_subcommand("test", "Run test scripts and rule unit tests.");
  test->require_subcommand(1);
  vigil::cli::register_test_promql(*test, &exit_code);
  vigil::cli::register_test_rules(*test, &exit_code);
  vigil::cli::register_routes(app, &exit_code);
  vigil::cli::register_lint(app, &exit_code);
  vigil::cli::register_query(app, &exit_code);
  vigil::cli::register_notifications(app, &exit_code);
  vigil::cli::register_promql(app, &exit_code);
  CLI::App* rules = app.add_subcommand("rules", "Work with rule files against a datasource.");
  rules->require_subcommand(1);
  vigil::cli::register_rules_backtest(*rules, &exit_code);
  CLI::App* tmpl = app.add_subcommand("template", "Render notification templates.");
  tmpl->require_subcommand(1);
  vigil::cli::register_template_render(*tmpl, &exit_code);
  CLI::App* notify = app.add_subcommand("notify", "Send notifications through configured receivers.");
  notify->require_subcommand(1);
  vigil::cli::register_notify_test(*notify, &exit_code);

  vigil::cli::register_completion(app, &exit_code);
  vigil::cli::register_man(app, &exit_code);

  // promtool's global flags may come before the command.
  std::vector<std::string> args = vigil::cli::move_leading_promtool_flags(app, argc, argv);
  std::vector<const char*> arg_ptrs;
  for (const std::string& a : args) arg_ptrs.push_back(a.c_str());
  argc = static_cast<int>(arg_ptrs.size());
  const char* const* argv_moved = arg_ptrs.data();
  if (auto unknown = vigil::cli::unknown_command_error(app, argc, argv_moved)) {
    std::fprintf(stderr, "vigil: error: %s\n", unknown->c_str());
    return 1;  // a usage error, as promtool's
  }
  try {
    app.parse(argc, argv_moved);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 1;  // usage errors exit 1, as promtool's do
  }
  std::fflush(stdout);
  return exit_code;
}
