#pragma once

#include <CLI/CLI.hpp>

namespace vigil::cli {

// Each subcommand registers itself on its parent and, when it runs, stores its
// exit code in *exit_code. Exit codes follow promtool/amtool: 0 success,
// 1 failure, 3 lint problems with --lint-fatal.
void register_check_rules(CLI::App& check, int* exit_code);
void register_check_config(CLI::App& check, int* exit_code);
void register_check_prometheus(CLI::App& check, int* exit_code);
void register_check_metrics(CLI::App& check, int* exit_code);
void register_check_web_config(CLI::App& check, int* exit_code);
void register_routes(CLI::App& app, int* exit_code);
void register_test_promql(CLI::App& test, int* exit_code);
void register_test_rules(CLI::App& test, int* exit_code);
void register_template_render(CLI::App& tmpl, int* exit_code);
void register_notify_test(CLI::App& notify, int* exit_code);
void register_run(CLI::App& app, int* exit_code);
void register_lint(CLI::App& app, int* exit_code);
void register_query(CLI::App& app, int* exit_code);
void register_notifications(CLI::App& app, int* exit_code);
void register_promql(CLI::App& app, int* exit_code);
void register_completion(CLI::App& app, int* exit_code);
void register_man(CLI::App& app, int* exit_code);
void register_rules_backtest(CLI::App& rules, int* exit_code);

}  // namespace vigil::cli
